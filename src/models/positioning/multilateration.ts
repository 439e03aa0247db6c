import { type BiasGrid, GridCell } from './bias-map.js';
import type { Observation } from './observation.js';
import { type AnchorRanging, correctRange, MIN_DISTANCE_M } from './ranging.js';
import { defaultRobustK, type RobustLoss } from './robust.js';

// Weighted non-linear least squares for one 2-D position from per-anchor ranges and RSSI, solved with our own
// Levenberg–Marquardt on a robust (Huber/Cauchy) cost by iteratively reweighted least squares. 2 unknowns make
// every linear solve a closed-form 2×2, which is what makes it fast (bench/positioning/solver-speed.ts compares it
// with ml-levenberg-marquardt in the same run). Guards against divergence: the search is bounded to the site (plus a
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
  bias?: BiasGrid | undefined;
  /** log(σ_local/σ): the local noise of this anchor and channel, when the model's bias map has one. */
  logScale?: BiasGrid | undefined;
  /** Everything but the measured value, precomputed at the start grid's points (see `termTemplates`). */
  table?: TermTable | undefined;
}

/**
 * A term's measurement-independent parts at every point of the start grid of one box: predicted value (corrected
 * range d, or 10n·log10 d for RSSI), bias, local σ and log(σ_local/σ). With it the grid's cost is a few
 * operations per point and term, with exactly the arithmetic of the direct evaluation (same results).
 */
export interface TermTable {
  box: Bounds;
  nx: number;
  ny: number;
  pred: Float64Array;
  bias: Float64Array;
  sigma: Float64Array;
  logScale: Float64Array;
}

/**
 * Every term is built here, with its fields in one order: the solver's hot loops then see a single object shape
 * (spreads and literals with other field orders made them polymorphic and slower). Same values as before.
 */
export function makeTerm(t: Omit<Term, 'value'>, value: number): Term {
  return {
    ax: t.ax,
    ay: t.ay,
    dz2: t.dz2,
    kind: t.kind,
    value,
    sigma: t.sigma,
    p0: t.p0,
    n10: t.n10,
    anchor: t.anchor,
    bias: t.bias,
    logScale: t.logScale,
    table: t.table,
  };
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
      terms.push(
        makeTerm(
          {
            bias: bias?.get(`${o.anchorId}|range`),
            logScale: bias?.get(`${o.anchorId}|range|ls`),
            table: undefined,
            ax: a.x,
            ay: a.y,
            dz2,
            kind: 0,
            sigma: r.rtt.sigmaM,
            p0: 0,
            n10: 0,
            anchor: o.anchorId,
          },
          correctRange(r.rtt, o.range),
        ),
      );
    }
    if (params.useRssi && o.rssi !== undefined && r.rssi) {
      terms.push(
        makeTerm(
          {
            bias: bias?.get(`${o.anchorId}|rssi`),
            logScale: bias?.get(`${o.anchorId}|rssi|ls`),
            table: undefined,
            ax: a.x,
            ay: a.y,
            dz2,
            kind: 1,
            sigma: r.rssi.sigmaDb,
            p0: r.rssi.p0,
            n10: 10 * r.rssi.exponent,
            anchor: o.anchorId,
          },
          o.rssi,
        ),
      );
    }
  }
  return terms;
}

export function countAnchors(terms: readonly Term[]): number {
  let n = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    if (t.kind === 2) continue;
    let seen = false;
    for (let j = 0; j < i; j++) {
      if (terms[j]!.kind !== 2 && terms[j]!.anchor === t.anchor) {
        seen = true;
        break;
      }
    }
    if (!seen) n++;
  }
  return n;
}

/** Per anchor, its terms without the measured value (and their start-grid tables): built once per model. */
export interface AnchorTermTemplates {
  range: Omit<Term, 'value'> | null;
  /** Range correction: value = (range − offsetM)/scale, as `correctRange`. */
  offsetM: number;
  scale: number;
  rssi: Omit<Term, 'value'> | null;
}

/**
 * What `buildTerms` would build for every anchor, minus the measurement, with the start-grid tables of the box
 * `bounds ± params.marginM` precomputed. `termsFromTemplates` then builds a fix's terms without lookups by name.
 */
