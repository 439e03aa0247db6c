import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Message, type MessageOf } from '../../src/protocol/index.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { tempDir, waitFor } from './helpers/collect.js';
import { probe } from './helpers/messages.js';
import { type Spawned, spawnSbp } from './helpers/processes.js';
import { PrivateRedis } from './helpers/redis.js';

function haveRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('redis-server is required in CI');
    console.warn(
      '\n*** SKIPPING hub + worker end-to-end tests on Redis: redis-server not found. To run them: apt-get install redis-server ***\n',
    );
    return false;
  }
}

const TOKENS = {
  agents: { 'agent-a': 'token-a-0123456789abcdef', 'agent-b': 'token-b-0123456789abcdef' },
  viewers: ['token-viewer-0123456789abcdef'],
};
const VIEWER = TOKENS.viewers[0]!;

interface Client {
  socket: WebSocket;
  messages: Message[];
  close(): void;
}

function connect(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const messages: Message[] = [];
    socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as Message;
      messages.push(parsed);
    });
    socket.once('open', () => resolve({ socket, messages, close: () => socket.terminate() }));
    socket.once('error', reject);
  });
}

function updatesOf(client: Client): Array<MessageOf<'deviceUpdate'>> {
  return client.messages.filter((m): m is MessageOf<'deviceUpdate'> => m.type === 'deviceUpdate');
}

/** Sends probes of `devices` devices for `agentId` over its socket, one sequence number each. */
function sendProbes(client: Client, agentId: string, devices: string[], from: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const seq = from + i;
    client.socket.send(JSON.stringify(probe(agentId, devices[seq % devices.length]!, seq)));
  }
}

async function startHub(
  tokenFile: string,
  dataDir: string,
  redisUrl?: string,
): Promise<{ proc: Spawned; ws: string; http: string }> {
  const args = [
    'hub',
    '--port',
    '0',
    '--tokens',
    tokenFile,
    '--data-dir',
    dataDir,
    '--rate-limit',
    '100000',
    '--log-level',
    'warn',
  ];
  if (redisUrl) args.push('--redis', redisUrl);
  const proc = spawnSbp(args);
  const line = await proc.line(/listening on/, 60_000);
  const ws = line.replace(/.*listening on /, '').trim();
  return { proc, ws, http: ws.replace(/^ws/, 'http').replace(/\/ws$/, '') };
}

async function api(http: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(`${http}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${VIEWER}`, 'content-type': 'application/json', ...init.headers },
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return res.json();
}

function expectValid(clients: Client[]): void {
  for (const c of clients) {
    for (const m of c.messages) expect(Message.safeParse(m).success, JSON.stringify(m)).toBe(true);
  }
}

