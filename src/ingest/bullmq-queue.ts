import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isPartitionLostError } from '../store/ingest-store.js';
import type { RedisKeys } from '../store/redis-keys.js';
import { isDeadLetterError, isPartitionRestartError, QueueUnavailableError } from './errors.js';
import type { IngestRecord } from './ingest-sink.js';
import type { IngestQueue, JobHandler, PartitionConsumer } from './queue.js';
import { encodeBatch, type WireBatch } from './wire.js';

export interface BullmqQueueOptions {
  keys: RedisKeys;
  partitions: number;
  /** Fail-fast connection for producing (`enableOfflineQueue: false`); absent on a worker-only process. */
  producer?: Redis;
  /** Patient connection for consuming (`maxRetriesPerRequest: null`); absent on a hub-only process. */
  consumer?: Redis;
  logger: Logger;
  /** An add that has not answered after this long is treated as failed and retried by the sink. @defaultValue 5000 */
  addTimeoutMs?: number;
  /** A worker's lock on its job; a crashed worker's job is redelivered after about this long. @defaultValue 10000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 5000 */
  stalledIntervalMs?: number;
  /** Deliveries after which a job that keeps crashing workers is failed (dead-lettered). @defaultValue 10 */
  maxStartedAttempts?: number;
  /** How often the producer looks at the partitions' backlog. @defaultValue 20 */
  backlogPollMs?: number;
  /** Told when BullMQ fails a job (dead letter) that the handler did not record itself. */
  onFailed?: (job: Job, reason: string) => void;
}

/**
 * The distributed queue: one BullMQ queue per partition, each with global concurrency 1 so that however many
 * workers run, one job of a partition is active at a time; a stalled job goes back to the head of its queue.
 * Jobs carry whole batches (many probes each), which is what passes BullMQ's per-job cost.
 */
