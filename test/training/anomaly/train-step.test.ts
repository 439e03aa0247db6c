import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { command, TRAIN_STEPS } from '../../../src/cli/train.js';
import { anomalyTrainStep } from '../../../src/cli/train-anomaly-step.js';
import { simulateTraffic } from '../../../src/sim/traffic/simulate-traffic.js';
import { loadBehaviourModel } from '../../../src/training/anomaly/model-io.js';
import { readLatest, readMetadata } from '../../../src/training/model-dir.js';

// `sbp train --baseline CAPTURE.jsonl`: the anomaly step inside the shared train command.
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('sbp train --baseline', () => {
  it('trains the anomaly model into the new version and records it in metadata.json', async () => {
    expect(TRAIN_STEPS).toContain(anomalyTrainStep);
    const dir = await mkdtemp(join(tmpdir(), 'sbp-train-step-'));
    dirs.push(dir);
    const capture = join(dir, 'baseline.jsonl');
    const traffic = simulateTraffic({ seed: 8, durationMs: 4 * 3_600_000, devices: 3 });
    await writeFile(capture, `${traffic.messages.map((m) => JSON.stringify(m)).join('\n')}\n`);
    const out = join(dir, 'models');
    const code = await command.run(['--baseline', capture, '--out', out, '--budget', '4']);
    expect(code).toBe(0);
    const version = (await readLatest(out))!;
    const meta = await readMetadata(join(out, version));
    expect(meta.anomaly).toMatchObject({ model: 'isolation_forest', params: { falseAlertsPerWeek: 4 } });
    expect((await loadBehaviourModel(join(out, version)))?.version).toBe(version);
  });
});
