import type { Location, TrustFactor, TrustLevel } from '../protocol/index.js';

/** What SmartBlueprint knows about one device. Written by the hub (agents' device messages) and the worker. */
export interface DeviceRecord {
  deviceId: string;
  /** The agent that reported it last. */
  agentId: string;
  /** ISO 8601. */
  firstSeen: string;
  lastSeen: string;
  online: boolean;
  hostname?: string;
  ipAddress?: string;
  macAddress?: string;
  vendor?: string;
  deviceType?: string;
  protocols?: string[];
  services?: string[];
  rssi?: number;
  location?: Location;
  performance?: { latency?: number; packetLoss?: number; bandwidth?: number };
  trustLevel: TrustLevel;
  trustScore?: number;
  trustFactors?: TrustFactor[];
  /** The user's explicit decision; it overrides the computed trust level. */
  userDecision?: 'approved' | 'blocked';
  scores?: {
    anomalyScore?: number;
    trustScore?: number;
    performanceScore?: number;
    locationConfidence?: number;
  };
  /** ISO 8601 of the last anomaly raised for the device. */
  lastAnomalyAt?: string;
}

/**
 * A merge patch. `userDecision: null` removes the user's decision (the "reset" of `POST /api/devices/:id/trust`), so
 * the computed trust level applies again; every other key sets its value.
 */
export type DevicePatch = Partial<Omit<DeviceRecord, 'deviceId' | 'userDecision'>> & {
  userDecision?: NonNullable<DeviceRecord['userDecision']> | null;
};

/**
 * The device registry: survives restarts (embedded storage by default, Redis when distributed) and is shared by
 * every hub and worker process of a deployment.
 */
export interface DeviceRegistry {
  get(deviceId: string): Promise<DeviceRecord | undefined>;
  list(): Promise<DeviceRecord[]>;
  /** Merges `patch` into the record, creating it (firstSeen = lastSeen = now, trust unknown) when new. */
  upsert(deviceId: string, agentId: string, patch: DevicePatch, now?: Date): Promise<DeviceRecord>;
  close(): Promise<void>;
}
