import { Worker } from 'node:worker_threads';
import { FastValidator } from './fast-validate.js';
import type { ParseWorkerData, ToMain, ToWorker } from './parse-worker.js';
import { type CaptureStats, type ReadCaptureOptions, readCapture } from './read-capture.js';
import { decodeBatch } from './record-codec.js';
import { type RecordBatch, RecordFeed } from './record-feed.js';
import { parseWorkerUrl } from './worker-bundle.js';

export interface ReadRecordsOptions extends Omit<ReadCaptureOptions, 'keepText'> {
  /** Batches the parse thread may send ahead of the reader (bounds memory). @defaultValue 4 */
  inFlight?: number;
}

/** A capture's records (src/replay/record-feed.ts), read on this thread. */
export async function* readRecords(
  path: string,
  stats: CaptureStats,
  options: ReadRecordsOptions = {},
): AsyncGenerator<RecordBatch> {
  const feed = new RecordFeed();
  for await (const batch of readCapture(path, stats, options)) yield feed.next(batch);
}

/**
 * `readRecords` with the reading, validation and deduplication on a worker thread, pipelined with the caller (one
 * core reads while the other replays). Batches come over in a compact form (src/replay/record-codec.ts) that this
 * thread rebuilds without parsing JSON again. Same records (same keys, key order and values), same order, same
 * statistics as `readRecords`: the thread runs the same code on the same bytes. Stopping early stops the thread.
 */
export async function* readRecordsParallel(
  path: string,
  stats: CaptureStats,
  options: ReadRecordsOptions = {},
): AsyncGenerator<RecordBatch> {
  const data: ParseWorkerData = {
    path,
    batchSize: options.batchSize ?? 512,
    keepErrors: options.keepErrors ?? 10,
    inFlight: options.inFlight ?? 4,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  };
  const worker = new Worker(await parseWorkerUrl(), {
    workerData: data,
    // A larger young generation: the thread allocates a parsed object per line, nearly all short-lived.
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
  const queue: ToMain[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const wakeUp = () => {
    wake?.();
    wake = null;
  };
  worker.on('message', (m: ToMain) => {
    queue.push(m);
    wakeUp();
  });
  worker.on('error', (error) => {
    failure = error;
    wakeUp();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && failure === null) failure = new Error(`capture reader thread exited with code ${code}`);
    wakeUp();
  });
  const copy = (s: CaptureStats) => {
    stats.lines = s.lines;
    stats.messages = s.messages;
    stats.badLines = s.badLines;
    stats.firstErrors = s.firstErrors;
    stats.bytesRead = s.bytesRead;
    stats.totalBytes = s.totalBytes;
  };
  const validator = new FastValidator();
  let ended = false;
  try {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (m.kind === 'error') throw new Error(m.message);
      copy(m.stats);
      if (m.kind === 'end') {
        ended = true;
        return;
      }
      worker.postMessage({ kind: 'ack' } satisfies ToWorker);
      yield {
        messages: m.messages,
        records: decodeBatch(m.batch, validator),
        skipped: m.skipped,
        duplicates: m.duplicates,
      };
    }
  } finally {
    if (!ended) await worker.terminate();
  }
}
