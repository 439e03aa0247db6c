import { describe, expect, it } from 'vitest';
import {
  CHI2_2_95,
  confidenceFromRadius,
  coverageRadius,
  type Fix,
} from '../../../src/models/positioning/fix.js';
import { fuseFixes, fuseFixesRobust } from '../../../src/models/positioning/fusion.js';
import { capVariance, eig2 } from '../../../src/models/positioning/linalg2.js';
import { roomProbabilities } from '../../../src/models/positioning/rooms.js';
import { Rng } from '../../../src/sim/prng.js';
import { espresenseScenario } from '../../../src/sim/scenarios.js';

describe('uncertainty radius, confidence, fusion and rooms', () => {
  it('the 95 % radius is σ·√5.99 for an isotropic covariance and holds 95 % of an elongated one', () => {
    expect(coverageRadius([4, 0, 4])).toBeCloseTo(2 * Math.sqrt(CHI2_2_95), 6);
    const cov = [4, 1.2, 0.5] as const;
    const r = coverageRadius(cov);
    // Monte Carlo check with the Cholesky factor.
    const l11 = Math.sqrt(cov[0]);
    const l21 = cov[1] / l11;
    const l22 = Math.sqrt(cov[2] - l21 * l21);
    const rng = new Rng(2);
    let inside = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const z1 = rng.normal();
      const z2 = rng.normal();
      if (Math.hypot(l11 * z1, l21 * z1 + l22 * z2) <= r) inside++;
    }
    expect(inside / n).toBeGreaterThan(0.944);
    expect(inside / n).toBeLessThan(0.956);
  });

  it('confidence falls as the radius grows, 0.5 at the scale', () => {
    expect(confidenceFromRadius(0)).toBe(1);
    expect(confidenceFromRadius(2)).toBeCloseTo(0.5, 9);
    expect(confidenceFromRadius(0.5)).toBeGreaterThan(confidenceFromRadius(1));
    expect(confidenceFromRadius(Number.POSITIVE_INFINITY)).toBe(0);
  });

  it('fuses by precision, and hedges (with a wider covariance) when two estimators disagree', () => {
    const a: Fix = { x: 0, y: 0, cov: [1, 0, 1], model: 'multilateration', anchors: 4 };
    const b: Fix = { x: 2, y: 0, cov: [3, 0, 3], model: 'knn', anchors: 4 };
    const f = fuseFixes([a, b])!;
    expect(f.x).toBeCloseTo(0.5, 9);
    expect(f.cov[0]).toBeCloseTo(0.75, 9);
    expect(f.model).toBe('fusion');
    // Agreeing members: robust fusion ≈ plain fusion.
    const r1 = fuseFixesRobust([a, b], 0.05, 100)!;
    expect(Math.abs(r1.x - f.x)).toBeLessThan(0.05);
    // A member 40 m away is an outlier: the answer stays near the confident one instead of the precision mean.
    const far: Fix = { x: 40, y: 0, cov: [0.5, 0, 0.5], model: 'knn', anchors: 4 };
    const plain = fuseFixes([a, far])!;
    const robust = fuseFixesRobust([a, far], 0.05, 100 * 100)!;
    expect(plain.x).toBeGreaterThan(20);
    expect(robust.cov[0]).toBeGreaterThan(plain.cov[0] * 10);
  });

  it('room probabilities: certain in the middle of a room, split at the shared wall, 0.8 means 0.8', () => {
    const { site } = espresenseScenario();
    const mid = roomProbabilities(site, 2, 2, [0.04, 0, 0.04]);
    expect(mid.rooms[0]).toEqual({ room: 'living', probability: 1 });
    const wall = roomProbabilities(site, 4, 2, [0.25, 0, 0.25]);
    expect(wall.rooms[0]!.probability).toBeGreaterThan(0.4);
    expect(wall.rooms[0]!.probability).toBeLessThan(0.6);
    expect(wall.rooms.reduce((s, r) => s + r.probability, 0) + wall.none).toBeCloseTo(1, 9);
    // Calibration: draw truths from the estimate's own Gaussian; the stated probability is the hit rate.
    const rng = new Rng(6);
    const est = { x: 3.6, y: 2 };
    const p = roomProbabilities(site, est.x, est.y, [0.25, 0, 0.25]).rooms.find(
      (r) => r.room === 'living',
    )!.probability;
    let hits = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const x = est.x + 0.5 * rng.normal();
      if (x < 0 || x > 6) {
        i--;
        continue;
      }
      if (x <= 4) hits++;
    }
    expect(Math.abs(hits / n - p)).toBeLessThan(0.03);
  });

  it('a member vaguer than the site itself does not turn the confident ones into outliers', () => {
    const sharp: Fix = { x: 3, y: 2, cov: [0.3, 0, 0.3], model: 'knn', anchors: 4 };
    const vague: Fix = { x: 5, y: 6, cov: [4000, 0, 4000], model: 'fingerprint', anchors: 4 };
    // Uncapped, the vague member's Gaussian puts almost no density anywhere on an 80 m² site, so "the sharp one is
    // an outlier" would win and the answer would sit between the two with a ~2000 m² covariance.
    const f = fuseFixesRobust([sharp, vague], 0.05, 80)!;
    expect(Math.hypot(f.x - 3, f.y - 2)).toBeLessThan(0.6);
    expect(f.cov[0]).toBeLessThan(80 / 6);
    const capped = capVariance([4000, 1000, 500], 13);
    const [l1] = eig2(capped);
    expect(l1).toBeCloseTo(13, 6);
    expect(capVariance([2, 0.5, 1], 13)).toEqual([2, 0.5, 1]);
  });
});
