// Ingestion pipeline throughput and latency, end to end on loopback: many agent sockets → hub → queue → worker →
// result back on the same socket. Embedded (in-process queue) and distributed (BullMQ on Redis, `sbp worker`
// processes), each next to the ceilings of its building blocks measured in the same run: a raw `ws` server doing
// JSON.parse, and raw BullMQ with one job per message. Targets on a 2-core machine: ≥ 20,000 probes/s through Redis,
// ≥ 50,000 embedded, p99 ≤ 50 ms at half the sustained rate.
//
//   npm run bench -- pipeline [--quick]        or        node bin/run-ts.js bench/pipeline.ts [--quick]
//
// Every process is real: the hub is `sbp hub`, the workers `sbp worker`, the load generator its own process, and
// Redis a private redis-server started for the run (the shared one is never touched).

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { markdownTable } from './markdown-table.js';
import type { LoadPlan, LoadReport } from './pipeline-load-generator.js';
import type { BenchOptions, BenchResult } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
const SBP = join(ROOT, 'bin', 'sbp.js');

// --- processes ----------------------------------------------------------------------------------------------------

interface Proc {
  child: ChildProcess;
  output(): string;
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

function start(command: string, args: string[]): Proc {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    out = (out + c).slice(-20_000);
  });
  return {
    child,
    output: () => out,
    async line(pattern, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (child.exitCode !== null) throw new Error(`${command} ${args[1] ?? ''} exited:\n${out}`);
        if (Date.now() > until) throw new Error(`${command} ${args[1] ?? ''}: no ${pattern}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });
}

async function privateRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = 26379 + Math.floor(Math.random() * 10_000);
  const proc = start('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  for (let i = 0; i < 200 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 25));
  return { url: `redis://127.0.0.1:${port}`, stop: () => proc.stop() };
}

class Loader {
  private readonly child: ChildProcess;
  private waiters: Array<(m: unknown) => void> = [];

  constructor() {
    this.child = fork(resolve(import.meta.dirname, 'pipeline-load-generator.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: ROOT,
    });
    this.child.on('message', (m) => this.waiters.shift()?.(m));
  }

  private next(): Promise<unknown> {
    return new Promise((r) => this.waiters.push(r));
  }

  async run(plan: LoadPlan): Promise<LoadReport> {
    const ready = this.next();
    this.child.send(plan);
    const r = (await ready) as { error?: string };
    if (r.error) throw new Error(`load generator: ${r.error}`);
    const done = this.next();
    this.child.send('go');
    const report = (await done) as LoadReport & { error?: string };
    if (report.error) throw new Error(`load generator: ${report.error}`);
    return report;
  }

  close(): void {
    this.child.send('close');
  }
}

// --- what is measured ----------------------------------------------------------------------------------------------

interface Scale {
  agents: number;
  devicesPerAgent: number;
  window: number;
  warmupMs: number;
  measureMs: number;
}

function agentsPlan(scale: Scale): { agents: LoadPlan['agents']; tokens: Record<string, string> } {
  const tokens: Record<string, string> = {};
  const agents = Array.from({ length: scale.agents }, (_, i) => {
    const agentId = `bench-agent-${i}`;
    tokens[agentId] = `bench-token-${i}-${Math.random().toString(36).slice(2)}`;
    return { agentId, token: tokens[agentId]! };
  });
  return { agents, tokens };
}

/** The raw `ws` ceiling: a bare server doing JSON.parse per frame, fed by the same load generator. */
async function rawWs(loader: Loader, scale: Scale): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  let count = 0;
  let counting = false;
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()) !== undefined && counting) count += 1;
    });
  });
  const { port } = wss.address() as { port: number };
  const { agents } = agentsPlan(scale);
  const plan: LoadPlan = {
    url: `ws://127.0.0.1:${port}`,
    agents,
    devicesPerAgent: 1,
    mode: 'raw',
    warmupMs: 0,
    measureMs: 0,
  };
  // Count only during the measurement window: warm-up first, then measure.
  const timer = setTimeout(() => {
    counting = true;
    setTimeout(() => {
      counting = false;
    }, scale.measureMs);
  }, scale.warmupMs);
  await loader.run({ ...plan, measureMs: scale.warmupMs + scale.measureMs });
  clearTimeout(timer);
  await new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  });
  return count / (scale.measureMs / 1000);
}

