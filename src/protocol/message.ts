import { z } from 'zod';
import { AgentHeartbeat } from './messages/agent-heartbeat.js';
import { AgentRegister } from './messages/agent-register.js';
import { AnomalyDetected } from './messages/anomaly-detected.js';
import { DataIntegrityReport } from './messages/data-integrity-report.js';
import { DeviceJoin } from './messages/device-join.js';
import { DeviceLeave } from './messages/device-leave.js';
import { DeviceUpdate } from './messages/device-update.js';
import { ErrorMessage } from './messages/error.js';
import { MlScoreUpdate } from './messages/ml-score-update.js';
import { PingCalibration } from './messages/ping-calibration.js';
import { PingResult } from './messages/ping-result.js';
import { SystemHealth } from './messages/system-health.js';
import { TrustAlert } from './messages/trust-alert.js';
import { TrustUpdate } from './messages/trust-update.js';

/** Every message of the protocol. The list of types is derived from this union, never written twice. */
export const Message = z.discriminatedUnion('type', [
  AgentRegister,
  AgentHeartbeat,
  DeviceJoin,
  DeviceLeave,
  DeviceUpdate,
  PingResult,
  PingCalibration,
  TrustAlert,
  TrustUpdate,
  AnomalyDetected,
  MlScoreUpdate,
  SystemHealth,
  DataIntegrityReport,
  ErrorMessage,
]);
export type Message = z.infer<typeof Message>;
export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

export const MESSAGE_TYPES = Message.options.map((o) => o.shape.type.value) as [
  MessageType,
  ...MessageType[],
];

/**
 * What the hub puts on the ingestion queue: the two probe streams (pingResult, pingCalibration) and the agents'
 * device observations (deviceJoin/Leave/Update), which the anomaly features need in the same per-device order.
 */
export const INGEST_TYPES = [
  'pingResult',
  'pingCalibration',
  'deviceJoin',
  'deviceLeave',
  'deviceUpdate',
] as const satisfies readonly MessageType[];
export type IngestType = (typeof INGEST_TYPES)[number];
export type IngestMessage = MessageOf<IngestType>;

const INGEST_TYPE_SET: ReadonlySet<string> = new Set(INGEST_TYPES);
export function isIngestMessage(m: Message): m is IngestMessage {
  return INGEST_TYPE_SET.has(m.type);
}

/** The device a message is about; for probes without `deviceId` it is the measuring agent itself. */
export function subjectOf(m: IngestMessage): string {
  return m.data.deviceId ?? m.agentId;
}

/** One function per message type; a new type without a handler fails to compile. */
export type MessageHandlers<Ctx, R = void> = { [T in MessageType]: (message: MessageOf<T>, ctx: Ctx) => R };

export function dispatch<Ctx, R>(handlers: MessageHandlers<Ctx, R>, message: Message, ctx: Ctx): R {
  const handler = handlers[message.type] as (m: Message, c: Ctx) => R;
  return handler(message, ctx);
}
