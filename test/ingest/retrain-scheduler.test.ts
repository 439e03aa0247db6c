import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { anomalyPlugin } from '../../src/hub/anomaly-routes.js';
import { FeedbackOverlay } from '../../src/ingest/feedback-overlay.js';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import {
  packWindows,
  type RetrainJobInput,
  type RetrainJobResult,
  runRetrainJob,
} from '../../src/ingest/retrain-job.js';
import { RetrainScheduler } from '../../src/ingest/retrain-scheduler.js';
import { AnomalyModel } from '../../src/models/anomaly/behaviour-model.js';
import { FEATURE_NAMES } from '../../src/models/anomaly/features.js';
import type { StoredVerdict } from '../../src/store/anomaly-feedback-store.js';
import { LmdbAnomalyFeedbackStore } from '../../src/store/lmdb-anomaly-feedback-store.js';
import { RedisAnomalyFeedbackStore } from '../../src/store/redis-anomaly-feedback-store.js';
import { loadBehaviourModel } from '../../src/training/anomaly/model-io.js';
import { listVersions, readLatest, readMetadata } from '../../src/training/model-dir.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { startHub, VIEWER_TOKEN } from '../hub/helpers.js';
import {
  type AnomalyScenario,
  anomalyScenario,
  play,
  publishScenarioModel,
  scoreLikeTheWorker,
} from './helpers/anomaly-traffic.js';
import { tempDir, testLogger, waitFor } from './helpers/collect.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';

const redisOk = await haveRedis();
const HOUR = 3_600_000;

let scenario: AnomalyScenario;
beforeAll(() => {
  scenario = anomalyScenario(9);
});

