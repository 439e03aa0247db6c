import type { Logger } from 'pino';
import { FEATURE_NAMES } from '../models/anomaly/features.js';
import type { AnomalyFeedbackStore } from '../store/anomaly-feedback-store.js';
import { DEFAULT_HISTORY_MS } from '../training/anomaly/retrain-from-history.js';
import { readLatest } from '../training/model-dir.js';
import { packWindows, type RetrainJobInput, type RetrainJobResult } from './retrain-job.js';
import { retrainInThread } from './retrain-thread.js';

export interface RetrainSchedule {
  /** Retrain when the last retraining is at least this old, ms. */
  everyMs: number;
  /** Recent history used, ms before the newest recorded window. @defaultValue 7 days */
  historyMs?: number;
  /** The kept normal history must span at least this long, or the run is skipped. @defaultValue min(historyMs, 1 day) */
  minSpanMs?: number;
  /** How often to check whether a retraining is due. @defaultValue min(everyMs, 60 s) */
  checkMs?: number;
  /** After a skipped or failed run, wait this long before trying again. @defaultValue min(everyMs, 1 h) */
  retryMs?: number;
  /** The retraining lease; renewed every third of it while a run lasts. @defaultValue 10 min */
  leaseMs?: number;
}

export interface RetrainSchedulerOptions {
  store: AnomalyFeedbackStore;
  /** The model root (LATEST names the version to retrain from). */
  modelDir: string;
  /** This process's id in the lease. */
  owner: string;
  logger: Logger;
  schedule: RetrainSchedule;
  /** Runs the job; default: in a worker thread. */
  run?: (input: RetrainJobInput) => { done: Promise<RetrainJobResult>; cancel(): void };
}

export type RetrainOutcome = RetrainJobResult | { kind: 'busy'; reason: string };

/**
 * Scheduled retraining of the behaviour model. Every `checkMs` each worker asks whether a retraining is due (the
 * deployment's last one, kept in the store, is `everyMs` old); the one that takes the retraining lease (a Redis key
 * with a TTL, prefix-scoped; embedded, an lmdb record) reads the recorded windows, alerts and verdicts, trains in
 * a worker thread and publishes a new version of the model directory (parent = the version it started from, the
 * parent's positioning model copied). Every worker — this one included — then loads it through its model
 * directory watch, and keeps its devices' states (same feature configuration).
 */
export class RetrainScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetrainOutcome> | null = null;
  private cancel: (() => void) | null = null;
  private notBefore = 0;
  private closed = false;

  constructor(private readonly o: RetrainSchedulerOptions) {
    if (!(o.schedule.everyMs > 0))
      throw new Error(`retraining period must be > 0 ms, got ${o.schedule.everyMs}`);
  }

  start(): void {
    const every = this.o.schedule.checkMs ?? Math.min(this.o.schedule.everyMs, 60_000);
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  /** Retrains if due (the deployment's last retraining is `everyMs` old) and no other process is at it. */
  async tick(): Promise<RetrainOutcome | null> {
    if (this.closed || this.running !== null || Date.now() < this.notBefore) return null;
    try {
      const last = await this.o.store.lastRetrain();
      if (last !== null && Date.now() - last < this.o.schedule.everyMs) return null;
    } catch (err) {
      this.o.logger.warn({ err }, 'cannot read the retraining schedule');
      return null;
    }
    return this.runNow();
  }

  /** Retrains now (if no other process holds the lease), whatever the schedule says. */
  runNow(): Promise<RetrainOutcome> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<RetrainOutcome> {
    const { store, logger, schedule, owner } = this.o;
    const leaseMs = schedule.leaseMs ?? 600_000;
    const retryMs = schedule.retryMs ?? Math.min(schedule.everyMs, 3_600_000);
    if (!(await store.acquireRetrainLease(owner, leaseMs))) {
      return { kind: 'busy', reason: 'another process is retraining' };
    }
    const renew = setInterval(() => {
      store.acquireRetrainLease(owner, leaseMs).then(
        (held) => held || logger.warn('lost the retraining lease while retraining'),
        (err: unknown) => logger.warn({ err }, 'cannot renew the retraining lease'),
      );
    }, leaseMs / 3);
    renew.unref();
    const started = Date.now();
    try {
      const parent = await readLatest(this.o.modelDir);
      if (parent === null) {
        this.notBefore = Date.now() + retryMs;
        return this.skipped('no model version to retrain yet');
      }
      const [windows, feedbackThrough] = await Promise.all([store.windows(), store.feedbackHead()]);
      const historyMs = schedule.historyMs ?? DEFAULT_HISTORY_MS;
      let newest = 0;
      for (const w of windows) if (w.t > newest) newest = w.t;
      let oldest = newest;
      let recent = 0;
      for (const w of windows) {
        if (w.t < newest - historyMs) continue;
        recent++;
        if (w.t < oldest) oldest = w.t;
      }
      const minSpanMs = schedule.minSpanMs ?? Math.min(historyMs, 24 * 3_600_000);
      // Cheap checks first: a thread is only worth starting when the history can be enough.
      if (recent < 50 || newest - oldest < minSpanMs) {
        this.notBefore = Date.now() + retryMs;
        return this.skipped(
          `not enough recent history yet: ${recent} windows over ${((newest - oldest) / 3_600_000).toFixed(1)} h (needs 50 over ${(minSpanMs / 3_600_000).toFixed(1)} h)`,
        );
      }
      const [alerts, feedback] = await Promise.all([
        store.anomaliesSince(newest - historyMs - 3_600_000),
        store.feedbackAfter(0),
      ]);
      const input: RetrainJobInput = {
        modelDir: this.o.modelDir,
        parent,
        windows: packWindows(windows, FEATURE_NAMES.length),
        alerts: alerts.map((a) => ({ anomalyId: a.anomalyId, deviceId: a.deviceId, at: a.at })),
        feedback: feedback.filter((r) => r.seq <= feedbackThrough),
        feedbackThrough,
        historyMs,
        minSpanMs,
      };
      const job = (this.o.run ?? retrainInThread)(input);
      this.cancel = job.cancel;
      const result = await job.done;
      if (this.closed) return this.skipped('shutting down');
      if (result.kind === 'published') {
        await store.setLastRetrain(Date.now());
        logger.info(
          {
            ...result,
            from: new Date(result.from).toISOString(),
            to: new Date(result.to).toISOString(),
            ms: Date.now() - started,
          },
          'retrained the behaviour model',
        );
      } else {
        this.notBefore = Date.now() + retryMs;
        logger.info({ reason: result.reason }, 'retraining skipped');
      }
      return result;
    } catch (err) {
      if (this.closed) return this.skipped('shutting down');
      this.notBefore = Date.now() + retryMs;
      logger.error({ err }, 'retraining failed; the current model stays');
      return { kind: 'skipped', reason: (err as Error).message };
    } finally {
      this.cancel = null;
      clearInterval(renew);
      await store.releaseRetrainLease(owner).catch(() => undefined);
    }
  }

  private skipped(reason: string): RetrainOutcome {
    this.o.logger.info({ reason }, 'retraining skipped');
    return { kind: 'skipped', reason };
  }

  /** Stops the schedule; a run in progress is cancelled (its thread terminated) and publishes nothing. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.cancel?.();
    await this.running?.catch(() => undefined);
  }
}