export function termTemplates(
  anchors: ReadonlyMap<string, AnchorPosition>,
  ranging: ReadonlyMap<string, AnchorRanging>,
  params: MultilaterationParams,
  bounds: Bounds,
  bias?: ReadonlyMap<string, BiasGrid>,
): Map<string, AnchorTermTemplates> {
  const box = searchBox(bounds, params.marginM);
  const out = new Map<string, AnchorTermTemplates>();
  for (const [id, a] of anchors) {
    const r = ranging.get(id);
    if (!r) continue;
    const dz2 = a.z === undefined ? 0 : (a.z - params.deviceHeight) ** 2;
    const common = { ax: a.x, ay: a.y, dz2, anchor: id };
    let range: Omit<Term, 'value'> | null = null;
    if (params.useRtt && r.rtt?.informative) {
      range = {
        ...common,
        bias: bias?.get(`${id}|range`),
        logScale: bias?.get(`${id}|range|ls`),
        table: undefined,
        kind: 0,
        sigma: r.rtt.sigmaM,
        p0: 0,
        n10: 0,
      };
      range.table = termTable(range, box, params.gridPoints);
    }
    let rssi: Omit<Term, 'value'> | null = null;
    if (params.useRssi && r.rssi) {
      rssi = {
        ...common,
        bias: bias?.get(`${id}|rssi`),
        logScale: bias?.get(`${id}|rssi|ls`),
        table: undefined,
        kind: 1,
        sigma: r.rssi.sigmaDb,
        p0: r.rssi.p0,
        n10: 10 * r.rssi.exponent,
      };
      rssi.table = termTable(rssi, box, params.gridPoints);
    }
    if (range || rssi) {
      out.set(id, { range, rssi, offsetM: r.rtt?.offsetM ?? 0, scale: r.rtt?.scale ?? 1 });
    }
  }
  return out;
}

/** The same terms as `buildTerms` (same order, same values), from templates. */
export function termsFromTemplates(
  observations: readonly Observation[],
  templates: ReadonlyMap<string, AnchorTermTemplates>,
): Term[] {
  const terms: Term[] = [];
  for (const o of observations) {
    const tp = templates.get(o.anchorId);
    if (!tp) continue;
    if (tp.range && o.range !== undefined) {
      terms.push(makeTerm(tp.range, (o.range - tp.offsetM) / tp.scale));
    }
    if (tp.rssi && o.rssi !== undefined) terms.push(makeTerm(tp.rssi, o.rssi));
  }
  return terms;
}

/**
 * Reusable terms of one model's templates, for a caller that is done with a fix's terms before it builds the next
 * fix's (the live path): `termsFromTemplates` without allocating the terms or the array.
 */
export class TermPool {
  private readonly terms = new Map<Omit<Term, 'value'>, Term>();
  private readonly out: Term[] = [];

  /** The same terms as `termsFromTemplates` (same order, same values); valid until the next call. */
  build(observations: readonly Observation[], templates: ReadonlyMap<string, AnchorTermTemplates>): Term[] {
    const out = this.out;
    out.length = 0;
    for (const o of observations) {
      const tp = templates.get(o.anchorId);
      if (!tp) continue;
      if (tp.range && o.range !== undefined) out.push(this.term(tp.range, (o.range - tp.offsetM) / tp.scale));
      if (tp.rssi && o.rssi !== undefined) out.push(this.term(tp.rssi, o.rssi));
    }
    return out;
  }

  private term(template: Omit<Term, 'value'>, value: number): Term {
    const t = this.terms.get(template);
    if (t === undefined) {
      const made = makeTerm(template, value);
      this.terms.set(template, made);
      return made;
    }
    // An anchor listed twice in one fix: its second term is a fresh one.
    if (this.out.includes(t)) return makeTerm(template, value);
    t.value = value;
    return t;
  }
}

/** The box the solver searches: the bounds enlarged by the margin. */
export function searchBox(bounds: Bounds, marginM: number): Bounds {
  return {
    minX: bounds.minX - marginM,
    minY: bounds.minY - marginM,
    maxX: bounds.maxX + marginM,
    maxY: bounds.maxY + marginM,
  };
}

// Start-grid coordinates per box and size (the same few boxes every fix).
const gridCache = new Map<string, { gx: Float64Array; gy: Float64Array }>();

