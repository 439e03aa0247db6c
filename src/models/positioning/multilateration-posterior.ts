import { fastCostAt } from './multilateration-cost.js';
import type { Bounds, MultilaterationParams } from './multilateration-params.js';
import type { Term } from './multilateration-terms.js';
import { halton, NORMALS } from './quasi-random.js';

// The posterior mean of the position under a uniform prior over the site, instead of the cost's minimum.
//
// Why: the device is on the site. Least squares (the cost's minimum, what the solver finds) is unbiased where the
// readings pin the position down, but with four RSSI anchors σ = 2.5 dB the likelihood is metres wide, and near a
// wall or corner half of it lies beyond: the minimum then scatters along and past the wall while the mean of the
// likelihood over the site — the estimate with the least mean squared error for a device anywhere on it — stays
// where the mass is. Simulated ESPresense walks (their geometry, 100 seeds): single-fix mean error 0.72 → 0.55 m on
// the diagonal, p95 1.95 → 1.31 m on the wall crossing (docs/positioning.md, "Posterior mean").
//
// How: importance sampling, with the Laplace approximation at the solution (its covariance doubled) as proposal
// plus a tenth spread uniformly over the site, so a posterior wider than the Laplace guess is still sampled. The
// points are fixed quasi-random ones (deterministic, smooth in the inputs); on the ESPresense walks 160 of them gave
// the same figures as a 5 cm grid over the whole site to within 5 mm. Where the Laplace guess is poor (next to an
// anchor the posterior is a thin arc; at a corner most of the guess lies off the site) the weights concentrate on
// few points: then a second proposal, fitted to the first pass's moments, adds 160 points, and both sets are
// weighted by the two proposals' average density (the balance heuristic of multiple importance sampling).

const GAUSSIAN_POINTS = 144;
const UNIFORM_POINTS = 16;
/** Share of each proposal spread uniformly over the site (defensive mixture: bounds every weight). */
const UNIFORM_SHARE = 0.1;
/** The covariance a proposal is given is doubled: heavier than the posterior it approximates. */
const PROPOSAL_INFLATION = 2;
/** Below this effective sample size (of the points inside the site) a second proposal is added. */
const REFINE_BELOW_ESS = 60;

// Uniform points over the unit square (Halton bases 5 and 7: not the bases of NORMALS), a set per proposal.
const UNIFORM = Array.from(
  { length: 2 * UNIFORM_POINTS },
  (_, i) => [halton(i + 1, 5), halton(i + 1, 7)] as const,
);

export interface PosteriorMoments {
  x: number;
  y: number;
  cov: [number, number, number];
}

/** A Gaussian proposal (mean, inflated covariance) with what its density needs. */
interface Proposal {
  x: number;
  y: number;
  a: number;
  c: number;
  d: number;
  det: number;
  l11: number;
  l21: number;
  l22: number;
}

function proposalOf(m: PosteriorMoments): Proposal | null {
  const a = PROPOSAL_INFLATION * m.cov[0];
  const c = PROPOSAL_INFLATION * m.cov[1];
  const d = PROPOSAL_INFLATION * m.cov[2];
  const det = a * d - c * c;
  if (!(det > 0) || !Number.isFinite(det) || !Number.isFinite(m.x) || !Number.isFinite(m.y)) return null;
  const l11 = Math.sqrt(a);
  const l21 = c / l11;
  return { x: m.x, y: m.y, a, c, d, det, l11, l21, l22: Math.sqrt(Math.max(d - l21 * l21, 0)) };
}

/** The points of the samples so far with their log target density (−cost/τ) and where they came from. */
class Samples {
  readonly xs: number[] = [];
  readonly ys: number[] = [];
  readonly logTarget: number[] = [];
  readonly proposals: Proposal[] = [];

  constructor(
    private readonly terms: readonly Term[],
    private readonly bounds: Bounds,
    private readonly params: Pick<MultilaterationParams, 'loss' | 'k'>,
    private readonly temperature: number,
  ) {}

