import type { Logger } from 'pino';
import { type IngestMessage, type Message, Message as MessageSchema, subjectOf } from '../protocol/index.js';
import {
  type BatchCommit,
  type CheckpointEntry,
  compareLogIds,
  isPartitionLostError,
  isSeenKeyTakenError,
  type PartitionStore,
  type SeenKey,
  type StoredDeadLetter,
} from '../store/ingest-store.js';
import { seenKeyOf, seenKeyText } from './dedupe.js';
import {
  type DeviceState,
  deserializeDeviceState,
  newPartitionState,
  type PartitionState,
  serializeDeviceState,
} from './device-state.js';
import { PartitionRestartError } from './errors.js';
import type { IngestRecord } from './ingest-sink.js';
import type { IngestMetrics } from './metrics.js';
import { type ProcessOptions, processBatch } from './process-batch.js';
import type { QueueJob } from './queue.js';
import { decodeBatch, encodeRecords } from './wire.js';
import type { WorkerModels } from './worker-models.js';

export interface RunnerOptions {
  partition: number;
  store: PartitionStore;
  models: () => WorkerModels;
  logger: Logger;
  metrics: IngestMetrics | null;
  /** Epoch ms; injectable for deterministic tests. */
  clock: () => number;
  processOptions?: Partial<ProcessOptions>;
  /** Keep a changelog so another worker can rebuild the state exactly (distributed). */
  changelog: boolean;
  /** How often device states are checkpointed. @defaultValue 5000 */
  checkpointIntervalMs?: number;
  /** Device states idle this long are dropped from memory and the checkpoint. @defaultValue 24 h */
  stateIdleMs?: number;
  /**
   * Check results against the protocol schemas before publishing (an invalid one is dropped and logged): `all`, or
   * `sample` — every rare result (anomalies, trust) and 1 in 64 of the frequent ones (deviceUpdate, mlScoreUpdate),
   * whose values the worker clamps to the schema ranges itself — or `off`. @defaultValue 'sample'
   */
  validateResults?: ValidationMode;
  /** Called after each committed batch (tests, benchmarks). */
  onCommitted?: (info: CommitInfo) => void;
}

const RETRY_MAX_MS = 5000;

/** Device states serialised per event-loop turn while checkpointing (~25 µs each). */
const CHECKPOINT_SLICE = 100;

/** What a committed batch was, and where its time went (tests, benchmarks). */
export interface CommitInfo {
  records: number;
  results: readonly Message[];
  prepareMs: number;
  processMs: number;
  commitMs: number;
}

export type ValidationMode = 'all' | 'sample' | 'off';
const SAMPLE_EVERY = 64;

/**
 * Runs one partition: for each job, validate → skip what was already applied → processBatch → commit (effects and
 * results together). Holds the partition's device states; checkpoints them periodically.
 */
export class PartitionRunner {
  private lastCheckpoint = 0;
  /** Set while a batch is applied in memory but not yet committed. */
  private applying: Promise<void> | null = null;
  private checkpointing: Promise<void> | null = null;
  private broken = false;

  private constructor(
    private readonly o: RunnerOptions,
    private state: PartitionState,
    /**
     * For each device changed since its checkpoint: the changelog position its unsaved records start after. The
     * changelog must keep everything newer than the oldest of these.
     */
    private readonly retainFrom: Map<string, string> = new Map(),
  ) {
    this.lastCheckpoint = o.clock();
  }