/** Cell centres of the start grid, cell g = i·ny + j (column i, row j). */
function gridPoints(box: Bounds, nx: number, ny: number): { gx: Float64Array; gy: Float64Array } {
  // The last grid asked for, checked first: a model's fixes all use one box (no key string per fix).
  const last = lastGrid;
  if (
    last !== null &&
    last.minX === box.minX &&
    last.minY === box.minY &&
    last.maxX === box.maxX &&
    last.maxY === box.maxY &&
    last.nx === nx &&
    last.ny === ny
  ) {
    return last.grid;
  }
  const key = `${box.minX},${box.minY},${box.maxX},${box.maxY},${nx},${ny}`;
  let c = gridCache.get(key);
  if (!c) {
    const w = box.maxX - box.minX;
    const h = box.maxY - box.minY;
    c = { gx: new Float64Array(nx * ny), gy: new Float64Array(nx * ny) };
    for (let i = 0; i < nx; i++) {
      for (let j = 0; j < ny; j++) {
        c.gx[i * ny + j] = box.minX + ((i + 0.5) * w) / nx;
        c.gy[i * ny + j] = box.minY + ((j + 0.5) * h) / ny;
      }
    }
    if (gridCache.size > 64) gridCache.clear();
    gridCache.set(key, c);
  }
  lastGrid = { ...box, nx, ny, grid: c };
  return c;
}

let lastGrid: (Bounds & { nx: number; ny: number; grid: { gx: Float64Array; gy: Float64Array } }) | null =
  null;

/** Columns and rows of the start grid over a box. */
function gridDims(box: Bounds, gridPoints: number): { nx: number; ny: number } {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const nx = Math.max(2, Math.round(Math.sqrt((gridPoints * w) / h)));
  const ny = Math.max(2, Math.round(gridPoints / nx));
  return { nx, ny };
}

function termTable(t: Omit<Term, 'value'>, box: Bounds, gridPoints: number): TermTable {
  const { nx, ny } = gridDims(box, gridPoints);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const n = nx * ny;
  const table: TermTable = {
    box: { ...box },
    nx,
    ny,
    pred: new Float64Array(n),
    bias: new Float64Array(n),
    sigma: new Float64Array(n),
    logScale: new Float64Array(n),
  };
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const x = box.minX + ((i + 0.5) * w) / nx;
      const y = box.minY + ((j + 0.5) * h) / ny;
      const g = i * ny + j;
      const dx = x - t.ax;
      const dy = y - t.ay;
      const d = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
      let b = 0;
      let ls = 0;
      if (t.bias) {
        t.bias.atInto(x, y, SCRATCH_B);
        b = SCRATCH_B[0]!;
      }
      if (t.logScale) {
        t.logScale.atInto(x, y, SCRATCH_L);
        ls = SCRATCH_L[0]!;
      }
      table.pred[g] = t.kind === 0 ? d : t.n10 * Math.log10(d);
      table.bias[g] = b;
      table.sigma[g] = t.sigma * Math.exp(ls);
      table.logScale[g] = ls;
    }
  }
  return table;
}

function tableFits(table: TermTable | undefined, box: Bounds, nx: number, ny: number): table is TermTable {
  return (
    table !== undefined &&
    table.nx === nx &&
    table.ny === ny &&
    table.box.minX === box.minX &&
    table.box.minY === box.minY &&
    table.box.maxX === box.maxX &&
    table.box.maxY === box.maxY
  );
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
  return [priorTerm(1 / l11, 0, mean.x / l11), priorTerm(a2, b2, a2 * mean.x + b2 * mean.y)];
}

function priorTerm(ax: number, ay: number, value: number): Term {
  return {
    ax,
    ay,
    dz2: 0,
    kind: 2,
    value,
    sigma: 1,
    p0: 0,
    n10: 0,
    anchor: 'prior',
    bias: undefined,
    logScale: undefined,
    table: undefined,
  };
}

const LN10 = Math.LN10;
// Scratch for the bias maps' [value, ∂x, ∂y] (no allocation in the hot loop).
const SCRATCH_B = new Float64Array(3);
const SCRATCH_L = new Float64Array(3);
const SCRATCH_PAIR = new Float64Array(6);

