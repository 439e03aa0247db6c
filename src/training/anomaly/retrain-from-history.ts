import type { AnomalyModel } from '../../models/anomaly/behaviour-model.js';
import { FEATURE_NAMES } from '../../models/anomaly/features.js';
import {
  type FeedbackRecord,
  latestVerdicts,
  normalExamples,
  windowsToExclude,
} from '../../models/anomaly/feedback.js';
import { fitBehaviourModel } from './train.js';

/*
 * Scheduled retraining from what the worker saw: the feature vectors of the windows it scored (recorded by the
 * worker, src/ingest/anomaly-recorder.ts), the alerts it raised and the users' verdicts on them. Pure.
 *
 * Normal history = the recent windows minus
 *   - every window within one window length of an alert nobody called fine (windowsToExclude), and
 *   - every window scored anomalous, unless its episode's alert was called fine
 * (an anomaly never becomes "normal" by being retrained on), plus, as extra normal examples, the vectors of alerts
 * called fine that are older than the history (the newer ones are in it already).
 */

/** One scored window of one device, as the worker recorded it. */
export interface HistoryWindow {
  deviceId: string;
  /** Epoch ms (the worker's batch time). */
  t: number;
  /** The model input vector (after imputation), FEATURE_NAMES order. */
  vector: ArrayLike<number>;
  /** Scored above its threshold. */
  anomalous: boolean;
}

/** An alert the worker raised (anomalyDetected). */
export interface HistoryAlert {
  anomalyId: string;
  deviceId: string;
  /** Epoch ms. */
  at: number;
}

export interface RetrainHistory {
  windows: readonly HistoryWindow[];
  alerts: readonly HistoryAlert[];
  /** Every verdict, oldest first (an alert's latest verdict counts). */
  feedback: readonly FeedbackRecord[];
}

export interface RetrainFromHistoryOptions {
  seed: number;
  /** Only windows at most this long before the newest one. @defaultValue 7 days */
  historyMs?: number;
  /** The feedback log position the model's thresholds include after this retraining. */
  feedbackThrough?: number;
  /** Fine-called alerts older than the history used as extra normal examples, newest first. @defaultValue 1000 */
  maxExtraNormal?: number;
  /** Devices the live system scores (sets the scoring rate). @defaultValue devices in the history */
  devices?: number;
  /** @defaultValue 'unsaved' */
  version?: string;
}

export interface NormalHistory {
  /** Per device, kept windows' vectors in time order. */
  perDevice: Map<string, ArrayLike<number>[]>;
  windows: number;
  excluded: number;
  /** Distinct devices in the history (kept or not). */
  devices: number;
  from: number;
  to: number;
  extraNormal: number[][];
}

export const DEFAULT_HISTORY_MS = 7 * 24 * 3_600_000;

