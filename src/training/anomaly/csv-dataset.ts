import { readFile } from 'node:fs/promises';
import type { Matrix } from '../../models/anomaly/matrix.js';

/** A numeric table with a 0/1 label column, e.g. an ODDS benchmark set converted to CSV. */
export interface LabelledDataset {
  features: Matrix;
  featureNames: string[];
  labels: Uint8Array;
  labelColumn: string;
}

/** A CSV that cannot be used as it is; the message names the file, line and column. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export interface CsvOptions {
  /** The label column's name. @defaultValue the last column */
  labelColumn?: string;
  /** How the source is named in error messages. @defaultValue 'CSV' */
  source?: string;
}

function splitLine(line: string): string[] {
  // Numeric tables need no quoting beyond optional quotes around header names.
  return line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

export function parseLabelledCsv(text: string, options: CsvOptions = {}): LabelledDataset {
  const source = options.source ?? 'CSV';
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new DatasetError(`${source}: the file is empty (expected a header line)`);
  const header = splitLine(lines[0]!);
  if (header.length < 2) {
    throw new DatasetError(
      `${source}: the header has ${header.length} column; need features and a label column`,
    );
  }
  const labelName = options.labelColumn ?? header[header.length - 1]!;
  const labelIndex = header.indexOf(labelName);
  if (labelIndex < 0) {
    throw new DatasetError(
      `${source}: no label column "${labelName}" (columns: ${header.slice(0, 12).join(', ')}${header.length > 12 ? ', …' : ''})`,
    );
  }
  const rows = lines.length - 1;
  if (rows === 0) throw new DatasetError(`${source}: no data rows after the header`);
  const cols = header.length - 1;
  const data = new Float64Array(rows * cols);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const lineNo = r + 2;
    const cells = splitLine(lines[r + 1]!);
    if (cells.length !== header.length) {
      throw new DatasetError(
        `${source} line ${lineNo}: ${cells.length} cells, the header has ${header.length}`,
      );
    }
    let j = 0;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c]!;
      const v = cell === '' ? Number.NaN : Number(cell);
      if (c === labelIndex) {
        if (v !== 0 && v !== 1) {
          throw new DatasetError(
            `${source} line ${lineNo}: label column "${labelName}" must be 0 or 1, got ${JSON.stringify(cell)}`,
          );
        }
        labels[r] = v;
        continue;
      }
      if (!Number.isFinite(v)) {
        throw new DatasetError(
          `${source} line ${lineNo}, column "${header[c]}": ${JSON.stringify(cell)} is not a number`,
        );
      }
      data[r * cols + j] = v;
      j++;
    }
  }
  return {
    features: { data, rows, cols },
    featureNames: header.filter((_, i) => i !== labelIndex),
    labels,
    labelColumn: labelName,
  };
}

export async function readLabelledCsv(
  path: string,
  options: Omit<CsvOptions, 'source'> = {},
): Promise<LabelledDataset> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError(`${path}: no such file`);
    if (code === 'EISDIR') throw new DatasetError(`${path}: is a directory, not a CSV file`);
    throw new DatasetError(`${path}: cannot read (${(error as Error).message})`);
  }
  return parseLabelledCsv(text, { ...options, source: path });
}
