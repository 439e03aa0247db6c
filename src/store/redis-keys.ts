// Every Redis key, channel and BullMQ queue name SmartBlueprint uses, in one place. All of them start with a
// configurable prefix so several deployments (and every integration test) can share one Redis.

export const DEFAULT_REDIS_PREFIX = 'sbp';

export interface RedisKeys {
  readonly prefix: string;
  /** BullMQ's own key prefix; its keys are `<bullPrefix>:<queue>:…`. */
  readonly bullPrefix: string;
  /** BullMQ queue name of ingestion partition `p`. */
  queueName(partition: number): string;
  /** Deployment-wide settings every hub and worker must agree on (partition count). */
  readonly config: string;
  /** Hash: worker id → JSON heartbeat {capacity, expiresAt}. */
  readonly workers: string;
  /** String: the token of the worker that owns partition `p`, with a TTL (the lease). */
  lease(partition: number): string;
  /** Counter: incremented on each acquisition of partition `p` (fencing). */
  fence(partition: number): string;
  /** Hash: deviceId → serialised device state, as of the checkpoint. */
  checkpoint(partition: number): string;
  /** Hash: deviceId → id of the last changelog entry its checkpointed state includes. */
  checkpointPosition(partition: number): string;
  /** Stream: batches applied since the checkpoint, replayed to rebuild state after a failover. */
  changelog(partition: number): string;
  /** Bitmap block of processed pingResult sequence numbers of one agent (TTL'd). */
  seenProbes(agentId: string, block: number): string;
  /** Hash: agentId + calibrationId → 1 (calibrations are training data: kept, no TTL). */
  readonly seenCalibrations: string;
  /** String with TTL: a processed device event (deviceJoin/Leave/Update) by content hash. */
  seenEvent(hash: string): string;
  /** Hash per device: top-level DeviceRecord fields → JSON. */
  device(deviceId: string): string;
  /**
   * Counter: incremented with every registry write of a device's trustLevel or userDecision other than the worker's
   * own (a user's decision, an agent's trustUpdate). Workers cache those fields and re-read them when it moves.
   */
  readonly controlEpoch: string;
  /** Set of known device ids. */
  readonly devices: string;
  /** Stream of stored pingCalibration messages (training data). */
  readonly calibrations: string;
  /** List of dead letters (JSON), newest first, capped. */
  readonly deadLetters: string;
  /** Hash of effect counters (`<kind>:<agentId>` → count). */
  readonly counters: string;
  /** Pub/sub channel carrying result batches (JSON arrays of messages) to every hub. */
  readonly results: string;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new Error(`invalid Redis prefix ${JSON.stringify(prefix)}: use 1-64 of A-Z a-z 0-9 _ . : -`);
  }
  const k = (...parts: Array<string | number>) => [prefix, ...parts].join(':');
  return {
    prefix,
    bullPrefix: k('bull'),
    queueName: (p) => `ingest-${p}`,
    config: k('config'),
    workers: k('workers'),
    lease: (p) => k('lease', p),
    fence: (p) => k('fence', p),
    checkpoint: (p) => k('ckpt', p),
    checkpointPosition: (p) => k('ckpt-pos', p),
    changelog: (p) => k('log', p),
    seenProbes: (agentId, block) => k('seen', 'probe', agentId, block),
    seenCalibrations: k('seen', 'calibration'),
    seenEvent: (hash) => k('seen', 'event', hash),
    device: (deviceId) => k('device', deviceId),
    controlEpoch: k('control-epoch'),
    devices: k('devices'),
    calibrations: k('calibrations'),
    deadLetters: k('dead-letters'),
    counters: k('counters'),
    results: k('results'),
  };
}
