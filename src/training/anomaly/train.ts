import {
  AnomalyModel,
  type AnomalyModelParams,
  type ForestGroup,
  type TrainingSummary,
  WEEK_MS,
} from '../../models/anomaly/behaviour-model.js';
import type { DeviceEvent } from '../../models/anomaly/device-event.js';
import { eventsFromMessage } from '../../models/anomaly/events-from-messages.js';
import {
  DEFAULT_FEATURE_CONFIG,
  FEATURE_GROUPS,
  FEATURE_NAMES,
  type FeatureConfig,
  type FeatureName,
} from '../../models/anomaly/features.js';
import { fitIsolationForest, outOfBagScores } from '../../models/anomaly/isolation-forest.js';
import { selectColumns } from '../../models/anomaly/matrix.js';
import { fitThresholds } from '../../models/anomaly/thresholds.js';
import { replayWindows } from '../../models/anomaly/windows.js';
import type { Message } from '../../protocol/index.js';

export interface TrainAnomalyOptions {
  /** The baseline period, assumed normal: protocol messages (a capture) or behaviour events. */
  baseline: ReadonlyArray<DeviceEvent | Message>;
  /** @defaultValue 0 */
  seed?: number;
  /** False alerts per week the user accepts, network-wide. @defaultValue 2 */
  falseAlertsPerWeek?: number;
  /** @defaultValue 100 */
  trees?: number;
  /** ψ. @defaultValue 256 */
  sampleSize?: number;
  /** The cadence at which the worker scores each device. @defaultValue 60000 */
  scoreIntervalMs?: number;
  /** Devices the live system scores (for the scoring rate). @defaultValue the devices in the baseline */
  devices?: number;
  config?: Partial<FeatureConfig>;
  /** Model input vectors the user marked "this was fine": trained on as normal. */
  extraNormal?: ReadonlyArray<ArrayLike<number>>;
  /** Windows to leave out (alerts nobody confirmed as fine), per device. */
  exclude?: ReadonlyArray<{ deviceId: string; from: number; to: number }>;
  /** The feature groups, one forest each. @defaultValue FEATURE_GROUPS */
  groups?: ReadonlyArray<{ name: string; features: readonly FeatureName[] }>;
  /** Baseline span below which the time-of-day (schedule) group is not trained. @defaultValue 7 days */
  scheduleMinBaselineMs?: number;
  /** Leave out each device's first windows while its own references form. @defaultValue config.stationaryAfterMs (2 h) */
  warmupMs?: number;
  /** Features reported per assessment. @defaultValue 5 */
  topFeatures?: number;
  /** @defaultValue 'unsaved' (set when saved into a model directory) */
  version?: string;
}

export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

export function toDeviceEvents(baseline: ReadonlyArray<DeviceEvent | Message>): DeviceEvent[] {
  const out: DeviceEvent[] = [];
  for (const item of baseline) {
    if ('type' in item) out.push(...eventsFromMessage(item));
    else out.push(item);
  }
  return out;
}

function medianIgnoringNaN(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Fits the behaviour model on a baseline period: features → isolation forest → thresholds from the budget. */
export function trainAnomalyModel(options: TrainAnomalyOptions): AnomalyModel {
  const config: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, ...options.config };
  const scoreIntervalMs = options.scoreIntervalMs ?? 60_000;
  const events = toDeviceEvents(options.baseline);
  if (events.length === 0) throw new TrainingError('the baseline holds no device behaviour events');
  const replay = replayWindows(events, {
    config,
    scoreIntervalMs,
    warmupMs: options.warmupMs ?? config.stationaryAfterMs,
    ...(options.exclude ? { exclude: options.exclude } : {}),
  });
  const impute = FEATURE_NAMES.map((_, j) =>
    medianIgnoringNaN(replay.windows.map((w) => w.window.values[j]!)),
  );
  const perDevice = [...replay.perDevice.values()].map((list) => list.map((w) => w.window.values));
  return fitBehaviourModel(perDevice, {
    ...options,
    config,
    scoreIntervalMs,
    impute,
    span: replay.to - replay.from,
    summary: {
      devices: replay.perDevice.size,
      windows: replay.windows.length,
      events: replay.events,
      from: replay.from,
      to: replay.to,
      feedbackExamples: options.extraNormal?.length ?? 0,
      source: 'baseline',
    },
  });
}

export interface FitBehaviourOptions
  extends Omit<TrainAnomalyOptions, 'baseline' | 'exclude' | 'warmupMs' | 'config' | 'scoreIntervalMs'> {
  config: FeatureConfig;
  scoreIntervalMs: number;
  /** Per feature, the value that replaces a missing (non-finite) one. */
  impute: number[];
  /** Time covered by the windows, ms (the schedule group needs a week). */
  span: number;
  summary: TrainingSummary;
  /** The feedback log position the model's thresholds include. */
  feedbackThrough?: number;
}

/**
 * The fitting step shared by training from a baseline and retraining from recent windows: per device, its scored
 * windows' feature vectors in time order (non-finite values are imputed), plus extra normal examples → one forest
 * per feature group, out-of-bag baseline scores, thresholds from the budget.
 */
