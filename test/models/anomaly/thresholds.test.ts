import { describe, expect, it } from 'vitest';
import {
  fitIsolationForest,
  outOfBagScores,
  scoreIsolationForest,
} from '../../../src/models/anomaly/isolation-forest.js';
import { matrixFromRows } from '../../../src/models/anomaly/matrix.js';
import { createRandom, gaussian } from '../../../src/models/anomaly/random.js';
import {
  applyFeedback,
  confidenceFor,
  exceedanceProbability,
  falseAlertRate,
  fitThresholds,
  runsExtremalIndex,
  severityFor,
  thresholdFor,
  withBudget,
} from '../../../src/models/anomaly/thresholds.js';

function normalRows(n: number, seed: number) {
  const r = createRandom(seed);
  return matrixFromRows(Array.from({ length: n }, () => Array.from({ length: 4 }, () => gaussian(r))));
}

describe('thresholds from an alert budget', () => {
  const baseline = normalRows(6000, 1);
  const samples = new Int32Array(100 * 256);
  const forest = fitIsolationForest(baseline, { seed: 1, recordSamples: samples });
  const baselineScores = outOfBagScores(forest, baseline, samples);
  const heldOut = scoreIsolationForest(forest, normalRows(60_000, 2));
  const rateAbove = (t: number) => heldOut.filter((s) => s > t).length / heldOut.length;

  it('matches the intended false-alert rate on held-out normal data (empirical part and fitted tail)', () => {
    // 10 000 scores a week: a budget of 100 a week is a 1 % exceedance rate, of 10 a week 0.1 % (past the
    // 0.5 % of baseline scores the tail is fitted on, so the generalised Pareto tail sets it).
    for (const [budget, lo, hi] of [
      [100, 0.7, 1.4],
      [10, 0.5, 2],
    ] as const) {
      const state = fitThresholds([baselineScores], {
        falseAlertsPerWeek: budget,
        scoresPerWeek: 10_000,
        runLength: 1,
      });
      const intended = budget / (state.extremalIndex * state.scoresPerWeek);
      const observed = rateAbove(thresholdFor(state));
      expect(observed / intended).toBeGreaterThan(lo);
      expect(observed / intended).toBeLessThan(hi);
      // The model's own estimate at its threshold is the budget.
      expect(falseAlertRate(state, thresholdFor(state))).toBeCloseTo(budget, 0);
    }
  });

  it('a bigger budget gives a lower threshold', () => {
    const state = fitThresholds([baselineScores], { falseAlertsPerWeek: 1, scoresPerWeek: 10_000 });
    expect(thresholdFor(withBudget(state, { falseAlertsPerWeek: 50 }))).toBeLessThan(thresholdFor(state));
    expect(thresholdFor(withBudget(state, { scoresPerWeek: 100_000 }))).toBeGreaterThan(thresholdFor(state));
  });

  it('severity rises and confidence passes 0.5 at the threshold', () => {
    const state = fitThresholds([baselineScores], { falseAlertsPerWeek: 50, scoresPerWeek: 10_000 });
    const t = thresholdFor(state);
    expect(confidenceFor(state, t)).toBeCloseTo(0.5, 2);
    expect(confidenceFor(state, t + 0.05)).toBeGreaterThan(0.5);
    expect(confidenceFor(state, t - 0.05)).toBeLessThan(0.5);
    const order = ['low', 'medium', 'high', 'critical'];
    let last = 0;
    for (let s = t + 0.001; s < 1; s += 0.01) {
      const rank = order.indexOf(severityFor(state, s));
      expect(rank).toBeGreaterThanOrEqual(last);
      last = rank;
    }
    expect(severityFor(state, t + 0.001)).toBe('low');
    expect(exceedanceProbability(state, 0)).toBe(1);
  });

  it('feedback: "fine" raises that type\'s threshold, "real" lowers it, others untouched (pure)', () => {
    const state = fitThresholds([baselineScores], { falseAlertsPerWeek: 5, scoresPerWeek: 10_000 });
    const frozen = JSON.stringify(state);
    const fine = applyFeedback(state, { verdict: 'fine', anomalyType: 'interference', score: 0.7 });
    expect(JSON.stringify(state)).toBe(frozen);
    expect(thresholdFor(fine, 'interference')).toBeGreaterThan(thresholdFor(state, 'interference'));
    expect(thresholdFor(fine, 'signal_drop')).toBe(thresholdFor(state, 'signal_drop'));
    const real = applyFeedback(state, { verdict: 'real', anomalyType: 'interference' });
    expect(thresholdFor(real, 'interference')).toBeLessThan(thresholdFor(state, 'interference'));
    expect(fine.feedback).toEqual({ falsePositives: 1, truePositives: 0 });
    // Bounded: a hundred "fine"s do not switch alerts off for good.
    let many = state;
    for (let i = 0; i < 100; i++)
      many = applyFeedback(many, { verdict: 'fine', anomalyType: 'interference' });
    expect(many.typeFactor.interference).toBeCloseTo(0.05, 12);
  });

  it('feedback: a changed verdict replaces the earlier one instead of adding to it', () => {
    const state = fitThresholds([baselineScores], { falseAlertsPerWeek: 5, scoresPerWeek: 10_000 });
    const fine = applyFeedback(state, { verdict: 'fine', anomalyType: 'interference' });
    const changed = applyFeedback(fine, { verdict: 'real', anomalyType: 'interference', replaces: 'fine' });
    const real = applyFeedback(state, { verdict: 'real', anomalyType: 'interference' });
    expect(changed.typeFactor.interference).toBeCloseTo(real.typeFactor.interference!, 12);
    expect(changed.feedback).toEqual({ falsePositives: 0, truePositives: 1 });
    // Replacing a verdict by itself changes nothing.
    expect(applyFeedback(fine, { verdict: 'fine', anomalyType: 'interference', replaces: 'fine' })).toBe(
      fine,
    );
  });

  it('counts clusters of exceedances (extremal index)', () => {
    expect(runsExtremalIndex([[0, 1, 1, 1, 0, 0, 0, 1, 1, 1]], 0.5, 2)).toBeCloseTo(2 / 6, 12);
    expect(runsExtremalIndex([[0, 1, 0, 1, 0, 1]], 0.5, 1)).toBe(1);
  });

  it('needs enough baseline scores', () => {
    expect(() => fitThresholds([[0.1, 0.2]], { scoresPerWeek: 10 })).toThrow(/at least 50/);
    expect(() => fitThresholds([baselineScores], { scoresPerWeek: 10, falseAlertsPerWeek: 0 })).toThrow(
      /budget/,
    );
  });
});
