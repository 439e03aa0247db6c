import { Rng } from '../../models/positioning/prng.js';
import { quantile, summariseErrors } from '../../models/positioning/stats.js';

// How much a test walk can tell. A reference point's messages share most of their error (same place, same walls,
// same bodies in the way), so 3,480 messages at 29 points are closer to 29 observations than to 3,480: the p90 of
// such a walk is decided by its three worst points. Resampling the points (each drawn point brings all its
// messages) gives the interval a figure would move in if the walk had been taken at other points of the same
// place.

export interface PointInterval {
  /** Reference points in the walk. */
  points: number;
  resamples: number;
  /** 95 % percentile intervals [low, high], metres. */
  mean: [number, number];
  median: [number, number];
  p90: [number, number];
}

/**
 * 95 % intervals of the mean, median and p90 error over a bootstrap of the reference points. Deterministic for a
 * seed. Null with fewer than two points (nothing to resample).
 */
export function bootstrapOverPoints(
  located: ReadonlyArray<{ pointKey: string; error: number }>,
  options: { resamples?: number; seed?: number | string } = {},
): PointInterval | null {
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer (got ${resamples})`);
  const byPoint = new Map<string, number[]>();
  for (const l of located) {
    if (!Number.isFinite(l.error)) continue;
    const g = byPoint.get(l.pointKey);
    if (g) g.push(l.error);
    else byPoint.set(l.pointKey, [l.error]);
  }
  const groups = [...byPoint.values()];
  if (groups.length < 2) return null;
  const rng = new Rng(options.seed ?? 'point-bootstrap');
  const mean: number[] = [];
  const median: number[] = [];
  const p90: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const draw: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (const e of groups[rng.int(groups.length)]!) draw.push(e);
    }
    const s = summariseErrors(draw);
    mean.push(s.meanError);
    median.push(s.medianError);
    p90.push(s.p90Error);
  }
  const bounds = (xs: number[]): [number, number] => [quantile(xs, 0.025), quantile(xs, 0.975)];
  return { points: groups.length, resamples, mean: bounds(mean), median: bounds(median), p90: bounds(p90) };
}
