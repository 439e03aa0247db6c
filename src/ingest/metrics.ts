import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The ingestion metrics, registered once per prom-client Registry (hub side and worker side share them). */
export interface IngestMetrics {
  /** Batches (or records, in process) waiting in the queue; set by a collect callback. */
  queueDepth: Gauge;
  /** Records accepted by this hub and not yet handed to the queue. */
  buffered: Gauge;
  queueFull: Counter;
  /** Seconds from a record's arrival at the hub to its batch's results being published. */
  latency: Histogram;
  jobs: Counter<'outcome'>;
  records: Counter<'type'>;
  duplicates: Counter;
  deadLetters: Counter<'kind'>;
  invalidResults: Counter;
  /** Partitions this process's worker owns. */
  partitionsOwned: Gauge;
  modelVersion: Gauge<'version'>;
}

const cache = new WeakMap<Registry, IngestMetrics>();

export function ingestMetrics(registry: Registry): IngestMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: IngestMetrics = {
    queueDepth: new Gauge({
      name: 'sbp_ingest_queue_depth',
      help: 'Ingestion jobs waiting in the queue (BullMQ: batches over all partitions; in process: records)',
      registers,
    }),
    buffered: new Gauge({
      name: 'sbp_ingest_buffered_records',
      help: 'Records accepted by this hub and not yet handed to the queue (grows while Redis is unreachable)',
      registers,
    }),
    queueFull: new Counter({
      name: 'sbp_ingest_queue_full_total',
      help: 'Messages refused with QUEUE_FULL because the hub buffer was full',
      registers,
    }),
    latency: new Histogram({
      name: 'sbp_ingest_latency_seconds',
      help: 'From a probe arriving at the hub to the results of its batch being published',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobs: new Counter({
      name: 'sbp_ingest_jobs_processed_total',
      help: 'Ingestion jobs (batches) processed by this worker, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    records: new Counter({
      name: 'sbp_ingest_records_processed_total',
      help: 'Records applied by this worker, by message type',
      labelNames: ['type'],
      registers,
    }),
    duplicates: new Counter({
      name: 'sbp_ingest_duplicates_skipped_total',
      help: 'Records skipped because their idempotency key was already applied (redelivery, resend)',
      registers,
    }),
    deadLetters: new Counter({
      name: 'sbp_ingest_dead_letters_total',
      help: 'Jobs and records parked as dead letters, by kind (job, record)',
      labelNames: ['kind'],
      registers,
    }),
    invalidResults: new Counter({
      name: 'sbp_ingest_invalid_results_total',
      help: 'Results dropped because they did not validate against the protocol (a model produced bad values)',
      registers,
    }),
    partitionsOwned: new Gauge({
      name: 'sbp_ingest_partitions_owned',
      help: 'Ingestion partitions this worker process consumes',
      registers,
    }),
    modelVersion: new Gauge({
      name: 'sbp_worker_model_version_info',
      help: 'The model version the worker runs (value 1 on the current version label)',
      labelNames: ['version'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
