import type { IngestRecord } from './ingest-sink.js';

/** One batch taken from the queue. */
export interface QueueJob {
  id: string;
  partition: number;
  /** Records handed over in process (already validated by the hub); absent when `payload` must be decoded. */
  records?: readonly IngestRecord[];
  /** A raw payload from a trust boundary (Redis), validated by the worker (src/ingest/wire.ts). */
  payload?: unknown;
  /** 1 on the first delivery, more after a crash, stall or hand-over. */
  attempt: number;
}

/**
 * Handles one job. Resolve = done. Throw DeadLetterError = never retry (parked with its reason). Throw
 * PartitionLostError / PartitionRestartError = give the job back, at the head of its partition.
 */
export type JobHandler = (job: QueueJob) => Promise<void>;

export interface PartitionConsumer {
  /** Stops taking jobs; `graceful` waits for the job in hand, otherwise it is abandoned and redelivered later. */
  close(graceful: boolean): Promise<void>;
}

/**
 * The ingestion queue: K partitions, each a FIFO of batches consumed one job at a time. Two implementations:
 * BullMQ on Redis (bullmq-queue.ts) and in process (memory-queue.ts). Nothing outside src/ingest knows which.
 */
export interface IngestQueue {
  readonly kind: 'memory' | 'bullmq';
  readonly partitions: number;
  /** Enqueues one batch of one partition. Rejects with QueueUnavailableError when it cannot take it now. */
  add(partition: number, records: readonly IngestRecord[]): Promise<void>;
  /** Starts consuming a partition, one job at a time, in order. */
  consume(partition: number, handler: JobHandler): Promise<PartitionConsumer>;
  /** Jobs' records (in process) or jobs (BullMQ) waiting, over all partitions. */
  depth(): Promise<number>;
  /**
   * Jobs of `partition` waiting behind the one being processed, as last seen (cheap, may be a few ms old). While it
   * is above 0 the worker is behind, and the sink makes bigger batches rather than more jobs.
   */
  backlog?(partition: number): number;
  close(): Promise<void>;
}
