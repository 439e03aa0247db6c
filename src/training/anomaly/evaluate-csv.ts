import { fitBaselineForest } from '../../models/anomaly/baseline-forest.js';
import { fitIsolationForest, scoreIsolationForest } from '../../models/anomaly/isolation-forest.js';
import { averagePrecision, rocAuc } from '../../models/anomaly/metrics.js';
import type { LabelledDataset } from './csv-dataset.js';

export interface EvaluationOptions {
  /** @defaultValue 0 */
  seed?: number;
  /** @defaultValue 100 */
  trees?: number;
  /** ψ. @defaultValue 256 */
  samples?: number;
  /** Also fit ml-isolation-forest (slow on large sets: it grows every tree on all rows). @defaultValue true */
  baseline?: boolean;
}

export interface ModelFigures {
  auc: number;
  prAuc: number;
  fitMs: number;
  scoreMs: number;
}

export interface EvaluationResult extends ModelFigures {
  rows: number;
  features: number;
  anomalies: number;
  baseline: ModelFigures | null;
}

/**
 * Unsupervised evaluation as in the ODDS protocol: fit on every row, score every row, the labels used only for the
 * metrics. Times are wall-clock milliseconds of fit and of scoring all rows.
 */
export function evaluateDataset(ds: LabelledDataset, options: EvaluationOptions = {}): EvaluationResult {
  const t0 = performance.now();
  const forest = fitIsolationForest(ds.features, {
    seed: options.seed ?? 0,
    trees: options.trees ?? 100,
    sampleSize: options.samples ?? 256,
  });
  const t1 = performance.now();
  const scores = scoreIsolationForest(forest, ds.features);
  const t2 = performance.now();
  let anomalies = 0;
  for (const l of ds.labels) anomalies += l;
  let baseline: ModelFigures | null = null;
  if (options.baseline ?? true) {
    const b0 = performance.now();
    const model = fitBaselineForest(ds.features, options.trees ?? 100);
    const b1 = performance.now();
    const bScores = model.score(ds.features);
    const b2 = performance.now();
    baseline = {
      auc: rocAuc(bScores, ds.labels),
      prAuc: averagePrecision(bScores, ds.labels),
      fitMs: b1 - b0,
      scoreMs: b2 - b1,
    };
  }
  return {
    rows: ds.features.rows,
    features: ds.features.cols,
    anomalies,
    auc: rocAuc(scores, ds.labels),
    prAuc: averagePrecision(scores, ds.labels),
    fitMs: t1 - t0,
    scoreMs: t2 - t1,
    baseline,
  };
}
