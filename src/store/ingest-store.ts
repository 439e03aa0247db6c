import type { Message, MessageOf, TrustLevel } from '../protocol/index.js';
import type { DevicePatch, DeviceRegistry } from './device-registry.js';

/**
 * The idempotency key of one ingested message: a redelivered job or a resent message with the same key has
 * no effect the second time.
 */
export type SeenKey =
  /** pingResult: agentId + sequenceNumber (docs/protocol.md). */
  | { kind: 'probe'; agentId: string; seq: number }
  /** pingCalibration: agentId + calibrationId. */
  | { kind: 'calibration'; agentId: string; calibrationId: string }
  /** deviceJoin / deviceLeave / deviceUpdate: a hash of the message's content (type, agent, timestamp, data). */
  | { kind: 'event'; hash: string };

/** What the registry says about a device that the worker must obey (set by users through the hub). */
export interface DeviceControl {
  trustLevel?: TrustLevel;
  userDecision?: 'approved' | 'blocked';
}

/** The same shape as `DeadLetter` in src/ingest/pipeline.ts (kept here so the store does not import ingest). */
export interface StoredDeadLetter {
  id: string;
  reason: string;
  failedAt: string;
  attempts: number;
  payload: unknown;
}

export interface DeviceWrite {
  deviceId: string;
  agentId: string;
  patch: DevicePatch;
}

/** Everything one processed batch changes. A store applies it all or nothing, and only while it owns the partition. */
export interface BatchCommit {
  /** Keys of the messages applied by this batch, marked so a redelivery skips them. */
  seen: readonly SeenKey[];
  devices: readonly DeviceWrite[];
  /** Calibration samples, stored as training data in the format `sbp train` reads. */
  calibrations: ReadonlyArray<MessageOf<'pingCalibration'>>;
  /** Published to every hub when (and only when) the batch commits. */
  results: readonly Message[];
  /** Effect counters to add (`<kind>:<agentId>` → n). */
  counters: ReadonlyMap<string, number>;
  /** Records of the batch that can never be applied (invalid, or a model failed on them), parked with the batch. */
  deadLetters: readonly StoredDeadLetter[];
  /** Epoch ms at which the batch was processed. */
  now: number;
  /**
   * The applied records for the partition changelog (`records`: JSON of `[[message, receivedAt], …]` as on the
   * wire), which a worker taking over the partition replays on top of the last checkpoint to rebuild per-device
   * state exactly. Null where no changelog is kept.
   */
  log: { hubId: string; records: string } | null;
}

/** One device's checkpointed state, and the changelog position it includes everything up to. */
export interface CheckpointEntry {
  state: Uint8Array;
  /** Id of the last changelog entry applied to this state; null where no changelog is kept. */
  position: string | null;
}

export interface PartitionCheckpoint {
  states: Map<string, CheckpointEntry>;
  /**
   * Changelog entries still kept, oldest first. A record of an entry applies to a device only when the entry is
   * newer than the device's checkpoint position (devices are checkpointed a few at a time, each at its own position).
   */
  log: Array<{ id: string; now: number; hubId: string; records: string }>;
}

/** One partition's view of the store, bound to the fencing token of the worker that owns the partition. */
export interface PartitionStore {
  /** For each key whether it was already applied; and the registry's user-set fields of the devices. */
  prepare(
    keys: readonly SeenKey[],
    deviceIds: readonly string[],
  ): Promise<{ seen: boolean[]; control: Map<string, DeviceControl> }>;
  /** Applies the batch atomically. Throws PartitionLostError when the partition is no longer ours. */
  commit(batch: BatchCommit): Promise<void>;
  /**
   * Saves device states (null deletes one); then, with `trimTo`, drops changelog entries older than it (no device
   * needs them any more).
   */
  saveCheckpoint(states: ReadonlyMap<string, CheckpointEntry | null>, trimTo?: string | null): Promise<void>;
  loadCheckpoint(): Promise<PartitionCheckpoint>;
  /** Id of the newest changelog entry this owner applied or restored; null where no changelog is kept. */
  position(): string | null;
}

export interface IngestStore {
  readonly kind: 'lmdb' | 'redis';
  readonly registry: DeviceRegistry;
  /** `fenceToken` null = unfenced (the embedded store, a single worker). */
  partition(partition: number, fenceToken: string | null): PartitionStore;
  addDeadLetter(letter: StoredDeadLetter): Promise<void>;
  /** Newest first. */
  deadLetters(limit?: number): Promise<StoredDeadLetter[]>;
  /** Effect counters (`probe:<agentId>`, `calibration:<agentId>`, `event:<agentId>`). */
  counters(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The worker lost ownership of a partition (its lease expired or was taken): the batch was not applied. */
export class PartitionLostError extends Error {
  override readonly name = 'PartitionLostError';
  constructor(readonly partition: number) {
    super(`partition ${partition} is no longer owned by this worker; batch not applied`);
  }
}

export function isPartitionLostError(value: unknown): value is PartitionLostError {
  return value instanceof PartitionLostError;
}

/**
 * The commit found an idempotency key of the batch already applied since the worker looked — by another partition
 * (the same agentId + sequenceNumber reused for a device of another partition), or by this very commit run before
 * (a client resends a command whose reply a reconnect lost): nothing was written. The worker must reload the
 * partition (its state holds the batch) and process the job again, which then skips what was applied.
 */
export class SeenKeyTakenError extends Error {
  override readonly name = 'SeenKeyTakenError';
  constructor(
    readonly partition: number,
    what: string,
  ) {
    super(
      `partition ${partition}: an idempotency key of the batch was applied meanwhile (${what}); batch not applied`,
    );
  }
}

export function isSeenKeyTakenError(value: unknown): value is SeenKeyTakenError {
  return value instanceof SeenKeyTakenError;
}

/** Dead letters kept by a store; older ones are dropped. */
export const MAX_DEAD_LETTERS = 1000;

/** How long idempotency keys of probes and device events are remembered (calibrations: forever). */
export const DEFAULT_SEEN_TTL_MS = 6 * 3600_000;

/** pingResult sequence numbers are remembered in bitmap blocks of this many bits (8 KiB). */
export const PROBE_BLOCK_BITS = 65_536;

export function counterKey(kind: 'probe' | 'calibration' | 'event', agentId: string): string {
  return `${kind}:${agentId}`;
}

/** A redelivered job may park the same dead letter twice; readers keep the newest of each id. */
export function uniqueById(letters: readonly StoredDeadLetter[]): StoredDeadLetter[] {
  const seen = new Set<string>();
  return letters.filter((l) => {
    if (seen.has(l.id)) return false;
    seen.add(l.id);
    return true;
  });
}

/** Orders changelog (Redis stream) ids `<ms>-<seq>`. */
export function compareLogIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
