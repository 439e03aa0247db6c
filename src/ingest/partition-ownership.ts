import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../store/redis-keys.js';
import { fnv1a } from './partition.js';

/** What a worker does when it gains or gives up a partition. */
export interface OwnershipHandlers {
  /** Start consuming `partition`; `token` fences the store writes (null = unfenced, embedded). */
  acquire(partition: number, token: string | null): Promise<void>;
  /** Stop consuming gracefully (finish the job in hand, checkpoint). */
  release(partition: number): Promise<void>;
  /** The partition was taken from us (lease lost): stop at once, drop its state, write nothing. */
  lost(partition: number): Promise<void>;
}

/** Decides which partitions this worker process consumes. */
export interface PartitionOwnership {
  start(handlers: OwnershipHandlers): Promise<void>;
  /** The consumer of `partition` found its state or lease unusable: drop it and take it up again. */
  reportBroken(partition: number): void;
  owned(): number[];
  stop(): Promise<void>;
}

/** Embedded: one worker owns every partition. */
export class StaticOwnership implements PartitionOwnership {
  private handlers: OwnershipHandlers | null = null;
  private readonly held = new Set<number>();
  private restarting: Promise<void> = Promise.resolve();

  constructor(
    private readonly partitions: number,
    private readonly logger: Logger,
  ) {}

  async start(handlers: OwnershipHandlers): Promise<void> {
    this.handlers = handlers;
    for (let p = 0; p < this.partitions; p++) {
      await handlers.acquire(p, null);
      this.held.add(p);
    }
  }

  reportBroken(partition: number): void {
    const h = this.handlers;
    if (!h || !this.held.has(partition)) return;
    this.restarting = this.restarting.then(async () => {
      await h.lost(partition);
      try {
        await h.acquire(partition, null);
      } catch (err) {
        this.logger.error({ err, partition }, 'cannot restart partition');
        this.held.delete(partition);
      }
    });
  }

  owned(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  async stop(): Promise<void> {
    await this.restarting;
    const h = this.handlers;
    if (!h) return;
    for (const p of this.owned()) await h.release(p);
    this.held.clear();
  }
}

export interface LeaseOptions {
  /** Lease time-to-live; a crashed worker's partitions move after about this long. @defaultValue 10000 */
  leaseMs?: number;
  /** Partitions this worker takes at most (the CLI's --concurrency). @defaultValue all */
  capacity?: number;
}

interface WorkerInfo {
  id: string;
  capacity: number;
}

/**
 * Decides who owns which partition, from the live workers alone, so every worker computes the same answer:
 * rendezvous hashing (stable when workers come and go), capped at a fair share, then at each worker's capacity.
 */
export function assignPartitions(partitions: number, workers: readonly WorkerInfo[]): Array<string | null> {
  const out: Array<string | null> = new Array(partitions).fill(null);
  if (workers.length === 0) return out;
  const sorted = [...workers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const load = new Map(sorted.map((w) => [w.id, 0]));
  const fair = Math.ceil(partitions / sorted.length);
  for (const pass of [0, 1]) {
    for (let p = 0; p < partitions; p++) {
      if (out[p] !== null) continue;
      const ranked = [...sorted].sort((a, b) => fnv1a(`${p}:${b.id}`) - fnv1a(`${p}:${a.id}`));
      for (const w of ranked) {
        const limit = pass === 0 ? Math.min(fair, w.capacity) : w.capacity;
        if ((load.get(w.id) ?? 0) < limit) {
          out[p] = w.id;
          load.set(w.id, (load.get(w.id) ?? 0) + 1);
          break;
        }
      }
    }
  }
  return out;
}

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local n = redis.call('INCR', KEYS[2])
local token = ARGV[1] .. '#' .. n
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type LeaseClient = Redis & {
  sbpLeaseAcquire(lease: string, fence: string, id: string, ttl: number): Promise<string | null>;
  sbpLeaseRenew(lease: string, token: string, ttl: number): Promise<number>;
  sbpLeaseRelease(lease: string, token: string): Promise<number>;
};

/**
 * Distributed: partitions are leased in Redis (give it a fail-fast connection: `enableOfflineQueue: false`, so an
 * outage shows at once instead of queueing the renewals). Each worker heartbeats, computes the assignment, takes the free
 * partitions assigned to it, renews what it holds and hands over (gracefully) what is assigned elsewhere. A lease
 * carries a fencing token; every store write checks it, so a worker that stalled past its lease writes nothing.
 */
export class LeaseOwnership implements PartitionOwnership {
  private readonly leaseMs: number;
  private readonly capacity: number;
  private readonly held = new Map<number, { token: string; renewedAt: number }>();
  private handlers: OwnershipHandlers | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly broken = new Set<number>();
  private lastError = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly workerId: string,
    private readonly partitions: number,
    private readonly logger: Logger,
    options: LeaseOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 10_000;
    this.capacity = options.capacity ?? partitions;
    const client = redis as LeaseClient;
    if (typeof client.sbpLeaseAcquire !== 'function') {
      client.defineCommand('sbpLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
      client.defineCommand('sbpLeaseRenew', { numberOfKeys: 1, lua: RENEW });
      client.defineCommand('sbpLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    }
  }

  private get client(): LeaseClient {
    return this.redis as LeaseClient;
  }

  async start(handlers: OwnershipHandlers): Promise<void> {
    this.handlers = handlers;
    await this.tick();
    this.scheduleTick();
    // Independent of the tick (which may be waiting on Redis or on a hand-over): a lease we could not renew in
    // time is given up before it expires in Redis and someone else may take the partition.
    this.watchdog = setInterval(() => this.expireStale(), Math.max(50, Math.floor(this.leaseMs / 8)));
    this.watchdog.unref();
  }

  private expireStale(): void {
    const h = this.handlers;
    if (!h || this.stopped) return;
    for (const [p, lease] of [...this.held]) {
      if (Date.now() - lease.renewedAt > this.leaseMs * 0.8) {
        this.held.delete(p);
        this.logger.warn({ partition: p }, 'partition lease could not be renewed in time; stopping it');
        h.lost(p).catch((err: unknown) =>
          this.logger.error({ err, partition: p }, 'stopping partition failed'),
        );
      }
    }
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.ticking = this.tick().finally(() => {
          this.ticking = null;
          this.scheduleTick();
        });
      },
      Math.max(50, Math.floor(this.leaseMs / 4)),
    );
  }

  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  reportBroken(partition: number): void {
    this.broken.add(partition);
    // Deal with it now rather than at the next tick.
    if (this.ticking === null && !this.stopped && this.timer !== null) {
      clearTimeout(this.timer);
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        this.scheduleTick();
      });
    }
  }

