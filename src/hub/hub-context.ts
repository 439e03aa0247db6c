import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { IngestSink } from '../ingest/ingest-sink.js';
import type { DeadLetter } from '../ingest/pipeline.js';
import type { ResultsBus } from '../ingest/results-bus.js';
import type { TokenTable } from './auth.js';
import type { CaptureWriter } from './capture-writer.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { DeviceWriter } from './device-writer.js';
import type { FanOut } from './fan-out.js';
import type { HubConfig } from './hub-config.js';
import type { HubMetrics } from './hub-metrics.js';
import type { RateLimiter } from './rate-limiter.js';

/** Everything the socket handler and the REST routes share inside one hub. */
export interface HubContext {
  readonly config: Readonly<HubConfig>;
  readonly log: Logger;
  readonly metrics: HubMetrics;
  readonly promRegistry: Registry;
  readonly tokens: TokenTable;
  readonly limiter: RateLimiter;
  readonly connections: ConnectionRegistry;
  readonly devices: DeviceWriter;
  readonly fanOut: FanOut;
  readonly capture: CaptureWriter | undefined;
  readonly sink: IngestSink;
  readonly results: ResultsBus;
  readonly deadLetters: ((limit?: number) => Promise<DeadLetter[]>) | undefined;
  /** Epoch milliseconds. */
  readonly startedAt: number;
}
