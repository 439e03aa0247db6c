import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  ERROR_CATALOGUE,
  type ErrorMessage,
  MAX_MESSAGE_BYTES,
  type Message,
  type MessageOf,
  parseFrame,
  parseMessage,
} from '../protocol/index.js';
import { type BackoffPolicy, backoffDelayMs, SPEC_BACKOFF } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';
import { Outbox, type OutboxEntry, type OutboxStats } from './outbox.js';
import { SendPacer } from './send-pacer.js';

export type ConnectionState =
  /** Created, `start()` not called yet. */
  | 'idle'
  /** A WebSocket handshake is in progress. */
  | 'connecting'
  /** Connected: messages flow. */
  | 'open'
  /** Disconnected, waiting out a backoff delay before the next attempt. */
  | 'waiting'
  /** Every retry failed: manual intervention is needed (`reconnectNow()` starts over). */
  | 'gave_up'
  /** The hub refused the token or the agentId: retrying cannot help. */
  | 'auth_failed'
  /** `stop()` was called. */
  | 'stopped';

export interface TlsClientOptions {
  /** Extra CA certificate(s) (PEM) to trust for wss://, e.g. a self-signed hub. */
  ca?: string | Buffer;
  /** false accepts any certificate (`--insecure`): for tests and labs only. @defaultValue true */
  rejectUnauthorized?: boolean;
}

export interface ConnectionOptions {
  /** `ws://host:port/ws` or `wss://…`. */
  url: string;
  agentId: string;
  /** Sent as `Authorization: Bearer <token>`; never logged. */
  token: string;
  clock: Clock;
  logger: Logger;
  /** @defaultValue the spec's: 1, 2, 4, 8, 16 s, capped at 30 s, 10 attempts */
  backoff?: BackoffPolicy;
  /** Messages held while disconnected (or waiting for the rate limit). @defaultValue 1000 (spec) */
  bufferCapacity?: number;
  /** No frame, ping or pong from the hub for this long → the connection is dead: reconnect. @defaultValue 90 000 (spec) */
  heartbeatTimeoutMs?: number;
  /** WebSocket ping to the hub this often while idle (keeps NAT state, measures RTT). @defaultValue 30 000 */
  keepaliveMs?: number;
  /** Handshake must complete within this. @defaultValue 10 000 */
  connectTimeoutMs?: number;
  /** Client-side pacing; the hub refuses more than its limit. 0 = unpaced. @defaultValue 100 (spec) */
  maxMessagesPerMinute?: number;
  /** Messages that may leave at once after a quiet period. @defaultValue 10 */
  burst?: number;
  /** Fraction of `maxMessagesPerMinute` actually used, leaving room for clock skew. @defaultValue 0.95 */
  paceFraction?: number;
  tls?: TlsClientOptions;
  /**
   * Messages written first on every new connection, before anything buffered: `agent_register`, then a heartbeat.
   * Built at connect time so they carry fresh values.
   */
  greeting: (info: { localAddress: string | undefined }) => Message[];
  /** `Math.random` unless a test fixes it (only used when backoff jitter > 0). */
  random?: () => number;
}

export type SendResult = { ok: true } | { ok: false; reason: string; path: string };

export interface ConnectionStats {
  state: ConnectionState;
  outbox: OutboxStats;
  /** Written to a socket, awaiting the hub's pong that proves it read them. */
  unconfirmed: number;
  /** Messages written to sockets (re-sends included). */
  sent: number;
  /** Messages the hub has confirmed reading (pong after the frame). */
  confirmed: number;
  /** Re-sent after a disconnect, QUEUE_FULL or RATE_LIMITED. */
  resent: number;
  /** Refused locally because they did not validate. */
  invalidOutgoing: number;
  /** Refused by the hub with INVALID_DATA (a schema mismatch between agent and hub). */
  rejectedByHub: number;
  rateLimited: number;
  queueFull: number;
  /** Successful connections since start. */
  connections: number;
  /** Connection drops and failed attempts since start. */
  failures: number;
  /** Retry number of the current outage (0 when connected). */
  attempt: number;
  heartbeatTimeouts: number;
  /** Pongs received from the hub (barriers and keepalives). */
  pongs: number;
  /** Smoothed WebSocket ping→pong time to the hub, ms; undefined before the first pong. */
  hubRttMs: number | undefined;
  /** Current pacing rate, messages per minute (Infinity = unpaced). */
  sendRate: number;
}