  private async tick(): Promise<void> {
    const h = this.handlers;
    if (!h || this.stopped) return;
    try {
      // Broken partitions: drop them (no checkpoint: their state is not to be trusted) and free the lease.
      for (const p of [...this.broken]) {
        this.broken.delete(p);
        const lease = this.held.get(p);
        if (!lease) continue;
        this.held.delete(p);
        await h.lost(p);
        await this.client.sbpLeaseRelease(this.keys.lease(p), lease.token);
      }
      const [sec, usec] = await this.redis.time();
      const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
      await this.redis.hset(
        this.keys.workers,
        this.workerId,
        JSON.stringify({ capacity: this.capacity, expiresAt: now + this.leaseMs }),
      );
      const raw = await this.redis.hgetall(this.keys.workers);
      const live: WorkerInfo[] = [];
      const dead: string[] = [];
      for (const [id, text] of Object.entries(raw)) {
        try {
          const info = JSON.parse(text) as { capacity: number; expiresAt: number };
          if (info.expiresAt > now) live.push({ id, capacity: info.capacity });
          else dead.push(id);
        } catch {
          dead.push(id);
        }
      }
      if (dead.length > 0) await this.redis.hdel(this.keys.workers, ...dead);
      const assignment = assignPartitions(this.partitions, live);

      for (const [p, lease] of [...this.held]) {
        if (this.held.get(p) !== lease) continue;
        if (assignment[p] !== this.workerId) {
          // Hand over: finish and checkpoint first, then free the lease for its new owner.
          this.held.delete(p);
          await h.release(p);
          await this.client.sbpLeaseRelease(this.keys.lease(p), lease.token);
          this.logger.info({ partition: p, to: assignment[p] }, 'partition handed over');
          continue;
        }
        const renewed = await this.client.sbpLeaseRenew(this.keys.lease(p), lease.token, this.leaseMs);
        if (this.held.get(p) !== lease) continue;
        if (Number(renewed) === 1) lease.renewedAt = Date.now();
        else {
          this.held.delete(p);
          this.logger.warn({ partition: p }, 'partition lease lost');
          await h.lost(p);
        }
      }
      for (let p = 0; p < this.partitions; p++) {
        if (assignment[p] !== this.workerId || this.held.has(p) || this.stopped) continue;
        const token = await this.client.sbpLeaseAcquire(
          this.keys.lease(p),
          this.keys.fence(p),
          this.workerId,
          this.leaseMs,
        );
        if (token === null) continue;
        this.held.set(p, { token, renewedAt: Date.now() });
        try {
          await h.acquire(p, token);
        } catch (err) {
          this.logger.error({ err, partition: p }, 'cannot take up partition; freeing it');
          this.held.delete(p);
          await this.client.sbpLeaseRelease(this.keys.lease(p), token);
        }
      }
    } catch (err) {
      if (Date.now() - this.lastError > 5000) {
        this.lastError = Date.now();
        this.logger.warn({ err }, 'partition lease upkeep failed (Redis unreachable?)');
      }
      this.expireStale();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.ticking;
    const h = this.handlers;
    for (const [p, lease] of [...this.held]) {
      this.held.delete(p);
      try {
        await h?.release(p);
        await this.client.sbpLeaseRelease(this.keys.lease(p), lease.token);
      } catch (err) {
        this.logger.warn({ err, partition: p }, 'could not hand over partition cleanly');
      }
    }
    await this.redis.hdel(this.keys.workers, this.workerId).catch(() => undefined);
  }
}
