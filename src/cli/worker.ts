import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { z } from 'zod';
import { type RunningWorker, startWorker, type WorkerProcessOptions } from '../ingest/open-pipeline.js';
import type { PipelineTuning } from '../ingest/pipeline-tuning.js';
import { CALIBRATION_FILE } from '../store/calibration-log.js';
import { readRedisCalibrations } from '../store/redis-ingest-store.js';
import { redisKeys } from '../store/redis-keys.js';
import { type Command, parseFlags, UsageError } from './command.js';
import { parseDuration } from './duration.js';

const USAGE = `usage: sbp worker --redis URL [options]

Consumes the probe streams from Redis (BullMQ), runs the models, stores calibration samples, the device registry
and trust decisions in Redis, and publishes results to every hub. Run as many as you like: they share the work
(each partition of devices is consumed by one worker at a time; a crashed worker's share moves to the others).
Without Redis there is nothing to run: the hub processes probes in its own process (embedded mode).
Prints "worker <id> ready" when running. SIGINT/SIGTERM hand its partitions over cleanly.

options:
  --redis URL              Redis to work on (or REDIS_URL)                          (required)
  --model-dir DIR          model directory: loads the version LATEST names, and the next one when it is published
  --retrain-every D        retrain the anomaly model from recent history every D (24h, 7d, off); one worker of the
                           deployment does it at a time                              (default 24h; needs --model-dir)
  --data-dir DIR           also append the calibration samples this worker stores to DIR/${CALIBRATION_FILE}
  --concurrency N          partitions this worker consumes at most                 (default: its fair share)
  --prefix P               Redis key prefix of the deployment                      (default sbp)
  --partitions N           partition count, for the first process of a new deployment (default 8)
  --metrics-port N         serve Prometheus metrics at http://127.0.0.1:N/metrics   (default off)
  --lease-ms N             partition lease; a crashed worker's share moves after ~N ms (default 10000)
  --lock-ms N              job lock; a crashed worker's job is redelivered after ~N ms (default 10000)
  --checkpoint-ms N        how often device states are checkpointed                 (default 5000)
  --export-calibrations FILE  write every stored calibration sample to FILE (JSONL, the format of sbp train) and exit
  --log-level L            fatal|error|warn|info|debug|trace|silent (logs go to stderr) (default info)

See docs/pipeline.md.`;

