import { encodeNoiseScaled, type FeatureSpec } from '../../models/positioning/features.js';
import type { Fix } from '../../models/positioning/fix.js';
import {
  buildKnnPoints,
  channelDistances,
  combineDistances,
  gridSpacing,
  type KnnKernel,
  type KnnParams,
  type KnnPoint,
  knnCovariance,
  knnFromDistances,
  type ReferenceSample,
  sortedOrder,
} from '../../models/positioning/knn.js';

export interface KnnTuning {
  params: KnnParams;
  points: KnnPoint[];
  floorVarM2: number;
  /** Leave-one-point-out fix of every sample with the chosen parameters (uncalibrated covariance). */
  oof: Array<Fix | null>;
  /** Mean leave-one-point-out error of the chosen parameters, m. */
  meanError: number;
  /** Candidates tried. */
  tried: number;
}

export interface KnnTuningOptions {
  ks?: number[];
  rssiWeights?: number[];
  kernels?: KnnKernel[];
}

/**
 * Tunes k, the kernel and the RSSI-vs-range weight by leave-one-point-out on the walk: each message is located
 * with its own reference point removed from the database (the held-out place is new, as at test time).
 */
export function tuneKnn(
  spec: FeatureSpec,
  samples: readonly ReferenceSample[],
  options: KnnTuningOptions = {},
): KnnTuning {
  const points = buildKnnPoints(spec, samples);
  const pointIndex = new Map<string, number>();
  // buildKnnPoints keeps first-seen order of point keys.
  for (const s of samples) if (!pointIndex.has(s.pointKey)) pointIndex.set(s.pointKey, pointIndex.size);
  const spacing = gridSpacing(points);
  const floorVarM2 = (spacing / 2) ** 2;
  const hasRange = spec.useRange.some(Boolean);
  const hasRssi = spec.useRssi.some(Boolean);
  const weights: Array<[number, number]> = [];
  if (hasRange && hasRssi) {
    for (const w of options.rssiWeights ?? [0, 0.05, 0.1, 0.25, 0.5, 1]) weights.push([w, 1]);
    weights.push([1, 0]);
  } else if (hasRange) weights.push([0, 1]);
  else weights.push([1, 0]);
  const ks = (options.ks ?? [1, 2, 3, 4, 5, 7, 10, 15, 20]).filter((k) => k < points.length || k === 1);
  const kernels = options.kernels ?? ['uniform', 'inverse', 'inverse-square'];
  const combos: Array<{ w: [number, number]; k: number; kernel: KnnKernel; err: number; n: number }> = [];
  for (const w of weights)
    for (const kernel of kernels) for (const k of ks) combos.push({ w, k, kernel, err: 0, n: 0 });

  const perQuery = samples.map((s) => {
    const ch = channelDistances(points, encodeNoiseScaled(spec, s.observations));
    const own = pointIndex.get(s.pointKey)!;
    ch.rssi[own] = Number.POSITIVE_INFINITY;
    ch.range[own] = Number.POSITIVE_INFINITY;
    return ch;
  });
  if (points.length >= 2) {
    samples.forEach((s, qi) => {
      const ch = perQuery[qi]!;
      for (const w of weights) {
        const d2 = combineDistances(ch, w[0], w[1]);
        const order = sortedOrder(d2);
        for (const c of combos) {
          if (c.w !== w) continue;
          const r = knnFromDistances(points, d2, Math.min(c.k, points.length - 1), c.kernel, order);
          c.err += Math.hypot(r.x - s.x, r.y - s.y);
          c.n++;
        }
      }
    });
  }
  const best = combos.reduce(
    (a, b) => (b.n > 0 && b.err / b.n < a.err / Math.max(a.n, 1) ? b : a),
    combos[0]!,
  );
  const params: KnnParams = { k: best.k, rssiWeight: best.w[0], rangeWeight: best.w[1], kernel: best.kernel };
  const oof = samples.map((s, qi) => {
    if (points.length < 2) return null;
    const d2 = combineDistances(perQuery[qi]!, params.rssiWeight, params.rangeWeight);
    const r = knnFromDistances(points, d2, Math.min(params.k, points.length - 1), params.kernel);
    const fix: Fix = {
      x: r.x,
      y: r.y,
      cov: knnCovariance(r.scatter, floorVarM2),
      model: 'knn',
      anchors: s.observations.length,
    };
    return fix;
  });
  return {
    params,
    points,
    floorVarM2,
    oof,
    meanError: best.n > 0 ? best.err / best.n : Number.NaN,
    tried: combos.length,
  };
}
