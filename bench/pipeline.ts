// Ingestion pipeline throughput and latency, end to end on loopback: many agent sockets → hub → queue → worker →
// result back on the same socket. Embedded (in-process queue) and distributed (BullMQ on Redis, `sbp worker`
// processes), each next to the ceilings of its building blocks measured in the same run: a raw `ws` server doing
// JSON.parse, fed by the same load generator, and raw BullMQ with one job per message. Targets on a 2-core machine:
// ≥ 20,000 probes/s through Redis, ≥ 50,000 embedded, p99 ≤ 50 ms at half the sustained rate.
//
//   npm run bench -- pipeline [--quick]        or        node bin/run-ts.js bench/pipeline.ts [--quick]
//
// Every process is real: the hub is `sbp hub`, the workers `sbp worker` (with the node flags `npx sbp` runs them
// with, SBP_NODE_FLAGS), the load generator its own process, and Redis a private redis-server started for the run
// (the shared one is never touched).
//
// "Sustained": the load generator offers a fixed rate (open loop: it does not wait for answers) for a measurement
// window after a warm-up; a rate is sustained when the hub refused nothing (no QUEUE_FULL or any other error frame),
// results covering ≥ 98% of the offered probes arrived during the window (results keep up), and p99 latency stayed
// ≤ 500 ms (a queue that grows shows up as latency). The highest sustained rate is found by doubling, then bisecting.
// CPU time of every process (/proc/<pid>/stat, the kernel's count of the same thing process.cpuUsage reports) is
// taken over the window and divided by the probes delivered, so the figures stay meaningful when other work loads
// the machine; the CPU used by everything else on the machine meanwhile is reported next to them.
//
// Environment: SBP_BENCH_MODELS=trained trains positioning and anomaly models first; SBP_BENCH_ONLY=embedded|redis
// runs one path; SBP_BENCH_DEBUG=1 prints every trial; SBP_BENCH_CPU_PROF=DIR runs hub and workers under
// `node --cpu-prof --cpu-prof-dir DIR` (profiling slows them down: not for figures).

import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import { SBP_NODE_FLAGS } from '../src/cli/node-flags.js';
import { markdownTable } from './markdown-table.js';
import type { LoadPlan, LoadReport } from './pipeline-load-generator.js';
import type { BenchOptions, BenchResult } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
const SBP = join(ROOT, 'bin', 'sbp.js');
const debug = (...args: unknown[]) => {
  if (process.env.SBP_BENCH_DEBUG) console.error(...args);
};

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

/** Node's flags for `sbp hub` / `sbp worker`: the ones `npx sbp` and `npm start` run with (SBP_NODE_FLAGS). */
function nodeArgs(): string[] {
  const dir = process.env.SBP_BENCH_CPU_PROF;
  return [...SBP_NODE_FLAGS, ...(dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [])];
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

async function privateRedis(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
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
  return { url: `redis://127.0.0.1:${port}`, pid: proc.child.pid ?? 0, stop: () => proc.stop() };
}

// --- CPU accounting -----------------------------------------------------------------------------------------------

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time (user + system) a process has used, ms; NaN where /proc is not available. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** CPU time used by the whole machine (all cores, every process), ms. */
function machineCpuMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!;
    return busy * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

interface CpuSnapshot {
  at: number;
  procs: Record<string, number>;
  machine: number;
}

function snapshot(pids: Record<string, number>): CpuSnapshot {
  const procs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) procs[name] = processCpuMs(pid);
  return { at: performance.now(), procs, machine: machineCpuMs() };
}

/** CPU ms per component over a window, plus what the rest of the machine used (in cores). */
interface CpuWindow {
  seconds: number;
  ms: Record<string, number>;
  otherCores: number;
}

function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, generatorMs: number): CpuWindow {
  const ms: Record<string, number> = { generator: generatorMs };
  let ours = generatorMs;
  for (const name of Object.keys(a.procs)) {
    ms[name] = b.procs[name]! - a.procs[name]!;
    ours += ms[name]!;
  }
  const seconds = (b.at - a.at) / 1000;
  return { seconds, ms, otherCores: Math.max(0, (b.machine - a.machine - ours) / 1000 / seconds) };
}

