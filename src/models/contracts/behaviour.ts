// The contract between the worker (and replay) and the anomaly and trust models.
import type { AnomalyType, Severity, TrustFactor, TrustLevel } from '../../protocol/index.js';

/** What the worker tells the behaviour model about a device, in the order it happened. */
export type BehaviourEvent =
  | { kind: 'probe'; t: number; anchorId: string; success: boolean; rtt?: number; rssi?: number }
  | {
      kind: 'join';
      t: number;
      services?: readonly string[];
      macAddress?: string;
      vendor?: string;
      deviceType?: string;
      hostname?: string;
    }
  | { kind: 'leave'; t: number; reason: string }
  | {
      kind: 'update';
      t: number;
      rssi?: number;
      /** ms */
      latency?: number;
      /** percent */
      packetLoss?: number;
      /** Mbit/s */
      bandwidth?: number;
      portScans?: number;
      connectionAttempts?: number;
      /** bytes */
      dataVolume?: number;
      services?: readonly string[];
    }
  | { kind: 'location'; t: number; x: number; y: number; uncertainty: number };

export type FeatureValue = number | boolean | string;

export interface BehaviourAssessment {
  /** In [0,1]; higher = more anomalous. */
  anomalyScore: number;
  /** The alert threshold on anomalyScore, from the user's alert budget. */
  threshold: number;
  anomalous: boolean;
  /** Present when anomalous. */
  anomalyType?: AnomalyType;
  severity?: Severity;
  /** In [0,1]. */
  confidence: number;
  /** The features that isolated the point, by name (carried in anomalyDetected.data.features). */
  features: Record<string, FeatureValue>;
  recommendedAction?: string;
  /** In [0,1], from latency, loss and bandwidth; absent when the device reported none. */
  performanceScore?: number;
  modelVersion: string;
  mlModel: string;
}

export interface BehaviourModel<S = unknown> {
  readonly version: string;
  /**
   * Optional: what the per-device state depends on. A new version with the same `stateVersion` (e.g. a retrained
   * model over the same features) keeps each device's state; absent = `version` (a new version starts afresh).
   */
  readonly stateVersion?: string;
  initialState(deviceId: string): S;
  /** Pure: returns the new state. */
  observe(state: S, event: BehaviourEvent): S;
  /** Scores the device's current window; null until there is enough history. */
  assess(state: S, nowMs: number): BehaviourAssessment | null;
}

/** Everything the trust score looks at, kept per device by the worker. */
export interface DeviceProfile {
  deviceId: string;
  /** Epoch ms. */
  firstSeen: number;
  macAddress?: string;
  vendor?: string;
  deviceType?: string;
  hostname?: string;
  services?: readonly string[];
  /** The user's decision, if any. */
  userDecision?: 'approved' | 'blocked';
  /** Anomalies raised for the device, epoch ms. */
  anomalyTimes: readonly number[];
  /** Port scans and connection attempts observed, totals. */
  portScans: number;
  connectionAttempts: number;
}

export interface TrustAssessment {
  /** In [0,1]. */
  score: number;
  level: TrustLevel;
  confidence: number;
  factors: TrustFactor[];
}

export interface TrustModel {
  readonly version: string;
  assess(profile: DeviceProfile, nowMs: number): TrustAssessment;
}
