import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { anomalyPlugin } from '../../src/hub/anomaly-routes.js';
import { buildHub, type Hub } from '../../src/hub/build-hub.js';
import { type OpenedPipeline, openPipeline, startWorker } from '../../src/ingest/open-pipeline.js';
import type { PipelineTuning } from '../../src/ingest/pipeline-tuning.js';
import { AnomalyModel } from '../../src/models/anomaly/behaviour-model.js';
import type { AnomalyType } from '../../src/protocol/index.js';
import { haveRedis } from '../helpers/system-requirement.js';
import {
  type AnomalyScenario,
  alertsIn,
  anomalyScenario,
  play,
  publishScenarioModel,
} from './helpers/anomaly-traffic.js';
import { collect, tempDir, testLogger, waitFor } from './helpers/collect.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';

const redisOk = await haveRedis();
const VIEWER = 'viewer-token-feedback-test-0001';
const AGENT = 'agent-token-feedback-test-00001';
const HOUR = 3_600_000;

const TUNING: PipelineTuning = {
  validateResults: 'off',
  anomaly: { feedbackPollMs: 100, recordFlushMs: 100 },
};

let scenario: AnomalyScenario;
beforeAll(() => {
  scenario = anomalyScenario();
});

async function startTestHub(pipeline: OpenedPipeline): Promise<{ hub: Hub; url: string }> {
  const hub = await buildHub(
    {
      host: '127.0.0.1',
      port: 0,
      tokens: { agents: { sim_agent_001: AGENT }, viewers: [VIEWER] },
      logLevel: 'silent',
    },
    {
      sink: pipeline.sink,
      results: pipeline.results,
      registry: pipeline.registry,
      logger: pino({ level: 'silent' }),
      plugins: [anomalyPlugin({ store: pipeline.anomalies })],
    },
  );
  const { httpUrl } = await hub.listen();
  return { hub, url: httpUrl };
}

