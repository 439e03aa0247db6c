import type { Logger } from 'pino';
import { AnomalyModel } from '../models/anomaly/behaviour-model.js';
import { applyFeedbackRecords } from '../models/anomaly/feedback.js';
import type { AnomalyFeedbackStore, StoredVerdict } from '../store/anomaly-feedback-store.js';
import type { WorkerModels } from './worker-models.js';

export interface FeedbackOverlayOptions {
  store: AnomalyFeedbackStore;
  logger: Logger;
  /** How often the feedback log's head is checked. @defaultValue 1000 */
  pollMs?: number;
}

/**
 * Makes the worker's live behaviour model follow the users' verdicts without a restart or a new model version:
 * it follows the deployment's feedback log (one cheap read of its head per poll) and hands the worker the loaded
 * model with every verdict newer than the model's `feedbackThrough` applied (`model.applyFeedback`: a "fine"
 * raises that anomaly type's thresholds, a "real" lowers them). The model's version and state version are
 * unchanged, so no device state restarts. Every worker of the deployment follows the same log, so all of them
 * move together, within a poll interval of the verdict.
 */
export class FeedbackOverlay {
  private records: StoredVerdict[] = [];
  private head = 0;
  private cache: { input: WorkerModels; head: number; output: WorkerModels } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failing = false;

  constructor(private readonly o: FeedbackOverlayOptions) {}

  /** Loads the log so far, then follows it. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.o.pollMs ?? 1000);
    this.timer.unref();
  }

  /** The feedback log's position this overlay has applied up to. */
  get position(): number {
    return this.head;
  }

  /** Every verdict read so far, oldest first. */
  verdicts(): readonly StoredVerdict[] {
    return this.records;
  }

  /** Reads new verdicts now. */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async poll(): Promise<void> {
    try {
      const head = await this.o.store.feedbackHead();
      if (head === this.head) return;
      // A log that went backwards was reset (a new store): start over.
      const after = head < this.head ? 0 : this.head;
      const fresh = await this.o.store.feedbackAfter(after);
      this.records = after === 0 ? fresh : [...this.records, ...fresh];
      this.head = fresh.length > 0 ? fresh[fresh.length - 1]!.seq : head;
      if (fresh.length > 0)
        this.o.logger.info({ verdicts: fresh.length, position: this.head }, 'feedback applied');
      if (this.failing) this.o.logger.info('feedback log readable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.o.logger.warn({ err }, 'cannot read the feedback log; thresholds stay as they are');
      this.failing = true;
    }
  }

  /** The models with the verdicts applied to the behaviour model (the same object while nothing changed). */
  apply(models: WorkerModels): WorkerModels {
    const base = models.behaviour;
    if (!(base instanceof AnomalyModel) || this.records.length === 0) return models;
    const c = this.cache;
    if (c !== null && c.input === models && c.head === this.head) return c.output;
    const through = base.data.feedbackThrough ?? 0;
    const pending = this.records.filter((r) => r.seq > through);
    const output =
      pending.length === 0 ? models : { ...models, behaviour: applyFeedbackRecords(base, pending) };
    this.cache = { input: models, head: this.head, output };
    return output;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
