import { quantileSorted } from '../models/positioning/stats.js';
import type { AnomalyType } from '../protocol/index.js';
import type { TruthWindow } from './labels.js';
import { Decimator, Reservoir } from './sampling.js';

const MAX_ALERTS_KEPT = 100_000;
const SCORE_SAMPLE = 50_000;
const MAX_TIMELINE_DEVICES = 200;
const TIMELINE_POINTS = 600;

export interface Alert {
  deviceId: string;
  /** Epoch ms. */
  t: number;
  anomalyType: AnomalyType;
  score?: number;
}

export interface DetectionOptions {
  /**
   * An alert up to this long after a labelled window ends still detects it: the features look back over a window,
   * so they keep seeing the anomaly for a while. @defaultValue 300000 (5 min)
   */
  graceMs?: number;
}

export interface TypeRecall {
  anomalyType: AnomalyType;
  windows: number;
  detected: number;
}

export interface DetectionSummary {
  alerts: number;
  /** Labelled anomaly windows; 0 when the capture has no labels. */
  windows: number;
  truePositives: number;
  falsePositives: number;
  /** Share of alerts that fall in a labelled window (+ grace); null without labels or alerts. */
  precision: number | null;
  /** Share of labelled windows with at least one alert; null without labels. */
  recall: number | null;
  /** Share of true alerts whose type matches the label's. */
  typeAccuracy: number | null;
  /** Seconds from a window's start to its first alert: median, p90, max over detected windows. */
  timeToDetect: { median: number; p90: number; max: number } | null;
  /** False alerts per day of capture. */
  falseAlertsPerDay: number | null;
  perType: TypeRecall[];
}

/**
 * Alerts against labelled anomaly windows. Alerts are few (the alert budget keeps them so), so they are kept (up to
 * 100,000) and matched at the end; scores are sampled in and out of windows for the distributions.
 */
export class DetectionMetrics {
  readonly alerts: Alert[] = [];
  #alertsSeen = 0;
  readonly #windows: readonly TruthWindow[];
  readonly #byDevice = new Map<string, TruthWindow[]>();
  readonly #graceMs: number;
  readonly #normalScores = new Reservoir<number>(SCORE_SAMPLE, 21);
  readonly #anomalousScores = new Reservoir<number>(SCORE_SAMPLE, 23);
  readonly #timelines = new Map<string, Decimator<{ t: number; score: number }>>();
  #thresholds = new Map<string, number>();
  #firstT = Number.POSITIVE_INFINITY;
  #lastT = Number.NEGATIVE_INFINITY;

  constructor(windows: readonly TruthWindow[], options: DetectionOptions = {}) {
    this.#windows = windows;
    this.#graceMs = options.graceMs ?? 300_000;
    for (const w of windows) {
      let list = this.#byDevice.get(w.deviceId);
      if (!list) {
        list = [];
        this.#byDevice.set(w.deviceId, list);
      }
      list.push(w);
    }
  }

  get labelled(): boolean {
    return this.#windows.length > 0;
  }

  /** Stretches the capture's time span (for false alerts per day). */
  observeTime(t: number): void {
    if (t < this.#firstT) this.#firstT = t;
    if (t > this.#lastT) this.#lastT = t;
  }

  addAlert(alert: Alert, threshold?: number): void {
    this.#alertsSeen += 1;
    if (this.alerts.length < MAX_ALERTS_KEPT) this.alerts.push(alert);
    if (threshold !== undefined) this.#thresholds.set(alert.deviceId, threshold);
  }

  addScore(deviceId: string, t: number, score: number): void {
    this.observeTime(t);
    (this.windowAt(deviceId, t, 0) ? this.#anomalousScores : this.#normalScores).add(score);
    let line = this.#timelines.get(deviceId);
    if (!line) {
      if (this.#timelines.size >= MAX_TIMELINE_DEVICES) return;
      line = new Decimator(TIMELINE_POINTS, (p) => p.score);
      this.#timelines.set(deviceId, line);
    }
    line.add({ t, score });
  }

  /** The labelled window covering (device, t), allowing `graceMs` after its end. */
  windowAt(deviceId: string, t: number, graceMs = this.#graceMs): TruthWindow | undefined {
    const list = this.#byDevice.get(deviceId);
    if (!list) return undefined;
    for (const w of list) if (t >= w.start && t <= w.end + graceMs) return w;
    return undefined;
  }

  summary(): DetectionSummary {
    let tp = 0;
    let typeHits = 0;
    const firstAlert = new Map<TruthWindow, number>();
    for (const a of this.alerts) {
      const w = this.windowAt(a.deviceId, a.t);
      if (!w) continue;
      tp += 1;
      if (w.anomalyType === a.anomalyType) typeHits += 1;
      const prev = firstAlert.get(w);
      if (prev === undefined || a.t < prev) firstAlert.set(w, a.t);
    }
    const alerts = this.#alertsSeen;
    const fp = this.alerts.length - tp;
    const delays = [...firstAlert.entries()]
      .map(([w, t]) => Math.max(0, t - w.start) / 1000)
      .sort((a, b) => a - b);
    const perType = new Map<AnomalyType, TypeRecall>();
    for (const w of this.#windows) {
      let r = perType.get(w.anomalyType);
      if (!r) {
        r = { anomalyType: w.anomalyType, windows: 0, detected: 0 };
        perType.set(w.anomalyType, r);
      }
      r.windows += 1;
      if (firstAlert.has(w)) r.detected += 1;
    }
    const days = (this.#lastT - this.#firstT) / 86_400_000;
    const labelled = this.labelled;
    return {
      alerts,
      windows: this.#windows.length,
      truePositives: labelled ? tp : 0,
      falsePositives: labelled ? fp : 0,
      precision: labelled && this.alerts.length > 0 ? tp / this.alerts.length : null,
      recall: labelled ? firstAlert.size / this.#windows.length : null,
      typeAccuracy: labelled && tp > 0 ? typeHits / tp : null,
      timeToDetect:
        delays.length > 0
          ? {
              median: quantileSorted(delays, 0.5),
              p90: quantileSorted(delays, 0.9),
              max: delays[delays.length - 1]!,
            }
          : null,
      falseAlertsPerDay: labelled && days > 0 ? fp / days : null,
      perType: [...perType.values()].sort((a, b) => (a.anomalyType < b.anomalyType ? -1 : 1)),
    };
  }

  scores(): { normal: readonly number[]; anomalous: readonly number[] } {
    return { normal: this.#normalScores.items, anomalous: this.#anomalousScores.items };
  }

  timelines(): { deviceId: string; t: number; score: number }[] {
    return [...this.#timelines.entries()].flatMap(([deviceId, d]) =>
      d.values().map((p) => ({ deviceId, ...p })),
    );
  }

  thresholds(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#thresholds);
  }

  windows(): readonly TruthWindow[] {
    return this.#windows;
  }
}