describe('scheduled retraining in the worker', () => {
  it('publishes new versions from recent history on schedule; the worker loads them and keeps device states', async () => {
    const dir = tempDir('sbp-retrain-');
    const modelDir = join(dir.path, 'models');
    const first = await publishScenarioModel(modelDir, scenario.model);
    let now = scenario.cut;
    const pipeline = await openPipeline(
      {
        dataDir: join(dir.path, 'data'),
        modelDir,
        embeddedWorker: true,
        logger: testLogger(),
        tuning: {
          validateResults: 'off',
          modelPollMs: 100,
          anomaly: {
            recordFlushMs: 100,
            retrainEveryMs: 1500,
            retrain: { checkMs: 100, minSpanMs: 2 * HOUR, historyMs: 7 * 24 * HOUR },
          },
        },
      },
      { clock: () => now },
    );
    try {
      await waitFor('the first model', () => pipeline.models()?.version === first);
      const feeder = {
        offer: (message: Parameters<typeof pipeline.sink.offer>[0]['message']) =>
          pipeline.sink.offer({ message, hubId: 'test', receivedAt: Date.now() }) === null,
        settle: () => pipeline.drain(),
        setNow: (ms: number) => {
          now = ms;
        },
      };
      // Five hours of live traffic: each device's windows are recorded once its own references are 2 h old.
      const end = await play(scenario.traffic, scenario.cut, feeder, () => false, scenario.cut + 5 * HOUR);
      // Versions being written have no metadata yet: wait for two complete ones.
      const complete = async () => {
        const out = new Map<string, string | undefined>();
        for (const v of await listVersions(modelDir)) {
          if (v === first) continue;
          try {
            out.set(v, (await readMetadata(join(modelDir, v))).parent);
          } catch {
            // still being written
          }
        }
        return out;
      };
      await waitFor('two retrained versions', async () => (await complete()).size >= 2, 90_000, 100);
      const parents = await complete();
      const r1 = [...parents].find(([, parent]) => parent === first)![0];
      const m1 = await readMetadata(join(modelDir, r1));
      // Each retraining starts from the version before it.
      expect([...parents].some(([, parent]) => parent === r1)).toBe(true);
      // What it saw: the recorded windows of the live period (each device's first 2 h left out), by which model.
      const summary = (m1.anomaly as { summary: Record<string, unknown> }).summary;
      expect(summary.source).toBe('recent-history');
      expect(summary.windows as number).toBeGreaterThan(100);
      // The devices that were online after their 2 h warm-up (the simulator's phones come and go).
      const recorded = new Set((await pipeline.anomalies.windows()).map((w) => w.deviceId));
      expect(recorded.size).toBeGreaterThanOrEqual(2);
      expect(summary.devices).toBe(recorded.size);
      expect(Date.parse(summary.from as string)).toBeGreaterThanOrEqual(scenario.cut + 2 * HOUR - 60_000);
      expect(Date.parse(summary.to as string)).toBeLessThanOrEqual(end + 60_000);
      expect(summary.excludedWindows).toEqual(expect.any(Number));
      // The parent's other models are carried over.
      expect(await readFile(join(modelDir, r1, 'positioning', 'kept.txt'), 'utf8')).toContain('carried over');
      expect(m1.positioning).toEqual({ note: 'stand-in' });

      // The worker picks the newest up without a restart…
      await waitFor(
        'the worker on the newest version',
        async () => pipeline.models()?.version === (await readLatest(modelDir)),
        20_000,
      );
      expect(pipeline.models()?.version).not.toBe(first);
      expect(pipeline.models()?.behaviour).toBeInstanceOf(AnomalyModel);
      // …and its devices keep their window state (same features): the next minute of traffic is scored against
      // references built since the start of the live traffic, not from scratch.
      await play(scenario.traffic, end, feeder, () => false, end + 2 * 60_000);
      const model = pipeline.models()!.behaviour as AnomalyModel;
      const runner = pipeline.worker!.runner(0)!;
      const states = [...runner.devices.values()].filter((d) => d.behaviour !== null);
      expect(states.length).toBeGreaterThanOrEqual(2);
      for (const d of states) {
        expect(d.behaviour!.version).toBe(model.stateVersion);
        expect((d.behaviour!.state as { firstSeen: number }).firstSeen).toBeLessThan(scenario.cut + HOUR);
      }
      expect(await pipeline.anomalies.lastRetrain()).not.toBeNull();
    } finally {
      await pipeline.close();
      dir.remove();
    }
  }, 150_000);

  it('a retrained model includes the verdicts so far, and the workers apply only later ones on top', async () => {
    const dir = tempDir('sbp-retrain-job-');
    const modelDir = join(dir.path, 'models');
    const first = await publishScenarioModel(modelDir, scenario.model);
    const { windows, alerts } = scoreLikeTheWorker(
      scenario.traffic,
      scenario.model,
      scenario.cut,
      scenario.cut + 10 * HOUR,
    );
    const verdict = (seq: number, v: 'fine' | 'real'): StoredVerdict => ({
      seq,
      anomalyId: alerts[0]!.anomalyId,
      deviceId: alerts[0]!.deviceId,
      verdict: v,
      anomalyType: 'interference',
      at: alerts[0]!.at,
      receivedAt: alerts[0]!.at + 1000,
      ...(seq > 1 ? { replaces: 'real' as const } : {}),
    });
    const feedback = [verdict(1, 'real'), verdict(2, 'fine')];
    const result = await runRetrainJob({
      modelDir,
      parent: first,
      windows: packWindows(windows, FEATURE_NAMES.length),
      alerts,
      feedback,
      feedbackThrough: 2,
      historyMs: 7 * 24 * HOUR,
      minSpanMs: HOUR,
    });
    expect(result).toMatchObject({ kind: 'published', parent: first });
    if (result.kind !== 'published') return;
    const model = (await loadBehaviourModel(join(modelDir, result.version)))!;
    expect(model.data.feedbackThrough).toBe(2);
    // real, then changed to fine: the alert counts once, as fine.
    expect(model.data.groups[0]!.thresholds.typeFactor.interference).toBeCloseTo(0.7, 12);
    expect(model.data.params.seed).toBe(scenario.model.data.params.seed + 1);
    // A worker following the same log adds nothing already included, and a later verdict on top.
    const store = new LmdbAnomalyFeedbackStore(join(dir.path, 'data'));
    const overlay = new FeedbackOverlay({ store, logger: testLogger(), pollMs: 60_000 });
    try {
      // The same two verdicts as the job saw, as the hub stores them: positions 1 and 2.
      const on = {
        anomalyId: alerts[0]!.anomalyId,
        deviceId: alerts[0]!.deviceId,
        anomalyType: 'interference' as const,
      };
      await store.submitVerdict({ ...on, verdict: 'real', receivedAt: 1 });
      expect((await store.submitVerdict({ ...on, verdict: 'fine', receivedAt: 2 })).record).toMatchObject({
        seq: 2,
        replaces: 'real',
      });
      await overlay.start();
      const models = { version: result.version, positioner: null, behaviour: model, trust: null };
      expect(overlay.apply(models)).toBe(models);
      await store.submitVerdict({ ...on, anomalyId: 'another', verdict: 'fine', receivedAt: 3 });
      await overlay.refresh();
      const applied = overlay.apply(models).behaviour as AnomalyModel;
      expect(applied.data.groups[0]!.thresholds.typeFactor.interference).toBeCloseTo(0.49, 12);
      expect(applied.version).toBe(model.version);
      // A version changed on disk since the job was planned is not overwritten.
      const stale = await runRetrainJob({
        modelDir,
        parent: first,
        windows: packWindows(windows, FEATURE_NAMES.length),
        alerts,
        feedback,
        feedbackThrough: 2,
        historyMs: 7 * 24 * HOUR,
        minSpanMs: HOUR,
      });
      expect(stale).toEqual({ kind: 'skipped', reason: 'a newer version was published while retraining' });
    } finally {
      overlay.close();
      await store.close();
      dir.remove();
    }
  }, 60_000);

  it('a verdict given through the API reaches the next scheduled retraining (thresholds and training data)', async () => {
    const dir = tempDir('sbp-retrain-api-');
    const modelDir = join(dir.path, 'models');
    const first = await publishScenarioModel(modelDir, scenario.model);
    const store = new LmdbAnomalyFeedbackStore(join(dir.path, 'data'));
    const hub = await startHub({}, { plugins: [anomalyPlugin({ store })] });
    // The worker's record of ten hours: every scored window and every alert it raised.
    const { windows, alerts } = scoreLikeTheWorker(
      scenario.traffic,
      scenario.model,
      scenario.cut,
      scenario.cut + 10 * HOUR,
    );
    expect(alerts.length).toBeGreaterThan(0);
    await store.appendWindows(windows);
    await store.recordAnomalies(
      alerts.map((a) => ({
        ...a,
        agentId: 'agent',
        anomalyType: 'interference' as const,
        severity: 'medium' as const,
        confidence: 0.8,
        mlModel: 'isolation_forest',
        recommendedAction: 'investigate_interference',
        features: {},
      })),
    );
    // The real thread the worker uses, not a stand-in.
    const scheduler = new RetrainScheduler({
      store,
      modelDir,
      owner: 'w1',
      logger: testLogger(),
      schedule: { everyMs: HOUR, minSpanMs: HOUR },
    });
    try {
      const before = await scheduler.runNow();
      expect(before).toMatchObject({ kind: 'published', parent: first });
      if (before.kind !== 'published') return;
      const m0 = await readMetadata(join(modelDir, before.version));
      const excluded0 = (m0.anomaly as { summary: { excludedWindows: number } }).summary.excludedWindows;

      const res = await fetch(
        `${hub.address.httpUrl}/api/anomalies/${encodeURIComponent(alerts[0]!.anomalyId)}/feedback`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${VIEWER_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ verdict: 'fine' }),
        },
      );
      expect(res.status).toBe(200);

      const after = await scheduler.runNow();
      expect(after).toMatchObject({ kind: 'published', parent: before.version });
      if (after.kind !== 'published') return;
      const model = (await loadBehaviourModel(join(modelDir, after.version)))!;
      // The thresholds: the verdict is baked in, and the version says up to where.
      expect(model.data.feedbackThrough).toBe(1);
      expect(model.data.groups[0]!.thresholds.typeFactor.interference).toBeCloseTo(0.7, 12);
      const previous = (await loadBehaviourModel(join(modelDir, before.version)))!;
      expect(previous.data.feedbackThrough ?? 0).toBe(0);
      expect(previous.data.groups[0]!.thresholds.typeFactor.interference ?? 1).toBe(1);
      // The training data: the windows around an alert called fine are normal again, no longer left out.
      const m1 = await readMetadata(join(modelDir, after.version));
      const excluded1 = (m1.anomaly as { summary: { excludedWindows: number } }).summary.excludedWindows;
      expect(excluded1).toBeLessThan(excluded0);
    } finally {
      await scheduler.close();
      await hub.close();
      await store.close();
      dir.remove();
    }
  }, 120_000);

  it.runIf(redisOk)(
    'only one process of a deployment retrains at a time (Redis lease, random prefix)',
    async () => {
      const dir = tempDir('sbp-retrain-lease-');
      const prefix = testPrefix();
      const modelDir = join(dir.path, 'models');
      await publishScenarioModel(modelDir, scenario.model);
      const a = new Redis(REDIS_URL);
      const b = new Redis(REDIS_URL);
      const storeA = new RedisAnomalyFeedbackStore(a, prefix);
      const storeB = new RedisAnomalyFeedbackStore(b, prefix);
      // Three hours of recorded windows of two devices.
      await storeA.appendWindows(
        Array.from({ length: 360 }, (_, i) => ({
          deviceId: `d${i % 2}`,
          t: scenario.cut + i * 30_000,
          vector: FEATURE_NAMES.map((_, j) => (i % 7) + j),
          anomalous: false,
        })),
      );
      const started: string[] = [];
      const slowRun = (owner: string) => (input: RetrainJobInput) => {
        started.push(owner);
        expect(input.windows.t.length).toBe(360);
        const done = new Promise<RetrainJobResult>((resolve) =>
          setTimeout(() => resolve({ kind: 'skipped', reason: 'test run' }), 300),
        );
        return { done, cancel: () => undefined };
      };
      const schedule = { everyMs: 60_000, minSpanMs: HOUR, leaseMs: 5000 };
      const one = new RetrainScheduler({
        store: storeA,
        modelDir,
        owner: 'w1',
        logger: testLogger(),
        schedule,
        run: slowRun('w1'),
      });
      const two = new RetrainScheduler({
        store: storeB,
        modelDir,
        owner: 'w2',
        logger: testLogger(),
        schedule,
        run: slowRun('w2'),
      });
      try {
        const [r1, r2] = await Promise.all([one.runNow(), two.runNow()]);
        expect(started).toHaveLength(1);
        expect([r1.kind, r2.kind].sort()).toEqual(['busy', 'skipped']);
        // The lease is released when the run ends: the other may go next.
        expect((await two.runNow()).kind).toBe('skipped');
        expect(started).toHaveLength(2);
        // A deployment retrained a moment ago is not due: the schedule is shared through the store.
        await storeA.setLastRetrain(Date.now());
        expect(await one.tick()).toBeNull();
        expect(await two.tick()).toBeNull();
        expect(started).toHaveLength(2);
      } finally {
        await one.close();
        await two.close();
        a.disconnect();
        b.disconnect();
        await deleteKeys(prefix);
        dir.remove();
      }
    },
  );
});
