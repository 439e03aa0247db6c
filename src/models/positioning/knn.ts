import { encodeNoiseScaled, type FeatureSpec, hearsAny } from './features.js';
import type { Fix } from './fix.js';
import type { Cov2 } from './linalg2.js';
import type { Observation } from './observation.js';

// Weighted k-nearest-neighbour fingerprinting: a new measurement is compared, in noise-σ units with RSSI and
// range channels weighted by CV-tuned factors, with the walk's database — either one entry per reference point
// (its repeated measurements averaged) or one per message (keeps the spread of each point's measurements: a
// nonparametric likelihood). Which database, k, kernel and weights: chosen by cross-validation.

export type KnnKernel = 'uniform' | 'inverse' | 'inverse-square';

export interface KnnParams {
  k: number;
  /** Multiplies the squared RSSI distance (already in σ units). */
  rssiWeight: number;
  /** Multiplies the squared range distance (already in σ units). */
  rangeWeight: number;
  kernel: KnnKernel;
}

export interface KnnPoint {
  x: number;
  y: number;
  floor?: number;
  /** Mean noise-scaled features of the point. */
  rssi: number[];
  range: number[];
}

export type KnnDatabase = 'points' | 'messages';

export interface KnnModel {
  spec: FeatureSpec;
  /** How the entries were built (per reference point or per message). */
  database?: KnnDatabase;
  points: KnnPoint[];
  params: KnnParams;
  /** Calibration factor on the covariance (from cross-validation). */
  covScale: number;
  /** Added to the neighbour scatter, m² per axis: the resolution of the reference grid. */
  floorVarM2: number;
}

export interface ReferenceSample {
  x: number;
  y: number;
  floor?: number;
  pointKey: string;
  observations: readonly Observation[];
}

/** Averages the noise-scaled features of each reference point. */
export function buildKnnPoints(spec: FeatureSpec, samples: readonly ReferenceSample[]): KnnPoint[] {
  const acc = new Map<string, { p: KnnPoint; n: number }>();
  for (const s of samples) {
    const f = encodeNoiseScaled(spec, s.observations);
    let a = acc.get(s.pointKey);
    if (!a) {
      a = {
        p: {
          x: s.x,
          y: s.y,
          ...(s.floor === undefined ? {} : { floor: s.floor }),
          rssi: new Array<number>(spec.anchors.length).fill(0),
          range: new Array<number>(spec.anchors.length).fill(0),
        },
        n: 0,
      };
      acc.set(s.pointKey, a);
    }
    for (let i = 0; i < spec.anchors.length; i++) {
      a.p.rssi[i]! += f.rssi[i]!;
      a.p.range[i]! += f.range[i]!;
    }
    a.n++;
  }
  return [...acc.values()].map(({ p, n }) => ({
    ...p,
    rssi: p.rssi.map((v) => v / n),
    range: p.range.map((v) => v / n),
  }));
}

/** One entry per message (features rounded to 1/1000 σ to keep the model file small). */
export function buildKnnMessages(spec: FeatureSpec, samples: readonly ReferenceSample[]): KnnPoint[] {
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return samples.map((s) => {
    const f = encodeNoiseScaled(spec, s.observations);
    return {
      x: s.x,
      y: s.y,
      ...(s.floor === undefined ? {} : { floor: s.floor }),
      rssi: Array.from(f.rssi, r3),
      range: Array.from(f.range, r3),
    };
  });
}

/** Median distance from each reference point to its nearest neighbour, m (the grid resolution). */
export function gridSpacing(entries: readonly KnnPoint[]): number {
  const unique = new Map<string, KnnPoint>();
  for (const p of entries) unique.set(`${p.x},${p.y}`, p);
  const points = [...unique.values()];
  if (points.length < 2) return 1;
  const d = points.map((p) => {
    let best = Number.POSITIVE_INFINITY;
    for (const q of points) {
      if (q === p) continue;
      const e = Math.hypot(p.x - q.x, p.y - q.y);
      if (e > 0 && e < best) best = e;
    }
    return best;
  });
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)]!;
}

