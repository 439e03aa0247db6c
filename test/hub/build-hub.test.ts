import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Message, makeMessage, parseFrame } from '../../src/protocol/index.js';
import {
  AGENT,
  AGENT_TOKEN,
  Client,
  EXAMPLES,
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
async function hub(config: Parameters<typeof startHub>[0] = {}): Promise<TestHub> {
  running = await startHub(config);
  return running;
}
async function connect(
  url: string,
  token: string | undefined,
  opts: Parameters<typeof Client.connect>[2] = {},
) {
  const c = await Client.connect(url, token, opts);
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await running?.close();
  running = undefined;
});

describe('hub: accepting the protocol', () => {
  it('accepts every spec example verbatim from the agent its token is bound to', async () => {
    const h = await hub();
    const viewer = await connect(h.url, VIEWER_TOKEN);
    const agent = await connect(h.url, AGENT_TOKEN);
    expect(EXAMPLES.every((e) => e.agentId === AGENT)).toBe(true);
    for (const e of EXAMPLES) agent.send(e);
    await roundTrip(agent);
    expect(agent.errors().map((e) => e.data.errorCode)).toEqual(['INVALID_DATA']); // only the round trip's

    // Probes and device observations went to the ingestion sink, with this hub's id.
    expect(h.sink.records.map((r) => r.message.type)).toEqual([
      'deviceJoin',
      'deviceLeave',
      'deviceUpdate',
      'pingResult',
      'pingCalibration',
    ]);
    expect(h.sink.records.every((r) => r.hubId === h.hub.config.hubId && r.receivedAt > 0)).toBe(true);

    // Every accepted message reached the viewer, with the agent it came from.
    const seen = await viewer.waitFor(EXAMPLES.length);
    expect(seen).toEqual(EXAMPLES.map((e) => parseFrameOk(JSON.stringify(e))));

    // The device registry followed join → leave → update → trust.
    await h.hub.context.devices.idle();
    const device = await h.registry.get('aa:bb:cc:dd:ee:ff');
    expect(device).toMatchObject({
      agentId: AGENT,
      online: true,
      rssi: -48,
      hostname: 'SmartTV-Living',
      vendor: 'Samsung Electronics',
      trustLevel: 'trusted',
      location: { x: 15.2, y: 8.7, confidence: 0.85 },
      performance: { latency: 12, packetLoss: 0.1, bandwidth: 45.2 },
    });

    const agents = await h.hub.app.inject({
      url: '/api/agents',
      headers: { authorization: `Bearer ${VIEWER_TOKEN}` },
    });
    const me = agents.json().agents.find((a: { agentId: string }) => a.agentId === AGENT);
    expect(me).toMatchObject({
      online: true,
      connections: 1,
      accepted: 14,
      version: '1.0.0',
      health: 'healthy',
    });
    expect(me.heartbeat.status).toBe('active');
  });

  it('accepts UTF-8 JSON in binary frames and answers frames that are not UTF-8 with INVALID_DATA', async () => {
    const h = await hub();
    const agent = await connect(h.url, AGENT_TOKEN);
    agent.socket.send(Buffer.from(JSON.stringify(example('pingResult'))), { binary: true });
    const reply = await agent.request(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(reply).toMatchObject({
      type: 'error',
      data: { errorCode: 'INVALID_DATA', context: { path: '' } },
    });
    // Invalid UTF-8 in a text frame: the same answer, and the connection stays (ws alone would close it with 1007).
    agent.socket.send(Buffer.from([0x22, 0xc3, 0x28, 0x22]), { binary: false });
    const text = (await agent.waitFor(2))[1];
    expect(text).toMatchObject({ type: 'error', data: { errorCode: 'INVALID_DATA', context: { path: '' } } });
    agent.send(example('pingResult'));
    await roundTrip(agent);
    expect(agent.errors()).toHaveLength(3);
    expect(h.sink.records).toHaveLength(2);
  });

  const pingResult = example('pingResult');
  const badFrames: Array<[string, string | object, string]> = [
    ['not JSON', 'not json', ''],
    ['empty frame', '', ''],
    ['truncated JSON', JSON.stringify(pingResult).slice(0, 40), ''],
    ['an array', '[1,2,3]', ''],
    ['a number', '42', ''],
    ['null', 'null', ''],
    ['no type', { agentId: AGENT, timestamp: pingResult.timestamp, data: {} }, 'type'],
    ['unknown type', { ...pingResult, type: 'pingResults' }, 'type'],
    ['type not a string', { ...pingResult, type: 7 }, 'type'],
    ['wrong field type', { ...pingResult, data: { ...pingResult.data, rtt: '8.5' } }, 'data.rtt'],
    ['negative rtt', { ...pingResult, data: { ...pingResult.data, rtt: -1 } }, 'data.rtt'],
    ['rssi out of range', { ...example('deviceUpdate'), data: { deviceId: 'x', rssi: -200 } }, 'data.rssi'],
    ['bad timestamp', { ...pingResult, timestamp: 'yesterday' }, 'timestamp'],
    ['bad IP', { ...pingResult, data: { ...pingResult.data, targetIp: '300.1.1.1' } }, 'data.targetIp'],
    ['unknown data key', { ...pingResult, data: { ...pingResult.data, extra: 1 } }, 'data'],
    ['missing data', { type: 'pingResult', agentId: AGENT, timestamp: pingResult.timestamp }, 'data'],
    [
      'nested out of range',
      (() => {
        const c = example('pingCalibration');
        (c.data.measurements as Array<Record<string, unknown>>)[1]!.rssi = 20;
        return c;
      })(),
      'data.measurements.1.rssi',
    ],
  ];

  it.each(badFrames)(
    'answers %s with INVALID_DATA at its path and keeps the connection usable',
    async (_name, frame, path) => {
      const h = await hub();
      const viewer = await connect(h.url, VIEWER_TOKEN);
      const agent = await connect(h.url, AGENT_TOKEN);
      const reply = await agent.request(frame);
      expect(reply).toMatchObject({
        type: 'error',
        agentId: AGENT,
        data: { errorCode: 'INVALID_DATA', severity: 'low', recoverable: true, context: { path } },
      });
      expect(parseFrame(JSON.stringify(reply)).ok).toBe(true); // the reply itself is a valid protocol message
      // Still open and still accepting.
      agent.send(example('agent_heartbeat'));
      await roundTrip(agent);
      expect(agent.errors()).toHaveLength(2);
      const fanned = await viewer.waitFor(1);
      expect(fanned.map((m) => m.type)).toEqual(['agent_heartbeat']);
      expect(h.sink.records).toHaveLength(0);
    },
  );
});

function parseFrameOk(text: string): Message {
  const r = parseFrame(text);
  if (!r.ok) throw r.error;
  return r.message;
}

describe('hub: capture', () => {
  it('captures accepted messages verbatim, one per line (pretty-printed frames re-serialised), and nothing refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbp-hub-capture-'));
    const file = join(dir, 'capture.jsonl');
    try {
      const h = await hub({ capture: { file } });
      const agent = await connect(h.url, AGENT_TOKEN);
      const compact =
        '{"type":"agent_heartbeat","agentId":"desktop_agent_001","timestamp":"2025-06-16T18:45:30Z","data":{"status":"idle","uptime":1e1,"memoryUsage":1,"cpuUsage":2}}';
      const pretty = JSON.stringify(example('pingResult'), null, 2);
      agent.send(compact);
      agent.send(pretty);
      agent.send(example('pingResult', OTHER_AGENT)); // refused
      agent.send('nonsense'); // refused
      await agent.waitFor(2);
      await h.hub.close();
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines).toEqual([compact, JSON.stringify(parseFrameOk(pretty)), '']);
      expect(parseFrameOk(lines[0]!)).toEqual(parseFrameOk(compact));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hub: authentication', () => {
  it('refuses an upgrade with no token or a wrong one with HTTP 401', async () => {
    const h = await hub();
    expect(await refusedStatus(h.url)).toBe(401);
    expect(await refusedStatus(h.url, { authorization: 'Bearer not-a-token' })).toBe(401);
    expect(await refusedStatus(h.url, { authorization: `Basic ${AGENT_TOKEN}` })).toBe(401);
    expect(await refusedStatus(`${h.url}?token=wrong`)).toBe(401);
    expect(await refusedStatus(`${h.url}?token=${AGENT_TOKEN.slice(0, -1)}`)).toBe(401);
    expect(h.hub.context.connections.all.size).toBe(0);
    const metrics = await h.metrics.getSingleMetricAsString('sbp_hub_rejections_total');
    expect(metrics).toContain('sbp_hub_rejections_total{code="AUTH_FAILED"} 5');
  });

  it('accepts the token as a query parameter (browsers)', async () => {
    const h = await hub();
    const agent = await connect(h.url, AGENT_TOKEN, { query: true });
    agent.send(example('agent_heartbeat'));
    await roundTrip(agent);
    expect(agent.errors()).toHaveLength(1);
    const viewer = await connect(h.url, VIEWER_TOKEN, { query: true });
    expect(viewer.socket.readyState).toBe(viewer.socket.OPEN);
  });

  it('refuses a message whose agentId is not the token’s agent, and keeps the connection', async () => {
    const h = await hub();
    const viewer = await connect(h.url, VIEWER_TOKEN);
    const agent = await connect(h.url, AGENT_TOKEN);
    const reply = await agent.request(example('pingResult', OTHER_AGENT));
    expect(reply).toMatchObject({
      type: 'error',
      agentId: AGENT,
      data: { errorCode: 'AUTH_FAILED', severity: 'high', recoverable: false, context: { path: 'agentId' } },
    });
    expect(h.sink.records).toHaveLength(0);
    agent.send(example('pingResult'));
    await roundTrip(agent);
    expect(h.sink.records).toHaveLength(1);
    expect((await viewer.waitFor(1)).map((m) => m.agentId)).toEqual([AGENT]);
  });

  it('refuses every message from a viewer (read-only) and keeps the viewer connected', async () => {
    const h = await hub();
    const viewer = await connect(h.url, VIEWER_TOKEN);
    for (const frame of [example('pingResult'), 'garbage']) {
      const reply = await viewer.request(frame);
      expect(reply).toMatchObject({ type: 'error', agentId: 'hub', data: { errorCode: 'AUTH_FAILED' } });
    }
    expect(h.sink.records).toHaveLength(0);
    const agent = await connect(h.url, AGENT_TOKEN);
    agent.send(example('agent_heartbeat'));
    expect((await viewer.waitFor(1, (m) => m.type === 'agent_heartbeat'))[0]?.agentId).toBe(AGENT);
  });
});

