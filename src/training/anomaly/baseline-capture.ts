import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { DeviceEvent } from '../../models/anomaly/device-event.js';
import { eventsFromMessage } from '../../models/anomaly/events-from-messages.js';
import { parseMessage } from '../../protocol/index.js';

export interface BaselineRead {
  events: DeviceEvent[];
  lines: number;
  messages: number;
  badLines: number;
  /** The first few bad lines: 1-based line number and why. */
  firstErrors: Array<{ line: number; reason: string }>;
}

/**
 * Reads a baseline capture (the hub's `--capture` JSON lines, `.gz` too) into behaviour events. Every line is
 * validated with the protocol schemas; bad lines are counted and skipped, never fatal. Lines may also be wrapped
 * as `{"message": {…}}`.
 */
export async function readBaselineCapture(path: string): Promise<BaselineRead> {
  try {
    await access(path);
  } catch {
    throw new Error(`${path}: no such file (the baseline capture to train the anomaly model on)`);
  }
  const file = createReadStream(path);
  const input = path.endsWith('.gz') ? file.pipe(createGunzip()) : file;
  const out: BaselineRead = { events: [], lines: 0, messages: 0, badLines: 0, firstErrors: [] };
  let lineNo = 0;
  const bad = (reason: string) => {
    out.badLines++;
    if (out.firstErrors.length < 10) out.firstErrors.push({ line: lineNo, reason });
  };
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNo++;
    if (line.trim() === '') continue;
    out.lines++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      bad('not JSON');
      continue;
    }
    if (typeof value === 'object' && value !== null && 'message' in value && !('type' in value)) {
      value = (value as { message: unknown }).message;
    }
    const parsed = parseMessage(value);
    if (!parsed.ok) {
      bad(parsed.error.message);
      continue;
    }
    out.messages++;
    for (const e of eventsFromMessage(parsed.message)) out.events.push(e);
  }
  return out;
}
