import { stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { newPartitionState, type PartitionState } from '../ingest/device-state.js';
import type { IngestRecord } from '../ingest/ingest-sink.js';
import { type BatchOutput, type ProcessOptions, processBatch } from '../ingest/process-batch.js';
import type { WorkerModels } from '../ingest/worker-models.js';
import type { Message, MessageType } from '../protocol/index.js';
import { CompareMetrics, type ComparisonSummary, type TrustAlertMark } from './compare-metrics.js';
import { DetectionMetrics, type DetectionSummary } from './detection-metrics.js';
import { emptyGroundTruth, type GroundTruth, type TruthPoint, truthAt } from './labels.js';
import { Pacer, type ReplaySpeed } from './pace.js';
import { PositionMetrics, type PositionSummary } from './position-metrics.js';
import type { ProgressState } from './progress.js';
import { type BadLine, type CaptureStats, emptyCaptureStats } from './read-capture.js';
import { readRecords, readRecordsParallel } from './read-records.js';
import { isSyntheticDevice, probesOfCalibration, realDeviceId, type WalkMode } from './walk-probes.js';

export interface ReplayOptions {
  /** A capture (JSON lines of protocol messages) or a calibration walk; `.gz` is read as gzip. */
  input: string;
  /** The models to replay through (`NO_MODELS` replays the worker with no model). */
  models: WorkerModels;
  /** A second model set: the capture goes through both, and the result says what changed. */
  compare?: WorkerModels;
  /** Labelled anomalies and true positions (`sbp simulate` writes them beside its capture). */
  truth?: GroundTruth;
  /** @defaultValue max */
  speed?: ReplaySpeed;
  /**
   * Records are handed to the worker in batches covering this much capture time (the live worker's micro-batches are
   * about as long); the batch's time is its latest message's. @defaultValue 1000
   */
  batchMs?: number;
  /** Upper bound on records per batch. @defaultValue 4096 */
  maxBatch?: number;
  /** @defaultValue 'fix' */
  walkMode?: WalkMode;
  /** Alerts this long after a labelled window still detect it. @defaultValue 300000 */
  graceMs?: number;
  /** Stop after this many messages. */
  limit?: number;
  /**
   * Read, validate and deduplicate the capture on a worker thread, pipelined with this thread's worker core
   * (src/replay/read-records.ts). Results are identical either way. `auto`: when a second core is idle (1-minute load
   * average ≤ cores − 1) and the input is large enough (≥ 16 MB) to pay for starting the thread. @defaultValue 'auto'
   */
  parseInWorker?: boolean | 'auto';
  /** The worker's tunables (windows, rate limits, cooldowns), as the live worker would be configured. */
  processOptions?: Partial<ProcessOptions>;
  /** Every message the primary models emitted, in order (write them out here). */
  onResults?: (messages: readonly Message[]) => void | Promise<void>;
  /** The same for the compared models. */
  onCompareResults?: (messages: readonly Message[]) => void | Promise<void>;
  onProgress?: (state: ProgressState) => void;
}

export interface SideResult {
  modelVersion: string;
  /** False when the model set had no behaviour model: detection metrics then say nothing about detection. */
  hasBehaviourModel: boolean;
  emitted: number;
  emittedByType: Partial<Record<MessageType, number>>;
  /** Records a model failed on (the live worker would dead-letter them). */
  failures: number;
  firstFailures: string[];
  position: PositionSummary;
  detection: DetectionSummary;
  /** Accumulators behind the summaries (samples for plots). */
  positionMetrics: PositionMetrics;
  detectionMetrics: DetectionMetrics;
}

export interface ReplayResult {
  input: string;
  capture: CaptureStats;
  badLines: number;
  firstErrors: BadLine[];
  /** Valid messages the worker does not consume (heartbeats, registrations, results sent by agents…), by type. */
  skipped: Partial<Record<MessageType, number>>;
  /** Repeats of an already replayed probe, calibration or event (the live worker's idempotency). */
  duplicates: number;
  /** Records handed to the worker. */
  records: number;
  calibrationPoints: number;
  batches: number;
  /** ISO 8601 span of the replayed messages. */
  firstTime: string | null;
  lastTime: string | null;
  /** Wall-clock seconds and input messages per second. */
  seconds: number;
  messagesPerSecond: number;
  walkMode: WalkMode;
  a: SideResult;
  b?: SideResult;
  comparison?: ComparisonSummary;
  compareMetrics?: CompareMetrics;
}

/** The live worker's default (RunnerOptions.stateIdleMs). */
const STATE_IDLE_MS = 24 * 3600_000;
const MAX_TRUST_ALERTS_KEPT = 100_000;

/** Ground truth known for the devices of one batch (calibration points). */
type BatchTruth = Map<string, TruthPoint>;

/** One model set's pass: its own worker state and metrics. */
class Side {
  readonly state: PartitionState = newPartitionState();
  readonly position = new PositionMetrics();
  readonly detection: DetectionMetrics;
  emitted = 0;
  readonly byType: Partial<Record<MessageType, number>> = {};
  failures = 0;
  batches = 0;
  readonly firstFailures: string[] = [];
  /** trustAlert messages, for the comparison of two versions (bounded like the detection's alerts). */
  readonly trustAlerts: TrustAlertMark[] = [];
  /** deviceId → location emitted in the current batch (for comparison). */
  lastLocations = new Map<string, { x: number; y: number; room?: string | undefined }>();

  constructor(
    readonly models: WorkerModels,
    readonly truth: GroundTruth,
    graceMs: number,
    private readonly processOptions: Partial<ProcessOptions>,
    private readonly sink: ((messages: readonly Message[]) => void | Promise<void>) | undefined,
  ) {
    this.detection = new DetectionMetrics(truth.windows, { graceMs });
  }

  async run(
    records: readonly IngestRecord[],
    now: number,
    batchTruth: BatchTruth,
    synthetic: boolean,
  ): Promise<void> {
    let out: BatchOutput;
    try {
      out = processBatch(this.state, records, this.models, now, { options: this.processOptions });
    } catch (error) {
      // processBatch isolates model failures per device; anything else is a worker bug: count it and go on.
      this.fail(records.length, `worker: ${(error as Error).message}`);
      return;
    }
    this.state.dirty.clear();
    for (const f of out.failures) this.fail(f.records.length, f.reason);
    this.lastLocations.clear();
    const kept: Message[] = [];
    for (const m of out.results) {
      const id = 'deviceId' in m.data ? m.data.deviceId : undefined;
      if (m.type === 'deviceUpdate') {
        const known = id === undefined ? undefined : batchTruth.get(id);
        if (m.data.location && id !== undefined) this.lastLocations.set(id, m.data.location);
        // A fix-mode walk point is reported as the walking device, and only its location (no per-point trust noise).
        if (id !== undefined && isSyntheticDevice(id)) m.data.deviceId = realDeviceId(id);
        this.observe(m, now, known);
      } else if (id !== undefined && isSyntheticDevice(id)) {
        continue;
      } else {
        this.observe(m, now, undefined);
      }
      kept.push(m);
    }
    if (synthetic) {
      for (const id of [...this.state.devices.keys()])
        if (isSyntheticDevice(id)) this.state.devices.delete(id);
    }
    // Like the live worker, forget devices idle for a day: memory follows the active devices, not the capture length.
    if (++this.batches % 1000 === 0) {
      for (const [id, d] of this.state.devices)
        if (now - d.lastSeenMs > STATE_IDLE_MS) this.state.devices.delete(id);
    }
    if (this.sink && kept.length > 0) await this.sink(kept);
  }

  private fail(n: number, reason: string): void {
    this.failures += n;
    if (this.firstFailures.length < 10) this.firstFailures.push(reason);
  }

  private observe(m: Message, now: number, known: TruthPoint | undefined): void {
    this.emitted += 1;
    this.byType[m.type] = (this.byType[m.type] ?? 0) + 1;
    if (m.type === 'deviceUpdate') this.observeUpdate(m, now, known);
    else if (m.type === 'mlScoreUpdate') {
      const s = m.data.scores.anomalyScore;
      if (s !== undefined) this.detection.addScore(m.data.deviceId, Date.parse(m.timestamp), s);
    } else if (m.type === 'trustAlert') {
      if (this.trustAlerts.length < MAX_TRUST_ALERTS_KEPT) {
        this.trustAlerts.push({
          deviceId: m.data.deviceId,
          t: Date.parse(m.timestamp),
          alertType: m.data.alertType,
        });
      }
    } else if (m.type === 'anomalyDetected') {
      this.detection.addAlert(
        {
          deviceId: m.data.deviceId,
          t: Date.parse(m.timestamp),
          anomalyType: m.data.anomalyType,
          ...(m.data.score === undefined ? {} : { score: m.data.score }),
        },
        m.data.threshold,
      );
    }
  }

  private observeUpdate(
    m: Message & { type: 'deviceUpdate' },
    now: number,
    known: TruthPoint | undefined,
  ): void {
    const loc = m.data.location;
    if (!loc) return;
    const t = Date.parse(m.timestamp) || now;
    const truth = known ?? truthAt(this.truth.positions.get(m.data.deviceId), t);
    this.position.add(m.data.deviceId, t, loc, truth);
  }

  result(): SideResult {
    return {
      modelVersion: this.models.version,
      hasBehaviourModel: this.models.behaviour !== null,
      emitted: this.emitted,
      emittedByType: this.byType,
      failures: this.failures,
      firstFailures: this.firstFailures,
      position: this.position.summary(),
      detection: this.detection.summary(),
      positionMetrics: this.position,
      detectionMetrics: this.detection,
    };
  }
}

/**
 * Inputs smaller than this are read on the replay thread even in `auto` mode: the thread costs 0.15–0.2 s to start
 * and reads ahead; on a 7 MB capture it was slower even with a core to spare.
 */
const PARSE_THREAD_MIN_BYTES = 16 << 20;

/**
 * `auto`: a second thread pays only when a core is idle to run it. On this 2-core machine at load ~4 (other work),
 * the thread was slower on every size (70 MB: 88–91k msg/s threaded vs 111–119k inline; 7 MB: 28–46k vs 59–77k), so
 * it is used only when the 1-minute load average leaves a whole core free.
 */
async function useParseThread(mode: boolean | 'auto', input: string): Promise<boolean> {
  if (mode !== 'auto') return mode;
  const cores = availableParallelism();
  if (cores < 2 || loadavg()[0] > cores - 1) return false;
  const size = await stat(input).then(
    (s) => s.size,
    () => 0,
  );
  return size >= PARSE_THREAD_MIN_BYTES;
}

/**
 * Replays a capture through the worker's own code (`processBatch`, src/ingest/process-batch.ts) with no socket,
 * queue or store: deterministic — time comes from the messages' timestamps, never from the clock, and batches are
 * cut on capture time — so the same capture and models always give the same results, at any speed.
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const truth = options.truth ?? emptyGroundTruth();
  const graceMs = options.graceMs ?? 300_000;
  const batchMs = options.batchMs ?? 1000;
  const maxBatch = options.maxBatch ?? 4096;
  const walkMode = options.walkMode ?? 'fix';
  const processOptions = options.processOptions ?? {};
  const a = new Side(options.models, truth, graceMs, processOptions, options.onResults);
  const b = options.compare
    ? new Side(options.compare, truth, graceMs, processOptions, options.onCompareResults)
    : undefined;
  const compare = b ? new CompareMetrics() : undefined;
  const pacer = new Pacer(options.speed ?? { kind: 'max' });
  const stats = emptyCaptureStats();
  const skipped: Partial<Record<MessageType, number>> = {};

  let batch: IngestRecord[] = [];
  let batchTruth: BatchTruth = new Map();
  let batchSynthetic = false;
  let bucket = Number.NEGATIVE_INFINITY;
  let now = Number.NEGATIVE_INFINITY;
  let first: number | null = null;
  let records = 0;
  let calibrationPoints = 0;
  let batches = 0;
  let consumed = 0;
  let duplicates = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    await pacer.waitFor(now);
    batches += 1;
    await a.run(batch, now, batchTruth, batchSynthetic);
    if (b) {
      await b.run(batch, now, batchTruth, batchSynthetic);
      for (const [deviceId, la] of a.lastLocations) {
        const lb = b.lastLocations.get(deviceId);
        if (lb) compare!.addPair(la, lb);
        else compare!.onlyA += 1;
      }
      for (const deviceId of b.lastLocations.keys()) if (!a.lastLocations.has(deviceId)) compare!.onlyB += 1;
    }
    a.detection.observeTime(now);
    b?.detection.observeTime(now);
    batch = [];
    batchTruth = new Map();
    batchSynthetic = false;
  };

  const progress = () =>
    options.onProgress?.({
      bytesRead: stats.bytesRead,
      totalBytes: stats.totalBytes,
      messages: stats.messages,
      badLines: stats.badLines,
      emitted: a.emitted,
    });

  const parallel = await useParseThread(options.parseInWorker ?? 'auto', options.input);
  const readOptions = {
    // Small batches keep few parsed messages alive at once (cheaper garbage collection); the thread sends larger ones
    // to amortise each hand-over.
    batchSize: parallel ? 1024 : 512,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const reader = parallel
    ? readRecordsParallel(options.input, stats, readOptions)
    : readRecords(options.input, stats, readOptions);
  for await (const chunk of reader) {
    consumed += chunk.messages;
    duplicates += chunk.duplicates;
    for (const type in chunk.skipped) {
      const k = type as MessageType;
      skipped[k] = (skipped[k] ?? 0) + chunk.skipped[k]!;
    }
    for (const record of chunk.records) {
      const t = record.receivedAt;
      const tb = Math.floor(t / batchMs);
      // Out-of-order timestamps (several agents' clocks) never move time backwards.
      if (tb > bucket || batch.length >= maxBatch) {
        await flush();
        bucket = Math.max(bucket, tb);
      }
      if (t > now) now = t;
      if (first === null) first = t;
      records += 1;
      batch.push(record);
      const message = record.message;
      if (message.type === 'pingCalibration') {
        calibrationPoints += 1;
        const walk = probesOfCalibration(message, walkMode, t);
        batch.push(...walk.records);
        if (walkMode === 'fix') batchSynthetic = true;
        batchTruth.set(walk.deviceId, walk.truth);
      }
    }
    progress();
  }
  await flush();
  progress();

  const seconds = (performance.now() - started) / 1000;
  const result: ReplayResult = {
    input: options.input,
    capture: stats,
    badLines: stats.badLines,
    firstErrors: stats.firstErrors,
    skipped,
    duplicates,
    records,
    calibrationPoints,
    batches,
    firstTime: first === null ? null : new Date(first).toISOString(),
    lastTime: Number.isFinite(now) ? new Date(now).toISOString() : null,
    seconds,
    messagesPerSecond: consumed / Math.max(seconds, 1e-9),
    walkMode,
    a: a.result(),
  };
  if (b && compare) {
    result.b = b.result();
    result.comparison = compare.summary(a.detection.alerts, b.detection.alerts, a.trustAlerts, b.trustAlerts);
    result.compareMetrics = compare;
  }
  return result;
}
