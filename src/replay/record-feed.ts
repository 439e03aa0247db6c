import type { IngestRecord } from '../ingest/ingest-sink.js';
import { isIngestMessage, type MessageType } from '../protocol/index.js';
import { ReplayDedupe } from './dedupe.js';
import type { CaptureBatch } from './read-capture.js';

/** What the worker core receives from a batch of capture messages. */
export interface RecordBatch {
  /** Valid messages this batch covers (records, skipped and duplicates). */
  messages: number;
  /** Messages for the worker, deduplicated, in capture order; `receivedAt` is the message's timestamp. */
  records: IngestRecord[];
  /** The line of each record, when the capture batch kept them (`keepText`). */
  texts?: string[];
  /** Valid messages the worker does not consume, by type. */
  skipped: Partial<Record<MessageType, number>>;
  duplicates: number;
}

/**
 * Capture messages → worker records: messages the worker does not consume (registrations, heartbeats, results sent
 * by agents) are counted by type, repeats are dropped as the live worker's idempotency would (src/replay/dedupe.ts),
 * and each record's time is its message's timestamp. Sequential and deterministic: it runs on the replay thread, or
 * on the parse thread ahead of it (src/replay/parse-worker.ts) with the same results.
 */
export class RecordFeed {
  readonly #dedupe = new ReplayDedupe();

  next(batch: CaptureBatch): RecordBatch {
    const records: IngestRecord[] = [];
    const texts: string[] | undefined = batch.texts === undefined ? undefined : [];
    const skipped: Partial<Record<MessageType, number>> = {};
    const before = this.#dedupe.duplicates;
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (!isIngestMessage(message)) {
        skipped[message.type] = (skipped[message.type] ?? 0) + 1;
        continue;
      }
      const record: IngestRecord = { message, hubId: 'replay', receivedAt: Date.parse(message.timestamp) };
      if (!this.#dedupe.accept(record)) continue;
      records.push(record);
      texts?.push(batch.texts![i]!);
    }
    const out: RecordBatch = {
      messages: messages.length,
      records,
      skipped,
      duplicates: this.#dedupe.duplicates - before,
    };
    if (texts !== undefined) out.texts = texts;
    return out;
  }
}
