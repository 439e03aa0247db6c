import type { AnomalyType } from '../../protocol/index.js';
import type { BehaviourAssessment, BehaviourEvent, BehaviourModel } from '../contracts/behaviour.js';
import { classifyAnomaly, RECOMMENDED_ACTION } from './anomaly-type.js';
import {
  type DeviceWindowState,
  FEATURE_NAMES,
  type FeatureConfig,
  type FeatureName,
  type FeatureWindow,
  initialWindowState,
  observeEvent,
  windowFeatures,
} from './features.js';
import { explainRow, type IsolationForest } from './isolation-forest.js';
import { performanceScore } from './performance-score.js';
import {
  applyFeedback,
  confidenceFor,
  exceedanceProbability,
  type Feedback,
  severityFor,
  type ThresholdState,
  thresholdFor,
  withBudget,
} from './thresholds.js';

export const ML_MODEL = 'isolation_forest';

export interface AnomalyModelParams {
  trees: number;
  sampleSize: number;
  seed: number;
  /** How often the training replay scored each device; the budget's scoring rate assumes the worker does too. */
  scoreIntervalMs: number;
  /** Features reported in an assessment's explanation. */
  topFeatures: number;
  /** The user's budget, network-wide; each group's thresholds get an equal share (Bonferroni). */
  falseAlertsPerWeek: number;
}

export interface TrainingSummary {
  devices: number;
  windows: number;
  events: number;
  /** Epoch ms of the baseline's first and last event. */
  from: number;
  to: number;
  /** Feedback examples ("this was fine") included as normal. */
  feedbackExamples: number;
  /** What the model was fitted on: a baseline capture (`sbp train`), or the worker's recent scored windows. */
  source?: 'baseline' | 'recent-history';
  /** Recent windows left out of a retraining (alerts nobody called fine, and their surroundings). */
  excludedWindows?: number;
}

/** One forest over a subspace of the features (FEATURE_GROUPS), with its own score distribution and thresholds. */
export interface ForestGroup {
  name: string;
  /** Column indices into FEATURE_NAMES. */
  features: number[];
  forest: IsolationForest;
  /** From this group's out-of-bag baseline scores, with budget falseAlertsPerWeek / groups. */
  thresholds: ThresholdState;
}

/** Everything a trained behaviour model is made of; serialised by model-codec.ts. */
export interface AnomalyModelData {
  version: string;
  featureNames: readonly FeatureName[];
  config: FeatureConfig;
  params: AnomalyModelParams;
  groups: ForestGroup[];
  /** Per feature, the value used when the device reported nothing to compute it from (training median). */
  impute: number[];
  summary: TrainingSummary;
  /**
   * The deployment's feedback log position whose verdicts these thresholds already include (a retrained model
   * carries what feedback taught its parent); the worker applies only later verdicts on top. Absent = none.
   */
  feedbackThrough?: number;
}

export interface FeatureContribution {
  name: FeatureName;
  /** Raw value in its unit (FEATURE_UNITS). */
  value: number;
  /** Share of the isolation, 0..1. */
  share: number;
}

export interface GroupScore {
  name: string;
  score: number;
  threshold: number;
  /** P(a normal window scores this high in this group). */
  tailProbability: number;
}

/** A BehaviourAssessment plus the full explanation, for reports and feedback. */
export interface DetailedAssessment extends BehaviourAssessment {
  contributions: FeatureContribution[];
  groups: GroupScore[];
  /** The group the score and threshold come from. */
  group: string;
  /** The model input vector (after imputation), for feedback examples. */
  vector: number[];
  /** Epoch ms of the device's first event in its window state (how long its own references have been forming). */
  firstSeen?: number;
}

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * The behaviour model the worker calls: per-device window state (plain object), pure observe/assess, one
 * isolation forest per feature group, explanations, thresholds from the alert budget.
 *
 * A window is anomalous when some group's score passes that group's threshold. The assessment reports the group
 * closest to (or furthest past) its threshold: its standard forest score as `anomalyScore` and its threshold, so
 * `anomalous` is always `anomalyScore > threshold`.
 */
