import type { TopLevelSpec } from 'vega-lite';
import { round, thinKeepingPeaks } from '../sample.js';
import { ALERT, MUTED, NORMAL, WINDOW_FILL } from '../theme.js';

export interface ScorePoint {
  deviceId: string;
  /** Epoch ms. */
  t: number;
  /** Anomaly score in [0,1]. */
  score: number;
}

export interface AlertMark {
  deviceId: string;
  t: number;
  /** e.g. the anomaly type. */
  label?: string;
}

/** A ground-truth anomaly window (simulator labels). */
export interface TruthWindow {
  deviceId: string;
  start: number;
  end: number;
  label?: string;
}

export interface ScoreTimelineData {
  scores: readonly ScorePoint[];
  alerts?: readonly AlertMark[];
  windows?: readonly TruthWindow[];
  /** Alert threshold on the score, global or per device. */
  threshold?: number | Readonly<Record<string, number>>;
  /** Devices drawn, one row each (the most eventful first). @defaultValue 6 */
  maxDevices?: number;
  title?: string;
  width?: number;
}

const POINTS_PER_ROW = 300;

/** A silence longer than this (and than GAP_FACTOR × the device's usual interval) breaks its line. */
const MIN_GAP_MS = 10 * 60_000;
const GAP_FACTOR = 5;

/**
 * Segment numbers for a device's points in time order: a new segment after a silence much longer than the device's
 * usual interval (it left, or nothing was captured), so the line does not draw a score across hours nobody scored.
 */
export function timelineSegments(times: readonly number[]): number[] {
  const steps = times
    .slice(1)
    .map((t, i) => t - times[i]!)
    .sort((a, b) => a - b);
  const median = steps.length > 0 ? steps[Math.floor(steps.length / 2)]! : 0;
  const gap = Math.max(MIN_GAP_MS, GAP_FACTOR * median);
  let seg = 0;
  return times.map((t, i) => {
    if (i > 0 && t - times[i - 1]! > gap) seg += 1;
    return seg;
  });
}

/** The devices worth a row: those with alerts or true anomalies first, then by peak score. */
export function selectTimelineDevices(data: ScoreTimelineData): string[] {
  const weight = new Map<string, { events: number; peak: number }>();
  const get = (id: string) => {
    let w = weight.get(id);
    if (!w) {
      w = { events: 0, peak: 0 };
      weight.set(id, w);
    }
    return w;
  };
  for (const s of data.scores) {
    const w = get(s.deviceId);
    if (s.score > w.peak) w.peak = s.score;
  }
  for (const a of data.alerts ?? []) get(a.deviceId).events += 1;
  for (const win of data.windows ?? []) get(win.deviceId).events += 1;
  return [...weight.entries()]
    .sort((a, b) => b[1].events - a[1].events || b[1].peak - a[1].peak || (a[0] < b[0] ? -1 : 1))
    .slice(0, data.maxDevices ?? 6)
    .map(([id]) => id);
}

/**
 * Anomaly score over time, one row per device: the score line, the alert threshold (dashed), alerts raised (red
 * triangles) and, when the data are labelled, the true anomaly windows shaded behind — a detection is a triangle
 * inside a shaded band; a false alert is one outside.
 */
