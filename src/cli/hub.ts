import { readFileSync } from 'node:fs';
import { type Logger, pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ZodError } from 'zod';
import { anomalyPlugin } from '../hub/anomaly-routes.js';
import { buildHub, type Hub } from '../hub/build-hub.js';
import { dashboardPlugin } from '../hub/dashboard/dashboard-plugin.js';
import { type HubConfigInput, parseHubConfig, TokenFile } from '../hub/hub-config.js';
import { type OpenedPipeline, openPipeline } from '../ingest/open-pipeline.js';
import type { PipelineOptions } from '../ingest/pipeline.js';
import { type Command, parseFlags, UsageError } from './command.js';
import { parseDuration } from './duration.js';

const USAGE = `usage: sbp hub --tokens FILE [options]

Serves the WebSocket hub at /ws, the REST API (/health, /api/*, /metrics) and the dashboard at / (docs/dashboard.md).
Prints one line, "listening on ws://HOST:PORT/ws", when ready. SIGINT/SIGTERM shut it down cleanly.

options:
  --port N                 TCP port, 0 = a free one                          (default 8080)
  --host H                 interface to listen on                            (default 127.0.0.1)
  --tokens FILE            {"agents": {"<agentId>": "<token>"}, "viewers": ["<token>"]}
                           (or the same JSON in the SBP_TOKENS environment variable)
  --capture FILE           append every accepted message to FILE as JSON lines
  --capture-max-bytes N    rotate FILE → FILE.1 → FILE.2 … above N bytes, 0 = never (default 268435456)
  --capture-max-files N    rotated files kept, 0 = all                       (default 0)
  --capture-flush-ms N     write buffered capture lines at least every N ms  (default 200)
  --rate-limit N           messages per minute per agent                     (default 100)
  --heartbeat-timeout S    close an agent connection silent for S seconds    (default 90)
  --tls-cert FILE          serve wss:// and https:// with this PEM certificate…
  --tls-key FILE           …and this PEM key
  --redis URL              distributed mode: queues, results and registry on Redis (or REDIS_URL)
  --prefix P               Redis key prefix of the deployment (with --redis)  (default sbp)
  --data-dir DIR           embedded storage (device registry, calibration samples) (default .sbp-data)
  --model-dir DIR          model directory the embedded worker loads
  --retrain-every D        embedded worker: retrain the anomaly model from recent history every D (24h, 7d, off)
                           (default 24h; needs --model-dir)
  --site FILE              site.json the dashboard draws (default: the live model's site)
  --hub-id ID              this hub's id in ingest records                   (default hub-<random>)
  --log-level L            fatal|error|warn|info|debug|trace|silent (logs go to stderr) (default info)

See docs/hub.md.`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  tokens: { type: 'string' },
  capture: { type: 'string' },
  'capture-max-bytes': { type: 'string' },
  'capture-max-files': { type: 'string' },
  'capture-flush-ms': { type: 'string' },
  'rate-limit': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  redis: { type: 'string' },
  prefix: { type: 'string' },
  'data-dir': { type: 'string' },
  'model-dir': { type: 'string' },
  'retrain-every': { type: 'string' },
  site: { type: 'string' },
  'hub-id': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const REDIS_PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${flag} must be a number, got "${value}"`);
  return n;
}

function readTokens(file: string | undefined): TokenFile {
  let text: string;
  let source: string;
  if (file !== undefined) {
    source = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --tokens ${file}: ${(error as Error).message}`);
    }
  } else if (process.env.SBP_TOKENS !== undefined && process.env.SBP_TOKENS !== '') {
    source = 'SBP_TOKENS';
    text = process.env.SBP_TOKENS;
  } else {
    throw new UsageError('--tokens FILE (or the SBP_TOKENS environment variable) is required');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON: ${(error as Error).message}`);
  }
  const parsed = TokenFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // Say where, never echo a token.
    throw new UsageError(`${source}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function configFrom(values: Record<string, string | undefined>, tokens: TokenFile): HubConfigInput {
  const config: HubConfigInput = { tokens };
  if (values.host !== undefined) config.host = values.host;
  const port = number('port', values.port);
  if (port !== undefined) config.port = port;
  if (values['hub-id'] !== undefined) config.hubId = values['hub-id'];
  const rate = number('rate-limit', values['rate-limit']);
  if (rate !== undefined) config.rateLimit = { messagesPerMinute: rate };
  const heartbeat = number('heartbeat-timeout', values['heartbeat-timeout']);
  if (heartbeat !== undefined) config.heartbeatTimeoutMs = Math.round(heartbeat * 1000);
  if (values.capture !== undefined) {
    const capture: NonNullable<HubConfigInput['capture']> = { file: values.capture };
    const maxBytes = number('capture-max-bytes', values['capture-max-bytes']);
    if (maxBytes !== undefined) capture.maxBytes = maxBytes;
    const maxFiles = number('capture-max-files', values['capture-max-files']);
    if (maxFiles !== undefined) capture.maxFiles = maxFiles;
    const flushMs = number('capture-flush-ms', values['capture-flush-ms']);
    if (flushMs !== undefined) capture.flushIntervalMs = flushMs;
    config.capture = capture;
  } else if (Object.keys(values).some((k) => k.startsWith('capture-') && values[k] !== undefined)) {
    throw new UsageError(
      '--capture-max-bytes, --capture-max-files and --capture-flush-ms need --capture FILE',
    );
  }
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  if (cert !== undefined && key !== undefined) config.tls = { cert, key };
  if (values['log-level'] !== undefined) config.logLevel = values['log-level'] as HubConfigInput['logLevel'];
  return config;
}

const FLAG_OF: Record<string, string> = {
  heartbeatTimeoutMs: 'heartbeat-timeout',
  rateLimit: 'rate-limit',
  hubId: 'hub-id',
  logLevel: 'log-level',
  capture: 'capture',
  tls: 'tls-cert',
};

async function run(argv: string[]): Promise<number> {
  const values: Record<string, string | undefined> = parseFlags(argv, OPTIONS);
  const tokens = readTokens(values.tokens);
  let config: ReturnType<typeof parseHubConfig>;
  try {
    config = parseHubConfig(configFrom(values, tokens));
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    const issue = error.issues[0];
    const top = String(issue?.path[0] ?? '');
    throw new UsageError(`--${FLAG_OF[top] ?? top}: ${issue?.message ?? 'invalid value'}`);
  }

  const log: Logger = pino({ level: config.logLevel }, pino.destination(2));
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const redisUrl = values.redis ?? process.env.REDIS_URL;

  const options: PipelineOptions = {
    dataDir: values['data-dir'] ?? '.sbp-data',
    embeddedWorker: redisUrl === undefined,
    metrics,
    logger: log,
  };
  if (redisUrl !== undefined) options.redisUrl = redisUrl;
  if (values.prefix !== undefined) {
    if (!REDIS_PREFIX.test(values.prefix)) throw new UsageError('--prefix: 1-64 of A-Z a-z 0-9 _ . : -');
    if (redisUrl === undefined) throw new UsageError('--prefix needs --redis URL (or REDIS_URL)');
    options.prefix = values.prefix;
  }
  if (values['model-dir'] !== undefined) options.modelDir = values['model-dir'];
  const retrainEveryMs = parseDuration('retrain-every', values['retrain-every'] ?? '24h');
  if (retrainEveryMs > 0) options.tuning = { anomaly: { retrainEveryMs } };
  let pipeline: OpenedPipeline;
  try {
    pipeline = await openPipeline(options);
  } catch (error) {
    console.error(`sbp hub: cannot open the ingestion pipeline: ${(error as Error).message}`);
    return 1;
  }

  let hub: Hub | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      let failed = false;
      // Every step runs even if an earlier one failed; the hub first, so nothing is offered to a closed pipeline.
      for (const [name, close] of [
        ['hub', () => hub?.close()],
        ['pipeline', () => pipeline.close()],
      ] as const) {
        try {
          await close();
        } catch (error) {
          failed = true;
          log.error({ err: error }, `closing the ${name} failed`);
        }
      }
      return failed ? 1 : 0;
    })();
    return stopping;
  };

  try {
    hub = await buildHub(config, {
      sink: pipeline.sink,
      results: pipeline.results,
      registry: pipeline.registry,
      deadLetters: (limit) => pipeline.deadLetters(limit),
      metrics,
      logger: log,
      plugins: [
        anomalyPlugin({ store: pipeline.anomalies }),
        dashboardPlugin({
          ...(values.site === undefined ? {} : { site: values.site }),
          ...(values['model-dir'] === undefined ? {} : { modelDir: values['model-dir'] }),
        }),
      ],
    });
    const address = await hub.listen();
    console.log(`listening on ${address.wsUrl}`);
  } catch (error) {
    console.error(`sbp hub: cannot start: ${(error as Error).message}`);
    await stop();
    return 1;
  }

  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping !== undefined) {
        log.warn({ signal }, 'already shutting down');
        return;
      }
      log.info({ signal }, 'shutting down');
      // A stuck close must not keep the process forever; 15 s is far above a normal flush.
      setTimeout(() => {
        console.error('sbp hub: shutdown took over 15 s; exiting');
        process.exit(1);
      }, 15_000).unref();
      void stop().then((code) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // Everything is closed; should a stray handle keep the event loop alive, do not hang on it.
        setTimeout(() => {
          log.warn('a handle kept the process alive after shutdown; exiting');
          process.exit(code);
        }, 2000).unref();
        resolve(code);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const command: Command = {
  name: 'hub',
  summary: 'serve the WebSocket hub at /ws, REST API and dashboard',
  usage: USAGE,
  run,
};
