import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Logger, pino } from 'pino';
import { type ErrorMessage, type Message, makeMessage, parseMessage } from '../protocol/index.js';
import type { BackoffPolicy } from './backoff.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import {
  AgentConnection,
  type ConnectionState,
  type ConnectionStats,
  type TlsClientOptions,
} from './connection.js';
import { isResultMessage, type ResultMessage } from './format-result.js';
import { IntegrityMonitor } from './integrity.js';
import type { Draft, ProbeSource, SourceHealth } from './probe-source.js';
import {
  CpuSampler,
  diskUsagePercent,
  memoryUsagePercent,
  ProcessCpuSampler,
  systemInfo,
} from './system-metrics.js';

/** Everything `startAgent` needs; every default is the spec's or documented in docs/agent.md. */
export interface AgentOptions {
  /** `ws://127.0.0.1:8080/ws` or `wss://…`. */
  hubUrl: string;
  agentId: string;
  /** Sent as `Authorization: Bearer <token>`; never logged. */
  token: string;
  /** Where probes come from: `createSimulatedSource(…)` (default in the CLI) or `createScanSource(…)`. */
  source: ProbeSource;
  /** @defaultValue the real clock */
  clock?: Clock;
  /** @defaultValue a silent pino logger */
  logger?: Logger;
  /** Sent in agent_register. @defaultValue package.json's version */
  version?: string;
  /** Messages buffered while disconnected; beyond it the oldest are dropped. @defaultValue 1000 (spec) */
  bufferCapacity?: number;
  /** @defaultValue 30 000 (spec) */
  heartbeatIntervalMs?: number;
  /** systemHealth period. @defaultValue 60 000 */
  healthIntervalMs?: number;
  /** dataIntegrityReport period. @defaultValue 300 000 */
  integrityIntervalMs?: number;
  /** No traffic from the hub for this long → reconnect. @defaultValue 90 000 (spec) */
  heartbeatTimeoutMs?: number;
  /** WebSocket keepalive ping period. @defaultValue 30 000 */
  keepaliveMs?: number;
  /** Client-side pacing under the hub's rate limit; 0 = unpaced. @defaultValue 100 (spec) */
  maxMessagesPerMinute?: number;
  /** @defaultValue the spec's 1, 2, 4, 8, 16 s capped at 30 s, 10 attempts */
  backoff?: BackoffPolicy;
  tls?: TlsClientOptions;
  /**
   * First pingResult sequence number. @defaultValue start time in microseconds, so a restarted agent never reuses an
   * (agentId, sequenceNumber) idempotency key the hub has already seen
   */
  sequenceStart?: number;
  /** File system whose use systemHealth reports. @defaultValue the current directory */
  diskPath?: string;
}

export type AgentExit =
  | { reason: 'stopped' }
  | { reason: 'gave_up'; attempts: number; lastError: string }
  | { reason: 'auth_failed'; message: string }
  /** The probe source could not start (a bad site file, …). */
  | { reason: 'source_failed'; message: string };

export interface AgentStats {
  connection: ConnectionStats;
  source: SourceHealth;
  /** Messages produced by the agent (probes, device events, reports). */
  produced: number;
  results: number;
  integrity: { scanned: number; invalid: number; violations: number };
  uptimeSeconds: number;
}

export interface AgentEvents {
  /** A result from the hub: deviceUpdate, mlScoreUpdate, anomalyDetected, trustAlert, trustUpdate. */
  result: [message: ResultMessage];
  /** Every valid message from the hub (results and errors). */
  message: [message: Message];
  state: [state: ConnectionState];
  connected: [info: { connection: number }];
  disconnected: [info: { code: number; reason: string; buffered: number }];
  reconnect_scheduled: [info: { attempt: number; delayMs: number; maxAttempts: number }];
  hub_error: [error: ErrorMessage];
  /** The buffer was full and its oldest message was dropped. */
  dropped: [info: { type: string; totalDropped: number }];
  /** A message the agent produced did not validate (an agent bug; it was not sent). */
  invalid_outgoing: [info: { type: string; reason: string; path: string }];
  /** The agent ended: stopped, gave up reconnecting, or refused by the hub. */
  exit: [exit: AgentExit];
}

