import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anomalyPlugin } from '../../src/hub/anomaly-routes.js';
import type { StoredAnomaly } from '../../src/store/anomaly-feedback-store.js';
import { LmdbAnomalyFeedbackStore } from '../../src/store/lmdb-anomaly-feedback-store.js';
import { tempDir } from '../ingest/helpers/collect.js';
import { AGENT_TOKEN, startHub, type TestHub, VIEWER_TOKEN } from './helpers.js';

const ALERT: StoredAnomaly = {
  anomalyId: 'anom-1x-2y-latency_spike',
  deviceId: 'aa:bb:cc:dd:ee:01',
  agentId: 'desktop_agent_001',
  at: Date.parse('2025-06-16T20:00:00Z'),
  anomalyType: 'latency_spike',
  severity: 'high',
  confidence: 0.93,
  score: 0.74,
  threshold: 0.66,
  modelVersion: 'v7',
  mlModel: 'isolation_forest',
  recommendedAction: 'check_network_congestion',
  features: { rtt_mean: 284.1, rtt_mean_contribution: 0.45 },
  vector: [1, 2, 3],
};

let dir: ReturnType<typeof tempDir>;
let store: LmdbAnomalyFeedbackStore;
let hub: TestHub;

async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = VIEWER_TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${hub.address.httpUrl}${path}`, { ...rest, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const post = (id: string, body: string, token?: string | null) =>
  call(`/api/anomalies/${encodeURIComponent(id)}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(token === undefined ? {} : { token }),
  });

beforeEach(async () => {
  dir = tempDir('sbp-anomaly-api-');
  store = new LmdbAnomalyFeedbackStore(dir.path);
  await store.recordAnomalies([ALERT, { ...ALERT, anomalyId: 'older', at: ALERT.at - 60_000 }]);
  hub = await startHub({}, { plugins: [anomalyPlugin({ store, clock: () => ALERT.at + 5000 })] });
});
afterEach(async () => {
  await hub.close();
  await store.close();
  dir.remove();
});

describe('the anomaly API over HTTP', () => {
  it('needs a token (viewer or agent)', async () => {
    const none = await call('/api/anomalies', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('AUTH_FAILED');
    expect((await call('/api/anomalies', { token: 'wrong-token' })).status).toBe(401);
    expect((await post(ALERT.anomalyId, '{"verdict":"fine"}', null)).status).toBe(401);
    expect(await store.feedbackHead()).toBe(0);
    expect((await call('/api/anomalies', { token: AGENT_TOKEN })).status).toBe(200);
  });

  it('lists recent anomalies, newest first, without the internal vector', async () => {
    const { status, body } = await call('/api/anomalies?limit=10');
    expect(status).toBe(200);
    const list = body.anomalies as Array<Record<string, unknown>>;
    expect(list.map((a) => a.anomalyId)).toEqual([ALERT.anomalyId, 'older']);
    expect(list[0]).toEqual({
      anomalyId: ALERT.anomalyId,
      deviceId: ALERT.deviceId,
      agentId: ALERT.agentId,
      at: '2025-06-16T20:00:00.000Z',
      anomalyType: 'latency_spike',
      severity: 'high',
      confidence: 0.93,
      score: 0.74,
      threshold: 0.66,
      modelVersion: 'v7',
      mlModel: 'isolation_forest',
      recommendedAction: 'check_network_congestion',
      features: ALERT.features,
      feedback: null,
    });
    expect(((await call('/api/anomalies?limit=1')).body.anomalies as unknown[]).length).toBe(1);
    for (const bad of ['0', '1001', 'x', '2.5']) {
      const r = await call(`/api/anomalies?limit=${bad}`);
      expect(r.status).toBe(400);
      expect(r.body.message).toBe('limit must be an integer 1..1000');
    }
    expect((await call('/api/anomalies/older')).body.anomalyId).toBe('older');
    expect((await call('/api/anomalies/nope')).status).toBe(404);
  });

  it('stores a verdict with the alert it is about; the same verdict twice counts once', async () => {
    const fine = await post(ALERT.anomalyId, '{"verdict":"fine"}');
    expect(fine.status).toBe(200);
    expect(fine.body.changed).toBe(true);
    expect((fine.body.anomaly as Record<string, unknown>).feedback).toEqual({
      verdict: 'fine',
      receivedAt: '2025-06-16T20:00:05.000Z',
      seq: 1,
    });
    const [stored] = await store.feedbackAfter(0);
    expect(stored).toMatchObject({
      seq: 1,
      anomalyId: ALERT.anomalyId,
      deviceId: ALERT.deviceId,
      verdict: 'fine',
      anomalyType: 'latency_spike',
      score: 0.74,
      at: ALERT.at,
      vector: [1, 2, 3],
    });
    const again = await post(ALERT.anomalyId, '{"verdict":"fine"}', AGENT_TOKEN);
    expect(again.body.changed).toBe(false);
    expect(await store.feedbackHead()).toBe(1);
    const real = await post(ALERT.anomalyId, '{"verdict":"real"}');
    expect((real.body.anomaly as Record<string, unknown>).feedback).toMatchObject({
      verdict: 'real',
      seq: 2,
      replaces: 'fine',
    });
    const listed = (await call('/api/anomalies')).body.anomalies as Array<Record<string, unknown>>;
    expect(listed[0]!.feedback).toMatchObject({ verdict: 'real' });
    expect(listed[1]!.feedback).toBeNull();
  });

  it('answers 400 with a clear message for a bad body, 404 for an unknown anomaly, and stores nothing', async () => {
    for (const body of [
      '{}',
      '{"verdict":"maybe"}',
      '{"verdict":"fine","extra":1}',
      '[]',
      '"fine"',
      'null',
    ]) {
      const r = await post(ALERT.anomalyId, body);
      expect(r.status, body).toBe(400);
      expect(r.body.code).toBe('INVALID_DATA');
      expect(r.body.message).toMatch(/^body must be \{"verdict": "fine" \| "real"\}/);
    }
    const notJson = await post(ALERT.anomalyId, '{"verdict":');
    expect(notJson.status).toBe(400);
    const missing = await post('anom-unknown', '{"verdict":"fine"}');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      error: 'Not Found',
      message: 'no anomaly anom-unknown',
    });
    expect(await store.feedbackHead()).toBe(0);
  });

  it('answers 503 when the store cannot be reached, and keeps serving', async () => {
    await store.close();
    const r = await call('/api/anomalies');
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('STORE_UNAVAILABLE');
    store = new LmdbAnomalyFeedbackStore(dir.path);
  });
});
