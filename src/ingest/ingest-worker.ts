import type { Logger } from 'pino';
import { type IngestStore, isPartitionLostError } from '../store/ingest-store.js';
import { isPartitionRestartError } from './errors.js';
import type { IngestMetrics } from './metrics.js';
import type { PartitionOwnership } from './partition-ownership.js';
import { PartitionRunner, type RunnerOptions, type ValidationMode } from './partition-runner.js';
import type { ProcessOptions } from './process-batch.js';
import type { IngestQueue, JobHandler, PartitionConsumer } from './queue.js';
import type { WorkerModels } from './worker-models.js';

export interface IngestWorkerOptions {
  /** This worker's id (logs, leases). */
  id: string;
  queue: IngestQueue;
  store: IngestStore;
  ownership: PartitionOwnership;
  models: () => WorkerModels;
  logger: Logger;
  metrics: IngestMetrics | null;
  /** Keep a partition changelog (distributed: lets another worker rebuild state exactly). */
  changelog: boolean;
  processOptions?: Partial<ProcessOptions>;
  checkpointIntervalMs?: number;
  validateResults?: ValidationMode;
  clock?: () => number;
  onCommitted?: RunnerOptions['onCommitted'];
}

interface Running {
  runner: PartitionRunner;
  consumer: PartitionConsumer;
}

/**
 * The worker: consumes the partitions its ownership strategy gives it (all of them embedded; a leased share on
 * Redis), one PartitionRunner each. Knows nothing of which queue or store is behind it.
 */
export class IngestWorker {
  private readonly running = new Map<number, Running>();
  private readonly chains = new Map<number, Promise<void>>();
  private started = false;
  private stopped: Promise<void> | null = null;

  constructor(private readonly o: IngestWorkerOptions) {}

  get id(): string {
    return this.o.id;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.o.ownership.start({
      acquire: (p, token) => this.serial(p, () => this.acquire(p, token)),
      release: (p) => this.serial(p, () => this.stopPartition(p, true)),
      lost: (p) => this.serial(p, () => this.stopPartition(p, false)),
    });
  }

  /** Partitions being consumed now. */
  owned(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  /** The runner of a partition (tests, tools). */
  runner(partition: number): PartitionRunner | undefined {
    return this.running.get(partition)?.runner;
  }

  /** Operations on one partition never overlap (take-up, hand-over and loss arrive from timers and handlers). */
  private serial(partition: number, fn: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(partition) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(partition, tail);
    void tail.then(() => {
      if (this.chains.get(partition) === tail) this.chains.delete(partition);
    });
    return next;
  }

  private async acquire(partition: number, token: string | null): Promise<void> {
    if (this.running.has(partition)) await this.stopPartition(partition, false);
    const o = this.o;
    const runnerOptions: RunnerOptions = {
      partition,
      store: o.store.partition(partition, token),
      models: o.models,
      logger: o.logger,
      metrics: o.metrics,
      clock: o.clock ?? Date.now,
      changelog: o.changelog,
    };
    if (o.processOptions !== undefined) runnerOptions.processOptions = o.processOptions;
    if (o.checkpointIntervalMs !== undefined) runnerOptions.checkpointIntervalMs = o.checkpointIntervalMs;
    if (o.validateResults !== undefined) runnerOptions.validateResults = o.validateResults;
    if (o.onCommitted !== undefined) runnerOptions.onCommitted = o.onCommitted;
    const runner = await PartitionRunner.open(runnerOptions);
    const consumer = await o.queue.consume(partition, this.handlerFor(partition, runner));
    this.running.set(partition, { runner, consumer });
    o.metrics?.partitionsOwned.set(this.running.size);
    o.logger.info({ partition }, 'consuming partition');
  }

  private handlerFor(partition: number, runner: PartitionRunner): JobHandler {
    return async (job) => {
      try {
        await runner.handle(job);
      } catch (error) {
        if (isPartitionLostError(error) || isPartitionRestartError(error)) {
          this.o.logger.warn({ partition, reason: (error as Error).message }, 'partition must be reloaded');
          this.o.ownership.reportBroken(partition);
        }
        throw error;
      }
    };
  }

  private async stopPartition(partition: number, graceful: boolean): Promise<void> {
    const r = this.running.get(partition);
    if (!r) return;
    this.running.delete(partition);
    this.o.metrics?.partitionsOwned.set(this.running.size);
    await r.consumer.close(graceful);
    if (graceful && !r.runner.isBroken) {
      try {
        await r.runner.close();
      } catch (err) {
        this.o.logger.warn({ err, partition }, 'final checkpoint failed');
      }
    }
    this.o.logger.info({ partition, graceful }, 'stopped consuming partition');
  }

  /** Hands every partition over (finishing jobs in hand, checkpointing) and stops. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.o.ownership.stop();
      await Promise.all([...this.chains.values()]);
      for (const p of [...this.running.keys()]) await this.serial(p, () => this.stopPartition(p, true));
    })();
    return this.stopped;
  }
}
