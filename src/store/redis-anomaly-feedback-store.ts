import type { Redis } from 'ioredis';
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

/** The anomaly side's Redis keys, all under the deployment's prefix (the rest are in redis-keys.ts). */
export interface AnomalyRedisKeys {
  /** Hash: anomalyId → StoredAnomaly JSON. */
  readonly alerts: string;
  /** Sorted set: anomalyId by alert time (ms); trimmed to the newest `maxAnomalies` with the hash. */
  readonly alertTimes: string;
  /** Sorted set: verdict JSON by its position in the feedback log. */
  readonly feedback: string;
  /** Counter: the feedback log's last position. */
  readonly feedbackSeq: string;
  /** Hash: anomalyId → its latest verdict JSON. */
  readonly verdicts: string;
  /** Stream (MAXLEN, exact: a few windows a second need no approximate trimming): scored windows, fields d (device), t (ms), a (0/1 anomalous), v (base64 float32 vector). */
  readonly windows: string;
  /** String: epoch ms of the last successful retraining. */
  readonly retrainLast: string;
  /** String with TTL: the owner of the retraining lease. */
  readonly retrainLease: string;
}

export function anomalyRedisKeys(prefix: string): AnomalyRedisKeys {
  const k = (name: string) => `${prefix}:anomaly:${name}`;
  return {
    alerts: k('alerts'),
    alertTimes: k('alert-times'),
    feedback: k('feedback'),
    feedbackSeq: k('feedback-seq'),
    verdicts: k('verdicts'),
    windows: k('windows'),
    retrainLast: k('retrain-last'),
    retrainLease: k('retrain-lease'),
  };
}

// KEYS: alerts, alertTimes. ARGV[1] = max kept, then (id, at, json) triples.
const RECORD_ALERTS = `
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
end
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  for _, id in ipairs(old) do redis.call('HDEL', KEYS[1], id) end
end
return 1
`;

// KEYS: feedbackSeq, feedback, verdicts. ARGV: anomalyId, verdict, the record's JSON (an object, without seq).
// The same verdict again changes nothing; another one is appended naming the verdict it replaces.
const SUBMIT_VERDICT = `
local prev = redis.call('HGET', KEYS[3], ARGV[1])
local replaces = ''
if prev then
  local v = cjson.decode(prev).verdict
  if v == ARGV[2] then return {0, prev} end
  replaces = ',"replaces":"' .. v .. '"'
end
local seq = redis.call('INCR', KEYS[1])
local json = string.sub(ARGV[3], 1, -2) .. ',"seq":' .. seq .. replaces .. '}'
redis.call('ZADD', KEYS[2], seq, json)
redis.call('HSET', KEYS[3], ARGV[1], json)
return {1, json}
`;

const ACQUIRE_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

const READ_PAGE = 10_000;

/**
 * The distributed anomaly feedback store on Redis: shared by every hub and worker of the deployment (same prefix).
 * Uses the connection it is given and does not close it.
 */