export interface Eval {
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

const RPX = new Float64Array(3);
const EVAL_CELL = new GridCell();

/**
 * A range (kind 0) or RSSI (kind 1) term's residual r = (measured − predicted − bias)/σ into RPX[0], and the
 * gradient of its prediction plus bias in (x, y) into RPX[1..2]; d is the 3-D distance to the anchor, (dx, dy) the
 * offset from it. Shared by `residual` and the solver's inlined `evaluateInto`.
 */
function rangeOrRssiInto(
  t: Term,
  d: number,
  dx: number,
  dy: number,
  b: number,
  bx: number,
  by: number,
  sigma: number,
): void {
  if (t.kind === 0) {
    RPX[0] = (t.value - d - b) / sigma;
    RPX[1] = dx / d + bx;
    RPX[2] = dy / d + by;
  } else {
    const f = t.n10 / (LN10 * d * d);
    RPX[0] = (t.value - t.p0 + t.n10 * Math.log10(d) - b) / sigma;
    RPX[1] = -f * dx + bx;
    RPX[2] = -f * dy + by;
  }
}

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
  let b = 0;
  let bx = 0;
  let by = 0;
  let ls = 0;
  let lsx = 0;
  let lsy = 0;
  if (t.bias && t.logScale) {
    t.bias.pairInto(t.logScale, x, y, SCRATCH_PAIR);
    b = SCRATCH_PAIR[0]!;
    bx = SCRATCH_PAIR[1]!;
    by = SCRATCH_PAIR[2]!;
    ls = SCRATCH_PAIR[3]!;
    lsx = SCRATCH_PAIR[4]!;
    lsy = SCRATCH_PAIR[5]!;
  } else {
    if (t.bias) {
      t.bias.atInto(x, y, SCRATCH_B);
      b = SCRATCH_B[0]!;
      bx = SCRATCH_B[1]!;
      by = SCRATCH_B[2]!;
    }
    if (t.logScale) {
      t.logScale.atInto(x, y, SCRATCH_L);
      ls = SCRATCH_L[0]!;
      lsx = SCRATCH_L[1]!;
      lsy = SCRATCH_L[2]!;
    }
  }
  // exp(0) = 1 exactly: without a local σ map the product is t.sigma itself.
  const sigma = t.logScale ? t.sigma * Math.exp(ls) : t.sigma;
  rangeOrRssiInto(t, d, dx, dy, b, bx, by, sigma);
  const r = RPX[0]!;
  RES[0] = r;
  RES[1] = -RPX[1]! / sigma - r * lsx;
  RES[2] = -RPX[2]! / sigma - r * lsy;
  RES[3] = ls;
  RES[4] = lsx;
  RES[5] = lsy;
  return RES;
}

/**
 * Σ ρ(rᵢ) accumulated term by term. For the Cauchy loss ρ(r) = ½c²·log(1 + (r/c)²), so the sum is ½c²·log Π(1 + uᵢ):
 * one logarithm per evaluation instead of one per term (the product is flushed into the log before it could
 * overflow). Same value up to rounding.
 */
class RhoSum {
  private sum = 0;
  private product = 1;
  private logProduct = 0;

  constructor(
    readonly loss: RobustLoss,
    readonly k: number,
  ) {}

  reset(): void {
    this.sum = 0;
    this.product = 1;
    this.logProduct = 0;
  }

  /** Adds ρ(r) and returns the IRLS weight ψ(r)/r. */
  add(r: number): number {
    const k = this.k;
    switch (this.loss) {
      case 'cauchy': {
        const u = (r / k) * (r / k);
        this.product *= 1 + u;
        if (this.product > 1e250) {
          this.logProduct += Math.log(this.product);
          this.product = 1;
        }
        return 1 / (1 + u);
      }
      case 'huber': {
        const a = Math.abs(r);
        if (a <= k) {
          this.sum += 0.5 * r * r;
          return 1;
        }
        this.sum += k * a - 0.5 * k * k;
        return k / a;
      }
      case 'l2':
        this.sum += 0.5 * r * r;
        return 1;
    }
  }

  value(): number {
    if (this.loss !== 'cauchy') return this.sum;
    const product = this.product;
    if (!Number.isFinite(product)) return Number.POSITIVE_INFINITY;
    return 0.5 * this.k * this.k * (this.logProduct + Math.log(product));
  }
}

