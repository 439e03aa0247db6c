import type { Logger } from 'pino';
import type { AnomalyFeedbackStore, RecordedWindow, StoredAnomaly } from '../store/anomaly-feedback-store.js';
import type { AssessedWindow } from './process-batch.js';

export interface AnomalyRecorderOptions {
  store: AnomalyFeedbackStore;
  logger: Logger;
  /** How often buffered windows are written. @defaultValue 5000 */
  flushMs?: number;
  /** Windows held while the store is slow or down; the oldest are dropped beyond. @defaultValue 50000 */
  maxBuffered?: number;
  /**
   * Windows of a device whose own references are younger than this are not kept for retraining (training leaves
   * each device's first hours out for the same reason). @defaultValue 2 h
   */
  warmupMs?: number;
}

/**
 * Keeps what the worker's behaviour model did, for the feedback API and scheduled retraining: every alert
 * (written at once: a user may give feedback on it seconds later) and every scored window's feature vector
 * (buffered, written every few seconds). Fed by processBatch's `onAssessed`, which must not throw or block.
 *
 * Windows are recorded when the batch is processed, before its commit; a batch that is processed again (after a
 * crash) records its windows again with the same device and time, and retraining keeps one of each.
 */
export class AnomalyRecorder {
  private windows: RecordedWindow[] = [];
  private alerts: StoredAnomaly[] = [];
  private writingAlerts: Promise<void> | null = null;
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: AnomalyRecorderOptions) {
    this.timer = setInterval(() => void this.flush(), o.flushMs ?? 5000);
    this.timer.unref();
  }

  readonly onAssessed = (w: AssessedWindow): void => {
    if (this.closed) return;
    const detailed = w.assessment as { vector?: unknown; firstSeen?: unknown };
    const vector = Array.isArray(detailed.vector) ? (detailed.vector as number[]) : null;
    if (w.alert !== null) {
      const a = w.alert;
      const stored: StoredAnomaly = {
        anomalyId: a.anomalyId,
        deviceId: w.deviceId,
        agentId: w.agentId,
        at: w.t,
        anomalyType: a.anomalyType,
        severity: a.severity,
        confidence: a.confidence,
        mlModel: a.mlModel,
        recommendedAction: a.recommendedAction,
        features: a.features,
      };
      if (typeof a.score === 'number') stored.score = a.score;
      if (typeof a.threshold === 'number') stored.threshold = a.threshold;
      if (typeof a.modelVersion === 'string') stored.modelVersion = a.modelVersion;
      if (vector !== null) stored.vector = vector;
      this.alerts.push(stored);
      void this.writeAlerts();
    }
    if (vector === null) return;
    const firstSeen = typeof detailed.firstSeen === 'number' ? detailed.firstSeen : null;
    if (firstSeen !== null && w.t - firstSeen < (this.o.warmupMs ?? 2 * 3_600_000)) return;
    this.windows.push({ deviceId: w.deviceId, t: w.t, vector, anomalous: w.assessment.anomalous });
    const max = this.o.maxBuffered ?? 50_000;
    if (this.windows.length > max) {
      this.dropped += this.windows.length - max;
      this.windows.splice(0, this.windows.length - max);
    }
  };

  /** Alerts one write at a time, in order; a failed write is retried with the next alert or flush. */
  private writeAlerts(): Promise<void> {
    this.writingAlerts ??= this.drainAlerts().finally(() => {
      this.writingAlerts = null;
    });
    return this.writingAlerts;
  }

  private async drainAlerts(): Promise<void> {
    while (this.alerts.length > 0) {
      const batch = this.alerts;
      this.alerts = [];
      try {
        await this.o.store.recordAnomalies(batch);
      } catch (err) {
        this.alerts = [...batch, ...this.alerts];
        this.o.logger.warn({ err, alerts: batch.length }, 'cannot record alerts yet; will retry');
        return;
      }
    }
  }

  /** Writes what is buffered now. */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    await this.writeAlerts();
    if (this.windows.length === 0) return;
    const batch = this.windows;
    this.windows = [];
    try {
      await this.o.store.appendWindows(batch);
    } catch (err) {
      this.windows = [...batch, ...this.windows];
      this.o.logger.warn({ err, windows: batch.length }, 'cannot record scored windows yet; will retry');
    }
    if (this.dropped > 0) {
      this.o.logger.warn({ dropped: this.dropped }, 'scored windows dropped while the store was unavailable');
      this.dropped = 0;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    // A flush already running may have started before the last windows came in.
    await this.flush();
    await this.flush();
    this.closed = true;
  }
}
