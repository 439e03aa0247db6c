import { Rng } from '../../models/positioning/prng.js';
import { quantile, summariseErrors } from '../../models/positioning/stats.js';

// How much a test walk can tell. A reference point's messages share most of their error (same place, same walls,
// same bodies in the way), so 3,480 messages at 29 points are closer to 29 observations than to 3,480: the p90 of
// such a walk is decided by its three worst points. Resampling the points (each drawn point brings all its
// messages) gives the interval a figure would move in if the walk had been taken at other points of the same
// place. Two models scored on the same walk are compared *paired*: both figures are taken on the same draw.

export type Interval = [number, number];

export interface PointInterval {
  /** Reference points in the walk. */
  points: number;
  resamples: number;
  /** 95 % percentile intervals [low, high], metres. */
  mean: Interval;
  median: Interval;
  p90: Interval;
}

type Figures = { mean: number; median: number; p90: number };

function figuresOf(errors: readonly number[]): Figures {
  const s = summariseErrors(errors);
  return { mean: s.meanError, median: s.medianError, p90: s.p90Error };
}

/**
 * Groups per point the rows whose every value is finite, draws the points with replacement `resamples` times and
 * returns the 95 % interval of each of `figures(draw)`.
 */
function bootstrap<R>(
  rows: ReadonlyArray<{ pointKey: string; row: R }>,
  finite: (r: R) => boolean,
  figures: (draw: R[]) => Figures,
  options: { resamples?: number; seed?: number | string },
): PointInterval | null {
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer (got ${resamples})`);
  const byPoint = new Map<string, R[]>();
  for (const { pointKey, row } of rows) {
    if (!finite(row)) continue;
    const g = byPoint.get(pointKey);
    if (g) g.push(row);
    else byPoint.set(pointKey, [row]);
  }
  const groups = [...byPoint.values()];
  if (groups.length < 2) return null;
  const rng = new Rng(options.seed ?? 'point-bootstrap');
  const values = { mean: [] as number[], median: [] as number[], p90: [] as number[] };
  for (let b = 0; b < resamples; b++) {
    const draw: R[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (const r of groups[rng.int(groups.length)]!) draw.push(r);
    }
    const f = figures(draw);
    values.mean.push(f.mean);
    values.median.push(f.median);
    values.p90.push(f.p90);
  }
  const bounds = (xs: number[]): Interval => [quantile(xs, 0.025), quantile(xs, 0.975)];
  return {
    points: groups.length,
    resamples,
    mean: bounds(values.mean),
    median: bounds(values.median),
    p90: bounds(values.p90),
  };
}

/**
 * 95 % intervals of the mean, median and p90 error over a bootstrap of the reference points. Deterministic for a
 * seed. Null with fewer than two points (nothing to resample).
 */
export function bootstrapOverPoints(
  located: ReadonlyArray<{ pointKey: string; error: number }>,
  options: { resamples?: number; seed?: number | string } = {},
): PointInterval | null {
  return bootstrap(
    located.map((l) => ({ pointKey: l.pointKey, row: l.error })),
    Number.isFinite,
    figuresOf,
    options,
  );
}

/**
 * Paired: two models' errors on the same messages; 95 % intervals of figure(a) − figure(b) (negative: a is better)
 * over a bootstrap of the reference points. Messages either model could not locate are left out of both.
 */
export function pairedBootstrapOverPoints(
  located: ReadonlyArray<{ pointKey: string; a: number; b: number }>,
  options: { resamples?: number; seed?: number | string } = {},
): PointInterval | null {
  return bootstrap(
    located.map((l) => ({ pointKey: l.pointKey, row: [l.a, l.b] as const })),
    ([a, b]) => Number.isFinite(a) && Number.isFinite(b),
    (draw) => {
      const a = figuresOf(draw.map((r) => r[0]));
      const b = figuresOf(draw.map((r) => r[1]));
      return { mean: a.mean - b.mean, median: a.median - b.median, p90: a.p90 - b.p90 };
    },
    options,
  );
}
