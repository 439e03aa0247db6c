import { quantileSorted } from 'simple-statistics';
import type { AnomalyType, Severity } from '../../protocol/index.js';

/*
 * Alert thresholds from a budget of false alerts per week.
 *
 * The baseline period is assumed normal. Its scores give the distribution of normal scores: an empirical quantile
 * grid, and above a high level u a generalised Pareto tail P(S > s) = P(S > u)·(1 + ξ(s − u)/σ)^(−1/ξ) fitted to
 * the excesses by probability-weighted moments (peaks over threshold, as in SPOT, Siffer et al. KDD 2017; PWM:
 * Hosking & Wallis 1987) — a budget of one false alert per week on 30 devices scored every minute is a tail
 * probability near 3·10⁻⁶, far past the last baseline score. Forest scores are bounded, so ξ is usually negative
 * (a finite upper end); ξ is clamped to [−1, 0.5]. Where the budget asks for
 * a probability below 1/n, the threshold is at least the baseline's highest score.
 * Exceedances come in clusters (one odd window is seen by several overlapping windows) and the alert gate sends one
 * alert per cluster, so alerts per week = θ · R · P(S > s) with R the scores per week and θ the extremal index
 * (clusters per exceedance, runs estimator on the baseline). The threshold solves that for the budget.
 */

export interface ThresholdState {
  /** False alerts per week the user accepts, across the whole network. */
  budgetPerWeek: number;
  /** Scores made per week across the network (devices × assessments per device per week). */
  scoresPerWeek: number;
  /** Clusters per exceedance in the baseline, in (0, 1]. */
  extremalIndex: number;
  /** Baseline score quantiles at probabilities 0, 1/(m−1), …, up to 1 − tailProbability. */
  quantiles: number[];
  /** u: where the exponential tail starts. */
  tailStart: number;
  /** P(S > u) in the baseline. */
  tailProbability: number;
  /** σ of the generalised Pareto tail. */
  tailScale: number;
  /** ξ of the generalised Pareto tail (0 = exponential, < 0 = bounded). */
  tailShape: number;
  baselineCount: number;
  /** The highest baseline score: never alerting below it unless the budget allows that often (a guard against
   * a tail fit that ends too early). */
  baselineMax: number;
  /** Feedback multipliers on the alert rate allowed per anomaly type (1 = as budgeted; below 1 = stricter). */
  typeFactor: Partial<Record<AnomalyType, number>>;
  feedback: { falsePositives: number; truePositives: number };
}

export interface ThresholdOptions {
  /** @defaultValue 2 */
  falseAlertsPerWeek?: number;
  /** Scores per week the live system will make (network-wide). */
  scoresPerWeek: number;
  /**
   * Non-exceeding scores in a row that end a cluster (the alert gate's quiet period in scores). Series are the
   * per-device score sequences in time order. @defaultValue 5
   */
  runLength?: number;
  /** Fraction of baseline scores in the tail fit. @defaultValue 0.005 (at least 50 scores) */
  tailFraction?: number;
}

const QUANTILE_POINTS = 101;

export function fitThresholds(
  series: ReadonlyArray<ArrayLike<number>>,
  options: ThresholdOptions,
): ThresholdState {
  const budget = options.falseAlertsPerWeek ?? 2;
  if (!(budget > 0)) throw new Error(`the alert budget must be > 0 false alerts per week, got ${budget}`);
  if (!(options.scoresPerWeek > 0))
    throw new Error(`scoresPerWeek must be > 0, got ${options.scoresPerWeek}`);
  const all: number[] = [];
  for (const s of series) for (let i = 0; i < s.length; i++) all.push(s[i]!);
  const n = all.length;
  if (n < 50) throw new Error(`thresholds need at least 50 baseline scores, got ${n}`);
  const sorted = all.sort((a, b) => a - b);
  const k = Math.min(n - 1, Math.max(50, Math.round((options.tailFraction ?? 0.005) * n)));
  const tailProbability = k / n;
  const tailStart = sorted[n - k - 1]!;
  const { scale: tailScale, shape: tailShape } = fitGeneralisedPareto(
    sorted.slice(n - k).map((v) => v - tailStart),
  );
  const quantiles: number[] = [];
  for (let i = 0; i < QUANTILE_POINTS; i++) {
    quantiles.push(quantileSorted(sorted, (i / (QUANTILE_POINTS - 1)) * (1 - tailProbability)));
  }
  const extremalIndex = runsExtremalIndex(series, tailStart, options.runLength ?? 5);
  return {
    budgetPerWeek: budget,
    scoresPerWeek: options.scoresPerWeek,
    extremalIndex,
    quantiles,
    tailStart,
    tailProbability,
    tailScale,
    tailShape,
    baselineCount: n,
    baselineMax: sorted[n - 1]!,
    typeFactor: {},
    feedback: { falsePositives: 0, truePositives: 0 },
  };
}

