import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import type { MessageOf } from '../../src/protocol/index.js';
import { readRedisCalibrations } from '../../src/store/redis-ingest-store.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { tempDir, testLogger } from './helpers/collect.js';
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
});
