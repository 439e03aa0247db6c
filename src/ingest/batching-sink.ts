import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { IngestRecord, IngestSink } from './ingest-sink.js';
import type { IngestMetrics } from './metrics.js';
import { partitionOf } from './partition.js';
import type { IngestQueue } from './queue.js';

export interface SinkOptions {
  /** Records per job at most. @defaultValue 500 */
  maxBatch?: number;
  /**
   * A partition sends at most one batch per `lingerMs`: records arriving within that time of its previous batch wait
   * and go together, so under load a partition's job rate stays bounded (partitions ÷ lingerMs jobs/s over the hub)
   * and its jobs grow with the load instead; a record arriving after a quiet spell goes at the end of the current
   * event-loop turn (with the rest of the frames read together with it). The cost per job (BullMQ's scripts, the
   * worker's commit) is what this bounds; the latency it adds is at most `lingerMs`. @defaultValue 8
   */
  lingerMs?: number;
  /**
   * The same while the partition's worker is behind (at least `backlogJobs` jobs waiting in its queue): records
   * would wait there anyway, so they wait here and go as one bigger job — fewer, larger jobs are what lets the
   * worker catch up. @defaultValue 25
   */
  backlogLingerMs?: number;
  /**
   * Jobs waiting in the partition's queue from which its worker counts as behind. One waiting job is the normal
   * state of a worker that keeps up: the hub's latest batch, added while the worker finishes the one before (the
   * hub looks at the wait lists every 20 ms, so it sees that job most of the time). Counting it as a backlog made
   * 5–10 % of batches at half the sustained rate wait 25 ms instead of 8, which was most of the Redis path's p99
   * (docs/pipeline.md, "Latency"). @defaultValue 2
   */
  backlogJobs?: number;
  /** Records held at most while the queue is slow or unreachable; beyond it `offer` returns QUEUE_FULL. @defaultValue 50000 */
  maxBuffered?: number;
  /** Back-off between attempts while the queue is unreachable. @defaultValue 100 … 2000 ms */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long `close` keeps trying to hand over what it holds. @defaultValue 10000 */
  closeTimeoutMs?: number;
}

interface Part {
  pending: IngestRecord[];
  inflight: boolean;
  /** performance.now() when the partition's last batch went. */
  sentAt: number;
  /** Cancels the scheduled send, if any. */
  timer: (() => void) | null;
  failures: number;
}

/**
 * The hub's IngestSink over either queue. Per partition: records wait in arrival order, at most one batch is in
 * flight (so a failed add is retried before anything behind it — order is kept through outages), and nothing is
 * dropped: when the bound is reached new records are refused with QUEUE_FULL instead.
 */
export class BatchingSink implements IngestSink {
  private readonly parts: Part[];
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly backlogLingerMs: number;
  private readonly backlogJobs: number;
  private readonly maxBuffered: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private buffered = 0;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private unavailableSince: number | null = null;

  constructor(
    private readonly queue: IngestQueue,
    private readonly logger: Logger,
    private readonly metrics: IngestMetrics | null = null,
    options: SinkOptions = {},
  ) {
    this.parts = Array.from({ length: queue.partitions }, () => ({
      pending: [],
      inflight: false,
      sentAt: Number.NEGATIVE_INFINITY,
      timer: null,
      failures: 0,
    }));
    this.maxBatch = options.maxBatch ?? 500;
    this.lingerMs = options.lingerMs ?? 8;
    this.backlogLingerMs = options.backlogLingerMs ?? 25;
    this.backlogJobs = options.backlogJobs ?? 2;
    this.maxBuffered = options.maxBuffered ?? 50_000;
    this.retryMinMs = options.retryMinMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 2000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  }

  private readonly closeTimeoutMs: number;

  /** Records accepted and not yet handed to the queue. */
  get bufferedRecords(): number {
    return this.buffered;
  }

  /** True while the queue refuses batches (Redis unreachable). */
  get queueUnavailable(): boolean {
    return this.unavailableSince !== null;
  }

