import type { CalibrationSample } from '../src/training/positioning/samples.js';

// The real data sets' reference baseline, re-run here so the model can be compared with it point by point (a paired
// comparison) rather than only with its published figures. The data sets' README describes it as a weighted kNN,
// k = 5, on RSS and RTT range; this recipe reproduces its published feng-apartment figures exactly (0.68 / 0.48 /
// 1.07) and feng-building's to 0.01 m: features RSS/10 (dB) and range (m) per anchor, an anchor not heard filled
// with the walk's weakest RSS − 10 dB and 1.5 × its longest range, Euclidean distance, weights 1/distance.

export interface ReferenceKnnOptions {
  k?: number;
  /** Multiplier on RSS (dB) beside ranges in metres. */
  rssScale?: number;
}

/** Position of every query sample by the reference kNN over the training samples (brute force). */
export function referenceKnn(
  train: readonly CalibrationSample[],
  queries: readonly CalibrationSample[],
  options: ReferenceKnnOptions = {},
): Array<{ x: number; y: number }> {
  const k = options.k ?? 5;
  const rssScale = options.rssScale ?? 0.1;
  const anchors = [...new Set(train.flatMap((s) => s.observations.map((o) => o.anchorId)))].sort();
  const index = new Map(anchors.map((a, i) => [a, i]));
  let minRssi = Number.POSITIVE_INFINITY;
  let maxRange = 0;
  for (const s of train)
    for (const o of s.observations) {
      if (o.rssi !== undefined) minRssi = Math.min(minRssi, o.rssi);
      if (o.range !== undefined) maxRange = Math.max(maxRange, o.range);
    }
  const rssFill = (Number.isFinite(minRssi) ? minRssi - 10 : -110) * rssScale;
  const rangeFill = 1.5 * maxRange;
  const dims = 2 * anchors.length;
  const encode = (s: CalibrationSample): Float64Array => {
    const v = new Float64Array(dims);
    for (let i = 0; i < anchors.length; i++) {
      v[2 * i] = rssFill;
      v[2 * i + 1] = rangeFill;
    }
    for (const o of s.observations) {
      const i = index.get(o.anchorId);
      if (i === undefined) continue;
      if (o.rssi !== undefined) v[2 * i] = o.rssi * rssScale;
      if (o.range !== undefined) v[2 * i + 1] = o.range;
    }
    return v;
  };
  const X = train.map(encode);
  const best = new Float64Array(k);
  const who = new Int32Array(k);
  return queries.map((q) => {
    const v = encode(q);
    best.fill(Number.POSITIVE_INFINITY);
    who.fill(-1);
    for (let j = 0; j < X.length; j++) {
      const row = X[j]!;
      let d2 = 0;
      for (let c = 0; c < dims; c++) {
        const diff = row[c]! - v[c]!;
        d2 += diff * diff;
      }
      if (d2 >= best[k - 1]!) continue;
      // Insertion into the sorted k best (first found wins ties, as a stable sort would).
      let p = k - 1;
      while (p > 0 && best[p - 1]! > d2) {
        best[p] = best[p - 1]!;
        who[p] = who[p - 1]!;
        p--;
      }
      best[p] = d2;
      who[p] = j;
    }
    let sw = 0;
    let x = 0;
    let y = 0;
    for (let i = 0; i < k; i++) {
      if (who[i]! < 0) continue;
      const w = 1 / (Math.sqrt(best[i]!) + 1e-9);
      sw += w;
      x += w * train[who[i]!]!.x;
      y += w * train[who[i]!]!.y;
    }
    return { x: x / sw, y: y / sw };
  });
}
