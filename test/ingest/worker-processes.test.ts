import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deserializeDeviceState } from '../../src/ingest/device-state.js';
import { type OpenedPipeline, openPipeline } from '../../src/ingest/open-pipeline.js';
import type { Message, MessageOf } from '../../src/protocol/index.js';
import { type RedisKeys, redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { collect, tempDir, testLogger, waitFor } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { type Spawned, spawnSbp } from './helpers/processes.js';
import { deleteKeys, REDIS_URL, testPrefix } from './helpers/redis.js';

const redisOk = await haveRedis();
const PARTITIONS = 4;

function marker(seq: number): number {
  return -(seq % 100_000) / 1000 - 1;
}

/** Real `sbp worker` processes against the shared Redis, under a private prefix; this process plays the hub. */
describe.runIf(redisOk)('sbp worker processes on Redis', () => {
  let prefix: string;
  let keys: RedisKeys;
  let redis: Redis;
  let hub: OpenedPipeline;
  let workers: Spawned[];
  let got: { messages: Message[]; stop: () => void };
  const dir = tempDir();

  function startWorker(): Spawned {
    const w = spawnSbp([
      'worker',
      '--redis',
      REDIS_URL,
      '--prefix',
      prefix,
      '--partitions',
      String(PARTITIONS),
      '--lease-ms',
      '1500',
      '--lock-ms',
      '1500',
      '--checkpoint-ms',
      '300',
      '--log-level',
      'warn',
    ]);
    workers.push(w);
    return w;
  }

  async function owners(): Promise<string[]> {
    const values = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => redis.get(keys.lease(p))));
    return values.map((v) => (v ?? '').split('#')[0] ?? '');
  }

  beforeEach(async () => {
    prefix = testPrefix();
    keys = redisKeys(prefix);
    redis = new Redis(REDIS_URL);
    workers = [];
    hub = await openPipeline({
      redisUrl: REDIS_URL,
      prefix,
      dataDir: dir.path,
      embeddedWorker: false,
      logger: testLogger(),
      tuning: { partitions: PARTITIONS },
    });
    got = collect(hub.results);
    await (hub.results as unknown as { ready(): Promise<void> }).ready();
  });

  afterAll(() => dir.remove());

  afterEach(async () => {
    got.stop();
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await hub.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  /** Every device's newest-probe markers, in the order results arrived. */
  function markersOf(deviceId: string): number[] {
    return got.messages
      .filter(
        (m): m is MessageOf<'deviceUpdate'> => m.type === 'deviceUpdate' && m.data.deviceId === deviceId,
      )
      .map((m) => m.data.rssi!);
  }

  async function sendFinal(devices: number, base: number): Promise<void> {
    for (let d = 0; d < devices; d++)
      hub.sink.offer(record(probe('agent-p', `pd-${d}`, base + d, { rssi: marker(base + d) })));
    await hub.sink.flush();
    await waitFor(
      'the final probe of every device',
      () =>
        Array.from({ length: devices }, (_, d) => d).every((d) =>
          markersOf(`pd-${d}`).includes(marker(base + d)),
        ),
      60_000,
      50,
    );
  }

  it('two workers share the partitions and keep every device in order', async () => {
    const [a, b] = [startWorker(), startWorker()];
    const ids = [await a.line(/ready/), await b.line(/ready/)].map((l) => l.split(' ')[1]!);
    await waitFor(
      'the partitions to be split between both workers',
      async () => {
        const o = await owners();
        return ids.every((id) => o.includes(id)) && o.every((id) => ids.includes(id));
      },
      20_000,
      100,
    );

    const devices = 16;
    const rounds = 40;
    for (let r = 0; r < rounds; r++) {
      for (let d = 0; d < devices; d++) {
        const seq = r * devices + d;
        expect(hub.sink.offer(record(probe('agent-p', `pd-${d}`, seq, { rssi: marker(seq) })))).toBeNull();
      }
      if (r % 10 === 9) await new Promise((res) => setTimeout(res, 20));
    }
    await sendFinal(devices, rounds * devices);
    for (let d = 0; d < devices; d++) {
      const markers = markersOf(`pd-${d}`);
      for (let i = 1; i < markers.length; i++) expect(markers[i]!).toBeLessThan(markers[i - 1]!);
    }
    const counters = await redis.hgetall(keys.counters);
    expect(Number(counters['probe:agent-p'])).toBe(devices * (rounds + 1));
  }, 90_000);

  it('SIGKILL of a worker mid-stream: every message applied exactly once, in order, state rebuilt', async () => {
    const [a, b] = [startWorker(), startWorker()];
    const idA = (await a.line(/ready/)).split(' ')[1]!;
    const idB = (await b.line(/ready/)).split(' ')[1]!;
    await waitFor(
      'the partitions to be split between both workers',
      async () => {
        const o = await owners();
        return o.includes(idA) && o.includes(idB) && o.every((id) => id === idA || id === idB);
      },
      20_000,
      100,
    );

    const devices = 24;
    const sentPerDevice = new Map<string, number>();
    let seq = 0;
    let killedAt = -1;
    let appliedBeforeKill = 0;
    // ~1,200 probes/s for 4 s; worker A is killed after 1.5 s, while batches are in flight.
    const started = Date.now();
    while (Date.now() - started < 4000) {
      for (let i = 0; i < 12; i++) {
        const d = seq % devices;
        const deviceId = `pd-${d}`;
        expect(hub.sink.offer(record(probe('agent-p', deviceId, seq, { rssi: marker(seq) })))).toBeNull();
        sentPerDevice.set(deviceId, (sentPerDevice.get(deviceId) ?? 0) + 1);
        seq += 1;
      }
      if (killedAt < 0 && Date.now() - started > 1500) {
        appliedBeforeKill = Number((await redis.hget(keys.counters, 'probe:agent-p')) ?? 0);
        await a.stop('SIGKILL');
        killedAt = seq;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(appliedBeforeKill).toBeGreaterThan(0);
    const base = Math.ceil(seq / devices) * devices + devices;
    await sendFinal(devices, base);
    for (let d = 0; d < devices; d++) sentPerDevice.set(`pd-${d}`, (sentPerDevice.get(`pd-${d}`) ?? 0) + 1);

    // Worker B took over every partition of A.
    expect((await owners()).every((o) => o !== idA && o.length > 0)).toBe(true);
    // Effects counted once: the probe counter equals the number of distinct probes sent.
    const total = [...sentPerDevice.values()].reduce((x, y) => x + y, 0);
    expect(Number(await redis.hget(keys.counters, 'probe:agent-p'))).toBe(total);
    // Results published once per committed batch and in order: each device's markers strictly move forward.
    for (let d = 0; d < devices; d++) {
      const markers = markersOf(`pd-${d}`);
      for (let i = 1; i < markers.length; i++) expect(markers[i]!).toBeLessThan(markers[i - 1]!);
    }
    // A graceful stop checkpoints; each device's state counts each of its probes exactly once — including the
    // batches A applied before it died, recovered from the changelog.
    await b.stop('SIGTERM');
    const perDevice = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      const states = await redis.hgetallBuffer(keys.checkpoint(p));
      for (const [id, bytes] of Object.entries(states))
        perDevice.set(id, deserializeDeviceState(bytes).probes);
    }
    expect(Object.fromEntries(perDevice)).toEqual(Object.fromEntries(sentPerDevice));
  }, 120_000);
});
