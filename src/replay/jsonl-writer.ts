import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

/** Appends JSON lines with buffering and back-pressure: memory stays bounded however much is written. */
export class JsonlWriter {
  readonly #stream: WriteStream;
  #buffer: string[] = [];
  #chars = 0;
  lines = 0;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'w' });
  }

  async write(values: readonly unknown[]): Promise<void> {
    for (const v of values) {
      const line = JSON.stringify(v);
      this.#buffer.push(line);
      this.#chars += line.length + 1;
      this.lines += 1;
    }
    if (this.#chars >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const text = `${this.#buffer.join('\n')}\n`;
    this.#buffer = [];
    this.#chars = 0;
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.#stream.once('error', reject);
      this.#stream.end(() => resolve());
    });
  }
}