  /**
   * Restores the partition's state: each device's checkpoint, plus the changelog records newer than that device's
   * checkpoint position.
   */
  static async open(options: RunnerOptions): Promise<PartitionRunner> {
    const started = Date.now();
    const { states, log } = await options.store.loadCheckpoint();
    const state = newPartitionState();
    const retainFrom = new Map<string, string>();
    for (const [id, entry] of states) state.devices.set(id, deserializeDeviceState(entry.state));
    let replayed = 0;
    let previous = '0-0';
    for (const entry of log) {
      const records: IngestRecord[] = [];
      for (const [message, receivedAt] of JSON.parse(entry.records) as Array<[IngestMessage, number]>) {
        const device = subjectOf(message);
        const position = states.get(device)?.position ?? null;
        if (position !== null && compareLogIds(entry.id, position) <= 0) continue;
        if (!retainFrom.has(device)) retainFrom.set(device, position ?? previous);
        records.push({ message, receivedAt, hubId: entry.hubId });
      }
      if (records.length > 0) processBatch(state, records, options.models(), entry.now, optionsOf(options));
      replayed += records.length;
      previous = entry.id;
    }
    options.logger.info(
      { partition: options.partition, devices: state.devices.size, replayed, ms: Date.now() - started },
      'partition state restored',
    );
    return new PartitionRunner(options, state, retainFrom);
  }

  get devices(): ReadonlyMap<string, DeviceState> {
    return this.state.devices;
  }

