// The dashboard's cost in the browser: main-thread time per live message while many devices move, against the
// floor of merely receiving and JSON-parsing the same stream in the same browser. Needs Debian's Chromium.
// Run on its own: `node bin/run-ts.js bench/dashboard.ts [--quick]`, or `npm run bench -- dashboard`.
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { buildHub } from '../src/hub/build-hub.js';
import { dashboardPlugin } from '../src/hub/dashboard/dashboard-plugin.js';
import { MemoryResultsBus } from '../src/ingest/memory-results-bus.js';
import { type Message, makeMessage } from '../src/protocol/index.js';
import { demoHomeScenario } from '../src/sim/index.js';
import { MemoryDeviceRegistry } from '../src/store/memory-device-registry.js';
import { markdownTable } from './markdown-table.js';
import type { BenchOptions, BenchResult } from './types.js';

const CHROMIUM = process.env.SBP_CHROMIUM ?? '/usr/bin/chromium';
const VIEWER = 'bench-viewer-token-0123456789';
const AGENT = 'bench_agent';

interface Load {
  devices: number;
  /** Location updates per device per second. */
  hz: number;
  seconds: number;
}

interface Measured {
  messages: number;
  received: number;
  /** Main-thread task time (script, style, layout, paint) per message, ms. */
  taskMsPerMessage: number;
  /** Share of wall time the main thread was busy. */
  busy: number;
}

/** Devices wander in the demo home; each tick sends one location update per device due, as the worker would. */
function* updates(load: Load, tick: number): Generator<Message> {
  const { bounds } = demoHomeScenario().site;
  for (let d = 0; d < load.devices; d++) {
    const phase = (tick / 10) * load.hz * 0.3 + d;
    const x = bounds.minX + ((Math.sin(phase) + 1) / 2) * (bounds.maxX - bounds.minX);
    const y = bounds.minY + ((Math.cos(phase * 0.7 + d) + 1) / 2) * (bounds.maxY - bounds.minY);
    yield makeMessage('deviceUpdate', AGENT, {
      deviceId: `dev-${d}`,
      location: { x, y, confidence: 0.8, uncertainty: 0.5 + (d % 5) * 0.3 },
    });
  }
}

/** Chromium's cumulative main-thread task time of the page, seconds, through one DevTools session. */
async function taskClock(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    if (process.env.SBP_BENCH_DEBUG)
      console.log(
        JSON.stringify(metrics.filter((m) => m.name.endsWith('Duration') || m.name.endsWith('Count'))),
      );
    return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
  };
}

