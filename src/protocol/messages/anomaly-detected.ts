import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, FlatRecord, OpaqueId, Severity, ShortText, SnakeToken, Unit } from '../primitives.js';

export const AnomalyType = z.enum([
  'signal_drop',
  'interference',
  'latency_spike',
  'packet_loss',
  'bandwidth_anomaly',
  'port_scan',
  'rogue_scanner',
  'device_moved',
  'connection_flapping',
  'new_services',
  'unusual_time',
  'behavior_change',
]);
export type AnomalyType = z.infer<typeof AnomalyType>;

export const AnomalyDetected = envelope(
  'anomalyDetected',
  z.strictObject({
    anomalyId: OpaqueId,
    deviceId: DeviceId,
    anomalyType: AnomalyType,
    severity: Severity,
    confidence: Unit,
    /** e.g. isolation_forest */
    mlModel: SnakeToken,
    /** The features that explain the anomaly, by name. */
    features: FlatRecord,
    recommendedAction: SnakeToken,
    /** Extensions: the raw anomaly score, the threshold it crossed and the model version. */
    score: Unit.optional(),
    threshold: Unit.optional(),
    modelVersion: ShortText.optional(),
  }),
);
export type AnomalyDetected = z.infer<typeof AnomalyDetected>;
