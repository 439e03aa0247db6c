import { describe, expect, it } from 'vitest';
import {
  correctRange,
  fitRssiModel,
  fitRttModel,
  predictRssi,
  rangeToRtt,
  rssiToDistance,
  rttToRange,
} from '../../../src/models/positioning/ranging.js';
import { robustLineFit } from '../../../src/models/positioning/robust.js';
import { Rng } from '../../../src/sim/prng.js';
import { DEFAULT_RADIO } from '../../../src/sim/radio.js';

describe('ranging', () => {
  it('converts RTT in milliseconds to metres: 1 m ≈ 6.67 ns of round trip', () => {
    expect(rangeToRtt(1) * 1e6).toBeCloseTo(6.671, 3);
    expect(rttToRange(2e-5)).toBeCloseTo(2.998, 3);
    // A processing offset is subtracted before converting.
    expect(rttToRange(5.00002, 5)).toBeCloseTo(2.998, 2);
  });

  it('recovers path-loss parameters (p0, exponent, σ) from noisy walk pairs', () => {
    const rng = new Rng(11);
    const d: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < 600; i++) {
      const dist = rng.uniform(0.5, 15);
      d.push(dist);
      r.push(-45 - 28 * Math.log10(dist) + rng.gaussian(0, 3));
    }
    const m = fitRssiModel(d, r)!;
    expect(m.p0).toBeCloseTo(-45, 0);
    expect(m.exponent).toBeCloseTo(2.8, 1);
    expect(m.sigmaDb).toBeGreaterThan(2.6);
    expect(m.sigmaDb).toBeLessThan(3.4);
    expect(rssiToDistance(m, predictRssi(m, 7))).toBeCloseTo(7, 6);
  });

  it('shrinks an anchor heard at few points toward the pooled fit', () => {
    const alone = fitRssiModel([2, 2.1, 2.2, 2.3], [-60, -70, -52, -66])!;
    const pooled = fitRssiModel([2, 2.1, 2.2, 2.3], [-60, -70, -52, -66], {
      prior: { p0: -45, exponent: 2.8 },
      priorWeight: 10,
    })!;
    expect(Math.abs(pooled.exponent - 2.8)).toBeLessThan(Math.abs(alone.exponent - 2.8) + 1e-9);
    expect(pooled.exponent).toBeGreaterThanOrEqual(1);
    expect(pooled.exponent).toBeLessThanOrEqual(6);
  });

  it('learns a per-anchor FTM offset and scale with metre-level σ, robust to NLOS outliers', () => {
    const rng = new Rng(5);
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < 800; i++) {
      const dist = rng.uniform(0.5, 20);
      let range = 2.2 + 1.05 * dist + rng.gaussian(0, 0.7);
      if (rng.bernoulli(0.1)) range += rng.exponential(4); // NLOS excess
      d.push(dist);
      g.push(range);
    }
    const m = fitRttModel(d, g)!;
    expect(m.informative).toBe(true);
    expect(m.offsetM).toBeCloseTo(2.2, 0);
    expect(m.scale).toBeCloseTo(1.05, 1);
    expect(m.sigmaM).toBeGreaterThan(0.5);
    expect(m.sigmaM).toBeLessThan(1);
    expect(correctRange(m, 2.2 + 1.05 * 10)).toBeCloseTo(10, 0);
  });

  it('finds ping-grade RTT uninformative: σ of hundreds of km, so no estimator can lean on it', () => {
    const rng = new Rng(9);
    const d: number[] = [];
    const g: number[] = [];
    for (let i = 0; i < 500; i++) {
      const dist = rng.uniform(0.5, 12);
      const rtt = DEFAULT_RADIO.ping.baseMs + rangeToRtt(dist) + rng.exponential(DEFAULT_RADIO.ping.jitterMs);
      d.push(dist);
      g.push(rttToRange(rtt));
    }
    const m = fitRttModel(d, g)!;
    expect(m.informative).toBe(false);
    expect(m.sigmaM).toBeGreaterThan(1e4);
  });

  it('Huber line fit ignores a gross outlier that pulls least squares', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const ys = xs.map((x) => 1 + 2 * x);
    ys[9] = 100;
    const f = robustLineFit(xs, ys)!;
    expect(f.slope).toBeCloseTo(2, 1);
    expect(f.intercept).toBeCloseTo(1, 0);
  });
});
