// Order statistics and robust scale used by fitting and evaluation.

/** Linear-interpolated quantile (same definition as numpy's default); NaN for an empty list. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileSorted(sorted, p);
}

export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const k = (sorted.length - 1) * Math.min(Math.max(p, 0), 1);
  const lo = Math.floor(k);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (k - lo);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

/** Median absolute deviation scaled to σ for Gaussian data (× 1.4826). */
export function robustSigma(residuals: readonly number[]): number {
  if (residuals.length === 0) return Number.NaN;
  const med = quantile(residuals, 0.5);
  return (
    1.4826 *
    quantile(
      residuals.map((r) => Math.abs(r - med)),
      0.5,
    )
  );
}

export interface ErrorSummary {
  n: number;
  /** Metres. */
  meanError: number;
  medianError: number;
  p90Error: number;
  p95Error: number;
  maxError: number;
  rmse: number;
}

export function summariseErrors(errors: readonly number[]): ErrorSummary {
  const sorted = [...errors].sort((a, b) => a - b);
  let s2 = 0;
  for (const e of sorted) s2 += e * e;
  return {
    n: sorted.length,
    meanError: mean(sorted),
    medianError: quantileSorted(sorted, 0.5),
    p90Error: quantileSorted(sorted, 0.9),
    p95Error: quantileSorted(sorted, 0.95),
    maxError: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    rmse: sorted.length > 0 ? Math.sqrt(s2 / sorted.length) : Number.NaN,
  };
}
