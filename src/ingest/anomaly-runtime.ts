import type { Logger } from 'pino';
import type { AnomalyFeedbackStore } from '../store/anomaly-feedback-store.js';
import { AnomalyRecorder } from './anomaly-recorder.js';
import { FeedbackOverlay } from './feedback-overlay.js';
import type { ProcessOptions } from './process-batch.js';
import { type RetrainSchedule, RetrainScheduler } from './retrain-scheduler.js';
import type { WorkerModels } from './worker-models.js';

/** `PipelineTuning.anomaly`: feedback and scheduled retraining in the worker (docs/anomaly.md). */
export interface AnomalyTuning {
  /** Retrain the behaviour model this often, ms (needs a model directory); absent or 0 = never. @defaultValue off */
  retrainEveryMs?: number;
  /** Other retraining settings (history length, minimum span, lease…). */
  retrain?: Omit<RetrainSchedule, 'everyMs'>;
  /** How often a worker checks the feedback log. @defaultValue 1000 */
  feedbackPollMs?: number;
  /** How often recorded windows are written. @defaultValue 5000 */
  recordFlushMs?: number;
}

export interface AnomalyRuntimeOptions {
  store: AnomalyFeedbackStore;
  logger: Logger;
  /** This process's id (the retraining lease). */
  owner: string;
  modelDir?: string;
  tuning?: AnomalyTuning;
}

/**
 * The anomaly side of a worker: records its alerts and scored windows, moves its live thresholds with the users'
 * verdicts, and (when a period is set and there is a model directory) retrains on schedule.
 */
export class AnomalyRuntime {
  private constructor(
    readonly recorder: AnomalyRecorder,
    readonly overlay: FeedbackOverlay,
    readonly scheduler: RetrainScheduler | null,
  ) {}

  static async start(o: AnomalyRuntimeOptions): Promise<AnomalyRuntime> {
    const t = o.tuning ?? {};
    const logger = o.logger.child({ component: 'anomaly' });
    const recorder = new AnomalyRecorder({
      store: o.store,
      logger,
      ...(t.recordFlushMs === undefined ? {} : { flushMs: t.recordFlushMs }),
    });
    const overlay = new FeedbackOverlay({
      store: o.store,
      logger,
      ...(t.feedbackPollMs === undefined ? {} : { pollMs: t.feedbackPollMs }),
    });
    await overlay.start();
    let scheduler: RetrainScheduler | null = null;
    if (t.retrainEveryMs !== undefined && t.retrainEveryMs > 0 && o.modelDir !== undefined) {
      scheduler = new RetrainScheduler({
        store: o.store,
        modelDir: o.modelDir,
        owner: o.owner,
        logger,
        schedule: { ...t.retrain, everyMs: t.retrainEveryMs },
      });
      scheduler.start();
    }
    return new AnomalyRuntime(recorder, overlay, scheduler);
  }

  /** The worker's model source with the feedback applied to its behaviour model. */
  models(source: () => WorkerModels): () => WorkerModels {
    return () => this.overlay.apply(source());
  }

  /** processBatch options with the recorder hooked in. */
  processOptions(base: Partial<ProcessOptions> | undefined): Partial<ProcessOptions> {
    const chained = base?.onAssessed;
    const record = this.recorder.onAssessed;
    return {
      ...base,
      onAssessed:
        chained === undefined
          ? record
          : (w) => {
              record(w);
              chained(w);
            },
    };
  }

  async close(): Promise<void> {
    this.overlay.close();
    await this.scheduler?.close();
    await this.recorder.close();
  }
}
