import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Message, makeErrorMessage, parseFrame } from '../../../src/protocol/index.js';

export interface MiniHubOptions {
  agents: Record<string, string>;
  port?: number;
  /** false: never answer pings (a hub that is alive at TCP level but dead above). @defaultValue true */
  autoPong?: boolean;
  /** Decide per message whether to refuse it with an error code (RATE_LIMITED, QUEUE_FULL, …). */
  refuse?: (message: Message, index: number) => 'RATE_LIMITED' | 'QUEUE_FULL' | 'INVALID_DATA' | undefined;
}

/**
 * A minimal hub for agent tests: checks the Bearer token against the agent table (401 before the upgrade),
 * validates frames with the protocol schemas, records accepted messages, and can refuse chosen ones.
 */
export class MiniHub {
  readonly received: Message[] = [];
  readonly refused: { message: Message; code: string }[] = [];
  readonly sockets = new Set<WebSocket>();
  readonly invalid: string[] = [];
  private wss!: WebSocketServer;
  private index = 0;

  constructor(private readonly options: MiniHubOptions) {}

  async listen(): Promise<string> {
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: this.options.port ?? 0,
      path: '/ws',
      autoPong: this.options.autoPong ?? true,
      verifyClient: (info, cb) => {
        const header = info.req.headers.authorization ?? '';
        const token = /^Bearer (\S+)$/.exec(header)?.[1];
        const ok = token !== undefined && Object.values(this.options.agents).includes(token);
        if (ok) cb(true);
        else cb(false, 401, 'Unauthorized');
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.wss.once('listening', resolve);
      this.wss.once('error', reject);
    });
    this.wss.on('connection', (ws, req) => {
      this.sockets.add(ws);
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const bound = Object.entries(this.options.agents).find(([, t]) => t === token)?.[0];
      ws.on('error', () => {});
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('message', (data) => {
        const parsed = parseFrame(data as Buffer);
        if (!parsed.ok) {
          this.invalid.push(parsed.error.message);
          ws.send(JSON.stringify(makeErrorMessage('INVALID_DATA', parsed.error.message, bound)));
          return;
        }
        const m = parsed.message;
        if (m.agentId !== bound) {
          ws.send(JSON.stringify(makeErrorMessage('AUTH_FAILED', 'agentId not bound to this token', bound)));
          ws.close(4401, 'AUTH_FAILED');
          return;
        }
        const code = this.options.refuse?.(m, this.index++);
        if (code !== undefined) {
          this.refused.push({ message: m, code });
          ws.send(JSON.stringify(makeErrorMessage(code, `refused: ${code}`, bound)));
          return;
        }
        this.received.push(m);
      });
    });
    const { port } = this.wss.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/ws`;
  }

  /** Sends a message to every connected agent socket. */
  broadcast(message: Message): void {
    for (const ws of this.sockets) ws.send(JSON.stringify(message));
  }

  /** Drops every connection abruptly (like a crash), keeping the server listening. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  ofType<T extends Message['type']>(type: T): Extract<Message, { type: T }>[] {
    return this.received.filter((m): m is Extract<Message, { type: T }> => m.type === type);
  }
}

/** Polls until `predicate` holds (real time), or throws after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
