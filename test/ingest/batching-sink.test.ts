import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchingSink } from '../../src/ingest/batching-sink.js';
import { QueueUnavailableError } from '../../src/ingest/errors.js';
import type { IngestRecord } from '../../src/ingest/ingest-sink.js';
import { ingestMetrics } from '../../src/ingest/metrics.js';
import { openPipeline } from '../../src/ingest/open-pipeline.js';
import { partitionOf } from '../../src/ingest/partition.js';
import type { IngestQueue, PartitionConsumer } from '../../src/ingest/queue.js';
import { silent, tempDir, waitFor } from './helpers/collect.js';
import { probe, record } from './helpers/messages.js';
import { testModels } from './helpers/test-models.js';

/** A queue whose availability the test switches, recording every batch it took. */
class SwitchableQueue implements IngestQueue {
  readonly kind = 'memory';
  up = true;
  inflight = new Map<number, number>();
  maxInflight = 0;
  readonly taken: Array<{ partition: number; seqs: number[] }> = [];
  constructor(readonly partitions: number) {}
  async add(partition: number, records: readonly IngestRecord[]): Promise<void> {
    const n = (this.inflight.get(partition) ?? 0) + 1;
    this.inflight.set(partition, n);
    this.maxInflight = Math.max(this.maxInflight, n);
    await new Promise((r) => setTimeout(r, 2));
    this.inflight.set(partition, n - 1);
    if (!this.up) throw new QueueUnavailableError('down');
    this.taken.push({
      partition,
      seqs: records.map((r) => (r.message.type === 'pingResult' ? r.message.data.sequenceNumber : -1)),
    });
  }
  async consume(): Promise<PartitionConsumer> {
    throw new Error('not used');
  }
  async depth() {
    return 0;
  }
  async close() {}
}

describe('BatchingSink', () => {
  it('batches under load, keeps one add in flight per partition, and keeps order through an outage', async () => {
    const queue = new SwitchableQueue(4);
    const sink = new BatchingSink(queue, silent, null, {
      lingerMs: 1,
      maxBatch: 50,
      retryMinMs: 5,
      retryMaxMs: 20,
    });
    let seq = 0;
    const offer = (n: number) => {
      for (let i = 0; i < n; i++) {
        expect(sink.offer(record(probe('a', `d-${seq % 8}`, seq)))).toBeNull();
        seq += 1;
      }
    };
    offer(500);
    await new Promise((r) => setTimeout(r, 20));
    queue.up = false;
    offer(300);
    await new Promise((r) => setTimeout(r, 60));
    expect(sink.queueUnavailable).toBe(true);
    expect(sink.bufferedRecords).toBeGreaterThanOrEqual(300);
    queue.up = true;
    offer(200);
    await sink.flush();
    expect(sink.bufferedRecords).toBe(0);
    expect(queue.maxInflight).toBe(1);
    // Every record reached the queue exactly once, each partition in offer order, in batches.
    const all = queue.taken.flatMap((t) => t.seqs);
    expect(all.length).toBe(1000);
    expect(new Set(all).size).toBe(1000);
    for (let p = 0; p < 4; p++) {
      const seqs = queue.taken.filter((t) => t.partition === p).flatMap((t) => t.seqs);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      for (const s of seqs) expect(partitionOf(probe('a', `d-${s % 8}`, s), 4)).toBe(p);
    }
    expect(queue.taken.length).toBeLessThan(200);
    expect(Math.max(...queue.taken.map((t) => t.seqs.length))).toBe(50);
  });

  it('refuses with QUEUE_FULL at the bound and accepts again once the queue took the backlog', async () => {
    const queue = new SwitchableQueue(1);
    queue.up = false;
    const sink = new BatchingSink(queue, silent, null, { maxBuffered: 10, retryMinMs: 5, retryMaxMs: 10 });
    const results = Array.from({ length: 15 }, (_, s) => sink.offer(record(probe('a', 'd', s))));
    expect(results.filter((r) => r === null)).toHaveLength(10);
    expect(results.slice(10).every((r) => r?.code === 'QUEUE_FULL')).toBe(true);
    queue.up = true;
    await sink.flush();
    expect(sink.offer(record(probe('a', 'd', 99)))).toBeNull();
    await sink.close();
    expect(sink.offer(record(probe('a', 'd', 100)))?.code).toBe('QUEUE_FULL');
  });

  it('waits the backlog linger only once the worker is behind by more than the job just added', async () => {
    /** Batches a partition sends in 300 ms of steady offers while its queue reports `waiting` jobs. */
    const batchesWith = async (waiting: number) => {
      const queue = new (class extends SwitchableQueue {
        backlog() {
          return waiting;
        }
      })(1);
      const sink = new BatchingSink(queue, silent, null, { lingerMs: 8, backlogLingerMs: 100 });
      let seq = 0;
      const timer = setInterval(() => {
        for (let i = 0; i < 5; i++) expect(sink.offer(record(probe('a', 'd', seq++)))).toBeNull();
      }, 1);
      await new Promise((r) => setTimeout(r, 300));
      clearInterval(timer);
      const sent = queue.taken.length;
      await sink.close();
      expect(queue.taken.flatMap((t) => t.seqs)).toEqual(Array.from({ length: seq }, (_, i) => i));
      return sent;
    };
    // One waiting job (the hub's latest batch, not yet fetched) is a worker that keeps up: 8 ms linger.
    expect(await batchesWith(1)).toBeGreaterThan(8);
    // Two or more: the worker is behind, and batches go at most once per 100 ms.
    expect(await batchesWith(2)).toBeLessThanOrEqual(4);
  });
});

describe('ingestion metrics', () => {
  it('reports queue depth, latency, jobs, duplicates and dead letters on the given registry', async () => {
    const dir = tempDir();
    const registry = new Registry();
    const pipeline = await openPipeline(
      { dataDir: dir.path, embeddedWorker: true, logger: silent, metrics: registry },
      { loadModels: async () => testModels() },
    );
    try {
      for (let s = 0; s < 20; s++) pipeline.sink.offer(record(probe('a', 'm', s)));
      await pipeline.drain();
      for (let s = 0; s < 5; s++) pipeline.sink.offer(record(probe('a', 'm', s)));
      await pipeline.drain();
      (pipeline.queue as unknown as { addRaw(p: number, x: unknown): void }).addRaw(0, 'junk');
      await waitFor('the dead letter', async () => (await pipeline.deadLetters()).length === 1);
      const text = await registry.metrics();
      expect(text).toMatch(/sbp_ingest_latency_seconds_count 20/);
      expect(text).toMatch(/sbp_ingest_duplicates_skipped_total 5/);
      expect(text).toMatch(/sbp_ingest_dead_letters_total\{kind="job"\} 1/);
      expect(text).toMatch(/sbp_ingest_jobs_processed_total\{outcome="applied"\} \d+/);
      expect(text).toMatch(/sbp_ingest_records_processed_total\{type="pingResult"\} 20/);
      expect(text).toMatch(/sbp_ingest_queue_depth \d+/);
      expect(text).toMatch(/sbp_worker_model_version_info\{version="v1"\} 1/);
      // The same registry can be handed to a second pipeline in the process without clashing.
      expect(ingestMetrics(registry)).toBe(ingestMetrics(registry));
    } finally {
      await pipeline.close();
      dir.remove();
    }
  });
});
