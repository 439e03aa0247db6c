import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { buildHub, type Hub, type HubAddress, type HubDeps } from '../../src/hub/build-hub.js';
import type { HubConfigInput } from '../../src/hub/hub-config.js';
import type { IngestRecord, IngestSink } from '../../src/ingest/ingest-sink.js';
import { MemoryResultsBus } from '../../src/ingest/memory-results-bus.js';
import { type Message, ProtocolError } from '../../src/protocol/index.js';
import { MemoryDeviceRegistry } from '../../src/store/memory-device-registry.js';

export const AGENT = 'desktop_agent_001';
export const AGENT_TOKEN = 'agent-token-aaaaaaaaaaaaaaaaaaaa';
export const OTHER_AGENT = 'agent_two';
export const OTHER_TOKEN = 'agent-token-bbbbbbbbbbbbbbbbbbbb';
export const VIEWER_TOKEN = 'viewer-token-cccccccccccccccccccc';
export const TOKENS = {
  agents: { [AGENT]: AGENT_TOKEN, [OTHER_AGENT]: OTHER_TOKEN },
  viewers: [VIEWER_TOKEN],
};

export type Example = Message & { data: Record<string, unknown> };
export const EXAMPLES = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/spec-examples.json'), 'utf8'),
) as Example[];

export function example(type: string, agentId = AGENT): Example {
  const found = EXAMPLES.find((e) => e.type === type);
  if (!found) throw new Error(`no spec example for ${type}`);
  return { ...structuredClone(found), agentId } as Example;
}

/** An ingest sink that keeps what it was offered; `refuse` makes it answer QUEUE_FULL, as a full queue does. */
export class RecordingSink implements IngestSink {
  readonly records: IngestRecord[] = [];
  refuse = false;

  offer(record: IngestRecord): ProtocolError | null {
    if (this.refuse) return new ProtocolError('QUEUE_FULL', 'ingestion buffer is full; resend later');
    this.records.push(record);
    return null;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

export interface TestHub {
  hub: Hub;
  address: HubAddress;
  url: string;
  sink: RecordingSink;
  bus: MemoryResultsBus;
  registry: MemoryDeviceRegistry;
  metrics: Registry;
  close(): Promise<void>;
}

/** A hub on a free loopback port with in-memory dependencies and quiet logs. */
export async function startHub(
  config: Partial<HubConfigInput> = {},
  deps: Partial<HubDeps> = {},
): Promise<TestHub> {
  const sink = new RecordingSink();
  const bus = new MemoryResultsBus();
  const registry = new MemoryDeviceRegistry();
  const metrics = new Registry();
  const hub = await buildHub(
    { host: '127.0.0.1', port: 0, tokens: TOKENS, logLevel: 'silent', ...config },
    { sink, results: bus, registry, metrics, logger: pino({ level: 'silent' }), ...deps },
  );
  const address = await hub.listen();
  return {
    hub,
    address,
    url: address.wsUrl,
    sink,
    bus,
    registry,
    metrics,
    close: async () => {
      await hub.close();
      await bus.close();
    },
  };
}

/** A real `ws` client that records everything it receives. */
export class Client {
  readonly received: Message[] = [];
  readonly socket: WebSocket;
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  #waiters: Array<() => void> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as Message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolveClosed) => {
      socket.on('close', (code) => {
        this.closeCode = code;
        for (const wake of this.#waiters.splice(0)) wake();
        resolveClosed(code);
      });
    });
  }

  static connect(
    url: string,
    token: string | undefined,
    opts: { query?: boolean; ca?: Buffer; maxPayload?: number } = {},
  ): Promise<Client> {
    const target = token !== undefined && opts.query ? `${url}?token=${encodeURIComponent(token)}` : url;
    const headers = token !== undefined && !opts.query ? { authorization: `Bearer ${token}` } : undefined;
    const socket = new WebSocket(target, {
      ...(headers ? { headers } : {}),
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.maxPayload ? { maxPayload: opts.maxPayload } : {}),
    });
    return new Promise((resolveOpen, rejectOpen) => {
      socket.once('open', () => resolveOpen(new Client(socket)));
      socket.once('unexpected-response', (_req, res) => rejectOpen(new Error(`HTTP ${res.statusCode}`)));
      socket.once('error', rejectOpen);
    });
  }

  send(message: unknown): void {
    this.socket.send(
      typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message),
    );
  }

  /** Waits until `count` messages (matching `filter`, if given) have arrived; returns them. */
  async waitFor(
    count: number,
    filter: (m: Message) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Message[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter(filter);
      if (matching.length >= count) return matching;
      if (this.closeCode !== undefined)
        throw new Error(`socket closed (${this.closeCode}) with ${matching.length}/${count}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${matching.length}/${count} messages`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** Sends a frame and waits for the next message received (the hub's reply). */
  async request(message: unknown): Promise<Message> {
    const before = this.received.length;
    this.send(message);
    const all = await this.waitFor(before + 1);
    return all[before]!;
  }

  errors(): Array<Message & { type: 'error' }> {
    return this.received.filter((m): m is Message & { type: 'error' } => m.type === 'error');
  }

  close(): Promise<number> {
    if (this.closeCode === undefined) this.socket.close();
    return this.closed;
  }
}

/** A round trip through the hub: proves the connection still works and everything sent before was handled. */
export async function roundTrip(client: Client): Promise<void> {
  const reply = await client.request('{"not":"a message"}');
  if (reply.type !== 'error') throw new Error(`expected an error reply, got ${reply.type}`);
}

/** Connects and expects the upgrade to be refused; returns the HTTP status. */
export function refusedStatus(
  url: string,
  headers: Record<string, string> = {},
  ca?: Buffer,
): Promise<number> {
  return new Promise((resolveStatus, rejectStatus) => {
    const socket = new WebSocket(url, { headers, ...(ca ? { ca } : {}) });
    socket.once('unexpected-response', (_req, res) => {
      resolveStatus(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      rejectStatus(new Error('upgrade was accepted'));
    });
    socket.once('error', rejectStatus);
  });
}
