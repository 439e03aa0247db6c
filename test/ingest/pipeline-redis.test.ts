import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import { partitionOf } from '../../src/ingest/partition.js';
import type { MessageOf } from '../../src/protocol/index.js';
import { readRedisCalibrations } from '../../src/store/redis-ingest-store.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { collect, tempDir, testLogger, waitFor } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { pipelineSuite } from './helpers/pipeline-suite.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';
import { testModels } from './helpers/test-models.js';

const redisOk = await haveRedis();

describe.runIf(redisOk)('Redis', () => {
  pipelineSuite('distributed: BullMQ, Redis store and pub/sub, worker in process', () => {
    const prefix = testPrefix();
    const dir = tempDir();
    return {
      open: () =>
        openPipeline(
          {
            redisUrl: REDIS_URL,
            prefix,
            dataDir: dir.path,
            embeddedWorker: true,
            logger: testLogger(),
            tuning: {
              partitions: 4,
              leaseMs: 2000,
              lockDurationMs: 2000,
              stalledIntervalMs: 1000,
              // The tests check every result themselves: nothing may be filtered out before they see it.
              validateResults: 'off',
            },
          },
          { loadModels: async () => testModels() },
        ),
      calibrations: async () => {
        const redis = new Redis(REDIS_URL);
        try {
          const out: Array<MessageOf<'pingCalibration'>> = [];
          for await (const m of readRedisCalibrations(redis, redisKeys(prefix))) {
            out.push(m as MessageOf<'pingCalibration'>);
          }
          return out;
        } finally {
          redis.disconnect();
        }
      },
      cleanup: async () => {
        await deleteKeys(prefix);
        dir.remove();
      },
    };
  });

  it('a sequence number reused for a device of another partition is applied once, though that partition had the bitmap in memory', async () => {
    const prefix = testPrefix();
    const dir = tempDir();
    const pipeline = await openPipeline(
      {
        redisUrl: REDIS_URL,
        prefix,
        dataDir: dir.path,
        embeddedWorker: true,
        logger: testLogger(),
        tuning: { partitions: 4, leaseMs: 2000, lockDurationMs: 2000, stalledIntervalMs: 1000 },
      },
      { loadModels: async () => testModels() },
    );
    try {
      const got = collect(pipeline.results);
      await (pipeline.results as unknown as { ready(): Promise<void> }).ready();
      const devices = Array.from({ length: 16 }, (_, i) => `reuse-${i}`);
      const a = devices[0]!;
      const b = devices.find((d) => partitionOf(probe('r', d, 0), 4) !== partitionOf(probe('r', a, 0), 4))!;
      const applied = async () => (await pipeline.store.counters())['probe:r'] ?? 0;
      // Both partitions read agent r's bitmap block.
      for (let s = 0; s < 10; s++) pipeline.sink.offer(record(probe('r', s % 2 === 0 ? a : b, s)));
      await waitFor('10 applied', async () => (await applied()) === 10);
      pipeline.sink.offer(record(probe('r', a, 10)));
      await waitFor('11 applied', async () => (await applied()) === 11);
      // The agent reuses 10 for b, then goes on with 11: b's partition reloads and skips 10.
      pipeline.sink.offer(record(probe('r', b, 10, { rssi: -99 })));
      pipeline.sink.offer(record(probe('r', b, 11, { rssi: -98 })));
      await waitFor('the result of 11', () =>
        got.messages.some((m) => m.type === 'deviceUpdate' && m.data.deviceId === b && m.data.rssi === -98),
      );
      expect(await applied()).toBe(12);
      expect(got.messages.some((m) => m.type === 'deviceUpdate' && m.data.rssi === -99)).toBe(false);
      expect(await pipeline.deadLetters()).toEqual([]);
      got.stop();
    } finally {
      await pipeline.close();
      await deleteKeys(prefix);
      dir.remove();
    }
  }, 30_000);
});
