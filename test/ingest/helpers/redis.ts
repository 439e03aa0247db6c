import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../helpers/system-requirement.js';
import { tempDir } from './collect.js';

export { REDIS_URL };

/** A fresh key prefix per test: tests share the Redis on 6379 with everyone and never FLUSH it. */
export function testPrefix(): string {
  return `sbptest:${randomUUID().slice(0, 12)}`;
}

/** Deletes every key under `prefix` (SCAN, never FLUSHALL). */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A private redis-server on its own loopback port, which a test may stop and start (never the shared one on 6379).
 * It keeps an append-only file in its own temporary directory, so a restart finds the queues as they were — as a
 * production Redis for BullMQ is configured.
 */
export class PrivateRedis {
  readonly port = 16379 + Math.floor(Math.random() * 20000);
  readonly url = `redis://127.0.0.1:${this.port}`;
  private readonly dir = tempDir('sbp-redis-');
  private proc: ChildProcess | null = null;

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir.path,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      if (await portOpen(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`private redis-server did not start on port ${this.port}`);
  }

  /** Stops it the way an operator would (SIGTERM: the append-only file is complete). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    this.proc = null;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    this.dir.remove();
  }
}
