import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSet } from '../../src/ingest/load-model-set.js';
import type { WorkerModels } from '../../src/ingest/worker-models.js';
import { createTrustModel } from '../../src/models/trust/trust-model.js';
import type { Message } from '../../src/protocol/index.js';
import { parseMessage } from '../../src/protocol/index.js';
import { JsonlWriter } from '../../src/replay/jsonl-writer.js';
import { parseLabels, readLabels } from '../../src/replay/labels.js';
import { replay } from '../../src/replay/replay.js';
import { simulateTraffic } from '../../src/sim/traffic/simulate-traffic.js';
import { trainAnomalyModel } from '../../src/training/anomaly/train.js';
import { resolveVersionPath } from '../../src/training/model-dir.js';
import { buildFixture, type Fixture, writeJsonl } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sbp-replay-'));
let fx: Fixture;
let models: WorkerModels;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  fx = await buildFixture(dir);
  models = await loadModelSet((await resolveVersionPath(fx.modelRoot)).path);
}, 120_000);

async function replayToFile(input: string, out: string, extra: Partial<Parameters<typeof replay>[0]> = {}) {
  const writer = new JsonlWriter(out);
  const result = await replay({ input, models, onResults: (m) => writer.write(m), ...extra });
  await writer.close();
  return { result, text: readFileSync(out, 'utf8') };
}

describe('replay of a calibration walk', () => {
  it('locates every held-out point through the worker and measures the error against the known locations', async () => {
    const { result, text } = await replayToFile(fx.test, join(dir, 'test.out.jsonl'));
    expect(result.calibrationPoints).toBe(40);
    expect(result.a.position.n).toBe(40);
    expect(result.a.position.medianError).toBeGreaterThan(0);
    expect(result.a.position.medianError).toBeLessThan(3); // a 10 × 8 m home with a trained model
    expect(result.a.position.roomAccuracy).toBeGreaterThan(0.5);
    const out = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Message);
    const updates = out.filter((m) => m.type === 'deviceUpdate');
    expect(updates).toHaveLength(40);
    // Results are valid protocol messages, about the walking device (not the per-point tracks).
    for (const m of out) expect(parseMessage(m).ok).toBe(true);
    expect(new Set(updates.map((m) => (m.type === 'deviceUpdate' ? m.data.deviceId : '')))).toEqual(
      new Set(['sim-agent']),
    );
  });

  it('tracks the walk as one moving device in track mode', async () => {
    const r = await replay({ input: fx.walk, models, walkMode: 'track' });
    expect(r.a.position.n).toBeGreaterThan(20);
    expect(r.walkMode).toBe('track');
  });
});

describe('replay of live traffic', () => {
  it('compares located devices with the labelled true positions', async () => {
    const truth = await readLabels(join(dir, 'capture.labels.jsonl'));
    const r = await replay({ input: fx.capture, models, truth });
    expect(r.records).toBe(r.capture.messages);
    expect(r.batches).toBe(120); // one per second of capture
    expect(r.a.position.n).toBeGreaterThan(3 * 100);
    expect(r.a.position.medianError).toBeLessThan(3);
    expect(r.a.positionMetrics.tracks()).toHaveLength(3);
  });

  it('is deterministic: the same capture and models give the same bytes, at any speed and read size', async () => {
    const one = await replayToFile(fx.capture, join(dir, 'a.jsonl'));
    const two = await replayToFile(fx.capture, join(dir, 'b.jsonl'), {
      speed: { kind: 'scaled', factor: 2000 },
    });
    expect(two.text).toBe(one.text);
    // Read on this thread or on a parse thread: the same bytes out.
    const serial = await replayToFile(fx.capture, join(dir, 'c.jsonl'), { parseInWorker: false });
    const threaded = await replayToFile(fx.capture, join(dir, 'd.jsonl'), { parseInWorker: true });
    expect(serial.text).toBe(one.text);
    expect(threaded.text).toBe(one.text);
    expect(threaded.result.a.position).toEqual(serial.result.a.position);
    expect(one.text.length).toBeGreaterThan(1000);
    // Wall-clock pacing: 120 s of capture at 2000x takes at least 60 ms.
    expect(two.result.seconds).toBeGreaterThan(0.06);
  });

  it('skips bad lines and messages not meant for the worker, drops resent probes, and never crashes', async () => {
    const lines = readFileSync(fx.capture, 'utf8').trim().split('\n');
    const mixed = [
      lines[0]!,
      '{"broken": ',
      JSON.stringify({
        type: 'agent_heartbeat',
        agentId: 'sim_agent_001',
        timestamp: '2025-01-01T00:00:01.000Z',
        data: { status: 'active', uptime: 5, memoryUsage: 1, cpuUsage: 1 },
      }),
      ...lines.slice(1, 200),
      lines[5]!, // resent after a reconnect
      lines[6]!,
      'null',
      ...lines.slice(200),
    ];
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(file, `${mixed.join('\n')}\n`);
    for (const parseInWorker of [false, true]) {
      const r = await replay({ input: file, models, parseInWorker });
      expect(r.badLines).toBe(2);
      expect(r.firstErrors.map((e) => e.line)).toEqual([2, 205]);
      expect(r.skipped).toEqual({ agent_heartbeat: 1 });
      expect(r.duplicates).toBe(2);
      expect(r.records).toBe(lines.length);
    }
  });

  it('compares two model versions: nothing moves against itself; a different model moves positions', async () => {
    const same = await replay({ input: fx.capture, models, compare: models });
    expect(same.comparison!.pairs).toBeGreaterThan(300);
    expect(same.comparison!.displacement!.max).toBe(0);
    expect(same.comparison).toMatchObject({ gained: 0, lost: 0, roomChanged: 0 });

    mkdirSync(join(dir, 'other'));
    const other = await buildFixture(join(dir, 'other'), 11);
    // Same site and anchors (the scenario), but a model fitted on another walk with other noise.
    const modelsB = await loadModelSet((await resolveVersionPath(other.modelRoot)).path);
    const diff = await replay({ input: fx.capture, models, compare: { ...modelsB, version: 'B' } });
    expect(diff.b!.modelVersion).toBe('B');
    expect(diff.comparison!.displacement!.median).toBeGreaterThan(0);
  }, 60_000);
});

