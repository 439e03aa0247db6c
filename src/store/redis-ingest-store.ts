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
  SeenKeyTakenError,
  type StoredDeadLetter,
  uniqueById,
} from './ingest-store.js';
import { RedisDeviceRegistry } from './redis-device-registry.js';
import type { RedisKeys } from './redis-keys.js';
import { fencedCommit, fencedExec, type PrepareOp, prepareReads, type RedisArg } from './redis-script.js';

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

/**
 * A probe key's bitmap block key and bit offset. Consecutive probes mostly share an agent and a block, whose key is
 * built once.
 */
function probeBits(keys: RedisKeys): (agentId: string, seq: number) => { key: string; offset: number } {
  let agent = '';
  let block = -1;
  let key = '';
  return (agentId, seq) => {
    const b = Math.floor(seq / PROBE_BLOCK_BITS);
    if (agentId !== agent || b !== block) {
      agent = agentId;
      block = b;
      key = keys.seenProbes(agentId, b);
    }
    return { key, offset: seq % PROBE_BLOCK_BITS };
  };
}

function calibrationField(agentId: string, calibrationId: string): string {
  return JSON.stringify([agentId, calibrationId]);
}

/** Probe bitmap blocks a partition store keeps in memory (8 KiB each). */
const MAX_CACHED_BLOCKS = 512;
/** Device controls a partition store keeps in memory. */
const MAX_CACHED_CONTROLS = 100_000;
/**
 * How long cached device controls are used without the epoch being confirmed; a commit confirms it, so under load no
 * read is needed, and after a quiet spell the first batch reads again. ms.
 */
const CONTROL_MAX_AGE_MS = 100;

interface CachedBlock {
  bits: Uint8Array;
  usedAt: number;
}

function bitSet(bits: Uint8Array, offset: number): boolean {
  return (bits[offset >> 3]! & (0x80 >> (offset & 7))) !== 0;
}

class RedisPartitionStore implements PartitionStore {
  /** Id of the newest changelog entry applied by (or restored into) this owner. */
  private lastLogId: string | null = null;
  private readonly fence: { leaseKey: string; token: string } | null;
  /**
   * Probe bitmap blocks as this owner knows them: read once from Redis, then updated by its own commits. Bits of
   * this partition's records are only ever set by the partition's owner, so they are exact; a bit another partition
   * set since the read (the same agentId + sequenceNumber reused for a device of another partition) is caught by the
   * commit script, which then writes nothing and the partition is reloaded with fresh blocks.
   */
  private readonly blocks = new Map<string, CachedBlock>();
  /** Devices' trustLevel and userDecision as last read or written by this owner, valid while the epoch holds. */
  private readonly controls = new Map<string, DeviceControl>();
  private epoch = '';
  private epochAt = Number.NEGATIVE_INFINITY;

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

