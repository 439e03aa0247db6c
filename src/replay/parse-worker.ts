import { parentPort, workerData } from 'node:worker_threads';
import { type CaptureStats, emptyCaptureStats, readCapture } from './read-capture.js';

/** Messages between readCaptureParallel and its worker. */
export type ToMain =
  | { kind: 'batch'; json: string; lines: number[]; stats: CaptureStats }
  | { kind: 'end'; stats: CaptureStats }
  | { kind: 'error'; message: string };
export type ToWorker = { kind: 'ack' };

export interface ParseWorkerData {
  path: string;
  batchSize: number;
  keepErrors: number;
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
  try {
    for await (const batch of readCapture(data.path, stats, {
      batchSize: data.batchSize,
      keepErrors: data.keepErrors,
      keepText: true,
    })) {
      while (inFlight >= data.inFlight) await new Promise<void>((resolve) => (wake = resolve));
      inFlight += 1;
      // Valid lines as one JSON array: the main thread decodes a batch with a single JSON.parse.
      const message: ToMain = {
        kind: 'batch',
        json: `[${batch.texts!.join(',')}]`,
        lines: batch.lines,
        stats,
      };
      port.postMessage(message);
    }
    port.postMessage({ kind: 'end', stats } satisfies ToMain);
  } catch (error) {
    port.postMessage({ kind: 'error', message: (error as Error).message } satisfies ToMain);
  }
  port.close();
}

await main();
