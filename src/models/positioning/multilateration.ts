import type { BiasGrid } from './bias-map.js';
import type { Observation } from './observation.js';
import { type AnchorRanging, correctRange, MIN_DISTANCE_M } from './ranging.js';
import { defaultRobustK, type RobustLoss, robustRho, robustWeight } from './robust.js';

// Weighted non-linear least squares for one 2-D position from per-anchor ranges and RSSI, solved with our own
// Levenberg–Marquardt on a robust (Huber/Cauchy) cost by iteratively reweighted least squares. 2 unknowns make
// every linear solve a closed-form 2×2, which is what makes it fast (bench/positioning.ts compares it with
// ml-levenberg-marquardt in the same run). Guards against divergence: the search is bounded to the site (plus a
// margin), damped, and started from the best points of a coarse grid and the weighted centroid.

export interface AnchorPosition {
  x: number;
  y: number;
  /** Mounting height, metres; absent = device height (2-D ranging). */
  z?: number | undefined;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface MultilaterationParams {
  loss: RobustLoss;
  /** Robust tuning constant in σ units (Huber k / Cauchy c). */
  k: number;
  /** Device height above the floor (m), used with anchors that have a z. */
  deviceHeight: number;
  useRssi: boolean;
  useRtt: boolean;
  /** The search box is the site bounds enlarged by this many metres. */
  marginM: number;
  /** Inflate the covariance by the reduced χ² when the residuals are larger than their σ's say. */
  inflateByMisfit: boolean;
  maxIterations: number;
  /**
   * Report the Laplace-approximated posterior over the distinct local minima found (mean and covariance of the
   * mixture) instead of the single best one: ambiguous geometry then shows in the covariance rather than as a
   * confident wrong answer. Chosen by cross-validation.
   */
  mixModes: boolean;
  /** Bandwidth of the bias map, m; 0 = no bias map (set by training when cross-validation prefers one). */
  biasBandwidthM: number;
  /** With a bias map: also weight each anchor by its local σ (where its bias is unpredictable, it counts less). */
  localSigma?: boolean;
  /** Grid points evaluated for start values (spread over the search box). */
  gridPoints: number;
  /** LM runs from the best grid points (plus the weighted centroid). */
  starts: number;
}

export const DEFAULT_MULTILATERATION: MultilaterationParams = {
  loss: 'huber',
  k: defaultRobustK('huber'),
  deviceHeight: 1,
  useRssi: true,
  useRtt: true,
  marginM: 1,
  inflateByMisfit: true,
  mixModes: false,
  biasBandwidthM: 0,
  maxIterations: 40,
  gridPoints: 64,
  starts: 3,
};

/** One residual term, already normalised by its σ. */
export interface Term {
  ax: number;
  ay: number;
  /** Squared vertical offset anchor–device, m². */
  dz2: number;
  /**
   * 0: corrected range (value in m); 1: RSSI (value in dBm); 2: a linear pseudo-measurement of the position
   * (a whitened Gaussian prior: r = value − (ax·x + ay·y)), see `priorTerms`.
   */
  kind: 0 | 1 | 2;
  value: number;
  sigma: number;
  p0: number;
  /** 10·n. */
  n10: number;
  anchor: string;
  /** Location-dependent bias of this anchor and channel (same units as value), when the model has a bias map. */
  bias?: BiasGrid;
  /** log(σ_local/σ): the local noise of this anchor and channel, when the model's bias map has one. */
  logScale?: BiasGrid;
}

export function buildTerms(
  observations: readonly Observation[],
  anchors: ReadonlyMap<string, AnchorPosition>,
  ranging: ReadonlyMap<string, AnchorRanging>,
  params: Pick<MultilaterationParams, 'useRssi' | 'useRtt' | 'deviceHeight'>,
  bias?: ReadonlyMap<string, BiasGrid>,
): Term[] {
  const terms: Term[] = [];
  for (const o of observations) {
    const a = anchors.get(o.anchorId);
    const r = ranging.get(o.anchorId);
    if (!a || !r) continue;
    const dz2 = a.z === undefined ? 0 : (a.z - params.deviceHeight) ** 2;
    if (params.useRtt && o.range !== undefined && r.rtt?.informative) {
      const b = bias?.get(`${o.anchorId}|range`);
      const ls = bias?.get(`${o.anchorId}|range|ls`);
      terms.push({
        ...(b ? { bias: b } : {}),
        ...(ls ? { logScale: ls } : {}),
        ax: a.x,
        ay: a.y,
        dz2,
        kind: 0,
        value: correctRange(r.rtt, o.range),
        sigma: r.rtt.sigmaM,
        p0: 0,
        n10: 0,
        anchor: o.anchorId,
      });
    }
    if (params.useRssi && o.rssi !== undefined && r.rssi) {
      const b = bias?.get(`${o.anchorId}|rssi`);
      const ls = bias?.get(`${o.anchorId}|rssi|ls`);
      terms.push({
        ...(b ? { bias: b } : {}),
        ...(ls ? { logScale: ls } : {}),
        ax: a.x,
        ay: a.y,
        dz2,
        kind: 1,
        value: o.rssi,
        sigma: r.rssi.sigmaDb,
        p0: r.rssi.p0,
        n10: 10 * r.rssi.exponent,
        anchor: o.anchorId,
      });
    }
  }
  return terms;
}

export function countAnchors(terms: readonly Term[]): number {
  return new Set(terms.filter((t) => t.kind !== 2).map((t) => t.anchor)).size;
}

/**
 * A Gaussian prior on the position N(mean, cov) as two whitened linear residuals (L⁻¹(θ − mean) with cov = LLᵀ),
 * so the solver treats it like any measurement — under the same robust loss, so strong evidence can overrule it.
 */
export function priorTerms(mean: { x: number; y: number }, cov: readonly [number, number, number]): Term[] {
  const l11 = Math.sqrt(Math.max(cov[0], 1e-9));
  const l21 = cov[1] / l11;
  const l22 = Math.sqrt(Math.max(cov[2] - l21 * l21, 1e-9));
  const a2 = -l21 / (l11 * l22);
  const b2 = 1 / l22;
  const base = { dz2: 0, kind: 2 as const, sigma: 1, p0: 0, n10: 0, anchor: 'prior' };
  return [
    { ...base, ax: 1 / l11, ay: 0, value: mean.x / l11 },
    { ...base, ax: a2, ay: b2, value: a2 * mean.x + b2 * mean.y },
  ];
}

const LN10 = Math.LN10;
const NO_BIAS: [number, number, number] = [0, 0, 0];

interface Eval {
  cost: number;
  h11: number;
  h12: number;
  h22: number;
  g1: number;
  g2: number;
  /** Σ w·r², for the misfit inflation. */
  wr2: number;
  sw: number;
}

// Scratch for residual(): [r, ∂r/∂x, ∂r/∂y, log(σ_local/σ), ∂/∂x, ∂/∂y] (no allocation in the hot loop).
const RES = new Float64Array(6);

/**
 * Residual r = (measured − predicted)/σ and its gradient in (x, y) into RES. With a local σ map, σ varies with the
 * position: RES[3..5] hold log(σ_local/σ) and its gradient, which the cost adds (the Gaussian normaliser) so the
 * solver cannot lower the cost by moving where σ is large.
 */
function residual(t: Term, x: number, y: number): Float64Array {
  if (t.kind === 2) {
    RES[0] = t.value - (t.ax * x + t.ay * y);
    RES[1] = -t.ax;
    RES[2] = -t.ay;
    RES[3] = 0;
    RES[4] = 0;
    RES[5] = 0;
    return RES;
  }
  const dx = x - t.ax;
  const dy = y - t.ay;
  const d = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
  const [b, bx, by] = t.bias ? t.bias.at(x, y) : NO_BIAS;
  const [ls, lsx, lsy] = t.logScale ? t.logScale.at(x, y) : NO_BIAS;
  const sigma = t.sigma * Math.exp(ls);
  let r: number;
  let px: number;
  let py: number;
  if (t.kind === 0) {
    r = (t.value - d - b) / sigma;
    px = dx / d + bx;
    py = dy / d + by;
  } else {
    const f = t.n10 / (LN10 * d * d);
    r = (t.value - t.p0 + t.n10 * Math.log10(d) - b) / sigma;
    px = -f * dx + bx;
    py = -f * dy + by;
  }
  RES[0] = r;
  RES[1] = -px / sigma - r * lsx;
  RES[2] = -py / sigma - r * lsy;
  RES[3] = ls;
  RES[4] = lsx;
  RES[5] = lsy;
  return RES;
}

export function costAt(terms: readonly Term[], x: number, y: number, loss: RobustLoss, k: number): number {
  let c = 0;
  for (const t of terms) {
    const q = residual(t, x, y);
    c += robustRho(loss, q[0]!, k) + q[3]!;
  }
  return c;
}

function evaluate(terms: readonly Term[], x: number, y: number, loss: RobustLoss, k: number): Eval {
  const e: Eval = { cost: 0, h11: 0, h12: 0, h22: 0, g1: 0, g2: 0, wr2: 0, sw: 0 };
  for (const t of terms) {
    const q = residual(t, x, y);
    const r = q[0]!;
    const jx = q[1]!;
    const jy = q[2]!;
    const w = robustWeight(loss, r, k);
    e.cost += robustRho(loss, r, k) + q[3]!;
    e.h11 += w * jx * jx;
    e.h12 += w * jx * jy;
    e.h22 += w * jy * jy;
    e.g1 += w * r * jx + q[4]!;
    e.g2 += w * r * jy + q[5]!;
    e.wr2 += w * r * r;
    e.sw += w;
  }
  return e;
}

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

/** Damped Gauss–Newton (LM) from one start; returns the final point and cost. */
export function levenbergMarquardt(
  terms: readonly Term[],
  start: { x: number; y: number },
  box: Bounds,
  params: Pick<MultilaterationParams, 'loss' | 'k' | 'maxIterations'>,
): { x: number; y: number; cost: number; iterations: number } {
  let x = clamp(start.x, box.minX, box.maxX);
  let y = clamp(start.y, box.minY, box.maxY);
  let e = evaluate(terms, x, y, params.loss, params.k);
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
    const ne = evaluate(terms, nx, ny, params.loss, params.k);
    if (ne.cost <= e.cost) {
      const moved = Math.hypot(nx - x, ny - y);
      x = nx;
      y = ny;
      const improvement = e.cost - ne.cost;
      e = ne;
      lambda = Math.max(lambda / 3, 1e-9);
      if (moved < 1e-4 || improvement < 1e-10 * (1 + e.cost)) break;
    } else {
      lambda *= 4;
      if (lambda > 1e10) break;
    }
  }
  return { x, y, cost: e.cost, iterations: it };
}