export class AnomalyModel implements BehaviourModel<DeviceWindowState> {
  readonly version: string;
  /**
   * The per-device state depends only on the feature configuration: a retrained forest with the same config keeps
   * every device's window state and long-term references (hours to days of history) instead of starting afresh.
   */
  readonly stateVersion: string;
  constructor(readonly data: AnomalyModelData) {
    if (
      data.featureNames.length !== FEATURE_NAMES.length ||
      data.featureNames.some((n, i) => n !== FEATURE_NAMES[i])
    ) {
      throw new Error(`anomaly model features [${data.featureNames.join(', ')}] do not match this code's`);
    }
    if (data.groups.length === 0) throw new Error('anomaly model has no forest groups');
    for (const g of data.groups) {
      if (g.forest.cols !== g.features.length || g.features.some((f) => f < 0 || f >= FEATURE_NAMES.length)) {
        throw new Error(`anomaly model group ${g.name} does not fit its features`);
      }
    }
    this.version = data.version;
    this.stateVersion = `features-${FEATURE_NAMES.length}-${fnv1aHex(JSON.stringify(data.config, Object.keys(data.config).sort()))}`;
  }

  initialState(deviceId: string): DeviceWindowState {
    return initialWindowState(deviceId);
  }

  observe(state: DeviceWindowState, event: BehaviourEvent): DeviceWindowState {
    return observeEvent(state, event, this.data.config);
  }

  /** The window's features and imputed model input, or null while there is too little history. */
  features(state: DeviceWindowState, nowMs: number): { window: FeatureWindow; vector: Float64Array } | null {
    const window = windowFeatures(state, nowMs, this.data.config);
    if (window === null) return null;
    return { window, vector: imputeVector(window.values, this.data.impute) };
  }

  assess(state: DeviceWindowState, nowMs: number): BehaviourAssessment | null {
    return this.assessDetailed(state, nowMs);
  }

  assessDetailed(state: DeviceWindowState, nowMs: number): DetailedAssessment | null {
    const f = this.features(state, nowMs);
    if (f === null) return null;
    const a = this.assessVector(f.vector, f.window);
    if (state.firstSeen !== null) a.firstSeen = state.firstSeen;
    return a;
  }

  assessVector(vector: Float64Array, window: FeatureWindow): DetailedAssessment {
    const { groups, params } = this.data;
    const scored = scoreGroups(groups, vector);
    const contributions: FeatureContribution[] = FEATURE_NAMES.map((name, i) => ({
      name,
      value: window.raw[name],
      share: scored.share[i]!,
    })).sort((a, b) => b.share - a.share);
    const anomalyType = classifyAnomaly(contributions, window.raw);
    const groupScores: GroupScore[] = groups.map((g, k) => ({
      name: g.name,
      score: scored.scores[k]!,
      threshold: thresholdFor(g.thresholds, anomalyType),
      tailProbability: scored.tail[k]!,
    }));
    let best = 0;
    for (let k = 1; k < groupScores.length; k++) {
      const m = groupScores[k]!.score - groupScores[k]!.threshold;
      if (m > groupScores[best]!.score - groupScores[best]!.threshold) best = k;
    }
    const chosen = groupScores[best]!;
    const state = groups[best]!.thresholds;
    const anomalous = chosen.score > chosen.threshold;
    const confidence = confidenceFor(state, chosen.score, anomalyType);
    const features: Record<string, number> = {};
    for (const c of contributions.slice(0, params.topFeatures)) {
      if (c.share <= 0) break;
      features[c.name] = Number.isFinite(c.value) ? round(c.value, 3) : 0;
      features[`${c.name}_contribution`] = round(c.share, 3);
    }
    const assessment: DetailedAssessment = {
      anomalyScore: Math.min(1, Math.max(0, chosen.score)),
      threshold: chosen.threshold,
      anomalous,
      confidence: anomalous ? confidence : 1 - confidence,
      features,
      modelVersion: this.version,
      mlModel: ML_MODEL,
      contributions,
      groups: groupScores,
      group: chosen.name,
      vector: Array.from(vector),
    };
    if (anomalous) {
      assessment.anomalyType = anomalyType;
      assessment.severity = severityFor(state, chosen.score, anomalyType);
      assessment.recommendedAction = RECOMMENDED_ACTION[anomalyType];
    }
    const perf = performanceScore(window.performance);
    if (perf !== undefined) assessment.performanceScore = perf;
    return assessment;
  }

