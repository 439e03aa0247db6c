import { deserialize, serialize } from 'node:v8';
import { type AlertGateState, INITIAL_ALERT_GATE } from '../models/anomaly/alert-gate.js';
import type { TrustAssessment } from '../models/contracts/behaviour.js';
import type { PositionEstimate } from '../models/contracts/positioning.js';
import type { TrustFactor, TrustLevel } from '../protocol/index.js';

/** One probe of one anchor link, as kept in the device's measurement window. */
export interface ProbeSample {
  /** Epoch ms (the message timestamp). */
  t: number;
  success: boolean;
  /** ms */
  rtt?: number;
  /** dBm */
  rssi?: number;
  /** ms */
  processingOffset?: number;
}

/**
 * What the worker keeps per device. Plain data (Maps, arrays, numbers; model states as the models return them), so
 * it can be checkpointed with the structured-clone serialiser and restored by another worker.
 */
export interface DeviceState {
  deviceId: string;
  /** The agent whose messages touched the device last; results are addressed to it. */
  agentId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Applied pingResults, pingCalibrations and device events (effect counts). */
  probes: number;
  calibrations: number;
  events: number;
  /** Measurement window per anchor (the probe's targetIp), oldest first. */
  anchors: Map<string, ProbeSample[]>;
  rssi?: number;
  online: boolean;
  positioner: { version: string; state: unknown } | null;
  behaviour: { version: string; state: unknown } | null;
  estimate: PositionEstimate | null;
  /** Epoch ms of the estimate. */
  estimateMs: number;
  profile: {
    macAddress?: string;
    vendor?: string;
    deviceType?: string;
    hostname?: string;
    services?: string[];
    anomalyTimes: number[];
    portScans: number;
    connectionAttempts: number;
  };
  trustLevel: TrustLevel;
  /** The trust model's last verdict (alerts fire on transitions from it). */
  trustAssessment: TrustAssessment | null;
  trustScore?: number;
  trustFactors?: TrustFactor[];
  userDecision?: 'approved' | 'blocked';
  lastScoresMs: number;
  lastRegistryMs: number;
  /** Epoch ms of the behaviour model's last score of the device. */
  lastAssessMs: number;
  /** One anomalyDetected per episode (src/models/anomaly/alert-gate.ts). */
  alertGate: AlertGateState;
}

export interface PartitionState {
  devices: Map<string, DeviceState>;
  /** Devices changed since the last checkpoint. */
  dirty: Set<string>;
}

export function newPartitionState(): PartitionState {
  return { devices: new Map(), dirty: new Set() };
}

export function newDeviceState(deviceId: string, agentId: string, now: number): DeviceState {
  return {
    deviceId,
    agentId,
    firstSeenMs: now,
    lastSeenMs: now,
    probes: 0,
    calibrations: 0,
    events: 0,
    anchors: new Map(),
    online: true,
    positioner: null,
    behaviour: null,
    estimate: null,
    estimateMs: 0,
    profile: { anomalyTimes: [], portScans: 0, connectionAttempts: 0 },
    trustLevel: 'unknown',
    trustAssessment: null,
    lastScoresMs: Number.NEGATIVE_INFINITY,
    lastRegistryMs: Number.NEGATIVE_INFINITY,
    lastAssessMs: Number.NEGATIVE_INFINITY,
    alertGate: INITIAL_ALERT_GATE,
  };
}

export function serializeDeviceState(state: DeviceState): Uint8Array {
  return serialize(state);
}

export function deserializeDeviceState(bytes: Uint8Array): DeviceState {
  return deserialize(bytes) as DeviceState;
}
