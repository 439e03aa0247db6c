import { GridCell } from './bias-map.js';
import type { Term } from './multilateration-terms.js';
import { MIN_DISTANCE_M } from './ranging.js';
import type { RobustLoss } from './robust.js';

// The multilateration cost at one position: each term's residual normalised by its σ, their sum under the robust
// loss, and the Gauss–Newton Hessian and gradient the solver steps with. The plain forms (`residual`, `RhoSum`,
// `evaluatePlain`) define the values; `evaluateInto`, the solver's hot loop, computes the same ones faster.

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
 * `costAt` written out inline, for the posterior's sampling (160–320 costs per fix): no allocation, the distance and
 * grid cell reused across an anchor's terms as in `evaluateInto`, and the bias and local σ read as values only (no
 * gradients). The arithmetic is `costAt`'s in the same order, so the values are the same (fast-paths.test.ts).
 */
export function fastCostAt(
  terms: readonly Term[],
  x: number,
  y: number,
  loss: RobustLoss,
  k: number,
): number {
  let sum = 0;
  let product = 1;
  let logProduct = 0;
  let ls = 0;
  let pAx = Number.NaN;
  let pAy = Number.NaN;
  let pDz2 = Number.NaN;
  let pD = 0;
  const cell = EVAL_CELL;
  cell.reset();
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    let r: number;
    if (t.kind === 2) {
      r = t.value - (t.ax * x + t.ay * y);
    } else {
      if (t.ax !== pAx || t.ay !== pAy || t.dz2 !== pDz2) {
        const dx = x - t.ax;
        const dy = y - t.ay;
        pD = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
        pAx = t.ax;
        pAy = t.ay;
        pDz2 = t.dz2;
      }
      const d = pD;
      let b = 0;
      const bg = t.bias;
      const lg = t.logScale;
      if (bg !== undefined) {
        if (!cell.fits(bg)) cell.locate(bg, x, y);
        b = bg.valueAt(cell);
      }
      let sigma = t.sigma;
      if (lg !== undefined) {
        if (!cell.fits(lg)) cell.locate(lg, x, y);
        const tls = lg.valueAt(cell);
        ls += tls;
        sigma = t.sigma * Math.exp(tls);
      }
      r = t.kind === 0 ? (t.value - d - b) / sigma : (t.value - t.p0 + t.n10 * Math.log10(d) - b) / sigma;
    }
    if (loss === 'cauchy') {
      product *= 1 + (r / k) * (r / k);
      if (product > 1e250) {
        logProduct += Math.log(product);
        product = 1;
      }
    } else if (loss === 'huber') {
      const a = Math.abs(r);
      sum += a <= k ? 0.5 * r * r : k * a - 0.5 * k * k;
    } else {
      sum += 0.5 * r * r;
    }
  }
  if (loss !== 'cauchy') return sum + ls;
  const cost = Number.isFinite(product)
    ? 0.5 * k * k * (logProduct + Math.log(product))
    : Number.POSITIVE_INFINITY;
  return cost + ls;
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
export function evaluateInto(
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
