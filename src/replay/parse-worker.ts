import { parentPort, workerData } from 'node:worker_threads';
import type { MessageType } from '../protocol/index.js';
import { type CaptureStats, emptyCaptureStats, readCapture } from './read-capture.js';
import { type EncodedBatch, encodeBatch, transferList } from './record-codec.js';
import { RecordFeed } from './record-feed.js';

// The parse thread of readRecordsParallel (src/replay/read-records.ts): reads, validates and deduplicates the capture
// and sends each batch of records in the record codec's transferable form.

/** Messages between readRecordsParallel and its worker. */
export type ToMain =
  | {
      kind: 'batch';
      batch: EncodedBatch;
      messages: number;
      skipped: Partial<Record<MessageType, number>>;
      duplicates: number;
      stats: CaptureStats;
    }
  | { kind: 'end'; stats: CaptureStats }
  | { kind: 'error'; message: string };
export type ToWorker = { kind: 'ack' };

export interface ParseWorkerData {
  path: string;
  batchSize: number;
  keepErrors: number;
  limit?: number;
  /** Batches sent and not yet consumed, at most (bounds memory). */
  inFlight: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const data = workerData as ParseWorkerData;
  let inFlight = 0;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'ack') {
      inFlight -= 1;
      wake?.();
      wake = null;
    }
  });
  const stats = emptyCaptureStats();
  const feed = new RecordFeed();
  try {
    for await (const batch of readCapture(data.path, stats, {
      batchSize: data.batchSize,
      keepErrors: data.keepErrors,
      keepText: true,
      ...(data.limit === undefined ? {} : { limit: data.limit }),
    })) {
      const records = feed.next(batch);
      const encoded = encodeBatch(records.records, records.texts!);
      while (inFlight >= data.inFlight) await new Promise<void>((resolve) => (wake = resolve));
      inFlight += 1;
      const message: ToMain = {
        kind: 'batch',
        batch: encoded,
        messages: records.messages,
        skipped: records.skipped,
        duplicates: records.duplicates,
        stats,
      };
      port.postMessage(message, transferList(encoded));
    }
    port.postMessage({ kind: 'end', stats } satisfies ToMain);
  } catch (error) {
    port.postMessage({ kind: 'error', message: (error as Error).message } satisfies ToMain);
  }
  port.close();
}

await main();
