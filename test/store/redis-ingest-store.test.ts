import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchCommit, StoredDeadLetter } from '../../src/store/ingest-store.js';
import {
  compareLogIds,
  isPartitionLostError,
  isSeenKeyTakenError,
  MAX_DEAD_LETTERS,
} from '../../src/store/ingest-store.js';
import { RedisIngestStore } from '../../src/store/redis-ingest-store.js';
import { redisKeys } from '../../src/store/redis-keys.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { calibration, probe } from '../ingest/helpers/messages.js';
import { deleteKeys, REDIS_URL, testPrefix } from '../ingest/helpers/redis.js';
import { registryContract } from './device-registry-contract.js';

const redisOk = await haveRedis();

function commit(partial: Partial<BatchCommit>): BatchCommit {
  return {
    seen: [],
    devices: [],
    calibrations: [],
    results: [],
    counters: new Map(),
    deadLetters: [],
    now: Date.parse('2025-06-16T18:45:00.000Z'),
    log: null,
    ...partial,
  };
}

describe.runIf(redisOk)('RedisIngestStore', () => {
  const prefix = testPrefix();
  const keys = redisKeys(prefix);
  let redis: Redis;
  let store: RedisIngestStore;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    store = new RedisIngestStore(redis, keys, { seenTtlMs: 60_000 });
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
  });

  it('marks keys applied atomically with the effects, fenced by the partition lease', async () => {
    await redis.set(keys.lease(0), 'w1#1');
    const mine = store.partition(0, 'w1#1');
    const stale = store.partition(0, 'w0#0');
    const probeKey = { kind: 'probe' as const, agentId: 'a', seq: 70_001 };
    const calKey = { kind: 'calibration' as const, agentId: 'a', calibrationId: 'c1' };
    const eventKey = { kind: 'event' as const, hash: 'h1' };
    const sub = redis.duplicate();
    const published: string[] = [];
    sub.on('message', (_c, text: string) => published.push(text));
    await sub.subscribe(keys.results);
    const results = [
      { ...probe('a', 'd', 1), type: 'deviceUpdate', data: { deviceId: 'd', rssi: -50 } },
    ] as never;

    // A worker that lost the lease writes nothing and publishes nothing.
    const lost = await stale
      .commit(commit({ seen: [probeKey], results, counters: new Map([['probe:a', 1]]) }))
      .catch((e: unknown) => e);
    expect(isPartitionLostError(lost)).toBe(true);
    expect((await mine.prepare([probeKey], [])).seen).toEqual([false]);

    await mine.commit(
      commit({
        seen: [probeKey, calKey, eventKey],
        devices: [{ deviceId: 'd', agentId: 'a', patch: { rssi: -50 } }],
        calibrations: [calibration('a', 'c1')],
        results,
        counters: new Map([['probe:a', 1]]),
      }),
    );
    const { seen, control } = await mine.prepare(
      [probeKey, { ...probeKey, seq: 70_002 }, calKey, eventKey, { kind: 'event', hash: 'h2' }],
      ['d', 'unknown-device'],
    );
    expect(seen).toEqual([true, false, true, true, false]);
    expect(control.get('d')).toEqual({ trustLevel: 'unknown' });
    expect(control.get('unknown-device')).toEqual({});
    expect(await store.counters()).toEqual({ 'probe:a': 1 });
    // Probe marks live in 8 KiB bitmap blocks with a TTL; calibration keys are kept for good.
    expect(await redis.pttl(keys.seenProbes('a', 1))).toBeGreaterThan(50_000);
    expect(await redis.strlen(keys.seenProbes('a', 1))).toBeLessThanOrEqual(8192);
    expect(await redis.pttl(keys.seenCalibrations)).toBe(-1);
    expect(await redis.xlen(keys.calibrations)).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(published).toHaveLength(1);
    expect(JSON.parse(published[0]!)).toEqual(results);
    sub.disconnect();
  });

  it('checkpoints each device at its changelog position and trims the changelog to what is still needed', async () => {
    await redis.set(keys.lease(1), 'w1#2');
    const p = store.partition(1, 'w1#2');
    await p.commit(commit({ now: 1, log: { hubId: 'h', records: '["first"]' } }));
    const afterFirst = p.position()!;
    await p.commit(commit({ now: 2, log: { hubId: 'h', records: '["second"]' } }));
    const afterSecond = p.position()!;
    // Device a was saved after the first batch, device b after the second (a sliced checkpoint).
    await p.saveCheckpoint(new Map([['a', { state: new Uint8Array([1]), position: afterFirst }]]));
    await p.saveCheckpoint(new Map([['b', { state: new Uint8Array([2]), position: afterSecond }]]));
    await p.commit(commit({ now: 3, log: { hubId: 'h', records: '["third"]' } }));
    // a still needs everything after the first batch: trim there.
    await p.saveCheckpoint(new Map(), afterFirst);
    // Another worker taking the partition over sees both states with their positions and the changelog kept.
    await redis.set(keys.lease(1), 'w2#3');
    const next = store.partition(1, 'w2#3');
    const restored = await next.loadCheckpoint();
    expect(restored.states.get('a')).toEqual({ state: Buffer.from([1]), position: afterFirst });
    expect(restored.states.get('b')).toEqual({ state: Buffer.from([2]), position: afterSecond });
    expect(restored.log.map((e) => [e.now, e.records])).toEqual([
      [1, '["first"]'],
      [2, '["second"]'],
      [3, '["third"]'],
    ]);
    expect(compareLogIds(restored.log[0]!.id, afterFirst)).toBe(0);
    expect(next.position()).toBe(restored.log[2]!.id);
    // The old owner can no longer checkpoint.
    const err = await p.saveCheckpoint(new Map([['a', null]])).catch((e: unknown) => e);
    expect(isPartitionLostError(err)).toBe(true);
    await next.saveCheckpoint(new Map([['a', null]]), afterSecond);
    expect([...(await next.loadCheckpoint()).states.keys()]).toEqual(['b']);
    expect(await redis.xlen(keys.changelog(1))).toBe(2);
  });

  it('serves applied keys from memory, and refuses a key another partition applied since it looked', async () => {
    await redis.set(keys.lease(2), 'w1#4');
    await redis.set(keys.lease(3), 'w1#5');
    const p2 = store.partition(2, 'w1#4');
    const p3 = store.partition(3, 'w1#5');
    const key = (seq: number) => ({ kind: 'probe' as const, agentId: 'reuser', seq });
    // Both partitions read the agent's bitmap block once.
    expect((await p2.prepare([key(1)], [])).seen).toEqual([false]);
    expect((await p3.prepare([key(1), key(2)], [])).seen).toEqual([false, false]);
    await p2.commit(commit({ seen: [key(1)], counters: new Map([['probe:reuser', 1]]) }));
    // The owner sees its own commit without asking Redis; the bit is really in Redis too.
    expect((await p2.prepare([key(1), key(2)], [])).seen).toEqual([true, false]);
    expect(await redis.getbit(keys.seenProbes('reuser', 0), 1)).toBe(1);
    // Partition 3 still believes seq 1 is free (the agent reused it for one of its devices): its commit writes
    // nothing and says so, and its next owner (fresh memory) sees the key applied.
    expect((await p3.prepare([key(1)], [])).seen).toEqual([false]);
    const taken = await p3
      .commit(commit({ seen: [key(2), key(1)], counters: new Map([['probe:reuser', 2]]) }))
      .catch((e: unknown) => e);
    expect(isSeenKeyTakenError(taken)).toBe(true);
    expect(await store.counters()).toMatchObject({ 'probe:reuser': 1 });
    expect(await redis.getbit(keys.seenProbes('reuser', 0), 2)).toBe(0);
    expect((await store.partition(3, 'w1#5').prepare([key(1), key(2)], [])).seen).toEqual([true, false]);
  });

  it('a commit run twice (a resend after a lost reply) writes nothing the second time, probes or not', async () => {
    await redis.set(keys.lease(5), 'w1#7');
    const p = store.partition(5, 'w1#7');
    const calOnly = commit({
      seen: [
        { kind: 'calibration', agentId: 'twice', calibrationId: 'ct1' },
        { kind: 'event', hash: 'twice-h1' },
      ],
      calibrations: [calibration('twice', 'ct1')],
      counters: new Map([['calibration:twice', 1]]),
    });
    const calibrationsBefore = await redis.xlen(keys.calibrations);
    await p.commit(calOnly);
    const again = await p.commit(calOnly).catch((e: unknown) => e);
    expect(isSeenKeyTakenError(again)).toBe(true);
    expect(await store.counters()).toMatchObject({ 'calibration:twice': 1 });
    expect(await redis.xlen(keys.calibrations)).toBe(calibrationsBefore + 1);
    // An event-only batch likewise.
    const eventOnly = commit({
      seen: [{ kind: 'event', hash: 'twice-h2' }],
      counters: new Map([['event:twice', 1]]),
    });
    await p.commit(eventOnly);
    expect(isSeenKeyTakenError(await p.commit(eventOnly).catch((e: unknown) => e))).toBe(true);
    expect(await store.counters()).toMatchObject({ 'event:twice': 1 });
  });

  it('caches device controls until a user decision moves the epoch, and never overwrites a decision it did not see', async () => {
    await redis.set(keys.lease(4), 'w1#6');
    const p = store.partition(4, 'w1#6');
    await store.registry.upsert('ctl-dev', 'a', { rssi: -60 });
    expect((await p.prepare([], ['ctl-dev'])).control.get('ctl-dev')).toEqual({ trustLevel: 'unknown' });
    // The worker's own write is what it obeys next (no read needed).
    await p.commit(
      commit({ devices: [{ deviceId: 'ctl-dev', agentId: 'a', patch: { trustLevel: 'suspicious' } }] }),
    );
    expect((await p.prepare([], ['ctl-dev'])).control.get('ctl-dev')).toEqual({ trustLevel: 'suspicious' });
    expect((await store.registry.get('ctl-dev'))?.trustLevel).toBe('suspicious');
    // A user blocks the device through a hub; this worker, not knowing yet, computes "trusted": the registry keeps
    // the user's level (its other fields are written), and the commit tells the worker to read again.
    await store.registry.upsert('ctl-dev', 'a', { userDecision: 'blocked', trustLevel: 'blocked' });
    await p.commit(
      commit({
        devices: [{ deviceId: 'ctl-dev', agentId: 'a', patch: { trustLevel: 'trusted', rssi: -41 } }],
      }),
    );
    expect(await store.registry.get('ctl-dev')).toMatchObject({
      trustLevel: 'blocked',
      userDecision: 'blocked',
      rssi: -41,
    });
    expect((await p.prepare([], ['ctl-dev'])).control.get('ctl-dev')).toEqual({
      trustLevel: 'blocked',
      userDecision: 'blocked',
    });
    // Without a commit in between, a decision is seen once the cache is older than its bound (100 ms).
    await store.registry.upsert('ctl-dev', 'a', { userDecision: null, trustLevel: 'unknown' });
    await new Promise((r) => setTimeout(r, 150));
    expect((await p.prepare([], ['ctl-dev'])).control.get('ctl-dev')).toEqual({ trustLevel: 'unknown' });
  });

  it('keeps a bounded list of dead letters, newest first, each id once', async () => {
    const letter = (i: number): StoredDeadLetter => ({
      id: `job-${i % (MAX_DEAD_LETTERS + 10)}`,
      reason: 'malformed batch',
      failedAt: new Date(i).toISOString(),
      attempts: 1,
      payload: { i },
    });
    for (let i = 0; i < 5; i++) await store.addDeadLetter(letter(i));
    await store.addDeadLetter(letter(4));
    const letters = await store.deadLetters(10);
    expect(letters.map((l) => l.id)).toEqual(['job-4', 'job-3', 'job-2', 'job-1', 'job-0']);
    for (let i = 5; i < MAX_DEAD_LETTERS + 20; i++) await store.addDeadLetter(letter(i));
    expect(await redis.llen(keys.deadLetters)).toBe(MAX_DEAD_LETTERS);
  });

  describe('device registry', () => {
    const registryKeys = redisKeys(`${prefix}:registry`);
    registryContract(async () => ({
      registry: new RedisIngestStore(redis, registryKeys).registry,
      reopen: async () => new RedisIngestStore(redis, registryKeys).registry,
    }));
  });
});
