import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/protocol/index.js';
import type { BatchCommit } from '../../src/store/ingest-store.js';
import { LmdbIngestStore } from '../../src/store/lmdb-ingest-store.js';
import { tempDir } from '../ingest/helpers/collect.js';
import { calibration } from '../ingest/helpers/messages.js';
import { registryContract } from './device-registry-contract.js';

function commit(partial: Partial<BatchCommit>): BatchCommit {
  return {
    seen: [],
    devices: [],
    calibrations: [],
    results: [],
    counters: new Map(),
    deadLetters: [],
    now: Date.now(),
    log: null,
    ...partial,
  };
}

describe('LmdbIngestStore', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const stores: LmdbIngestStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) d.remove();
  });
  function open(path: string, published: Message[][] = [], seenTtlMs?: number): LmdbIngestStore {
    const options: ConstructorParameters<typeof LmdbIngestStore>[0] = {
      dataDir: path,
      publish: (m) => void published.push([...m]),
    };
    if (seenTtlMs !== undefined) options.seenTtlMs = seenTtlMs;
    const s = new LmdbIngestStore(options);
    stores.push(s);
    return s;
  }

  it('remembers applied keys, counters, dead letters and device states across a restart', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const published: Message[][] = [];
    const store = open(dir.path, published);
    const p = store.partition(0, null);
    const keys = [
      { kind: 'probe' as const, agentId: 'a', seq: 5 },
      { kind: 'probe' as const, agentId: 'a', seq: 200_000 },
      { kind: 'calibration' as const, agentId: 'a', calibrationId: 'c1' },
      { kind: 'event' as const, hash: 'h' },
    ];
    const results = [
      {
        type: 'deviceUpdate',
        agentId: 'a',
        timestamp: new Date().toISOString(),
        data: { deviceId: 'd', rssi: -3 },
      },
    ] as Message[];
    await p.commit(
      commit({
        seen: keys,
        devices: [
          {
            deviceId: 'd',
            agentId: 'a',
            patch: { rssi: -3, userDecision: 'blocked', trustLevel: 'blocked' },
          },
        ],
        calibrations: [calibration('a', 'c1')],
        counters: new Map([['probe:a', 2]]),
        deadLetters: [
          { id: 'x', reason: 'bad', failedAt: new Date().toISOString(), attempts: 1, payload: 1 },
        ],
        results,
      }),
    );
    expect(published).toEqual([results]);
    await p.saveCheckpoint(new Map([['d', { state: new Uint8Array([9]), position: null }]]));
    expect((await p.prepare(keys, ['d'])).seen).toEqual([true, true, true, true]);
    await store.close();
    stores.pop();

    const again = open(dir.path);
    const q = again.partition(0, null);
    const { seen, control } = await q.prepare([...keys, { kind: 'probe', agentId: 'a', seq: 6 }], ['d']);
    expect(seen).toEqual([true, true, true, true, false]);
    expect(control.get('d')).toEqual({ trustLevel: 'blocked', userDecision: 'blocked' });
    expect(await again.counters()).toEqual({ 'probe:a': 2 });
    expect((await again.deadLetters()).map((l) => l.id)).toEqual(['x']);
    expect([...(await q.loadCheckpoint()).states.get('d')!.state]).toEqual([9]);
  });

  it('forgets probe and device-event keys after their TTL, never calibration keys', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = open(dir.path, [], 50);
    const p = store.partition(0, null);
    const keys = [
      { kind: 'probe' as const, agentId: 'a', seq: 1 },
      { kind: 'event' as const, hash: 'h' },
      { kind: 'calibration' as const, agentId: 'a', calibrationId: 'c' },
    ];
    await p.commit(commit({ seen: keys }));
    expect((await p.prepare(keys, [])).seen).toEqual([true, true, true]);
    await new Promise((r) => setTimeout(r, 80));
    expect((await p.prepare(keys, [])).seen).toEqual([false, false, true]);
  });

  it('keeps probe keys of blocks evicted from its memory cache, whatever the order they were used in', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // Two cached blocks for four agents' keys: every commit evicts, and the LRU order moves once per flush epoch.
    const store = new LmdbIngestStore({
      dataDir: dir.path,
      publish: () => undefined,
      maxCachedBlocks: 2,
      flushIntervalMs: 60_000,
    });
    stores.push(store);
    const p = store.partition(0, null);
    const key = (agent: string, seq: number) => ({ kind: 'probe' as const, agentId: agent, seq });
    const all: ReturnType<typeof key>[] = [];
    for (let round = 0; round < 5; round++) {
      for (const agent of ['a', 'b', 'a', 'c', 'a', 'd']) {
        const k = key(agent, round * 10 + all.length);
        await p.commit(commit({ seen: [k] }));
        all.push(k);
        // Everything committed so far is still known, cached or not.
        expect((await p.prepare(all, [])).seen.every(Boolean)).toBe(true);
      }
    }
    expect((await p.prepare([key('a', 999_999), key('e', 1)], [])).seen).toEqual([false, false]);
  });

  describe('device registry', () => {
    registryContract(async () => {
      const dir = tempDir();
      dirs.push(dir);
      const store = open(dir.path);
      return {
        registry: store.registry,
        reopen: async () => {
          await store.close();
          return open(dir.path).registry;
        },
      };
    });
  });
});
