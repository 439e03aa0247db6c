// `node bin/run-ts.js bench/replay.ts [--quick]` (or `npm run bench -- replay`): replay throughput next to the cost
// of merely reading and parsing the same capture, measured in the same run.

import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NO_MODELS, type WorkerModels } from '../src/ingest/worker-models.js';
import { createPositioner } from '../src/models/positioning/positioner.js';
import type { Message } from '../src/protocol/index.js';
import { probeTraffic } from '../src/replay/probe-traffic.js';
import { emptyCaptureStats, readCapture } from '../src/replay/read-capture.js';
import { replay } from '../src/replay/replay.js';
import { createSimulatedWorld } from '../src/sim/index.js';
import { simulateTraffic } from '../src/sim/traffic/simulate-traffic.js';
import { trainAnomalyModel } from '../src/training/anomaly/train.js';
import { samplesFromMessages, trainPositioning } from '../src/training/positioning/index.js';
import { markdownTable } from './markdown-table.js';
import { ensureSbpNodeFlags } from './sbp-node-flags.js';
import type { BenchOptions, BenchResult } from './types.js';

const TARGET = 100_000;

interface Row {
  what: string;
  messages: number;
  seconds: number;
  /** CPU time of the process (every thread), s: on a shared machine, what the run would take on idle cores. */
  cpuSeconds: number;
}

