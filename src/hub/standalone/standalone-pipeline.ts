import type { Logger } from 'pino';
import type { Pipeline } from '../../ingest/pipeline.js';
import { MemoryDeviceRegistry } from '../../store/memory-device-registry.js';
import { MemoryResultsBus } from './memory-results-bus.js';
import { UnprocessedSink } from './unprocessed-sink.js';

/**
 * What `sbp hub` runs on when `src/ingest/open-pipeline.ts` is not installed: an in-memory registry, an in-process
 * results bus with no producer, and a sink that accepts without processing. Replaced by `openPipeline` when present.
 */
export function openStandalonePipeline(log: Logger): Pipeline {
  const sink = new UnprocessedSink(log);
  const results = new MemoryResultsBus();
  const registry = new MemoryDeviceRegistry();
  let closed: Promise<void> | undefined;
  return {
    mode: 'embedded',
    sink,
    results,
    registry,
    async deadLetters() {
      return [];
    },
    close() {
      closed ??= Promise.allSettled([sink.close(), results.close(), registry.close()]).then(() => undefined);
      return closed;
    },
  };
}
