import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRACKER,
  type KalmanState,
  movingProbability,
  trackFix,
} from '../../../src/models/positioning/tracker.js';
import { Rng } from '../../../src/sim/prng.js';

const box = { minX: -1, minY: -1, maxX: 21, maxY: 21 };
const cov = [0.5, 0, 0.5] as const;

describe('Kalman tracker', () => {
  it('smooths a stationary device: tracked error well below single-fix error', () => {
    const rng = new Rng(1);
    let k: KalmanState | null = null;
    let fixErr = 0;
    let trackErr = 0;
    for (let i = 0; i < 200; i++) {
      const fx = 5 + rng.gaussian(0, Math.sqrt(cov[0]));
      const fy = 5 + rng.gaussian(0, Math.sqrt(cov[2]));
      k = trackFix(k, { x: fx, y: fy, cov }, i * 1000, box, DEFAULT_TRACKER).state;
      if (i >= 50) {
        fixErr += Math.hypot(fx - 5, fy - 5);
        trackErr += Math.hypot(k.s[0] - 5, k.s[1] - 5);
      }
    }
    expect(trackErr).toBeLessThan(fixErr / 2.5);
  });

  it('holds back a lone outlier, then follows a real move within a few fixes', () => {
    let k: KalmanState | null = null;
    let t = 0;
    const tick = () => {
      t += 1000;
      return t;
    };
    for (let i = 0; i < 30; i++) k = trackFix(k, { x: 5, y: 5, cov }, tick(), box, DEFAULT_TRACKER).state;
    const outlier = trackFix(k, { x: 15, y: 15, cov }, tick(), box, DEFAULT_TRACKER);
    expect(outlier.outcome).toBe('gated');
    expect(Math.hypot(outlier.state.s[0] - 5, outlier.state.s[1] - 5)).toBeLessThan(0.5);
    k = trackFix(outlier.state, { x: 5, y: 5, cov }, tick(), box, DEFAULT_TRACKER).state;
    expect(k.pending).toEqual([]);
    // The device really moved (teleport-like: another room): consecutive consistent fixes re-initialise.
    const outcomes: string[] = [];
    for (let i = 0; i < DEFAULT_TRACKER.reinitAfter; i++) {
      const r = trackFix(k, { x: 15, y: 14, cov }, tick(), box, DEFAULT_TRACKER);
      outcomes.push(r.outcome);
      k = r.state;
    }
    expect(outcomes.at(-1)).toBe('reinitialised');
    expect(Math.hypot(k.s[0] - 15, k.s[1] - 14)).toBeLessThan(0.6);
  });

  it('follows a walk at 1 m/s without lagging by more than a metre', () => {
    const rng = new Rng(3);
    let k: KalmanState | null = null;
    let worst = 0;
    for (let i = 0; i <= 15; i++) {
      const truth = { x: 2 + i, y: 5 };
      k = trackFix(
        k,
        { x: truth.x + rng.gaussian(0, 0.5), y: truth.y + rng.gaussian(0, 0.5), cov },
        i * 1000,
        box,
        DEFAULT_TRACKER,
      ).state;
      if (i > 5) worst = Math.max(worst, Math.hypot(k.s[0] - truth.x, k.s[1] - truth.y));
    }
    expect(worst).toBeLessThan(1);
  });

  it('the slow model takes the lag off a device carried slowly and steadily (0.1 m/s)', () => {
    // Mean lag along the direction of travel over a 60 s creep, with and without the third (slow) model.
    const lagOf = (params: typeof DEFAULT_TRACKER) => {
      let lag = 0;
      let n = 0;
      for (let seed = 1; seed <= 8; seed++) {
        const rng = new Rng(seed);
        let k: KalmanState | null = null;
        for (let i = 0; i <= 60; i++) {
          const truth = { x: 2 + 0.1 * i, y: 5 };
          const fix = {
            x: truth.x + rng.gaussian(0, 0.7),
            y: truth.y + rng.gaussian(0, 0.7),
            cov: [0.5, 0, 0.5] as const,
          };
          k = trackFix(k, fix, i * 1000, box, params).state;
          if (i >= 20) {
            lag += truth.x - k.s[0];
            n++;
          }
        }
      }
      return lag / n;
    };
    expect(DEFAULT_TRACKER.slowProcessNoise).toBeGreaterThan(0);
    const twoModels = lagOf({ ...DEFAULT_TRACKER, slowProcessNoise: 0 });
    const threeModels = lagOf(DEFAULT_TRACKER);
    expect(twoModels).toBeGreaterThan(0.25);
    expect(threeModels).toBeLessThan(twoModels * 0.7);
  });

  it('starts a new track from a state saved under another model set (2 vs 3 models)', () => {
    let k: KalmanState | null = null;
    for (let i = 0; i < 5; i++) {
      k = trackFix(k, { x: 5, y: 5, cov }, i * 1000, box, { ...DEFAULT_TRACKER, slowProcessNoise: 0 }).state;
    }
    expect(k!.models).toHaveLength(2);
    const r = trackFix(k, { x: 5.1, y: 5, cov }, 6000, box, DEFAULT_TRACKER);
    expect(r.outcome).toBe('initialised');
    expect(r.state.models).toHaveLength(3);
    expect(r.state.mu.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('knows whether the device stands still or walks (IMM model probabilities), and its state is plain JSON', () => {
    const rng = new Rng(4);
    let k: KalmanState | null = null;
    for (let i = 0; i < 40; i++) {
      k = trackFix(
        k,
        { x: 5 + rng.gaussian(0, 0.5), y: 5 + rng.gaussian(0, 0.5), cov },
        i * 1000,
        box,
        DEFAULT_TRACKER,
      ).state;
    }
    expect(movingProbability(k!)).toBeLessThan(0.3);
    for (let i = 1; i <= 12; i++) {
      k = trackFix(
        k,
        { x: 5 + 1.2 * i + rng.gaussian(0, 0.5), y: 5, cov },
        (40 + i) * 1000,
        box,
        DEFAULT_TRACKER,
      ).state;
    }
    expect(movingProbability(k!)).toBeGreaterThan(0.7);
    expect(k!.s[2]).toBeGreaterThan(0.6);
    expect(JSON.parse(JSON.stringify(k))).toEqual(k);
  });
});
