import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type Agent, startAgent } from '../agent/agent.js';
import { createSimulatedSource } from '../agent/sources/simulated-source.js';
import { anomalyPlugin } from '../hub/anomaly-routes.js';
import { buildHub, type Hub } from '../hub/build-hub.js';
import { dashboardPlugin } from '../hub/dashboard/dashboard-plugin.js';
import { type OpenedPipeline, openPipeline } from '../ingest/open-pipeline.js';
import type { PipelineOptions } from '../ingest/pipeline.js';
import { readLatest } from '../training/model-dir.js';
import { type Command, parseFlags, UsageError } from './command.js';
import { LiveView } from './demo-view.js';
import { command as trainCommand } from './train.js';

const DATASETS = fileURLToPath(new URL('../../datasets/', import.meta.url));

const USAGE = `usage: sbp demo [options]          (what \`npm start\` runs)

Runs the whole live system in one process: the hub (WebSocket /ws, REST API, dashboard), the ingestion worker
with its models, and a simulated agent — on the embedded default (in-process queue, storage in --data-dir), or
over Redis with --redis. Never touches the machine's real network: the agent's probes come from the simulator.

The first run trains models from the committed calibration walk (datasets/walk.jsonl) and baseline traffic
(datasets/baseline.jsonl) into --model-dir; later runs reuse them.

options:
  --port N               hub port; if it is taken a free one is used     (default 8080)
  --host H               interface to listen on                          (default 127.0.0.1)
  --redis URL            run the queues, results and registry on Redis (or REDIS_URL)
  --data-dir DIR         embedded storage                                (default .sbp/data)
  --model-dir DIR        model directory                                 (default .sbp/models)
  --devices N            simulated devices                               (default 5)
  --rate N               simulated probes per second                     (default 20)
  --seed N               simulator seed                                  (default 1)
  --anomalies-per-type N injected anomalies of each type per simulated day (default 24)
  --baseline-minutes N   minutes of normal behaviour before the first anomaly (default 3)
  --duration S           stop after S seconds, 0 = run until Ctrl-C      (default 0)
  --refresh S            live view refresh period                        (default 2)

Open the printed dashboard URL in a browser to see the floor plan.`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  redis: { type: 'string' },
  'data-dir': { type: 'string' },
  'model-dir': { type: 'string' },
  devices: { type: 'string' },
  rate: { type: 'string' },
  seed: { type: 'string' },
  'anomalies-per-type': { type: 'string' },
  'baseline-minutes': { type: 'string' },
  duration: { type: 'string' },
  refresh: { type: 'string' },
} as const;

function num(
  values: Record<string, string | undefined>,
  flag: string,
  fallback: number,
  ok: (n: number) => boolean,
) {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !ok(n))
    throw new UsageError(`--${flag}: invalid value "${raw}"`);
  return n;
}

/** Trains the demo's models from the committed datasets unless the model directory already has a version. */
async function ensureModels(modelDir: string): Promise<void> {
  if ((await readLatest(modelDir)) !== null) {
    console.log(`models: using ${modelDir} (delete it to retrain)`);
    return;
  }
  console.log(`models: none in ${modelDir} yet; training from datasets/ (once, a minute or two)…`);
  const code = await trainCommand.run([
    '--input',
    join(DATASETS, 'walk.jsonl'),
    '--site',
    join(DATASETS, 'site.json'),
    '--baseline',
    join(DATASETS, 'baseline.jsonl'),
    '--out',
    modelDir,
  ]);
  if (code !== 0) throw new Error(`training the demo models failed (exit ${code})`);
}

async function listenWithFallback(hub: Hub): Promise<string> {
  try {
    return (await hub.listen()).wsUrl;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new PortTaken();
  }
}

class PortTaken extends Error {}