/** Start points: the best cells of a coarse grid over the box, and the signal-weighted anchor centroid. */
export function startPoints(
  terms: readonly Term[],
  box: Bounds,
  params: MultilaterationParams,
): Array<{ x: number; y: number }> {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const nx = Math.max(2, Math.round(Math.sqrt((params.gridPoints * w) / h)));
  const ny = Math.max(2, Math.round(params.gridPoints / nx));
  const scored: Array<{ x: number; y: number; c: number }> = [];
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const x = box.minX + ((i + 0.5) * w) / nx;
      const y = box.minY + ((j + 0.5) * h) / ny;
      scored.push({ x, y, c: costAt(terms, x, y, params.loss, params.k) });
    }
  }
  scored.sort((a, b) => a.c - b.c);
  // The best cells, kept apart (non-maximum suppression): distinct basins, not three cells of the same one.
  const minSep = 1.5 * Math.hypot(w / nx, h / ny);
  const starts: Array<{ x: number; y: number }> = [];
  for (const c of scored) {
    if (starts.length >= Math.max(1, params.starts)) break;
    if (starts.every((p) => Math.hypot(p.x - c.x, p.y - c.y) > minSep)) starts.push(c);
  }
  // Centroid weighted by closeness (short corrected ranges, strong RSSI).
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (const t of terms) {
    if (t.kind === 2) continue;
    const d = t.kind === 0 ? Math.max(t.value, 0.5) : 10 ** ((t.p0 - t.value) / Math.max(t.n10, 1));
    const wt = 1 / (Math.max(d, 0.5) ** 2 * t.sigma);
    sx += wt * t.ax;
    sy += wt * t.ay;
    sw += wt;
  }
  if (sw > 0) starts.push({ x: sx / sw, y: sy / sw });
  return starts;
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
  const box: Bounds = {
    minX: bounds.minX - params.marginM,
    minY: bounds.minY - params.marginM,
    maxX: bounds.maxX + params.marginM,
    maxY: bounds.maxY + params.marginM,
  };
  const modes: Array<{ x: number; y: number; cost: number }> = [];
  let iterations = 0;
  for (const s of [...startPoints(terms, box, params), ...extraStarts]) {
    const r = levenbergMarquardt(terms, s, box, params);
    iterations += r.iterations;
    if (modes.every((m) => Math.hypot(m.x - r.x, m.y - r.y) > 0.05)) modes.push(r);
  }
  if (modes.length === 0) return null;
  modes.sort((a, b) => a.cost - b.cost);
  const best = modes[0]!;
  const anchors = countAnchors(terms);
  if (!params.mixModes || modes.length === 1) {
    return {
      x: best.x,
      y: best.y,
      cost: best.cost,
      iterations,
      cov: covarianceAt(terms, best.x, best.y, box, params),
      anchors,
    };
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
  return { x: mx, y: my, cost: best.cost, iterations, cov, anchors };
}

/** Inverse of the robust information matrix at (x, y), with a weak uniform-over-the-box prior. */
export function covarianceAt(
  terms: readonly Term[],
  x: number,
  y: number,
  box: Bounds,
  params: Pick<MultilaterationParams, 'loss' | 'k' | 'inflateByMisfit'>,
): [number, number, number] {
  const e = evaluate(terms, x, y, params.loss, params.k);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const h11 = e.h11 + 12 / (w * w);
  const h22 = e.h22 + 12 / (h * h);
  const det = h11 * h22 - e.h12 * e.h12;
  let cov: [number, number, number] = [h22 / det, -e.h12 / det, h11 / det];
  if (params.inflateByMisfit && terms.length > 2) {
    const redChi2 = e.wr2 / Math.max(e.sw - 2, 1);
    if (redChi2 > 1) cov = [cov[0] * redChi2, cov[1] * redChi2, cov[2] * redChi2];
  }
  return cov;
}