  offer(record: IngestRecord): ProtocolError | null {
    if (this.closing) {
      return new ProtocolError('QUEUE_FULL', 'the hub is shutting down; message not accepted, resend later');
    }
    if (this.buffered >= this.maxBuffered) {
      this.metrics?.queueFull.inc();
      return new ProtocolError(
        'QUEUE_FULL',
        `ingestion queue ${this.unavailableSince === null ? 'is behind' : 'is unreachable'} and the hub buffer is full (${this.buffered} messages); message not accepted, resend later`,
        { context: { buffered: this.buffered } },
      );
    }
    let p: number;
    try {
      p = partitionOf(record.message, this.queue.partitions);
    } catch (error) {
      return new ProtocolError('INVALID_DATA', `cannot route message: ${(error as Error).message}`);
    }
    const part = this.parts[p]!;
    part.pending.push(record);
    this.buffered += 1;
    this.metrics?.buffered.set(this.buffered);
    if (!part.inflight && part.failures === 0) {
      if (part.pending.length >= this.maxBatch) this.send(p);
      else if (part.timer === null) part.timer = this.schedule(p, this.wait(p, part));
    }
    return null;
  }

  /**
   * How long the partition's pending records wait before their batch goes: what is left of its linger — rounded up
   * to the next multiple of `lingerMs` on a clock shared by every partition, so that under load all partitions send
   * in the same event-loop turn and their adds share one write to Redis (and one read of the replies).
   */
  private wait(p: number, part: Part): number {
    const now = performance.now();
    const behind = (this.queue.backlog?.(p) ?? 0) >= this.backlogJobs;
    const linger = behind ? this.backlogLingerMs : this.lingerMs;
    const ready = part.sentAt + linger;
    if (ready <= now || this.lingerMs <= 0) return Math.max(0, ready - now);
    return Math.ceil(ready / this.lingerMs) * this.lingerMs - now;
  }

  private schedule(p: number, ms: number): () => void {
    if (ms <= 0) {
      // End of the current event-loop turn (setTimeout(0) would wait a timer tick, ≥ 1 ms).
      const h = setImmediate(() => this.send(p));
      return () => clearImmediate(h);
    }
    const h = setTimeout(() => this.send(p), ms);
    return () => clearTimeout(h);
  }

  private send(p: number): void {
    const part = this.parts[p]!;
    if (part.timer !== null) {
      part.timer();
      part.timer = null;
    }
    if (part.inflight || part.pending.length === 0) return;
    const batch = part.pending.length <= this.maxBatch ? part.pending : part.pending.slice(0, this.maxBatch);
    part.pending = batch === part.pending ? [] : part.pending.slice(this.maxBatch);
    part.inflight = true;
    part.sentAt = performance.now();
    this.queue.add(p, batch).then(
      () => {
        part.inflight = false;
        part.failures = 0;
        this.buffered -= batch.length;
        this.metrics?.buffered.set(this.buffered);
        if (this.unavailableSince !== null) {
          this.logger.info(
            { downMs: Date.now() - this.unavailableSince, buffered: this.buffered },
            'ingestion queue reachable again; draining the buffer in order',
          );
          this.unavailableSince = null;
          // Partitions that were waiting for their retry timer go now.
          for (let i = 0; i < this.parts.length; i++) if (this.parts[i]!.failures > 0) this.kick(i);
        }
        // What arrived during the add goes when the partition's linger since its previous batch is over.
        if (part.pending.length >= this.maxBatch) this.send(p);
        else if (part.pending.length > 0 && part.timer === null)
          part.timer = this.schedule(p, this.wait(p, part));
        this.checkDrained();
      },
      (error: unknown) => {
        part.inflight = false;
        part.pending = batch.concat(part.pending);
        part.failures += 1;
        if (this.unavailableSince === null) {
          this.unavailableSince = Date.now();
          this.logger.warn(
            { err: error, buffered: this.buffered },
            'ingestion queue unavailable; buffering accepted messages (bounded)',
          );
        }
        const delay = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(10, part.failures - 1));
        part.timer = this.schedule(p, delay);
      },
    );
  }

  private kick(p: number): void {
    const part = this.parts[p]!;
    part.failures = 0;
    if (!part.inflight) this.send(p);
  }

  private checkDrained(): void {
    if (this.buffered > 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends everything now and resolves when all of it has reached the queue (waits through an outage). */
  async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    for (let p = 0; p < this.parts.length; p++) {
      const part = this.parts[p]!;
      if (!part.inflight && part.failures === 0) this.send(p);
    }
    await drained;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const part of this.parts) part.timer?.();
    if (timedOut && this.buffered > 0) {
      this.logger.error(
        { lost: this.buffered },
        'closing with accepted messages the ingestion queue never took (queue unreachable); they are lost',
      );
    }
  }
}