async function run(argv: string[]): Promise<number> {
  const values: Record<string, string | undefined> = parseFlags(argv, OPTIONS);
  const port = num(values, 'port', 8080, (n) => Number.isInteger(n) && n >= 0 && n < 65_536);
  const host = values.host ?? '127.0.0.1';
  const devices = num(values, 'devices', 5, (n) => Number.isInteger(n) && n >= 1 && n <= 500);
  const rate = num(values, 'rate', 20, (n) => n > 0 && n <= 10_000);
  const seed = num(values, 'seed', 1, (n) => Number.isInteger(n) && n >= 0);
  const anomaliesPerType = num(values, 'anomalies-per-type', 24, (n) => n >= 0);
  const baselineMinutes = num(values, 'baseline-minutes', 3, (n) => n >= 0);
  const duration = num(values, 'duration', 0, (n) => n >= 0);
  const refresh = num(values, 'refresh', 2, (n) => n > 0);
  const dataDir = resolve(values['data-dir'] ?? '.sbp/data');
  const modelDir = resolve(values['model-dir'] ?? '.sbp/models');
  const redisUrl = values.redis ?? process.env.REDIS_URL;
  const sitePath = join(DATASETS, 'site.json');
  if (!existsSync(sitePath)) {
    console.error(
      `sbp demo: ${sitePath} is missing (regenerate it with \`npx sbp simulate --out datasets --seed 1\`)`,
    );
    return 1;
  }
  const site: unknown = JSON.parse(readFileSync(sitePath, 'utf8'));

  await ensureModels(modelDir);

  // Logs go to stderr at warn, so the live view on stdout stays readable.
  const log = pino({ level: 'warn' }, pino.destination(2));
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const pipelineOptions: PipelineOptions = { dataDir, modelDir, embeddedWorker: true, metrics, logger: log };
  if (redisUrl !== undefined) {
    pipelineOptions.redisUrl = redisUrl;
    pipelineOptions.prefix = 'sbp-demo';
  }

  const agentId = 'demo_agent_001';
  const agentToken = randomBytes(16).toString('hex');
  const viewerToken = randomBytes(16).toString('hex');
  let pipeline: OpenedPipeline | undefined;
  let hub: Hub | undefined;
  let agent: Agent | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> => {
    stopping ??= (async () => {
      if (timer) clearInterval(timer);
      let failed = false;
      for (const [name, close] of [
        ['agent', () => agent?.stop({ flushMs: 1000 })],
        ['hub', () => hub?.close()],
        ['pipeline', () => pipeline?.close()],
      ] as const) {
        try {
          await close();
        } catch (error) {
          failed = true;
          console.error(`sbp demo: closing the ${name} failed: ${(error as Error).message}`);
        }
      }
      return failed ? 1 : 0;
    })();
    return stopping;
  };

  let wsUrl: string;
  try {
    pipeline = await openPipeline(pipelineOptions);
    const deps = {
      sink: pipeline.sink,
      results: pipeline.results,
      registry: pipeline.registry,
      deadLetters: (limit?: number) => (pipeline as OpenedPipeline).deadLetters(limit),
      metrics,
      logger: log,
      plugins: [anomalyPlugin({ store: pipeline.anomalies }), dashboardPlugin({ site: sitePath, modelDir })],
    };
    const config = {
      host,
      port,
      logLevel: 'warn' as const,
      tokens: { agents: { [agentId]: agentToken }, viewers: [viewerToken] },
      // The spec's 100 messages per minute suits a heartbeat-only agent, not a probing one.
      rateLimit: { messagesPerMinute: 600_000 },
    };
    hub = await buildHub(config, deps);
    try {
      wsUrl = await listenWithFallback(hub);
    } catch (error) {
      if (!(error instanceof PortTaken)) throw error;
      await hub.close();
      console.log(`port ${port} is taken; using a free one`);
      hub = await buildHub({ ...config, port: 0 }, deps);
      wsUrl = await listenWithFallback(hub);
    }
  } catch (error) {
    console.error(`sbp demo: cannot start: ${(error as Error).message}`);
    await stop();
    return 1;
  }

  const httpUrl = wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '/');
  const mode = redisUrl === undefined ? 'embedded (in-process queue, lmdb storage)' : `Redis at ${redisUrl}`;
  const header = [
    `SmartBlueprint demo — ${mode}`,
    `hub ${wsUrl}   dashboard ${httpUrl}?token=${viewerToken}`,
    `simulated agent ${agentId}: ${devices} devices, ${rate} probes/s, seed ${seed}; Ctrl-C to stop`,
  ].join('\n');
  console.log(`listening on ${wsUrl}`);
  console.log(`dashboard: ${httpUrl}?token=${viewerToken}`);

  const view = new LiveView();
  const source = createSimulatedSource({ seed, devices, rate, site, anomaliesPerType, baselineMinutes });
  agent = startAgent({
    hubUrl: wsUrl,
    agentId,
    token: agentToken,
    source,
    maxMessagesPerMinute: 0,
    logger: log,
  });
  const tty = process.stdout.isTTY === true;
  agent.on('result', (m) => {
    const line = view.apply(m);
    if (line !== null && !tty) console.log(line);
  });
  let ticks = 0;
  timer = setInterval(() => {
    ticks++;
    if (tty) process.stdout.write(`\x1b[2J\x1b[H${view.render(header)}\n`);
    else if (ticks % Math.max(1, Math.round(10 / refresh)) === 0) console.log(`\n${view.render(header)}\n`);
  }, refresh * 1000);

  return new Promise<number>((resolveRun) => {
    const finish = () => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      setTimeout(() => process.exit(1), 15_000).unref();
      void stop().then(resolveRun);
    };
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
    if (duration > 0) setTimeout(finish, duration * 1000).unref();
    void agent?.done.then((exit) => {
      if (stopping === undefined) {
        console.error(`sbp demo: the simulated agent stopped (${JSON.stringify(exit)})`);
        finish();
      }
    });
  });
}

export const command: Command = {
  name: 'demo',
  summary: 'hub + worker + simulated agent in one process (what `npm start` runs)',
  usage: USAGE,
  run,
};
