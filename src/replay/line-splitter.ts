const LF = 10;
const CR = 13;

/**
 * Splits a byte stream into text lines exactly as `readline` with `crlfDelay: Infinity` does (`\n`, `\r\n` and a lone
 * `\r` end a line; a last line needs no terminator), but over large Buffers: each chunk's complete lines are decoded
 * with one `toString` and cut with `indexOf`, instead of readline's per-line events and regex. A line longer than
 * `maxBytes` is never held in memory: its bytes are counted and it is reported as oversized.
 * test/replay/line-splitter.test.ts compares it with readline on random text cut at random places.
 */
export class LineSplitter {
  /** Bytes of the unfinished last line (no terminator yet), while short enough to keep. */
  #carry: Buffer[] = [];
  #carryBytes = 0;
  /** True while skipping the rest of an over-long line; its length so far in #skipped. */
  #skipping = false;
  #skipped = 0;
  /** The previous chunk ended with `\r`: a `\n` starting this one belongs to it. */
  #pendingCR = false;
  /** Lines seen so far (1-based number of the last line handed out). */
  line = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (text: string, line: number) => void,
    private readonly onOversized: (bytes: number, line: number) => void,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let start = 0;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (chunk[0] === LF) start = 1;
    }
    if (this.#skipping) {
      const lf = chunk.indexOf(LF, start);
      const cr = chunk.indexOf(CR, start);
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (end < 0) {
        this.#skipped += chunk.length - start;
        return;
      }
      this.#skipped += end - start;
      this.#skipping = false;
      this.line += 1;
      this.onOversized(this.#skipped, this.line);
      this.#skipped = 0;
      start = end + 1;
      if (chunk[end] === CR) {
        if (start === chunk.length) this.#pendingCR = true;
        else if (chunk[start] === LF) start += 1;
      }
    }
    // The last terminator of either kind. A `\r` before the end is never half of a `\r\n` (the `\n` would come later).
    const cut = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
    if (cut < start) {
      this.#keep(chunk.subarray(start));
      return;
    }
    let text: string;
    if (this.#carryBytes > 0) {
      this.#carry.push(chunk.subarray(start, cut + 1));
      text = Buffer.concat(this.#carry, this.#carryBytes + cut + 1 - start).toString('utf8');
      this.#carry = [];
      this.#carryBytes = 0;
    } else {
      text = chunk.toString('utf8', start, cut + 1);
    }
    this.#block(text);
    if (cut === chunk.length - 1) this.#pendingCR = chunk[cut] === CR;
    else this.#keep(chunk.subarray(cut + 1));
  }

  /** The input ended: the last line, if it had no terminator. */
  end(): void {
    if (this.#skipping) {
      this.#skipping = false;
      this.line += 1;
      this.onOversized(this.#skipped, this.line);
      this.#skipped = 0;
    } else if (this.#carryBytes > 0) {
      const text = Buffer.concat(this.#carry, this.#carryBytes).toString('utf8');
      this.#carry = [];
      this.#carryBytes = 0;
      this.line += 1;
      this.onLine(text, this.line);
    }
  }

  #keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#skipping) {
      this.#skipped += bytes.length;
      return;
    }
    if (this.#carryBytes + bytes.length > this.maxBytes) {
      this.#skipping = true;
      this.#skipped = this.#carryBytes + bytes.length;
      this.#carry = [];
      this.#carryBytes = 0;
      return;
    }
    // Copied: the stream may reuse its buffer.
    this.#carry.push(Buffer.from(bytes));
    this.#carryBytes += bytes.length;
  }

  /** Complete lines: `text` ends with a terminator. */
  #block(text: string): void {
    if (text.indexOf('\r') >= 0) {
      const parts = text.split(/\r\n|\n|\r/);
      // The last part is the empty string after the final terminator.
      for (let i = 0; i < parts.length - 1; i++) this.onLine(parts[i]!, ++this.line);
      return;
    }
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) return;
      this.onLine(text.slice(pos, nl), ++this.line);
      pos = nl + 1;
    }
  }
}
