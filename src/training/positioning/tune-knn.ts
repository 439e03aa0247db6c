import { encodeNoiseScaled, type FeatureSpec } from '../../models/positioning/features.js';
import type { Fix } from '../../models/positioning/fix.js';
import {
  buildKnnMessages,
  buildKnnPoints,
  channelDistances,
  combineDistances,
  gridSpacing,
  type KnnDatabase,
  type KnnKernel,
  type KnnParams,
  type KnnPoint,
  knnCovariance,
  knnFromDistances,
  type ReferenceSample,
  sortedOrder,
} from '../../models/positioning/knn.js';
import { Rng } from '../../models/positioning/prng.js';

export interface KnnTuning {
  params: KnnParams;
  database: KnnDatabase;
  points: KnnPoint[];
  floorVarM2: number;
  /** Leave-one-point-out fix of every sample with the chosen settings (uncalibrated covariance). */
  oof: Array<Fix | null>;
  /** Mean leave-one-point-out error of the chosen settings on the tuning queries, m. */
  meanError: number;
  /** Candidates tried. */
  tried: number;
}

export interface KnnTuningOptions {
  ks?: number[];
  rssiWeights?: number[];
  kernels?: KnnKernel[];
  databases?: KnnDatabase[];
  /** Per-message database: at most this many messages per point (seeded subsample; default 40). */
  maxMessagesPerPoint?: number;
  /** Queries used to compare settings (seeded subsample; default 3000). The chosen one is run on all. */
  maxTuningQueries?: number;
  seed?: number;
}

interface Db {
  kind: KnnDatabase;
  entries: KnnPoint[];
  /** Reference point of each entry (for leave-one-point-out). */
  group: Uint32Array;
}

/**
 * Tunes the database (per point or per message), k, the kernel and the RSSI-vs-range weight by leave-one-point-out
 * on the walk: each message is located with every entry of its own reference point removed (the held-out place
 * is new, as at test time).
 */
export function tuneKnn(
  spec: FeatureSpec,
  samples: readonly ReferenceSample[],
  options: KnnTuningOptions = {},
): KnnTuning {
  const rng = new Rng(options.seed ?? 1);
  const groupOf = new Map<string, number>();
  for (const s of samples) if (!groupOf.has(s.pointKey)) groupOf.set(s.pointKey, groupOf.size);
  const dbs: Db[] = [];
  for (const kind of options.databases ?? ['points', 'messages']) {
    if (kind === 'points') {
      // buildKnnPoints keeps first-seen order of point keys, the same order as groupOf.
      const entries = buildKnnPoints(spec, samples);
      dbs.push({ kind, entries, group: Uint32Array.from(entries.map((_, i) => i)) });
    } else {
      const cap = options.maxMessagesPerPoint ?? 40;
      const byPoint = new Map<string, ReferenceSample[]>();
      for (const s of samples) {
        let g = byPoint.get(s.pointKey);
        if (!g) {
          g = [];
          byPoint.set(s.pointKey, g);
        }
        g.push(s);
      }
      const chosen: ReferenceSample[] = [];
      for (const g of byPoint.values())
        chosen.push(...(g.length > cap ? rng.shuffle([...g]).slice(0, cap) : g));
      // A per-message database only differs from the per-point one when points were measured repeatedly.
      if (chosen.length <= byPoint.size * 1.5) continue;
      dbs.push({
        kind,
        entries: buildKnnMessages(spec, chosen),
        group: Uint32Array.from(chosen.map((s) => groupOf.get(s.pointKey)!)),
      });
    }
  }
  const spacing = gridSpacing(dbs[0]!.entries);
  const floorVarM2 = (spacing / 2) ** 2;
  const hasRange = spec.useRange.some(Boolean);
  const hasRssi = spec.useRssi.some(Boolean);
  const weights: Array<[number, number]> = [];
  if (hasRange && hasRssi) {
    for (const w of options.rssiWeights ?? [0, 0.05, 0.1, 0.25, 0.5, 1]) weights.push([w, 1]);
    weights.push([1, 0]);
  } else if (hasRange) weights.push([0, 1]);
  else weights.push([1, 0]);
  const kernels = options.kernels ?? ['uniform', 'inverse', 'inverse-square'];
  const groups = groupOf.size;
  const baseKs = options.ks ?? [1, 2, 3, 4, 5, 7, 10, 15, 20];
  const maxQ = options.maxTuningQueries ?? 3000;
  const queryIdx =
    samples.length > maxQ ? rng.shuffle(samples.map((_, i) => i)).slice(0, maxQ) : samples.map((_, i) => i);

  type Combo = { db: Db; w: [number, number]; k: number; kernel: KnnKernel; err: number; n: number };
  const combos: Combo[] = [];
  for (const db of dbs) {
    // Per message, k counts messages: allow larger k (a few points' worth).
    const ks = db.kind === 'messages' ? [...new Set([...baseKs, 30, 40, 60, 80, 120, 160, 240])] : baseKs;
    for (const w of weights)
      for (const kernel of kernels)
        for (const k of ks) if (k < db.entries.length) combos.push({ db, w, k, kernel, err: 0, n: 0 });
  }
  const distancesFor = (db: Db, s: ReferenceSample) => {
    const ch = channelDistances(db.entries, encodeNoiseScaled(spec, s.observations));
    const own = groupOf.get(s.pointKey)!;
    for (let j = 0; j < db.entries.length; j++) {
      if (db.group[j] === own) {
        ch.rssi[j] = Number.POSITIVE_INFINITY;
        ch.range[j] = Number.POSITIVE_INFINITY;
      }
    }
    return ch;
  };
  if (groups >= 2) {
    for (const qi of queryIdx) {
      const s = samples[qi]!;
      for (const db of dbs) {
        const ch = distancesFor(db, s);
        for (const w of weights) {
          const d2 = combineDistances(ch, w[0], w[1]);
          const order = sortedOrder(d2);
          const finite = d2.reduce((n, v) => n + (Number.isFinite(v) ? 1 : 0), 0);
          for (const c of combos) {
            if (c.db !== db || c.w !== w) continue;
            const r = knnFromDistances(db.entries, d2, Math.min(c.k, finite), c.kernel, order);
            c.err += Math.hypot(r.x - s.x, r.y - s.y);
            c.n++;
          }
        }
      }
    }
  }
  const score = (c: Combo) => (c.n > 0 ? c.err / c.n : Number.POSITIVE_INFINITY);
  const best = combos.reduce((a, b) => (score(b) < score(a) - 1e-9 ? b : a), combos[0]!);
  const params: KnnParams = { k: best.k, rssiWeight: best.w[0], rangeWeight: best.w[1], kernel: best.kernel };
  const oof = samples.map((s) => {
    if (groups < 2) return null;
    const d2 = combineDistances(distancesFor(best.db, s), params.rssiWeight, params.rangeWeight);
    const finite = d2.reduce((n, v) => n + (Number.isFinite(v) ? 1 : 0), 0);
    const r = knnFromDistances(best.db.entries, d2, Math.min(params.k, finite), params.kernel);
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
    database: best.db.kind,
    points: best.db.entries,
    floorVarM2,
    oof,
    meanError: score(best),
    tried: combos.length,
  };
}
