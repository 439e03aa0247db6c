import type { Logger } from 'pino';
import type { MessageOf, MessageType } from '../protocol/index.js';
import type { Clock } from './clock.js';

/** A message body the source produces; the agent stamps `agentId` and `timestamp`, validates and queues it. */
export type Draft = { [T in MessageType]: { type: T; data: MessageOf<T>['data'] } }[MessageType];

/** What a probe source may use while it runs. */
export interface ProbeContext {
  clock: Clock;
  logger: Logger;
  /** Hands a message to the agent. Returns false when it did not validate (already logged and counted). */
  emit(draft: Draft): boolean;
  /** The next pingResult `sequenceNumber` (per agent, increasing, never reused across restarts). */
  nextSequence(): number;
}

export type ServiceState = 'running' | 'starting' | 'stopped' | 'disabled' | 'error';

/** What a source reports about itself for `systemHealth`. */
export interface SourceHealth {
  /** Service name → state, e.g. `{ pingProber: 'running', deviceScanner: 'disabled' }`. */
  services: Record<string, ServiceState>;
  /** Probes attempted / failed since start (a lost ping is a result, not a failure; a ping that could not run is). */
  probes: number;
  probeFailures: number;
  /** Recent failure descriptions, newest last (bounded). */
  recentErrors: string[];
  /** Lowest recent RTT to the gateway (or first target), ms — systemHealth's networkLatency when known. */
  gatewayRttMs?: number;
}

/** One calibration sample: a reading of every anchor heard, taken at once. */
export interface AnchorReading {
  /** The anchor's id (IP form, as in the site file). */
  targetIp: string;
  rtt?: number;
  rssi?: number;
}

/**
 * Where probes come from: the simulator (default) or the real network (`--scan`). A source runs on its own
 * schedule once started and emits drafts through the context.
 */
export interface ProbeSource {
  /** `simulator` or `scan`. */
  readonly name: string;
  /** For agent_register (snake_case tokens). */
  readonly capabilities: readonly string[];
  /** For dataIntegrityReport.authenticDataSources. */
  readonly dataSources: readonly string[];
  start(ctx: ProbeContext): Promise<void>;
  stop(): Promise<void>;
  health(): SourceHealth;
  /** The address of the interface the source probes from, when it has one (scan); else the hub socket's. */
  interfaceAddress(): string | undefined;
}

/** A source that can take calibration samples at a known point (calibration walk). */
export interface CalibrationSampler {
  /** The anchors measured, by id. */
  anchors(): readonly string[];
  /**
   * Takes `samples` readings of every anchor with the measuring device at (x, y). The simulator places its device
   * there; a real scan ignores the point (the user is standing there). `onSample` reports progress.
   */
  sample(
    point: { x: number; y: number; room?: string | undefined; floor?: number | undefined },
    samples: number,
    onSample?: (done: number) => void,
  ): Promise<AnchorReading[][]>;
  close(): Promise<void>;
}