export function costAt(terms: readonly Term[], x: number, y: number, loss: RobustLoss, k: number): number {
  const rho = new RhoSum(loss, k);
  let ls = 0;
  for (const t of terms) {
    const q = residual(t, x, y);
    rho.add(q[0]!);
    ls += q[3]!;
  }
  return rho.value() + ls;
}

/**
 * `costAt` at every start-grid point from the terms' tables (the same operations in the same order per point as
 * `costAt` and RhoSum, so the same values).
 */
function tableCosts(
  terms: readonly Term[],
  gx: Float64Array,
  gy: Float64Array,
  loss: RobustLoss,
  k: number,
): Float64Array {
  const n = gx.length;
  // Reused too: the caller ranks the cells and is done with their costs before the next fix.
  if (COSTS.length !== n) COSTS = new Float64Array(n);
  const out = COSTS;
  const cauchy = loss === 'cauchy';
  const huber = loss === 'huber';
  // Term by term over every cell (each table read in order), with per-cell accumulators: every cell still sums
  // its terms in the same order, so the values are the same as cell by cell.
  const sum = scratch(0, n);
  const product = scratch(1, n);
  const logProduct = scratch(2, n);
  const ls = scratch(3, n);
  for (let g = 0; g < n; g++) {
    sum[g] = 0;
    product[g] = 1;
    logProduct[g] = 0;
    ls[g] = 0;
  }
  const kk = 0.5 * k * k;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    const kind = t.kind;
    const tb = kind === 2 ? undefined : t.table!;
    const value = kind === 1 ? t.value - t.p0 : t.value;
    for (let g = 0; g < n; g++) {
      let r: number;
      if (tb === undefined) r = t.value - (t.ax * gx[g]! + t.ay * gy[g]!);
      else {
        r =
          kind === 0
            ? (value - tb.pred[g]! - tb.bias[g]!) / tb.sigma[g]!
            : (value + tb.pred[g]! - tb.bias[g]!) / tb.sigma[g]!;
        ls[g] += tb.logScale[g]!;
      }
      if (cauchy) {
        const p = product[g]! * (1 + (r / k) * (r / k));
        if (p > 1e250) {
          logProduct[g] += Math.log(p);
          product[g] = 1;
        } else product[g] = p;
      } else if (huber) {
        const a = Math.abs(r);
        sum[g] += a <= k ? 0.5 * r * r : k * a - kk;
      } else sum[g] += 0.5 * r * r;
    }
  }
  for (let g = 0; g < n; g++) {
    let c = sum[g]!;
    if (cauchy) {
      const p = product[g]!;
      c = Number.isFinite(p) ? 0.5 * k * k * (logProduct[g]! + Math.log(p)) : Number.POSITIVE_INFINITY;
    }
    out[g] = c + ls[g]!;
  }
  return out;
}

// Per-cell accumulators and costs of tableCosts (reused: no allocation per fix).
const SCRATCH_CELLS: Float64Array[] = [];
let COSTS = new Float64Array(0);
function scratch(slot: number, n: number): Float64Array {
  let a = SCRATCH_CELLS[slot];
  if (!a || a.length < n) {
    a = new Float64Array(Math.max(n, 256));
    SCRATCH_CELLS[slot] = a;
  }
  return a;
}

function evaluate(terms: readonly Term[], x: number, y: number, loss: RobustLoss, k: number): Eval {
  const e: Eval = { cost: 0, h11: 0, h12: 0, h22: 0, g1: 0, g2: 0, wr2: 0, sw: 0 };
  evaluateInto(terms, x, y, loss, k, e);
  return e;
}

/**
 * Cost, Gauss–Newton Hessian and gradient at (x, y) into an existing record (the LM loop reuses two). The hot loop
 * of the solver: `residual` (its range/RSSI formula shared through `rangeOrRssiInto`), `BiasGrid.pairInto` and
 * `RhoSum.add` written out inline, with their arithmetic in the same order (the same values; the equality test in test/models/positioning/fast-paths.test.ts compares them).
 */