describe('hub and worker processes end to end over real sockets', () => {
  const procs: Spawned[] = [];
  const clients: Client[] = [];
  let dir: ReturnType<typeof tempDir>;
  let tokenFile: string;

  beforeEach(() => {
    dir = tempDir();
    tokenFile = join(dir.path, 'tokens.json');
    writeFileSync(tokenFile, JSON.stringify(TOKENS));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM')));
    dir.remove();
  });

  it('embedded: one hub process; results reach the agent that sent the probes and every viewer', async () => {
    const hub = await startHub(tokenFile, join(dir.path, 'data'));
    procs.push(hub.proc);
    const [a, b, viewer] = await Promise.all([
      connect(hub.ws, TOKENS.agents['agent-a']),
      connect(hub.ws, TOKENS.agents['agent-b']),
      connect(hub.ws, VIEWER),
    ]);
    clients.push(a, b, viewer);
    sendProbes(a, 'agent-a', ['a-1', 'a-2'], 0, 10);
    sendProbes(b, 'agent-b', ['b-1', 'b-2'], 0, 10);
    await waitFor('results on both agents and the viewer', () => {
      const seen = new Set(updatesOf(viewer).map((m) => m.data.deviceId));
      return (
        ['a-1', 'a-2', 'b-1', 'b-2'].every((d) => seen.has(d)) &&
        updatesOf(a).length > 0 &&
        updatesOf(b).length > 0
      );
    });
    expect(new Set(updatesOf(a).map((m) => m.data.deviceId))).toEqual(new Set(['a-1', 'a-2']));
    expect(updatesOf(a).every((m) => m.agentId === 'agent-a')).toBe(true);
    expect(new Set(updatesOf(b).map((m) => m.data.deviceId))).toEqual(new Set(['b-1', 'b-2']));
    expectValid([a, b, viewer]);
    // The registry the worker writes is what the hub serves.
    await waitFor('the registry', async () => {
      const { devices } = (await api(hub.http, '/api/devices')) as { devices: Array<{ deviceId: string }> };
      return devices.length === 4;
    });
    // The hub's /metrics carries the ingestion side: queue depth, the latency histogram of all 20 probes, dead
    // letters (none).
    const res = await fetch(`${hub.http}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(res.status).toBe(200);
    const metrics = await res.text();
    expect(metrics).toMatch(/^sbp_ingest_queue_depth \d+$/m);
    expect(metrics).toMatch(/^sbp_ingest_latency_seconds_count 20$/m);
    expect(metrics).toMatch(/^sbp_ingest_latency_seconds_bucket\{le="0\.05"\} \d+$/m);
    expect(metrics).toMatch(/^# TYPE sbp_ingest_dead_letters_total counter$/m);
    expect(metrics).not.toMatch(/^sbp_ingest_dead_letters_total\{/m);
  }, 120_000);

  describe.runIf(haveRedisServer())('on Redis', () => {
    it('two hubs + two workers: results cross hubs to the right agent and every viewer; decisions and dead letters are shared', async () => {
      const redis = new PrivateRedis();
      await redis.start();
      const onExit = async () => {
        await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM')));
        await redis.destroy();
      };
      try {
        await twoHubsTwoWorkers(redis);
      } finally {
        await onExit();
      }
    }, 180_000);
  });

  async function twoHubsTwoWorkers(redis: PrivateRedis): Promise<void> {
    const workerArgs = [
      'worker',
      '--redis',
      redis.url,
      '--lease-ms',
      '1500',
      '--lock-ms',
      '1500',
      '--metrics-port',
      '0',
      '--log-level',
      'warn',
    ];
    const w1 = spawnSbp(workerArgs);
    const w2 = spawnSbp(workerArgs);
    procs.push(w1, w2);
    const [h1, h2] = await Promise.all([
      startHub(tokenFile, join(dir.path, 'd1'), redis.url),
      startHub(tokenFile, join(dir.path, 'd2'), redis.url),
    ]);
    procs.push(h1.proc, h2.proc);
    const ready = await Promise.all([w1.line(/ready/, 60_000), w2.line(/ready/, 60_000)]);
    const metricsUrls = ready.map(
      (l) => `http://127.0.0.1:${/metrics on :(\d+)\/metrics/.exec(l)![1]}/metrics`,
    );

    const [a, b, v1, v2] = await Promise.all([
      connect(h1.ws, TOKENS.agents['agent-a']),
      connect(h2.ws, TOKENS.agents['agent-b']),
      connect(h1.ws, VIEWER),
      connect(h2.ws, VIEWER),
    ]);
    clients.push(a, b, v1, v2);
    const aDevices = ['a-1', 'a-2', 'a-3'];
    const bDevices = ['b-1', 'b-2', 'b-3'];
    sendProbes(a, 'agent-a', aDevices, 0, 30);
    sendProbes(b, 'agent-b', bDevices, 0, 30);
    const all = [...aDevices, ...bDevices];
    await waitFor(
      'results on both agents and both viewers',
      () =>
        [v1, v2].every((v) => {
          const seen = new Set(updatesOf(v).map((m) => m.data.deviceId));
          return all.every((d) => seen.has(d));
        }) &&
        aDevices.every((d) => updatesOf(a).some((m) => m.data.deviceId === d)) &&
        bDevices.every((d) => updatesOf(b).some((m) => m.data.deviceId === d)),
      60_000,
      50,
    );
    // Agent A (hub 1) hears only about its own devices, B (hub 2) only about its own.
    expect(new Set(updatesOf(a).map((m) => m.data.deviceId))).toEqual(new Set(aDevices));
    expect(new Set(updatesOf(b).map((m) => m.data.deviceId))).toEqual(new Set(bDevices));
    expect(updatesOf(b).every((m) => m.agentId === 'agent-b')).toBe(true);

    // Both workers take part. The first one ready may hold every partition until the second's membership is seen
    // and it hands over its share (a lease renewal or two, --lease-ms 1500), which can come after the first results:
    // wait for the split rather than race it.
    const check = new Redis(redis.url);
    try {
      const keys = redisKeys();
      const owners = async () =>
        new Set(
          (await Promise.all(Array.from({ length: 8 }, (_, p) => check.get(keys.lease(p))))).map(
            (v) => v?.split('#')[0],
          ),
        );
      await waitFor('both workers own partitions', async () => (await owners()).size === 2, 20_000, 100);

      // A user blocks one of A's devices on hub 2: agent A on hub 1 and the viewer on hub 1 hear it.
      await waitFor('a-1 in the registry', async () => (await check.exists(keys.device('a-1'))) === 1);
      await api(h2.http, '/api/devices/a-1/trust', {
        method: 'POST',
        body: JSON.stringify({ decision: 'block' }),
      });
      const blocked = (m: Message) =>
        m.type === 'trustUpdate' && m.data.deviceId === 'a-1' && m.data.newTrust === 'blocked';
      await waitFor('the decision across hubs', () => a.messages.some(blocked) && v1.messages.some(blocked));
      expect(await api(h1.http, '/api/devices/a-1')).toMatchObject({
        userDecision: 'blocked',
        trustLevel: 'blocked',
      });

      // A malformed job in Redis is dead-lettered and visible through either hub; the queue keeps flowing.
      const queue = new Queue(keys.queueName(0), { connection: check, prefix: keys.bullPrefix });
      await queue.add('batch', { v: 1, h: 'x', r: 'not records' });
      await queue.close();
      sendProbes(a, 'agent-a', aDevices, 30, 6);
      await waitFor(
        'the dead letter on hub 1',
        async () => {
          const { deadLetters } = (await api(h1.http, '/api/dead-letters')) as {
            deadLetters: Array<{ reason: string }>;
          };
          return deadLetters.some((d) => /malformed batch/.test(d.reason));
        },
        30_000,
        100,
      );
      const { deadLetters } = (await api(h2.http, '/api/dead-letters')) as { deadLetters: unknown[] };
      expect(deadLetters).toHaveLength(1);
      await waitFor('all 66 probes applied', async () => {
        const counters = await check.hgetall(keys.counters);
        return Number(counters['probe:agent-a']) === 36 && Number(counters['probe:agent-b']) === 30;
      });

      // The workers' /metrics (--metrics-port): between them, the latency histogram saw every applied probe, the
      // malformed job is counted once as a dead letter, and each reports the queue depth.
      const texts = await Promise.all(metricsUrls.map(async (u) => (await fetch(u)).text()));
      const sum = (re: RegExp) => texts.reduce((n, t) => n + Number(re.exec(t)?.[1] ?? 0), 0);
      expect(sum(/^sbp_ingest_latency_seconds_count (\d+)$/m)).toBeGreaterThanOrEqual(66);
      expect(sum(/^sbp_ingest_dead_letters_total\{kind="job"\} (\d+)$/m)).toBe(1);
      for (const t of texts) expect(t).toMatch(/^sbp_ingest_queue_depth \d+$/m);
    } finally {
      check.disconnect();
    }
    expectValid([a, b, v1, v2]);
  }
});
