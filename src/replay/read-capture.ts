import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { MAX_MESSAGE_BYTES, type Message } from '../protocol/index.js';
import { FastValidator } from './fast-validate.js';
import { LineSplitter } from './line-splitter.js';

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
  /** Also return each valid line's text (`CaptureBatch.texts`). */
  keepText?: boolean;
  /** Stop after this many valid messages: later lines are not read (nor counted in the statistics). */
  limit?: number;
}

/** Messages in file order, with the line each came from. */
export interface CaptureBatch {
  messages: Message[];
  lines: number[];
  /** The valid lines as read (only with `keepText`). */
  texts?: string[];
}

/**
 * Bytes read from the file at a time: ~1,000 lines per read, few calls; larger reads hold more parsed messages alive
 * at once, which the garbage collector then promotes and collects expensively (measured: 256 KiB beat 1 MiB).
 */
export const READ_CHUNK_BYTES = 1 << 18;

/**
 * Reading and validation without I/O: bytes in (`push`), batches of valid messages out (`take`). Every line is
 * parsed and validated as the protocol's zod schemas would (the common messages through an exactly equivalent fast
 * path, src/replay/fast-validate.ts); a bad line is counted, the first few are kept with their reason, and reading
 * goes on. Used by `readCapture` and by the parse thread of `readCaptureParallel`.
 */
export class CaptureParser {
  readonly #splitter: LineSplitter;
  readonly #validator = new FastValidator();
  readonly #batchSize: number;
  readonly #keepErrors: number;
  readonly #keepText: boolean;
  readonly #limit: number;
  #batch: CaptureBatch;
  #ready: CaptureBatch[] = [];

  constructor(
    readonly stats: CaptureStats,
    options: ReadCaptureOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? 512;
    this.#keepErrors = options.keepErrors ?? 10;
    this.#keepText = options.keepText === true;
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
    this.#batch = this.#fresh();
    this.#splitter = new LineSplitter(
      MAX_MESSAGE_BYTES,
      (text, line) => this.#line(text, line),
      (bytes, line) => {
        if (this.done) return;
        this.stats.lines += 1;
        this.#bad(line, `line of ${bytes} bytes exceeds the 1 MB message limit`);
      },
    );
  }

  /** Messages the fast path validated / left to zod. */
  get validated(): { fast: number; zod: number } {
    return { fast: this.#validator.fast, zod: this.#validator.slow };
  }

  /** True once `limit` messages were read: the rest of the input is not needed. */
  get done(): boolean {
    return this.stats.messages >= this.#limit;
  }

  push(chunk: Buffer): void {
    if (!this.done) this.#splitter.push(chunk);
  }

  /** The input ended: its last line, and the last partial batch becomes ready. */
  end(): void {
    if (!this.done) this.#splitter.end();
    if (this.#batch.messages.length > 0) {
      this.#ready.push(this.#batch);
      this.#batch = this.#fresh();
    }
  }

  /** Full batches since the last call, in order. */
  take(): CaptureBatch[] {
    const ready = this.#ready;
    if (ready.length > 0) this.#ready = [];
    return ready;
  }

  #fresh(): CaptureBatch {
    return this.#keepText ? { messages: [], lines: [], texts: [] } : { messages: [], lines: [] };
  }

  #bad(line: number, reason: string): void {
    this.stats.badLines += 1;
    if (this.stats.firstErrors.length < this.#keepErrors) this.stats.firstErrors.push({ line, reason });
  }

  #line(text: string, line: number): void {
    if (this.done) return;
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) return;
    const stats = this.stats;
    stats.lines += 1;
    // Characters ≤ bytes: only lines that may be over the limit pay for a byte count.
    if (text.length * 3 > MAX_MESSAGE_BYTES && Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
      this.#bad(line, `line of ${Buffer.byteLength(text)} bytes exceeds the 1 MB message limit`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.#bad(line, `not JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = this.#validator.parse(value);
    if (!parsed.ok) {
      this.#bad(line, parsed.error.message);
      return;
    }
    stats.messages += 1;
    const batch = this.#batch;
    batch.messages.push(parsed.message);
    batch.lines.push(line);
    batch.texts?.push(text);
    if (batch.messages.length >= this.#batchSize) {
      this.#ready.push(batch);
      this.#batch = this.#fresh();
    }
  }
}

/**
 * Streams a capture (JSON lines, one protocol message per line — the hub's `--capture` output, or a calibration walk)
 * in batches of valid messages (see `CaptureParser`). Memory stays bounded by one read chunk and one batch whatever
 * the file size. `.gz` files are decompressed on the fly.
 */
export async function* readCapture(
  path: string,
  stats: CaptureStats,
  options: ReadCaptureOptions = {},
): AsyncGenerator<CaptureBatch> {
  stats.totalBytes = (await stat(path)).size;
  const parser = new CaptureParser(stats, options);
  const file = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  const input = path.endsWith('.gz') ? file.pipe(createGunzip({ chunkSize: 1 << 18 })) : file;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      stats.bytesRead = file.bytesRead;
      parser.push(chunk);
      for (const batch of parser.take()) yield batch;
      if (parser.done) break;
    }
    if (!parser.done) stats.bytesRead = stats.totalBytes;
    parser.end();
    for (const batch of parser.take()) yield batch;
  } finally {
    file.destroy();
    if (input !== file) input.destroy();
  }
}

export function emptyCaptureStats(): CaptureStats {
  return { lines: 0, messages: 0, badLines: 0, firstErrors: [], bytesRead: 0, totalBytes: 0 };
}