/** Squared feature distances of a query to every point, per channel. */
export function channelDistances(
  points: readonly KnnPoint[],
  q: { rssi: Float64Array; range: Float64Array },
): { rssi: Float64Array; range: Float64Array } {
  const dr = new Float64Array(points.length);
  const dg = new Float64Array(points.length);
  const a = q.rssi.length;
  for (let j = 0; j < points.length; j++) {
    const p = points[j]!;
    let sr = 0;
    let sg = 0;
    for (let i = 0; i < a; i++) {
      const e = q.rssi[i]! - p.rssi[i]!;
      sr += e * e;
      const f = q.range[i]! - p.range[i]!;
      sg += f * f;
    }
    dr[j] = sr;
    dg[j] = sg;
  }
  return { rssi: dr, range: dg };
}

function kernelWeight(kernel: KnnKernel, d: number): number {
  switch (kernel) {
    case 'uniform':
      return 1;
    case 'inverse':
      return 1 / (d + 1e-3);
    case 'inverse-square':
      return 1 / (d * d + 1e-6);
  }
}

/** Weighted mean and weighted scatter of the k nearest points, given squared distances. */
export function knnFromDistances(
  points: readonly KnnPoint[],
  d2: Float64Array,
  k: number,
  kernel: KnnKernel,
  order?: Uint32Array,
): { x: number; y: number; scatter: Cov2; weights: Array<[number, number]> } {
  const idx = order ?? sortedOrder(d2);
  const kk = Math.min(k, idx.length);
  const w = new Float64Array(kk);
  const m = knnMoments(points, d2, kk, kernel, idx, w);
  const ws: Array<[number, number]> = [];
  for (let r = 0; r < kk; r++) ws.push([idx[r]!, w[r]!]);
  return { x: m.x, y: m.y, scatter: m.scatter, weights: ws };
}

/**
 * The weighted mean and scatter of `knnFromDistances` for the first kk points of `idx`, their weights written into
 * `w` (no per-neighbour pairs: the live path's version).
 */
function knnMoments(
  points: readonly KnnPoint[],
  d2: Float64Array,
  kk: number,
  kernel: KnnKernel,
  idx: Uint32Array,
  w: Float64Array,
): { x: number; y: number; scatter: Cov2 } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let r = 0; r < kk; r++) {
    const j = idx[r]!;
    const wr = kernelWeight(kernel, Math.sqrt(d2[j]!));
    w[r] = wr;
    sw += wr;
    sx += wr * points[j]!.x;
    sy += wr * points[j]!.y;
  }
  const x = sx / sw;
  const y = sy / sw;
  let cxx = 0;
  let cxy = 0;
  let cyy = 0;
  for (let r = 0; r < kk; r++) {
    const j = idx[r]!;
    const wr = w[r]!;
    const dx = points[j]!.x - x;
    const dy = points[j]!.y - y;
    cxx += wr * dx * dx;
    cxy += wr * dx * dy;
    cyy += wr * dy * dy;
  }
  return { x, y, scatter: [cxx / sw, cxy / sw, cyy / sw] };
}

// The live path's scratch (predictKnn is not re-entrant): distances to every point and the neighbours' weights.
let D2_SCRATCH = new Float64Array(0);
let W_SCRATCH = new Float64Array(0);

/**
 * The k smallest distances' indices in ascending order, ties by index: the first k of `sortedOrder` (a stable
 * sort) in O(n·k) without sorting all n.
 */
export function smallestK(d2: Float64Array, k: number): Uint32Array {
  const kk = Math.min(k, d2.length);
  const out = new Uint32Array(kk);
  let n = 0;
  for (let j = 0; j < d2.length; j++) {
    const v = d2[j]!;
    if (n === kk) {
      if (!(v < d2[out[kk - 1]!]!)) continue;
      n--;
    }
    // Insert after every kept entry with a distance ≤ v (those have smaller indices: stable).
    let pos = n;
    while (pos > 0 && d2[out[pos - 1]!]! > v) {
      out[pos] = out[pos - 1]!;
      pos--;
    }
    out[pos] = j;
    n++;
  }
  return out;
}

