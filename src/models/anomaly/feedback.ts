import { z } from 'zod';
import { AnomalyType, DeviceId, OpaqueId } from '../../protocol/index.js';
import type { AnomalyModel } from './behaviour-model.js';
import type { Feedback } from './thresholds.js';

/*
 * The user's verdict on an alert, as the REST API receives it (POST body), and the pure functions that apply it:
 * "fine" (a false positive) raises that anomaly type's thresholds and makes the alert's window a normal example
 * for the next retraining; "real" lowers them and keeps the window out of the normal history.
 */

export const AnomalyFeedbackBody = z.strictObject({
  anomalyId: OpaqueId,
  deviceId: DeviceId,
  verdict: z.enum(['fine', 'real']),
  anomalyType: AnomalyType.optional(),
  score: z.number().min(0).max(1).optional(),
  /** The alert's epoch ms (the anomalyDetected timestamp), for excluding or keeping its window in retraining. */
  at: z.number().int().min(0).optional(),
  /** The model input vector of the alert (DetailedAssessment.vector), when the caller kept it. */
  vector: z.array(z.number().finite()).max(64).optional(),
});
export type AnomalyFeedbackBody = z.infer<typeof AnomalyFeedbackBody>;

/** A stored verdict. */
export interface FeedbackRecord extends AnomalyFeedbackBody {
  /** When the verdict was given, epoch ms. */
  receivedAt: number;
  /** Position in the deployment's feedback log (1, 2, …), when stored in one. */
  seq?: number;
  /** The earlier verdict on the same alert that this one replaces (its effect is undone). */
  replaces?: 'fine' | 'real';
}

export function toFeedback(body: AnomalyFeedbackBody & { replaces?: 'fine' | 'real' }): Feedback {
  const fb: Feedback = { verdict: body.verdict };
  if (body.anomalyType !== undefined) fb.anomalyType = body.anomalyType;
  if (body.score !== undefined) fb.score = body.score;
  if (body.replaces !== undefined) fb.replaces = body.replaces;
  return fb;
}

/** Pure: the model after a sequence of verdicts, in order. */
export function applyFeedbackRecords(
  model: AnomalyModel,
  records: ReadonlyArray<AnomalyFeedbackBody & { replaces?: 'fine' | 'real' }>,
): AnomalyModel {
  return records.reduce((m, r) => m.applyFeedback(toFeedback(r)), model);
}

/** Each alert's latest verdict (a user may change their mind), in the order the alerts were first judged. */
export function latestVerdicts<R extends AnomalyFeedbackBody>(records: readonly R[]): Map<string, R> {
  const latest = new Map<string, R>();
  for (const r of records) latest.set(r.anomalyId, r);
  return latest;
}

/** Vectors of alerts the user (last) called fine: extra normal examples for retraining. */
export function normalExamples(records: readonly AnomalyFeedbackBody[], width: number): number[][] {
  return [...latestVerdicts(records).values()]
    .filter((r) => r.verdict === 'fine' && r.vector !== undefined && r.vector.length === width)
    .map((r) => [...r.vector!]);
}

/**
 * Windows to leave out of the next retraining: every alert nobody called fine (real ones, and unreviewed ones),
 * from one window before it to one after, so an anomaly never becomes "normal" by being retrained on.
 */
export function windowsToExclude(
  alerts: ReadonlyArray<{ anomalyId: string; deviceId: string; at: number }>,
  records: readonly AnomalyFeedbackBody[],
  windowMs: number,
): Array<{ deviceId: string; from: number; to: number }> {
  const fine = new Set(
    [...latestVerdicts(records).values()].filter((r) => r.verdict === 'fine').map((r) => r.anomalyId),
  );
  return alerts
    .filter((a) => !fine.has(a.anomalyId))
    .map((a) => ({ deviceId: a.deviceId, from: a.at - windowMs, to: a.at + windowMs }));
}