/** The raw BullMQ ceiling with one job per message: addBulk (1000 per call), then a no-op Worker (concurrency 50). */
async function rawBullmq(url: string, jobs: number): Promise<{ add: number; process: number }> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const prefix = `raw-${Date.now()}`;
  const queue = new Queue('raw', { connection, prefix });
  const payload = {
    type: 'pingResult',
    agentId: 'bench',
    timestamp: new Date().toISOString(),
    data: {
      targetIp: '198.51.100.1',
      targetType: 'anchor',
      rtt: 4,
      sequenceNumber: 0,
      success: true,
      rssi: -50,
    },
  };
  let t = performance.now();
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, () => ({
        name: 'm',
        data: payload,
        opts: { removeOnComplete: true },
      })),
    );
  }
  const add = jobs / ((performance.now() - t) / 1000);
  let done = 0;
  t = performance.now();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const worker = new Worker(
    'raw',
    async () => {
      done += 1;
      if (done === jobs) finish();
    },
    { connection, prefix, concurrency: 50 },
  );
  worker.on('error', () => undefined);
  await finished;
  await worker.close();
  const processRate = jobs / ((performance.now() - t) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { add, process: processRate };
}

interface PipelineFigures {
  maxRate: number;
  maxReport: LoadReport;
  half: LoadReport;
}

async function pipeline(
  loader: Loader,
  scale: Scale,
  redisUrl: string | null,
  workers: number,
  dir: string,
  modelDir: string | null,
): Promise<PipelineFigures> {
  const { agents, tokens } = agentsPlan(scale);
  const tokenFile = join(dir, `tokens-${Date.now()}.json`);
  writeFileSync(tokenFile, JSON.stringify({ agents: tokens, viewers: [] }));
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const hubArgs = [
    SBP,
    'hub',
    '--port',
    '0',
    '--tokens',
    tokenFile,
    '--rate-limit',
    '1000000000000',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
  ];
  if (redisUrl !== null) hubArgs.push('--redis', redisUrl);
  if (modelDir !== null) hubArgs.push('--model-dir', modelDir);
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < (redisUrl === null ? 0 : workers); i++) {
      const args = [SBP, 'worker', '--redis', redisUrl!, '--log-level', 'warn'];
      if (modelDir !== null) args.push('--model-dir', modelDir);
      const w = start(process.execPath, args);
      procs.push(w);
      await w.line(/ready/);
    }
    const hub = start(process.execPath, hubArgs);
    procs.push(hub);
    const url = (await hub.line(/listening on/)).replace(/.*listening on /, '').trim();
    const base: Omit<LoadPlan, 'mode'> = {
      url,
      agents,
      devicesPerAgent: scale.devicesPerAgent,
      warmupMs: scale.warmupMs,
      measureMs: scale.measureMs,
    };
    const maxReport = await loader.run({ ...base, mode: 'closed', window: scale.window });
    if (process.env.SBP_BENCH_DEBUG) console.error('closed loop', JSON.stringify(maxReport));
    const maxRate = maxReport.resolved / maxReport.seconds;
    // Let the queues empty before the latency run.
    await new Promise((r) => setTimeout(r, 1000));
    const half = await loader.run({ ...base, mode: 'open', rate: Math.max(100, Math.round(maxRate / 2)) });
    if (process.env.SBP_BENCH_DEBUG) console.error('open loop', JSON.stringify(half));
    return { maxRate, maxReport, half };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A model directory trained on the simulator's seeded site (SBP_BENCH_MODELS=trained). */
