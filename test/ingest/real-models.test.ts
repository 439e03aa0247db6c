import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import { isIngestMessage, Message, type MessageOf, parseMessage } from '../../src/protocol/index.js';
import { readLatest } from '../../src/training/model-dir.js';
import { collect, tempDir, testLogger, waitFor } from './helpers/collect.js';

const run = promisify(execFile);
const SBP = resolve(import.meta.dirname, '../../bin/sbp.js');

/**
 * The worker with the project's real models (no test doubles): a seeded simulated site, a calibration walk and a
 * baseline day trained with `sbp train` (positioning + anomaly), then the next day's capture through the pipeline.
 */
describe('the pipeline with the real models', () => {
  it('locates devices with the trained positioner, scores them and keeps every result valid', async () => {
    const dir = tempDir();
    try {
      const sim = join(dir.path, 'sim');
      const models = join(dir.path, 'models');
      await run(process.execPath, [SBP, 'simulate', '--out', sim, '--seed', '3']);
      await run(process.execPath, [
        SBP,
        'train',
        '--input',
        join(sim, 'walk.jsonl'),
        '--site',
        join(sim, 'site.json'),
        '--out',
        models,
        '--estimators',
        'multilateration,knn',
        '--folds',
        '2',
        '--baseline',
        join(sim, 'baseline.jsonl'),
      ]);
      const version = await readLatest(models);
      expect(version).not.toBeNull();

      // The capture is played in order on its own clock, in slices of a few seconds, as a live agent would send it.
      let simNow = 0;
      const pipeline = await openPipeline(
        {
          dataDir: join(dir.path, 'data'),
          modelDir: models,
          embeddedWorker: true,
          logger: testLogger(),
          tuning: { validateResults: 'off' },
        },
        { clock: () => simNow },
      );
      const got = collect(pipeline.results);
      try {
        await waitFor('the trained models', () => pipeline.models()?.version === version);
        const loaded = pipeline.models()!;
        expect(loaded.positioner).not.toBeNull();
        expect(loaded.behaviour).not.toBeNull();
        expect(loaded.trust).not.toBeNull();

        const lines = readFileSync(join(sim, 'capture.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .slice(0, 3000);
        let offered = 0;
        for (const line of lines) {
          const parsed = parseMessage(JSON.parse(line));
          if (!parsed.ok || !isIngestMessage(parsed.message)) continue;
          const t = Date.parse(parsed.message.timestamp);
          if (t - simNow > 2000) {
            await pipeline.drain();
            simNow = t;
          }
          expect(
            pipeline.sink.offer({ message: parsed.message, hubId: 'test', receivedAt: Date.now() }),
          ).toBeNull();
          offered += 1;
        }
        await pipeline.drain();
        expect(offered).toBeGreaterThan(1000);
        expect(got.invalid).toEqual([]);
        expect(await pipeline.deadLetters()).toEqual([]);
        const located = got.messages.filter(
          (m): m is MessageOf<'deviceUpdate'> => m.type === 'deviceUpdate' && m.data.location !== undefined,
        );
        expect(located.length).toBeGreaterThan(10);
        for (const m of located) {
          expect(m.data.location?.modelVersion).toBe(version);
          expect(m.data.location?.uncertainty).toBeGreaterThan(0);
        }
        const scores = got.messages.filter(
          (m): m is MessageOf<'mlScoreUpdate'> => m.type === 'mlScoreUpdate',
        );
        expect(scores.some((m) => m.data.scores.trustScore !== undefined)).toBe(true);
        expect(scores.some((m) => m.data.scores.locationConfidence !== undefined)).toBe(true);
        expect(got.messages.every((m) => Message.safeParse(m).success)).toBe(true);
      } finally {
        got.stop();
        await pipeline.close();
      }
    } finally {
      dir.remove();
    }
  }, 180_000);
});
