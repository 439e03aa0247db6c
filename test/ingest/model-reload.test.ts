import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelSet } from '../../src/ingest/load-model-set.js';
import { ModelProvider } from '../../src/ingest/model-provider.js';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import { NO_MODELS } from '../../src/ingest/worker-models.js';
import type { MessageOf } from '../../src/protocol/index.js';
import {
  createVersionDir,
  MODEL_DIR_FORMAT,
  publishVersion,
  writeMetadata,
} from '../../src/training/model-dir.js';
import { collect, silent, tempDir, testLogger, waitFor } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { testModels } from './helpers/test-models.js';

async function newVersion(root: string, at: Date): Promise<string> {
  const { version, path } = await createVersionDir(root, at);
  await writeMetadata(path, { formatVersion: MODEL_DIR_FORMAT, version, createdAt: at.toISOString() });
  return version;
}

/** Loads the test doubles, named after the version directory; refuses directories marked broken. */
async function testLoader(path: string | null) {
  if (path === null) return NO_MODELS;
  const { readdir } = await import('node:fs/promises');
  if ((await readdir(path)).includes('BROKEN')) throw new Error('corrupt model');
  return testModels(basename(path));
}

describe('model hot reload', () => {
  it('a running worker picks up a newly published version without a restart', async () => {
    const data = tempDir();
    const models = tempDir();
    const v1 = await newVersion(models.path, new Date('2025-01-01T00:00:00Z'));
    await publishVersion(models.path, v1);
    const pipeline = await openPipeline(
      {
        dataDir: data.path,
        modelDir: models.path,
        embeddedWorker: true,
        logger: testLogger(),
        tuning: { modelPollMs: 100 },
      },
      { loadModels: testLoader },
    );
    const got = collect(pipeline.results);
    const versionsSeen = () =>
      got.messages.flatMap((m) =>
        m.type === 'deviceUpdate' && m.data.location ? [m.data.location.modelVersion] : [],
      );
    try {
      let seq = 0;
      const send = () => pipeline.sink.offer(record(probe('agent-m', 'm-dev', seq++)));
      send();
      await waitFor('a result of v1', () => versionsSeen().includes(v1));

      // A new version is trained and published while the worker runs.
      const v2 = await newVersion(models.path, new Date('2025-01-02T00:00:00Z'));
      await publishVersion(models.path, v2);
      await waitFor('the worker to switch to v2', () => pipeline.models()?.version === v2, 10_000);
      send();
      await waitFor('a result of v2', () => versionsSeen().includes(v2));

      // A version that cannot be loaded is skipped; v2 stays in use.
      const v3 = await newVersion(models.path, new Date('2025-01-03T00:00:00Z'));
      await writeFile(join(models.path, v3, 'BROKEN'), '');
      await publishVersion(models.path, v3);
      await new Promise((r) => setTimeout(r, 500));
      expect(pipeline.models()?.version).toBe(v2);
      send();
      await waitFor('another result', () => versionsSeen().length >= 3);
      expect(versionsSeen().at(-1)).toBe(v2);
      const update = got.messages.findLast((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
      expect(update.data.location?.modelVersion).toBe(v2);
    } finally {
      got.stop();
      await pipeline.close();
      data.remove();
      models.remove();
    }
  });

  it('starts with what needs no training when the model directory is empty, then loads the first version', async () => {
    const models = tempDir();
    const provider = await ModelProvider.open({
      modelDir: models.path,
      load: testLoader,
      pollMs: 100,
      logger: silent,
    });
    try {
      expect(provider.current().version).toBe('untrained');
      const v1 = await newVersion(models.path, new Date('2025-01-01T00:00:00Z'));
      await publishVersion(models.path, v1);
      await waitFor('v1', () => provider.current().version === v1, 10_000);
    } finally {
      provider.close();
      models.remove();
    }
  });

  it('loadModelSet: a version without a positioning model has no positioner', async () => {
    const models = tempDir();
    try {
      const v = await newVersion(models.path, new Date('2025-01-01T00:00:00Z'));
      const set = await loadModelSet(join(models.path, v));
      expect(set.version).toBe(v);
      expect(set.positioner).toBeNull();
      expect(set.behaviour).toBeNull();
      // The trust score needs no training: always there.
      expect(
        set.trust?.assess(
          { deviceId: 'd', firstSeen: 0, anomalyTimes: [], portScans: 0, connectionAttempts: 0 },
          1000,
        ).factors.length,
      ).toBeGreaterThan(0);
      expect((await loadModelSet(null)).version).toBe('untrained');
    } finally {
      models.remove();
    }
  });
});
