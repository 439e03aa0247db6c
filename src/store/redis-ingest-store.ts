import type { Redis } from 'ioredis';
import type { TrustLevel } from '../protocol/index.js';
import type { CalibrationLog } from './calibration-log.js';
import { deviceUpsertCommands } from './device-hash.js';
import {
  type BatchCommit,
  type CheckpointEntry,
  DEFAULT_SEEN_TTL_MS,
  type DeviceControl,
  type IngestStore,
  MAX_DEAD_LETTERS,
  type PartitionCheckpoint,
  PartitionLostError,
  type PartitionStore,
  PROBE_BLOCK_BITS,
  type SeenKey,
  type StoredDeadLetter,
  uniqueById,
} from './ingest-store.js';
import { RedisDeviceRegistry } from './redis-device-registry.js';
import type { RedisKeys } from './redis-keys.js';
import { fencedExec, type PrepareOp, prepareReads, type RedisArg } from './redis-script.js';

export interface RedisIngestStoreOptions {
  /** How long probe and device-event idempotency keys live. @defaultValue 6 h */
  seenTtlMs?: number;
  /** Also append committed calibration samples to this local JSONL file (a per-worker copy). */
  calibrationMirror?: CalibrationLog;
}

/**
 * The distributed store: dedupe marks, device registry, calibration samples, dead letters, device-state checkpoints
 * and the partition changelog, all in Redis. A batch commits in one Lua script, fenced by the partition lease, and
 * publishes its results in the same script — so results go out exactly when the effects are applied.
 */
export class RedisIngestStore implements IngestStore {
  readonly kind = 'redis';
  readonly registry: RedisDeviceRegistry;
  private readonly seenTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: RedisIngestStoreOptions = {},
  ) {
    this.registry = new RedisDeviceRegistry(redis, keys);
    this.seenTtlMs = options.seenTtlMs ?? DEFAULT_SEEN_TTL_MS;
    this.mirror = options.calibrationMirror ?? null;
  }

  private readonly mirror: CalibrationLog | null;

  partition(partition: number, fenceToken: string | null): PartitionStore {
    return new RedisPartitionStore(this.redis, this.keys, partition, fenceToken, this.seenTtlMs, this.mirror);
  }

  async addDeadLetter(letter: StoredDeadLetter): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.deadLetters, JSON.stringify(letter))
      .ltrim(this.keys.deadLetters, 0, MAX_DEAD_LETTERS - 1)
      .exec();
  }

  async deadLetters(limit = 100): Promise<StoredDeadLetter[]> {
    const items = await this.redis.lrange(this.keys.deadLetters, 0, MAX_DEAD_LETTERS - 1);
    return uniqueById(items.map((text) => JSON.parse(text) as StoredDeadLetter)).slice(0, limit);
  }

  async counters(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys.counters);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened the store.
  }
}

function probeBit(keys: RedisKeys, agentId: string, seq: number): { key: string; offset: number } {
  return {
    key: keys.seenProbes(agentId, Math.floor(seq / PROBE_BLOCK_BITS)),
    offset: seq % PROBE_BLOCK_BITS,
  };
}

function calibrationField(agentId: string, calibrationId: string): string {
  return JSON.stringify([agentId, calibrationId]);
}

