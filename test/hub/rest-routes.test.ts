import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../src/ingest/pipeline.js';
import {
  AGENT,
  AGENT_TOKEN,
  Client,
  example,
  OTHER_AGENT,
  OTHER_TOKEN,
  refusedStatus,
  roundTrip,
  startHub,
  type TestHub,
  VIEWER_TOKEN,
} from './helpers.js';

let running: TestHub | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await running?.close();
  running = undefined;
});
async function connect(url: string, token: string): Promise<Client> {
  const c = await Client.connect(url, token);
  clients.push(c);
  return c;
}

const viewer = { authorization: `Bearer ${VIEWER_TOKEN}` };

describe('REST API', () => {
  it('serves /health without a token and everything else only with one', async () => {
    running = await startHub();
    const { app } = running.hub;
    const health = await app.inject({ url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', hubId: running.hub.config.hubId });
    for (const url of ['/api/agents', '/api/devices', '/api/devices/x', '/api/dead-letters', '/metrics']) {
      const none = await app.inject({ url });
      expect(none.statusCode, url).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.json()).toMatchObject({ statusCode: 401, code: 'AUTH_FAILED' });
      expect((await app.inject({ url, headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
      expect((await app.inject({ url: `${url}?token=nope` })).statusCode).toBe(401);
      expect((await app.inject({ url, headers: viewer })).statusCode, url).not.toBe(401);
      expect((await app.inject({ url: `${url}?token=${AGENT_TOKEN}` })).statusCode, url).not.toBe(401);
    }
    const trust = await app.inject({
      method: 'POST',
      url: '/api/devices/x/trust',
      payload: { decision: 'approve' },
    });
    expect(trust.statusCode).toBe(401);
  });

  it('lists agents, devices and one device; 404 for an unknown device', async () => {
    running = await startHub();
    const { app } = running.hub;
    const agent = await connect(running.url, AGENT_TOKEN);
    agent.send(example('agent_register'));
    agent.send(example('deviceJoin'));
    agent.send({ ...example('deviceJoin'), data: { deviceId: 'ble:beacon/7', rssi: -70 } });
    await roundTrip(agent);
    await running.hub.context.devices.idle();

    const agents = (await app.inject({ url: '/api/agents', headers: viewer })).json().agents;
    expect(agents.map((a: { agentId: string; online: boolean }) => [a.agentId, a.online])).toEqual([
      [OTHER_AGENT, false],
      [AGENT, true],
    ]);
    const devices = (await app.inject({ url: '/api/devices', headers: viewer })).json().devices;
    expect(devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual([
      'aa:bb:cc:dd:ee:ff',
      'ble:beacon/7',
    ]);
    const one = await app.inject({
      url: `/api/devices/${encodeURIComponent('ble:beacon/7')}`,
      headers: viewer,
    });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      deviceId: 'ble:beacon/7',
      rssi: -70,
      agentId: AGENT,
      trustLevel: 'unknown',
    });
    const missing = await app.inject({ url: '/api/devices/nope', headers: viewer });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('tracks each device through join, update, trust change and leave, and each agent through its reports', async () => {
    running = await startHub();
    const { app } = running.hub;
    const agent = await connect(running.url, AGENT_TOKEN);
    const id = 'aa:bb:cc:00:00:01';
    const device = async () =>
      (await app.inject({ url: `/api/devices/${encodeURIComponent(id)}`, headers: viewer })).json();
    const settle = async () => {
      await roundTrip(agent);
      await running!.hub.context.devices.idle();
    };
    agent.send(example('agent_register'));
    agent.send(example('agent_heartbeat'));
    agent.send({ ...example('systemHealth'), data: { ...example('systemHealth').data, status: 'degraded' } });
    agent.send({
      ...example('deviceJoin'),
      data: { deviceId: id, macAddress: id, hostname: 'tv', rssi: -60, trustLevel: 'unknown' },
    });
    await settle();
    expect(await device()).toMatchObject({
      deviceId: id,
      hostname: 'tv',
      rssi: -60,
      online: true,
      trustLevel: 'unknown',
    });

    agent.send({
      ...example('deviceUpdate'),
      data: {
        deviceId: id,
        rssi: -48,
        location: { x: 2, y: 3, confidence: 0.7 },
        performance: { latency: 12, packetLoss: 1.5, bandwidth: 80 },
        activity: { services: ['_airplay._tcp'] },
      },
    });
    await settle();
    expect(await device()).toMatchObject({
      rssi: -48,
      location: { x: 2, y: 3, confidence: 0.7 },
      performance: { latency: 12, packetLoss: 1.5, bandwidth: 80 },
      services: ['_airplay._tcp'],
    });

    // A trust change an agent computed is recorded; a later join's trustLevel only seeds new devices.
    agent.send({
      ...example('trustUpdate'),
      data: {
        ...example('trustUpdate').data,
        deviceId: id,
        previousTrust: 'unknown',
        newTrust: 'suspicious',
      },
    });
    agent.send({ ...example('deviceJoin'), data: { deviceId: id, trustLevel: 'trusted' } });
    await settle();
    expect(await device()).toMatchObject({ trustLevel: 'suspicious', online: true });

    agent.send({
      ...example('deviceLeave'),
      data: { deviceId: id, reason: 'timeout', lastSeen: '2025-06-16T18:00:00.000Z' },
    });
    await settle();
    expect(await device()).toMatchObject({
      online: false,
      lastSeen: '2025-06-16T18:00:00.000Z',
      trustLevel: 'suspicious',
    });

    const agents = (await app.inject({ url: '/api/agents', headers: viewer })).json().agents;
    const me = agents.find((a: { agentId: string }) => a.agentId === AGENT);
    expect(me).toMatchObject({
      online: true,
      connections: 1,
      // Eight messages; each settle() round trip is one deliberately invalid frame.
      accepted: 8,
      rejected: 4,
      version: example('agent_register').data.version,
      health: 'degraded',
      heartbeat: { status: example('agent_heartbeat').data.status },
    });
  });

  it('returns dead letters from the pipeline, with a bounded limit', async () => {
    const letters: DeadLetter[] = [
      {
        id: 'j1',
        reason: 'payload can never validate',
        failedAt: '2025-06-16T18:45:00.000Z',
        attempts: 1,
        payload: {},
      },
    ];
    let asked: number | undefined;
    running = await startHub(
      {},
      {
        deadLetters: async (limit) => {
          asked = limit;
          return letters;
        },
      },
    );
    const { app } = running.hub;
    const res = await app.inject({ url: '/api/dead-letters?limit=5', headers: viewer });
    expect(res.json()).toEqual({ deadLetters: letters });
    expect(asked).toBe(5);
    expect((await app.inject({ url: '/api/dead-letters?limit=0', headers: viewer })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/dead-letters?limit=abc', headers: viewer })).statusCode).toBe(400);
  });

  it('records a trust decision and tells the owning agent and every viewer, not other agents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbp-rest-'));
    const file = join(dir, 'cap.jsonl');
    running = await startHub({ capture: { file } });
    const { app } = running.hub;
    const owner = await connect(running.url, AGENT_TOKEN);
    const other = await connect(running.url, OTHER_TOKEN);
    const v = await connect(running.url, VIEWER_TOKEN);
    owner.send(example('deviceJoin'));
    await roundTrip(owner);
    await v.waitFor(1);

    const approve = await app.inject({
      method: 'POST',
      url: '/api/devices/aa:bb:cc:dd:ee:ff/trust',
      headers: viewer,
      payload: { decision: 'approve' },
    });
    expect(approve.statusCode).toBe(200);
    expect(approve.json()).toMatchObject({
      deviceId: 'aa:bb:cc:dd:ee:ff',
      userDecision: 'approved',
      trustLevel: 'trusted',
    });
    const update = {
      type: 'trustUpdate',
      agentId: AGENT,
      data: {
        deviceId: 'aa:bb:cc:dd:ee:ff',
        previousTrust: 'unknown',
        newTrust: 'trusted',
        reason: 'user_approved',
      },
    };
    expect((await owner.waitFor(1, (m) => m.type === 'trustUpdate'))[0]).toMatchObject(update);
    expect((await v.waitFor(1, (m) => m.type === 'trustUpdate'))[0]).toMatchObject(update);

    // An agent token may decide too; block, then reset clears the decision.
    const block = await app.inject({
      method: 'POST',
      url: '/api/devices/aa:bb:cc:dd:ee:ff/trust',
      headers: { authorization: `Bearer ${OTHER_TOKEN}` },
      payload: { decision: 'block' },
    });
    expect(block.json()).toMatchObject({ userDecision: 'blocked', trustLevel: 'blocked' });
    const reset = await app.inject({
      method: 'POST',
      url: '/api/devices/aa:bb:cc:dd:ee:ff/trust',
      headers: viewer,
      payload: { decision: 'reset' },
    });
    expect(reset.json()).not.toHaveProperty('userDecision');
    expect(reset.json().trustLevel).toBe('unknown');
    const reasons = (await owner.waitFor(3, (m) => m.type === 'trustUpdate')).map((m) => m.data);
    expect(reasons).toMatchObject([
      { reason: 'user_approved', newTrust: 'trusted' },
      { reason: 'user_blocked', previousTrust: 'trusted', newTrust: 'blocked' },
      { reason: 'user_reset', previousTrust: 'blocked', newTrust: 'unknown' },
    ]);
    await roundTrip(other);
    expect(other.received.filter((m) => m.type === 'trustUpdate')).toHaveLength(0);

    const bad = await app.inject({
      method: 'POST',
      url: '/api/devices/aa:bb:cc:dd:ee:ff/trust',
      headers: viewer,
      payload: { decision: 'maybe' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'INVALID_DATA',
      message: 'body must be {"decision": "approve" | "block" | "reset"} (at decision)',
    });
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/devices/nope/trust',
      headers: viewer,
      payload: { decision: 'approve' },
    });
    expect(unknown.statusCode).toBe(404);

    // User decisions are part of the captured dataset, after the agent's message they follow.
    await running.hub.close();
    const captured = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(captured.map((m) => m.type)).toEqual(['deviceJoin', 'trustUpdate', 'trustUpdate', 'trustUpdate']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('exposes Prometheus metrics: connections by role, messages by type, rejections by code, latency', async () => {
    running = await startHub();
    const agent = await connect(running.url, AGENT_TOKEN);
    await connect(running.url, VIEWER_TOKEN);
    agent.send(example('pingResult'));
    agent.send(example('pingResult'));
    await roundTrip(agent);
    const res = await running.hub.app.inject({ url: '/metrics', headers: viewer });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toContain('sbp_hub_connections{role="agent"} 1');
    expect(text).toContain('sbp_hub_connections{role="viewer"} 1');
    expect(text).toContain('sbp_hub_messages_total{type="pingResult"} 2');
    expect(text).toContain('sbp_hub_rejections_total{code="INVALID_DATA"} 1');
    expect(text).toMatch(/sbp_hub_message_handling_seconds_count 3\b/);
  });

  it('never logs a token, whether sent as a header or a query parameter', async () => {
    const lines: string[] = [];
    const sinkStream = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    running = await startHub({ logLevel: 'trace' }, { logger: pino({ level: 'trace' }, sinkStream) });
    const { app } = running.hub;
    await app.inject({ url: `/api/agents?token=${VIEWER_TOKEN}` });
    await app.inject({ url: '/api/agents', headers: viewer });
    await app.inject({ url: '/api/agents?token=wrong-token-zzzz' });
    await refusedStatus(`${running.url}?token=wrong-token-yyyy`);
    const a = await connect(`${running.url}?token=${AGENT_TOKEN}`, AGENT_TOKEN);
    a.send('bad');
    await a.waitFor(1);
    await a.close();
    await running.close();
    running = undefined;
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    expect(all).toContain('[REDACTED]');
    for (const secret of [VIEWER_TOKEN, AGENT_TOKEN, 'wrong-token-zzzz', 'wrong-token-yyyy']) {
      expect(all).not.toContain(secret);
    }
  });
});
