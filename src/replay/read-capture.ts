import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { MAX_MESSAGE_BYTES, type Message, parseMessage } from '../protocol/index.js';

/** A line that could not be replayed, for the user: where and why. */
export interface BadLine {
  /** 1-based line number in the input. */
  line: number;
  reason: string;
}

export interface CaptureStats {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that were valid protocol messages. */
  messages: number;
  /** Lines that were not (not JSON, not a valid message, too long). */
  badLines: number;
  /** The first few bad lines, in order. */
  firstErrors: BadLine[];
  /** Bytes of the input consumed so far (compressed bytes for .gz). */
  bytesRead: number;
  /** Size of the input file, bytes. */
  totalBytes: number;
}

export interface ReadCaptureOptions {
  /** Messages per yielded batch. @defaultValue 512 */
  batchSize?: number;
  /** Bad lines kept in `firstErrors`. @defaultValue 10 */
  keepErrors?: number;
  /** Also return each valid line's text (`CaptureBatch.texts`), for handing batches to another thread. */
  keepText?: boolean;
}

/** Messages in file order, with the line each came from. */
export interface CaptureBatch {
  messages: Message[];
  lines: number[];
  /** The valid lines as read (only with `keepText`). */
  texts?: string[];
}

/**
 * Streams a capture (JSON lines, one protocol message per line — the hub's `--capture` output, or a calibration walk)
 * in batches. Every line is parsed and validated with the protocol's own schemas; a bad line is counted and the first
 * few are kept with their reason, and reading goes on. Memory stays bounded by one batch whatever the file size.
 * `.gz` files are decompressed on the fly.
 */
export async function* readCapture(
  path: string,
  stats: CaptureStats,
  options: ReadCaptureOptions = {},
): AsyncGenerator<CaptureBatch> {
  const batchSize = options.batchSize ?? 512;
  const keepErrors = options.keepErrors ?? 10;
  const keepText = options.keepText === true;
  stats.totalBytes = (await stat(path)).size;
  const file = createReadStream(path, { highWaterMark: 1 << 18 });
  const input = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  file.on('data', () => {
    stats.bytesRead = file.bytesRead;
  });
  const bad = (line: number, reason: string) => {
    stats.badLines += 1;
    if (stats.firstErrors.length < keepErrors) stats.firstErrors.push({ line, reason });
  };
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const fresh = (): CaptureBatch =>
    keepText ? { messages: [], lines: [], texts: [] } : { messages: [], lines: [] };
  let batch = fresh();
  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo += 1;
      if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) continue;
      stats.lines += 1;
      // Characters ≤ bytes: only lines that may be over the limit pay for a byte count.
      if (text.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
        bad(lineNo, `line of ${Buffer.byteLength(text)} bytes exceeds the 1 MB message limit`);
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        bad(lineNo, `not JSON: ${(error as Error).message}`);
        continue;
      }
      const parsed = parseMessage(value);
      if (!parsed.ok) {
        bad(lineNo, parsed.error.message);
        continue;
      }
      stats.messages += 1;
      batch.messages.push(parsed.message);
      batch.lines.push(lineNo);
      batch.texts?.push(text);
      if (batch.messages.length >= batchSize) {
        yield batch;
        batch = fresh();
      }
    }
    if (batch.messages.length > 0) yield batch;
    stats.bytesRead = stats.totalBytes;
  } finally {
    lines.close();
    file.destroy();
  }
}

export function emptyCaptureStats(): CaptureStats {
  return { lines: 0, messages: 0, badLines: 0, firstErrors: [], bytesRead: 0, totalBytes: 0 };
}
