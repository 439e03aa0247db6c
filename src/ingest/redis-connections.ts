import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The roles a Redis connection plays, and how each behaves while Redis is unreachable:
 * - `producer` (hub: enqueue, registry, publish) fails fast — the hub buffers and answers QUEUE_FULL itself;
 * - `lease` (worker: partition leases) fails fast — an outage must show before the leases expire;
 * - `consumer` (worker: BullMQ, store) waits — commands are queued until Redis is back;
 * - `subscriber` (hub: results channel) waits and resubscribes by itself.
 */
export type RedisRole = 'producer' | 'lease' | 'consumer' | 'subscriber';

interface RoleOptions {
  enableOfflineQueue: boolean;
  maxRetriesPerRequest: number | null;
  commandTimeout?: number;
  /** Commands of one event-loop turn leave in one write (see coalesceWrites). */
  coalesce?: boolean;
}

const ROLE_OPTIONS: Record<RedisRole, RoleOptions> = {
  producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1, coalesce: true },
  lease: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 },
  consumer: { maxRetriesPerRequest: null, enableOfflineQueue: true, coalesce: true },
  subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true },
};

/**
 * Makes the commands written during one event-loop turn leave in one write: the connection's socket is corked at the
 * first write of a turn and uncorked at its end. On a hub that is every partition's add of one flush; on a worker,
 * the commits and BullMQ calls of every partition that had a job. A round trip costs each side a wake-up and a few
 * system calls, which at load weigh more than the commands themselves; each command still gets its own reply, in
 * order, exactly as without (ioredis' own auto-pipelining, which would do this too, mixes badly with BullMQ's scripts
 * and transactions).
 */
function coalesceWrites(redis: Redis): void {
  redis.on('connect', () => {
    const stream = redis.stream as Socket & { sbpCoalesced?: boolean };
    if (stream.sbpCoalesced) return;
    stream.sbpCoalesced = true;
    const write = stream.write;
    let corked = false;
    const uncork = () => {
      corked = false;
      stream.uncork();
    };
    stream.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
      if (!corked) {
        corked = true;
        stream.cork();
        setImmediate(uncork);
      }
      return write.apply(this, args);
    } as Socket['write'];
  });
}

export function openRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const { coalesce, ...options } = ROLE_OPTIONS[role];
  const redis = new Redis(url, {
    ...options,
    connectionName: `sbp-${role}`,
    // Reconnect quickly at first, then every 2 s (ioredis' default grows to 2 s too, but starts at 50 ms).
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  if (coalesce) coalesceWrites(redis);
  // One line per outage, not one per reconnection attempt.
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ role, err: err.message }, 'Redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ role }, 'Redis connection restored');
    down = false;
  });
  return redis;
}

/** Resolves when the connection is ready, or false after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
  } catch {
    redis.disconnect();
  }
}
