import { describe, expect, it } from 'vitest';
import { averagePrecision, rocAuc } from '../../../src/models/anomaly/metrics.js';

describe('detection metrics', () => {
  it('ROC AUC counts ties as one half', () => {
    expect(rocAuc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    // pairs (pos, neg): (0.8,0.3) win, (0.8,0.8) tie, (0.4,0.3) win, (0.4,0.8) loss → 2.5 / 4
    expect(rocAuc([0.8, 0.4, 0.3, 0.8], [1, 1, 0, 0])).toBe(0.625);
  });

  it('average precision matches the step-wise definition', () => {
    // ranking: 1(pos) 0.8(neg) 0.6(pos) 0.2(neg) → AP = 0.5·1 + 0.5·(2/3)
    expect(averagePrecision([1, 0.8, 0.6, 0.2], [1, 0, 1, 0])).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(averagePrecision([0.9, 0.1], [1, 0])).toBe(1);
  });

  it('refuses labels that are not 0/1 or a single class', () => {
    expect(() => rocAuc([1, 2], [1, 2])).toThrow(/0 or 1/);
    expect(() => rocAuc([1, 2], [1, 1])).toThrow(/both classes/);
    expect(() => averagePrecision([1], [1, 0])).toThrow(/labels/);
  });
});