  /** Pure: the model after the user's verdict on an alert ("fine" raises that type's thresholds, "real" lowers). */
  applyFeedback(feedback: Feedback): AnomalyModel {
    return this.mapThresholds((t) => applyFeedback(t, feedback));
  }

  /** The model for a new network-wide budget or scoring rate (devices came or went). */
  withBudget(change: { falseAlertsPerWeek?: number; devices?: number }): AnomalyModel {
    const n = this.data.groups.length;
    const budget = change.falseAlertsPerWeek ?? this.data.params.falseAlertsPerWeek;
    const rate =
      change.devices === undefined
        ? undefined
        : (change.devices * WEEK_MS) / this.data.params.scoreIntervalMs;
    const next = this.mapThresholds((t) =>
      withBudget(t, {
        falseAlertsPerWeek: budget / n,
        ...(rate === undefined ? {} : { scoresPerWeek: rate }),
      }),
    );
    return new AnomalyModel({ ...next.data, params: { ...next.data.params, falseAlertsPerWeek: budget } });
  }

  mapThresholds(fn: (t: ThresholdState, group: string) => ThresholdState): AnomalyModel {
    return new AnomalyModel({
      ...this.data,
      groups: this.data.groups.map((g) => ({ ...g, thresholds: fn(g.thresholds, g.name) })),
    });
  }

  withVersion(version: string): AnomalyModel {
    return new AnomalyModel({ ...this.data, version });
  }

  /** The lowest threshold over groups for a type, e.g. for plots. */
  thresholdsFor(type?: AnomalyType): Record<string, number> {
    return Object.fromEntries(this.data.groups.map((g) => [g.name, thresholdFor(g.thresholds, type)]));
  }
}

export const WEEK_MS = 7 * 24 * 3_600_000;

function fnv1aHex(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * Scores every group (standard forest score, out-of-box correction on) and attributes the window to features: each
 * group's per-feature isolation shares, weighted by how unusual the group's score is for normal traffic —
 * w = max(0, −log10 P(normal ≥ score) − 1), so groups within their usual 90 % say nothing.
 */
export function scoreGroups(
  groups: readonly ForestGroup[],
  vector: ArrayLike<number>,
): { scores: number[]; tail: number[]; share: Float64Array } {
  const share = new Float64Array(FEATURE_NAMES.length);
  const scores: number[] = [];
  const tail: number[] = [];
  const explanations = groups.map((g) => {
    const sub = Float64Array.from(g.features, (f) => vector[f]!);
    const e = explainRow(g.forest, sub, { rangeCheck: true });
    scores.push(e.score);
    tail.push(exceedanceProbability(g.thresholds, e.score));
    return e;
  });
  let weights = tail.map((p) => Math.max(0, -Math.log10(Math.max(p, 1e-300)) - 1));
  let total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) {
    weights = tail.map((p) => 1 - p);
    total = weights.reduce((a, b) => a + b, 0);
  }
  groups.forEach((g, k) => {
    const w = total > 0 ? weights[k]! / total : 1 / groups.length;
    g.features.forEach((f, j) => {
      share[f]! += w * explanations[k]!.share[j]!;
    });
  });
  return { scores, tail, share };
}

export function imputeVector(values: Float64Array, impute: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = Number.isFinite(values[i]!) ? values[i]! : (impute[i] ?? 0);
  return out;
}