async function trainModels(dir: string): Promise<string> {
  const sim = join(dir, 'sim');
  const models = join(dir, 'models');
  for (const args of [
    ['simulate', '--out', sim, '--seed', '3'],
    [
      'train',
      '--input',
      join(sim, 'walk.jsonl'),
      '--site',
      join(sim, 'site.json'),
      '--estimators',
      'multilateration,knn',
      '--baseline',
      join(sim, 'baseline.jsonl'),
      '--out',
      models,
    ],
  ]) {
    const p = start(process.execPath, [SBP, ...args]);
    await new Promise((r) => p.child.once('exit', r));
    if (p.child.exitCode !== 0) throw new Error(`sbp ${args.join(' ')} failed:\n${p.output()}`);
  }
  return models;
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

function ms(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : '—';
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const scale: Scale = process.env.SBP_BENCH_SCALE
    ? (JSON.parse(process.env.SBP_BENCH_SCALE) as Scale)
    : opts.quick
      ? { agents: 8, devicesPerAgent: 16, window: 32, warmupMs: 1000, measureMs: 2000 }
      : { agents: 40, devicesPerAgent: 50, window: 100, warmupMs: 3000, measureMs: 8000 };
  const dir = mkdtempSync(join(tmpdir(), 'sbp-bench-pipeline-'));
  const loader = new Loader();
  const redis = await privateRedis();
  try {
    const ws = await rawWs(loader, scale);
    const bull = await rawBullmq(redis.url, opts.quick ? 5000 : 50_000);
    const modelDir = process.env.SBP_BENCH_MODELS === 'trained' ? await trainModels(dir) : null;
    const embedded = await pipeline(loader, scale, null, 0, dir, modelDir);
    const distributed = await pipeline(loader, scale, redis.url, 1, dir, modelDir);
    const bullCeiling = Math.min(bull.add, bull.process);
    const errors = (r: LoadReport) =>
      Object.entries(r.errors)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    const throughput = markdownTable(
      ['path', 'probes/s sustained', 'vs raw ws', 'vs raw BullMQ (1 job/msg)', 'target', 'met'],
      [
        ['raw `ws` + JSON.parse, one way (ceiling)', fmt(ws), '1.00', '', '', ''],
        [
          'raw BullMQ, one job per message: addBulk / no-op worker (ceiling)',
          `${fmt(bull.add)} / ${fmt(bull.process)}`,
          (bullCeiling / ws).toFixed(2),
          '1.00',
          '',
          '',
        ],
        [
          'pipeline embedded: hub → in-process queue → worker → result on the socket',
          fmt(embedded.maxRate),
          (embedded.maxRate / ws).toFixed(2),
          (embedded.maxRate / bullCeiling).toFixed(2),
          '≥ 50,000',
          embedded.maxRate >= 50_000 ? 'yes' : 'no',
        ],
        [
          'pipeline on Redis: hub → BullMQ → `sbp worker` → Redis pub/sub → result on the socket',
          fmt(distributed.maxRate),
          (distributed.maxRate / ws).toFixed(2),
          (distributed.maxRate / bullCeiling).toFixed(2),
          '≥ 20,000',
          distributed.maxRate >= 20_000 ? 'yes' : 'no',
        ],
      ],
    );
    const latency = markdownTable(
      [
        'path',
        'offered probes/s (half of max)',
        'p50 ms',
        'p99 ms',
        'max ms',
        'probes timed',
        'target p99',
        'met',
      ],
      [embedded, distributed].map((f, i) => [
        i === 0 ? 'embedded' : 'Redis',
        fmt(f.half.resolved / f.half.seconds),
        ms(f.half.latencyMs.p50),
        ms(f.half.latencyMs.p99),
        ms(f.half.latencyMs.max),
        fmt(f.half.latencyMs.n),
        '≤ 50 ms',
        f.half.latencyMs.n > 0 && f.half.latencyMs.p99 <= 50 ? 'yes' : 'no',
      ]),
    );
    const notes = [
      `${scale.agents} agent sockets × ${scale.devicesPerAgent} devices, one load-generator process; sustained = each agent keeps ${scale.window} probes outstanding, counted over ${scale.measureMs / 1000} s after ${scale.warmupMs / 1000} s of warm-up; latency = from sending a probe to the first deviceUpdate on the same socket that covers it, open loop at half the sustained rate.`,
      'Processes: `sbp hub` (embedded: its own worker; Redis: no worker), one `sbp worker` on Redis, a private redis-server (no persistence), the load generator — all on the same machine.',
      modelDir === null
        ? 'Models: the trust score only (it needs no training); no positioning or anomaly model — their costs are in bench/positioning.ts and bench/anomaly.ts. `SBP_BENCH_MODELS=trained` runs with models trained by `sbp simulate` + `sbp train`.'
        : 'Models: positioning (multilateration + kNN) and anomaly models trained by `sbp simulate --seed 3` + `sbp train`, and the trust score.',
      `Errors answered by the hub during the sustained runs: embedded ${errors(embedded.maxReport)}; Redis ${errors(distributed.maxReport)}.`,
    ];
    return [
      { title: 'Ingestion pipeline: sustained probes per second, end to end', table: throughput, notes },
      { title: 'Ingestion pipeline: latency at half the sustained rate', table: latency },
    ];
  } finally {
    loader.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const results = await run({ quick });
  for (const r of results) {
    console.log(`\n### ${r.title}\n\n${r.table}\n`);
    for (const n of r.notes ?? []) console.log(`- ${n}`);
  }
}