export interface ConnectionEvents {
  state: [state: ConnectionState];
  open: [info: { connection: number; url: string }];
  close: [info: { code: number; reason: string; wasOpen: boolean }];
  reconnect_scheduled: [info: { attempt: number; delayMs: number; maxAttempts: number }];
  gave_up: [info: { attempts: number; lastError: string }];
  auth_failed: [info: { reason: string }];
  heartbeat_timeout: [info: { silentMs: number }];
  /** A valid message from the hub. */
  message: [message: Message];
  /** The hub's `error` frames (also delivered as `message`). */
  hub_error: [error: ErrorMessage];
  /** A frame from the hub that does not validate (logged, ignored). */
  invalid_frame: [info: { reason: string }];
  /** An outgoing message failed validation and was not sent. */
  invalid_outgoing: [info: { type: string; reason: string; path: string }];
  /** The outbox was full and dropped its oldest entry. */
  dropped: [entry: OutboxEntry];
  /** A message was written to the socket. */
  sent: [entry: OutboxEntry];
}

interface Unconfirmed {
  entry: OutboxEntry;
  /** Index of the first barrier ping written after it; undefined until one is. */
  index: number | undefined;
}

const PING_PAYLOAD_BYTES = 6;
/**
 * Barrier pings awaiting their pong. ws (the hub's socket library) terminates a peer with more than 60 auto-pongs
 * pending (`maxPendingAutoPongs`, a ping-flood guard), so bursts share barriers instead of sending one each.
 */
const MAX_PINGS_IN_FLIGHT = 32;
/** After a refusal, one message per barrier for this long, so the next refusal is attributed exactly. */
const CAREFUL_MS = 60_000;

/**
 * The agent's link to the hub: connect with the token, re-connect with the spec's backoff, buffer while
 * disconnected, pace under the hub's rate limit, detect a dead hub, and resend what the hub did not take.
 *
 * Delivery: after a message frame the connection writes a WebSocket ping carrying a running index (a "barrier";
 * at most 32 in flight, so in a burst several messages share one). The hub's pong for index i proves it has read
 * every frame written before ping i (WebSocket answers pings in stream order), so those messages are "confirmed". On
 * a disconnect every unconfirmed message goes back to the front of the outbox and is resent after the reconnect:
 * nothing is lost in flight when a hub dies, at the price of possible duplicates of the last few messages (the hub's
 * idempotency keys — agentId + sequenceNumber, calibrationId — absorb them for probes).
 *
 * Refusals (RATE_LIMITED, QUEUE_FULL) do not say which message they refuse unless the hub puts a `sequenceNumber` or
 * `calibrationId` in the error's context. Otherwise the order tells: the hub answers a message before it reads the
 * barrier after it, so the refused message is in the oldest unconfirmed barrier group — exactly the oldest
 * unconfirmed message when each message had its own barrier. When the group holds several messages, all of them are
 * resent (no loss, possible duplicates), and for the next minute the connection sends one message per barrier and
 * waits for its pong before the next, so later refusals are exact.
 */
export class AgentConnection extends EventEmitter<ConnectionEvents> {
  private readonly opts: Required<Omit<ConnectionOptions, 'tls' | 'random'>> & {
    tls: TlsClientOptions | undefined;
    random: () => number;
  };
  private readonly outbox: Outbox;
  private readonly pacer: SendPacer;
  private readonly unconfirmed: Unconfirmed[] = [];
  private ws: WebSocket | undefined;
  private stateValue: ConnectionState = 'idle';
  private attempt = 0;
  private lastError = '';
  private lastInboundAt = 0;
  private pingIndex = 0;
  private readonly pingSentAt = new Map<number, number>();
  private hubRtt: number | undefined;
  private queueFullStreak = 0;
  private carefulUntil = 0;
  private needsBarrier = false;
  private retryTimer: TimerHandle | undefined;
  private pumpTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private keepaliveTimer: TimerHandle | undefined;
  private authStatus: number | undefined;
  private localAddress: string | undefined;
  private counters = {
    sent: 0,
    confirmed: 0,
    resent: 0,
    invalidOutgoing: 0,
    rejectedByHub: 0,
    rateLimited: 0,
    queueFull: 0,
    connections: 0,
    failures: 0,
    heartbeatTimeouts: 0,
    pongs: 0,
  };

