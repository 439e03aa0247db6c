import { describe, expect, it } from 'vitest';
import { deserialiseForest, serialiseForest } from '../../../src/models/anomaly/forest-codec.js';
import {
  averagePathLength,
  explainRow,
  fitIsolationForest,
  forestBytes,
  outOfBagScores,
  scoreIsolationForest,
} from '../../../src/models/anomaly/isolation-forest.js';
import { type Matrix, matrixFromRows } from '../../../src/models/anomaly/matrix.js';
import { rocAuc } from '../../../src/models/anomaly/metrics.js';
import { createRandom, gaussian } from '../../../src/models/anomaly/random.js';

/** n normal rows in d dims, the last `outliers` rows shifted far out in `feature` only. */
function planted(
  n: number,
  d: number,
  outliers: number,
  feature: number,
  seed = 1,
): { x: Matrix; labels: number[] } {
  const r = createRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: d }, () => gaussian(r));
    const out = i >= n - outliers;
    if (out) row[feature] = 6 + 2 * r.next();
    rows.push(row);
    labels.push(out ? 1 : 0);
  }
  return { x: matrixFromRows(rows), labels };
}

describe('isolation forest', () => {
  const { x, labels } = planted(2000, 6, 40, 3);

  it('is deterministic for a seed and differs across seeds', () => {
    const a = scoreIsolationForest(fitIsolationForest(x, { seed: 7 }), x);
    const b = scoreIsolationForest(fitIsolationForest(x, { seed: 7 }), x);
    const c = scoreIsolationForest(fitIsolationForest(x, { seed: 8 }), x);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('grows each tree on ψ distinct rows drawn without replacement, to depth ⌈log2 ψ⌉', () => {
    const samples = new Int32Array(100 * 256);
    const f = fitIsolationForest(x, { seed: 1, recordSamples: samples });
    expect(f.sampleSize).toBe(256);
    expect(f.maxDepth).toBe(8);
    for (let t = 0; t < f.trees; t++) {
      expect(f.size[f.treeOffset[t]!]).toBe(256);
      const idx = samples.subarray(t * 256, (t + 1) * 256);
      expect(new Set(idx).size).toBe(256);
      for (const i of idx) expect(i).toBeLessThan(x.rows);
    }
    // Trees see different subsamples, and all rows get drawn somewhere.
    expect(Array.from(samples.subarray(0, 256))).not.toEqual(Array.from(samples.subarray(256, 512)));
    expect(new Set(samples).size).toBeGreaterThan(1900);
    // ψ is capped at the row count.
    expect(fitIsolationForest(matrixFromRows([[1], [2], [3], [4], [5]]), { seed: 0 }).sampleSize).toBe(5);
  });

  it('keeps trees compact: 20 bytes a node, at most 2ψ−1 nodes a tree', () => {
    const f = fitIsolationForest(x, { seed: 2 });
    expect(f.treeOffset[f.trees]).toBeLessThanOrEqual(100 * 511);
    expect(forestBytes(f)).toBeLessThan(100 * 511 * 20 + 2 * 100 * 6 * 8 + 404 + 1);
  });

  it('scores planted outliers far above normal rows (AUC > 0.9), scores in (0, 1]', () => {
    const s = scoreIsolationForest(fitIsolationForest(x, { seed: 3 }), x);
    for (const v of s) expect(v > 0 && v <= 1).toBe(true);
    expect(rocAuc(s, labels)).toBeGreaterThan(0.9);
  });

  it('uses the standard normalisation c(ψ)', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(256)).toBeCloseTo(2 * (Math.log(255) + 0.5772156649) - (2 * 255) / 256, 9);
  });

  it('round-trips through a plain JSON object with identical scores', () => {
    const f = fitIsolationForest(x, { seed: 4 });
    const back = deserialiseForest(JSON.parse(JSON.stringify(serialiseForest(f))));
    expect(Array.from(scoreIsolationForest(back, x))).toEqual(Array.from(scoreIsolationForest(f, x)));
    expect(Array.from(scoreIsolationForest(back, x, { rangeCheck: true }))).toEqual(
      Array.from(scoreIsolationForest(f, x, { rangeCheck: true })),
    );
  });

  it('refuses a corrupt serialised forest', () => {
    const s = serialiseForest(fitIsolationForest(x, { seed: 4 }));
    expect(() => deserialiseForest({ ...s, feature: s.threshold })).toThrow(/serialised forest/);
    expect(() => deserialiseForest({ ...s, format: 'other' })).toThrow(/unsupported format/);
  });

  it('explains an outlier by the feature it was planted in', () => {
    const f = fitIsolationForest(x, { seed: 5 });
    for (let i = x.rows - 5; i < x.rows; i++) {
      const e = explainRow(f, x.data.subarray(i * 6, (i + 1) * 6));
      const top = e.share.indexOf(Math.max(...e.share));
      expect(top).toBe(3);
      expect(e.share[3]).toBeGreaterThan(0.4);
    }
    const normal = explainRow(f, x.data.subarray(0, 6));
    expect(Math.max(...normal.share)).toBeLessThan(0.5);
  });

  it('out-of-bag scores of the training rows rank like in-bag ones', () => {
    const samples = new Int32Array(100 * 256);
    const f = fitIsolationForest(x, { seed: 6, recordSamples: samples });
    expect(rocAuc(outOfBagScores(f, x, samples), labels)).toBeGreaterThan(0.9);
  });

  it('with the out-of-box correction, sees a deviation in a feature that was constant in training', () => {
    const r = createRandom(9);
    const train = matrixFromRows(Array.from({ length: 1000 }, () => [gaussian(r), gaussian(r), 0]));
    const f = fitIsolationForest(train, { seed: 1 });
    const probe = matrixFromRows([
      [0, 0, 0],
      [0, 0, 5],
    ]);
    const plain = scoreIsolationForest(f, probe);
    expect(plain[1]).toBeCloseTo(plain[0]!, 12);
    const checked = scoreIsolationForest(f, probe, { rangeCheck: true });
    expect(checked[0]).toBeCloseTo(plain[0]!, 12);
    expect(checked[1]! - checked[0]!).toBeGreaterThan(0.15);
    const e = explainRow(f, [0, 0, 5], { rangeCheck: true });
    expect(e.share[2]).toBeGreaterThan(0.5);
  });

  it('rejects bad input clearly', () => {
    expect(() => fitIsolationForest(matrixFromRows([[1, Number.NaN]]))).toThrow(/row 0, column 1 is NaN/);
    expect(() => fitIsolationForest(x, { trees: 0 })).toThrow(/trees/);
    const f = fitIsolationForest(x, { seed: 0 });
    expect(() => scoreIsolationForest(f, matrixFromRows([[1, 2]]))).toThrow(/6 features/);
  });
});
