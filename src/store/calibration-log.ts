import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MessageOf } from '../protocol/index.js';

/** The embedded store's training data: one pingCalibration message per line, the format `sbp train --input` reads. */
export const CALIBRATION_FILE = 'calibrations.jsonl';

export class CalibrationLog {
  /** Appends are chained so lines of concurrent commits never interleave. */
  private tail: Promise<void> | null = null;

  constructor(readonly path: string) {}

  append(messages: ReadonlyArray<MessageOf<'pingCalibration'>>): Promise<void> {
    if (messages.length === 0) return this.tail ?? Promise.resolve();
    const text = messages.map((m) => `${JSON.stringify(m)}\n`).join('');
    const previous = this.tail ?? mkdir(dirname(this.path), { recursive: true }).then(() => undefined);
    const next = previous.then(() => appendFile(this.path, text));
    this.tail = next.catch(() => undefined);
    return next;
  }
}
