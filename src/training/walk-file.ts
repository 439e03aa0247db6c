import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type PingCalibration, parseFrame } from '../protocol/index.js';

// Reads a calibration walk: JSONL, one message per line. `pingCalibration` lines are kept; other valid messages
// (a hub capture holds every type) are counted and skipped; invalid lines are counted with the first error —
// a bad line never stops the read.

export interface WalkReadResult {
  messages: PingCalibration[];
  /** Non-empty lines read. */
  lines: number;
  /** Valid messages of another type. */
  otherTypes: number;
  /** Repeated calibrationIds (the idempotency key): later copies are dropped. */
  duplicates: number;
  /** Lines that are not valid protocol messages. */
  bad: number;
  firstError: { line: number; message: string } | null;
}

export async function readWalkFile(
  path: string,
  onProgress?: (bytesRead: number) => void,
): Promise<WalkReadResult> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const out: WalkReadResult = {
    messages: [],
    lines: 0,
    otherTypes: 0,
    duplicates: 0,
    bad: 0,
    firstError: null,
  };
  const seen = new Set<string>();
  let lineNo = 0;
  let bytes = 0;
  for await (const line of rl) {
    lineNo++;
    bytes += Buffer.byteLength(line) + 1;
    if (onProgress && lineNo % 1000 === 0) onProgress(bytes);
    if (line.trim().length === 0) continue;
    out.lines++;
    const parsed = parseFrame(line);
    if (!parsed.ok) {
      out.bad++;
      out.firstError ??= { line: lineNo, message: parsed.error.message };
      continue;
    }
    if (parsed.message.type !== 'pingCalibration') {
      out.otherTypes++;
      continue;
    }
    const m = parsed.message;
    const key = `${m.agentId}\u0000${m.data.calibrationId}`;
    if (seen.has(key)) {
      out.duplicates++;
      continue;
    }
    seen.add(key);
    out.messages.push(m);
  }
  onProgress?.(bytes);
  return out;
}

/** One line for humans: "9720 calibration messages (3 bad lines skipped; first: line 17: …)". */
export function describeWalkRead(r: WalkReadResult): string {
  const parts = [`${r.messages.length} calibration messages from ${r.lines} lines`];
  if (r.otherTypes > 0) parts.push(`${r.otherTypes} messages of other types skipped`);
  if (r.duplicates > 0) parts.push(`${r.duplicates} duplicate calibrationIds dropped`);
  if (r.bad > 0) {
    parts.push(
      `${r.bad} bad line${r.bad === 1 ? '' : 's'} skipped (first: line ${r.firstError!.line}: ${r.firstError!.message})`,
    );
  }
  return parts.join('; ');
}