/** The running agent. `stop()` is idempotent; `done` resolves when the agent has ended, for whatever reason. */
export class Agent extends EventEmitter<AgentEvents> {
  readonly agentId: string;
  readonly done: Promise<AgentExit>;
  private readonly connection: AgentConnection;
  private readonly source: ProbeSource;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly integrity = new IntegrityMonitor();
  private readonly heartbeatCpu = new CpuSampler();
  private readonly healthCpu = new CpuSampler();
  private readonly processCpu = new ProcessCpuSampler();
  private readonly startedAt: number;
  private readonly version: string;
  private readonly diskPath: string;
  private readonly timers: TimerHandle[] = [];
  private sequence: number;
  private produced = 0;
  private results = 0;
  private stopping = false;
  private resolveDone!: (exit: AgentExit) => void;
  private lastDropLogAt = Number.NEGATIVE_INFINITY;
  private dropsAtLastHealth = 0;

  constructor(private readonly options: AgentOptions) {
    super();
    this.agentId = options.agentId;
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.version = options.version ?? packageVersion();
    this.diskPath = options.diskPath ?? '.';
    this.startedAt = this.clock.now();
    this.sequence = options.sequenceStart ?? Math.floor(this.startedAt * 1000);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.connection = new AgentConnection({
      url: options.hubUrl,
      agentId: options.agentId,
      token: options.token,
      clock: this.clock,
      logger: this.logger,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.bufferCapacity === undefined ? {} : { bufferCapacity: options.bufferCapacity }),
      ...(options.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: options.heartbeatTimeoutMs }),
      ...(options.keepaliveMs === undefined ? {} : { keepaliveMs: options.keepaliveMs }),
      ...(options.maxMessagesPerMinute === undefined
        ? {}
        : { maxMessagesPerMinute: options.maxMessagesPerMinute }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      greeting: ({ localAddress }) =>
        [this.registerMessage(localAddress), this.heartbeatMessage('active')].filter((m) => this.checkOwn(m)),
    });
    this.wire();
  }

  /** Connects and starts the probe source. */
  async start(): Promise<void> {
    this.connection.start();
    const every = (ms: number, fn: () => void) => this.timers.push(this.clock.every(ms, fn));
    // Reports describe the present: they are only produced while connected, never buffered.
    every(this.options.heartbeatIntervalMs ?? 30_000, () => {
      if (this.connection.isOpen) this.sendReport(this.heartbeatMessage(this.heartbeatStatus()));
    });
    every(this.options.healthIntervalMs ?? 60_000, () => {
      if (this.connection.isOpen) this.sendReport(this.healthMessage());
    });
    every(this.options.integrityIntervalMs ?? 300_000, () => {
      if (this.connection.isOpen) this.sendReport(this.integrityMessage());
    });
    await this.source.start({
      clock: this.clock,
      logger: this.logger.child({ source: this.source.name }),
      emit: (draft) => this.emitDraft(draft),
      nextSequence: () => this.sequence++,
    });
  }

  /**
   * Stops the source and the timers, sends a last `shutting_down` heartbeat, waits up to `flushMs` for the buffer to
   * reach the hub, and closes. @param options.flushMs @defaultValue 2000
   */
  async stop(options: { flushMs?: number } = {}): Promise<void> {
    if (this.stopping) {
      await this.done;
      return;
    }
    this.stopping = true;
    await this.end({ reason: 'stopped' }, options.flushMs ?? 2000);
  }

  /**
   * Waits (in real time, at most `timeoutMs`) until everything produced so far has been written to the hub and
   * confirmed, reconnecting as needed. False on timeout, or when the agent ended with messages still waiting.
   */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.connection.pending === 0 && (this.connection.isOpen || this.stopping)) return true;
      if (this.stopping && !this.connection.isOpen) return false;
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Ends the agent because its source failed. */
  async fail(message: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.end({ reason: 'source_failed', message }, 0);
  }

  stats(): AgentStats {
    return {
      connection: this.connection.stats(),
      source: this.source.health(),
      produced: this.produced,
      results: this.results,
      integrity: this.integrity.lifetime,
      uptimeSeconds: (this.clock.now() - this.startedAt) / 1000,
    };
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /** Produces a message now (also for callers embedding the agent, e.g. a calibration walk). */
  emitDraft(draft: Draft): boolean {
    const message = makeMessage(draft.type, this.agentId, draft.data as never, new Date(this.clock.now()));
    this.produced++;
    const result = this.connection.send(message);
    this.integrity.produced(message, result.ok, result.ok ? '' : `${result.path}: ${result.reason}`);
    return result.ok;
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Validates a message the agent wrote about itself and records it for the integrity report. */
  private checkOwn(message: Message): boolean {
    this.produced++;
    const result = parseMessage(message);
    this.integrity.produced(
      message,
      result.ok,
      result.ok ? '' : `${result.error.path ?? ''}: ${result.error.message}`,
    );
    if (!result.ok) {
      this.logger.error(
        { type: message.type, reason: result.error.message },
        'own report does not validate; not sent',
      );
      this.emit('invalid_outgoing', {
        type: message.type,
        reason: result.error.message,
        path: result.error.path ?? '',
      });
    }
    return result.ok;
  }

  private sendReport(message: Message): void {
    if (this.checkOwn(message)) this.connection.sendNowIfOpen(message);
  }

  private wire(): void {
    const c = this.connection;
    c.on('state', (s) => this.emit('state', s));
    c.on('open', ({ connection }) => this.emit('connected', { connection }));
    c.on('close', ({ code, reason, wasOpen }) => {
      if (wasOpen) this.emit('disconnected', { code, reason, buffered: c.pending });
    });
    c.on('reconnect_scheduled', (info) => this.emit('reconnect_scheduled', info));
    c.on('hub_error', (e) => this.emit('hub_error', e));
    c.on('invalid_outgoing', (info) => this.emit('invalid_outgoing', info));
    c.on('sent', (entry) => {
      if (entry.sends === 1) this.integrity.firstSent(entry.message);
    });
    c.on('dropped', (entry) => {
      this.integrity.droppedUnsent(entry.message);
      const total = c.stats().outbox.dropped;
      const now = this.clock.now();
      // One warning per 10 s at most: a long outage drops thousands.
      if (now - this.lastDropLogAt >= 10_000) {
        this.lastDropLogAt = now;
        this.logger.warn(
          { totalDropped: total, capacity: c.stats().outbox.capacity, type: entry.message.type },
          'offline buffer full: dropping the oldest messages',
        );
      }
      this.emit('dropped', { type: entry.message.type, totalDropped: total });
    });
    c.on('message', (m) => {
      this.emit('message', m);
      if (isResultMessage(m)) {
        this.results++;
        this.emit('result', m);
      }
    });
    c.on('gave_up', ({ attempts, lastError }) => {
      void this.end({ reason: 'gave_up', attempts, lastError }, 0);
    });
    c.on('auth_failed', ({ reason }) => {
      void this.end({ reason: 'auth_failed', message: reason }, 0);
    });
  }

  private async end(exit: AgentExit, flushMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.splice(0)) t.cancel();
    try {
      await this.source.stop();
    } catch (error) {
      this.logger.error({ err: error }, 'probe source did not stop cleanly');
    }
    if (exit.reason === 'stopped' && this.connection.isOpen)
      this.sendReport(this.heartbeatMessage('shutting_down'));
    await this.connection.stop({ flushMs });
    this.logger.info({ exit }, 'agent ended');
    this.emit('exit', exit);
    this.resolveDone(exit);
  }

  private heartbeatStatus(): 'active' | 'idle' | 'degraded' {
    const h = this.source.health();
    const failing = h.probes > 0 && h.probeFailures / h.probes > 0.5;
    if (failing || this.connection.pending > this.connection.stats().outbox.capacity / 2) return 'degraded';
    return 'active';
  }

  private registerMessage(localAddress: string | undefined): Message {
    const fromSource = this.source.interfaceAddress();
    const address = fromSource ?? normaliseAddress(localAddress) ?? '127.0.0.1';
    return makeMessage(
      'agent_register',
      this.agentId,
      {
        version: this.version,
        capabilities: [...this.source.capabilities],
        networkInterface: address,
        systemInfo: systemInfo(),
      },
      new Date(this.clock.now()),
    );
  }

  private heartbeatMessage(status: 'active' | 'idle' | 'degraded' | 'shutting_down'): Message {
    const stats = this.connection.stats();
    return makeMessage(
      'agent_heartbeat',
      this.agentId,
      {
        status,
        uptime: Math.round((this.clock.now() - this.startedAt) / 100) / 10,
        memoryUsage: memoryUsagePercent(),
        cpuUsage: this.heartbeatCpu.sample(),
        bufferedMessages: this.connection.pending,
        droppedMessages: stats.outbox.dropped,
      },
      new Date(this.clock.now()),
    );
  }

  private healthMessage(): Message {
    const stats = this.connection.stats();
    const source = this.source.health();
    const cpu = this.healthCpu.sample();
    const memory = memoryUsagePercent();
    const ownCpu = this.processCpu.sample();
    const disk = diskUsagePercent(this.diskPath);
    const warnings: string[] = [];
    const errors: string[] = [...source.recentErrors.slice(-8)];
    const newDrops = stats.outbox.dropped - this.dropsAtLastHealth;
    this.dropsAtLastHealth = stats.outbox.dropped;
    if (newDrops > 0)
      warnings.push(`${newDrops} buffered messages dropped (buffer of ${stats.outbox.capacity} full)`);
    if (this.connection.pending > stats.outbox.capacity / 2) {
      warnings.push(`${this.connection.pending} messages waiting to be sent`);
    }
    if (memory > 90) warnings.push(`high memory usage: ${memory}%`);
    if (cpu > 90) warnings.push(`high CPU usage: ${cpu}%`);
    if (ownCpu > 50) warnings.push(`agent process uses ${Math.round(ownCpu)}% of a core`);
    if (disk !== undefined && disk > 95) warnings.push(`disk almost full: ${disk}%`);
    if (stats.invalidOutgoing > 0)
      errors.push(`${stats.invalidOutgoing} outgoing messages failed validation`);
    if (stats.rejectedByHub > 0)
      errors.push(`${stats.rejectedByHub} messages refused by the hub as INVALID_DATA`);
    const failureRate = source.probes > 0 ? source.probeFailures / source.probes : 0;
    const anyServiceError = Object.values(source.services).includes('error');
    const status =
      stats.invalidOutgoing > 0 || anyServiceError || failureRate > 0.5
        ? 'unhealthy'
        : warnings.length > 0 || failureRate > 0.1
          ? 'degraded'
          : 'healthy';
    const latency = stats.hubRttMs ?? source.gatewayRttMs;
    return makeMessage(
      'systemHealth',
      this.agentId,
      {
        status,
        metrics: {
          cpuUsage: cpu,
          memoryUsage: memory,
          ...(disk === undefined ? {} : { diskUsage: disk }),
          ...(latency === undefined ? {} : { networkLatency: Math.round(latency * 100) / 100 }),
        },
        services: {
          hubConnection: 'running',
          ...source.services,
          dataIntegrity: 'running',
        },
        errors: errors.map((e) => e.slice(0, 256)),
        warnings: warnings.map((w) => w.slice(0, 256)),
      },
      new Date(this.clock.now()),
    );
  }

  private integrityMessage(): Message {
    const body = this.integrity.report(new Date(this.clock.now()));
    return makeMessage(
      'dataIntegrityReport',
      this.agentId,
      { ...body, authenticDataSources: [...this.source.dataSources] },
      new Date(this.clock.now()),
    );
  }
}

/** Creates an agent and starts it. The lead's `sbp demo` and the CLI both come through here. */
export function startAgent(options: AgentOptions): Agent {
  const agent = new Agent(options);
  agent.start().catch((error: unknown) => {
    (options.logger ?? pino({ level: 'silent' })).error({ err: error }, 'probe source failed to start');
    void agent.fail((error as Error).message);
  });
  return agent;
}

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}

/** `::ffff:10.0.0.2` → `10.0.0.2`; anything that is not an IP → undefined. */
function normaliseAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const candidate = v4 ?? address;
  return isIP(candidate) !== 0 ? candidate : undefined;
}
