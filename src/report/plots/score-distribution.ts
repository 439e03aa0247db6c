import type { TopLevelSpec } from 'vega-lite';
import { round } from '../sample.js';
import { ALERT, ANOMALOUS, MUTED, NORMAL } from '../theme.js';

export interface ScoreDistributionData {
  /** Scores of points known (or assumed) normal, in [0,1]. */
  normal: readonly number[];
  /** Scores of points labelled anomalous, in [0,1]. */
  anomalous?: readonly number[];
  threshold?: number;
  /** @defaultValue 40 */
  bins?: number;
  title?: string;
  width?: number;
  height?: number;
}

/** Fraction of each group per score bin on [0,1]. */
export function histogram(values: readonly number[], bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]! += 1;
    n += 1;
  }
  return counts.map((c) => (n === 0 ? 0 : c / n));
}

/**
 * Score distributions of normal and anomalous points, each as a share of its own group (so a handful of anomalies
 * is visible beside a day of normal traffic), with the alert threshold: the overlap is where errors come from.
 */
export function scoreDistributionSpec(data: ScoreDistributionData): TopLevelSpec {
  const bins = data.bins ?? 40;
  const groups: Array<{ name: string; values: readonly number[] }> = [
    { name: `normal (n=${data.normal.length})`, values: data.normal },
  ];
  if (data.anomalous && data.anomalous.length > 0) {
    groups.push({ name: `anomalous (n=${data.anomalous.length})`, values: data.anomalous });
  }
  const rows = groups.flatMap((g) => {
    const h = histogram(g.values, bins);
    // Step areas need a closing edge at 1.
    return [...h, h[h.length - 1]!].map((share, i) => ({
      group: g.name,
      score: round(i / bins, 4),
      share: round(share, 5),
    }));
  });
  const colour = {
    field: 'group',
    type: 'nominal',
    title: null,
    scale: { domain: groups.map((g) => g.name), range: [NORMAL, ANOMALOUS] },
  } as const;
  const x = {
    field: 'score',
    type: 'quantitative',
    title: 'anomaly score',
    scale: { domain: [0, 1] },
  } as const;
  const y = { field: 'share', type: 'quantitative', title: 'share of group', axis: { format: '%' } } as const;
  const layers: object[] = [
    {
      name: 'density',
      data: { values: rows },
      mark: { type: 'area', interpolate: 'step-after', opacity: 0.3 },
      encoding: { x, y: { ...y, stack: null }, color: colour },
    },
    {
      name: 'outline',
      data: { values: rows },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
      encoding: { x, y, color: colour },
    },
  ];
  if (data.threshold !== undefined) {
    layers.push(
      {
        name: 'threshold',
        data: { values: [{ score: data.threshold }] },
        mark: { type: 'rule', color: ALERT, strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'score', type: 'quantitative' } },
      },
      {
        name: 'threshold_label',
        data: { values: [{ score: data.threshold, label: `threshold ${data.threshold.toFixed(3)}` }] },
        mark: { type: 'text', align: 'left', dx: 4, baseline: 'top', fontSize: 10, color: MUTED },
        encoding: { x: { field: 'score', type: 'quantitative' }, y: { value: 2 }, text: { field: 'label' } },
      },
    );
  }
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    width: data.width ?? 420,
    height: data.height ?? 220,
    layer: layers,
  } as TopLevelSpec;
}