async function timed(what: string, fn: () => Promise<number>): Promise<Row> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const messages = await fn();
  const used = process.cpuUsage(cpu);
  return {
    what,
    messages,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sbp-bench-replay-'));
  try {
    // A capture shaped like live traffic: 20 devices probed against 5 anchors every second (~100 pingResult/s).
    const world = createSimulatedWorld(7, { devices: 20 });
    const rounds = opts.quick ? 300 : 3000;
    const capture = join(dir, 'capture.jsonl');
    let n = 0;
    {
      // Built and written in a block: the messages are garbage before anything is timed (a big live heap slows GC).
      const messages: Message[] = [...probeTraffic(world, { durationS: rounds })];
      writeFileSync(capture, messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
      n = messages.length;
    }

    const walk = world.calibrationWalk({ spacingM: 1.5, samplesPerPoint: 2 });
    const trained = await trainPositioning(samplesFromMessages(walk, world.site), world.site, {
      seed: 1,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
    });
    // The behaviour model's cost, not its quality, is measured here: a day of simulated device traffic trains it.
    const behaviour = trainAnomalyModel({
      baseline: simulateTraffic({ seed: 1, devices: 8, updateIntervalMs: 120_000 }).messages,
      seed: 1,
      trees: 50,
    });
    const positioner = createPositioner(trained.model, 'bench');
    const withPositioner: WorkerModels = { version: 'bench', positioner, behaviour: null, trust: null };
    const withAll: WorkerModels = { version: 'bench', positioner, behaviour, trust: null };
    // The positioner costs milliseconds per update: replay fewer messages through it so the run stays short.
    const modelLimit = Math.min(n, opts.quick ? 6000 : 30_000);

    // Warm-up: one pass of the code paths timed below on the first messages, so the rows measure steady throughput
    // rather than the JIT compiling them (a --quick capture is short enough for that to halve its figures).
    const warm = Math.min(n, 20_000);
    const warmStats = emptyCaptureStats();
    for await (const _ of readCapture(capture, warmStats)) if (warmStats.messages >= warm) break;
    await replay({ input: capture, models: NO_MODELS, limit: warm, parseInWorker: false });
    // As long a pass as the rows without a model: the positioner's code reaches its steady speed only after some
    // thousand updates (successive 6,000-message passes measured 10k, 37k, 51k, then 60–70k msg/s), so the
    // 2,000-message warm-up it had timed the JIT in the model rows.
    await replay({ input: capture, models: withAll, limit: warm });

    const rows: Row[] = [];
    rows.push(
      await timed('read lines (node:readline)', async () => {
        let k = 0;
        for await (const line of createInterface({ input: createReadStream(capture), crlfDelay: Infinity })) {
          if (line.length > 0) k += 1;
        }
        return k;
      }),
    );
    rows.push(
      await timed('node:readline + JSON.parse', async () => {
        let k = 0;
        for await (const line of createInterface({ input: createReadStream(capture), crlfDelay: Infinity })) {
          if (line.length > 0 && JSON.parse(line)) k += 1;
        }
        return k;
      }),
    );
    const baseline = await timed('**baseline: read + JSON.parse + zod** (readCapture)', async () => {
      const stats = emptyCaptureStats();
      for await (const _ of readCapture(capture, stats)) {
        // read only
      }
      return stats.messages;
    });
    rows.push(baseline);
    const core = await timed(
      'replay, no model (worker core only), one thread',
      async () =>
        (await replay({ input: capture, models: NO_MODELS, parseInWorker: false })).capture.messages,
    );
    rows.push(core);
    rows.push(
      await timed(
        'replay, no model, reading + validation on a worker thread',
        async () =>
          (await replay({ input: capture, models: NO_MODELS, parseInWorker: true })).capture.messages,
      ),
    );
    let updates = 0;
    const full = await timed(`replay, positioner (first ${modelLimit.toLocaleString('en-US')})`, async () => {
      const r = await replay({ input: capture, models: withPositioner, limit: modelLimit });
      updates = r.a.emittedByType.deviceUpdate ?? 0;
      return r.records;
    });
    rows.push(full);
    rows.push(
      await timed(
        `replay, positioner + behaviour (first ${modelLimit.toLocaleString('en-US')})`,
        async () => (await replay({ input: capture, models: withAll, limit: modelLimit })).records,
      ),
    );
    const baseRate = baseline.messages / baseline.seconds;
    const table = markdownTable(
      ['what', 'messages', 'seconds', 'messages/s', 'vs read+parse', 'CPU s', 'messages per CPU s'],
      rows.map((r) => {
        const rate = r.messages / r.seconds;
        return [
          r.what,
          r.messages.toLocaleString('en-US'),
          r.seconds.toFixed(2),
          Math.round(rate).toLocaleString('en-US'),
          `${(rate / baseRate).toFixed(2)}×`,
          r.cpuSeconds.toFixed(2),
          Math.round(r.messages / Math.max(r.cpuSeconds, 1e-6)).toLocaleString('en-US'),
        ];
      }),
    );
    const coreRate = core.messages / core.seconds;
    const fullRate = full.messages / full.seconds;
    // What one positioner update costs on top of the worker core (one update per device per 1 s batch).
    const perUpdateUs = ((full.seconds - full.messages / coreRate) / Math.max(updates, 1)) * 1e6;
    const messagesPerUpdate = full.messages / Math.max(updates, 1);
    return {
      title: `Replay throughput (${n.toLocaleString('en-US')} pingResult messages, 20 devices × 5 anchors, 1 s rounds)`,
      table,
      notes: [
        `Target ≥ ${TARGET.toLocaleString('en-US')} msg/s: ${coreRate >= TARGET ? 'met' : 'NOT met'} without models (${Math.round(coreRate).toLocaleString('en-US')} msg/s), ${fullRate >= TARGET ? 'met' : 'NOT met'} with the positioner (${Math.round(fullRate).toLocaleString('en-US')} msg/s).`,
        `Positioner: ${updates.toLocaleString('en-US')} updates (one per device per batch, ${messagesPerUpdate.toFixed(1)} messages each) at ≈ ${Math.round(perUpdateUs)} µs each on top of the worker core; ${TARGET.toLocaleString('en-US')} msg/s would need ≈ ${Math.round((messagesPerUpdate / TARGET) * 1e6)} µs per update.`,
        'Replay = read (Buffer line splitter) → JSON.parse → validation (fast path for pingResult/deviceUpdate, zod otherwise) → dedupe → batches of 1 s of capture time → processBatch (src/ingest) → metrics. Every row runs after one warm-up pass.',
        'The positioner rows replay only the first messages: the fused positioner (multilateration + kNN here) dominates their time (see docs/replay.md, "Speed").',
        'CPU s is the process’s CPU time (all threads) during the row: on a machine shared with other work, messages per CPU second is what one idle core would do (for the one-thread rows), while wall-clock rates shrink with the load.',
        'Reproduce: `npm run bench -- replay` (or `node bin/run-ts.js bench/replay.ts --quick`). The machine is shared: compare ratios, not absolute figures.',
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureSbpNodeFlags();
  const result = await run({ quick: process.argv.includes('--quick') });
  console.log(`\n### ${result.title}\n\n${result.table}\n`);
  for (const note of result.notes ?? []) console.log(`- ${note}`);
}
