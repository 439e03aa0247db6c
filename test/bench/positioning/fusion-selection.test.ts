import { describe, expect, it } from 'vitest';
import {
  halfWalkStudy,
  lowestMean,
  restricted,
  withinStandardErrors,
} from '../../../bench/positioning/fusion-selection.js';
import { Rng } from '../../../src/models/positioning/prng.js';
import type { FusionCandidate } from '../../../src/training/positioning/train.js';

function candidate(
  errors: readonly number[],
  shape: Partial<Omit<FusionCandidate, 'errors'>> = {},
): FusionCandidate {
  return {
    members: ['multilateration'],
    weights: [1],
    epsilon: 0,
    mode: 'product',
    priorStrength: 1,
    ...shape,
    errors: Float64Array.from(errors),
  };
}

// 20 reference points with 3 samples each.
const pointOf = Array.from({ length: 60 }, (_, i) => Math.floor(i / 3));
const all = pointOf.map((_, i) => i);

describe('fusion selection rules', () => {
  it('lowestMean takes the lowest mean, the first of two within 1e-4 m', () => {
    const c = [candidate(all.map(() => 1)), candidate(all.map(() => 0.99995)), candidate(all.map(() => 1.2))];
    expect(lowestMean(c, all, pointOf)).toBe(0);
    c.push(candidate(all.map(() => 0.9)));
    expect(lowestMean(c, all, pointOf)).toBe(3);
  });

  it('restricted chooses among the candidates it keeps, returning the index in the full list', () => {
    const c = [
      candidate(all.map(() => 1)),
      candidate(
        all.map(() => 0.5),
        { mode: 'joint', priorStrength: 2 },
      ),
      candidate(
        all.map(() => 0.8),
        { mode: 'joint', priorStrength: 1 },
      ),
    ];
    expect(restricted((x) => x.priorStrength === 1)(c, all, pointOf)).toBe(2);
  });

  it('withinStandardErrors keeps the simpler fusion when the better one wins by less than its standard error', () => {
    const rng = new Rng(3);
    const noisy = all.map((i) => 1 + (pointOf[i]! % 2 === 0 ? 0.3 : -0.3) + 0.01 * rng.next());
    const simple = candidate(noisy);
    // Better by 0.02 m on average, but per point ±0.3 m: the difference is well inside one standard error.
    const complex = candidate(
      all.map((i) => noisy[i]! - 0.02 + (pointOf[i]! % 4 < 2 ? 0.3 : -0.3)),
      { members: ['multilateration', 'fingerprint', 'knn'], weights: [1, 2, 0.5], mode: 'joint' },
    );
    expect(lowestMean([simple, complex], all, pointOf)).toBe(1);
    expect(withinStandardErrors(1)([simple, complex], all, pointOf)).toBe(0);
    expect(withinStandardErrors(0)([simple, complex], all, pointOf)).toBe(1);
    // Better by 0.5 m everywhere: no rule keeps the simple one.
    const clearlyBetter = candidate(
      noisy.map((e) => e - 0.5),
      { members: ['multilateration', 'knn'], weights: [1, 2] },
    );
    expect(withinStandardErrors(1)([simple, clearlyBetter], all, pointOf)).toBe(1);
  });

  it('halfWalkStudy scores the choice on the other half: no optimism among equally good candidates', () => {
    // 40 candidates, all with a true mean error of 1 m, their noise per point independent: the lowest in-sample
    // mean is below 1 (selection optimism); scored on the half it did not choose on, it is 1 again.
    const rng = new Rng(11);
    const cands = Array.from({ length: 40 }, () => {
      const perPoint = Array.from({ length: 20 }, () => 1 + 0.4 * (rng.next() - 0.5) * 2);
      return candidate(all.map((i) => perPoint[pointOf[i]!]!));
    });
    const inSample = Math.min(...cands.map((c) => c.errors.reduce((a, b) => a + b, 0) / c.errors.length));
    expect(inSample).toBeLessThan(0.93);
    const keys = pointOf.map((p) => `p${p}`);
    const r = halfWalkStudy(cands, keys, { lowest: lowestMean }, { splits: 30, seed: 1 });
    expect(r.lowest!.mean).toBeGreaterThan(0.96);
    expect(r.lowest!.mean).toBeLessThan(1.04);
    // One candidate better on every point: chosen on every half, and its figures are the study's.
    const best = candidate(all.map((i) => 0.5 + 0.01 * pointOf[i]!));
    const s = halfWalkStudy([...cands, best], keys, { lowest: lowestMean }, { splits: 5, seed: 2 });
    expect(s.lowest!.mean).toBeCloseTo(0.5 + 0.01 * 9.5, 6);
  });
});