class RedisPartitionStore implements PartitionStore {
  /** Id of the newest changelog entry applied by (or restored into) this owner. */
  private lastLogId: string | null = null;
  private readonly fence: { leaseKey: string; token: string } | null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly partition: number,
    fenceToken: string | null,
    private readonly seenTtlMs: number,
    private readonly mirror: CalibrationLog | null,
  ) {
    this.fence = fenceToken === null ? null : { leaseKey: keys.lease(partition), token: fenceToken };
  }

  async prepare(
    keys: readonly SeenKey[],
    deviceIds: readonly string[],
  ): Promise<{ seen: boolean[]; control: Map<string, DeviceControl> }> {
    // Probe keys are grouped by bitmap block (one BITFIELD_RO each); replies are mapped back to the keys' order.
    const ops: PrepareOp[] = [];
    const blocks = new Map<string, { offsets: number[]; at: number[] }>();
    const others: Array<{ op: PrepareOp; at: number }> = [];
    keys.forEach((k, at) => {
      if (k.kind === 'probe') {
        const { key, offset } = probeBit(this.keys, k.agentId, k.seq);
        let block = blocks.get(key);
        if (!block) {
          block = { offsets: [], at: [] };
          blocks.set(key, block);
        }
        block.offsets.push(offset);
        block.at.push(at);
      } else if (k.kind === 'calibration') {
        others.push({
          op: {
            op: 'h',
            key: this.keys.seenCalibrations,
            field: calibrationField(k.agentId, k.calibrationId),
          },
          at,
        });
      } else others.push({ op: { op: 'e', key: this.keys.seenEvent(k.hash) }, at });
    });
    const order: number[] = [];
    for (const [key, block] of blocks) {
      ops.push({ op: 'b', key, offsets: block.offsets });
      order.push(...block.at);
    }
    for (const o of others) {
      ops.push(o.op);
      order.push(o.at);
    }
    for (const id of deviceIds) ops.push({ op: 'd', key: this.keys.device(id) });
    const reply = await prepareReads(this.redis, ops);
    const seen: boolean[] = new Array(keys.length).fill(false);
    order.forEach((at, i) => {
      seen[at] = Number(reply[i]) === 1;
    });
    const control = new Map<string, DeviceControl>();
    deviceIds.forEach((id, i) => {
      const trust = reply[keys.length + 2 * i] as string;
      const decision = reply[keys.length + 2 * i + 1] as string;
      const c: DeviceControl = {};
      if (trust) c.trustLevel = JSON.parse(trust) as TrustLevel;
      if (decision) c.userDecision = JSON.parse(decision) as 'approved' | 'blocked';
      control.set(id, c);
    });
    return { seen, control };
  }

  async commit(batch: BatchCommit): Promise<void> {
    const k = this.keys;
    const ttl = String(this.seenTtlMs);
    const cmds: RedisArg[][] = [];
    const blocks = new Map<string, RedisArg[]>();
    for (const s of batch.seen) {
      if (s.kind === 'probe') {
        const { key, offset } = probeBit(k, s.agentId, s.seq);
        let cmd = blocks.get(key);
        if (!cmd) {
          cmd = ['BITFIELD', key];
          blocks.set(key, cmd);
        }
        cmd.push('SET', 'u1', String(offset), '1');
      } else if (s.kind === 'calibration') {
        cmds.push(['HSET', k.seenCalibrations, calibrationField(s.agentId, s.calibrationId), '1']);
      } else {
        cmds.push(['SET', k.seenEvent(s.hash), '1', 'PX', ttl]);
      }
    }
    for (const [key, cmd] of blocks) cmds.push(cmd, ['PEXPIRE', key, ttl]);
    const now = new Date(batch.now);
    for (const d of batch.devices) cmds.push(...deviceUpsertCommands(k, d.deviceId, d.agentId, d.patch, now));
    for (const c of batch.calibrations) cmds.push(['XADD', k.calibrations, '*', 'm', JSON.stringify(c)]);
    for (const [name, n] of batch.counters) cmds.push(['HINCRBY', k.counters, name, String(n)]);
    if (batch.deadLetters.length > 0) {
      cmds.push(['LPUSH', k.deadLetters, ...batch.deadLetters.map((d) => JSON.stringify(d))]);
      cmds.push(['LTRIM', k.deadLetters, '0', String(MAX_DEAD_LETTERS - 1)]);
    }
    if (batch.results.length > 0) cmds.push(['PUBLISH', k.results, JSON.stringify(batch.results)]);
    // Last, so the script returns the new entry's id.
    if (batch.log !== null) {
      cmds.push([
        'XADD',
        k.changelog(this.partition),
        '*',
        'n',
        String(batch.now),
        'h',
        batch.log.hubId,
        'r',
        batch.log.records,
      ]);
    }
    if (cmds.length === 0) return;
    const { ok, last } = await fencedExec(this.redis, cmds, this.fence);
    if (!ok) throw new PartitionLostError(this.partition);
    if (batch.log !== null) this.lastLogId = String(last);
    if (this.mirror !== null && batch.calibrations.length > 0) await this.mirror.append(batch.calibrations);
  }

  position(): string | null {
    return this.lastLogId;
  }

  async saveCheckpoint(
    states: ReadonlyMap<string, CheckpointEntry | null>,
    trimTo: string | null = null,
  ): Promise<void> {
    const k = this.keys;
    const cmds: RedisArg[][] = [];
    const set: RedisArg[] = ['HSET', k.checkpoint(this.partition)];
    const setPos: RedisArg[] = ['HSET', k.checkpointPosition(this.partition)];
    const del: RedisArg[] = ['HDEL', k.checkpoint(this.partition)];
    const delPos: RedisArg[] = ['HDEL', k.checkpointPosition(this.partition)];
    for (const [id, entry] of states) {
      if (entry === null) {
        del.push(id);
        delPos.push(id);
        continue;
      }
      set.push(id, Buffer.from(entry.state.buffer, entry.state.byteOffset, entry.state.byteLength));
      if (entry.position !== null) setPos.push(id, entry.position);
      else delPos.push(id);
    }
    for (const cmd of [set, setPos, del, delPos]) if (cmd.length > 2) cmds.push(cmd);
    // MINID keeps entries >= the id; replay skips what a device's position already covers.
    if (trimTo !== null) cmds.push(['XTRIM', k.changelog(this.partition), 'MINID', trimTo]);
    if (cmds.length === 0) return;
    const { ok } = await fencedExec(this.redis, cmds, this.fence);
    if (!ok) throw new PartitionLostError(this.partition);
  }

  async loadCheckpoint(): Promise<PartitionCheckpoint> {
    const k = this.keys;
    const [raw, positions] = await Promise.all([
      this.redis.hgetallBuffer(k.checkpoint(this.partition)),
      this.redis.hgetall(k.checkpointPosition(this.partition)),
    ]);
    const states = new Map<string, CheckpointEntry>();
    for (const [id, bytes] of Object.entries(raw))
      states.set(id, { state: bytes, position: positions[id] ?? null });
    const log: PartitionCheckpoint['log'] = [];
    let start = '-';
    for (;;) {
      const entries = await this.redis.xrange(k.changelog(this.partition), start, '+', 'COUNT', 1000);
      if (entries.length === 0) break;
      for (const [id, fields] of entries) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        log.push({ id, now: Number(f.n), hubId: f.h ?? 'unknown', records: f.r ?? '[]' });
        this.lastLogId = id;
      }
      start = `(${entries[entries.length - 1]![0]}`;
    }
    return { states, log };
  }
}

/** Reads the calibration samples stored by distributed workers, oldest first (e.g. to export them as JSONL). */
export async function* readRedisCalibrations(redis: Redis, keys: RedisKeys): AsyncGenerator<unknown> {
  let start = '-';
  for (;;) {
    const entries = await redis.xrange(keys.calibrations, start, '+', 'COUNT', 500);
    if (entries.length === 0) return;
    for (const [, fields] of entries) {
      const i = fields.indexOf('m');
      if (i >= 0 && fields[i + 1] !== undefined) yield JSON.parse(fields[i + 1]!);
    }
    start = `(${entries[entries.length - 1]![0]}`;
  }
}