describe('hub: limits', () => {
  it('rate-limits per agent across its connections, without touching other agents', async () => {
    const h = await hub({ rateLimit: { messagesPerMinute: 5 } });
    const a1 = await connect(h.url, AGENT_TOKEN);
    const a2 = await connect(h.url, AGENT_TOKEN);
    const other = await connect(h.url, OTHER_TOKEN);
    for (let i = 0; i < 4; i++) a1.send(example('pingResult'));
    for (let i = 0; i < 4; i++) a2.send(example('pingResult'));
    // 8 sent, 5 allowed: exactly 3 RATE_LIMITED replies between the two sockets, and no more after a pause.
    await until(() => a1.errors().length + a2.errors().length >= 3);
    await sleep(100);
    const errors = [...a1.errors(), ...a2.errors()];
    expect(errors.map((e) => e.data.errorCode)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(errors[0]?.data.context).toEqual({ limitPerMinute: 5 });
    expect(h.sink.records).toHaveLength(5);
    // The other agent has its own bucket.
    for (let i = 0; i < 5; i++) other.send(example('pingResult', OTHER_AGENT));
    await roundTrip(other);
    expect(other.errors().map((e) => e.data.errorCode)).toEqual(['RATE_LIMITED']); // the round trip was the 6th
    expect(h.sink.records).toHaveLength(10);
    expect(a1.socket.readyState).toBe(a1.socket.OPEN);
  });

  it('closes a silent agent with CONN_TIMEOUT then 4408, and keeps talking agents and viewers', async () => {
    const h = await hub({ heartbeatTimeoutMs: 300 });
    const silent = await connect(h.url, AGENT_TOKEN);
    const talking = await connect(h.url, OTHER_TOKEN);
    const viewer = await connect(h.url, VIEWER_TOKEN);
    const beat = setInterval(() => talking.send(example('agent_heartbeat', OTHER_AGENT)), 100);
    try {
      expect(await silent.closed).toBe(4408);
      expect(silent.received).toMatchObject([{ type: 'error', data: { errorCode: 'CONN_TIMEOUT' } }]);
      await sleep(400);
      expect(talking.closeCode).toBeUndefined();
      expect(viewer.closeCode).toBeUndefined();
    } finally {
      clearInterval(beat);
    }
  });

  it('terminates a peer that stops answering pings (a viewer too), and keeps the others', async () => {
    const h = await hub({ pingIntervalMs: 100 });
    const dead = await connect(h.url, VIEWER_TOKEN);
    const alive = await connect(h.url, VIEWER_TOKEN);
    // Stop reading: the dead peer's ws never sees the pings, so it never answers them.
    (dead.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(() => h.hub.context.connections.viewers.size === 1);
    await sleep(250);
    expect(h.hub.context.connections.viewers.size).toBe(1);
    expect(alive.closeCode).toBeUndefined();
    dead.socket.terminate(); // its paused socket would never complete a close handshake
  });

  it('closes a connection that sends a frame over 1 MB with 1009, and no other', async () => {
    const h = await hub();
    const big = await connect(h.url, AGENT_TOKEN);
    const other = await connect(h.url, AGENT_TOKEN);
    const viewer = await connect(h.url, VIEWER_TOKEN);
    // Just under the limit: refused as a message, connection kept.
    const nearly = JSON.stringify({ ...example('pingResult'), pad: 'x'.repeat(1024 * 1024 - 400) });
    expect(Buffer.byteLength(nearly)).toBeLessThan(1024 * 1024);
    expect(await big.request(nearly)).toMatchObject({
      data: { errorCode: 'INVALID_DATA', context: { path: '' } },
    });
    big.send('x'.repeat(1024 * 1024 + 1));
    expect(await big.closed).toBe(1009);
    other.send(example('pingResult'));
    await roundTrip(other);
    expect(h.sink.records).toHaveLength(1);
    expect((await viewer.waitFor(1))[0]?.type).toBe('pingResult');
    const rejections = await h.metrics.getSingleMetricAsString('sbp_hub_rejections_total');
    expect(rejections).toContain('code="INVALID_DATA"} 3');
  });

  it('answers QUEUE_FULL when the ingestion side refuses, and does not fan the message out', async () => {
    const h = await hub();
    const viewer = await connect(h.url, VIEWER_TOKEN);
    const agent = await connect(h.url, AGENT_TOKEN);
    h.sink.refuse = true;
    const reply = await agent.request(example('pingResult'));
    expect(reply).toMatchObject({ data: { errorCode: 'QUEUE_FULL', recoverable: true } });
    agent.send(example('agent_heartbeat')); // not an ingest type: still accepted
    await roundTrip(agent);
    expect((await viewer.waitFor(1)).map((m) => m.type)).toEqual(['agent_heartbeat']);
  });
});

describe('hub: fan-out', () => {
  it('sends results to the sockets of the agent they name and to every viewer, not to other agents', async () => {
    const h = await hub();
    const mine1 = await connect(h.url, AGENT_TOKEN);
    const mine2 = await connect(h.url, AGENT_TOKEN);
    const other = await connect(h.url, OTHER_TOKEN);
    const v1 = await connect(h.url, VIEWER_TOKEN);
    const v2 = await connect(h.url, VIEWER_TOKEN);
    const result = makeMessage('mlScoreUpdate', AGENT, {
      deviceId: 'aa:bb:cc:dd:ee:ff',
      scores: { anomalyScore: 0.3 },
    });
    const otherResult = makeMessage('anomalyDetected', OTHER_AGENT, example('anomalyDetected').data as never);
    await h.bus.publish([result, otherResult]);
    for (const c of [mine1, mine2]) expect(await c.waitFor(1)).toEqual([result]);
    for (const v of [v1, v2]) expect(await v.waitFor(2)).toEqual([result, otherResult]);
    expect(await other.waitFor(1)).toEqual([otherResult]);
    await sleep(50);
    expect(mine1.received).toHaveLength(1);
    expect(other.received).toHaveLength(1);
    const text = await h.metrics.getSingleMetricAsString('sbp_hub_results_total');
    expect(text).toContain('type="mlScoreUpdate"} 1');
  });

  it('fans accepted agent messages out to every viewer, but not to agents', async () => {
    const h = await hub();
    const v1 = await connect(h.url, VIEWER_TOKEN);
    const v2 = await connect(h.url, VIEWER_TOKEN);
    const a = await connect(h.url, AGENT_TOKEN);
    const b = await connect(h.url, OTHER_TOKEN);
    a.send(example('deviceJoin'));
    b.send(example('pingResult', OTHER_AGENT));
    for (const v of [v1, v2]) {
      const got = await v.waitFor(2);
      expect(got.map((m) => [m.type, m.agentId]).sort()).toEqual([
        ['deviceJoin', AGENT],
        ['pingResult', OTHER_AGENT],
      ]);
    }
    await roundTrip(a);
    expect(a.received.filter((m) => m.type !== 'error')).toHaveLength(0);
  });

  it('closes every socket with 1001 on shutdown, idempotently', async () => {
    const h = await startHub();
    const a = await Client.connect(h.url, AGENT_TOKEN);
    const v = await Client.connect(h.url, VIEWER_TOKEN);
    await Promise.all([h.hub.close(), h.hub.close()]);
    expect(await a.closed).toBe(1001);
    expect(await v.closed).toBe(1001);
    await h.close();
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
