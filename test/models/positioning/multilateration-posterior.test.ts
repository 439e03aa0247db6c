import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
  solveMultilateration,
} from '../../../src/models/positioning/multilateration.js';
import { costAt } from '../../../src/models/positioning/multilateration-cost.js';
import { posteriorMoments } from '../../../src/models/positioning/multilateration-posterior.js';
import { buildTerms, type Term } from '../../../src/models/positioning/multilateration-terms.js';
import type { AnchorRanging } from '../../../src/models/positioning/ranging.js';
import { Rng } from '../../../src/sim/prng.js';

// ESPresense-like: four RSSI anchors in the corners of a 6 × 4 m floor, σ 2.5 dB and a tenth of the readings 6 dB
// weaker (multipath) — a likelihood metres wide.
const bounds = { minX: 0, minY: 0, maxX: 6, maxY: 4 };
const anchors = new Map([
  ['sw', { x: 0, y: 0 }],
  ['nw', { x: 0, y: 4 }],
  ['se', { x: 6, y: 0 }],
  ['ne', { x: 6, y: 4 }],
]);
const rssiOnly = new Map<string, AnchorRanging>(
  [...anchors.keys()].map((id) => [
    id,
    { anchorId: id, rssi: { p0: -59, exponent: 3, sigmaDb: 2.5, n: 100 }, rtt: null },
  ]),
);
const ml: MultilaterationParams = { ...DEFAULT_MULTILATERATION, deviceHeight: 0, marginM: 0 };
const pm: MultilaterationParams = { ...ml, posteriorMean: true };

function rssiTerms(p: { x: number; y: number }, rng: Rng): Term[] {
  const obs = [...anchors].map(([anchorId, a]) => ({
    anchorId,
    rssi:
      -59 -
      30 * Math.log10(Math.max(Math.hypot(p.x - a.x, p.y - a.y), 0.1)) +
      rng.gaussian(0, 2.5) -
      (rng.next() < 0.1 ? 6 : 0),
  }));
  return buildTerms(obs, anchors, rssiOnly, ml);
}

/** The posterior mean over the bounds by brute force: a 2 cm grid. */
function gridMean(terms: readonly Term[], temperature = 1): { x: number; y: number } {
  const step = 0.02;
  const cells: Array<[number, number, number]> = [];
  let best = Number.POSITIVE_INFINITY;
  for (let x = step / 2; x < 6; x += step) {
    for (let y = step / 2; y < 4; y += step) {
      const c = costAt(terms, x, y, ml.loss, ml.k) / temperature;
      cells.push([x, y, c]);
      best = Math.min(best, c);
    }
  }
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y, c] of cells) {
    const w = Math.exp(-(c - best));
    sw += w;
    sx += w * x;
    sy += w * y;
  }
  return { x: sx / sw, y: sy / sw };
}

describe('multilateration: posterior mean over the site', () => {
  it('matches a brute-force integral of the likelihood over the site, near walls and in the middle', () => {
    const rng = new Rng(7);
    for (const p of [
      { x: 0.3, y: 0.3 },
      { x: 5.8, y: 2 },
      { x: 3, y: 2 },
      { x: 4.1, y: 3.7 },
    ]) {
      const terms = rssiTerms(p, rng);
      const r = solveMultilateration(terms, bounds, pm)!;
      const g = gridMean(terms, 1);
      // The solver flattens by the misfit (≥ 1); compare at the same temperature.
      const laplace = solveMultilateration(terms, bounds, ml)!;
      const direct = posteriorMoments(terms, bounds, laplace, ml, 1)!;
      // 160–320 quasi-random points against a 2 cm grid: a few centimetres, against errors of metres.
      expect(Math.hypot(direct.x - g.x, direct.y - g.y)).toBeLessThan(0.04);
      expect(r.x).toBeGreaterThanOrEqual(0);
      expect(r.x).toBeLessThanOrEqual(6);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.y).toBeLessThanOrEqual(4);
    }
  });

  it('changes nothing that matters where the readings pin the position far from the walls', () => {
    const ftm = new Map<string, AnchorRanging>(
      [...anchors.keys()].map((id) => [
        id,
        { anchorId: id, rssi: null, rtt: { offsetM: 0, scale: 1, sigmaM: 0.05, informative: true, n: 100 } },
      ]),
    );
    const p = { x: 2.5, y: 1.8 };
    const obs = [...anchors].map(([anchorId, a]) => ({ anchorId, range: Math.hypot(p.x - a.x, p.y - a.y) }));
    const terms = buildTerms(obs, anchors, ftm, ml);
    const a = solveMultilateration(terms, bounds, ml)!;
    const b = solveMultilateration(terms, bounds, pm)!;
    expect(Math.hypot(a.x - b.x, a.y - b.y)).toBeLessThan(0.005);
    expect(b.cov[0] / a.cov[0]).toBeGreaterThan(0.8);
    expect(b.cov[0] / a.cov[0]).toBeLessThan(1.25);
  });

  it('has a lower mean squared error than the cost minimum for devices anywhere on the site', () => {
    const rng = new Rng(11);
    let seMl = 0;
    let sePm = 0;
    for (let i = 0; i < 300; i++) {
      const p = { x: 6 * rng.next(), y: 4 * rng.next() };
      const terms = rssiTerms(p, rng);
      const a = solveMultilateration(terms, bounds, ml)!;
      const b = solveMultilateration(terms, bounds, pm)!;
      seMl += (a.x - p.x) ** 2 + (a.y - p.y) ** 2;
      sePm += (b.x - p.x) ** 2 + (b.y - p.y) ** 2;
    }
    // About 10 % lower here (devices spread evenly; 25 % on the ESPresense walks, which start and end in corners).
    expect(sePm).toBeLessThan(0.95 * seMl);
  });

  it('flattens the likelihood by the temperature: a wider posterior, and still the brute-force mean', () => {
    const terms = rssiTerms({ x: 2, y: 1 }, new Rng(3));
    const laplace = solveMultilateration(terms, bounds, ml)!;
    const cold = posteriorMoments(terms, bounds, laplace, ml, 1)!;
    const warm = posteriorMoments(terms, bounds, laplace, ml, 3)!;
    expect(warm.cov[0] + warm.cov[2]).toBeGreaterThan(1.5 * (cold.cov[0] + cold.cov[2]));
    const g = gridMean(terms, 3);
    expect(Math.hypot(warm.x - g.x, warm.y - g.y)).toBeLessThan(0.05);
  });
});
