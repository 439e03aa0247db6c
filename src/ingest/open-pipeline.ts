import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AnomalyFeedbackStore } from '../store/anomaly-feedback-store.js';
import { CalibrationLog } from '../store/calibration-log.js';
import type { IngestStore, StoredDeadLetter } from '../store/ingest-store.js';
import { uniqueById } from '../store/ingest-store.js';
import { LmdbAnomalyFeedbackStore } from '../store/lmdb-anomaly-feedback-store.js';
import { LmdbIngestStore } from '../store/lmdb-ingest-store.js';
import { RedisAnomalyFeedbackStore } from '../store/redis-anomaly-feedback-store.js';
import { RedisIngestStore } from '../store/redis-ingest-store.js';
import { type RedisKeys, redisKeys } from '../store/redis-keys.js';
import { AnomalyRuntime } from './anomaly-runtime.js';
import { BatchingSink } from './batching-sink.js';
import { BullmqIngestQueue } from './bullmq-queue.js';
import { IngestWorker } from './ingest-worker.js';
import { MemoryIngestQueue } from './memory-queue.js';
import { MemoryResultsBus } from './memory-results-bus.js';
import { type IngestMetrics, ingestMetrics } from './metrics.js';
import { ModelProvider, type ModelProviderOptions, type ModelSetLoader } from './model-provider.js';
import { DEFAULT_PARTITIONS } from './partition.js';
import { LeaseOwnership, StaticOwnership } from './partition-ownership.js';
import type { RunnerOptions } from './partition-runner.js';
import { truncatePayload } from './partition-runner.js';
import type { DeadLetter, Pipeline, PipelineOptions } from './pipeline.js';
import type { PipelineTuning } from './pipeline-tuning.js';
import type { IngestQueue } from './queue.js';
import { closeRedis, openRedis, whenReady } from './redis-connections.js';
import { RedisResultsBus } from './redis-results-bus.js';
import type { ResultsBus } from './results-bus.js';
import type { WorkerModels } from './worker-models.js';

/** What `openPipeline` returns: the hub's `Pipeline`, plus handles for the demo, tools and tests. */
export interface OpenedPipeline extends Pipeline {
  readonly sink: BatchingSink;
  readonly queue: IngestQueue;
  readonly store: IngestStore;
  /** The worker running in this process, if any. */
  readonly worker: IngestWorker | null;
  /** The models that worker uses now, feedback applied (null without a worker). */
  models(): WorkerModels | null;
  /** Alerts, verdicts and scored windows of the deployment (the hub's feedback API, docs/anomaly.md). */
  readonly anomalies: AnomalyFeedbackStore;
  /** Resolves when every record offered so far has been processed by the in-process worker (embedded only). */
  drain(timeoutMs?: number): Promise<void>;
}

/** Extra hooks, not part of the hub's PipelineOptions (tests, benchmarks, the demo). */
export interface PipelineHooks {
  /** Loads a model version directory; default `loadModelSet`. */
  loadModels?: ModelSetLoader;
  /** Called after each committed batch by the in-process worker. */
  onCommitted?: RunnerOptions['onCommitted'];
  /** Worker id on Redis (default host:pid:random). */
  workerId?: string;
  /** The worker's clock, epoch ms (default Date.now): a simulation or a demo may run on its own time. */
  clock?: () => number;
}

function defaultLogger(): Logger {
  return pino({ name: 'sbp-pipeline', level: 'info' }, pino.destination(2));
}

/**
 * Builds the ingestion side for a hub process. Without `redisUrl` (embedded, the default): in-process queue and
 * results bus, lmdb store in `dataDir`, and a worker in this process. With `redisUrl`: BullMQ queues, Redis pub/sub,
 * Redis store, plus a worker in this process when `embeddedWorker` is true.
 */
export async function openPipeline(
  options: PipelineOptions,
  hooks: PipelineHooks = {},
): Promise<OpenedPipeline> {
  const logger = options.logger ?? defaultLogger();
  const metrics = options.metrics ? ingestMetrics(options.metrics) : null;
  return options.redisUrl === undefined
    ? openEmbedded(options, hooks, logger, metrics)
    : openDistributed(options, options.redisUrl, hooks, logger, metrics);
}

