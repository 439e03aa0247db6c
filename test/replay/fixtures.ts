import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Message } from '../../src/protocol/index.js';
import { probeTraffic } from '../../src/replay/probe-traffic.js';
import { createSimulatedWorld } from '../../src/sim/index.js';
import { createVersionDir, publishVersion, writeMetadata } from '../../src/training/model-dir.js';
import {
  samplesFromMessages,
  savePositioningModel,
  trainPositioning,
} from '../../src/training/positioning/index.js';

export function writeJsonl(path: string, values: readonly unknown[]): string {
  writeFileSync(path, values.map((v) => `${JSON.stringify(v)}\n`).join(''));
  return path;
}

export interface Fixture {
  dir: string;
  modelRoot: string;
  siteFile: string;
  walk: string;
  test: string;
  /** Probe traffic of moving devices, with true positions in capture.labels.jsonl. */
  capture: string;
}

/**
 * A simulated home (the positioning simulator's `home` scenario), a calibration walk, a held-out test walk, a few
 * minutes of probe traffic with true positions, and a positioning model trained on the walk (multilateration and
 * kNN: seconds, no neural network) published in a model directory.
 */
export async function buildFixture(dir: string, seed = 7): Promise<Fixture> {
  const world = createSimulatedWorld(seed, { devices: 3 });
  const walk = world.calibrationWalk({ spacingM: 1.5, samplesPerPoint: 2 });
  const test = world.calibrationWalk({
    layout: 'random',
    points: 40,
    samplesPerPoint: 1,
    idPrefix: 'test',
    startTime: Date.UTC(2025, 0, 2),
  });
  const labels: unknown[] = [];
  const capture: Message[] = [
    ...probeTraffic(world, {
      durationS: 120,
      onTruth: (deviceId, t, truth) =>
        labels.push({ kind: 'position', deviceId, timestamp: new Date(t).toISOString(), ...truth }),
    }),
  ];
  const siteFile = join(dir, 'site.json');
  writeFileSync(siteFile, JSON.stringify(world.site));
  const trained = await trainPositioning(samplesFromMessages(walk, world.site), world.site, {
    seed: 1,
    folds: 3,
    deviceHeight: 1,
    estimators: ['multilateration', 'knn'],
  });
  const modelRoot = join(dir, 'models');
  const { version, path } = await createVersionDir(modelRoot, new Date(Date.UTC(2025, 0, 1)));
  await savePositioningModel(path, trained.model);
  await writeMetadata(path, { formatVersion: 1, version, createdAt: '2025-01-01T00:00:00.000Z' });
  await publishVersion(modelRoot, version);
  writeJsonl(join(dir, 'capture.labels.jsonl'), labels);
  return {
    dir,
    modelRoot,
    siteFile,
    walk: writeJsonl(join(dir, 'walk.jsonl'), walk),
    test: writeJsonl(join(dir, 'test.jsonl'), test),
    capture: writeJsonl(join(dir, 'capture.jsonl'), capture),
  };
}
