// Worker-thread entry of a retraining job (retrain-thread.ts): worker threads do not inherit the main thread's tsx
// loader, so this plain module registers it, runs the TypeScript job and posts its result back.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runRetrainJob } = await import('./retrain-job.ts');
try {
  parentPort.postMessage({ ok: true, result: await runRetrainJob(workerData) });
} catch (error) {
  parentPort.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