async function openEmbedded(
  options: PipelineOptions,
  hooks: PipelineHooks,
  logger: Logger,
  metrics: IngestMetrics | null,
): Promise<OpenedPipeline> {
  const tuning = options.tuning ?? {};
  const bus = new MemoryResultsBus(logger);
  const storeOptions: ConstructorParameters<typeof LmdbIngestStore>[0] = {
    dataDir: options.dataDir,
    publish: (messages) => bus.deliver(messages),
  };
  if (tuning.seenTtlMs !== undefined) storeOptions.seenTtlMs = tuning.seenTtlMs;
  const store = new LmdbIngestStore(storeOptions);
  const queueOptions: ConstructorParameters<typeof MemoryIngestQueue>[0] = {
    partitions: 1,
    logger,
    onFailed: (job, error) => {
      metrics?.deadLetters.inc({ kind: 'job' });
      void store
        .addDeadLetter({
          id: `memory:${job.id}`,
          reason: error.message,
          failedAt: new Date().toISOString(),
          attempts: job.attempt,
          payload: truncatePayload(job.payload ?? job.records?.map((r) => r.message)),
        })
        .catch((err: unknown) => logger.error({ err }, 'cannot store dead letter'));
    },
  };
  if (tuning.memoryQueueCapacity !== undefined) queueOptions.capacity = tuning.memoryQueueCapacity;
  const queue = new MemoryIngestQueue(queueOptions);
  // In process a full queue frees up within milliseconds: retry soon.
  const sink = new BatchingSink(queue, logger, metrics, {
    lingerMs: 0,
    retryMinMs: 2,
    retryMaxMs: 50,
    ...tuning.sink,
  });
  const provider = await openModels(options, tuning, hooks, logger, metrics);
  const anomalies = new LmdbAnomalyFeedbackStore(options.dataDir);
  const anomaly = await startAnomaly(anomalies, options, tuning, hooks.workerId ?? 'embedded', logger);
  const models = anomaly.models(() => provider.current());
  const worker = new IngestWorker({
    id: hooks.workerId ?? 'embedded',
    queue,
    store,
    ownership: new StaticOwnership(queue.partitions, logger),
    models,
    logger,
    metrics,
    changelog: false,
    ...workerTuning(tuning, hooks, anomaly),
  });
  await worker.start();
  const depthTimer = metrics ? startDepthGauge(queue, sink, metrics) : null;
  let closing: Promise<void> | null = null;
  const drain = async (timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    await sink.flush();
    while ((await queue.depth()) > 0) {
      if (Date.now() > until) throw new Error(`in-process queue not drained after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    mode: 'embedded',
    sink,
    results: bus,
    registry: store.registry,
    queue,
    store,
    worker,
    models,
    anomalies,
    drain,
    deadLetters: (limit) => store.deadLetters(limit),
    close() {
      closing ??= closeAll(logger, [
        ['sink', () => sink.close()],
        ['queue drain', () => drain(10_000)],
        ['worker', () => worker.stop()],
        ['queue', () => queue.close()],
        ['models', async () => provider.close()],
        ['anomaly', () => anomaly.close()],
        ['anomaly store', () => anomalies.close()],
        ['depth gauge', async () => depthTimer && clearInterval(depthTimer)],
        ['store', () => store.close()],
        ['results bus', () => bus.close()],
      ]);
      return closing;
    },
  };
}

async function openDistributed(
  options: PipelineOptions,
  url: string,
  hooks: PipelineHooks,
  logger: Logger,
  metrics: IngestMetrics | null,
): Promise<OpenedPipeline> {
  const tuning = options.tuning ?? {};
  const keys = redisKeys(options.prefix);
  const producer = openRedis(url, 'producer', logger);
  const partitions = await agreePartitions(producer, keys, tuning.partitions, logger);
  const store = new RedisIngestStore(producer, keys, storeOptions(tuning));
  const queue = new BullmqIngestQueue({ keys, partitions, producer, logger, ...queueTuning(tuning) });
  const bus = new RedisResultsBus(producer, () => openRedis(url, 'subscriber', logger), keys, logger);
  const sink = new BatchingSink(queue, logger, metrics, tuning.sink ?? {});
  let worker: RunningWorker | null = null;
  if (options.embeddedWorker) {
    const workerOptions: WorkerProcessOptions = { redisUrl: url, logger, tuning };
    if (options.prefix !== undefined) workerOptions.prefix = options.prefix;
    if (options.modelDir !== undefined) workerOptions.modelDir = options.modelDir;
    if (options.metrics !== undefined) workerOptions.metrics = options.metrics;
    worker = await startWorker(workerOptions, hooks);
  }
  const depthTimer = metrics ? startDepthGauge(queue, sink, metrics) : null;
  let closing: Promise<void> | null = null;
  return {
    mode: 'redis',
    sink,
    results: bus,
    registry: store.registry,
    queue,
    store,
    worker: worker?.worker ?? null,
    models: () => worker?.liveModels() ?? null,
    anomalies: new RedisAnomalyFeedbackStore(producer, keys.prefix),
    drain: async () => {
      await sink.flush();
    },
    deadLetters: (limit = 100) => readDeadLetters(store, queue, keys, limit),
    close() {
      closing ??= closeAll(logger, [
        ['sink', () => sink.close()],
        ['worker', async () => worker?.stop()],
        ['results bus', () => bus.close()],
        ['queue', () => queue.close()],
        ['depth gauge', async () => depthTimer && clearInterval(depthTimer)],
        ['redis', () => closeRedis(producer)],
      ]);
      return closing;
    },
  };
}

export interface WorkerProcessOptions {
  redisUrl: string;
  prefix?: string;
  modelDir?: string;
  metrics?: Registry;
  logger?: Logger;
  tuning?: PipelineTuning;
  /** Also append the calibration samples this worker stores to this JSONL file (the Redis stream is the full set). */
  calibrationMirror?: string;
}

export interface RunningWorker {
  readonly worker: IngestWorker;
  readonly models: ModelProvider;
  /** Feedback, the alert and window log, scheduled retraining. */
  readonly anomaly: AnomalyRuntime;
  /** The models in use, feedback applied. */
  liveModels(): WorkerModels;
  readonly store: RedisIngestStore;
  stop(): Promise<void>;
}

/**
 * A worker on Redis (what `sbp worker` runs, and a hub's embedded worker in distributed mode): leases its share of
 * the partitions, consumes them, and hands them over on stop.
 */
export async function startWorker(
  options: WorkerProcessOptions,
  hooks: PipelineHooks = {},
): Promise<RunningWorker> {
  const logger = options.logger ?? defaultLogger();
  const tuning = options.tuning ?? {};
  const metrics = options.metrics ? ingestMetrics(options.metrics) : null;
  const keys = redisKeys(options.prefix);
  const consumer = openRedis(options.redisUrl, 'consumer', logger);
  const lease = openRedis(options.redisUrl, 'lease', logger);
  const partitions = await agreePartitions(consumer, keys, tuning.partitions, logger);
  const sOptions = storeOptions(tuning);
  if (options.calibrationMirror !== undefined)
    sOptions.calibrationMirror = new CalibrationLog(options.calibrationMirror);
  const store = new RedisIngestStore(consumer, keys, sOptions);
  const queue = new BullmqIngestQueue({
    keys,
    partitions,
    consumer,
    logger,
    ...queueTuning(tuning),
    onFailed: (job, reason) => {
      metrics?.deadLetters.inc({ kind: 'job' });
      void store.addDeadLetter(jobDeadLetter(job, reason)).catch((err: unknown) => {
        logger.error({ err }, 'cannot store dead letter');
      });
    },
  });
  const provider = await openModels(options, tuning, hooks, logger, metrics);
  const workerId = hooks.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const anomalies = new RedisAnomalyFeedbackStore(consumer, keys.prefix);
  const anomaly = await startAnomaly(anomalies, options, tuning, workerId, logger);
  const models = anomaly.models(() => provider.current());
  const leaseOptions: ConstructorParameters<typeof LeaseOwnership>[5] = {};
  if (tuning.leaseMs !== undefined) leaseOptions.leaseMs = tuning.leaseMs;
  if (tuning.workerCapacity !== undefined) leaseOptions.capacity = tuning.workerCapacity;
  const ownership = new LeaseOwnership(lease, keys, workerId, partitions, logger, leaseOptions);
  const worker = new IngestWorker({
    id: workerId,
    queue,
    store,
    ownership,
    models,
    logger: logger.child({ workerId }),
    metrics,
    changelog: true,
    ...workerTuning(tuning, hooks, anomaly),
  });
  await worker.start();
  let stopping: Promise<void> | null = null;
  return {
    worker,
    models: provider,
    anomaly,
    liveModels: models,
    store,
    stop() {
      stopping ??= closeAll(logger, [
        ['worker', () => worker.stop()],
        ['queue', () => queue.close()],
        ['models', async () => provider.close()],
        ['anomaly', () => anomaly.close()],
        ['redis', async () => Promise.all([closeRedis(consumer), closeRedis(lease)]).then(() => undefined)],
      ]);
      return stopping;
    },
  };
}

function storeOptions(tuning: PipelineTuning): ConstructorParameters<typeof RedisIngestStore>[2] & object {
  const o: NonNullable<ConstructorParameters<typeof RedisIngestStore>[2]> = {};
  if (tuning.seenTtlMs !== undefined) o.seenTtlMs = tuning.seenTtlMs;
  return o;
}

function queueTuning(tuning: PipelineTuning): { lockDurationMs?: number; stalledIntervalMs?: number } {
  const o: { lockDurationMs?: number; stalledIntervalMs?: number } = {};
  if (tuning.lockDurationMs !== undefined) o.lockDurationMs = tuning.lockDurationMs;
  if (tuning.stalledIntervalMs !== undefined) o.stalledIntervalMs = tuning.stalledIntervalMs;
  return o;
}

function workerTuning(
  tuning: PipelineTuning,
  hooks: PipelineHooks,
  anomaly: AnomalyRuntime,
): Pick<
  ConstructorParameters<typeof IngestWorker>[0],
  'processOptions' | 'checkpointIntervalMs' | 'validateResults' | 'onCommitted' | 'clock'
> {
  const o: ReturnType<typeof workerTuning> = {};
  o.processOptions = anomaly.processOptions(tuning.process);
  if (tuning.checkpointIntervalMs !== undefined) o.checkpointIntervalMs = tuning.checkpointIntervalMs;
  if (tuning.validateResults !== undefined) o.validateResults = tuning.validateResults;
  if (hooks.onCommitted !== undefined) o.onCommitted = hooks.onCommitted;
  if (hooks.clock !== undefined) o.clock = hooks.clock;
  return o;
}

/** The worker's anomaly side: alert and window log, feedback on its live thresholds, scheduled retraining. */
function startAnomaly(
  store: AnomalyFeedbackStore,
  options: { modelDir?: string },
  tuning: PipelineTuning,
  owner: string,
  logger: Logger,
): Promise<AnomalyRuntime> {
  return AnomalyRuntime.start({
    store,
    logger,
    owner,
    ...(options.modelDir === undefined ? {} : { modelDir: options.modelDir }),
    ...(tuning.anomaly === undefined ? {} : { tuning: tuning.anomaly }),
  });
}

async function openModels(
  options: { modelDir?: string },
  tuning: PipelineTuning,
  hooks: PipelineHooks,
  logger: Logger,
  metrics: IngestMetrics | null,
): Promise<ModelProvider> {
  let shown: string | null = null;
  const providerOptions: ModelProviderOptions = {
    logger,
    onChange: (models) => {
      if (!metrics) return;
      if (shown !== null) metrics.modelVersion.set({ version: shown }, 0);
      metrics.modelVersion.set({ version: models.version }, 1);
      shown = models.version;
    },
  };
  if (options.modelDir !== undefined) providerOptions.modelDir = options.modelDir;
  if (hooks.loadModels !== undefined) providerOptions.load = hooks.loadModels;
  if (tuning.modelPollMs !== undefined) providerOptions.pollMs = tuning.modelPollMs;
  return ModelProvider.open(providerOptions);
}

/**
 * The partition count must be the same for every hub and worker (a device must always map to the same queue).
 * The first process to reach Redis stores it; the others adopt it.
 */
async function agreePartitions(
  redis: Redis,
  keys: RedisKeys,
  requested: number | undefined,
  logger: Logger,
): Promise<number> {
  const wanted = requested ?? DEFAULT_PARTITIONS;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 1024) {
    throw new Error(`partitions must be an integer in 1..1024, got ${wanted}`);
  }
  if (!(await whenReady(redis, 5000))) {
    logger.warn({ partitions: wanted }, 'Redis not reachable yet; assuming the partition count');
    return wanted;
  }
  await redis.hsetnx(keys.config, 'partitions', String(wanted));
  const stored = Number(await redis.hget(keys.config, 'partitions'));
  if (stored !== wanted) {
    if (requested !== undefined) {
      throw new Error(
        `this deployment uses ${stored} partitions (stored in Redis at ${keys.config}); cannot run with ${requested}`,
      );
    }
    logger.info({ partitions: stored }, 'using the partition count stored in Redis');
  }
  return stored;
}

function jobDeadLetter(job: Job, reason: string): StoredDeadLetter {
  return {
    id: `${job.queueName}:${job.id}`,
    reason,
    failedAt: new Date(job.finishedOn ?? Date.now()).toISOString(),
    attempts: job.attemptsStarted,
    payload: truncatePayload(job.data),
  };
}

async function readDeadLetters(
  store: RedisIngestStore,
  queue: BullmqIngestQueue,
  _keys: RedisKeys,
  limit: number,
): Promise<DeadLetter[]> {
  const [stored, failed] = await Promise.all([store.deadLetters(limit), queue.failedJobs(limit)]);
  const fromQueue = failed.map((job) => jobDeadLetter(job, job.failedReason ?? 'failed'));
  return uniqueById([...stored, ...fromQueue].sort((a, b) => b.failedAt.localeCompare(a.failedAt))).slice(
    0,
    limit,
  );
}

function startDepthGauge(queue: IngestQueue, sink: BatchingSink, metrics: IngestMetrics): NodeJS.Timeout {
  const timer = setInterval(() => {
    metrics.buffered.set(sink.bufferedRecords);
    queue.depth().then(
      (n) => metrics.queueDepth.set(n),
      () => undefined,
    );
  }, 1000);
  timer.unref();
  return timer;
}

async function closeAll(logger: Logger, steps: Array<[string, () => Promise<unknown>]>): Promise<void> {
  // Every step runs even when an earlier one failed.
  let first: unknown = null;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      logger.error({ err }, `closing ${name} failed`);
      first ??= err;
    }
  }
  if (first !== null) throw first;
}

export type { ResultsBus };
