// Hub throughput: validated messages per second through the hub on loopback, from many agent sockets (rate limit
// raised), next to a raw `ws` server doing only JSON.parse, measured in the same run with the same load generator
// (a separate process). Target: the hub at ≥ 60% of the raw figure.
//
//   npm run bench -- hub [--quick]        or        node bin/run-ts.js bench/hub.ts [--quick]

import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { buildHub } from '../src/hub/build-hub.js';
import type { IngestRecord, IngestSink } from '../src/ingest/ingest-sink.js';
import { MemoryResultsBus } from '../src/ingest/memory-results-bus.js';
import { makeMessage } from '../src/protocol/index.js';
import { MemoryDeviceRegistry } from '../src/store/memory-device-registry.js';
import type { LoadPlan } from './hub-load-generator.js';
import { markdownTable } from './markdown-table.js';
import type { BenchOptions, BenchResult } from './types.js';

const TEMPLATE = makeMessage(
  'pingResult',
  'agent',
  {
    targetIp: '192.168.1.1',
    targetType: 'gateway',
    rtt: 8.5,
    packetSize: 64,
    ttl: 64,
    sequenceNumber: 0,
    success: true,
    estimatedDistance: 2.55,
    processingOffset: 5.0,
    qualityScore: 0.92,
  },
  new Date('2025-06-16T18:45:20.000Z'),
);

/** A server under test: where to connect, and a promise that resolves when `total` messages were handled. */
interface Target {
  url: string;
  tokens: Array<string | undefined>;
  handled(total: number): Promise<void>;
  close(): Promise<void>;
}

interface Measurement {
  messages: number;
  seconds: number;
  cpuMicrosPerMessage: number;
}

class Loader {
  readonly #child: ChildProcess;
  #waiters: Array<(m: unknown) => void> = [];

  constructor() {
    this.#child = fork(resolve(import.meta.dirname, 'hub-load-generator.ts'), [], {
      execArgv: ['--import', 'tsx'],
      cwd: resolve(import.meta.dirname, '..'),
    });
    this.#child.on('message', (m) => this.#waiters.shift()?.(m));
  }

  #next(): Promise<unknown> {
    return new Promise((r) => this.#waiters.push(r));
  }

  async drive(target: Target, framesPerSocket: number): Promise<Measurement> {
    const plan: LoadPlan = {
      url: target.url,
      sockets: target.tokens.map((token, i) => ({ agentId: `agent_${i}`, ...(token ? { token } : {}) })),
      framesPerSocket,
      template: TEMPLATE,
    };
    const ready = this.#next();
    this.#child.send(plan);
    await ready;
    const total = framesPerSocket * target.tokens.length;
    const handled = target.handled(total);
    const sent = this.#next();
    const cpu = process.cpuUsage();
    const started = performance.now();
    this.#child.send('go');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      handled,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${target.url}: not all ${total} messages handled in 120 s`)),
          120_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    await sent;
    return { messages: total, seconds, cpuMicrosPerMessage: (used.user + used.system) / total };
  }

  close(): void {
    this.#child.send('close');
  }
}

function counter(): { bump(): void; handled(total: number): Promise<void> } {
  let count = 0;
  let goal = Number.POSITIVE_INFINITY;
  let wake: (() => void) | undefined;
  return {
    bump() {
      count++;
      if (count >= goal) wake?.();
    },
    handled(total) {
      count = 0;
      goal = total;
      return new Promise((r) => {
        wake = r;
      });
    },
  };
}

async function rawWs(sockets: number): Promise<Target> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1024 * 1024 });
  await new Promise((r) => wss.once('listening', r));
  const c = counter();
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data) => {
      if (JSON.parse(data.toString()) !== undefined) c.bump();
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    tokens: Array.from({ length: sockets }, () => undefined),
    handled: c.handled,
    close: () =>
      new Promise((r) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => r());
      }),
  };
}

