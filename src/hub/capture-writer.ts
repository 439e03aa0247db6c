import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import type { Logger } from 'pino';

export interface CaptureOptions {
  file: string;
  /** Rotate before the file would exceed this many bytes; 0 = never. A single longer line gets a file of its own. */
  maxBytes: number;
  /** Rotated files kept; 0 = all. */
  maxFiles: number;
  flushIntervalMs: number;
}

export interface CaptureStats {
  linesWritten: number;
  bytesWritten: number;
  rotations: number;
  /** Lines that could not be written (disk full, file removed…); each loss is also logged as an error. */
  linesLost: number;
}

/** Flush as soon as this much is buffered, whatever the interval. */
const FLUSH_BYTES = 256 * 1024;

/**
 * Appends lines to a JSON-lines file with buffered writes: `append` is synchronous and cheap; one write at a time
 * carries everything buffered since the previous one. Rotation is logrotate-style: FILE → FILE.1 → FILE.2 …, so
 * FILE.N is the oldest and FILE the newest. `close()` writes everything appended before it (SIGINT/SIGTERM path).
 */
export class CaptureWriter {
  readonly #options: CaptureOptions;
  readonly #log: Logger;
  #handle: FileHandle;
  #size: number;
  #pending: string[] = [];
  #pendingChars = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #flushQueued = false;
  #closed = false;
  readonly stats: CaptureStats = { linesWritten: 0, bytesWritten: 0, rotations: 0, linesLost: 0 };

  private constructor(options: CaptureOptions, log: Logger, handle: FileHandle, size: number) {
    this.#options = options;
    this.#log = log;
    this.#handle = handle;
    this.#size = size;
  }

  static async open(options: CaptureOptions, log: Logger): Promise<CaptureWriter> {
    const handle = await open(options.file, 'a');
    const { size } = await handle.stat();
    return new CaptureWriter(options, log, handle, size);
  }

  get file(): string {
    return this.#options.file;
  }

  /** Buffers one line (without its newline). Never throws; after close() the line is counted as lost. */
  append(line: string): void {
    if (this.#closed) {
      this.stats.linesLost += 1;
      this.#log.error({ file: this.#options.file }, 'capture: line appended after close was lost');
      return;
    }
    this.#pending.push(line);
    this.#pendingChars += line.length + 1;
    if (this.#pendingChars >= FLUSH_BYTES) {
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        void this.flush().finally(() => {
          this.#flushQueued = false;
        });
      }
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Resolves once every line appended before the call is on its way to the file (written or counted as lost). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#writing !== undefined) await this.#writing;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingChars = 0;
    this.#writing = this.#write(lines).finally(() => {
      this.#writing = undefined;
    });
    await this.#writing;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#handle.close().catch((error: unknown) => {
        this.#log.error({ err: error, file: this.#options.file }, 'capture: close failed');
      });
    }
  }

  async #write(lines: string[]): Promise<void> {
    let start = 0;
    try {
      const limit = this.#options.maxBytes;
      let from = 0;
      let bytes = 0;
      for (let i = 0; i < lines.length; i++) {
        const size = Buffer.byteLength(lines[i]!, 'utf8') + 1;
        if (limit > 0 && this.#size + bytes > 0 && this.#size + bytes + size > limit) {
          await this.#writeLines(lines, from, i, bytes);
          start = i;
          from = i;
          bytes = 0;
          await this.#rotate();
        }
        bytes += size;
      }
      await this.#writeLines(lines, from, lines.length, bytes);
    } catch (error) {
      // Everything of this batch not yet written is lost; say so loudly rather than retry forever.
      const lost = lines.length - start;
      this.stats.linesLost += lost;
      this.#log.error({ err: error, file: this.#options.file, lost }, 'capture: write failed');
    }
  }

  /** Writes lines[from, to) — `bytes` long with their newlines — as one buffer. */
  async #writeLines(lines: string[], from: number, to: number, bytes: number): Promise<void> {
    if (to <= from) return;
    const data = Buffer.from(`${lines.slice(from, to).join('\n')}\n`, 'utf8');
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.#size += bytes;
    this.stats.bytesWritten += bytes;
    this.stats.linesWritten += to - from;
  }

  async #rotate(): Promise<void> {
    await this.#handle.close();
    const base = this.#options.file;
    try {
      let highest = 0;
      while (await exists(`${base}.${highest + 1}`)) highest += 1;
      const keep = this.#options.maxFiles;
      for (let i = highest; i >= 1; i -= 1) {
        if (keep > 0 && i >= keep) await rm(`${base}.${i}`, { force: true });
        else await rename(`${base}.${i}`, `${base}.${i + 1}`);
      }
      await rename(base, `${base}.1`);
      this.stats.rotations += 1;
    } finally {
      // Reopen whatever happened, so a failed rename costs a rotation, not the capture.
      this.#handle = await open(base, 'a');
      this.#size = (await this.#handle.stat()).size;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