const OPTIONS = {
  redis: { type: 'string' },
  'model-dir': { type: 'string' },
  'retrain-every': { type: 'string' },
  'data-dir': { type: 'string' },
  concurrency: { type: 'string' },
  prefix: { type: 'string' },
  partitions: { type: 'string' },
  'metrics-port': { type: 'string' },
  'lease-ms': { type: 'string' },
  'lock-ms': { type: 'string' },
  'checkpoint-ms': { type: 'string' },
  'export-calibrations': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const positiveInt = (flag: string) =>
  z.coerce
    .number({ message: `--${flag} must be a number` })
    .int(`--${flag} must be an integer`)
    .positive(`--${flag} must be positive`);

const WorkerConfig = z.object({
  redis: z.string().regex(/^rediss?:\/\//, '--redis must be a redis:// or rediss:// URL'),
  modelDir: z.string().min(1).optional(),
  retrainEveryMs: z.number().int().min(0),
  dataDir: z.string().min(1).optional(),
  concurrency: positiveInt('concurrency').optional(),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, '--prefix: 1-64 of A-Z a-z 0-9 _ . : -')
    .optional(),
  partitions: positiveInt('partitions').max(1024).optional(),
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
  leaseMs: positiveInt('lease-ms').min(200).optional(),
  lockMs: positiveInt('lock-ms').min(200).optional(),
  checkpointMs: positiveInt('checkpoint-ms').optional(),
  exportCalibrations: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
type WorkerConfig = z.infer<typeof WorkerConfig>;

function parseConfig(argv: string[]): WorkerConfig {
  const values: Record<string, string | undefined> = parseFlags(argv, OPTIONS);
  const redis = values.redis ?? process.env.REDIS_URL;
  if (redis === undefined) {
    throw new UsageError(
      'needs Redis: --redis URL or REDIS_URL (without Redis, the hub runs its worker in its own process)',
    );
  }
  const parsed = WorkerConfig.safeParse({
    redis,
    modelDir: values['model-dir'],
    retrainEveryMs: parseDuration('retrain-every', values['retrain-every'] ?? '24h'),
    dataDir: values['data-dir'],
    concurrency: values.concurrency,
    prefix: values.prefix,
    partitions: values.partitions,
    metricsPort: values['metrics-port'],
    leaseMs: values['lease-ms'],
    lockMs: values['lock-ms'],
    checkpointMs: values['checkpoint-ms'],
    exportCalibrations: values['export-calibrations'],
    logLevel: values['log-level'],
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? 'invalid options');
  return Object.freeze(parsed.data);
}

/** The URL without its password, for printing. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

async function exportCalibrations(config: WorkerConfig, file: string): Promise<number> {
  const redis = new Redis(config.redis, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  await mkdir(dirname(file), { recursive: true });
  const out = createWriteStream(file);
  let n = 0;
  try {
    for await (const message of readRedisCalibrations(redis, redisKeys(config.prefix))) {
      if (!out.write(`${JSON.stringify(message)}\n`))
        await new Promise<void>((r) => out.once('drain', () => r()));
      n += 1;
    }
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
    redis.disconnect();
  }
  console.log(`wrote ${n} calibration samples to ${file}`);
  return 0;
}

function serveMetrics(registry: Registry, port: number, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        log.error({ err }, 'metrics failed');
        res.writeHead(500).end();
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function run(argv: string[]): Promise<number> {
  const config = parseConfig(argv);
  if (config.exportCalibrations !== undefined) return exportCalibrations(config, config.exportCalibrations);

  const log = pino({ level: config.logLevel }, pino.destination(2));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const tuning: PipelineTuning = {};
  if (config.partitions !== undefined) tuning.partitions = config.partitions;
  if (config.concurrency !== undefined) tuning.workerCapacity = config.concurrency;
  if (config.leaseMs !== undefined) tuning.leaseMs = config.leaseMs;
  if (config.lockMs !== undefined) {
    tuning.lockDurationMs = config.lockMs;
    tuning.stalledIntervalMs = Math.max(100, Math.floor(config.lockMs / 2));
  }
  if (config.checkpointMs !== undefined) tuning.checkpointIntervalMs = config.checkpointMs;
  if (config.retrainEveryMs > 0) tuning.anomaly = { retrainEveryMs: config.retrainEveryMs };
  const options: WorkerProcessOptions = { redisUrl: config.redis, logger: log, metrics: registry, tuning };
  if (config.prefix !== undefined) options.prefix = config.prefix;
  if (config.modelDir !== undefined) options.modelDir = config.modelDir;
  if (config.dataDir !== undefined) options.calibrationMirror = join(config.dataDir, CALIBRATION_FILE);

  let worker: RunningWorker;
  try {
    worker = await startWorker(options);
  } catch (error) {
    console.error(`sbp worker: cannot start: ${(error as Error).message}`);
    return 1;
  }
  let metricsServer: Server | null = null;
  if (config.metricsPort !== undefined) {
    try {
      metricsServer = await serveMetrics(registry, config.metricsPort, log);
    } catch (error) {
      console.error(`sbp worker: cannot serve metrics: ${(error as Error).message}`);
      await worker.stop();
      return 1;
    }
  }
  const address = metricsServer?.address();
  const metricsNote = address && typeof address === 'object' ? `, metrics on :${address.port}/metrics` : '';
  console.log(
    `worker ${worker.worker.id} ready: ${safeUrl(config.redis)}, prefix ${config.prefix ?? 'sbp'}, models ${worker.models.current().version}${metricsNote}`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'handing partitions over and stopping');
      setTimeout(() => {
        console.error('sbp worker: shutdown took over 30 s; exiting');
        process.exit(1);
      }, 30_000).unref();
      void (async () => {
        let code = 0;
        try {
          await worker.stop();
        } catch (error) {
          code = 1;
          log.error({ err: error }, 'stopping the worker failed');
        }
        metricsServer?.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(code);
        // A stray handle must not keep a stopped worker alive.
        setTimeout(() => process.exit(code), 2000).unref();
      })();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const command: Command = {
  name: 'worker',
  summary: 'consume probe streams, run the models, publish results',
  usage: USAGE,
  run,
};
