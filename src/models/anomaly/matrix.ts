/** A dense row-major matrix of float64 values: row i, column j is `data[i * cols + j]`. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

export function matrixFromRows(rows: ReadonlyArray<ArrayLike<number>>, cols?: number): Matrix {
  const width = cols ?? rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new Error(`row ${i} has ${row.length} values, expected ${width}`);
    }
    for (let j = 0; j < width; j++) data[i * width + j] = row[j]!;
  });
  return { data, rows: rows.length, cols: width };
}

export function matrixRow(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Throws on the first NaN or infinite cell, naming it: a forest cannot split on them. */
export function assertFinite(m: Matrix, what = 'matrix'): void {
  const { data, cols } = m;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k]!)) {
      throw new Error(
        `${what}: row ${Math.floor(k / cols)}, column ${k % cols} is ${data[k]} (must be finite)`,
      );
    }
  }
}

/** The given columns of every row, in that order. */
export function selectColumns(m: Matrix, columns: readonly number[]): Matrix {
  const k = columns.length;
  const data = new Float64Array(m.rows * k);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < k; j++) data[i * k + j] = m.data[i * m.cols + columns[j]!]!;
  }
  return { data, rows: m.rows, cols: k };
}
