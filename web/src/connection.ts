// The viewer's socket to the hub, reconnecting by itself with the spec's backoff: 1, 2, 4, 8, 16 s, capped at 30 s,
// 10 attempts before it asks for a manual reconnect. A little jitter keeps many viewers from reconnecting in step
// after a hub restart.

export type ConnectionState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open'; since: number }
  | { kind: 'waiting'; attempt: number; retryAt: number; reason: string }
  | { kind: 'gave-up'; reason: string }
  | { kind: 'refused'; reason: string };

export interface ConnectionOptions {
  url: string;
  onMessage(data: unknown): void;
  onState(state: ConnectionState): void;
  /** @defaultValue 10 */
  maxAttempts?: number;
  /** @defaultValue 30_000 */
  maxDelayMs?: number;
  /** Fraction of the delay added at random; @defaultValue 0.1 */
  jitter?: number;
}

/** The delay before reconnect attempt `attempt` (1-based), in ms, before jitter. */
export function backoffDelay(attempt: number, maxDelayMs = 30_000): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), maxDelayMs);
}

// Close codes the hub uses for a refused token (docs/protocol.md); retrying cannot help.
const AUTH_CLOSE_CODES = new Set([4401, 1008]);

export class HubConnection {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;
  private authRefused = false;
  state: ConnectionState = { kind: 'connecting', attempt: 1 };

  constructor(private readonly options: ConnectionOptions) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Reconnects now (the user's button, the browser coming back online). */
  reconnectNow(): void {
    if (this.state.kind === 'open' || this.state.kind === 'connecting') return;
    this.failures = 0;
    this.authRefused = false;
    this.clearTimer();
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.socket?.close(1000, 'page closed');
    this.socket = null;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private open(): void {
    this.setState({ kind: 'connecting', attempt: this.failures + 1 });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.options.url);
    } catch (error) {
      this.setState({ kind: 'refused', reason: `bad hub address: ${String(error)}` });
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.setState({ kind: 'open', since: Date.now() });
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return;
      }
      if (isAuthError(parsed)) this.authRefused = true;
      this.options.onMessage(parsed);
    });
    // 'error' is always followed by 'close'; the close handler does the bookkeeping.
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (this.authRefused || AUTH_CLOSE_CODES.has(event.code)) {
        this.setState({ kind: 'refused', reason: 'the hub refused this viewer token' });
        return;
      }
      this.scheduleRetry(event.code === 1006 ? 'hub unreachable' : `closed (${event.code})`);
    });
  }

  private scheduleRetry(reason: string): void {
    this.failures++;
    const max = this.options.maxAttempts ?? 10;
    if (this.failures > max) {
      this.setState({ kind: 'gave-up', reason: `${reason}; gave up after ${max} attempts` });
      return;
    }
    const base = backoffDelay(this.failures, this.options.maxDelayMs);
    const delay = base * (1 + (this.options.jitter ?? 0.1) * Math.random());
    this.setState({ kind: 'waiting', attempt: this.failures + 1, retryAt: Date.now() + delay, reason });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }
}

function isAuthError(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as { type?: unknown; data?: { errorCode?: unknown } };
  return m.type === 'error' && m.data?.errorCode === 'AUTH_FAILED';
}
