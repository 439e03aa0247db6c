import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/models/positioning/prng.js';
import { summariseErrors } from '../../../src/models/positioning/stats.js';
import {
  bootstrapOverPoints,
  pairedBootstrapOverPoints,
} from '../../../src/training/positioning/point-bootstrap.js';

// Messages at a point share its error: a walk of many points with a spread of per-point errors, each point's
// messages close to that point's error.
function walk(points: number, perPoint: number, seed: string): Array<{ pointKey: string; error: number }> {
  const rng = new Rng(seed);
  const out: Array<{ pointKey: string; error: number }> = [];
  for (let p = 0; p < points; p++) {
    const level = rng.exponential(0.5);
    for (let m = 0; m < perPoint; m++)
      out.push({ pointKey: `p${p}`, error: Math.abs(level + rng.gaussian(0, 0.05)) });
  }
  return out;
}

describe('bootstrapOverPoints', () => {
  it('brackets the walk’s own figures, and is deterministic for a seed', () => {
    const w = walk(30, 40, 'a');
    const s = summariseErrors(w.map((l) => l.error));
    const ci = bootstrapOverPoints(w, { resamples: 400, seed: 1 })!;
    expect(ci.points).toBe(30);
    expect(ci.resamples).toBe(400);
    for (const [k, v] of [
      ['mean', s.meanError],
      ['median', s.medianError],
      ['p90', s.p90Error],
    ] as const) {
      expect(ci[k][0]).toBeLessThan(v);
      expect(ci[k][1]).toBeGreaterThan(v);
    }
    expect(bootstrapOverPoints(w, { resamples: 400, seed: 1 })).toEqual(ci);
    expect(bootstrapOverPoints(w, { resamples: 400, seed: 2 })).not.toEqual(ci);
  });

  it('resamples points, not messages: more messages per point do not narrow the interval', () => {
    // Same 30 per-point levels with 5 or 200 messages each: a message-level bootstrap would shrink ~6×.
    const few = walk(30, 5, 'b');
    const many = walk(30, 200, 'b');
    const width = (c: { mean: [number, number] }) => c.mean[1] - c.mean[0];
    const a = bootstrapOverPoints(few, { resamples: 400 })!;
    const b = bootstrapOverPoints(many, { resamples: 400 })!;
    expect(width(b)).toBeGreaterThan(0.6 * width(a));
    // More points do narrow it (~1/√points).
    const wide = bootstrapOverPoints(walk(300, 5, 'c'), { resamples: 400 })!;
    expect(width(wide)).toBeLessThan(0.6 * width(a));
  });

  it('collapses when every point has the same error; skips NaN; needs two points', () => {
    const flat = ['a', 'b', 'c'].flatMap((k) => [0.5, 0.5].map((error) => ({ pointKey: k, error })));
    const ci = bootstrapOverPoints([...flat, { pointKey: 'd', error: Number.NaN }], { resamples: 50 })!;
    expect(ci.points).toBe(3);
    expect(ci.p90).toEqual([0.5, 0.5]);
    expect(bootstrapOverPoints([{ pointKey: 'a', error: 1 }])).toBeNull();
    expect(() => bootstrapOverPoints(flat, { resamples: 0 })).toThrow(/resamples must be a positive integer/);
  });

  it('paired: both models on the same draw, so a small steady gain is resolved where the two intervals overlap', () => {
    // b = a's point level + 0.1 m: per point the two share their error, as two models at one place do.
    const a = walk(29, 60, 'd');
    const rng = new Rng('noise');
    const pairs = a.map((l) => ({
      pointKey: l.pointKey,
      a: l.error,
      b: l.error + 0.1 + rng.gaussian(0, 0.02),
    }));
    const few = { resamples: 300 };
    const ia = bootstrapOverPoints(
      pairs.map((p) => ({ pointKey: p.pointKey, error: p.a })),
      few,
    )!;
    const ib = bootstrapOverPoints(
      pairs.map((p) => ({ pointKey: p.pointKey, error: p.b })),
      few,
    )!;
    expect(ia.mean[1]).toBeGreaterThan(ib.mean[0]); // unpaired: the intervals overlap
    const d = pairedBootstrapOverPoints(pairs, few)!;
    expect(d.points).toBe(29);
    expect(d.mean[1]).toBeLessThan(0); // paired: a is better, resolved
    expect(d.mean[0]).toBeGreaterThan(-0.12);
    expect(d.p90[1]).toBeLessThan(0);
    // A NaN on either side drops the message from both.
    const gap = pairedBootstrapOverPoints(
      [...pairs, { pointKey: 'extra', a: Number.NaN, b: 9 }, { pointKey: 'extra2', a: 9, b: Number.NaN }],
      few,
    )!;
    expect(gap.points).toBe(29);
    // Identical models: a zero-width interval at 0.
    const same = pairedBootstrapOverPoints(
      a.map((l) => ({ pointKey: l.pointKey, a: l.error, b: l.error })),
      few,
    )!;
    expect(same.p90).toEqual([0, 0]);
  });
});