function evaluateInto(
  terms: readonly Term[],
  x: number,
  y: number,
  loss: RobustLoss,
  k: number,
  e: Eval,
): void {
  let sum = 0;
  let product = 1;
  let logProduct = 0;
  let ls = 0;
  let h11 = 0;
  let h12 = 0;
  let h22 = 0;
  let g1 = 0;
  let g2 = 0;
  let wr2 = 0;
  let sw = 0;
  // An anchor's range and RSSI terms come one after the other and share its position and its grids' geometry:
  // the distance and the grid cell and weights of the last term are reused when they are the same inputs.
  let pAx = Number.NaN;
  let pAy = Number.NaN;
  let pDz2 = Number.NaN;
  let pD = 0;
  const cell = EVAL_CELL;
  cell.reset();
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    let r: number;
    let jx: number;
    let jy: number;
    let tls = 0;
    let lsx = 0;
    let lsy = 0;
    if (t.kind === 2) {
      r = t.value - (t.ax * x + t.ay * y);
      jx = -t.ax;
      jy = -t.ay;
    } else {
      const dx = x - t.ax;
      const dy = y - t.ay;
      if (t.ax !== pAx || t.ay !== pAy || t.dz2 !== pDz2) {
        pD = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
        pAx = t.ax;
        pAy = t.ay;
        pDz2 = t.dz2;
      }
      const d = pD;
      let b = 0;
      let bx = 0;
      let by = 0;
      const bg = t.bias;
      const lg = t.logScale;
      if (bg !== undefined) {
        if (!cell.fits(bg)) cell.locate(bg, x, y);
        bg.sampleInto(cell, SCRATCH_B, 0);
        b = SCRATCH_B[0]!;
        bx = SCRATCH_B[1]!;
        by = SCRATCH_B[2]!;
      }
      if (lg !== undefined) {
        if (cell.fits(lg)) lg.sampleInto(cell, SCRATCH_L, 0);
        else lg.atInto(x, y, SCRATCH_L);
        tls = SCRATCH_L[0]!;
        lsx = SCRATCH_L[1]!;
        lsy = SCRATCH_L[2]!;
      }
      // exp(0) = 1 exactly: without a local σ map the product is t.sigma itself.
      const sigma = lg !== undefined ? t.sigma * Math.exp(tls) : t.sigma;
      rangeOrRssiInto(t, d, dx, dy, b, bx, by, sigma);
      r = RPX[0]!;
      jx = -RPX[1]! / sigma - r * lsx;
      jy = -RPX[2]! / sigma - r * lsy;
    }
    let wt: number;
    if (loss === 'cauchy') {
      const uu = (r / k) * (r / k);
      product *= 1 + uu;
      if (product > 1e250) {
        logProduct += Math.log(product);
        product = 1;
      }
      wt = 1 / (1 + uu);
    } else if (loss === 'huber') {
      const a = Math.abs(r);
      if (a <= k) {
        sum += 0.5 * r * r;
        wt = 1;
      } else {
        sum += k * a - 0.5 * k * k;
        wt = k / a;
      }
    } else {
      sum += 0.5 * r * r;
      wt = 1;
    }
    ls += tls;
    h11 += wt * jx * jx;
    h12 += wt * jx * jy;
    h22 += wt * jy * jy;
    g1 += wt * r * jx + lsx;
    g2 += wt * r * jy + lsy;
    wr2 += wt * r * r;
    sw += wt;
  }
  let cost = sum;
  if (loss === 'cauchy') {
    cost = Number.isFinite(product)
      ? 0.5 * k * k * (logProduct + Math.log(product))
      : Number.POSITIVE_INFINITY;
  }
  e.cost = cost + ls;
  e.h11 = h11;
  e.h12 = h12;
  e.h22 = h22;
  e.g1 = g1;
  e.g2 = g2;
  e.wr2 = wr2;
  e.sw = sw;
}

/** `evaluateInto` term by term through `residual` and RhoSum: the plain computation, for the equality test. */
export function evaluatePlain(
  terms: readonly Term[],
  x: number,
  y: number,
  loss: RobustLoss,
  k: number,
): Eval {
  const rho = new RhoSum(loss, k);
  let ls = 0;
  let h11 = 0;
  let h12 = 0;
  let h22 = 0;
  let g1 = 0;
  let g2 = 0;
  let wr2 = 0;
  let sw = 0;
  for (let i = 0; i < terms.length; i++) {
    const q = residual(terms[i]!, x, y);
    const r = q[0]!;
    const jx = q[1]!;
    const jy = q[2]!;
    const w = rho.add(r);
    ls += q[3]!;
    h11 += w * jx * jx;
    h12 += w * jx * jy;
    h22 += w * jy * jy;
    g1 += w * r * jx + q[4]!;
    g2 += w * r * jy + q[5]!;
    wr2 += w * r * r;
    sw += w;
  }
  return { cost: rho.value() + ls, h11, h12, h22, g1, g2, wr2, sw };
}

