import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
  solveMultilateration,
} from '../../../src/models/positioning/multilateration.js';
import { solveMultilaterationWithLibrary } from '../../../src/models/positioning/multilateration-library.js';
import { buildTerms, priorTerms } from '../../../src/models/positioning/multilateration-terms.js';
import type { AnchorRanging } from '../../../src/models/positioning/ranging.js';
import { Rng } from '../../../src/sim/prng.js';

const bounds = { minX: 0, minY: 0, maxX: 10, maxY: 8 };
const anchors = new Map([
  ['a', { x: 0, y: 0 }],
  ['b', { x: 10, y: 0 }],
  ['c', { x: 10, y: 8 }],
  ['d', { x: 0, y: 8 }],
  ['e', { x: 5, y: 4 }],
]);
const ftm: AnchorRanging['rtt'] = { offsetM: 0, scale: 1, sigmaM: 0.5, informative: true, n: 100 };
const ranging = new Map<string, AnchorRanging>(
  [...anchors.keys()].map((id) => [
    id,
    { anchorId: id, rssi: { p0: -45, exponent: 2.5, sigmaDb: 4, n: 100 }, rtt: ftm },
  ]),
);
const params: MultilaterationParams = { ...DEFAULT_MULTILATERATION, deviceHeight: 0 };

function rangesFrom(p: { x: number; y: number }, noise = 0, rng = new Rng(1)) {
  return [...anchors].map(([anchorId, a]) => ({
    anchorId,
    range: Math.hypot(p.x - a.x, p.y - a.y) + rng.gaussian(0, noise),
  }));
}

