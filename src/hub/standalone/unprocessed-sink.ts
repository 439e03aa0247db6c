import type { Logger } from 'pino';
import type { IngestRecord, IngestSink } from '../../ingest/ingest-sink.js';
import type { ProtocolError } from '../../protocol/protocol-error.js';

/**
 * The sink of a hub with no ingestion pipeline: messages are accepted (captured, fanned out, applied to the
 * registry) but no worker processes them. It says so once at the first message and keeps count; it exists only so
 * `sbp hub` runs before the pipeline is installed.
 */
export class UnprocessedSink implements IngestSink {
  readonly #log: Logger;
  readonly counts = new Map<string, number>();
  #warned = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  offer(record: IngestRecord): ProtocolError | null {
    if (!this.#warned) {
      this.#warned = true;
      this.#log.warn(
        'no ingestion pipeline: probes are captured and fanned out but not processed by a worker',
      );
    }
    this.counts.set(record.message.type, (this.counts.get(record.message.type) ?? 0) + 1);
    return null;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