export function sortedOrder(d2: Float64Array): Uint32Array {
  const idx = new Uint32Array(d2.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => d2[a]! - d2[b]!);
}

/**
 * `combineDistances(channelDistances(points, q), rssiWeight, rangeWeight)` in one pass (same sums, same order, so
 * the same values) without the per-channel arrays.
 */
export function weightedDistances(
  points: readonly KnnPoint[],
  q: { rssi: Float64Array; range: Float64Array },
  rssiWeight: number,
  rangeWeight: number,
  into?: Float64Array,
): Float64Array {
  const out = into !== undefined && into.length === points.length ? into : new Float64Array(points.length);
  const a = q.rssi.length;
  for (let j = 0; j < points.length; j++) {
    const p = points[j]!;
    let sr = 0;
    let sg = 0;
    for (let i = 0; i < a; i++) {
      const e = q.rssi[i]! - p.rssi[i]!;
      sr += e * e;
      const f = q.range[i]! - p.range[i]!;
      sg += f * f;
    }
    out[j] = rssiWeight * sr + rangeWeight * sg;
  }
  return out;
}

export function combineDistances(
  ch: { rssi: Float64Array; range: Float64Array },
  rssiWeight: number,
  rangeWeight: number,
): Float64Array {
  const out = new Float64Array(ch.rssi.length);
  for (let j = 0; j < out.length; j++) out[j] = rssiWeight * ch.rssi[j]! + rangeWeight * ch.range[j]!;
  return out;
}

/** Covariance of a kNN fix before calibration: neighbour scatter plus the grid's resolution. */
export function knnCovariance(scatter: Cov2, floorVarM2: number): Cov2 {
  return [scatter[0] + floorVarM2, scatter[1], scatter[2] + floorVarM2];
}

export interface KnnPrediction {
  fix: Fix;
  /** Floor vote of the neighbours (floor → weight share), when the walk had floors. */
  floors?: Map<number, number>;
}

export function predictKnn(model: KnnModel, observations: readonly Observation[]): KnnPrediction | null {
  if (model.points.length === 0 || !hearsAny(model.spec, observations)) return null;
  const q = encodeNoiseScaled(model.spec, observations);
  if (D2_SCRATCH.length !== model.points.length) D2_SCRATCH = new Float64Array(model.points.length);
  const d2 = weightedDistances(
    model.points,
    q,
    model.params.rssiWeight,
    model.params.rangeWeight,
    D2_SCRATCH,
  );
  // knnFromDistances(…, smallestK(d2, k)) without its per-neighbour pairs (same sums in the same order).
  const idx = smallestK(d2, model.params.k);
  const kk = Math.min(model.params.k, idx.length);
  if (W_SCRATCH.length < kk) W_SCRATCH = new Float64Array(kk);
  const w = W_SCRATCH;
  const r = knnMoments(model.points, d2, kk, model.params.kernel, idx, w);
  const c = knnCovariance(r.scatter, model.floorVarM2);
  const fix: Fix = {
    x: r.x,
    y: r.y,
    cov: [c[0] * model.covScale, c[1] * model.covScale, c[2] * model.covScale],
    model: 'knn',
    anchors: q.heard,
  };
  let floors: Map<number, number> | undefined;
  let sw = 0;
  for (let i = 0; i < kk; i++) {
    const f = model.points[idx[i]!]!.floor;
    if (f === undefined) continue;
    floors ??= new Map();
    floors.set(f, (floors.get(f) ?? 0) + w[i]!);
    sw += w[i]!;
  }
  if (floors) for (const [f, w] of floors) floors.set(f, w / sw);
  return floors ? { fix, floors } : { fix };
}