describe('the hub capture format', () => {
  it("replays what the hub's CaptureWriter wrote, message for message", async () => {
    const { CaptureWriter } = await import('../../src/hub/capture-writer.js');
    const { pino } = await import('pino');
    const file = join(dir, 'hub-capture.jsonl');
    const writer = await CaptureWriter.open(
      { file, maxBytes: 0, maxFiles: 0, flushIntervalMs: 10 },
      pino({ level: 'silent' }),
    );
    const lines = readFileSync(fx.capture, 'utf8').trim().split('\n');
    // The hub re-serialises every accepted message (socket-session.ts): the same JSON.stringify of the message.
    for (const line of lines) writer.append(JSON.stringify(JSON.parse(line)));
    await writer.close();
    const r = await replay({ input: file, models });
    expect(r.badLines).toBe(0);
    expect(r.records).toBe(lines.length);
    expect(r.a.emittedByType.deviceUpdate).toBeGreaterThan(0);
  });
});

describe('replay with a behaviour model and labelled anomalies', () => {
  it('measures precision, recall and time to detect against the simulator labels', async () => {
    const DAY = 86_400_000;
    const start = Date.UTC(2025, 5, 16);
    const traffic = simulateTraffic({
      seed: 5,
      start,
      durationMs: 2 * DAY,
      devices: 8,
      updateIntervalMs: 120_000,
      anomalyFreeMs: DAY,
      anomaliesPerType: 1,
      anomalyTypes: ['latency_spike', 'rogue_scanner', 'interference'],
    });
    const model = trainAnomalyModel({
      baseline: traffic.messages.filter((m) => Date.parse(m.timestamp) < start + DAY),
      seed: 1,
      trees: 50,
      version: 'behaviour-test',
    });
    const capture = writeJsonl(
      join(dir, 'day2.jsonl'),
      traffic.messages.filter((m) => Date.parse(m.timestamp) >= start + DAY),
    );
    const labels = traffic.anomalies
      .map((a) =>
        JSON.stringify({
          kind: 'anomaly',
          deviceId: a.deviceId,
          anomalyType: a.type,
          start: new Date(a.start).toISOString(),
          end: new Date(a.end).toISOString(),
        }),
      )
      .join('\n');
    const r = await replay({
      input: capture,
      models: { version: 'behaviour-test', positioner: null, behaviour: model, trust: null },
      truth: parseLabels(labels),
    });
    const d = r.a.detection;
    expect(d.windows).toBe(3);
    expect(d.alerts).toBeGreaterThan(0);
    expect(d.recall).toBeGreaterThan(0);
    expect(d.precision).not.toBeNull();
    expect(d.timeToDetect!.median).toBeGreaterThanOrEqual(0);
    expect(r.a.emittedByType.anomalyDetected).toBe(d.alerts);
    const scores = r.a.detectionMetrics.scores();
    expect(scores.anomalous.length).toBeGreaterThan(0);
    expect(scores.normal.length).toBeGreaterThan(scores.anomalous.length);

    // --compare against a version with no behaviour model but the trust score: every anomaly alert is lost, none
    // gained; the trust alerts appear only in the second version, so all of them are gained.
    const trust = createTrustModel();
    const cmp = await replay({
      input: capture,
      models: { version: 'behaviour-test', positioner: null, behaviour: model, trust: null },
      compare: { version: 'trust-only', positioner: null, behaviour: null, trust },
      truth: parseLabels(labels),
    });
    const c = cmp.comparison!;
    expect(c).toMatchObject({ alertsA: d.alerts, alertsB: 0, gained: 0, lost: d.alerts, trustAlertsA: 0 });
    expect(c.trustAlertsB).toBe(cmp.b!.emittedByType.trustAlert);
    expect(c.trustAlertsB).toBeGreaterThan(0);
    expect(c.trustGained).toBe(c.trustAlertsB);
    expect(c.trustLost).toBe(0);
    expect(c.lostExamples.filter((x) => x.kind === 'anomaly')).toHaveLength(Math.min(d.alerts, 20));
    expect(c.gainedExamples.every((x) => x.kind === 'trust')).toBe(true);
    // The other way round: what one version gains the other loses.
    const back = await replay({
      input: capture,
      models: { version: 'trust-only', positioner: null, behaviour: null, trust },
      compare: { version: 'behaviour-test', positioner: null, behaviour: model, trust: null },
    });
    expect(back.comparison).toMatchObject({
      gained: d.alerts,
      lost: 0,
      trustGained: 0,
      trustLost: c.trustAlertsB,
    });
  }, 120_000);
});