// --- load generator -----------------------------------------------------------------------------------------------

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

  /** Runs a plan; `pids` are sampled for CPU time at the start and end of its measurement window. */
  async run(
    plan: LoadPlan,
    pids: Record<string, number> = {},
  ): Promise<{ report: LoadReport; cpu: CpuWindow }> {
    const ready = this.next();
    this.child.send(plan);
    const r = (await ready) as { error?: string };
    if (r.error) throw new Error(`load generator: ${r.error}`);
    const done = this.next();
    this.child.send('go');
    let first: CpuSnapshot | null = null;
    let last: CpuSnapshot | null = null;
    const t1 = setTimeout(() => {
      first = snapshot(pids);
    }, plan.warmupMs);
    const t2 = setTimeout(() => {
      last = snapshot(pids);
    }, plan.warmupMs + plan.measureMs);
    const report = (await done) as LoadReport & { error?: string };
    clearTimeout(t1);
    clearTimeout(t2);
    if (report.error) throw new Error(`load generator: ${report.error}`);
    const a = first ?? snapshot(pids);
    const b = last ?? snapshot(pids);
    return { report, cpu: cpuBetween(a, b, report.cpuMs) };
  }

  close(): void {
    this.child.send('close');
  }
}

// --- what is measured ----------------------------------------------------------------------------------------------

interface Scale {
  agents: number;
  devicesPerAgent: number;
  warmupMs: number;
  measureMs: number;
  /** The latency run at half the sustained rate. */
  latencyMs: number;
  /** First rate tried; doubled until a rate is not sustained, then bisected to within `precision`. */
  startRate: number;
  maxRate: number;
  precision: number;
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
async function rawWs(loader: Loader, scale: Scale): Promise<{ rate: number; cpu: CpuWindow }> {
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
    warmupMs: scale.warmupMs,
    measureMs: scale.measureMs,
  };
  const timer = setTimeout(() => {
    counting = true;
    setTimeout(() => {
      counting = false;
    }, scale.measureMs);
  }, scale.warmupMs);
  const { cpu } = await loader.run(plan, { server: process.pid });
  clearTimeout(timer);
  await new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  });
  return { rate: count / (scale.measureMs / 1000), cpu };
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

interface Trial {
  rate: number;
  report: LoadReport;
  cpu: CpuWindow;
  sustained: boolean;
  why: string;
}

function judge(r: LoadReport): { sustained: boolean; why: string } {
  const errors = Object.entries(r.errors);
  if (errors.length > 0)
    return { sustained: false, why: `errors ${errors.map(([k, v]) => `${k}×${v}`).join(' ')}` };
  const offered = r.sent;
  if (r.delivered < 0.98 * offered) return { sustained: false, why: `delivered ${r.delivered}/${offered}` };
  if (r.covered < 0.99 * offered) return { sustained: false, why: `covered ${r.covered}/${offered}` };
  if (!(r.latencyMs.p99 <= 500)) return { sustained: false, why: `p99 ${r.latencyMs.p99.toFixed(0)} ms` };
  return { sustained: true, why: 'ok' };
}

interface PipelineFigures {
  trials: Trial[];
  best: Trial | null;
  half: Trial | null;
}