/** GPD fit to excesses (ascending) by probability-weighted moments; degenerate tails get a tiny exponential. */
export function fitGeneralisedPareto(excesses: readonly number[]): { scale: number; shape: number } {
  const k = excesses.length;
  const a0 = excesses.reduce((a, b) => a + b, 0) / k;
  let a1 = 0;
  for (let i = 0; i < k; i++) a1 += (1 - (i + 1 - 0.35) / k) * excesses[i]!;
  a1 /= k;
  const denom = a0 - 2 * a1;
  // 1e-4 of a score unit is below any real spread: a floor for all-equal tails.
  if (!(a0 > 1e-9) || !(denom > 1e-12)) return { scale: Math.max(a0, 1e-4), shape: 0 };
  const shape = Math.min(0.5, Math.max(-1, -(a0 / denom - 2)));
  const scale = Math.max(1e-4, (2 * a0 * a1) / denom);
  return { scale, shape };
}

/** P(Y > y) of the fitted tail, for an excess y ≥ 0. */
function gpdSurvival(y: number, scale: number, shape: number): number {
  if (Math.abs(shape) < 1e-9) return Math.exp(-y / scale);
  const base = 1 + (shape * y) / scale;
  return base <= 0 ? 0 : base ** (-1 / shape);
}

/** The excess y with P(Y > y) = q. */
function gpdQuantile(q: number, scale: number, shape: number): number {
  if (Math.abs(shape) < 1e-9) return -scale * Math.log(q);
  return (scale / shape) * (q ** -shape - 1);
}

/** Runs estimator of the extremal index: clusters / exceedances of `level`, clusters split by `run` quiet scores. */
export function runsExtremalIndex(
  series: ReadonlyArray<ArrayLike<number>>,
  level: number,
  run: number,
): number {
  let exceedances = 0;
  let clusters = 0;
  for (const s of series) {
    let quiet = Number.POSITIVE_INFINITY;
    for (let i = 0; i < s.length; i++) {
      if (s[i]! > level) {
        exceedances++;
        if (quiet >= run) clusters++;
        quiet = 0;
      } else quiet++;
    }
  }
  if (exceedances === 0) return 1;
  return Math.min(1, Math.max(0.05, clusters / exceedances));
}

/** P(S > score) for a normal window, from the baseline's quantiles and tail. */
export function exceedanceProbability(state: ThresholdState, score: number): number {
  if (score >= state.tailStart) {
    return state.tailProbability * gpdSurvival(score - state.tailStart, state.tailScale, state.tailShape);
  }
  const q = state.quantiles;
  const m = q.length - 1;
  if (score < q[0]!) return 1;
  // Linear interpolation of the empirical CDF between grid points.
  let lo = 0;
  let hi = m;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (q[mid]! <= score) lo = mid;
    else hi = mid;
  }
  const span = q[hi]! - q[lo]!;
  const frac = span > 0 ? (score - q[lo]!) / span : 1;
  const cdf = ((lo + frac) / m) * (1 - state.tailProbability);
  return Math.min(1, Math.max(state.tailProbability, 1 - cdf));
}

function factor(state: ThresholdState, type: AnomalyType | undefined): number {
  return type === undefined ? 1 : (state.typeFactor[type] ?? 1);
}

/** False alerts per week that normal traffic would raise at this score (network-wide). */
export function falseAlertRate(state: ThresholdState, score: number): number {
  return state.extremalIndex * state.scoresPerWeek * exceedanceProbability(state, score);
}

