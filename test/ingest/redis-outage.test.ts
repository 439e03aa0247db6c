import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { buildHub } from '../../src/hub/build-hub.js';
import { deserializeDeviceState } from '../../src/ingest/device-state.js';
import { type OpenedPipeline, openPipeline } from '../../src/ingest/open-pipeline.js';
import type { Message, MessageOf } from '../../src/protocol/index.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { collect, tempDir, testLogger, waitFor } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { PrivateRedis } from './helpers/redis.js';
import { testModels } from './helpers/test-models.js';

const haveRedisServer = await import('node:child_process').then(({ execFileSync }) => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error('redis-server is required in CI');
    console.warn(
      '\n*** SKIPPING Redis outage tests: redis-server not found. To run them: apt-get install redis-server ***\n',
    );
    return false;
  }
});

function marker(seq: number): number {
  return -(seq % 100_000) / 1000 - 1;
}

/**
 * Redis stopped and started again under a live stream, on a private redis-server (its own port and data directory;
 * the shared Redis on 6379 is never touched). The hub side and a worker run in this process.
 */
describe.runIf(haveRedisServer)('Redis outage during a stream', () => {
  let redis: PrivateRedis;
  let pipeline: OpenedPipeline;
  let got: { messages: Message[]; stop: () => void };
  const dir = tempDir();

  async function open(maxBuffered: number): Promise<OpenedPipeline> {
    return openPipeline(
      {
        redisUrl: redis.url,
        dataDir: dir.path,
        embeddedWorker: true,
        logger: testLogger(),
        tuning: {
          partitions: 4,
          leaseMs: 1500,
          lockDurationMs: 1500,
          stalledIntervalMs: 750,
          checkpointIntervalMs: 300,
          sink: { maxBuffered, retryMinMs: 50, retryMaxMs: 300 },
        },
      },
      { loadModels: async () => testModels() },
    );
  }

  beforeEach(async () => {
    redis = new PrivateRedis();
    await redis.start();
  });

  afterAll(() => dir.remove());

  afterEach(async () => {
    got?.stop();
    await pipeline?.close();
    await redis.destroy();
  });

  it('keeps accepting into a bounded buffer while Redis is down and drains it in order when it is back', async () => {
    pipeline = await open(5000);
    got = collect(pipeline.results);
    await (pipeline.results as unknown as { ready(): Promise<void> }).ready();
    const devices = 10;
    const sent = new Map<string, number>();
    let seq = 0;
    let refused = 0;
    let stoppedAt = -1;
    let restartedAt = -1;
    const started = Date.now();
    // ~600 probes/s for 6 s; Redis is down from 1.5 s to 3.5 s.
    while (Date.now() - started < 6000) {
      for (let i = 0; i < 6; i++) {
        const d = seq % devices;
        const error = pipeline.sink.offer(record(probe('agent-o', `od-${d}`, seq, { rssi: marker(seq) })));
        if (error === null) sent.set(`od-${d}`, (sent.get(`od-${d}`) ?? 0) + 1);
        else refused += 1;
        seq += 1;
      }
      const t = Date.now() - started;
      if (stoppedAt < 0 && t > 1500) {
        await redis.stop();
        stoppedAt = seq;
      }
      if (restartedAt < 0 && t > 3500) {
        expect(pipeline.sink.bufferedRecords).toBeGreaterThan(500);
        expect(pipeline.sink.queueUnavailable).toBe(true);
        await redis.start();
        restartedAt = seq;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refused).toBe(0);
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    const check = new Redis(redis.url);
    try {
      await waitFor(
        'every accepted probe applied',
        async () => Number(await check.hget(redisKeys().counters, 'probe:agent-o')) === total,
        60_000,
        100,
      );
      expect(pipeline.sink.bufferedRecords).toBe(0);
      // Results (those not published while this hub was cut off) keep each device's order.
      for (let d = 0; d < devices; d++) {
        const markers = got.messages
          .filter(
            (m): m is MessageOf<'deviceUpdate'> => m.type === 'deviceUpdate' && m.data.deviceId === `od-${d}`,
          )
          .map((m) => m.data.rssi!);
        expect(markers.length).toBeGreaterThan(0);
        for (let i = 1; i < markers.length; i++) expect(markers[i]!).toBeLessThan(markers[i - 1]!);
      }
      expect(await pipeline.deadLetters()).toEqual([]);
      // The worker's per-device state counts each probe once.
      await pipeline.close();
      for (let p = 0; p < 4; p++) {
        const states = await check.hgetallBuffer(redisKeys().checkpoint(p));
        for (const [id, bytes] of Object.entries(states))
          expect(deserializeDeviceState(bytes).probes).toBe(sent.get(id));
      }
    } finally {
      check.disconnect();
    }
  }, 120_000);

  it('answers QUEUE_FULL once the buffer bound is hit; what it accepted is applied after Redis is back', async () => {
    pipeline = await open(300);
    await redis.stop();
    let accepted = 0;
    const codes = new Set<string>();
    for (let s = 0; s < 400; s++) {
      const error = pipeline.sink.offer(record(probe('agent-f', `fd-${s % 5}`, s)));
      if (error === null) accepted += 1;
      else codes.add(error.code);
      if (s % 50 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(accepted).toBe(300);
    expect([...codes]).toEqual(['QUEUE_FULL']);
    await redis.start();
    const check = new Redis(redis.url);
    try {
      await waitFor(
        'the buffered probes applied',
        async () => Number(await check.hget(redisKeys().counters, 'probe:agent-f')) === 300,
        60_000,
        100,
      );
      // Room again: new messages are accepted.
      expect(pipeline.sink.offer(record(probe('agent-f', 'fd-0', 1000)))).toBeNull();
    } finally {
      check.disconnect();
    }
  }, 120_000);

  it('over a real agent socket: the hub keeps the connection open, answers QUEUE_FULL error frames at the bound, and applies what it accepted once Redis is back', async () => {
    pipeline = await open(200);
    const hub = await buildHub(
      {
        host: '127.0.0.1',
        port: 0,
        tokens: { agents: { 'agent-s': 'token-agent-s-0123456789abcdef' }, viewers: [] },
        logLevel: 'silent',
        rateLimit: { messagesPerMinute: 1_000_000 },
      },
      { sink: pipeline.sink, results: pipeline.results, registry: pipeline.registry, logger: testLogger() },
    );
    const { wsUrl } = await hub.listen();
    const socket = new WebSocket(wsUrl, {
      headers: { authorization: 'Bearer token-agent-s-0123456789abcdef' },
    });
    const received: Message[] = [];
    let closed = false;
    socket.on('message', (data) => received.push(JSON.parse(data.toString()) as Message));
    socket.on('close', () => {
      closed = true;
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    let check: Redis | null = null;
    try {
      // Redis goes away under an open connection.
      await redis.stop();
      const errors = () => received.filter((m): m is MessageOf<'error'> => m.type === 'error');
      // 300 probes, 100 beyond the bound, spread over 1.5 s (retries against the dead Redis meanwhile).
      for (let s = 0; s < 300; s++) {
        socket.send(JSON.stringify(probe('agent-s', `sd-${s % 4}`, s)));
        if (s % 20 === 19) await new Promise((r) => setTimeout(r, 100));
      }
      await waitFor('100 QUEUE_FULL error frames', () => errors().length === 100, 15_000);
      expect(new Set(errors().map((e) => e.data.errorCode))).toEqual(new Set(['QUEUE_FULL']));
      expect(errors().every((e) => e.data.recoverable)).toBe(true);
      expect(pipeline.sink.bufferedRecords).toBe(200);
      expect(closed).toBe(false);
      await redis.start();
      const c = new Redis(redis.url);
      check = c;
      await waitFor(
        'the 200 accepted probes applied',
        async () => Number(await c.hget(redisKeys().counters, 'probe:agent-s')) === 200,
        30_000,
        100,
      );
      // The same connection is served again: a new probe is accepted and its result comes back on it.
      socket.send(JSON.stringify(probe('agent-s', 'sd-0', 1000, { rssi: -77 })));
      await waitFor('the result on the same socket', () =>
        received.some((m) => m.type === 'deviceUpdate' && m.data.deviceId === 'sd-0' && m.data.rssi === -77),
      );
      expect(errors()).toHaveLength(100);
      expect(closed).toBe(false);
    } finally {
      check?.disconnect();
      socket.terminate();
      await hub.close();
    }
  }, 120_000);
});
