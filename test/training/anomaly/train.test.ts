import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anomalyDetectedData } from '../../../src/models/anomaly/anomaly-messages.js';
import type { AnomalyModel } from '../../../src/models/anomaly/behaviour-model.js';
import { groupByDevice } from '../../../src/models/anomaly/device-event.js';
import { normalExamples, windowsToExclude } from '../../../src/models/anomaly/feedback.js';
import { deserialiseAnomalyModel, serialiseAnomalyModel } from '../../../src/models/anomaly/model-codec.js';
import { AnomalyDetected, makeMessage } from '../../../src/protocol/index.js';
import { simulateTraffic, type Traffic } from '../../../src/sim/traffic/simulate-traffic.js';
import { readBaselineCapture } from '../../../src/training/anomaly/baseline-capture.js';
import {
  FeedbackError,
  MemoryFeedbackStore,
  submitFeedback,
} from '../../../src/training/anomaly/feedback-service.js';
import {
  loadBehaviourModel,
  publishAnomalyVersion,
  saveAnomalyModel,
} from '../../../src/training/anomaly/model-io.js';
import { retrain, trainAnomalyModel } from '../../../src/training/anomaly/train.js';
import { addAnomalyModelToVersion } from '../../../src/training/anomaly/train-from-capture.js';
import { readLatest, readMetadata, writeMetadata } from '../../../src/training/model-dir.js';

const HOUR = 3_600_000;
let traffic: Traffic;
let cut: number;
let model: AnomalyModel;
let dir: string;

