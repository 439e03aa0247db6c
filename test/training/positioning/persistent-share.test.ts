import { describe, expect, it } from 'vitest';
import type { Fix } from '../../../src/models/positioning/fix.js';
import {
  DEFAULT_TRACKER,
  kalmanInit,
  positionCov,
  reportedCov,
  trackReportedCov,
} from '../../../src/models/positioning/tracker.js';
import { Rng } from '../../../src/sim/prng.js';
import { fitPersistentShare } from '../../../src/training/positioning/persistent-share.js';
import type { CalibrationSample } from '../../../src/training/positioning/samples.js';

const BOX = { minX: -50, minY: -50, maxX: 150, maxY: 150 };

/**
 * A walk of 60 points, 40 messages each 1 s apart, whose fixes are the truth plus a per-point bias (σ_b per axis,
 * the same for every message at the point) plus fresh noise (σ_n), each fix stating the honest single-fix
 * covariance (σ_b² + σ_n²)·I.
 */
function walk(sigmaBias: number, sigmaNoise: number, seed: number) {
  const rng = new Rng(seed);
  const samples: CalibrationSample[] = [];
  const fixes: Fix[] = [];
  const v = sigmaBias ** 2 + sigmaNoise ** 2;
  for (let p = 0; p < 60; p++) {
    const x = (p % 10) * 10;
    const y = Math.floor(p / 10) * 10;
    const bx = rng.gaussian(0, sigmaBias);
    const by = rng.gaussian(0, sigmaBias);
    for (let m = 0; m < 40; m++) {
      const t = 1_000_000 + p * 100_000 + m * 1000;
      samples.push({ id: `${p}-${m}`, x, y, t, device: 'd', pointKey: `${x},${y}`, observations: [] });
      fixes.push({
        x: x + bx + rng.gaussian(0, sigmaNoise),
        y: y + by + rng.gaussian(0, sigmaNoise),
        cov: [v, 0, v],
        model: 'fusion',
        anchors: 4,
      });
    }
  }
  return { samples, fixes };
}

describe('persistent share of the fix covariance in the tracked one', () => {
  it('the reported covariance blends the filter’s and the fix’s: ρ = 0 the filter, ρ = 1 the fix', () => {
    const P = [0.1, 0.02, 0.2] as const;
    const R = [1, -0.1, 2] as const;
    expect(reportedCov(P, R, 0)).toEqual(P);
    expect(reportedCov(P, null, 0.5)).toEqual(P);
    expect(reportedCov(P, R, 1)).toEqual(R);
    const half = reportedCov(P, R, 0.25);
    expect(half[0]).toBeCloseTo(0.75 * 0.1 + 0.25 * 1, 12);
    expect(half[1]).toBeCloseTo(0.75 * 0.02 - 0.25 * 0.1, 12);
    expect(half[2]).toBeCloseTo(0.75 * 0.2 + 0.25 * 2, 12);
  });

  it('a track reports the share in proportion to the probability that the device is still', () => {
    const k = kalmanInit(1, 2, [0.5, 0.1, 0.8], 0, DEFAULT_TRACKER);
    const P = positionCov(k);
    const R = [2, 0.3, 3] as const;
    const still = { ...k, mu: k.mu.map((_, i) => (i === 0 ? 1 : 0)) };
    const moving = { ...k, mu: k.mu.map((_, i) => (i === 0 ? 0 : 1 / (k.mu.length - 1))) };
    const half = { ...k, mu: k.mu.map((_, i) => (i === 0 ? 0.5 : 0.5 / (k.mu.length - 1))) };
    expect(trackReportedCov(still, R, 0.4)).toEqual(reportedCov(P, R, 0.4));
    expect(trackReportedCov(moving, R, 0.4)).toEqual(P);
    expect(trackReportedCov(half, R, 0.4)[0]).toBeCloseTo(reportedCov(P, R, 0.2)[0], 12);
  });

  it('a walk whose fixes share a per-point error: the filter alone over-claims, the fitted share restores 95 %', () => {
    const { samples, fixes } = walk(0.6, 0.6, 1);
    const fit = fitPersistentShare(samples, fixes, BOX, DEFAULT_TRACKER)!;
    expect(fit.n).toBe(2400);
    // Half the variance is persistent: averaging 40 fixes cannot remove it, but the filter's covariance shrinks.
    expect(fit.coverageBefore).toBeLessThan(0.75);
    expect(fit.coverageAfter).toBeGreaterThanOrEqual(0.95);
    expect(fit.share).toBeGreaterThan(0.3);
    expect(fit.share).toBeLessThan(0.9);
    // The fitted share is the smallest that reaches 95 %: one step less does not.
    const less = fitPersistentShare(samples, fixes, BOX, DEFAULT_TRACKER, fit.coverageAfter + 1e-9);
    expect(less!.share).toBeGreaterThan(fit.share);

    // Another walk of the same kind (other draws) fits about the same share.
    const other = walk(0.6, 0.6, 2);
    const refit = fitPersistentShare(other.samples, other.fixes, BOX, DEFAULT_TRACKER)!;
    expect(Math.abs(refit.share - fit.share)).toBeLessThan(0.2);
  });

  it('independent fixes: the filter’s covariance is already honest and the share stays near zero', () => {
    const { samples, fixes } = walk(0, 0.8, 3);
    const fit = fitPersistentShare(samples, fixes, BOX, DEFAULT_TRACKER)!;
    expect(fit.coverageBefore).toBeGreaterThan(0.9);
    expect(fit.share).toBeLessThan(0.1);
  });

  it('no fixes to replay: null', () => {
    expect(fitPersistentShare([], [], BOX, DEFAULT_TRACKER)).toBeNull();
  });
});
