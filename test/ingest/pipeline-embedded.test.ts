import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import type { MessageOf } from '../../src/protocol/index.js';
import { CALIBRATION_FILE } from '../../src/store/calibration-log.js';
import { tempDir, testLogger } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { pipelineSuite } from './helpers/pipeline-suite.js';
import { testModels } from './helpers/test-models.js';

pipelineSuite('embedded: in-process queue, lmdb store', () => {
  const dir = tempDir();
  return {
    open: () =>
      openPipeline(
        { dataDir: dir.path, embeddedWorker: true, logger: testLogger(), tuning: { validateResults: 'off' } },
        { loadModels: async () => testModels() },
      ),
    calibrations: async () => {
      try {
        return readFileSync(join(dir.path, CALIBRATION_FILE), 'utf8')
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => JSON.parse(l) as MessageOf<'pingCalibration'>);
      } catch {
        return [];
      }
    },
    cleanup: async () => dir.remove(),
  };
});

describe('embedded pipeline backpressure', () => {
  it('answers QUEUE_FULL once the bounded buffer is full, and loses nothing it accepted', async () => {
    const dir = tempDir();
    const pipeline = await openPipeline(
      {
        dataDir: dir.path,
        embeddedWorker: true,
        logger: testLogger(),
        tuning: { memoryQueueCapacity: 50, sink: { maxBuffered: 100, maxBatch: 25 } },
      },
      { loadModels: async () => testModels() },
    );
    try {
      let accepted = 0;
      let refused = 0;
      // One synchronous burst: the worker cannot run in between, so the bound is what decides.
      for (let s = 0; s < 300; s++) {
        const error = pipeline.sink.offer(record(probe('burst', `b-${s % 3}`, s)));
        if (error === null) accepted += 1;
        else {
          refused += 1;
          expect(error.code).toBe('QUEUE_FULL');
          expect(error.recoverable).toBe(true);
        }
      }
      expect(accepted).toBe(100);
      expect(refused).toBe(200);
      await pipeline.drain();
      expect((await pipeline.store.counters())['probe:burst']).toBe(100);
    } finally {
      await pipeline.close();
      dir.remove();
    }
  });
});