/** The normal part of the recent history (rules above). */
export function selectNormalHistory(
  history: RetrainHistory,
  windowMs: number,
  options: Pick<RetrainFromHistoryOptions, 'historyMs' | 'maxExtraNormal'> = {},
): NormalHistory {
  const width = FEATURE_NAMES.length;
  let newest = Number.NEGATIVE_INFINITY;
  for (const w of history.windows) if (w.t > newest) newest = w.t;
  const since = newest - (options.historyMs ?? DEFAULT_HISTORY_MS);
  // A window can be recorded twice (a batch replayed after a crash): one per device and time.
  const byDevice = new Map<string, Map<number, HistoryWindow>>();
  for (const w of history.windows) {
    if (w.t < since || w.vector.length !== width) continue;
    let m = byDevice.get(w.deviceId);
    if (!m) {
      m = new Map();
      byDevice.set(w.deviceId, m);
    }
    m.set(w.t, w);
  }
  const verdicts = latestVerdicts(history.feedback);
  const fineAlerts = new Map<string, number[]>();
  for (const a of history.alerts) {
    if (verdicts.get(a.anomalyId)?.verdict !== 'fine') continue;
    const list = fineAlerts.get(a.deviceId) ?? [];
    list.push(a.at);
    fineAlerts.set(a.deviceId, list);
  }
  const exclude = windowsToExclude(history.alerts, history.feedback, windowMs);
  const excludeByDevice = new Map<string, Array<{ from: number; to: number }>>();
  for (const x of exclude) {
    const list = excludeByDevice.get(x.deviceId) ?? [];
    list.push(x);
    excludeByDevice.set(x.deviceId, list);
  }
  const perDevice = new Map<string, ArrayLike<number>[]>();
  let kept = 0;
  let excluded = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const [deviceId, m] of byDevice) {
    const list = [...m.values()].sort((a, b) => a.t - b.t);
    const ranges = excludeByDevice.get(deviceId) ?? [];
    const fine = fineAlerts.get(deviceId) ?? [];
    const out: ArrayLike<number>[] = [];
    // An anomalous episode runs while anomalous windows come at most a window length apart (as the alert gate
    // counts them); it is normal only when the alert that opened it was called fine.
    let lastAnomalous = Number.NEGATIVE_INFINITY;
    let episodeFine = false;
    for (const w of list) {
      let keep = !ranges.some((r) => w.t >= r.from && w.t <= r.to);
      if (w.anomalous) {
        if (w.t - lastAnomalous > windowMs) episodeFine = fine.some((at) => Math.abs(at - w.t) <= windowMs);
        lastAnomalous = w.t;
        keep &&= episodeFine;
      }
      if (!keep) {
        excluded++;
        continue;
      }
      out.push(w.vector);
      from = Math.min(from, w.t);
      to = Math.max(to, w.t);
    }
    kept += out.length;
    if (out.length > 0) perDevice.set(deviceId, out);
  }
  const oldFine = history.feedback.filter((r) => r.at === undefined || r.at < since);
  const extraNormal = normalExamples(oldFine, width).slice(-(options.maxExtraNormal ?? 1000));
  return {
    perDevice,
    windows: kept,
    excluded,
    devices: byDevice.size,
    from: Number.isFinite(from) ? from : 0,
    to: Number.isFinite(to) ? to : 0,
    extraNormal,
  };
}

/**
 * A new behaviour model from recent history, keeping the parent's feature configuration, imputation, parameters,
 * budget and what feedback taught its thresholds (`model` should already include every verdict up to
 * `feedbackThrough`). Throws TrainingError when fewer than 50 windows remain.
 */
export function retrainFromHistory(
  model: AnomalyModel,
  history: RetrainHistory,
  options: RetrainFromHistoryOptions,
): AnomalyModel {
  const { params, config } = model.data;
  const normal = selectNormalHistory(history, config.windowMs, options);
  const next = fitBehaviourModel([...normal.perDevice.values()], {
    config,
    scoreIntervalMs: params.scoreIntervalMs,
    impute: [...model.data.impute],
    span: normal.to - normal.from,
    seed: options.seed,
    falseAlertsPerWeek: params.falseAlertsPerWeek,
    trees: params.trees,
    sampleSize: Math.max(params.sampleSize, 256),
    topFeatures: params.topFeatures,
    devices: options.devices ?? Math.max(1, normal.devices),
    extraNormal: normal.extraNormal,
    summary: {
      devices: normal.perDevice.size,
      windows: normal.windows,
      events: 0,
      from: normal.from,
      to: normal.to,
      feedbackExamples: normal.extraNormal.length,
      source: 'recent-history',
      excludedWindows: normal.excluded,
    },
    ...(options.feedbackThrough === undefined ? {} : { feedbackThrough: options.feedbackThrough }),
    ...(options.version === undefined ? {} : { version: options.version }),
  });
  return carryFeedback(model, next);
}

/** What feedback taught the thresholds carries over, group by group. */
export function carryFeedback(from: AnomalyModel, to: AnomalyModel): AnomalyModel {
  const learned = new Map(from.data.groups.map((g) => [g.name, g.thresholds]));
  return to.mapThresholds((t, name) => {
    const old = learned.get(name);
    return old ? { ...t, typeFactor: { ...old.typeFactor }, feedback: { ...old.feedback } } : t;
  });
}