export class BullmqIngestQueue implements IngestQueue {
  readonly kind = 'bullmq';
  readonly partitions: number;
  private readonly producerQueues = new Map<number, Queue>();
  private readonly consumerQueues = new Map<number, Queue>();
  private readonly workers = new Set<Worker>();
  private readonly concurrencySet = new Set<number>();
  private readonly waiting: number[];
  private backlogTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: BullmqQueueOptions) {
    this.partitions = options.partitions;
    this.waiting = new Array(options.partitions).fill(0);
  }

  backlog(partition: number): number {
    return this.waiting[partition] ?? 0;
  }

  /** Polls the partitions' wait lists (one pipelined LLEN each) for the sink's batching. */
  private watchBacklog(producer: Redis): void {
    if (this.backlogTimer !== null) return;
    const keys = Array.from({ length: this.partitions }, (_, p) =>
      this.queueFor(p, producer, this.producerQueues).toKey('wait'),
    );
    let busy = false;
    this.backlogTimer = setInterval(() => {
      if (busy || producer.status !== 'ready') return;
      busy = true;
      const pipeline = producer.pipeline();
      for (const key of keys) pipeline.llen(key);
      pipeline
        .exec()
        .then((replies) => {
          replies?.forEach(([error, n], p) => {
            if (!error) this.waiting[p] = Number(n);
          });
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, this.options.backlogPollMs ?? 20);
    this.backlogTimer.unref();
  }

  private queueFor(partition: number, connection: Redis, cache: Map<number, Queue>): Queue {
    let queue = cache.get(partition);
    if (!queue) {
      queue = new Queue(this.options.keys.queueName(partition), {
        connection,
        prefix: this.options.keys.bullPrefix,
        defaultJobOptions: { removeOnComplete: true, removeOnFail: { count: 1000 }, attempts: 1 },
      });
      queue.on('error', (err) => this.options.logger.debug({ err, partition }, 'ingest queue error'));
      cache.set(partition, queue);
      // BullMQ keeps a failed initialisation (its version check ran while the connection was going down) for the
      // queue's lifetime: every later call on it fails the same way, even once Redis is back. Forget such a queue;
      // the next call makes a fresh one.
      const created = queue;
      queue.waitUntilReady().catch((err: unknown) => {
        if (cache.get(partition) === created) cache.delete(partition);
        this.options.logger.debug(
          { err, partition },
          'ingest queue could not initialise; will open it again',
        );
        created.close().catch(() => undefined);
      });
    }
    return queue;
  }

  async add(partition: number, records: readonly IngestRecord[]): Promise<void> {
    const producer = this.options.producer;
    if (!producer) throw new Error('this process has no queue producer');
    if (this.closed) throw new QueueUnavailableError('queue closed');
    // BullMQ waits for a connection that never was ready instead of failing; check first.
    if (producer.status !== 'ready') throw new QueueUnavailableError(`Redis is ${producer.status}`);
    const queue = this.queueFor(partition, producer, this.producerQueues);
    this.watchBacklog(producer);
    const batch: WireBatch = encodeBatch(records[0]?.hubId ?? 'unknown', records);
    const timeoutMs = this.options.addTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const add = async () => {
      if (!this.concurrencySet.has(partition)) {
        await queue.setGlobalConcurrency(1);
        this.concurrencySet.add(partition);
      }
      await queue.add('batch', batch);
    };
    try {
      await Promise.race([
        add(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new QueueUnavailableError(`add timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      throw new QueueUnavailableError((error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Enqueues an arbitrary payload (tests, tools): the worker validates it like any job. */
  async addRaw(partition: number, payload: unknown): Promise<void> {
    const connection = this.options.producer ?? this.options.consumer;
    if (!connection) throw new Error('no Redis connection');
    await this.queueFor(partition, connection, this.producerQueues).add('batch', payload);
  }

  async consume(partition: number, handler: JobHandler): Promise<PartitionConsumer> {
    const connection = this.options.consumer;
    if (!connection) throw new Error('this process has no queue consumer');
    await this.queueFor(partition, connection, this.consumerQueues).setGlobalConcurrency(1);
    const log = this.options.logger;
    const worker = new Worker(
      this.options.keys.queueName(partition),
      async (job: Job, token?: string) => {
        try {
          await handler({ id: String(job.id), partition, payload: job.data, attempt: job.attemptsStarted });
        } catch (error) {
          if (isDeadLetterError(error)) throw new UnrecoverableError(error.message);
          if ((isPartitionLostError(error) || isPartitionRestartError(error)) && token !== undefined) {
            // Back to the head of the queue for whoever owns the partition next; never failed or delayed.
            await job.moveToWait(token).catch(() => undefined);
            throw new WaitingError();
          }
          throw new UnrecoverableError(`unexpected failure: ${(error as Error).message}`);
        }
      },
      {
        connection,
        prefix: this.options.keys.bullPrefix,
        concurrency: 1,
        lockDuration: this.options.lockDurationMs ?? 10_000,
        stalledInterval: this.options.stalledIntervalMs ?? 5000,
        maxStalledCount: 5,
        maxStartedAttempts: this.options.maxStartedAttempts ?? 10,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 1000 },
        drainDelay: 2,
      },
    );
    worker.on('error', (err) => log.debug({ err, partition }, 'ingest worker connection error'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      log.warn({ jobId: job.id, partition, reason: err.message }, 'ingest job dead-lettered');
      this.options.onFailed?.(job, err.message);
    });
    this.workers.add(worker);
    return {
      close: async (graceful: boolean) => {
        this.workers.delete(worker);
        await worker.close(!graceful);
      },
    };
  }

  async depth(): Promise<number> {
    const connection = this.options.consumer ?? this.options.producer;
    if (connection?.status !== 'ready') return 0;
    const cache = this.options.consumer ? this.consumerQueues : this.producerQueues;
    const counts = await Promise.all(
      Array.from({ length: this.partitions }, (_, p) =>
        this.queueFor(p, connection, cache).getWaitingCount(),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Failed (dead-lettered) jobs kept by BullMQ, newest first. */
  async failedJobs(limit: number): Promise<Job[]> {
    const connection = this.options.consumer ?? this.options.producer;
    if (!connection) return [];
    const cache = this.options.consumer ? this.consumerQueues : this.producerQueues;
    const lists = await Promise.all(
      Array.from({ length: this.partitions }, (_, p) =>
        this.queueFor(p, connection, cache).getFailed(0, limit - 1),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0))
      .slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.backlogTimer !== null) clearInterval(this.backlogTimer);
    await Promise.allSettled([...this.workers].map((w) => w.close()));
    this.workers.clear();
    await Promise.allSettled(
      [...this.producerQueues.values(), ...this.consumerQueues.values()].map((q) => q.close()),
    );
  }
}