  readonly handle = async (job: QueueJob): Promise<void> => {
    if (this.broken) throw new PartitionRestartError(this.o.partition, 'partition is being reloaded');
    const o = this.o;
    const deadLetters: StoredDeadLetter[] = [];
    let records: readonly IngestRecord[];
    let raw: { hubId: string; records: string } | null = null;
    if (job.records !== undefined) records = job.records;
    else {
      // Throws DeadLetterError for a payload that is not a batch at all.
      const decoded = decodeBatch(job.payload);
      records = decoded.records;
      if (decoded.invalid.length === 0) raw = { hubId: decoded.hubId, records: decoded.raw };
      for (const bad of decoded.invalid) {
        deadLetters.push(this.deadLetter(`${job.id}#${bad.index}`, bad.reason, job.attempt, bad.payload));
      }
    }
    // Drop repeats inside the batch, then ask the store what was applied already.
    const { keys, unique } = uniqueRecords(records);
    const devices = new Set<string>();
    for (const r of unique) devices.add(subjectOf(r.message));
    const deviceIds = [...devices];
    const t0 = performance.now();
    const { seen, control } = await this.retrying('prepare', () => o.store.prepare(keys, deviceIds));
    const t1 = performance.now();
    const fresh: IngestRecord[] = [];
    const freshKeys: SeenKey[] = [];
    for (let i = 0; i < unique.length; i++) {
      if (seen[i]) continue;
      fresh.push(unique[i]!);
      freshKeys.push(keys[i]!);
    }
    const duplicates = records.length - fresh.length;
    if (duplicates > 0) o.metrics?.duplicates.inc(duplicates);
    if (fresh.length === 0) {
      if (deadLetters.length > 0) await this.commitDeadLettersOnly(deadLetters);
      o.metrics?.jobs.inc({ outcome: deadLetters.length > 0 ? 'dead_letter' : 'duplicate' });
      return;
    }

    const now = o.clock();
    let out: ReturnType<typeof processBatch>;
    // From here until the commit lands the in-memory state is ahead of the store: no checkpoint slice may run.
    let applied: () => void = () => undefined;
    this.applying = new Promise<void>((r) => {
      applied = r;
    });
    try {
      out = processBatch(this.state, fresh, o.models(), now, { ...optionsOf(o), control });
    } catch (error) {
      this.applying = null;
      applied();
      this.broken = true;
      throw new PartitionRestartError(o.partition, `worker state failure: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const results = o.validateResults === 'off' ? out.results : this.validResults(out.results);
    for (const f of out.failures) {
      for (const r of f.records) {
        deadLetters.push(
          this.deadLetter(`${job.id}:${seenKeyText(seenKeyOf(r))}`, f.reason, job.attempt, r.message),
        );
      }
    }
    const commit: BatchCommit = {
      seen: freshKeys,
      devices: out.devices,
      calibrations: out.calibrations,
      results,
      counters: out.counters,
      deadLetters,
      now,
      log: o.changelog ? changelogOf(fresh, records.length, raw) : null,
    };
    const t2 = performance.now();
    const before = o.store.position();
    try {
      await this.retrying('commit', () => o.store.commit(commit));
    } catch (error) {
      // The state already holds this batch but the store does not: reload before doing anything else.
      this.broken = true;
      if (isSeenKeyTakenError(error)) {
        throw new PartitionRestartError(o.partition, error.message, { cause: error });
      }
      throw error;
    } finally {
      this.applying = null;
      applied();
    }
    if (before !== null || o.store.position() !== null) {
      for (const r of fresh) {
        const device = subjectOf(r.message);
        if (!this.retainFrom.has(device)) this.retainFrom.set(device, before ?? '0-0');
      }
    }
    const published = Date.now();
    if (o.metrics) {
      o.metrics.jobs.inc({ outcome: 'applied' });
      // One inc per type per batch (prom-client hashes the labels on every call).
      const byType = new Map<string, number>();
      for (const r of fresh) {
        byType.set(r.message.type, (byType.get(r.message.type) ?? 0) + 1);
        o.metrics.latency.observe(Math.max(0, published - r.receivedAt) / 1000);
      }
      for (const [type, n] of byType) o.metrics.records.inc({ type }, n);
    }
    const t3 = performance.now();
    o.onCommitted?.({
      records: fresh.length,
      results,
      prepareMs: t1 - t0,
      processMs: t2 - t1,
      commitMs: t3 - t2,
    });
    if (now - this.lastCheckpoint >= (o.checkpointIntervalMs ?? 5000) && this.checkpointing === null) {
      this.checkpointing = this.checkpoint()
        .catch((err: unknown) => {
          if (isPartitionLostError(err)) this.broken = true;
          o.logger.warn({ err, partition: o.partition }, 'checkpoint failed');
        })
        .finally(() => {
          this.checkpointing = null;
        });
    }
  };

  /**
   * Writes the states changed since their last checkpoint (and forgets devices idle for long), a slice at a time so
   * batches keep flowing in between: each device is saved with the changelog position its state includes, which is
   * what makes a sliced checkpoint exact. Then trims the changelog to what unsaved devices still need.
   */
  async checkpoint(): Promise<void> {
    if (this.broken) return;
    const o = this.o;
    const now = o.clock();
    this.lastCheckpoint = now;
    const idleBefore = now - (o.stateIdleMs ?? 24 * 3600_000);
    const forgotten = new Map<string, CheckpointEntry | null>();
    for (const [id, device] of this.state.devices) {
      if (device.lastSeenMs < idleBefore && !this.state.dirty.has(id)) {
        this.state.devices.delete(id);
        forgotten.set(id, null);
      }
    }
    if (forgotten.size > 0) await o.store.saveCheckpoint(forgotten);
    const ids = [...this.state.dirty];
    for (let i = 0; i < ids.length; i += CHECKPOINT_SLICE) {
      while (this.applying !== null) await this.applying;
      if (this.broken) return;
      // No await from here to the serialisations: each state matches position() exactly.
      const slice = new Map<string, CheckpointEntry | null>();
      for (const id of ids.slice(i, i + CHECKPOINT_SLICE)) {
        const device = this.state.devices.get(id);
        if (!device || !this.state.dirty.has(id)) continue;
        // Serialised synchronously: the state includes exactly the changelog up to position().
        slice.set(id, { state: serializeDeviceState(device), position: o.store.position() });
        this.state.dirty.delete(id);
        this.retainFrom.delete(id);
      }
      if (slice.size > 0) await o.store.saveCheckpoint(slice);
      if (i + CHECKPOINT_SLICE < ids.length) await new Promise((r) => setImmediate(r));
    }
    const position = o.store.position();
    if (position === null) return;
    let trimTo = position;
    for (const from of this.retainFrom.values()) if (compareLogIds(from, trimTo) < 0) trimTo = from;
    await o.store.saveCheckpoint(new Map(), trimTo);
  }

  /** Waits for a checkpoint in progress, then writes a final one (graceful hand-over, shutdown). */
  async close(): Promise<void> {
    await this.checkpointing;
    await this.checkpoint();
  }

  get isBroken(): boolean {
    return this.broken;
  }

  private sampled = 0;

  private validResults(results: readonly Message[]): Message[] {
    const valid: Message[] = [];
    const all = this.o.validateResults === 'all';
    for (const m of results) {
      if (
        !all &&
        (m.type === 'deviceUpdate' || m.type === 'mlScoreUpdate') &&
        ++this.sampled % SAMPLE_EVERY !== 0
      ) {
        valid.push(m);
        continue;
      }
      const check = MessageSchema.safeParse(m);
      if (check.success) valid.push(m);
      else {
        this.o.metrics?.invalidResults.inc();
        this.o.logger.error(
          { type: m.type, issue: check.error.issues[0], partition: this.o.partition },
          'dropping a result that does not validate against the protocol',
        );
      }
    }
    return valid;
  }

  private deadLetter(id: string, reason: string, attempts: number, payload: unknown): StoredDeadLetter {
    this.o.metrics?.deadLetters.inc({ kind: 'record' });
    this.o.logger.warn({ id, reason, partition: this.o.partition }, 'record dead-lettered');
    return { id, reason, failedAt: new Date().toISOString(), attempts, payload: truncatePayload(payload) };
  }

  private async commitDeadLettersOnly(deadLetters: StoredDeadLetter[]): Promise<void> {
    const commit: BatchCommit = {
      seen: [],
      devices: [],
      calibrations: [],
      results: [],
      counters: new Map(),
      deadLetters,
      now: this.o.clock(),
      log: null,
    };
    await this.retrying('commit', () => this.o.store.commit(commit));
  }

  /** Retries a store call through transient failures; never retries a lost partition. */
  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (isPartitionLostError(error) || isSeenKeyTakenError(error) || attempt >= 20) throw error;
        const delay = Math.min(RETRY_MAX_MS, 50 * 2 ** attempt);
        this.o.logger.warn(
          { err: error, partition: this.o.partition, attempt, delay },
          `${what} failed; retrying`,
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/**
 * The batch without repeats, with each record's idempotency key. An agent's sequence numbers normally increase, so
 * a repeat can only be a probe whose number is not above the agent's previous one in the batch: only then is the
 * key looked up (a set of every key's text, built the first time it is needed).
 */
function uniqueRecords(records: readonly IngestRecord[]): { keys: SeenKey[]; unique: IngestRecord[] } {
  const keys: SeenKey[] = [];
  const unique: IngestRecord[] = [];
  const lastSeq = new Map<string, number>();
  let texts: Set<string> | null = null;
  for (const r of records) {
    const key = seenKeyOf(r);
    if (key.kind === 'probe') {
      const last = lastSeq.get(key.agentId);
      if (last === undefined || key.seq > last) {
        lastSeq.set(key.agentId, key.seq);
        if (texts !== null) texts.add(seenKeyText(key));
        keys.push(key);
        unique.push(r);
        continue;
      }
    }
    if (texts === null) texts = new Set(keys.map(seenKeyText));
    const text = seenKeyText(key);
    if (texts.has(text)) continue;
    texts.add(text);
    if (key.kind === 'probe')
      lastSeq.set(key.agentId, Math.max(lastSeq.get(key.agentId) ?? key.seq, key.seq));
    keys.push(key);
    unique.push(r);
  }
  return { keys, unique };
}

/** The batch as received when every record of it was applied (the usual case), else the applied ones re-encoded. */
function changelogOf(
  fresh: readonly IngestRecord[],
  received: number,
  raw: { hubId: string; records: string } | null,
): { hubId: string; records: string } {
  if (raw !== null && fresh.length === received) return raw;
  return { hubId: fresh[0]?.hubId ?? 'unknown', records: encodeRecords(fresh) };
}

function optionsOf(o: RunnerOptions): { options?: Partial<ProcessOptions> } {
  return o.processOptions === undefined ? {} : { options: o.processOptions };
}

/** Keeps a dead letter readable and bounded (the API returns it). */
export function truncatePayload(payload: unknown, maxChars = 4096): unknown {
  let text: string;
  try {
    text = JSON.stringify(payload) ?? String(payload);
  } catch {
    return String(payload).slice(0, maxChars);
  }
  if (text.length <= maxChars) return payload;
  return { truncated: true, chars: text.length, head: text.slice(0, maxChars) };
}