async function pipeline(
  loader: Loader,
  scale: Scale,
  redis: { url: string; pid: number } | null,
  workers: number,
  dir: string,
  modelDir: string | null,
): Promise<PipelineFigures> {
  const { agents, tokens } = agentsPlan(scale);
  const tokenFile = join(dir, `tokens-${Date.now()}.json`);
  writeFileSync(tokenFile, JSON.stringify({ agents: tokens, viewers: [] }));
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const prefix = `bench${Date.now().toString(36)}`;
  const hubArgs = [
    ...nodeArgs(),
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
  if (redis !== null) hubArgs.push('--redis', redis.url, '--prefix', prefix);
  if (modelDir !== null) hubArgs.push('--model-dir', modelDir);
  const procs: Proc[] = [];
  const pids: Record<string, number> = {};
  try {
    for (let i = 0; i < (redis === null ? 0 : workers); i++) {
      const args = [
        ...nodeArgs(),
        SBP,
        'worker',
        '--redis',
        redis!.url,
        '--prefix',
        prefix,
        '--log-level',
        'warn',
      ];
      if (modelDir !== null) args.push('--model-dir', modelDir);
      const w = start(process.execPath, args);
      procs.push(w);
      await w.line(/ready/);
      pids[workers === 1 ? 'worker' : `worker ${i + 1}`] = w.child.pid ?? 0;
    }
    const hub = start(process.execPath, hubArgs);
    procs.push(hub);
    pids.hub = hub.child.pid ?? 0;
    if (redis !== null) pids.redis = redis.pid;
    const url = (await hub.line(/listening on/)).replace(/.*listening on /, '').trim();
    const base: Omit<LoadPlan, 'rate'> = {
      url,
      agents,
      devicesPerAgent: scale.devicesPerAgent,
      mode: 'open',
      warmupMs: scale.warmupMs,
      measureMs: scale.measureMs,
    };
    const trials: Trial[] = [];
    const stats = redis === null || !process.env.SBP_BENCH_DEBUG ? null : new Redis(redis.url);
    const attempt = async (rate: number): Promise<Trial> => {
      const before = stats ? await commandStats(stats) : null;
      const { report, cpu } = await loader.run({ ...base, rate }, pids);
      if (stats && before) {
        const after = await commandStats(stats);
        const calls = Object.entries(after)
          .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1]);
        debug(
          `  redis calls per probe sent: ${calls.map(([k, v]) => `${k} ${(v / (report.sent * (1 + scale.warmupMs / scale.measureMs))).toFixed(3)}`).join(', ')}`,
        );
      }
      const verdict = judge(report);
      const trial = { rate, report, cpu, ...verdict };
      trials.push(trial);
      // A trial where no probe was timed has NaN percentiles, which arrive over IPC as null: ms() prints both as —.
      debug(
        `  ${redis === null ? 'embedded' : 'redis'} ${rate}/s: ${verdict.sustained ? 'sustained' : `NOT (${verdict.why})`}; delivered ${(report.delivered / report.seconds).toFixed(0)}/s p50 ${ms(report.latencyMs.p50)} p99 ${ms(report.latencyMs.p99)} ms; cpu ms ${JSON.stringify(cpu.ms)} other ${cpu.otherCores.toFixed(2)} cores; load ${loadavg()[0]!.toFixed(2)}`,
      );
      // Let whatever is still queued drain before the next trial.
      await settle(report);
      return trial;
    };
    let lo: Trial | null = null;
    let hi: Trial | null = null;
    for (let rate = scale.startRate; rate <= scale.maxRate; rate *= 2) {
      const t = await attempt(rate);
      if (t.sustained) lo = t;
      else {
        hi = t;
        break;
      }
    }
    while (lo !== null && hi !== null && hi.rate / lo.rate > 1 + scale.precision) {
      const rate = Math.round(Math.sqrt(lo.rate * hi.rate) / 100) * 100;
      if (rate <= lo.rate || rate >= hi.rate) break;
      const t = await attempt(rate);
      if (t.sustained) lo = t;
      else hi = t;
    }
    let half: Trial | null = null;
    if (lo !== null) {
      const { report, cpu } = await loader.run(
        { ...base, rate: Math.round(lo.rate / 2), measureMs: scale.latencyMs },
        pids,
      );
      half = { rate: Math.round(lo.rate / 2), report, cpu, ...judge(report) };
      debug(`  half load ${half.rate}/s: p50 ${ms(report.latencyMs.p50)} p99 ${ms(report.latencyMs.p99)} ms`);
    }
    stats?.disconnect();
    return { trials, best: lo, half };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const text = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

async function settle(report: LoadReport): Promise<void> {
  // The generator already waited up to its grace period for what was owed; give a backlog a little more.
  await new Promise((r) => setTimeout(r, report.outstanding > 0 ? 3000 : 300));
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

function fmt(n: number | undefined): string {
  return n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

function ms(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(1) : '—';
}

/** CPU µs per delivered probe of one component in a trial. */
function perProbe(t: Trial | null, name: string): number {
  if (t === null || t.report.delivered === 0) return Number.NaN;
  const v = t.cpu.ms[name];
  return v === undefined ? Number.NaN : (v * 1000) / t.report.delivered;
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const scale: Scale = process.env.SBP_BENCH_SCALE
    ? (JSON.parse(process.env.SBP_BENCH_SCALE) as Scale)
    : opts.quick
      ? {
          agents: 16,
          devicesPerAgent: 25,
          warmupMs: 1000,
          measureMs: 2000,
          latencyMs: 3000,
          startRate: 5000,
          maxRate: 200_000,
          precision: 0.2,
        }
      : {
          agents: 40,
          devicesPerAgent: 50,
          warmupMs: 2000,
          measureMs: 5000,
          latencyMs: 10_000,
          startRate: 5000,
          maxRate: 400_000,
          precision: 0.08,
        };
  const only = process.env.SBP_BENCH_ONLY;
  const dir = mkdtempSync(join(tmpdir(), 'sbp-bench-pipeline-'));
  const loader = new Loader();
  const redis = await privateRedis();
  const loadBefore = loadavg();
  try {
    const ws = await rawWs(loader, scale);
    debug(`raw ws ${ws.rate.toFixed(0)}/s cpu ${JSON.stringify(ws.cpu.ms)}`);
    const bull = await rawBullmq(redis.url, opts.quick ? 5000 : 50_000);
    debug(`raw bullmq ${JSON.stringify(bull)}`);
    const modelDir = process.env.SBP_BENCH_MODELS === 'trained' ? await trainModels(dir) : null;
    const none: PipelineFigures = { trials: [], best: null, half: null };
    const embedded = only === 'redis' ? none : await pipeline(loader, scale, null, 0, dir, modelDir);
    const distributed = only === 'embedded' ? none : await pipeline(loader, scale, redis, 1, dir, modelDir);
    const loadAfter = loadavg();
    const bullCeiling = Math.min(bull.add, bull.process);
    const rateOf = (f: PipelineFigures) => f.best?.rate ?? Number.NaN;
    const deliveredOf = (f: PipelineFigures) =>
      f.best ? f.best.report.delivered / f.best.report.seconds : Number.NaN;
    const throughput = markdownTable(
      [
        'path',
        'probes/s sustained',
        'delivered/s',
        'vs raw ws',
        'vs raw BullMQ (1 job/msg)',
        'target',
        'met',
      ],
      [
        [
          'raw `ws` + JSON.parse, one way, same load generator (ceiling)',
          fmt(ws.rate),
          '',
          '1.00',
          '',
          '',
          '',
        ],
        [
          'raw BullMQ, one job per message: addBulk / no-op worker (ceiling)',
          `${fmt(bull.add)} / ${fmt(bull.process)}`,
          '',
          (bullCeiling / ws.rate).toFixed(2),
          '1.00',
          '',
          '',
        ],
        [
          'pipeline embedded: hub → in-process queue → worker → result on the socket',
          fmt(rateOf(embedded)),
          fmt(deliveredOf(embedded)),
          (rateOf(embedded) / ws.rate).toFixed(2),
          (rateOf(embedded) / bullCeiling).toFixed(2),
          '≥ 50,000',
          rateOf(embedded) >= 50_000 ? 'yes' : 'no',
        ],
        [
          'pipeline on Redis: hub → BullMQ → `sbp worker` → Redis pub/sub → result on the socket',
          fmt(rateOf(distributed)),
          fmt(deliveredOf(distributed)),
          (rateOf(distributed) / ws.rate).toFixed(2),
          (rateOf(distributed) / bullCeiling).toFixed(2),
          '≥ 20,000',
          rateOf(distributed) >= 20_000 ? 'yes' : 'no',
        ],
      ],
    );
    const latency = markdownTable(
      [
        'path',
        'offered probes/s (half of max)',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'probes timed',
        'target p99',
        'met',
      ],
      (
        [
          ['embedded', embedded],
          ['Redis', distributed],
        ] as const
      ).map(([name, f]) => {
        const h = f.half;
        return [
          name,
          fmt(h?.rate),
          ms(h?.report.latencyMs.p50),
          ms(h?.report.latencyMs.p90),
          ms(h?.report.latencyMs.p99),
          ms(h?.report.latencyMs.max),
          fmt(h?.report.latencyMs.n),
          '≤ 50 ms',
          h !== null && h.report.latencyMs.n > 0 && h.report.latencyMs.p99 <= 50 ? 'yes' : 'no',
        ];
      }),
    );
    const components = ['generator', 'hub', 'worker', 'redis'];
    const cpuRows: string[][] = [];
    const wsUs = (ms: number | undefined) => ((ms ?? Number.NaN) * 1000) / (ws.rate * ws.cpu.seconds);
    cpuRows.push([
      'raw ws (ceiling)',
      fmt(ws.rate),
      ms(wsUs(ws.cpu.ms.generator)),
      ms(wsUs(ws.cpu.ms.server)),
      '',
      '',
      ms(wsUs((ws.cpu.ms.generator ?? 0) + (ws.cpu.ms.server ?? 0))),
      ws.cpu.otherCores.toFixed(2),
    ]);
    for (const [name, f] of [
      ['embedded', embedded],
      ['Redis', distributed],
    ] as const) {
      for (const [label, t] of [
        ['at max', f.best],
        ['at half', f.half],
      ] as const) {
        if (t === null) continue;
        const parts = components.map((c) => perProbe(t, c));
        const total = parts.filter(Number.isFinite).reduce((a, b) => a + b, 0);
        cpuRows.push([
          `${name} ${label}`,
          fmt(t.report.delivered / t.report.seconds),
          ...parts.map(ms),
          ms(total),
          t.cpu.otherCores.toFixed(2),
        ]);
      }
    }
    const cpuTable = markdownTable(
      [
        'run',
        'probes/s delivered',
        'generator µs/probe',
        'hub µs/probe',
        'worker µs/probe',
        'redis µs/probe',
        'total µs/probe',
        'other load (cores)',
      ],
      cpuRows,
    );
    const trialsOf = (name: string, f: PipelineFigures) =>
      `${name}: ${f.trials.map((t) => `${fmt(t.rate)} ${t.sustained ? '✓' : `✗ (${t.why})`}`).join(', ') || 'not run'}`;
    const errors = (r: LoadReport | undefined) =>
      r === undefined
        ? '—'
        : Object.entries(r.errors)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none';
    const notes = [
      `${scale.agents} agent sockets × ${scale.devicesPerAgent} devices from one load-generator process, open loop (a fixed offered rate, paced every 2 ms, whatever the answers). A rate is sustained when the hub answered no error frame (no QUEUE_FULL), results covering ≥ 98% of the offered probes arrived within the ${scale.measureMs / 1000} s measurement window (after ${scale.warmupMs / 1000} s of warm-up), ≥ 99% were covered in the end, and p99 latency stayed ≤ 500 ms; the highest sustained rate is found by doubling from ${fmt(scale.startRate)}/s, then bisecting to within ${Math.round(scale.precision * 100)}%.`,
      'A probe is covered by the first deviceUpdate of its device, on the socket that sent it, whose batch contained it or a later probe of the device: the worker coalesces a device’s probes of one batch into one deviceUpdate echoing the newest probe’s rssi (each probe carries its sequence number in its rssi). Latency = probe sent → covering result received, at half the sustained rate for ' +
        `${scale.latencyMs / 1000} s.`,
      `Trials — ${trialsOf('embedded', embedded)}; ${trialsOf('Redis', distributed)}.`,
      `Errors answered by the hub at the sustained maximum: embedded ${errors(embedded.best?.report)}; Redis ${errors(distributed.best?.report)}.`,
      'Processes: `sbp hub` (embedded: its own worker; Redis: none), one `sbp worker` on Redis, a private redis-server (no persistence), the load generator — all on this machine, which has 2 cores. CPU time per process from /proc over the measurement window, divided by the probes delivered; "other load" = CPU used meanwhile by everything else on the machine (other engineers’ work), in cores.',
      `Load average (1 min) before / after the run: ${loadBefore[0]!.toFixed(2)} / ${loadAfter[0]!.toFixed(2)}.`,
      modelDir === null
        ? 'Models: the trust score only (it needs no training); no positioning or anomaly model — their costs are in bench/positioning.ts and bench/anomaly.ts. `SBP_BENCH_MODELS=trained` runs with models trained by `sbp simulate` + `sbp train`.'
        : 'Models: positioning (multilateration + kNN) and anomaly models trained by `sbp simulate --seed 3` + `sbp train`, and the trust score.',
    ];
    return [
      { title: 'Ingestion pipeline: sustained probes per second, end to end', table: throughput, notes },
      { title: 'Ingestion pipeline: latency at half the sustained rate', table: latency },
      { title: 'Ingestion pipeline: CPU time per probe, by process', table: cpuTable },
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
