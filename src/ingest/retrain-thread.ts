import { Worker } from 'node:worker_threads';
import type { RetrainJobInput, RetrainJobResult } from './retrain-job.js';

type ThreadReply = { ok: true; result: RetrainJobResult } | { ok: false; message: string };

/**
 * Runs one retraining job (runRetrainJob) in a worker thread: it is CPU-bound for seconds on a large history, and on
 * the worker's event loop it would stall batches and let partition leases expire.
 */
export function retrainInThread(input: RetrainJobInput): { done: Promise<RetrainJobResult>; cancel(): void } {
  const worker = new Worker(new URL('./retrain-thread-entry.mjs', import.meta.url), { workerData: input });
  const done = new Promise<RetrainJobResult>((resolve, reject) => {
    let settled = false;
    worker.once('message', (reply: ThreadReply) => {
      settled = true;
      if (reply.ok) resolve(reply.result);
      else reject(new Error(reply.message));
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the retraining thread exited with code ${code}`));
    });
  });
  return { done, cancel: () => void worker.terminate() };
}
