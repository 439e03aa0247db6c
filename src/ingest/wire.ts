import { z } from 'zod';
import { isIngestMessage, parseMessage } from '../protocol/index.js';
import { DeadLetterError } from './errors.js';
import type { IngestRecord } from './ingest-sink.js';

/**
 * What travels through the queue: one job = one batch of records of one partition, from one hub. Compact on
 * purpose (it is JSON in Redis): `r` holds `[message, receivedAt]` pairs in the order the hub accepted them, itself
 * as a JSON string, so the worker can keep it verbatim in the partition changelog instead of serialising it again.
 */
export interface WireBatch {
  v: 1;
  /** Hub id. */
  h: string;
  /** JSON of `Array<[message, receivedAt]>`. */
  r: string;
}

export const MAX_BATCH_RECORDS = 10_000;

const WireBatchSchema = z.strictObject({
  v: z.literal(1),
  h: z.string().min(1).max(256),
  r: z.string().min(2),
});

const WireRecords = z
  .array(z.tuple([z.unknown(), z.number().finite().nonnegative()]))
  .min(1)
  .max(MAX_BATCH_RECORDS);

export function encodeRecords(records: readonly IngestRecord[]): string {
  // A record's frame, when the hub kept it, is the message's JSON already: concatenated, not serialised again.
  let out = '[';
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    out += `${i === 0 ? '[' : ',['}${rec.frame ?? JSON.stringify(rec.message)},${rec.receivedAt}]`;
  }
  return `${out}]`;
}

export function encodeBatch(hubId: string, records: readonly IngestRecord[]): WireBatch {
  return { v: 1, h: hubId, r: encodeRecords(records) };
}

export interface InvalidRecord {
  index: number;
  reason: string;
  payload: unknown;
}

export interface DecodedBatch {
  hubId: string;
  /** The batch's records as received (JSON), reusable verbatim when every record is applied. */
  raw: string;
  records: IngestRecord[];
  /** Records that failed validation: dead-lettered one by one while the rest of the batch proceeds. */
  invalid: InvalidRecord[];
}

/**
 * Validates a job payload taken from the queue (which is a trust boundary: anything with Redis access can write
 * to it). A payload that is not a batch at all throws DeadLetterError; a bad record inside a good batch is reported
 * in `invalid` and skipped.
 */
export function decodeBatch(payload: unknown): DecodedBatch {
  const parsed = WireBatchSchema.safeParse(payload);
  if (!parsed.success) throw malformed(parsed.error);
  let list: unknown;
  try {
    list = JSON.parse(parsed.data.r);
  } catch (error) {
    throw new DeadLetterError(`malformed batch at r: not JSON (${(error as Error).message})`);
  }
  const rows = WireRecords.safeParse(list);
  if (!rows.success) throw malformed(rows.error, 'r');
  const records: IngestRecord[] = [];
  const invalid: InvalidRecord[] = [];
  rows.data.forEach(([message, receivedAt], index) => {
    const result = parseMessage(message);
    if (!result.ok) {
      invalid.push({ index, reason: `INVALID_DATA: ${result.error.message}`, payload: message });
    } else if (!isIngestMessage(result.message)) {
      invalid.push({ index, reason: `not an ingest message type: ${result.message.type}`, payload: message });
    } else {
      records.push({ message: result.message, hubId: parsed.data.h, receivedAt });
    }
  });
  return { hubId: parsed.data.h, raw: parsed.data.r, records, invalid };
}

function malformed(error: z.ZodError, prefix?: string): DeadLetterError {
  const issue = error.issues[0];
  const where = [prefix, ...(issue?.path.map(String) ?? [])].filter((p) => p !== undefined).join('.');
  return new DeadLetterError(`malformed batch${where ? ` at ${where}` : ''}: ${issue?.message ?? 'invalid'}`);
}
