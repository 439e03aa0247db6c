// Worker-thread entry of readCaptureParallel: worker threads do not inherit the main thread's tsx loader, so this
// plain module registers it and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