export function scoreTimelineSpec(data: ScoreTimelineData): TopLevelSpec {
  const devices = selectTimelineDevices(data);
  const times = [
    ...data.scores.map((s) => s.t),
    ...(data.alerts ?? []).map((a) => a.t),
    ...(data.windows ?? []).flatMap((w) => [w.start, w.end]),
  ];
  const tMin = times.length > 0 ? Math.min(...times) : 0;
  const tMax = times.length > 0 ? Math.max(...times) : 1;
  const width = data.width ?? 940;
  const x = {
    field: 't',
    type: 'temporal',
    title: null,
    scale: { type: 'utc', domain: [tMin, Math.max(tMax, tMin + 1)] },
  } as const;
  const y = {
    field: 'score',
    type: 'quantitative',
    title: 'score',
    scale: { domain: [0, 1] },
    axis: { values: [0, 0.5, 1], grid: true },
  } as const;
  const byDevice = new Map<string, ScorePoint[]>();
  for (const s of data.scores) {
    let list = byDevice.get(s.deviceId);
    if (!list) {
      list = [];
      byDevice.set(s.deviceId, list);
    }
    list.push(s);
  }
  const rows = devices.map((deviceId, r) => {
    const series = thinKeepingPeaks(
      (byDevice.get(deviceId) ?? []).slice().sort((a, b) => a.t - b.t),
      POINTS_PER_ROW,
      (p) => p.t,
      (p) => p.score,
    ).map((p) => ({ t: p.t, score: round(p.score) }));
    const segments = timelineSegments(series.map((p) => p.t));
    const points = series.map((p, i) => ({ ...p, seg: segments[i]! }));
    // A point alone in its segment draws no line: it is shown as a dot instead.
    const isAlone = (i: number) => segments[i - 1] !== segments[i] && segments[i + 1] !== segments[i];
    const alone = points.filter((_, i) => isAlone(i));
    const joined = points.filter((_, i) => !isAlone(i));
    const threshold =
      typeof data.threshold === 'number'
        ? data.threshold
        : data.threshold
          ? data.threshold[deviceId]
          : undefined;
    const windows = (data.windows ?? []).filter((w) => w.deviceId === deviceId);
    const alerts = (data.alerts ?? []).filter((a) => a.deviceId === deviceId);
    const last = r === devices.length - 1;
    const layers: object[] = [];
    if (windows.length > 0) {
      layers.push({
        name: `windows_r${r}`,
        data: {
          values: windows.map((w) => ({
            t: w.start,
            t2: Math.max(w.end, w.start + 1),
            label: w.label ?? '',
          })),
        },
        mark: { type: 'rect', color: WINDOW_FILL, opacity: 0.9 },
        encoding: { x, x2: { field: 't2' } },
      });
      layers.push({
        name: `window_labels_r${r}`,
        data: { values: windows.map((w) => ({ t: w.start, label: w.label ?? '' })) },
        mark: {
          type: 'text',
          align: 'left',
          baseline: 'top',
          dx: 3,
          dy: 2,
          fontSize: 9,
          color: ALERT,
          opacity: 0.8,
        },
        encoding: { x, y: { value: 0 }, text: { field: 'label' } },
      });
    }
    const detail = { field: 'seg', type: 'nominal' } as const;
    layers.push({
      name: `score_area_r${r}`,
      data: { values: joined },
      mark: { type: 'area', color: NORMAL, opacity: 0.12, interpolate: 'linear' },
      // Not stacked: each segment is filled down to zero on its own.
      encoding: { x, y: { ...y, stack: null }, detail },
    });
    layers.push({
      name: `scores_r${r}`,
      data: { values: joined },
      mark: { type: 'line', color: NORMAL, strokeWidth: 1.3, interpolate: 'linear' },
      encoding: {
        x: last ? { ...x, axis: { format: '%H:%M', labelFlush: true } } : { ...x, axis: null },
        y,
        detail,
      },
    });
    if (alone.length > 0) {
      layers.push({
        name: `score_dots_r${r}`,
        data: { values: alone },
        mark: { type: 'point', filled: true, size: 14, color: NORMAL },
        encoding: { x, y },
      });
    }
    if (threshold !== undefined) {
      layers.push({
        name: `threshold_r${r}`,
        data: { values: [{ score: threshold }] },
        mark: { type: 'rule', color: ALERT, strokeDash: [4, 3], strokeWidth: 1, opacity: 0.7 },
        encoding: { y: { field: 'score', type: 'quantitative' } },
      });
    }
    if (alerts.length > 0) {
      layers.push({
        name: `alerts_r${r}`,
        data: { values: alerts.map((a) => ({ t: a.t, score: 1, label: a.label ?? 'alert' })) },
        mark: { type: 'point', shape: 'triangle-down', filled: true, size: 70, color: ALERT, yOffset: 2 },
        encoding: { x, y: { field: 'score', type: 'quantitative' } },
      });
    }
    return {
      title: { text: deviceId, fontSize: 11, fontWeight: 600, color: MUTED, offset: 4 },
      width,
      height: 64,
      layer: layers,
    };
  });
  if (rows.length === 0) {
    // Layer names must be unique across rows: Vega-Lite names each layer's data after it.
    rows.push({
      title: { text: 'no scores', fontSize: 11, fontWeight: 600, color: MUTED, offset: 4 },
      width,
      height: 64,
      layer: [
        {
          data: { values: [{ t: tMin, score: 0 }] },
          mark: { type: 'point', opacity: 0 },
          encoding: { x, y },
        },
      ],
    });
  }
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    vconcat: rows,
    spacing: 10,
    resolve: { scale: { x: 'shared' } },
  } as TopLevelSpec;
}
