import { afterEach, describe, expect, it } from 'vitest';
import { BullmqIngestQueue } from '../../src/ingest/bullmq-queue.js';
import { QueueUnavailableError } from '../../src/ingest/errors.js';
import { openRedis } from '../../src/ingest/redis-connections.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { silent } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';

const redisOk = await haveRedis();

describe.runIf(redisOk)('BullmqIngestQueue', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('opens a partition queue again when its first initialisation failed (connection going down at that moment)', async () => {
    const prefix = testPrefix();
    const producer = openRedis(REDIS_URL, 'producer', silent);
    const queue = new BullmqIngestQueue({ keys: redisKeys(prefix), partitions: 2, producer, logger: silent });
    cleanups.push(async () => {
      await queue.close();
      producer.disconnect();
      await deleteKeys(prefix);
    });
    await new Promise<void>((resolve) => producer.once('ready', () => resolve()));
    // BullMQ's version check (INFO) fails once, as it does when the socket has ended but the client has not yet
    // noticed (status still 'ready', stream no longer writable).
    const info = producer.info.bind(producer);
    let failures = 1;
    producer.info = ((...args: Parameters<typeof info>) => {
      if (failures-- > 0)
        return Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
      return info(...args);
    }) as typeof producer.info;

    await expect(queue.add(0, [record(probe('agent-q', 'qd-0', 0))])).rejects.toBeInstanceOf(
      QueueUnavailableError,
    );
    // The sink retries: the retry must reach Redis, not the broken queue object again.
    await queue.add(0, [record(probe('agent-q', 'qd-0', 1))]);
    expect(await queue.depth()).toBe(1);
  });
});
