import type { IngestMessage } from '../protocol/index.js';
import type { ProtocolError } from '../protocol/protocol-error.js';

/** An accepted message on its way to the worker, with where and when the hub received it. */
export interface IngestRecord {
  message: IngestMessage;
  /** Id of the hub process that accepted it. */
  hubId: string;
  /** Epoch milliseconds at the hub. */
  receivedAt: number;
  /**
   * The message's JSON text as the hub received it, when that text parses to exactly `message` (the hub validates
   * frames with strict schemas): lets a queue put it on the wire without serialising the message again.
   */
  frame?: string;
}

/**
 * The hub's side of the ingestion queue. The hub does not know whether BullMQ or the in-process queue is behind it.
 */
export interface IngestSink {
  /**
   * Takes a validated message for processing. Returns null when it was accepted (queued, or held in the bounded
   * buffer while the queue is unreachable), or a `QUEUE_FULL` ProtocolError when it could not be accepted — then
   * nothing was kept and the hub must tell the sender. Never throws.
   */
  offer(record: IngestRecord): ProtocolError | null;
  /** Resolves when everything offered so far has reached the queue (used on shutdown and in tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