/** The score above which an anomaly of `type` alerts, so normal traffic raises `budget × factor` alerts per week. */
export function thresholdFor(state: ThresholdState, type?: AnomalyType): number {
  const allowed = state.budgetPerWeek * factor(state, type);
  const target = allowed / (state.extremalIndex * state.scoresPerWeek);
  if (target >= 1) return 0;
  let t: number;
  if (target <= state.tailProbability) {
    t = state.tailStart + gpdQuantile(target / state.tailProbability, state.tailScale, state.tailShape);
    if (target < 1 / state.baselineCount) t = Math.max(t, state.baselineMax);
  } else {
    const cdf = 1 - target;
    const pos = (cdf / (1 - state.tailProbability)) * (state.quantiles.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, state.quantiles.length - 1);
    t = state.quantiles[lo]! + (pos - lo) * (state.quantiles[hi]! - state.quantiles[lo]!);
  }
  return Math.min(1, t);
}

/**
 * Severity from how often normal traffic would score this high, relative to the budget: at the threshold normal
 * traffic does it `budget` times a week; each further factor of 10 rarer is one step up.
 */
export function severityFor(state: ThresholdState, score: number, type?: AnomalyType): Severity {
  const ratio = falseAlertRate(state, score) / (state.budgetPerWeek * factor(state, type));
  if (ratio > 0.1) return 'low';
  if (ratio > 0.01) return 'medium';
  if (ratio > 0.001) return 'high';
  return 'critical';
}

/**
 * Confidence that an alert at this score is not one of the budgeted false alarms: B / (B + r(s)), with r(s) the
 * false-alert rate at the score. 0.5 at the threshold, → 1 for scores normal traffic practically never reaches.
 */
export function confidenceFor(state: ThresholdState, score: number, type?: AnomalyType): number {
  const b = state.budgetPerWeek * factor(state, type);
  return b / (b + falseAlertRate(state, score));
}

/** What the user said about an alert: "this was fine" (a false positive) or "this was real". */
export interface Feedback {
  verdict: 'fine' | 'real';
  anomalyType?: AnomalyType;
  /** The alert's score, when known. */
  score?: number;
  /**
   * The verdict this one replaces (the user changed their mind about the same alert): its effect is undone first,
   * so an alert counts once, with its latest verdict.
   */
  replaces?: 'fine' | 'real';
}

/** Each "fine" makes that type's alerts 30% rarer, each "real" 10% more frequent, within [1/20, 4] of the budget. */
export const FEEDBACK_STEP = { fine: 0.7, real: 1.1, min: 0.05, max: 4 } as const;

/** Pure: the thresholds after one piece of feedback. "fine" raises the type's threshold, "real" lowers it. */
export function applyFeedback(state: ThresholdState, feedback: Feedback): ThresholdState {
  if (feedback.replaces === feedback.verdict) return state;
  const type = feedback.anomalyType ?? 'behavior_change';
  let step = feedback.verdict === 'fine' ? FEEDBACK_STEP.fine : FEEDBACK_STEP.real;
  if (feedback.replaces !== undefined) step /= FEEDBACK_STEP[feedback.replaces];
  const next = Math.min(FEEDBACK_STEP.max, Math.max(FEEDBACK_STEP.min, factor(state, type) * step));
  const undone = (v: 'fine' | 'real') => (feedback.replaces === v ? 1 : 0);
  return {
    ...state,
    typeFactor: { ...state.typeFactor, [type]: next },
    feedback: {
      falsePositives: Math.max(
        0,
        state.feedback.falsePositives + (feedback.verdict === 'fine' ? 1 : 0) - undone('fine'),
      ),
      truePositives: Math.max(
        0,
        state.feedback.truePositives + (feedback.verdict === 'real' ? 1 : 0) - undone('real'),
      ),
    },
  };
}

/** The thresholds for a new budget (the user changed it) or scoring rate (devices came or went). */
export function withBudget(
  state: ThresholdState,
  change: { falseAlertsPerWeek?: number; scoresPerWeek?: number },
): ThresholdState {
  const budget = change.falseAlertsPerWeek ?? state.budgetPerWeek;
  const rate = change.scoresPerWeek ?? state.scoresPerWeek;
  if (!(budget > 0) || !(rate > 0)) throw new Error('budget and scoring rate must be > 0');
  return { ...state, budgetPerWeek: budget, scoresPerWeek: rate };
}
