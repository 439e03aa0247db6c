import { coverageRadius, type Fix } from '../../models/positioning/fix.js';
import { quantile } from '../../models/positioning/stats.js';

/**
 * The factor on a covariance that makes its 95 % radius hold 95 % of the held-out errors: the 0.95 quantile of
 * error / radius, squared (scaling a covariance by s² scales every radius by s).
 */
export function coverageScale(fixes: ReadonlyArray<{ fix: Fix; truth: { x: number; y: number } }>): number {
  if (fixes.length < 5) return 1;
  const ratios = fixes.map(({ fix, truth }) => {
    const e = Math.hypot(fix.x - truth.x, fix.y - truth.y);
    return e / Math.max(coverageRadius(fix.cov, 0.95), 1e-6);
  });
  const s = quantile(ratios, 0.95);
  return Number.isFinite(s) && s > 0 ? s * s : 1;
}

/** Observed fraction of errors within the 95 % radius. */
export function coverage95(fixes: ReadonlyArray<{ fix: Fix; truth: { x: number; y: number } }>): number {
  if (fixes.length === 0) return Number.NaN;
  let inside = 0;
  for (const { fix, truth } of fixes) {
    if (Math.hypot(fix.x - truth.x, fix.y - truth.y) <= coverageRadius(fix.cov, 0.95)) inside++;
  }
  return inside / fixes.length;
}

export function scaleFix(fix: Fix, k: number): Fix {
  return { ...fix, cov: [fix.cov[0] * k, fix.cov[1] * k, fix.cov[2] * k] };
}
