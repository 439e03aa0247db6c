import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DeviceRegistry } from '../store/device-registry.js';
import type { IngestSink } from './ingest-sink.js';
import type { PipelineTuning } from './pipeline-tuning.js';
import type { ResultsBus } from './results-bus.js';

/** A job that can never succeed, parked with its reason instead of blocking the queue. */
export interface DeadLetter {
  id: string;
  /** Why it failed, for humans. */
  reason: string;
  /** ISO 8601. */
  failedAt: string;
  attempts: number;
  /** The job payload as received, possibly truncated for display. */
  payload: unknown;
}

export interface PipelineOptions {
  /** Redis URL for the distributed deployment; absent = embedded (in-process queue, embedded storage). */
  redisUrl?: string;
  /** Where embedded storage lives (device registry, calibration samples, dead letters). */
  dataDir: string;
  /** Model directory the worker loads (and hot-reloads) models from. */
  modelDir?: string;
  /** Run a worker in this process (always true when embedded). */
  embeddedWorker: boolean;
  /** Prometheus registry to register queue metrics in. */
  metrics?: Registry;
  /** Key prefix for Redis (queues, pub/sub channels, store), so tests and deployments can share one Redis. */
  prefix?: string;
  /** Where the pipeline logs (default: pino at `info` on stderr). */
  logger?: Logger;
  /** Advanced settings (batching, partitions, leases…); see docs/pipeline.md. */
  tuning?: PipelineTuning;
}

/** What a hub process needs from the ingestion side; `openPipeline` (src/ingest/open-pipeline.ts) builds it. */
export interface Pipeline {
  readonly mode: 'embedded' | 'redis';
  readonly sink: IngestSink;
  readonly results: ResultsBus;
  readonly registry: DeviceRegistry;
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  /** Flushes, stops an embedded worker and closes every connection; idempotent. */
  close(): Promise<void>;
}
