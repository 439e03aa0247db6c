import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IngestRecord } from '../../src/ingest/ingest-sink.js';
import { isIngestMessage, parseMessage } from '../../src/protocol/index.js';
import { FastValidator } from '../../src/replay/fast-validate.js';
import { decodeBatch, encodeBatch, transferList } from '../../src/replay/record-codec.js';
import { messageOf, same } from './message-arbitraries.js';

/** A record as the replay makes it from a line: zod's output, the message's time. */
function recordOf(value: unknown): IngestRecord | null {
  const parsed = parseMessage(value);
  if (!parsed.ok || !isIngestMessage(parsed.message)) return null;
  return { message: parsed.message, hubId: 'replay', receivedAt: Date.parse(parsed.message.timestamp) };
}

describe('record codec', () => {
  it('rebuilds exactly the records it encoded: keys, key order, values, -0', () => {
    fc.assert(
      fc.property(fc.array(messageOf(false), { maxLength: 40 }), (generated) => {
        const records: IngestRecord[] = [];
        const texts: string[] = [];
        for (const m of generated) {
          const r = recordOf(m);
          if (r === null) continue;
          records.push(r);
          texts.push(JSON.stringify(m));
        }
        const encoded = encodeBatch(records, texts);
        // What postMessage does to it (the strings and texts are cloned, the buffers moved).
        const moved = structuredClone(encoded, { transfer: transferList(encoded) });
        const decoded = decodeBatch(moved, new FastValidator());
        expect(decoded).toHaveLength(records.length);
        for (let i = 0; i < records.length; i++) expect(same(decoded[i], records[i])).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('sends other messages as their line and validates them again on arrival, to the same result', () => {
    const dir = join(import.meta.dirname, '../../datasets');
    const lines = [
      ...readFileSync(join(dir, 'capture.jsonl'), 'utf8').split('\n'),
      ...readFileSync(join(dir, 'walk.jsonl'), 'utf8').split('\n').slice(0, 50),
    ].filter((l) => l !== '');
    const records: IngestRecord[] = [];
    const texts: string[] = [];
    for (const line of lines) {
      const r = recordOf(JSON.parse(line));
      if (r === null) continue;
      records.push(r);
      texts.push(line);
    }
    const types = new Set(records.map((r) => r.message.type));
    expect(types).toEqual(
      new Set(['pingResult', 'deviceUpdate', 'deviceJoin', 'deviceLeave', 'pingCalibration']),
    );
    const encoded = encodeBatch(records, texts);
    // Only the rare types travel as text.
    expect(encoded.texts.length).toBe(
      records.filter((r) => !/^(pingResult|deviceUpdate)$/.test(r.message.type)).length,
    );
    const decoded = decodeBatch(encoded, new FastValidator());
    for (let i = 0; i < records.length; i++) expect(same(decoded[i], records[i])).toBe(true);
  });

  it('refuses a text that does not validate rather than replaying something else', () => {
    const record = recordOf({
      type: 'deviceLeave',
      agentId: 'a',
      timestamp: '2025-06-16T00:00:00.000Z',
      data: { deviceId: 'd', reason: 'timeout' },
    })!;
    const encoded = encodeBatch([record], ['{"type":"deviceLeave"}']);
    expect(() => decodeBatch(encoded, new FastValidator())).toThrow(/does not validate/);
  });
});
