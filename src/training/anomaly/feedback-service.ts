import type { AnomalyModel } from '../../models/anomaly/behaviour-model.js';
import { AnomalyFeedbackBody, type FeedbackRecord, toFeedback } from '../../models/anomaly/feedback.js';

/**
 * Where verdicts are kept. The hub provides one on its store (embedded or Redis); the in-memory one is for tests
 * and the embedded demo.
 */
export interface FeedbackStore {
  append(record: FeedbackRecord): Promise<void>;
  /** Verdicts received at or after `sinceMs`, oldest first. */
  list(sinceMs?: number): Promise<FeedbackRecord[]>;
}

export class MemoryFeedbackStore implements FeedbackStore {
  readonly #records: FeedbackRecord[] = [];
  async append(record: FeedbackRecord): Promise<void> {
    this.#records.push(record);
  }
  async list(sinceMs = 0): Promise<FeedbackRecord[]> {
    return this.#records.filter((r) => r.receivedAt >= sinceMs);
  }
}

export class FeedbackError extends Error {
  override readonly name = 'FeedbackError';
}

/**
 * The REST handler's whole job: validate the body, store the verdict, return the model with its thresholds moved.
 * Throws FeedbackError (→ 400) with the offending path on a bad body; nothing is stored then.
 */
export async function submitFeedback(
  store: FeedbackStore,
  model: AnomalyModel,
  body: unknown,
  nowMs: number = Date.now(),
): Promise<{ model: AnomalyModel; record: FeedbackRecord }> {
  const parsed = AnomalyFeedbackBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FeedbackError(
      `invalid feedback at ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const record: FeedbackRecord = { ...parsed.data, receivedAt: nowMs };
  await store.append(record);
  return { model: model.applyFeedback(toFeedback(record)), record };
}
