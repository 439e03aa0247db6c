import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  AnomalyFeedbackStore,
  FeedbackStoreLimits,
  StoredAnomaly,
} from '../../src/store/anomaly-feedback-store.js';
import { LmdbAnomalyFeedbackStore } from '../../src/store/lmdb-anomaly-feedback-store.js';
import { RedisAnomalyFeedbackStore } from '../../src/store/redis-anomaly-feedback-store.js';
import { haveRedis } from '../helpers/system-requirement.js';
import { tempDir } from '../ingest/helpers/collect.js';
import { deleteKeys, REDIS_URL, testPrefix } from '../ingest/helpers/redis.js';

const redisOk = await haveRedis();

function alert(id: string, at: number, extra: Partial<StoredAnomaly> = {}): StoredAnomaly {
  return {
    anomalyId: id,
    deviceId: 'aa:bb:cc:dd:ee:01',
    agentId: 'agent_1',
    at,
    anomalyType: 'latency_spike',
    severity: 'medium',
    confidence: 0.8,
    score: 0.71,
    threshold: 0.64,
    modelVersion: 'v1',
    mlModel: 'isolation_forest',
    recommendedAction: 'check_network_congestion',
    features: { rtt_mean: 280.5, rtt_mean_contribution: 0.6 },
    vector: [1.5, -2.25, 0.125],
    ...extra,
  };
}

interface Opened {
  /** A store; `second()` opens another handle on the same storage (another process of the deployment). */
  store: AnomalyFeedbackStore;
  second(): Promise<AnomalyFeedbackStore>;
  cleanup(): Promise<void>;
}

function contract(name: string, open: (limits: FeedbackStoreLimits) => Promise<Opened>) {
  describe(name, () => {
    let opened: Opened | null = null;
    afterEach(async () => {
      await opened?.cleanup();
      opened = null;
    });

    it('keeps alerts by id (idempotent), newest first, bounded', async () => {
      opened = await open({ maxAnomalies: 3 });
      const { store } = opened;
      for (let i = 0; i < 5; i++) await store.recordAnomalies([alert(`a${i}`, 1000 + i)]);
      await store.recordAnomalies([alert('a4', 1004)]);
      expect((await store.recentAnomalies(10)).map((a) => a.anomalyId)).toEqual(['a4', 'a3', 'a2']);
      expect(await store.anomaly('a0')).toBeUndefined();
      expect(await store.anomaly('a3')).toEqual(alert('a3', 1003));
      expect((await store.anomaliesSince(1003)).map((a) => a.anomalyId)).toEqual(['a3', 'a4']);
      expect((await store.recentAnomalies(1)).map((a) => a.anomalyId)).toEqual(['a4']);
    });

    it('appends verdicts with positions; the same verdict twice is one, a changed one replaces', async () => {
      opened = await open({});
      const { store } = opened;
      expect(await store.feedbackHead()).toBe(0);
      const first = await store.submitVerdict({
        anomalyId: 'a1',
        deviceId: 'd1',
        verdict: 'fine',
        anomalyType: 'latency_spike',
        at: 1000,
        vector: [0.5, 1],
        receivedAt: 2000,
      });
      expect(first.changed).toBe(true);
      expect(first.record).toMatchObject({ seq: 1, verdict: 'fine', anomalyId: 'a1', vector: [0.5, 1] });
      expect(first.record.replaces).toBeUndefined();
      const again = await store.submitVerdict({
        anomalyId: 'a1',
        deviceId: 'd1',
        verdict: 'fine',
        receivedAt: 3000,
      });
      expect(again).toEqual({ record: first.record, changed: false });
      await store.submitVerdict({ anomalyId: 'a2', deviceId: 'd2', verdict: 'real', receivedAt: 3500 });
      const changed = await store.submitVerdict({
        anomalyId: 'a1',
        deviceId: 'd1',
        verdict: 'real',
        receivedAt: 4000,
      });
      expect(changed.record).toMatchObject({ seq: 3, verdict: 'real', replaces: 'fine' });
      // Another process of the deployment sees the same log.
      const other = await opened.second();
      expect(await other.feedbackHead()).toBe(3);
      expect((await other.feedbackAfter(1)).map((r) => [r.seq, r.anomalyId, r.verdict])).toEqual([
        [2, 'a2', 'real'],
        [3, 'a1', 'real'],
      ]);
      const latest = await other.verdictsOf(['a1', 'a2', 'nope']);
      expect([...latest.keys()].sort()).toEqual(['a1', 'a2']);
      expect(latest.get('a1')?.seq).toBe(3);
    });

    it('keeps scored windows as 32-bit vectors, the newest up to its bound', async () => {
      opened = await open({ maxWindows: 50 });
      const { store } = opened;
      const windows = Array.from({ length: 120 }, (_, i) => ({
        deviceId: `d${i % 3}`,
        t: 60_000 * i,
        vector: [i, i / 3, -1e-3],
        anomalous: i % 10 === 0,
      }));
      await store.appendWindows(windows.slice(0, 70));
      await store.appendWindows(windows.slice(70));
      const kept = await store.windows();
      expect(kept.length).toBe(50);
      const newest = kept.find((w) => w.t === 119 * 60_000)!;
      expect(newest.deviceId).toBe('d2');
      expect(newest.anomalous).toBe(false);
      expect(Array.from(newest.vector)).toEqual([119, Math.fround(119 / 3), Math.fround(-1e-3)]);
      expect(kept.find((w) => w.t === 110 * 60_000)?.anomalous).toBe(true);
      expect(kept.some((w) => w.t === 0)).toBe(false);
    });

    it('lets one owner at a time hold the retraining lease, and remembers the last run', async () => {
      opened = await open({});
      const { store } = opened;
      const other = await opened.second();
      expect(await store.lastRetrain()).toBeNull();
      expect(await store.acquireRetrainLease('w1', 5000)).toBe(true);
      expect(await other.acquireRetrainLease('w2', 5000)).toBe(false);
      expect(await store.acquireRetrainLease('w1', 5000)).toBe(true);
      await other.releaseRetrainLease('w2');
      expect(await other.acquireRetrainLease('w2', 5000)).toBe(false);
      await store.releaseRetrainLease('w1');
      expect(await other.acquireRetrainLease('w2', 200)).toBe(true);
      // A lease expires when its holder stops renewing it (a crashed process).
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.acquireRetrainLease('w1', 5000)).toBe(true);
      await store.setLastRetrain(123_456);
      expect(await other.lastRetrain()).toBe(123_456);
    });
  });
}

contract('embedded (lmdb)', async (limits) => {
  const dir = tempDir('sbp-anomaly-store-');
  const store = new LmdbAnomalyFeedbackStore(dir.path, limits);
  const others: LmdbAnomalyFeedbackStore[] = [];
  return {
    store,
    // The embedded deployment is one process; a second handle reopens the same files after the first closes.
    second: async () => {
      const s = new LmdbAnomalyFeedbackStore(dir.path, limits);
      others.push(s);
      return s;
    },
    cleanup: async () => {
      for (const s of others) await s.close();
      await store.close();
      dir.remove();
    },
  };
});

describe.runIf(redisOk)('Redis', () => {
  contract('distributed (Redis)', async (limits) => {
    const prefix = testPrefix();
    const a = new Redis(REDIS_URL);
    const b = new Redis(REDIS_URL);
    return {
      store: new RedisAnomalyFeedbackStore(a, prefix, limits),
      second: async () => new RedisAnomalyFeedbackStore(b, prefix, limits),
      cleanup: async () => {
        a.disconnect();
        b.disconnect();
        await deleteKeys(prefix);
      },
    };
  });
});