  constructor(options: ConnectionOptions) {
    super();
    this.opts = {
      backoff: SPEC_BACKOFF,
      bufferCapacity: 1000,
      heartbeatTimeoutMs: 90_000,
      keepaliveMs: 30_000,
      connectTimeoutMs: 10_000,
      maxMessagesPerMinute: 100,
      burst: 10,
      paceFraction: 0.95,
      ...options,
      tls: options.tls,
      random: options.random ?? Math.random,
    };
    const url = new URL(this.opts.url);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new Error(`hub URL must start with ws:// or wss://, got ${url.protocol}//`);
    }
    this.outbox = new Outbox(this.opts.bufferCapacity, (entry) => this.emit('dropped', entry));
    const limit = this.opts.maxMessagesPerMinute;
    this.pacer = new SendPacer(
      limit > 0 ? limit * this.opts.paceFraction : 0,
      Math.max(1, Math.min(this.opts.burst, limit > 0 ? limit : this.opts.burst)),
      this.opts.clock.now(),
    );
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get isOpen(): boolean {
    return this.stateValue === 'open';
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.connect();
  }

  /**
   * Validates and queues a message; it leaves as soon as the connection and the pacing allow. Returns false (and
   * sends nothing) when it does not validate — a bug in the agent becomes a local error, not a hub rejection.
   */
  send(message: Message): SendResult {
    const entry = this.prepare(message, false);
    if (!('frame' in entry)) return entry;
    this.outbox.push(entry);
    this.pump();
    return { ok: true };
  }

  /**
   * Like `send`, but only while connected and ahead of the queue (heartbeats, health reports: a stale one is worth
   * nothing after a reconnect). Returns false when not connected or invalid.
   */
  sendNowIfOpen(message: Message): boolean {
    if (this.stateValue !== 'open') return false;
    const entry = this.prepare(message, true);
    if (!('frame' in entry)) return false;
    this.outbox.requeueFront([entry]);
    this.pump();
    return true;
  }

  /** Manual intervention after `gave_up`: start a fresh round of attempts now. */
  reconnectNow(): void {
    if (this.stateValue !== 'gave_up' && this.stateValue !== 'waiting') return;
    this.retryTimer?.cancel();
    this.attempt = 0;
    this.connect();
  }

  stats(): ConnectionStats {
    return {
      state: this.stateValue,
      outbox: this.outbox.stats(),
      unconfirmed: this.unconfirmed.length,
      ...this.counters,
      attempt: this.attempt,
      hubRttMs: this.hubRtt,
      sendRate: this.pacer.rate,
    };
  }

  /** Messages waiting (outbox + written but unconfirmed): what a heartbeat reports as `bufferedMessages`. */
  get pending(): number {
    return this.outbox.size + this.unconfirmed.length;
  }

