import type { AnomalyTuning } from './anomaly-runtime.js';
import type { SinkOptions } from './batching-sink.js';
import type { ValidationMode } from './partition-runner.js';
import type { ProcessOptions } from './process-batch.js';

/** Advanced pipeline settings; every field is optional with the default documented in docs/pipeline.md. */
export interface PipelineTuning {
  /** Ingestion partitions (distributed). Stored in Redis on first use; every hub and worker adopts it. @defaultValue 8 */
  partitions?: number;
  sink?: SinkOptions;
  /** In-process queue capacity in records (embedded). @defaultValue 200000 */
  memoryQueueCapacity?: number;
  /** Partition lease time-to-live (distributed). @defaultValue 10000 */
  leaseMs?: number;
  /** BullMQ job lock; a crashed worker's job is redelivered after about this long. @defaultValue 10000 */
  lockDurationMs?: number;
  /** @defaultValue 5000 */
  stalledIntervalMs?: number;
  /** How often device states are checkpointed. @defaultValue 5000 */
  checkpointIntervalMs?: number;
  /** Partitions one worker process takes at most. @defaultValue all */
  workerCapacity?: number;
  /** How long idempotency keys of probes and device events are kept. @defaultValue 6 h */
  seenTtlMs?: number;
  process?: Partial<ProcessOptions>;
  /** Check results against the protocol before publishing: all, a sample, or off. @defaultValue 'sample' */
  validateResults?: ValidationMode;
  /** How often the model directory's LATEST is polled. @defaultValue 2000 */
  modelPollMs?: number;
  /** Feedback and scheduled retraining of the behaviour model (docs/anomaly.md). @defaultValue no retraining */
  anomaly?: AnomalyTuning;
}
