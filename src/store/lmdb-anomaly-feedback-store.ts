import { join } from 'node:path';
import { type Database, open, type RootDatabase } from 'lmdb';
import {
  type AnomalyFeedbackStore,
  DEFAULT_MAX_ANOMALIES,
  DEFAULT_MAX_WINDOWS,
  decodeVector,
  encodeVector,
  type FeedbackStoreLimits,
  type RecordedWindow,
  type StoredAnomaly,
  type StoredVerdict,
  type VerdictInput,
} from './anomaly-feedback-store.js';

/** Directory of the embedded anomaly store inside the data directory. */
export const ANOMALY_STORE_DIR = 'anomaly';

function entries(db: { getStats(): unknown }): number {
  return (db.getStats() as { entryCount: number }).entryCount;
}

interface Lease {
  owner: string;
  expiresAt: number;
}

/**
 * The embedded anomaly feedback store: an lmdb environment in `<dataDir>/anomaly/` (alerts, verdicts, scored
 * windows, retraining schedule). One process (the hub with its worker) uses it; read-modify-writes run in lmdb
 * transactions, so it stays consistent even if a tool opens it alongside.
 */
export class LmdbAnomalyFeedbackStore implements AnomalyFeedbackStore {
  private readonly root: RootDatabase;
  private readonly anomalies: Database<StoredAnomaly, string>;
  private readonly anomalyTimes: Database<true, [number, string]>;
  private readonly feedback: Database<StoredVerdict, number>;
  private readonly verdicts: Database<StoredVerdict, string>;
  private readonly windowDb: Database<Buffer, [number, string]>;
  private readonly meta: Database<number | Lease, string>;
  private readonly maxWindows: number;
  private readonly maxAnomalies: number;
  private closed = false;

  constructor(dataDir: string, limits: FeedbackStoreLimits = {}) {
    this.root = open({ path: join(dataDir, ANOMALY_STORE_DIR) });
    this.anomalies = this.root.openDB({ name: 'anomalies' });
    this.anomalyTimes = this.root.openDB({ name: 'anomaly-times' });
    this.feedback = this.root.openDB({ name: 'feedback', keyEncoding: 'uint32' });
    this.verdicts = this.root.openDB({ name: 'verdicts' });
    this.windowDb = this.root.openDB({ name: 'windows', encoding: 'binary' });
    this.meta = this.root.openDB({ name: 'meta' });
    this.maxWindows = limits.maxWindows ?? DEFAULT_MAX_WINDOWS;
    this.maxAnomalies = limits.maxAnomalies ?? DEFAULT_MAX_ANOMALIES;
  }

  async recordAnomalies(list: readonly StoredAnomaly[]): Promise<void> {
    if (list.length === 0) return;
    await this.anomalies.transaction(() => {
      for (const a of list) {
        const before = this.anomalies.get(a.anomalyId);
        if (before !== undefined) this.anomalyTimes.removeSync([before.at, before.anomalyId]);
        this.anomalies.putSync(a.anomalyId, a);
        this.anomalyTimes.putSync([a.at, a.anomalyId], true);
      }
      let excess = entries(this.anomalyTimes) - this.maxAnomalies;
      for (const key of this.anomalyTimes.getKeys()) {
        if (excess-- <= 0) break;
        this.anomalyTimes.removeSync(key);
        this.anomalies.removeSync(key[1]);
      }
    });
  }

  async anomaly(anomalyId: string): Promise<StoredAnomaly | undefined> {
    return this.anomalies.get(anomalyId);
  }

  async recentAnomalies(limit: number): Promise<StoredAnomaly[]> {
    const out: StoredAnomaly[] = [];
    for (const key of this.anomalyTimes.getKeys({ reverse: true, limit })) {
      const a = this.anomalies.get(key[1]);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  async anomaliesSince(sinceMs: number): Promise<StoredAnomaly[]> {
    const out: StoredAnomaly[] = [];
    for (const key of this.anomalyTimes.getKeys({ start: [sinceMs, ''] })) {
      const a = this.anomalies.get(key[1]);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  async submitVerdict(input: VerdictInput): Promise<{ record: StoredVerdict; changed: boolean }> {
    return this.feedback.transaction(() => {
      const previous = this.verdicts.get(input.anomalyId);
      if (previous?.verdict === input.verdict) return { record: previous, changed: false };
      let head = 0;
      for (const key of this.feedback.getKeys({ reverse: true, limit: 1 })) head = key;
      const record: StoredVerdict = { ...input, seq: head + 1 };
      if (previous !== undefined) record.replaces = previous.verdict;
      this.feedback.putSync(record.seq, record);
      this.verdicts.putSync(input.anomalyId, record);
      return { record, changed: true };
    });
  }

  async verdictsOf(anomalyIds: readonly string[]): Promise<Map<string, StoredVerdict>> {
    const out = new Map<string, StoredVerdict>();
    for (const id of anomalyIds) {
      const v = this.verdicts.get(id);
      if (v !== undefined) out.set(id, v);
    }
    return out;
  }

  async feedbackHead(): Promise<number> {
    for (const key of this.feedback.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  async feedbackAfter(seq: number): Promise<StoredVerdict[]> {
    return [...this.feedback.getRange({ start: seq + 1 }).map(({ value }) => value)];
  }

  async appendWindows(list: readonly RecordedWindow[]): Promise<void> {
    if (list.length === 0) return;
    await this.windowDb.transaction(() => {
      for (const w of list) {
        const vector = encodeVector(w.vector);
        const value = Buffer.allocUnsafe(1 + vector.byteLength);
        value[0] = w.anomalous ? 1 : 0;
        vector.copy(value, 1);
        this.windowDb.putSync([w.t, w.deviceId], value);
      }
      let excess = entries(this.windowDb) - this.maxWindows;
      if (excess <= 0) return;
      for (const key of this.windowDb.getKeys()) {
        if (excess-- <= 0) break;
        this.windowDb.removeSync(key);
      }
    });
  }

  async windows(): Promise<RecordedWindow[]> {
    const out: RecordedWindow[] = [];
    for (const { key, value } of this.windowDb.getRange()) {
      out.push({
        deviceId: key[1],
        t: key[0],
        anomalous: value[0] === 1,
        vector: decodeVector(value.subarray(1)),
      });
    }
    return out;
  }

  async lastRetrain(): Promise<number | null> {
    const v = this.meta.get('retrain:last');
    return typeof v === 'number' ? v : null;
  }

  async setLastRetrain(ms: number): Promise<void> {
    await this.meta.put('retrain:last', ms);
  }

  async acquireRetrainLease(owner: string, ttlMs: number): Promise<boolean> {
    return this.meta.transaction(() => {
      const held = this.meta.get('retrain:lease') as Lease | undefined;
      const now = Date.now();
      if (held !== undefined && held.owner !== owner && held.expiresAt > now) return false;
      this.meta.putSync('retrain:lease', { owner, expiresAt: now + ttlMs });
      return true;
    });
  }

  async releaseRetrainLease(owner: string): Promise<void> {
    await this.meta.transaction(() => {
      const held = this.meta.get('retrain:lease') as Lease | undefined;
      if (held?.owner === owner) this.meta.removeSync('retrain:lease');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }
}