  /** Draws one proposal's points (its Gaussian points and its share of uniform ones) and scores those on the site. */
  add(p: Proposal): void {
    const b = this.bounds;
    const w = b.maxX - b.minX;
    const h = b.maxY - b.minY;
    const set = this.proposals.length;
    this.proposals.push(p);
    for (let j = 0; j < GAUSSIAN_POINTS + UNIFORM_POINTS; j++) {
      let x: number;
      let y: number;
      if (j < GAUSSIAN_POINTS) {
        const z = NORMALS[j]!;
        x = p.x + p.l11 * z[0];
        y = p.y + p.l21 * z[0] + p.l22 * z[1];
      } else {
        const u = UNIFORM[set * UNIFORM_POINTS + j - GAUSSIAN_POINTS]!;
        x = b.minX + w * u[0];
        y = b.minY + h * u[1];
      }
      if (x < b.minX || x > b.maxX || y < b.minY || y > b.maxY) continue;
      const lt = -fastCostAt(this.terms, x, y, this.params.loss, this.params.k) / this.temperature;
      if (!Number.isFinite(lt)) continue;
      this.xs.push(x);
      this.ys.push(y);
      this.logTarget.push(lt);
    }
  }

  /** Weighted moments, every point weighted by target / (the proposals' average density); null with no weight. */
  moments(): (PosteriorMoments & { ess: number }) | null {
    const n = this.xs.length;
    if (n === 0) return null;
    const b = this.bounds;
    const uniformDensity = UNIFORM_SHARE / ((b.maxX - b.minX) * (b.maxY - b.minY));
    const logw = new Float64Array(n);
    let maxLog = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) {
      let q = 0;
      for (const p of this.proposals) {
        const dx = this.xs[j]! - p.x;
        const dy = this.ys[j]! - p.y;
        const maha = (p.d * dx * dx - 2 * p.c * dx * dy + p.a * dy * dy) / p.det;
        q +=
          ((1 - UNIFORM_SHARE) * Math.exp(-0.5 * maha)) / (2 * Math.PI * Math.sqrt(p.det)) + uniformDensity;
      }
      logw[j] = this.logTarget[j]! - Math.log(q / this.proposals.length);
      if (logw[j]! > maxLog) maxLog = logw[j]!;
    }
    let sw = 0;
    let sw2 = 0;
    let sx = 0;
    let sy = 0;
    for (let j = 0; j < n; j++) {
      const wj = Math.exp(logw[j]! - maxLog);
      logw[j] = wj;
      sw += wj;
      sw2 += wj * wj;
      sx += wj * this.xs[j]!;
      sy += wj * this.ys[j]!;
    }
    const mx = sx / sw;
    const my = sy / sw;
    let cxx = 0;
    let cxy = 0;
    let cyy = 0;
    for (let j = 0; j < n; j++) {
      const wj = logw[j]! / sw;
      const dx = this.xs[j]! - mx;
      const dy = this.ys[j]! - my;
      cxx += wj * dx * dx;
      cxy += wj * dx * dy;
      cyy += wj * dy * dy;
    }
    // A floor of 1 cm² per axis: a posterior that collapsed onto a few samples is not that certain.
    return { x: mx, y: my, cov: [cxx + 1e-4, cxy, cyy + 1e-4], ess: (sw * sw) / sw2 };
  }
}

/**
 * Mean and covariance of exp(−cost/τ) over `bounds` (a uniform prior on the site), sampled around `laplace` (the
 * solver's answer and covariance). τ ≥ 1 is the misfit temperature: when the residuals are larger than their σ's say
 * (the solver inflates its covariance by the reduced χ² then), the likelihood is flattened by the same factor.
 * Null when no sample inside the bounds carries weight (the caller keeps the Laplace answer).
 */
export function posteriorMoments(
  terms: readonly Term[],
  bounds: Bounds,
  laplace: PosteriorMoments,
  params: Pick<MultilaterationParams, 'loss' | 'k'>,
  temperature: number,
): PosteriorMoments | null {
  const first = proposalOf(laplace);
  if (!first) return null;
  const samples = new Samples(terms, bounds, params, temperature);
  samples.add(first);
  const m1 = samples.moments();
  if (!m1 || m1.ess >= REFINE_BELOW_ESS) return m1 && { x: m1.x, y: m1.y, cov: m1.cov };
  const second = proposalOf(m1);
  if (second) samples.add(second);
  const m = samples.moments() ?? m1;
  return { x: m.x, y: m.y, cov: m.cov };
}
