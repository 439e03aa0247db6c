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
}

const ROLE_OPTIONS: Record<RedisRole, RoleOptions> = {
  producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1 },
  lease: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 },
  consumer: { maxRetriesPerRequest: null, enableOfflineQueue: true },
  subscriber: { maxRetriesPerRequest: null, enableOfflineQueue: true },
};

export function openRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const redis = new Redis(url, {
    ...ROLE_OPTIONS[role],
    connectionName: `sbp-${role}`,
    // Reconnect quickly at first, then every 2 s (ioredis' default grows to 2 s too, but starts at 50 ms).
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
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
