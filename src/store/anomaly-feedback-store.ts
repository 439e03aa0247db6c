import type { AnomalyType, Severity } from '../protocol/index.js';

/*
 * What the anomaly side keeps durably, shared by every hub and worker of a deployment (lmdb in the data directory
 * embedded, Redis distributed):
 *   - the alerts the workers raised (anomalyDetected, with the model input vector), newest kept, bounded;
 *   - the users' verdicts on them ("this was fine" / "this was real"), an append-only log with positions 1, 2, …
 *     that every worker follows to move its live thresholds;
 *   - the windows the workers scored (per device, per scoring interval: feature vector, anomalous or not), a
 *     bounded rolling log that scheduled retraining learns from;
 *   - the retraining schedule: when it last ran, and a lease so that one process retrains at a time.
 */

/** An alert a worker raised: the anomalyDetected data, plus its device's agent and time. */
export interface StoredAnomaly {
  anomalyId: string;
  deviceId: string;
  agentId: string;
  /** Epoch ms (the worker's batch time, the message's timestamp). */
  at: number;
  anomalyType: AnomalyType;
  severity: Severity;
  confidence: number;
  score?: number;
  threshold?: number;
  modelVersion?: string;
  mlModel: string;
  recommendedAction: string;
  features: Record<string, number | boolean | string>;
  /** The model input vector of the alert's window (retraining uses it when the user calls the alert fine). */
  vector?: number[];
}

export type Verdict = 'fine' | 'real';

/** A user's verdict on an alert, as stored (the shape of FeedbackRecord, src/models/anomaly/feedback.ts). */
export interface StoredVerdict {
  /** Position in the deployment's feedback log: 1, 2, … */
  seq: number;
  anomalyId: string;
  deviceId: string;
  verdict: Verdict;
  anomalyType?: AnomalyType;
  score?: number;
  /** The alert's epoch ms. */
  at?: number;
  vector?: number[];
  /** When the verdict was given, epoch ms. */
  receivedAt: number;
  /** The earlier verdict on the same alert that this one replaces. */
  replaces?: Verdict;
}

export type VerdictInput = Omit<StoredVerdict, 'seq' | 'replaces'>;

/** One scored window of one device. */
export interface RecordedWindow {
  deviceId: string;
  /** Epoch ms. */
  t: number;
  /** The model input vector; stored as 32-bit floats. */
  vector: ArrayLike<number>;
  anomalous: boolean;
}

export interface AnomalyFeedbackStore {
  /** Stores alerts (idempotent by anomalyId); the oldest beyond the bound are dropped. */
  recordAnomalies(anomalies: readonly StoredAnomaly[]): Promise<void>;
  anomaly(anomalyId: string): Promise<StoredAnomaly | undefined>;
  /** Newest first. */
  recentAnomalies(limit: number): Promise<StoredAnomaly[]>;
  /** Alerts at or after `sinceMs`, oldest first. */
  anomaliesSince(sinceMs: number): Promise<StoredAnomaly[]>;

  /**
   * Appends a verdict. The same verdict as the alert's current one changes nothing (`changed: false`, the stored
   * record returned); a different one is appended with `replaces` set to the previous verdict.
   */
  submitVerdict(input: VerdictInput): Promise<{ record: StoredVerdict; changed: boolean }>;
  /** The latest verdict of each of these alerts that has one. */
  verdictsOf(anomalyIds: readonly string[]): Promise<Map<string, StoredVerdict>>;
  /** Position of the newest verdict; 0 when there is none. */
  feedbackHead(): Promise<number>;
  /** Verdicts with position > `seq`, oldest first. */
  feedbackAfter(seq: number): Promise<StoredVerdict[]>;

  /** Appends scored windows; the oldest beyond the bound are dropped. */
  appendWindows(windows: readonly RecordedWindow[]): Promise<void>;
  /** Every window kept, in no particular order (bounded by the store's window limit). */
  windows(): Promise<RecordedWindow[]>;

  /** Epoch ms of the last successful retraining, or null. */
  lastRetrain(): Promise<number | null>;
  setLastRetrain(ms: number): Promise<void>;
  /** Takes (or, for the same owner, renews) the retraining lease; false when another owner holds it. */
  acquireRetrainLease(owner: string, ttlMs: number): Promise<boolean>;
  releaseRetrainLease(owner: string): Promise<void>;

  close(): Promise<void>;
}

export interface FeedbackStoreLimits {
  /** Scored windows kept. @defaultValue 300000 (30 devices scored every minute: about a week) */
  maxWindows?: number;
  /** Alerts kept. @defaultValue 10000 */
  maxAnomalies?: number;
}

export const DEFAULT_MAX_WINDOWS = 300_000;
export const DEFAULT_MAX_ANOMALIES = 10_000;

/** 32-bit floats: half the bytes of doubles, and far finer than any forest split needs. */
export function encodeVector(vector: ArrayLike<number>): Buffer {
  const f = Float32Array.from(vector as ArrayLike<number>);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

export function decodeVector(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}