describe('multilateration', () => {
  it('converges to the true point from noiseless ranges, wherever the point is', () => {
    for (const p of [
      { x: 1, y: 1 },
      { x: 9.5, y: 7.5 },
      { x: 3, y: 6 },
      { x: 5.2, y: 4.1 },
    ]) {
      const r = solveMultilateration(buildTerms(rangesFrom(p), anchors, ranging, params), bounds, params)!;
      expect(Math.hypot(r.x - p.x, r.y - p.y)).toBeLessThan(1e-3);
      expect(r.anchors).toBe(5);
    }
  });

  it('resists an NLOS outlier (+6 m on one anchor) where least squares is pulled away', () => {
    const truth = { x: 3, y: 2 };
    const obs = rangesFrom(truth, 0.2, new Rng(4));
    obs[2]!.range! += 6;
    const huber = solveMultilateration(buildTerms(obs, anchors, ranging, params), bounds, params)!;
    const cauchy = solveMultilateration(buildTerms(obs, anchors, ranging, params), bounds, {
      ...params,
      loss: 'cauchy',
      k: 2.385,
    })!;
    const l2 = solveMultilateration(buildTerms(obs, anchors, ranging, params), bounds, {
      ...params,
      loss: 'l2',
    })!;
    const e = (r: { x: number; y: number }) => Math.hypot(r.x - truth.x, r.y - truth.y);
    expect(e(l2)).toBeGreaterThan(0.8);
    expect(e(huber)).toBeLessThan(e(l2) / 2);
    expect(e(cauchy)).toBeLessThan(0.4);
  });

  it('weights channels by σ: an uninformative (ping-grade) RTT never enters, RSSI alone still locates', () => {
    const ping = new Map<string, AnchorRanging>(
      [...ranging].map(([id, r]) => [
        id,
        { ...r, rtt: { offsetM: 3e5, scale: 1, sigmaM: 3e5, informative: false, n: 100 } },
      ]),
    );
    const truth = { x: 7, y: 3 };
    const obs = [...anchors].map(([anchorId, a]) => ({
      anchorId,
      range: 4e5 + Math.random(),
      rssi: -45 - 25 * Math.log10(Math.hypot(truth.x - a.x, truth.y - a.y)),
    }));
    const terms = buildTerms(obs, anchors, ping, params);
    expect(terms.every((t) => t.kind === 1)).toBe(true);
    const r = solveMultilateration(terms, bounds, params)!;
    expect(Math.hypot(r.x - truth.x, r.y - truth.y)).toBeLessThan(0.05);
  });

  it('stays inside the search box and reports a large covariance when the geometry cannot decide', () => {
    const obs = [
      { anchorId: 'a', range: 50 },
      { anchorId: 'e', range: 60 },
    ];
    const r = solveMultilateration(buildTerms(obs, anchors, ranging, params), bounds, params)!;
    expect(r.x).toBeGreaterThanOrEqual(bounds.minX - params.marginM);
    expect(r.x).toBeLessThanOrEqual(bounds.maxX + params.marginM);
    expect(r.y).toBeLessThanOrEqual(bounds.maxY + params.marginM);
    const good = solveMultilateration(
      buildTerms(rangesFrom({ x: 4, y: 4 }, 0.5), anchors, ranging, params),
      bounds,
      params,
    )!;
    expect(r.cov[0] + r.cov[2]).toBeGreaterThan(10 * (good.cov[0] + good.cov[2]));
  });

  it('the covariance matches the scatter of repeated noisy fixes', () => {
    const rng = new Rng(8);
    const truth = { x: 4, y: 3 };
    const fixes = Array.from(
      { length: 400 },
      () =>
        solveMultilateration(buildTerms(rangesFrom(truth, 0.5, rng), anchors, ranging, params), bounds, {
          ...params,
          inflateByMisfit: false,
        })!,
    );
    const mse = fixes.reduce((s, f) => s + (f.x - truth.x) ** 2 + (f.y - truth.y) ** 2, 0) / fixes.length;
    const predicted = fixes.reduce((s, f) => s + f.cov[0] + f.cov[2], 0) / fixes.length;
    expect(mse / predicted).toBeGreaterThan(0.7);
    expect(mse / predicted).toBeLessThan(1.4);
  });

  it('the ml-levenberg-marquardt baseline reaches the same answer', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 10; i++) {
      const truth = { x: rng.uniform(0, 10), y: rng.uniform(0, 8) };
      const terms = buildTerms(rangesFrom(truth, 0.3, rng), anchors, ranging, params);
      const own = solveMultilateration(terms, bounds, params)!;
      const lib = solveMultilaterationWithLibrary(terms, bounds, params)!;
      expect(Math.hypot(own.x - lib.x, own.y - lib.y)).toBeLessThan(0.05);
    }
  });

  it('a Gaussian prior (joint fusion) picks the right basin when two anchors leave the position ambiguous', () => {
    // Two anchors: the ranges fit two mirror points equally well.
    const two = new Map([
      ['a', { x: 0, y: 4 }],
      ['b', { x: 10, y: 4 }],
    ]);
    const truth = { x: 5, y: 1 };
    const obs = [...two].map(([anchorId, a]) => ({
      anchorId,
      range: Math.hypot(truth.x - a.x, truth.y - a.y),
    }));
    const terms = buildTerms(obs, two, ranging, params);
    for (const prior of [
      { x: 4.5, y: 2, cov: [1, 0, 1] as const },
      { x: 5.5, y: 6.5, cov: [1, 0, 1] as const },
    ]) {
      const r = solveMultilateration([...terms, ...priorTerms(prior, prior.cov)], bounds, params, [prior])!;
      const mirrorY = prior.y < 4 ? 1 : 7;
      expect(Math.abs(r.y - mirrorY)).toBeLessThan(0.5);
      expect(r.anchors).toBe(2);
    }
  });

  it('the mode mixture widens the covariance over an ambiguity instead of picking one side confidently', () => {
    const two = new Map([
      ['a', { x: 0, y: 4 }],
      ['b', { x: 10, y: 4 }],
    ]);
    const obs = [...two].map(([anchorId, a]) => ({ anchorId, range: Math.hypot(5 - a.x, 1 - a.y) }));
    const terms = buildTerms(obs, two, ranging, params);
    const single = solveMultilateration(terms, bounds, { ...params, mixModes: false })!;
    const mixed = solveMultilateration(terms, bounds, { ...params, mixModes: true })!;
    expect(mixed.cov[2]).toBeGreaterThan(4 * single.cov[2]);
    expect(Math.abs(mixed.y - 4)).toBeLessThan(Math.abs(single.y - 4));
  });
});
