import type { Logger } from 'pino';
import { isPartitionLostError } from '../store/ingest-store.js';
import { isDeadLetterError, isPartitionRestartError, QueueUnavailableError } from './errors.js';
import type { IngestRecord } from './ingest-sink.js';
import type { IngestQueue, JobHandler, PartitionConsumer, QueueJob } from './queue.js';

export interface MemoryQueueOptions {
  /** @defaultValue 1 (one worker in process: a single FIFO keeps every device in order) */
  partitions?: number;
  /** Records held at most; beyond that `add` rejects and the sink's bounded buffer takes over. @defaultValue 200000 */
  capacity?: number;
  /** Consecutive queued batches are handed to the worker together, up to this many records. @defaultValue 4000 */
  maxMergedRecords?: number;
  /** Deliveries of a job that keeps failing unexpectedly before it is dead-lettered. @defaultValue 5 */
  maxAttempts?: number;
  logger: Logger;
  /** Told about every job that failed for good (dead letter): malformed payloads and repeated failures. */
  onFailed?: (job: QueueJob, error: Error) => void;
}

interface MemoryJob {
  id: string;
  records?: readonly IngestRecord[];
  payload?: unknown;
  size: number;
  attempt: number;
}

interface Part {
  /** Jobs from `head` on are queued; the slots before it were taken and are emptied (see `take`). */
  jobs: Array<MemoryJob | undefined>;
  head: number;
  consumer: MemoryConsumer | null;
}

/** The embedded queue: in-process FIFOs, bounded, no serialisation. Lost with the process (see docs/pipeline.md). */
export class MemoryIngestQueue implements IngestQueue {
  readonly kind = 'memory';
  readonly partitions: number;
  private readonly parts: Part[];
  private readonly capacity: number;
  private size = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: MemoryQueueOptions) {
    this.partitions = options.partitions ?? 1;
    this.capacity = options.capacity ?? 200_000;
    this.parts = Array.from({ length: this.partitions }, () => ({ jobs: [], head: 0, consumer: null }));
  }

  async add(partition: number, records: readonly IngestRecord[]): Promise<void> {
    if (this.closed) throw new QueueUnavailableError('in-process queue is closed');
    if (this.size + records.length > this.capacity) {
      throw new QueueUnavailableError(`in-process queue is full (${this.size} records)`);
    }
    this.push(partition, { id: `m${this.nextId++}`, records, size: records.length, attempt: 0 });
  }

  /** Enqueues an arbitrary payload, validated by the worker like a job read from Redis (tests, tools). */
  addRaw(partition: number, payload: unknown): void {
    this.push(partition, { id: `m${this.nextId++}`, payload, size: 1, attempt: 0 });
  }

  private push(partition: number, job: MemoryJob): void {
    const part = this.part(partition);
    part.jobs.push(job);
    this.size += job.size;
    part.consumer?.wake();
  }

  async consume(partition: number, handler: JobHandler): Promise<PartitionConsumer> {
    const part = this.part(partition);
    if (part.consumer) throw new Error(`partition ${partition} already has a consumer`);
    const consumer = new MemoryConsumer(this, partition, handler, this.options);
    part.consumer = consumer;
    consumer.start();
    return consumer;
  }

  async depth(): Promise<number> {
    return this.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.parts.map((p) => p.consumer?.close(true)));
  }

  // --- for the consumer ---------------------------------------------------------------------------------------

  /** Takes the next job, merging consecutive in-process batches. */
  take(partition: number, maxRecords: number): MemoryJob | null {
    const part = this.part(partition);
    if (part.head >= part.jobs.length) return null;
    const first = part.jobs[part.head]!;
    // A taken slot is emptied at once: the array is only compacted every ~1,000 jobs (seconds at load), and a slot
    // still pointing at its job kept every record of it (message, frame text) alive that long — long enough to be
    // promoted to the old generation, which grew by ~60 MB/s at 40,000 probes/s and was then cleared by
    // mark-compact pauses. Emptied, a batch's records die young, in the scavenges (docs/pipeline.md, "Latency").
    part.jobs[part.head] = undefined;
    part.head += 1;
    let job = first;
    if (first.records !== undefined && first.attempt === 0) {
      let merged: IngestRecord[] | null = null;
      while (part.head < part.jobs.length) {
        const next = part.jobs[part.head]!;
        if (next.records === undefined || next.attempt !== 0 || job.size + next.size > maxRecords) break;
        merged ??= [...first.records];
        for (const r of next.records) merged.push(r);
        part.jobs[part.head] = undefined;
        part.head += 1;
        job = { id: first.id, records: merged, size: job.size + next.size, attempt: 0 };
      }
    }
    if (part.head > 1024 && part.head * 2 > part.jobs.length) {
      part.jobs = part.jobs.slice(part.head);
      part.head = 0;
    }
    return job;
  }

  /** Puts a job back at the head of its partition (hand-over / restart). */
  giveBack(partition: number, job: MemoryJob): void {
    const part = this.part(partition);
    if (part.head > 0) {
      part.head -= 1;
      part.jobs[part.head] = job;
    } else part.jobs.unshift(job);
  }

  done(job: MemoryJob): void {
    this.size -= job.size;
  }

  detach(partition: number, consumer: MemoryConsumer): void {
    const part = this.part(partition);
    if (part.consumer === consumer) part.consumer = null;
  }

  private part(partition: number): Part {
    const part = this.parts[partition];
    if (!part) throw new RangeError(`partition ${partition} out of range 0..${this.partitions - 1}`);
    return part;
  }
}

class MemoryConsumer implements PartitionConsumer {
  private running = true;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly maxMerged: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly queue: MemoryIngestQueue,
    private readonly partition: number,
    private readonly handler: JobHandler,
    private readonly options: MemoryQueueOptions,
  ) {
    this.maxMerged = options.maxMergedRecords ?? 4000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const job = this.queue.take(this.partition, this.maxMerged);
      if (job === null) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
        continue;
      }
      job.attempt += 1;
      const queueJob: QueueJob = { id: job.id, partition: this.partition, attempt: job.attempt };
      if (job.records !== undefined) queueJob.records = job.records;
      else queueJob.payload = job.payload;
      try {
        await this.handler(queueJob);
        this.queue.done(job);
      } catch (error) {
        if (isDeadLetterError(error)) {
          this.queue.done(job);
          this.options.onFailed?.(queueJob, error);
        } else if (
          (isPartitionLostError(error) || isPartitionRestartError(error)) &&
          job.attempt < this.maxAttempts
        ) {
          this.queue.giveBack(this.partition, job);
          // The owner reloads the partition and starts a new consumer.
          this.running = false;
        } else {
          this.queue.done(job);
          this.options.logger.error({ err: error, jobId: job.id }, 'ingest job failed; dropped');
          this.options.onFailed?.(queueJob, error as Error);
        }
      }
    }
    this.queue.detach(this.partition, this);
  }

  async close(graceful: boolean): Promise<void> {
    this.running = false;
    this.wake();
    if (graceful) await this.loop;
    else this.queue.detach(this.partition, this);
  }
}