async function api(url: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${VIEWER}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function behaviourOf(models: { behaviour: unknown } | null): AnomalyModel {
  const b = models?.behaviour;
  if (!(b instanceof AnomalyModel)) throw new Error('no behaviour model in use');
  return b;
}

/**
 * The whole loop: real traffic until the worker raises an alert, the alert in GET /api/anomalies, a "fine" verdict
 * by HTTP, and the worker's live threshold for that anomaly type raised — same model version, no restart.
 */
async function fineRaisesThreshold(
  url: string,
  live: () => AnomalyModel,
  run: (until: () => boolean) => Promise<number>,
  alerts: () => ReturnType<typeof alertsIn>,
): Promise<{ type: AnomalyType; anomalyId: string; before: Record<string, number> }> {
  const version = live().version;
  await run(() => alerts().length > 0);
  const alert = alerts()[0];
  if (alert === undefined) throw new Error('the traffic raised no alert');
  const { anomalyId, anomalyType: type } = alert.data;
  await waitFor('the alert in the API', async () => {
    const { body } = await api(url, '/api/anomalies?limit=50');
    return (body.anomalies as Array<{ anomalyId: string }>).some((a) => a.anomalyId === anomalyId);
  });
  const before = live().thresholdsFor(type);
  const other: AnomalyType = type === 'port_scan' ? 'device_moved' : 'port_scan';
  const otherBefore = live().thresholdsFor(other);

  expect(
    (await api(url, `/api/anomalies/${anomalyId}/feedback`, { method: 'POST', body: '{"verdict":"maybe"}' }))
      .status,
  ).toBe(400);
  const res = await api(url, `/api/anomalies/${encodeURIComponent(anomalyId)}/feedback`, {
    method: 'POST',
    body: JSON.stringify({ verdict: 'fine' }),
  });
  expect(res.status).toBe(200);
  expect(res.body.changed).toBe(true);

  await waitFor('the live threshold to rise', () => {
    const after = live().thresholdsFor(type);
    return Object.keys(before).some((g) => after[g]! > before[g]!);
  });
  const after = live().thresholdsFor(type);
  for (const g of Object.keys(before)) expect(after[g]!).toBeGreaterThanOrEqual(before[g]!);
  // Only that type moved; the model version (and so every device's state) stayed.
  expect(live().thresholdsFor(other)).toEqual(otherBefore);
  expect(live().version).toBe(version);
  expect(live().data.groups[0]!.thresholds.typeFactor[type]).toBeCloseTo(0.7, 12);
  return { type, anomalyId, before };
}

describe('feedback through the API moves the running worker’s thresholds', () => {
  it('embedded: lmdb in the data directory, durable across a restart', async () => {
    const dir = tempDir('sbp-feedback-');
    const modelDir = `${dir.path}/models`;
    await publishScenarioModel(modelDir, scenario.model);
    let now = scenario.cut;
    const open = () =>
      openPipeline(
        { dataDir: `${dir.path}/data`, modelDir, embeddedWorker: true, logger: testLogger(), tuning: TUNING },
        { clock: () => now },
      );
    let pipeline = await open();
    const got = collect(pipeline.results);
    const { hub, url } = await startTestHub(pipeline);
    try {
      await waitFor('the model', () => pipeline.models()?.behaviour !== null);
      const live = () => behaviourOf(pipeline.models());
      const feeder = {
        offer: (message: Parameters<typeof pipeline.sink.offer>[0]['message']) =>
          pipeline.sink.offer({ message, hubId: 'test', receivedAt: Date.now() }) === null,
        settle: () => pipeline.drain(),
        setNow: (ms: number) => {
          now = ms;
        },
      };
      const { type, before } = await fineRaisesThreshold(
        url,
        live,
        (until) => play(scenario.traffic, scenario.cut, feeder, until),
        () => alertsIn(got.messages),
      );
      // Auth is required for feedback, as for every /api/*.
      const anon = await fetch(`${url}/api/anomalies`);
      expect(anon.status).toBe(401);

      // The verdict is stored in the data directory: a restarted hub-and-worker starts with the raised threshold.
      got.stop();
      await hub.close();
      await pipeline.close();
      pipeline = await open();
      await waitFor('the model after restart', () => pipeline.models()?.behaviour !== null);
      const again = behaviourOf(pipeline.models()).thresholdsFor(type);
      expect(Object.keys(before).some((g) => again[g]! > before[g]!)).toBe(true);
    } finally {
      got.stop();
      await hub.close();
      await pipeline.close();
      dir.remove();
    }
  }, 120_000);

  it.runIf(redisOk)(
    'distributed: a hub and a separate worker on Redis (random prefix)',
    async () => {
      const dir = tempDir('sbp-feedback-redis-');
      const prefix = testPrefix();
      const modelDir = `${dir.path}/models`;
      await publishScenarioModel(modelDir, scenario.model);
      let now = scenario.cut;
      let processed = 0;
      let offered = 0;
      const pipeline = await openPipeline({
        redisUrl: REDIS_URL,
        prefix,
        dataDir: `${dir.path}/hub`,
        embeddedWorker: false,
        logger: testLogger(),
        tuning: { ...TUNING, partitions: 2 },
      });
      const worker = await startWorker(
        { redisUrl: REDIS_URL, prefix, modelDir, logger: testLogger(), tuning: { ...TUNING, partitions: 2 } },
        {
          clock: () => now,
          onCommitted: (info) => {
            processed += info.records;
          },
        },
      );
      const got = collect(pipeline.results);
      const { hub, url } = await startTestHub(pipeline);
      try {
        await waitFor(
          'the worker’s partitions and model',
          () => worker.worker.owned().length === 2 && worker.liveModels().behaviour !== null,
        );
        const feeder = {
          offer: (message: Parameters<typeof pipeline.sink.offer>[0]['message']) => {
            offered++;
            return pipeline.sink.offer({ message, hubId: 'test', receivedAt: Date.now() }) === null;
          },
          settle: async () => {
            await pipeline.sink.flush();
            await waitFor('the worker', () => processed >= offered, 30_000, 2);
          },
          setNow: (ms: number) => {
            now = ms;
          },
        };
        await fineRaisesThreshold(
          url,
          () => behaviourOf(worker.liveModels()),
          (until) => play(scenario.traffic, scenario.cut + 1 * HOUR, feeder, until),
          () => alertsIn(got.messages),
        );
      } finally {
        got.stop();
        await hub.close();
        await worker.stop();
        await pipeline.close();
        await deleteKeys(prefix);
        dir.remove();
      }
    },
    180_000,
  );
});