async function measure(
  browser: Browser,
  load: Load,
  open: (page: Page) => Promise<void>,
  count: (page: Page) => Promise<number>,
): Promise<Measured> {
  const bus = new MemoryResultsBus();
  const hub = await buildHub(
    { host: '127.0.0.1', port: 0, tokens: { agents: {}, viewers: [VIEWER] }, logLevel: 'silent' },
    {
      sink: { offer: () => null, flush: async () => {}, close: async () => {} },
      results: bus,
      registry: new MemoryDeviceRegistry(),
      metrics: new Registry(),
      logger: pino({ level: 'silent' }),
      plugins: [dashboardPlugin({ site: demoHomeScenario().site })],
    },
  );
  const address = await hub.listen();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  try {
    await page.goto(`${address.httpUrl}/`);
    await open(page);
    const taskSeconds = await taskClock(page);
    // Ten ticks a second; every device sends `hz` updates a second, spread over the ticks.
    const ticks = load.seconds * 10;
    let sent = 0;
    const startTask = await taskSeconds();
    const started = performance.now();
    for (let tick = 0; tick < ticks; tick++) {
      const due = [...updates(load, tick)].filter(
        (_, d) => (tick + d) % Math.max(1, Math.round(10 / load.hz)) === 0,
      );
      await bus.publish(due);
      sent += due.length;
      const next = started + (tick + 1) * 100;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    let received = 0;
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      received = await count(page);
      if (received >= sent) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const wall = (performance.now() - started) / 1000;
    const task = (await taskSeconds()) - startTask;
    return { messages: sent, received, taskMsPerMessage: (task * 1000) / sent, busy: task / wall };
  } finally {
    await page.close();
    await hub.close();
    await bus.close();
  }
}

/** The dashboard itself. */
const dashboard = (browser: Browser, load: Load) =>
  measure(
    browser,
    load,
    async (page) => {
      await page.goto(`${page.url()}?token=${VIEWER}`);
      await page.waitForSelector('#conn[data-state="open"]');
    },
    (page) => page.evaluate(() => Number(document.documentElement.dataset.messages ?? 0)),
  );

/** The floor: a bare socket on the same origin that parses every message and keeps nothing. */
const rawSocket = (browser: Browser, load: Load) =>
  measure(
    browser,
    load,
    async (page) => {
      await page.evaluate(async (token) => {
        const w = window as unknown as { rawCount: number };
        w.rawCount = 0;
        const socket = new WebSocket(`ws://${location.host}/ws?token=${token}`);
        socket.onmessage = (e) => {
          JSON.parse(e.data as string);
          w.rawCount++;
        };
        await new Promise((resolve) => {
          socket.onopen = resolve;
        });
      }, VIEWER);
    },
    (page) => page.evaluate(() => (window as unknown as { rawCount: number }).rawCount),
  );

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const title = 'Dashboard: browser main-thread cost of live device updates';
  if (!existsSync(CHROMIUM)) {
    return {
      title,
      table: '(skipped)',
      notes: [`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`],
    };
  }
  const loads: Load[] = opts.quick
    ? [
        { devices: 10, hz: 1, seconds: 4 },
        { devices: 100, hz: 1, seconds: 4 },
      ]
    : [
        { devices: 10, hz: 1, seconds: 10 },
        { devices: 20, hz: 1, seconds: 10 },
        { devices: 100, hz: 1, seconds: 10 },
        { devices: 300, hz: 1, seconds: 10 },
        { devices: 300, hz: 4, seconds: 10 },
      ];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  try {
    for (const load of loads) {
      const raw = await rawSocket(browser, load);
      const dash = await dashboard(browser, load);
      rows.push([
        `${load.devices} devices × ${load.hz} Hz, ${load.seconds} s`,
        `${dash.received} / ${dash.messages}`,
        dash.taskMsPerMessage.toFixed(3),
        `${(dash.busy * 100).toFixed(1)}%`,
        raw.taskMsPerMessage.toFixed(3),
        `${(raw.busy * 100).toFixed(1)}%`,
        (dash.taskMsPerMessage / raw.taskMsPerMessage).toFixed(1),
      ]);
      if (dash.received < dash.messages) notes.push(`${load.devices} devices: the page missed messages`);
    }
  } finally {
    await browser.close();
  }
  notes.push(
    "Task time is Chromium's TaskDuration (script, style, layout, paint) over the run, from the DevTools protocol; " +
      'the baseline page only receives and JSON-parses the same stream from the same hub.',
    'The dashboard redraws at most once per animation frame, so its cost per message falls as the message rate rises. ' +
      'Up to 12 located devices it animates moves (0.4 s), which repaints the moving layer every frame; headless Chromium here paints ' +
      'in software (--disable-gpu), the worst case — a desktop browser rasterises on the GPU.',
  );
  return {
    title,
    table: markdownTable(
      [
        'load',
        'messages shown / sent',
        'dashboard ms per message',
        'dashboard main thread busy',
        'raw socket ms per message',
        'raw busy',
        'ratio',
      ],
      rows,
    ),
    notes,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({ quick: process.argv.includes('--quick') });
  console.log(`### ${result.title}\n\n${result.table}\n`);
  for (const n of result.notes ?? []) console.log(`- ${n}`);
}