  /**
   * Which keys were applied, and the devices' controls — from memory when it can (the usual case under load: no
   * round trip), else one read-only script for what is missing: bitmap blocks not seen yet, calibration and
   * device-event keys (never cached), devices not cached, and the control epoch when it was not confirmed lately.
   */
  async prepare(
    keys: readonly SeenKey[],
    deviceIds: readonly string[],
  ): Promise<{ seen: boolean[]; control: Map<string, DeviceControl> }> {
    const now = Date.now();
    const ops: PrepareOp[] = [];
    const missing = new Set<string>();
    const others: Array<{ op: PrepareOp; at: number }> = [];
    const probeAt: Array<{ key: string; offset: number; at: number }> = [];
    const bitOf = probeBits(this.keys);
    keys.forEach((k, at) => {
      if (k.kind === 'probe') {
        const { key, offset } = bitOf(k.agentId, k.seq);
        probeAt.push({ key, offset, at });
        const cached = this.blocks.get(key);
        if (cached === undefined || now - cached.usedAt > this.seenTtlMs / 2) missing.add(key);
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
    const stale = now - this.epochAt > CONTROL_MAX_AGE_MS;
    const uncached = deviceIds.some((id) => !this.controls.has(id));
    if (missing.size > 0 || others.length > 0 || stale || uncached) {
      for (const key of missing) ops.push({ op: 'B', key });
      for (const o of others) ops.push(o.op);
      ops.push({ op: 'E', key: this.keys.controlEpoch, expected: this.epoch });
      for (const id of deviceIds)
        ops.push({ op: 'd', key: this.keys.device(id), cached: this.controls.has(id) });
      const reply = await prepareReads(this.redis, ops);
      let i = 0;
      for (const key of missing) {
        const bytes = reply[i++] as Buffer;
        const bits = new Uint8Array(PROBE_BLOCK_BITS / 8);
        if (Buffer.isBuffer(bytes)) bits.set(bytes.subarray(0, bits.length));
        this.blocks.delete(key);
        this.blocks.set(key, { bits, usedAt: now });
      }
      const otherSeen = others.map(() => Number(reply[i++]) === 1);
      const epoch = String(reply[i++]);
      if (epoch !== this.epoch) {
        this.controls.clear();
        this.epoch = epoch;
      }
      this.epochAt = now;
      for (const id of deviceIds) {
        const trust = String(reply[i++]);
        const decision = String(reply[i++]);
        if (trust === '~') continue;
        const c: DeviceControl = {};
        if (trust) c.trustLevel = JSON.parse(trust) as TrustLevel;
        if (decision) c.userDecision = JSON.parse(decision) as 'approved' | 'blocked';
        this.controls.delete(id);
        this.controls.set(id, c);
      }
      if (this.controls.size > MAX_CACHED_CONTROLS) {
        for (const id of this.controls.keys()) {
          if (this.controls.size <= MAX_CACHED_CONTROLS * 0.9) break;
          if (!deviceIds.includes(id)) this.controls.delete(id);
        }
      }
      const seen: boolean[] = new Array(keys.length).fill(false);
      others.forEach((o, j) => {
        seen[o.at] = otherSeen[j]!;
      });
      this.probeSeen(probeAt, seen, now);
      this.evictBlocks(now);
      return { seen, control: this.controlOf(deviceIds) };
    }
    const seen: boolean[] = new Array(keys.length).fill(false);
    this.probeSeen(probeAt, seen, now);
    return { seen, control: this.controlOf(deviceIds) };
  }

  private probeSeen(
    probes: Array<{ key: string; offset: number; at: number }>,
    seen: boolean[],
    now: number,
  ): void {
    let last: CachedBlock | undefined;
    let lastKey = '';
    for (const p of probes) {
      if (p.key !== lastKey) {
        last = this.blocks.get(p.key)!;
        last.usedAt = now;
        lastKey = p.key;
      }
      seen[p.at] = bitSet(last!.bits, p.offset);
    }
  }

  private controlOf(deviceIds: readonly string[]): Map<string, DeviceControl> {
    const control = new Map<string, DeviceControl>();
    for (const id of deviceIds) control.set(id, { ...this.controls.get(id) });
    return control;
  }

  /** Drops the least recently used blocks beyond the bound (read again when needed), never the batch's own. */
  private evictBlocks(now: number): void {
    if (this.blocks.size <= MAX_CACHED_BLOCKS) return;
    const byUse = [...this.blocks]
      .filter(([, b]) => b.usedAt < now)
      .sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key] of byUse.slice(0, this.blocks.size - MAX_CACHED_BLOCKS)) this.blocks.delete(key);
  }

  async commit(batch: BatchCommit): Promise<void> {
    const k = this.keys;
    const cmds: RedisArg[][] = [];
    const blocks = new Map<string, number[]>();
    const once: Array<[string, string]> = [];
    const bitOf = probeBits(k);
    for (const s of batch.seen) {
      if (s.kind === 'probe') {
        const { key, offset } = bitOf(s.agentId, s.seq);
        let offsets = blocks.get(key);
        if (!offsets) {
          offsets = [];
          blocks.set(key, offsets);
        }
        offsets.push(offset);
      } else if (s.kind === 'calibration') {
        const field = calibrationField(s.agentId, s.calibrationId);
        once.push([k.seenCalibrations, field]);
        cmds.push(['HSET', k.seenCalibrations, field, '1']);
      } else {
        once.push([k.seenEvent(s.hash), '']);
        cmds.push(['SET', k.seenEvent(s.hash), '1', 'PX', String(this.seenTtlMs)]);
      }
    }
    const now = new Date(batch.now);
    const trust: Array<[string, string, string]> = [];
    for (const d of batch.devices) {
      let patch = d.patch;
      if (patch.trustLevel !== undefined) {
        // Written by the script only if no user decided otherwise since this worker read the device.
        const decision = this.controls.get(d.deviceId)?.userDecision;
        trust.push([
          k.device(d.deviceId),
          JSON.stringify(patch.trustLevel),
          decision ? JSON.stringify(decision) : '',
        ]);
        const { trustLevel: _, ...rest } = patch;
        patch = rest;
      }
      cmds.push(...deviceUpsertCommands(k, d.deviceId, d.agentId, patch, now));
    }
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
    if (cmds.length === 0 && blocks.size === 0 && trust.length === 0) return;
    const reply = await fencedCommit(
      this.redis,
      {
        bits: [...blocks],
        ttlMs: this.seenTtlMs,
        keys: once,
        trust,
        commands: cmds,
        epochKey: k.controlEpoch,
      },
      this.fence,
    );
    if (reply.outcome === 'fenced') throw new PartitionLostError(this.partition);
    if (reply.outcome === 'taken') {
      this.blocks.clear();
      throw new SeenKeyTakenError(this.partition, `${reply.key}${reply.at === '' ? '' : ` ${reply.at}`}`);
    }
    if (batch.log !== null) this.lastLogId = String(reply.last);
    // What this owner wrote is what the store now holds.
    for (const [key, offsets] of blocks) {
      const cached = this.blocks.get(key);
      if (!cached) continue;
      for (const o of offsets) cached.bits[o >> 3]! |= 0x80 >> (o & 7);
    }
    if (reply.epoch !== this.epoch) {
      this.controls.clear();
      this.epoch = reply.epoch;
    } else {
      for (const d of batch.devices) {
        const c = this.controls.get(d.deviceId);
        if (c !== undefined && d.patch.trustLevel !== undefined) c.trustLevel = d.patch.trustLevel;
      }
    }
    this.epochAt = Date.now();
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