/** The solver's evaluation at (x, y) (exported for the equality test). */
export function evaluateAt(terms: readonly Term[], x: number, y: number, loss: RobustLoss, k: number): Eval {
  return evaluate(terms, x, y, loss, k);
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
 * Up to `want` cells in ascending cost (ties by index: a stable sort's order), each skipped when within `minSep` of
 * one already kept. The cells come off a heap one at a time rather than all sorted: the starts are usually among
 * the first dozen of 64.
 */
export function bestSeparatedCells(
  costs: Float64Array,
  gx: Float64Array,
  gy: Float64Array,
  minSep: number,
  want: number,
): Array<{ x: number; y: number }> {
  const n = costs.length;
  const starts: Array<{ x: number; y: number }> = [];
  const keep = (g: number): boolean => {
    const cx = gx[g]!;
    const cy = gy[g]!;
    for (let s = 0; s < starts.length; s++) {
      if (!(Math.hypot(starts[s]!.x - cx, starts[s]!.y - cy) > minSep)) return starts.length >= want;
    }
    starts.push({ x: cx, y: cy });
    return starts.length >= want;
  };
  if (want <= 0) return starts;
  let nan = false;
  for (let g = 0; g < n; g++) if (Number.isNaN(costs[g]!)) nan = true;
  if (nan) {
    // (Never with finite measurements: the comparison below has no order for NaN.) The full sort, as it was.
    const order = Array.from({ length: n }, (_, g) => g).sort((a, b) => costs[a]! - costs[b]!);
    for (const g of order) if (keep(g)) break;
    return starts;
  }
  // A binary min-heap of the cells by (cost, index): built in O(n), popped until enough starts are kept.
  if (HEAP.length < n) HEAP = new Int32Array(n);
  const heap = HEAP;
  for (let g = 0; g < n; g++) heap[g] = g;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(heap, n, i, costs);
  for (let size = n; size > 0; ) {
    const best = heap[0]!;
    size--;
    heap[0] = heap[size]!;
    siftDown(heap, size, 0, costs);
    if (keep(best)) break;
  }
  return starts;
}

let HEAP = new Int32Array(256);

/** Cell a before cell b: lower cost, ties (±∞ included) by index. */
function before(costs: Float64Array, a: number, b: number): boolean {
  const ca = costs[a]!;
  const cb = costs[b]!;
  return ca < cb || (ca === cb && a < b);
}

function siftDown(heap: Int32Array, size: number, i: number, costs: Float64Array): void {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) return;
    const r = l + 1;
    const c = r < size && before(costs, heap[r]!, heap[l]!) ? r : l;
    if (!before(costs, heap[c]!, heap[i]!)) return;
    const tmp = heap[i]!;
    heap[i] = heap[c]!;
    heap[c] = tmp;
    i = c;
  }
}

/** Start points: the best cells of a coarse grid over the box, and the signal-weighted anchor centroid. */
export function startPoints(
  terms: readonly Term[],
  box: Bounds,
  params: MultilaterationParams,
): Array<{ x: number; y: number }> {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const { nx, ny } = gridDims(box, params.gridPoints);
  const tabled = terms.every((t) => t.kind === 2 || tableFits(t.table, box, nx, ny));
  const { gx, gy } = gridPoints(box, nx, ny);
  const n = nx * ny;
  const gc = tabled ? tableCosts(terms, gx, gy, params.loss, params.k) : new Float64Array(n);
  if (!tabled) for (let g = 0; g < n; g++) gc[g] = costAt(terms, gx[g]!, gy[g]!, params.loss, params.k);
  // The best cells, kept apart (non-maximum suppression): distinct basins, not three cells of the same one.
  const starts = bestSeparatedCells(gc, gx, gy, 1.5 * Math.hypot(w / nx, h / ny), Math.max(1, params.starts));
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
  const e = COV_E;
  evaluateInto(terms, x, y, params.loss, params.k, e);
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
