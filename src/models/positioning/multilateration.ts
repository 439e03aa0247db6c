import { type Eval, evaluateInto } from './multilateration-cost.js';
import type { Bounds, MultilaterationParams } from './multilateration-params.js';
import { posteriorMoments } from './multilateration-posterior.js';
import { searchBox, startPoints } from './multilateration-start-grid.js';
import { countAnchors, type Term } from './multilateration-terms.js';

// Weighted non-linear least squares for one 2-D position from per-anchor ranges and RSSI, solved with our own
// Levenberg–Marquardt on a robust (Huber/Cauchy) cost by iteratively reweighted least squares. 2 unknowns make
// every linear solve a closed-form 2×2, which is what makes it fast (bench/positioning/solver-speed.ts compares it
// with ml-levenberg-marquardt in the same run). Guards against divergence: the search is bounded to the site (plus a
// margin), damped, and started from the best points of a coarse grid and the weighted centroid.

// Its parts: the terms (multilateration-terms.ts, and a model's precomputed ones in multilateration-templates.ts),
// their cost (multilateration-cost.ts) and the start points (multilateration-start-grid.ts); here, the solver.

export {
  type AnchorPosition,
  type Bounds,
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
} from './multilateration-params.js';

export interface SolveResult {
  x: number;
  y: number;
  cov: [number, number, number];
  cost: number;
  iterations: number;
  anchors: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

const LM_E = newEval();
const COV_E = newEval();
const LM_NE = newEval();

function newEval(): Eval {
  // Non-integer start values: the fields are doubles from the start (stores never change their representation).
  return { cost: 0.5, h11: 0.5, h12: 0.5, h22: 0.5, g1: 0.5, g2: 0.5, wr2: 0.5, sw: 0.5 };
}

/** Two modes closer than this (m) are one: the later run is dropped. */
const SAME_MODE_M = 0.05;

/**
 * A run that comes this close (m) to a mode already found is taken to be in its basin and stopped as a duplicate.
 * Runs from the other start points mostly end in the basin of the first (3.8 of 4.9 per fix on the replay bench's
 * capture) and used to iterate until within SAME_MODE_M of it: at 0.5 m a fix takes ~27 evaluations instead of ~37,
 * and the replay bench's tracked error (mean 0.694 m, p99 2.37 m) and 95 % coverage did not change (fixes moved by
 * < 4 cm at p99). Two distinct modes closer than this are now reported as one.
 */
const DUPLICATE_M = 0.5;

function nearMode(modes: ReadonlyArray<{ x: number; y: number }>, px: number, py: number): boolean {
  for (let i = 0; i < modes.length; i++) {
    const m = modes[i]!;
    if ((m.x - px) * (m.x - px) + (m.y - py) * (m.y - py) <= DUPLICATE_M * DUPLICATE_M) return true;
  }
  return false;
}

/**
 * Damped Gauss–Newton (LM) from one start; returns the final point and cost. With `knownModes`, a run that comes
 * within DUPLICATE_M of one of them stops there and is marked `duplicate`: it is in a basin already solved (the
 * caller would drop its answer as the same mode), so its remaining iterations are saved.
 */
export function levenbergMarquardt(
  terms: readonly Term[],
  start: { x: number; y: number },
  box: Bounds,
  params: Pick<MultilaterationParams, 'loss' | 'k' | 'maxIterations'>,
  knownModes: ReadonlyArray<{ x: number; y: number }> = [],
): { x: number; y: number; cost: number; iterations: number; duplicate: boolean } {
  let x = clamp(start.x, box.minX, box.maxX);
  let y = clamp(start.y, box.minY, box.maxY);
  const { loss, k } = params;
  // The two records are module scratch (the solver is not re-entrant): no allocation per run.
  let e = LM_E;
  let ne = LM_NE;
  if (nearMode(knownModes, x, y)) return { x, y, cost: Number.NaN, iterations: 0, duplicate: true };
  evaluateInto(terms, x, y, loss, k, e);
  let lambda = 1e-3;
  let it = 0;
  for (; it < params.maxIterations; it++) {
    const a11 = e.h11 * (1 + lambda) + 1e-9;
    const a22 = e.h22 * (1 + lambda) + 1e-9;
    const a12 = e.h12;
    const det = a11 * a22 - a12 * a12;
    if (!(det > 0)) break;
    // δ = −A⁻¹ g (g = Jᵀ W r with J = ∂r/∂θ).
    const dx = -(a22 * e.g1 - a12 * e.g2) / det;
    const dy = -(a11 * e.g2 - a12 * e.g1) / det;
    const nx = clamp(x + dx, box.minX, box.maxX);
    const ny = clamp(y + dy, box.minY, box.maxY);
    evaluateInto(terms, nx, ny, loss, k, ne);
    if (ne.cost <= e.cost) {
      // Converged when a step moves less than 1 mm ((1e-3)² against the squared step; 0.1 mm took ~3 more
      // evaluations per fix for answers within 2 cm at p99).
      const moved2 = (nx - x) * (nx - x) + (ny - y) * (ny - y);
      x = nx;
      y = ny;
      const improvement = e.cost - ne.cost;
      const spare = e;
      e = ne;
      ne = spare;
      lambda = Math.max(lambda / 3, 1e-9);
      if (nearMode(knownModes, x, y)) return { x, y, cost: e.cost, iterations: it + 1, duplicate: true };
      if (moved2 < 1e-6 || improvement < 1e-10 * (1 + e.cost)) break;
    } else {
      lambda *= 4;
      if (lambda > 1e10) break;
    }
  }
  return { x, y, cost: e.cost, iterations: it, duplicate: false };
}

/**
 * Solves one fix. `priorPrecision` (1/m², per axis) is added to the information matrix for the covariance only:
 * it keeps the covariance finite when fewer anchors than unknowns were heard (then the box bounds the answer).
 * Returns null with no usable term.
 */
export function solveMultilateration(
  terms: readonly Term[],
  bounds: Bounds,
  params: MultilaterationParams,
  extraStarts: ReadonlyArray<{ x: number; y: number }> = [],
): SolveResult | null {
  if (terms.length === 0) return null;
  const box = searchBox(bounds, params.marginM);
  const modes: Array<{ x: number; y: number; cost: number }> = [];
  let iterations = 0;
  for (const s of [...startPoints(terms, box, params), ...extraStarts]) {
    const r = levenbergMarquardt(terms, s, box, params, modes);
    iterations += r.iterations;
    if (r.duplicate) continue;
    if (modes.every((m) => Math.hypot(m.x - r.x, m.y - r.y) > SAME_MODE_M)) modes.push(r);
  }
  if (modes.length === 0) return null;
  modes.sort((a, b) => a.cost - b.cost);
  const best = modes[0]!;
  const anchors = countAnchors(terms);
  if (!params.mixModes || modes.length === 1) {
    return posterior(
      {
        x: best.x,
        y: best.y,
        cost: best.cost,
        iterations,
        cov: covarianceAt(terms, best.x, best.y, box, params),
        anchors,
      },
      terms,
      bounds,
      params,
    );
  }
  // Laplace: evidence of a mode ∝ exp(−cost)·√det(Σ); moments of the mixture.
  const comps = modes.map((m) => {
    const cov = covarianceAt(terms, m.x, m.y, box, params);
    const det = Math.max(cov[0] * cov[2] - cov[1] * cov[1], 1e-300);
    return { ...m, cov, logw: -(m.cost - best.cost) + 0.5 * Math.log(det) };
  });
  const maxLog = Math.max(...comps.map((c) => c.logw));
  let sw = 0;
  for (const c of comps) sw += Math.exp(c.logw - maxLog);
  let mx = 0;
  let my = 0;
  for (const c of comps) {
    const w = Math.exp(c.logw - maxLog) / sw;
    mx += w * c.x;
    my += w * c.y;
  }
  const cov: [number, number, number] = [0, 0, 0];
  for (const c of comps) {
    const w = Math.exp(c.logw - maxLog) / sw;
    cov[0] += w * (c.cov[0] + (c.x - mx) ** 2);
    cov[1] += w * (c.cov[1] + (c.x - mx) * (c.y - my));
    cov[2] += w * (c.cov[2] + (c.y - my) ** 2);
  }
  return posterior({ x: mx, y: my, cost: best.cost, iterations, cov, anchors }, terms, bounds, params);
}

/**
 * With `posteriorMean`, the answer becomes the mean and covariance of the likelihood over the site (a uniform prior
 * on the bounds, multilateration-posterior.ts), sampled around the Laplace answer; the misfit that inflates the
 * Laplace covariance flattens the likelihood by the same factor. Otherwise, and when sampling fails, the Laplace
 * answer stands.
 */
function posterior(
  laplace: SolveResult,
  terms: readonly Term[],
  bounds: Bounds,
  params: MultilaterationParams,
): SolveResult {
  if (!params.posteriorMean) return laplace;
  const temperature = params.inflateByMisfit ? misfitAt(terms, laplace.x, laplace.y, params) : 1;
  const m = posteriorMoments(terms, bounds, laplace, params, temperature);
  return m ? { ...laplace, x: m.x, y: m.y, cov: m.cov } : laplace;
}

/**
 * The misfit factor of an evaluation: the reduced χ² of the robust fit, at least 1 (1 with two terms or fewer:
 * nothing to judge the fit by). What the Laplace covariance is inflated by, and the posterior's temperature.
 */
function misfitFactor(e: Eval, termCount: number): number {
  if (termCount <= 2) return 1;
  return Math.max(e.wr2 / Math.max(e.sw - 2, 1), 1);
}

function misfitAt(
  terms: readonly Term[],
  x: number,
  y: number,
  params: Pick<MultilaterationParams, 'loss' | 'k'>,
): number {
  if (terms.length <= 2) return 1;
  const e = COV_E;
  evaluateInto(terms, x, y, params.loss, params.k, e);
  return misfitFactor(e, terms.length);
}

/** Inverse of the robust information matrix at (x, y), with a weak uniform-over-the-box prior. */
export function covarianceAt(
  terms: readonly Term[],
  x: number,
  y: number,
  box: Bounds,
  params: Pick<MultilaterationParams, 'loss' | 'k' | 'inflateByMisfit'>,
): [number, number, number] {
  const e = COV_E;
  evaluateInto(terms, x, y, params.loss, params.k, e);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const h11 = e.h11 + 12 / (w * w);
  const h22 = e.h22 + 12 / (h * h);
  const det = h11 * h22 - e.h12 * e.h12;
  let cov: [number, number, number] = [h22 / det, -e.h12 / det, h11 / det];
  if (params.inflateByMisfit) {
    const f = misfitFactor(e, terms.length);
    if (f > 1) cov = [cov[0] * f, cov[1] * f, cov[2] * f];
  }
  return cov;
}
