import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { buildHub, type Hub, type HubAddress } from '../../src/hub/build-hub.js';
import { type DashboardOptions, dashboardPlugin } from '../../src/hub/dashboard/dashboard-plugin.js';
import type { IngestSink } from '../../src/ingest/ingest-sink.js';
import { MemoryResultsBus } from '../../src/ingest/memory-results-bus.js';
import { type Message, type MessageOf, type MessageType, makeMessage } from '../../src/protocol/index.js';
import { MemoryDeviceRegistry } from '../../src/store/memory-device-registry.js';
import { createVersionDir, publishVersion, writeMetadata } from '../../src/training/model-dir.js';
import { CHROMIUM_PATH } from '../helpers/system-requirement.js';

export const AGENT_ID = 'web_test_agent';
export const AGENT_TOKEN = 'web-agent-token-0123456789abcdef';
export const VIEWER_TOKEN = 'web-viewer-token-0123456789abcdef';
export const TOKENS = { agents: { [AGENT_ID]: AGENT_TOKEN }, viewers: [VIEWER_TOKEN] };

/** A flat of 8 m × 5 m: a living room on the left, kitchen and bedroom on the right, four anchors in the corners. */
export const SITE = {
  name: 'test-flat',
  units: 'm',
  bounds: { minX: 0, minY: 0, maxX: 8, maxY: 5 },
  rooms: [
    {
      id: 'living_room',
      name: 'Living room',
      polygon: [
        [0, 0],
        [5, 0],
        [5, 5],
        [0, 5],
      ],
    },
    {
      id: 'kitchen',
      name: 'Kitchen',
      polygon: [
        [5, 0],
        [8, 0],
        [8, 2.5],
        [5, 2.5],
      ],
    },
    {
      id: 'bedroom',
      name: 'Bedroom',
      polygon: [
        [5, 2.5],
        [8, 2.5],
        [8, 5],
        [5, 5],
      ],
    },
  ],
  anchors: [
    { id: '198.51.100.1', label: 'ap-sw', x: 0.2, y: 0.2 },
    { id: '198.51.100.2', label: 'ap-nw', x: 0.2, y: 4.8 },
    { id: '198.51.100.3', label: 'ap-se', x: 7.8, y: 0.2 },
    { id: '198.51.100.4', label: 'ap-ne', x: 7.8, y: 4.8 },
  ],
};

/**
 * A model directory with two versions. The live one kept per-point held-out errors of a walk that covered the
 * living room and the kitchen but never the bedroom: the coverage view must send the user to the bedroom.
 */
export async function makeModelDir(): Promise<{ root: string; latest: string; older: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sbp-web-models-'));
  const heldOut: { x: number; y: number; error: number }[] = [];
  for (let x = 0.5; x < 8; x += 0.5) {
    for (let y = 0.5; y < 5; y += 0.5) {
      if (x > 5 && y > 2.5) continue;
      // Error grows towards the kitchen's far corner.
      heldOut.push({ x, y, error: Number((0.4 + 0.12 * x + 0.05 * y).toFixed(3)) });
    }
  }
  const older = await createVersionDir(root, new Date('2026-01-01T10:00:00Z'));
  await writeMetadata(older.path, {
    formatVersion: 1,
    version: older.version,
    createdAt: '2026-01-01T10:00:00.000Z',
    positioning: {
      model: 'multilateration',
      metrics: { n: 40, meanError: 1.9, medianError: 1.6, p90Error: 3.4 },
    },
  });
  const latest = await createVersionDir(root, new Date('2026-01-02T10:00:00Z'));
  await writeMetadata(latest.path, {
    formatVersion: 1,
    version: latest.version,
    createdAt: '2026-01-02T10:00:00.000Z',
    parent: older.version,
    positioning: {
      model: 'fusion',
      metrics: { n: heldOut.length, meanError: 0.91, medianError: 0.82, p90Error: 1.52, roomAccuracy: 0.93 },
      heldOut,
    },
    anomaly: { model: 'isolation_forest', metrics: { auc: 0.941, threshold: 0.62, alertsPerWeek: 2 } },
  });
  await publishVersion(root, latest.version);
  return { root, latest: latest.version, older: older.version };
}

/** A sink that accepts and forgets: these tests play the worker's results themselves. */
class NullSink implements IngestSink {
  offer() {
    return null;
  }
  async flush() {}
  async close() {}
}

export interface DashboardHub {
  hub: Hub;
  address: HubAddress;
  registry: MemoryDeviceRegistry;
  bus: MemoryResultsBus;
  close(): Promise<void>;
}

export async function startDashboardHub(options: DashboardOptions, port = 0): Promise<DashboardHub> {
  const registry = new MemoryDeviceRegistry();
  const bus = new MemoryResultsBus();
  const hub = await buildHub(
    { host: '127.0.0.1', port, tokens: TOKENS, logLevel: 'silent' },
    {
      sink: new NullSink(),
      results: bus,
      registry,
      metrics: new Registry(),
      logger: pino({ level: 'silent' }),
      plugins: [dashboardPlugin(options)],
    },
  );
  const address = await hub.listen();
  return {
    hub,
    address,
    registry,
    bus,
    async close() {
      await hub.close();
      await bus.close();
    },
  };
}

/** Plays an agent over a real socket, with the agent's Bearer token; waits for the hub to accept each message. */
export class ScriptedAgent {
  private constructor(
    private readonly socket: WebSocket,
    readonly errors: Message[],
    readonly agentId: string,
  ) {}

  static async connect(wsUrl: string, agentId = AGENT_ID, token = AGENT_TOKEN): Promise<ScriptedAgent> {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } });
    const errors: Message[] = [];
    socket.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Message;
      if (m.type === 'error') errors.push(m);
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new ScriptedAgent(socket, errors, agentId);
  }

  send<T extends MessageType>(type: T, data: MessageOf<T>['data']): void {
    this.socket.send(JSON.stringify(makeMessage(type, this.agentId, data)));
  }

  close(): void {
    this.socket.close();
  }
}

export const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: BROWSER_ARGS });
}

/** A page at laptop size that fails the test on any script error or failed request it did not expect. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  // Only loopback: anything else the page tries to reach is a bug (offline, no CDNs).
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    problems.push(`request off loopback: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(url);
  return { page, problems };
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');