  /**
   * Stops for good. With `flushMs` > 0 and an open connection, first waits (at most that long) until everything
   * queued has been written and confirmed by the hub.
   */
  async stop(options: { flushMs?: number } = {}): Promise<void> {
    if (this.stateValue === 'stopped') return;
    const flushMs = options.flushMs ?? 0;
    if (flushMs > 0 && this.stateValue === 'open') {
      // Waiting for I/O, not for agent logic: real time, whatever clock drives the timers.
      const deadline = performance.now() + flushMs;
      while (this.pending > 0 && this.stateValue === 'open' && performance.now() < deadline) {
        await new Promise<void>((resolve) => setTimeout(resolve, 20));
      }
    }
    this.setState('stopped');
    this.clearTimers();
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined) {
      await new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'agent stopping');
        else ws.terminate();
      });
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  private prepare(
    message: Message,
    ephemeral: boolean,
  ): OutboxEntry | { ok: false; reason: string; path: string } {
    const result = parseMessage(message);
    if (!result.ok) {
      this.counters.invalidOutgoing++;
      const path = result.error.path ?? '';
      this.opts.logger.error(
        { type: message.type, path, reason: result.error.message },
        'outgoing message does not validate; not sent (agent bug)',
      );
      this.emit('invalid_outgoing', { type: String(message.type), reason: result.error.message, path });
      return { ok: false, reason: result.error.message, path };
    }
    const frame = JSON.stringify(result.message);
    if (Buffer.byteLength(frame) > MAX_MESSAGE_BYTES) {
      this.counters.invalidOutgoing++;
      const reason = 'over the 1 MB message limit';
      this.opts.logger.error(
        { type: message.type, bytes: frame.length },
        'outgoing message over 1 MB; not sent',
      );
      this.emit('invalid_outgoing', { type: message.type, reason, path: '' });
      return { ok: false, reason, path: '' };
    }
    return { message: result.message, frame, producedAt: this.opts.clock.now(), ephemeral, sends: 0 };
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private connect(): void {
    this.setState('connecting');
    this.authStatus = undefined;
    const { url, token, tls } = this.opts;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        headers: { Authorization: `Bearer ${token}` },
        handshakeTimeout: this.opts.connectTimeoutMs,
        // Results can be large (a location for every device); the spec caps a message at 1 MB.
        maxPayload: 2 * MAX_MESSAGE_BYTES,
        perMessageDeflate: false,
        ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls?.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
      });
    } catch (error) {
      this.lastError = (error as Error).message;
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.on('unexpected-response', (_req, res) => {
      this.authStatus = res.statusCode;
      this.lastError = `hub answered the upgrade with HTTP ${res.statusCode}`;
      ws.terminate();
    });
    ws.on('upgrade', (res) => {
      this.localAddress = res.socket.localAddress;
    });
    ws.on('error', (error) => {
      // Always followed by 'close'; kept for the message.
      this.lastError = error.message;
    });
    ws.on('open', () => {
      if (this.ws !== ws) return;
      opened = true;
      this.onOpen(ws);
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.touch();
      if (isBinary) {
        this.emit('invalid_frame', { reason: 'binary frame' });
        return;
      }
      this.onFrame(data as Buffer);
    });
    ws.on('pong', (data) => {
      if (this.ws !== ws) return;
      this.touch();
      this.onPong(data);
    });
    ws.on('ping', () => {
      if (this.ws !== ws) return;
      this.touch();
    });
    ws.on('close', (code, reasonBuffer) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.onClose(code, reasonBuffer.toString('utf8'), opened);
    });
  }

  private onOpen(ws: WebSocket): void {
    this.attempt = 0;
    this.queueFullStreak = 0;
    this.counters.connections++;
    this.lastInboundAt = this.opts.clock.now();
    this.pingSentAt.clear();
    this.needsBarrier = false;
    this.setState('open');
    this.opts.logger.info({ url: this.opts.url, connection: this.counters.connections }, 'connected to hub');
    this.emit('open', { connection: this.counters.connections, url: this.opts.url });
    // Greeting first, then everything buffered, in order.
    const greeting: OutboxEntry[] = [];
    for (const m of this.opts.greeting({ localAddress: this.localAddress })) {
      const entry = this.prepare(m, true);
      if ('frame' in entry) greeting.push(entry);
    }
    for (const entry of greeting) {
      this.pacer.consume(this.opts.clock.now());
      this.write(ws, entry);
    }
    this.armDeadline();
    this.keepaliveTimer = this.opts.clock.every(this.opts.keepaliveMs, () => {
      if (this.ws === ws && ws.readyState === WebSocket.OPEN) this.barrier(ws);
    });
    this.pump();
  }

  private onClose(code: number, reason: string, wasOpen: boolean): void {
    this.clearTimers();
    // Whatever the hub has not confirmed goes back to the front, in order, to be resent; reports that only made
    // sense on that connection are regenerated after the reconnect instead.
    const back = this.unconfirmed
      .splice(0)
      .map((u) => u.entry)
      .filter((e) => !e.ephemeral);
    this.outbox.removeWhere((e) => e.ephemeral);
    if (back.length > 0) this.outbox.requeueFront(back);
    this.emit('close', { code, reason, wasOpen });
    if (this.stateValue === 'stopped') return;
    const authRefused =
      code === ERROR_CATALOGUE.AUTH_FAILED.closeCode || this.authStatus === 401 || this.authStatus === 403;
    if (authRefused) {
      const why =
        this.authStatus !== undefined
          ? `the hub refused the connection (HTTP ${this.authStatus})`
          : `the hub closed the connection with AUTH_FAILED${reason ? ` (${reason})` : ''}`;
      this.failAuth(`${why}: the token or the agentId is wrong — check --agent-id and --token`);
      return;
    }
    if (wasOpen) {
      this.opts.logger.warn(
        { code, reason, buffered: this.outbox.size },
        'connection to hub lost; buffering',
      );
    }
    if (!wasOpen && !this.lastError) this.lastError = `closed with code ${code}`;
    if (wasOpen) this.lastError = `connection closed (code ${code}${reason ? `, ${reason}` : ''})`;
    this.scheduleRetry();
  }

  private failAuth(reason: string): void {
    this.opts.logger.error({ url: this.opts.url, agentId: this.opts.agentId }, reason);
    this.clearTimers();
    this.setState('auth_failed');
    this.emit('auth_failed', { reason });
    const ws = this.ws;
    this.ws = undefined;
    ws?.terminate();
  }

  private scheduleRetry(): void {
    this.counters.failures++;
    const policy = this.opts.backoff;
    if (this.attempt >= policy.maxAttempts) {
      this.setState('gave_up');
      this.opts.logger.error(
        { url: this.opts.url, attempts: this.attempt, lastError: this.lastError, buffered: this.outbox.size },
        `could not reach the hub after ${this.attempt} attempts; manual intervention is needed`,
      );
      this.emit('gave_up', { attempts: this.attempt, lastError: this.lastError });
      return;
    }
    this.attempt++;
    const delayMs = backoffDelayMs(this.attempt, policy, this.opts.random());
    this.setState('waiting');
    this.opts.logger.info(
      { attempt: this.attempt, of: policy.maxAttempts, delayMs, lastError: this.lastError },
      'reconnecting after backoff',
    );
    this.emit('reconnect_scheduled', { attempt: this.attempt, delayMs, maxAttempts: policy.maxAttempts });
    this.retryTimer = this.opts.clock.schedule(delayMs, () => {
      this.retryTimer = undefined;
      if (this.stateValue === 'waiting') this.connect();
    });
  }

  private clearTimers(): void {
    for (const t of [this.retryTimer, this.pumpTimer, this.deadlineTimer, this.keepaliveTimer]) t?.cancel();
    this.retryTimer = undefined;
    this.pumpTimer = undefined;
    this.deadlineTimer = undefined;
    this.keepaliveTimer = undefined;
  }

  private touch(): void {
    this.lastInboundAt = this.opts.clock.now();
  }

  /** One timer for the heartbeat timeout, re-armed lazily: inbound traffic only moves `lastInboundAt`. */
  private armDeadline(): void {
    const ws = this.ws;
    const remaining = this.lastInboundAt + this.opts.heartbeatTimeoutMs - this.opts.clock.now();
    this.deadlineTimer = this.opts.clock.schedule(Math.max(0, remaining), () => {
      this.deadlineTimer = undefined;
      if (this.ws !== ws || ws === undefined || this.stateValue !== 'open') return;
      const silentMs = this.opts.clock.now() - this.lastInboundAt;
      if (silentMs >= this.opts.heartbeatTimeoutMs) {
        this.counters.heartbeatTimeouts++;
        this.lastError = `no traffic from the hub for ${Math.round(silentMs / 1000)} s (heartbeat timeout)`;
        this.opts.logger.warn({ silentMs }, 'heartbeat timeout: the hub is silent; reconnecting');
        this.emit('heartbeat_timeout', { silentMs });
        // terminate() emits 'close' (code 1006) asynchronously; onClose then requeues and schedules the retry.
        ws.terminate();
        return;
      }
      this.armDeadline();
    });
  }

  private pump(): void {
    const ws = this.ws;
    if (this.stateValue !== 'open' || ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    if (this.pumpTimer !== undefined) return;
    const now = () => this.opts.clock.now();
    while (this.outbox.size > 0) {
      // Back-pressure: let the kernel drain before queueing more in user space.
      if (ws.bufferedAmount > 4 * 1024 * 1024) {
        this.pumpTimer = this.opts.clock.schedule(10, () => {
          this.pumpTimer = undefined;
          this.pump();
        });
        return;
      }
      // Careful mode (after a refusal): stop-and-wait, one message per barrier; onPong pumps again.
      if (now() < this.carefulUntil && this.pingSentAt.size > 0) return;
      if (!this.pacer.tryTake(now())) {
        this.pumpTimer = this.opts.clock.schedule(Math.max(1, this.pacer.waitMs(now())), () => {
          this.pumpTimer = undefined;
          this.pump();
        });
        return;
      }
      const entry = this.outbox.shift()!;
      this.write(ws, entry);
    }
  }

  private write(ws: WebSocket, entry: OutboxEntry): void {
    if (entry.sends > 0) this.counters.resent++;
    entry.sends++;
    ws.send(entry.frame);
    this.counters.sent++;
    this.unconfirmed.push({ entry, index: undefined });
    // A hub that reads but never pongs would make this list grow without end: past the buffer bound the oldest are
    // released (most likely delivered; the heartbeat timeout will catch a hub that is really dead).
    if (this.unconfirmed.length > this.opts.bufferCapacity) this.unconfirmed.shift();
    if (this.pingSentAt.size < MAX_PINGS_IN_FLIGHT) this.barrier(ws);
    else this.needsBarrier = true;
    this.emit('sent', entry);
  }

  /** Writes a ping that confirms, when its pong comes back, every message written before it. */
  private barrier(ws: WebSocket): void {
    if (this.pingSentAt.size >= MAX_PINGS_IN_FLIGHT) return;
    this.pingIndex++;
    const index = this.pingIndex;
    for (let i = this.unconfirmed.length - 1; i >= 0 && this.unconfirmed[i]!.index === undefined; i--) {
      this.unconfirmed[i]!.index = index;
    }
    this.needsBarrier = false;
    const payload = Buffer.alloc(PING_PAYLOAD_BYTES);
    payload.writeUIntBE(index, 0, PING_PAYLOAD_BYTES);
    // Round-trip time is an I/O measurement: real time, whatever clock drives the timers.
    this.pingSentAt.set(index, performance.now());
    ws.ping(payload);
  }

  private onPong(data: Buffer): void {
    if (data.length !== PING_PAYLOAD_BYTES) return;
    this.counters.pongs++;
    const index = data.readUIntBE(0, PING_PAYLOAD_BYTES);
    const sentAt = this.pingSentAt.get(index);
    if (sentAt !== undefined) {
      const rtt = performance.now() - sentAt;
      this.hubRtt = this.hubRtt === undefined ? rtt : this.hubRtt * 0.8 + rtt * 0.2;
      for (const key of this.pingSentAt.keys()) {
        if (key > index) break;
        this.pingSentAt.delete(key);
      }
    }
    let n = 0;
    while (n < this.unconfirmed.length) {
      const i = this.unconfirmed[n]!.index;
      if (i === undefined || i > index) break;
      n++;
    }
    if (n > 0) {
      this.unconfirmed.splice(0, n);
      this.counters.confirmed += n;
      if (this.queueFullStreak > 0) this.queueFullStreak = 0;
    }
    const ws = this.ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN && this.needsBarrier) this.barrier(ws);
    if (this.pumpTimer === undefined) this.pump();
  }

  private onFrame(data: Buffer): void {
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.opts.logger.warn(
        { reason: parsed.error.message },
        'hub sent a frame that does not validate; ignored',
      );
      this.emit('invalid_frame', { reason: parsed.error.message });
      return;
    }
    const message = parsed.message;
    if (message.type === 'error') this.onHubError(message);
    this.emit('message', message);
  }

  private onHubError(error: MessageOf<'error'>): void {
    this.emit('hub_error', error);
    const { errorCode, errorMessage, context } = error.data;
    const now = this.opts.clock.now();
    switch (errorCode) {
      case 'AUTH_FAILED':
        this.failAuth(`the hub refused this agent (${errorMessage}): the token or the agentId is wrong`);
        return;
      case 'RATE_LIMITED': {
        this.counters.rateLimited++;
        const refused = this.takeRefused(context);
        this.pacer.penalise(now);
        const retryMs = retryAfterMs(context) ?? 2000;
        this.pacer.pause(now, retryMs);
        this.opts.logger.warn(
          { type: refused?.message.type, retryMs, rate: Math.round(this.pacer.rate) },
          'hub rate limit hit: slowing down, message will be resent',
        );
        this.reschedulePump();
        return;
      }
      case 'QUEUE_FULL': {
        this.counters.queueFull++;
        const refused = this.takeRefused(context);
        this.queueFullStreak++;
        const retryMs = retryAfterMs(context) ?? backoffDelayMs(this.queueFullStreak, this.opts.backoff);
        this.pacer.pause(now, retryMs);
        this.opts.logger.warn(
          { type: refused?.message.type, retryMs },
          'hub queue full: message kept, resending later',
        );
        this.reschedulePump();
        return;
      }
      case 'INVALID_DATA': {
        this.counters.rejectedByHub++;
        // Not resent: the same bytes would be refused again. The agent validated it, so the schemas disagree.
        const refused = this.takeRefused(context, false);
        this.opts.logger.error(
          { type: refused?.message.type, path: context?.path, reason: errorMessage },
          'hub refused a message as INVALID_DATA although it validated here: agent and hub schemas disagree',
        );
        return;
      }
      default:
        this.opts.logger.warn({ errorCode, errorMessage, context }, 'error from hub');
    }
  }

  /**
   * Finds the message a refusal is about: by identity when the hub's `context` names it (sequenceNumber,
   * calibrationId), otherwise the oldest unconfirmed one (see the class comment). With `requeue`, it goes back to the
   * front of the outbox.
   */
  private takeRefused(context: ErrorMessage['data']['context'], requeue = true): OutboxEntry | undefined {
    this.carefulUntil = this.opts.clock.now() + CAREFUL_MS;
    let at = -1;
    const seq = context?.sequenceNumber;
    const calibrationId = context?.calibrationId;
    if (typeof seq === 'number') {
      at = this.unconfirmed.findIndex(
        (u) => u.entry.message.type === 'pingResult' && u.entry.message.data.sequenceNumber === seq,
      );
    } else if (typeof calibrationId === 'string') {
      at = this.unconfirmed.findIndex(
        (u) =>
          u.entry.message.type === 'pingCalibration' && u.entry.message.data.calibrationId === calibrationId,
      );
    }
    let taken: Unconfirmed[];
    if (at !== -1) {
      taken = this.unconfirmed.splice(at, 1);
    } else {
      // The oldest barrier group: exact when it holds one message.
      const first = this.unconfirmed[0];
      if (first === undefined) return undefined;
      let n = 1;
      while (n < this.unconfirmed.length && this.unconfirmed[n]!.index === first.index) n++;
      taken = this.unconfirmed.splice(0, n);
    }
    const entries = taken.map((u) => u.entry);
    if (requeue) this.outbox.requeueFront(entries.filter((e) => !e.ephemeral));
    return entries[0];
  }

  private reschedulePump(): void {
    this.pumpTimer?.cancel();
    this.pumpTimer = undefined;
    this.pump();
  }
}

function retryAfterMs(context: ErrorMessage['data']['context']): number | undefined {
  const ms = context?.retryAfterMs;
  if (typeof ms === 'number' && ms >= 0) return Math.min(ms, 300_000);
  const s = context?.retryAfter;
  if (typeof s === 'number' && s >= 0) return Math.min(s * 1000, 300_000);
  return undefined;
}
