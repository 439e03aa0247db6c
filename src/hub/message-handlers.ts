import type { MessageHandlers, MessageOf } from '../protocol/index.js';
import type { DevicePatch } from '../store/device-registry.js';
import type { AgentState } from './connection-registry.js';
import type { DeviceWriter } from './device-writer.js';

/** What a handler may touch once a message from an agent has been accepted. */
export interface AcceptContext {
  agent: AgentState;
  devices: DeviceWriter;
  /** Epoch milliseconds at the hub. */
  receivedAt: number;
}

/** Copies the keys whose value is defined (exactOptionalPropertyTypes: an optional key must be absent, not undefined). */
function defined<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): { [P in K]?: Exclude<T[P], undefined> } {
  const out: { [P in K]?: Exclude<T[P], undefined> } = {};
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined) out[key] = value as Exclude<T[K], undefined>;
  }
  return out;
}

const JOIN_FIELDS = [
  'hostname',
  'ipAddress',
  'macAddress',
  'vendor',
  'deviceType',
  'protocols',
  'services',
  'rssi',
] as const satisfies readonly (keyof MessageOf<'deviceJoin'>['data'])[];

function deviceJoin(m: MessageOf<'deviceJoin'>, ctx: AcceptContext): void {
  const now = new Date(ctx.receivedAt);
  ctx.devices.enqueue(m.data.deviceId, async (registry) => {
    const patch: DevicePatch = { ...defined(m.data, JOIN_FIELDS), online: true, lastSeen: now.toISOString() };
    // An agent's trustLevel seeds a new device only: it must not undo what the worker or the user decided since.
    if (m.data.trustLevel !== undefined && (await registry.get(m.data.deviceId)) === undefined) {
      patch.trustLevel = m.data.trustLevel;
    }
    await registry.upsert(m.data.deviceId, m.agentId, patch, now);
  });
}

function deviceLeave(m: MessageOf<'deviceLeave'>, ctx: AcceptContext): void {
  const now = new Date(ctx.receivedAt);
  ctx.devices.enqueue(m.data.deviceId, (registry) =>
    registry.upsert(
      m.data.deviceId,
      m.agentId,
      { online: false, lastSeen: m.data.lastSeen ?? now.toISOString() },
      now,
    ),
  );
}

function deviceUpdate(m: MessageOf<'deviceUpdate'>, ctx: AcceptContext): void {
  const now = new Date(ctx.receivedAt);
  const patch: DevicePatch = {
    ...defined(m.data, ['rssi', 'location'] as const),
    online: true,
    lastSeen: now.toISOString(),
  };
  if (m.data.performance !== undefined) {
    patch.performance = defined(m.data.performance, ['latency', 'packetLoss', 'bandwidth'] as const);
  }
  if (m.data.activity?.services !== undefined) patch.services = m.data.activity.services;
  ctx.devices.enqueue(m.data.deviceId, (registry) => registry.upsert(m.data.deviceId, m.agentId, patch, now));
}

function trustUpdate(m: MessageOf<'trustUpdate'>, ctx: AcceptContext): void {
  const patch: DevicePatch = { trustLevel: m.data.newTrust };
  if (m.data.factors !== undefined) patch.trustFactors = m.data.factors;
  const now = new Date(ctx.receivedAt);
  ctx.devices.enqueue(m.data.deviceId, (registry) => registry.upsert(m.data.deviceId, m.agentId, patch, now));
}

function nothing(): void {}

/**
 * What the hub itself does with each accepted agent message, beyond what every message gets (ingest offer for the
 * probe and device streams, capture, fan-out to viewers). One table: a new message type without an entry here fails
 * to compile.
 */
export const ACCEPT_HANDLERS: MessageHandlers<AcceptContext> = {
  agent_register: (m, ctx) => {
    ctx.agent.registration = m.data;
  },
  agent_heartbeat: (m, ctx) => {
    ctx.agent.heartbeat = { ...m.data, receivedAt: new Date(ctx.receivedAt).toISOString() };
  },
  systemHealth: (m, ctx) => {
    ctx.agent.health = m.data.status;
  },
  deviceJoin,
  deviceLeave,
  deviceUpdate,
  trustUpdate,
  // Probes go to the ingestion queue; analytics an agent computed locally and its reports are fanned out as they are.
  pingResult: nothing,
  pingCalibration: nothing,
  trustAlert: nothing,
  anomalyDetected: nothing,
  mlScoreUpdate: nothing,
  dataIntegrityReport: nothing,
  error: nothing,
};
