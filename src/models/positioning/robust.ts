// Robust losses for M-estimation (iteratively reweighted least squares). Residuals are already divided by their
// σ, so the tuning constants are in units of σ.

export type RobustLoss = 'l2' | 'huber' | 'cauchy';

/** 95 % efficiency at the Gaussian for Huber; 2.385 for Cauchy (the usual choices). */
export const DEFAULT_HUBER_K = 1.345;
export const DEFAULT_CAUCHY_C = 2.385;

/** ρ(r): the per-residual cost. */
export function robustRho(loss: RobustLoss, r: number, k: number): number {
  const a = Math.abs(r);
  switch (loss) {
    case 'l2':
      return 0.5 * r * r;
    case 'huber':
      return a <= k ? 0.5 * r * r : k * a - 0.5 * k * k;
    case 'cauchy':
      return 0.5 * k * k * Math.log1p((r / k) ** 2);
  }
}

/** IRLS weight ψ(r)/r. */
export function robustWeight(loss: RobustLoss, r: number, k: number): number {
  const a = Math.abs(r);
  switch (loss) {
    case 'l2':
      return 1;
    case 'huber':
      return a <= k ? 1 : k / a;
    case 'cauchy':
      return 1 / (1 + (r / k) ** 2);
  }
}

export function defaultRobustK(loss: RobustLoss): number {
  return loss === 'cauchy' ? DEFAULT_CAUCHY_C : DEFAULT_HUBER_K;
}

export interface LineFit {
  intercept: number;
  slope: number;
  /** Robust σ of the residuals (MAD-based), in the units of y. */
  sigma: number;
  /** Standard error of the slope. */
  slopeStdError: number;
  n: number;
}

/**
 * Huber-IRLS fit of y = intercept + slope·x, optionally pulled toward a prior (ridge with `priorWeight`
 * pseudo-observations per parameter, in units of the residual variance). Returns null with fewer than 2 points.
 */
export function robustLineFit(
  xs: readonly number[],
  ys: readonly number[],
  options: {
    prior?: { intercept: number; slope: number };
    /** Pseudo-observations for [intercept, slope] (one number: both). */
    priorWeight?: number | readonly [number, number];
    iterations?: number;
  } = {},
): LineFit | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  const w = new Float64Array(n).fill(1);
  let intercept = 0;
  let slope = 0;
  let sigma = 1;
  const iterations = options.iterations ?? 12;
  for (let it = 0; it < iterations; it++) {
    let sw = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i]!;
      sw += wi;
      sx += wi * xs[i]!;
      sy += wi * ys[i]!;
      sxx += wi * xs[i]! * xs[i]!;
      sxy += wi * xs[i]! * ys[i]!;
    }
    // Normal equations [[sw, sx],[sx, sxx]]·[a, b] = [sy, sxy], plus the prior as pseudo-observations.
    let a11 = sw;
    const a12 = sx;
    let a22 = sxx;
    let b1 = sy;
    let b2 = sxy;
    if (options.prior && options.priorWeight !== undefined) {
      const [li, ls] =
        typeof options.priorWeight === 'number'
          ? [options.priorWeight, options.priorWeight]
          : options.priorWeight;
      a11 += li;
      b1 += li * options.prior.intercept;
      a22 += ls;
      b2 += ls * options.prior.slope;
    }
    const det = a11 * a22 - a12 * a12;
    if (!(Math.abs(det) > 1e-12)) {
      // All x equal: slope unidentifiable; keep the prior slope (or 0) and fit the intercept.
      slope = options.prior?.slope ?? 0;
      intercept = (sy - slope * sx) / Math.max(sw, 1e-12);
    } else {
      intercept = (b1 * a22 - b2 * a12) / det;
      slope = (a11 * b2 - a12 * b1) / det;
    }
    const res: number[] = new Array(n);
    for (let i = 0; i < n; i++) res[i] = ys[i]! - intercept - slope * xs[i]!;
    const abs = res.map(Math.abs).sort((p, q) => p - q);
    const mad = abs[Math.floor((n - 1) / 2)]! * 1.4826;
    sigma = Math.max(mad, 1e-9);
    for (let i = 0; i < n; i++) w[i] = robustWeight('huber', res[i]! / sigma, DEFAULT_HUBER_K);
  }
  let sxm = 0;
  let sw = 0;
  for (let i = 0; i < n; i++) {
    sxm += w[i]! * xs[i]!;
    sw += w[i]!;
  }
  const xbar = sxm / Math.max(sw, 1e-12);
  let sdev = 0;
  for (let i = 0; i < n; i++) sdev += w[i]! * (xs[i]! - xbar) ** 2;
  const slopeStdError = sdev > 0 ? sigma / Math.sqrt(sdev) : Number.POSITIVE_INFINITY;
  return { intercept, slope, sigma, slopeStdError, n };
}
