import type { TopLevelSpec } from 'vega-lite';
import { quantileSorted, round } from '../sample.js';
import { SERIES_COLOURS } from '../theme.js';

export interface ErrorSeries {
  /** Model, estimator or version name. */
  name: string;
  /** Position errors in metres. */
  errors: readonly number[];
}

export interface ErrorCdfData {
  series: readonly ErrorSeries[];
  title?: string;
  width?: number;
  height?: number;
}

const POINTS_PER_SERIES = 200;

/**
 * Empirical CDF of position error, one line per series, with the median and p90 levels marked: the further left a
 * line climbs, the better the model.
 */
export function errorCdfSpec(data: ErrorCdfData): TopLevelSpec {
  const series = data.series
    .map((s) => ({ name: s.name, sorted: [...s.errors].filter(Number.isFinite).sort((a, b) => a - b) }))
    .filter((s) => s.sorted.length > 0)
    // The legend carries the numbers a reader looks for first.
    .map((s) => ({
      ...s,
      label: `${s.name} · median ${quantileSorted(s.sorted, 0.5).toFixed(2)} m · p90 ${quantileSorted(s.sorted, 0.9).toFixed(2)} m`,
    }));
  const rows = series.flatMap((s) => {
    // The empirical CDF steps to i/n at the i-th smallest error; long series keep POINTS_PER_SERIES of those steps.
    const n = s.sorted.length;
    const keep = Math.min(POINTS_PER_SERIES, n);
    const out = [{ series: s.label, error: 0, p: 0 }];
    for (let j = 1; j <= keep; j++) {
      const i = Math.round((j * n) / keep);
      out.push({ series: s.label, error: round(s.sorted[i - 1]!), p: round(i / n, 4) });
    }
    return out;
  });
  const marks = series.flatMap((s) =>
    [0.5, 0.9].map((p) => ({ series: s.label, p, error: round(quantileSorted(s.sorted, p)) })),
  );
  const domain = series.map((s) => s.label);
  const colour = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain, range: SERIES_COLOURS.slice(0, Math.max(1, domain.length)) },
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 640 },
  } as const;
  const xMax = Math.max(1e-3, ...rows.map((r) => r.error));
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    width: data.width ?? 420,
    height: data.height ?? 260,
    layer: [
      {
        name: 'levels',
        data: { values: [{ p: 0.5 }, { p: 0.9 }] },
        mark: { type: 'rule', color: '#c9d0d8', strokeDash: [3, 3] },
        encoding: { y: { field: 'p', type: 'quantitative' } },
      },
      {
        name: 'cdf',
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: {
            field: 'error',
            type: 'quantitative',
            title: 'position error (m)',
            scale: { domain: [0, xMax], nice: true },
          },
          y: {
            field: 'p',
            type: 'quantitative',
            title: 'fraction of fixes with error ≤ x',
            scale: { domain: [0, 1] },
            axis: { format: '%', values: [0, 0.25, 0.5, 0.75, 0.9, 1] },
          },
          color: colour,
        },
      },
      {
        name: 'quantiles',
        data: { values: marks },
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x: { field: 'error', type: 'quantitative' },
          y: { field: 'p', type: 'quantitative' },
          color: { ...colour, legend: null },
        },
      },
    ],
  } as TopLevelSpec;
}