export function fitBehaviourModel(
  perDevice: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>,
  options: FitBehaviourOptions,
): AnomalyModel {
  const { config, scoreIntervalMs, impute } = options;
  const extra = options.extraNormal ?? [];
  const windows = perDevice.reduce((n, list) => n + list.length, 0);
  const rows = windows + extra.length;
  if (rows < 50) {
    throw new TrainingError(
      `the baseline gives ${windows} scored windows; need at least 50 (e.g. an hour of 1 device scored every minute)`,
    );
  }
  const d = FEATURE_NAMES.length;
  const data = new Float64Array(rows * d);
  let row = 0;
  const put = (values: ArrayLike<number>, what: string) => {
    if (values.length !== d) throw new TrainingError(`${what} has ${values.length} values, expected ${d}`);
    for (let j = 0; j < d; j++) {
      const v = values[j]!;
      data[row * d + j] = Number.isFinite(v) ? v : impute[j]!;
    }
    row++;
  };
  for (const list of perDevice) for (const values of list) put(values, 'a window');
  for (const [k, values] of extra.entries()) put(values, `feedback example ${k}`);
  const x = { data, rows, cols: d };
  const seed = options.seed ?? 0;
  const trees = options.trees ?? 100;
  const sampleSize = options.sampleSize ?? 256;
  const psi = Math.min(sampleSize, rows);
  const budget = options.falseAlertsPerWeek ?? 2;
  const devices = options.devices ?? options.summary.devices;
  // Time of day means nothing until the baseline has seen every hour of every day of the week: household routines
  // are weekly (a laptop away on most weekdays is home at the weekend, and on some weekdays), and a device's hour
  // profile only counts after its first complete day. On two days the group learnt one day's routine and called
  // every other day's unusual: in the benchmark's simulated week, 10 of 13 false alerts (budget 2 a week).
  const minSchedule = options.scheduleMinBaselineMs ?? 7 * 24 * 3_600_000;
  const active = (options.groups ?? FEATURE_GROUPS)
    .map((group, g) => ({ group, g }))
    // An hour's slack: a capture of seven calendar days spans a few seconds less than 168 h.
    .filter(({ group }) => group.name !== 'schedule' || options.span >= minSchedule - 3_600_000);
  const groups: ForestGroup[] = active.map(({ group, g }) => {
    const features = group.features.map((name) => FEATURE_NAMES.indexOf(name));
    const sub = selectColumns(x, features);
    const samples = new Int32Array(trees * psi);
    // Each group its own stream of the seed, so adding a group leaves the others' trees unchanged.
    const forest = fitIsolationForest(sub, {
      trees,
      sampleSize,
      seed: seed * 101 + g,
      recordSamples: samples,
    });
    const scores = outOfBagScores(forest, sub, samples, { rangeCheck: true });
    // Per-device score series in time order, for the extremal index.
    const series: Float64Array[] = [];
    let offset = 0;
    for (const list of perDevice) {
      series.push(scores.subarray(offset, offset + list.length));
      offset += list.length;
    }
    if (extra.length > 0) series.push(scores.subarray(offset));
    const thresholds = fitThresholds(series, {
      falseAlertsPerWeek: budget / active.length,
      scoresPerWeek: (devices * WEEK_MS) / scoreIntervalMs,
      runLength: Math.max(1, Math.ceil(config.windowMs / scoreIntervalMs)),
    });
    return { name: group.name, features, forest, thresholds };
  });
  const params: AnomalyModelParams = {
    trees,
    sampleSize: psi,
    seed,
    scoreIntervalMs,
    topFeatures: options.topFeatures ?? 5,
    falseAlertsPerWeek: budget,
  };
  return new AnomalyModel({
    version: options.version ?? 'unsaved',
    featureNames: FEATURE_NAMES,
    config,
    params,
    groups,
    impute,
    summary: { ...options.summary, feedbackExamples: extra.length },
    ...(options.feedbackThrough === undefined ? {} : { feedbackThrough: options.feedbackThrough }),
  });
}

/**
 * Scheduled retraining (pure): a new forest and score distribution from recent normal history, keeping the
 * budget, the parameters and what feedback taught the thresholds. `feedbackExamples` are vectors the user
 * marked "this was fine"; they join the normal history.
 */
export function retrain(
  model: AnomalyModel,
  recentNormal: ReadonlyArray<DeviceEvent | Message>,
  seed: number,
  options: Pick<TrainAnomalyOptions, 'extraNormal' | 'exclude' | 'devices' | 'version'> = {},
): AnomalyModel {
  const { params, config } = model.data;
  const next = trainAnomalyModel({
    baseline: recentNormal,
    seed,
    falseAlertsPerWeek: params.falseAlertsPerWeek,
    trees: params.trees,
    sampleSize: Math.max(params.sampleSize, 256),
    scoreIntervalMs: params.scoreIntervalMs,
    config,
    topFeatures: params.topFeatures,
    ...options,
  });
  // What feedback taught the thresholds carries over, group by group.
  const learned = new Map(model.data.groups.map((g) => [g.name, g.thresholds]));
  return next.mapThresholds((t, name) => {
    const old = learned.get(name);
    return old ? { ...t, typeFactor: { ...old.typeFactor }, feedback: { ...old.feedback } } : t;
  });
}
