import { IsolationForest as MlIsolationForest } from 'ml-isolation-forest';
import type { Matrix } from './matrix.js';

/*
 * The design card's library, kept as the benchmark baseline: ml-isolation-forest 0.1.0 grows every tree on the
 * whole data set (no ψ subsampling, depth ⌈log2 n⌉), draws from Math.random (no seed) and cannot be saved.
 */

export interface BaselineForest {
  score(x: Matrix): Float64Array;
}

export function matrixToRows(x: Matrix): number[][] {
  const rows: number[][] = new Array(x.rows);
  for (let i = 0; i < x.rows; i++) rows[i] = Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));
  return rows;
}

export function fitBaselineForest(x: Matrix, trees = 100): BaselineForest {
  const model = new MlIsolationForest({ nEstimators: trees });
  model.train(matrixToRows(x));
  return { score: (m: Matrix) => Float64Array.from(model.predict(matrixToRows(m))) };
}
