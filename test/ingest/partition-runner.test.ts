import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionRunner, type RunnerOptions } from '../../src/ingest/partition-runner.js';
import { encodeBatch } from '../../src/ingest/wire.js';
import { isPartitionLostError } from '../../src/store/ingest-store.js';
import { RedisIngestStore } from '../../src/store/redis-ingest-store.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { silent } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';
import { testModels } from './helpers/test-models.js';

const redisOk = await haveRedis();

/** The worker's per-partition runner on the Redis store, without BullMQ: what a redelivery or a hand-over sees. */
describe.runIf(redisOk)('PartitionRunner on Redis', () => {
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  let redis: Redis;
  let store: RedisIngestStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    store = new RedisIngestStore(redis, keys);
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
  });

  function runner(token: string): Promise<PartitionRunner> {
    const options: RunnerOptions = {
      partition: 0,
      store: store.partition(0, token),
      models: () => testModels(),
      logger: silent,
      metrics: null,
      clock: Date.now,
      changelog: true,
      checkpointIntervalMs: 1e9,
    };
    return PartitionRunner.open(options);
  }

  let jobId = 0;
  const job = (seqs: number[], devices: number) => ({
    id: `j${jobId++}`,
    partition: 0,
    attempt: 1,
    payload: encodeBatch(
      'hub',
      seqs.map((s) => record(probe('agent-r', `rd-${s % devices}`, s))),
    ),
  });

  it('rebuilds exact device states from a sliced checkpoint taken while batches kept coming', async () => {
    await redis.set(keys.lease(0), 'w1#1');
    const first = await runner('w1#1');
    const devices = 250; // more than one checkpoint slice
    let seq = 0;
    const next = (n: number) => Array.from({ length: n }, () => seq++);
    for (let i = 0; i < 4; i++) await first.handle(job(next(300), devices));
    // Checkpoint in slices while more batches are applied in between.
    const checkpoint = first.checkpoint();
    for (let i = 0; i < 3; i++) await first.handle(job(next(100), devices));
    await checkpoint;
    for (let i = 0; i < 2; i++) await first.handle(job(next(150), devices));
    const expected = new Map([...first.devices].map(([id, d]) => [id, d.probes]));
    expect([...expected.values()].reduce((a, b) => a + b, 0)).toBe(seq);

    // A redelivered job changes nothing.
    const again = job([0, 1, 2], devices);
    await first.handle(again);
    expect(first.devices.get('rd-0')?.probes).toBe(expected.get('rd-0'));

    // The partition moves to another worker: it restores the same states, and the old owner can write no more.
    await redis.set(keys.lease(0), 'w2#2');
    const second = await runner('w2#2');
    const restored = new Map([...second.devices].map(([id, d]) => [id, d.probes]));
    const wrong = [...expected]
      .filter(([id, n]) => restored.get(id) !== n)
      .map(([id, n]) => `${id}: ${restored.get(id)} != ${n}`);
    expect(wrong).toEqual([]);
    const lost = await first.handle(job(next(10), devices)).catch((e: unknown) => e);
    expect(isPartitionLostError(lost)).toBe(true);
    expect(first.isBroken).toBe(true);

    // The new owner carries on; a final checkpoint trims the changelog to nothing a device still needs.
    await second.handle(job(next(50), devices));
    await second.checkpoint();
    const third = await (async () => {
      await redis.set(keys.lease(0), 'w3#3');
      return runner('w3#3');
    })();
    const total = [...third.devices.values()].reduce((a, d) => a + d.probes, 0);
    expect(total).toBe(seq - 10);
    expect(await redis.xlen(keys.changelog(0))).toBeLessThanOrEqual(1);
  });
});