export class RedisAnomalyFeedbackStore implements AnomalyFeedbackStore {
  readonly keys: AnomalyRedisKeys;
  private readonly maxWindows: number;
  private readonly maxAnomalies: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    limits: FeedbackStoreLimits = {},
  ) {
    this.keys = anomalyRedisKeys(prefix);
    this.maxWindows = limits.maxWindows ?? DEFAULT_MAX_WINDOWS;
    this.maxAnomalies = limits.maxAnomalies ?? DEFAULT_MAX_ANOMALIES;
  }

  async recordAnomalies(list: readonly StoredAnomaly[]): Promise<void> {
    if (list.length === 0) return;
    const args: Array<string | number> = [this.maxAnomalies];
    for (const a of list) args.push(a.anomalyId, a.at, JSON.stringify(a));
    await this.redis.eval(RECORD_ALERTS, 2, this.keys.alerts, this.keys.alertTimes, ...args);
  }

  async anomaly(anomalyId: string): Promise<StoredAnomaly | undefined> {
    const json = await this.redis.hget(this.keys.alerts, anomalyId);
    return json === null ? undefined : (JSON.parse(json) as StoredAnomaly);
  }

  async recentAnomalies(limit: number): Promise<StoredAnomaly[]> {
    const ids = await this.redis.zrevrange(this.keys.alertTimes, 0, Math.max(0, limit - 1));
    return this.alertsOf(ids);
  }

  async anomaliesSince(sinceMs: number): Promise<StoredAnomaly[]> {
    const ids = await this.redis.zrangebyscore(this.keys.alertTimes, sinceMs, '+inf');
    return this.alertsOf(ids);
  }

  private async alertsOf(ids: string[]): Promise<StoredAnomaly[]> {
    if (ids.length === 0) return [];
    const values = await this.redis.hmget(this.keys.alerts, ...ids);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as StoredAnomaly);
  }

  async submitVerdict(input: VerdictInput): Promise<{ record: StoredVerdict; changed: boolean }> {
    const [changed, json] = (await this.redis.eval(
      SUBMIT_VERDICT,
      3,
      this.keys.feedbackSeq,
      this.keys.feedback,
      this.keys.verdicts,
      input.anomalyId,
      input.verdict,
      JSON.stringify(input),
    )) as [number, string];
    return { record: JSON.parse(json) as StoredVerdict, changed: changed === 1 };
  }

  async verdictsOf(anomalyIds: readonly string[]): Promise<Map<string, StoredVerdict>> {
    const out = new Map<string, StoredVerdict>();
    if (anomalyIds.length === 0) return out;
    const values = await this.redis.hmget(this.keys.verdicts, ...anomalyIds);
    values.forEach((v, i) => {
      if (v !== null) out.set(anomalyIds[i]!, JSON.parse(v) as StoredVerdict);
    });
    return out;
  }

  async feedbackHead(): Promise<number> {
    const v = await this.redis.get(this.keys.feedbackSeq);
    return v === null ? 0 : Number(v);
  }

  async feedbackAfter(seq: number): Promise<StoredVerdict[]> {
    const values = await this.redis.zrangebyscore(this.keys.feedback, `(${seq}`, '+inf');
    return values.map((v) => JSON.parse(v) as StoredVerdict);
  }

  async appendWindows(list: readonly RecordedWindow[]): Promise<void> {
    if (list.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const w of list) {
      pipeline.xadd(
        this.keys.windows,
        'MAXLEN',
        this.maxWindows,
        '*',
        'd',
        w.deviceId,
        't',
        String(w.t),
        'a',
        w.anomalous ? '1' : '0',
        'v',
        encodeVector(w.vector).toString('base64'),
      );
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0];
  }

  async windows(): Promise<RecordedWindow[]> {
    const out: RecordedWindow[] = [];
    let start = '-';
    for (;;) {
      const page = await this.redis.xrange(this.keys.windows, start, '+', 'COUNT', READ_PAGE);
      for (const [, fields] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.d === undefined || f.t === undefined || f.v === undefined) continue;
        out.push({
          deviceId: f.d,
          t: Number(f.t),
          anomalous: f.a === '1',
          vector: decodeVector(Buffer.from(f.v, 'base64')),
        });
      }
      if (page.length < READ_PAGE) return out;
      start = `(${page[page.length - 1]![0]}`;
    }
  }

  async lastRetrain(): Promise<number | null> {
    const v = await this.redis.get(this.keys.retrainLast);
    return v === null ? null : Number(v);
  }

  async setLastRetrain(ms: number): Promise<void> {
    await this.redis.set(this.keys.retrainLast, String(ms));
  }

  async acquireRetrainLease(owner: string, ttlMs: number): Promise<boolean> {
    const got = await this.redis.eval(ACQUIRE_LEASE, 1, this.keys.retrainLease, owner, Math.ceil(ttlMs));
    return got === 1;
  }

  async releaseRetrainLease(owner: string): Promise<void> {
    await this.redis.eval(RELEASE_LEASE, 1, this.keys.retrainLease, owner);
  }

  async close(): Promise<void> {
    // The connection belongs to the pipeline.
  }
}