async function hub(sockets: number, captureFile?: string): Promise<Target> {
  const c = counter();
  const sink: IngestSink = {
    offer(_record: IngestRecord) {
      c.bump();
      return null;
    },
    flush: async () => {},
    close: async () => {},
  };
  const agents: Record<string, string> = {};
  for (let i = 0; i < sockets; i++) agents[`agent_${i}`] = `bench-token-${i}-0123456789abcdef`;
  const bus = new MemoryResultsBus();
  const h = await buildHub(
    {
      port: 0,
      tokens: { agents, viewers: [] },
      rateLimit: { messagesPerMinute: 1e12 },
      logLevel: 'silent',
      ...(captureFile ? { capture: { file: captureFile } } : {}),
    },
    { sink, results: bus, registry: new MemoryDeviceRegistry(), logger: pino({ level: 'silent' }) },
  );
  const { wsUrl } = await h.listen();
  return {
    url: wsUrl,
    tokens: Object.values(agents),
    handled: c.handled,
    close: async () => {
      await h.close();
      await bus.close();
    },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const sockets = 32;
  const perSocket = opts.quick ? 500 : 10_000;
  const reps = opts.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'sbp-bench-hub-'));
  const loader = new Loader();
  const variants: Array<{ name: string; make: (i: number) => Promise<Target> }> = [
    { name: 'raw `ws` + JSON.parse (baseline)', make: () => rawWs(sockets) },
    { name: 'hub: auth, rate limit, zod validation, ingest offer', make: () => hub(sockets) },
    { name: 'hub, with --capture', make: (i) => hub(sockets, join(dir, `capture-${i}.jsonl`)) },
  ];
  const results = new Map<string, Measurement[]>();
  try {
    // Warm-up (JIT, socket buffers), then alternate the variants so that background load hits them alike.
    for (const v of variants) {
      const t = await v.make(-1);
      await loader.drive(t, 200);
      await t.close();
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const v of variants) {
        const t = await v.make(rep);
        const m = await loader.drive(t, perSocket);
        await t.close();
        results.set(v.name, [...(results.get(v.name) ?? []), m]);
      }
    }
  } finally {
    loader.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const rate = (ms: Measurement[]) => median(ms.map((m) => m.messages / m.seconds));
  const baseline = rate(results.get(variants[0]!.name)!);
  const rows = variants.map((v) => {
    const ms = results.get(v.name)!;
    const r = rate(ms);
    return [
      v.name,
      String(ms[0]!.messages),
      Math.round(r).toLocaleString('en-US'),
      median(ms.map((m) => m.cpuMicrosPerMessage)).toFixed(1),
      `${((100 * r) / baseline).toFixed(0)}%`,
    ];
  });
  const hubRatio = rate(results.get(variants[1]!.name)!) / baseline;
  const cpu = (name: string) => median(results.get(name)!.map((m) => m.cpuMicrosPerMessage));
  const cpuRatio = cpu(variants[1]!.name) / cpu(variants[0]!.name);
  return {
    title: `Hub: validated pingResult messages per second on loopback, ${sockets} agent sockets`,
    table: markdownTable(['server', 'messages', 'msg/s (median)', 'server CPU µs/msg', 'of raw'], rows),
    notes: [
      `Target ≥ 60% of raw ws + JSON.parse: ${hubRatio >= 0.6 ? 'met' : 'MISSED'} (${(100 * hubRatio).toFixed(0)}%).`,
      `Load from one generator process (${sockets} sockets, ~${JSON.stringify(TEMPLATE).length}-byte frames, sent as fast as the sockets drain); ` +
        `median of ${reps} run(s) after a warm-up; the server runs in the bench process.`,
      `Server CPU per message: the hub costs ${cpuRatio.toFixed(1)}× the raw server. When the single generator process is the ` +
        'bottleneck, msg/s of both converge and this CPU ratio is the figure to read.',
      'The hub uses an in-memory sink here: the queue behind it is measured by the pipeline benchmark.',
    ],
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run({ quick: process.argv.includes('--quick') });
  console.log(`### ${result.title}\n\n${result.table}\n`);
  for (const n of result.notes ?? []) console.log(`- ${n}`);
}