/** Replays a device's events and returns its detailed assessment at `t`. */
function assessAt(m: AnomalyModel, deviceId: string, t: number) {
  const list = groupByDevice(traffic.events).get(deviceId)!;
  let s = m.initialState(deviceId);
  for (const e of list) if (e.t <= t) s = m.observe(s, e);
  return m.assessDetailed(s, t);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbp-anomaly-'));
  traffic = simulateTraffic({
    seed: 11,
    durationMs: 24 * HOUR,
    devices: 5,
    anomalyFreeMs: 16 * HOUR,
    anomaliesPerType: 1,
  });
  cut = traffic.start + 16 * HOUR;
  model = trainAnomalyModel({
    baseline: traffic.messages.filter((m) => Date.parse(m.timestamp) < cut),
    seed: 1,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training the behaviour model', () => {
  it('trains from protocol messages or behaviour events alike, deterministically', () => {
    const fromEvents = trainAnomalyModel({
      baseline: traffic.events.filter((e) => e.event.t < cut),
      seed: 1,
    });
    expect(JSON.stringify(serialiseAnomalyModel(fromEvents))).toBe(
      JSON.stringify(serialiseAnomalyModel(model)),
    );
    expect(model.data.summary.devices).toBe(5);
    expect(model.data.groups.map((g) => g.name)).toEqual(['signal', 'link', 'activity', 'location']);
  });

  it('trains the time-of-day group only on a baseline of a week: routines are weekly', () => {
    const DAY = 24 * HOUR;
    const week = simulateTraffic({ seed: 4, durationMs: 7 * DAY, devices: 2 });
    const groupsOn = (days: number) =>
      trainAnomalyModel({
        baseline: week.events.filter((e) => e.event.t < week.start + days * DAY),
        seed: 1,
      }).data.groups.map((g) => g.name);
    expect(groupsOn(7)).toContain('schedule');
    expect(groupsOn(6)).not.toContain('schedule');
  }, 60_000);

  it('assesses an injected anomaly as anomalous, explained, typed, and valid as anomalyDetected', () => {
    const rogue = traffic.anomalies.find((a) => a.type === 'rogue_scanner')!;
    const a = assessAt(model, rogue.deviceId, rogue.start + 4 * 60_000)!;
    expect(a.anomalous).toBe(true);
    expect(a.anomalyScore).toBeGreaterThan(a.threshold);
    expect(['rogue_scanner', 'port_scan']).toContain(a.anomalyType);
    expect(Object.keys(a.features)).toContain('port_scans');
    const data = anomalyDetectedData(rogue.deviceId, a, 'anom_1');
    expect(AnomalyDetected.safeParse(makeMessage('anomalyDetected', 'sim_agent_001', data)).success).toBe(
      true,
    );
    // A quiet device at the same time is not anomalous.
    const quiet = traffic.devices.find((d) => !traffic.anomalies.some((x) => x.deviceId === d.deviceId))!;
    const q = assessAt(model, quiet.deviceId, rogue.start + 4 * 60_000);
    if (q) expect(q.anomalous).toBe(false);
  });

  it('saves into <version>/anomaly/ and loads back with identical assessments; null when absent', async () => {
    const version = join(dir, 'v1');
    await mkdir(version);
    await saveAnomalyModel(version, model);
    const loaded = (await loadBehaviourModel(version))!;
    expect(loaded.version).toBe('v1');
    const t = traffic.anomalies[0]!;
    expect(assessAt(loaded, t.deviceId, t.start + 5 * 60_000)).toEqual({
      ...assessAt(model, t.deviceId, t.start + 5 * 60_000),
      modelVersion: 'v1',
    });
    const empty = join(dir, 'v0');
    await mkdir(empty);
    expect(await loadBehaviourModel(empty)).toBeNull();
    await writeFile(join(version, 'anomaly', 'model.json'), '{"format":"nope"}');
    await expect(loadBehaviourModel(version)).rejects.toThrow(/anomaly\/model\.json: cannot load/);
  });

  it("publishes a retrained version that keeps the parent's other models and names its parent", async () => {
    const root = join(dir, 'models');
    const first = await publishAnomalyVersion(root, model, { now: new Date(Date.UTC(2025, 0, 1)) });
    await mkdir(join(first.path, 'positioning'));
    await writeFile(join(first.path, 'positioning', 'model.json'), '{"kept":true}');
    await writeMetadata(first.path, { ...(await readMetadata(first.path)), positioning: { meanError: 1.2 } });
    const next = retrain(
      model,
      traffic.events.filter((e) => e.event.t >= traffic.start + 8 * HOUR && e.event.t < cut),
      2,
    );
    const second = await publishAnomalyVersion(root, next, {
      parent: first.version,
      now: new Date(Date.UTC(2025, 0, 2)),
    });
    expect(await readLatest(root)).toBe(second.version);
    expect(await readFile(join(second.path, 'positioning', 'model.json'), 'utf8')).toBe('{"kept":true}');
    const meta = await readMetadata(second.path);
    expect(meta.parent).toBe(first.version);
    expect(meta.positioning).toEqual({ meanError: 1.2 });
    expect(meta.anomaly).toMatchObject({ model: 'isolation_forest' });
    expect((await loadBehaviourModel(second.path))!.version).toBe(second.version);
  });

  it('adds the anomaly model to a version another trainer is writing', async () => {
    const version = join(dir, 'v-pos');
    await mkdir(version);
    await writeMetadata(version, {
      formatVersion: 1,
      version: 'v-pos',
      createdAt: new Date(0).toISOString(),
      positioning: { a: 1 },
    });
    await addAnomalyModelToVersion(version, 'v-pos', model);
    const meta = await readMetadata(version);
    expect(meta.positioning).toEqual({ a: 1 });
    expect(meta.anomaly).toBeDefined();
    expect(await loadBehaviourModel(version)).not.toBeNull();
  });

  it('feedback: the API validates, stores, moves thresholds; "fine" examples and exclusions feed retraining', async () => {
    const store = new MemoryFeedbackStore();
    const a = assessAt(model, traffic.anomalies[0]!.deviceId, traffic.anomalies[0]!.start + 5 * 60_000)!;
    const type = a.anomalyType ?? 'behavior_change';
    const body = {
      anomalyId: 'anom_9',
      deviceId: 'd',
      verdict: 'fine',
      anomalyType: type,
      score: a.anomalyScore,
      at: cut,
      vector: a.vector,
    };
    const { model: after } = await submitFeedback(store, model, body, 1000);
    for (const g of Object.keys(model.thresholdsFor(type))) {
      expect(after.thresholdsFor(type)[g]!).toBeGreaterThan(model.thresholdsFor(type)[g]!);
    }
    expect(await store.list()).toHaveLength(1);
    await expect(submitFeedback(store, model, { ...body, verdict: 'maybe' }, 1)).rejects.toThrow(
      FeedbackError,
    );
    expect(await store.list()).toHaveLength(1);
    const records = await store.list();
    expect(normalExamples(records, a.vector.length)).toEqual([a.vector]);
    expect(
      windowsToExclude(
        [
          { anomalyId: 'anom_9', deviceId: 'd', at: 5 },
          { anomalyId: 'x', deviceId: 'e', at: 1e6 },
        ],
        records,
        100,
      ),
    ).toEqual([{ deviceId: 'e', from: 1e6 - 100, to: 1e6 + 100 }]);
    // Retraining keeps what feedback taught and takes the examples as normal.
    const re = retrain(
      after,
      traffic.events.filter((e) => e.event.t < cut),
      3,
      { extraNormal: normalExamples(records, a.vector.length) },
    );
    expect(re.data.summary.feedbackExamples).toBe(1);
    expect(re.data.groups[0]!.thresholds.typeFactor[type]).toBeCloseTo(0.7, 12);
  });

  it('reads a baseline capture, skipping bad lines', async () => {
    const file = join(dir, 'cap.jsonl');
    const lines = traffic.messages.slice(0, 50).map((m) => JSON.stringify(m));
    lines.splice(3, 0, 'not json', '{"type":"deviceUpdate","agentId":"a","timestamp":"x","data":{}}');
    lines.push(JSON.stringify({ message: traffic.messages[60] }));
    await writeFile(file, `${lines.join('\n')}\n`);
    const read = await readBaselineCapture(file);
    expect(read.messages).toBe(51);
    expect(read.badLines).toBe(2);
    expect(read.firstErrors[0]).toEqual({ line: 4, reason: 'not JSON' });
    await expect(readBaselineCapture(join(dir, 'missing.jsonl'))).rejects.toThrow(/no such file/);
  });

  it('refuses a baseline too short to learn from, and round-trips through JSON', () => {
    expect(() => trainAnomalyModel({ baseline: traffic.events.slice(0, 20) })).toThrow(/need at least 50/);
    const back = deserialiseAnomalyModel(JSON.parse(JSON.stringify(serialiseAnomalyModel(model))));
    expect(back.thresholdsFor()).toEqual(model.thresholdsFor());
  });
});
