import { Worker } from 'node:worker_threads';
import type { Message } from '../protocol/index.js';
import type { ParseWorkerData, ToMain, ToWorker } from './parse-worker.js';
import type { CaptureBatch, CaptureStats, ReadCaptureOptions } from './read-capture.js';

/**
 * `readCapture` with the reading and validation (readline, JSON.parse, zod) on a worker thread: the main thread only
 * decodes each batch of already-validated lines with one JSON.parse, and is free for the worker core. Same batches,
 * same order, same statistics as `readCapture`. At most a few batches are in flight (bounded memory).
 */
export async function* readCaptureParallel(
  path: string,
  stats: CaptureStats,
  options: ReadCaptureOptions = {},
): AsyncGenerator<CaptureBatch> {
  const data: ParseWorkerData = {
    path,
    batchSize: options.batchSize ?? 512,
    keepErrors: options.keepErrors ?? 10,
    inFlight: 4,
  };
  const worker = new Worker(new URL('./parse-worker-entry.mjs', import.meta.url), { workerData: data });
  const queue: ToMain[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  worker.on('message', (m: ToMain) => {
    queue.push(m);
    wake?.();
    wake = null;
  });
  worker.on('error', (error) => {
    failure = error;
    wake?.();
    wake = null;
  });
  worker.on('exit', (code) => {
    if (code !== 0 && failure === null) failure = new Error(`capture reader thread exited with code ${code}`);
    wake?.();
    wake = null;
  });
  const copy = (s: CaptureStats) => {
    stats.lines = s.lines;
    stats.messages = s.messages;
    stats.badLines = s.badLines;
    stats.firstErrors = s.firstErrors;
    stats.bytesRead = s.bytesRead;
    stats.totalBytes = s.totalBytes;
  };
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
      const messages = JSON.parse(m.json) as Message[];
      worker.postMessage({ kind: 'ack' } satisfies ToWorker);
      yield { messages, lines: m.lines };
    }
  } finally {
    if (!ended) await worker.terminate();
  }
}
