import { levenbergMarquardt as mlLevenbergMarquardt } from 'ml-levenberg-marquardt';
import {
  type Bounds,
  covarianceAt,
  type MultilaterationParams,
  type SolveResult,
} from './multilateration.js';
import { startPoints } from './multilateration-start-grid.js';
import { countAnchors, type Term } from './multilateration-terms.js';
import { MIN_DISTANCE_M } from './ranging.js';
import { robustRho, robustWeight } from './robust.js';

// The same robust fix solved with the well-kept general library (ml-levenberg-marquardt, on ml-matrix): the
// baseline our own 2×2 solver is compared with in bench/positioning/solver-speed.ts. The library minimises
// Σ w²(y − f)², so the robust loss is applied by an outer IRLS loop that re-sets the weights; same starts, same
// bounds.

const LN10 = Math.LN10;

function predicted(t: Term, x: number, y: number): number {
  const d = Math.max(Math.sqrt((x - t.ax) ** 2 + (y - t.ay) ** 2 + t.dz2), MIN_DISTANCE_M);
  return t.kind === 0 ? d / t.sigma : (t.p0 - t.n10 * Math.log10(d)) / t.sigma;
}

function gradient(t: Term, x: number, y: number): number[] {
  const dx = x - t.ax;
  const dy = y - t.ay;
  const d = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
  if (t.kind === 0) return [dx / (d * t.sigma), dy / (d * t.sigma)];
  const f = -t.n10 / (LN10 * d * d * t.sigma);
  return [f * dx, f * dy];
}

export function solveMultilaterationWithLibrary(
  terms: readonly Term[],
  bounds: Bounds,
  params: MultilaterationParams,
  irlsRounds = 4,
): SolveResult | null {
  if (terms.length === 0) return null;
  const box: Bounds = {
    minX: bounds.minX - params.marginM,
    minY: bounds.minY - params.marginM,
    maxX: bounds.maxX + params.marginM,
    maxY: bounds.maxY + params.marginM,
  };
  const index = terms.map((_, i) => i);
  const ys = terms.map((t) => t.value / t.sigma);
  const model =
    ([x, y]: number[]) =>
    (i: number) =>
      predicted(terms[i]!, x!, y!);
  const jacobian =
    ([x, y]: number[]) =>
    (i: number) =>
      gradient(terms[i]!, x!, y!);
  let best: { x: number; y: number; cost: number } | null = null;
  let iterations = 0;
  for (const s of startPoints(terms, box, params)) {
    let p = [s.x, s.y];
    const weights = new Array<number>(terms.length).fill(1);
    for (let round = 0; round < irlsRounds; round++) {
      const r = mlLevenbergMarquardt({ x: index, y: ys }, model, {
        initialValues: p,
        weights,
        jacobianFunction: jacobian,
        minValues: [box.minX, box.minY],
        maxValues: [box.maxX, box.maxY],
        maxIterations: params.maxIterations,
        errorTolerance: 1e-8,
      });
      iterations += r.iterations;
      p = r.parameterValues;
      for (let i = 0; i < terms.length; i++) {
        const res = ys[i]! - predicted(terms[i]!, p[0]!, p[1]!);
        weights[i] = Math.sqrt(robustWeight(params.loss, res, params.k));
      }
    }
    let cost = 0;
    for (let i = 0; i < terms.length; i++) {
      const res = ys[i]! - predicted(terms[i]!, p[0]!, p[1]!);
      cost += robustRho(params.loss, res, params.k);
    }
    if (!best || cost < best.cost) best = { x: p[0]!, y: p[1]!, cost };
  }
  if (!best) return null;
  return {
    ...best,
    iterations,
    cov: covarianceAt(terms, best.x, best.y, box, params),
    anchors: countAnchors(terms),
  };
}
