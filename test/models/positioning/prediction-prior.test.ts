import { describe, expect, it } from 'vitest';
import { knownParameterModel } from '../../../bench/positioning/known-parameter-model.js';
import { add2, type Cov2, inv2 } from '../../../src/models/positioning/linalg2.js';
import { createPositioner } from '../../../src/models/positioning/positioner.js';
import { measurementFromPosterior } from '../../../src/models/positioning/prediction-prior.js';
import {
  anchorChannels,
  espresenseScenario,
  expandWaypoints,
  measureAt,
  Rng,
} from '../../../src/sim/index.js';

/** The Kalman update of a position prior by a measurement, in information form. */
function update(p: { x: number; y: number; cov: Cov2 }, m: { x: number; y: number; cov: Cov2 }) {
  const a = inv2(p.cov)!;
  const b = inv2(m.cov)!;
  const cov = inv2(add2(a, b))!;
  const hx = a[0] * p.x + a[1] * p.y + b[0] * m.x + b[1] * m.y;
  const hy = a[1] * p.x + a[2] * p.y + b[1] * m.x + b[2] * m.y;
  return { x: cov[0] * hx + cov[1] * hy, y: cov[1] * hx + cov[2] * hy, cov };
}

describe('measurementFromPosterior', () => {
  it('gives the measurement whose Kalman update of the prior is the posterior', () => {
    const prior = { x: 3, y: 2, cov: [0.8, 0.2, 0.5] as Cov2 };
    const posterior = { x: 3.4, y: 1.7, cov: [0.3, 0.05, 0.25] as Cov2 };
    const m = measurementFromPosterior(prior, posterior)!;
    const back = update(prior, m);
    expect(back.x).toBeCloseTo(posterior.x, 9);
    expect(back.y).toBeCloseTo(posterior.y, 9);
    for (let i = 0; i < 3; i++) expect(back.cov[i]).toBeCloseTo(posterior.cov[i]!, 9);
    // The measurement lies beyond the posterior, away from the prior: the prior's pull is divided out.
    expect(m.x).toBeGreaterThan(posterior.x);
    expect(m.y).toBeLessThan(posterior.y);
  });

  it('refuses a posterior that is not narrower than the prior in every direction', () => {
    const prior = { x: 0, y: 0, cov: [1, 0, 1] as Cov2 };
    expect(measurementFromPosterior(prior, { x: 0.1, y: 0, cov: [1, 0, 1] })).toBeNull();
    expect(measurementFromPosterior(prior, { x: 0.1, y: 0, cov: [0.5, 0, 1.5] })).toBeNull();
    expect(measurementFromPosterior(prior, { x: 0.1, y: 0, cov: [0, 0, 0] })).toBeNull();
    expect(measurementFromPosterior(prior, { x: 0.1, y: 0, cov: [0.5, 0, 0.5] })).not.toBeNull();
  });
});

describe('Positioner with the prediction as a prior (ESPresense scenario, z = 0 m, diagonal at 1 Hz)', () => {
  const s = espresenseScenario({ deviceHeight: 0 });
  const model = knownParameterModel(s, 0);
  const track = s.tracks.diagonal_walk!;
  const points = expandWaypoints(track.points, track.samplesPerSegment);
  const channels = anchorChannels(s.site, s.radio, new Rng(1));

  function pass(predictionPrior: boolean, seed: number) {
    const rng = new Rng(`prediction-prior-test|${seed}`);
    const positioner = createPositioner(model, 'test', { predictionPrior });
    let state = positioner.initialState();
    const errors: number[] = [];
    const leanNearWall: number[] = [];
    points.forEach((p, i) => {
      const t = 1_000_000 + 1000 * i;
      const u = positioner.update(state, measureAt(s.site, s.radio, channels, p, rng, t), t);
      state = u.state;
      const e = u.estimate!;
      errors.push(Math.hypot(e.x - p.x, e.y - p.y));
      if (Math.abs(p.x - 4) < 0.6) leanNearWall.push(e.x - p.x);
    });
    return { errors, leanNearWall };
  }

  it('tracks closer to the truth and leans less toward the middle of the floor at the inner wall', () => {
    const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const on = { err: [] as number[], lean: [] as number[] };
    const off = { err: [] as number[], lean: [] as number[] };
    for (let seed = 1; seed <= 30; seed++) {
      const a = pass(true, seed);
      const b = pass(false, seed);
      expect(a.errors).toHaveLength(points.length);
      on.err.push(...a.errors);
      on.lean.push(...a.leanNearWall);
      off.err.push(...b.errors);
      off.lean.push(...b.leanNearWall);
    }
    // The floor's middle is at x = 3: fixes near x = 4 lean toward it (negative x error); less with the prior.
    expect(mean(off.lean)).toBeLessThan(-0.05);
    expect(mean(on.lean)).toBeGreaterThan(mean(off.lean) + 0.01);
    expect(mean(on.err)).toBeLessThan(mean(off.err) * 0.97);
  });
});
