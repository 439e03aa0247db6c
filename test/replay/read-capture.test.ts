import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyCaptureStats, READ_CHUNK_BYTES, readCapture } from '../../src/replay/read-capture.js';
import { readRecords, readRecordsParallel } from '../../src/replay/read-records.js';
import type { RecordBatch } from '../../src/replay/record-feed.js';
import { same } from './message-arbitraries.js';

const dir = mkdtempSync(join(tmpdir(), 'sbp-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probe = (seq: number) => ({
  type: 'pingResult',
  agentId: 'agent-1',
  timestamp: `2025-06-16T18:45:${String(seq % 60).padStart(2, '0')}.000Z`,
  data: { targetIp: '198.51.100.1', targetType: 'anchor', rtt: 3.2, sequenceNumber: seq, success: true },
});

async function readAll(path: string, batchSize = 512) {
  const stats = emptyCaptureStats();
  const batches = [];
  for await (const b of readCapture(path, stats, { batchSize })) batches.push(b);
  return { stats, batches };
}

describe('readCapture', () => {
  it('streams valid messages in batches, with their line numbers', async () => {
    const file = join(dir, 'ok.jsonl');
    writeFileSync(file, `${Array.from({ length: 25 }, (_, i) => JSON.stringify(probe(i))).join('\n')}\n`);
    const { stats, batches } = await readAll(file, 10);
    expect(batches.map((b) => b.messages.length)).toEqual([10, 10, 5]);
    expect(batches[2]!.lines).toEqual([21, 22, 23, 24, 25]);
    expect(stats).toMatchObject({ lines: 25, messages: 25, badLines: 0 });
    expect(stats.bytesRead).toBe(stats.totalBytes);
  });

  it('counts bad lines, keeps the first ten with their reasons, and goes on', async () => {
    const lines = [
      JSON.stringify(probe(1)),
      '{not json',
      '',
      '   ',
      JSON.stringify({ ...probe(2), type: 'teleport' }),
      JSON.stringify({ ...probe(3), data: { ...probe(3).data, rtt: -5 } }),
      '[1,2,3]',
      JSON.stringify(probe(4)),
      `{"type":"pingResult","pad":"${'x'.repeat(1_100_000)}"}`,
      ...Array.from({ length: 12 }, () => 'garbage'),
      JSON.stringify(probe(5)),
    ];
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, lines.join('\r\n'));
    const { stats, batches } = await readAll(file);
    expect(batches.flatMap((b) => b.messages).map((m) => m.data)).toHaveLength(3);
    expect(stats.messages).toBe(3);
    expect(stats.badLines).toBe(5 + 12);
    expect(stats.lines).toBe(3 + 5 + 12);
    expect(stats.firstErrors).toHaveLength(10);
    expect(stats.firstErrors[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/^not JSON/) });
    expect(stats.firstErrors[1]).toMatchObject({
      line: 5,
      reason: expect.stringMatching(/unknown message type/),
    });
    expect(stats.firstErrors[2]).toMatchObject({ line: 6, reason: expect.stringMatching(/data\.rtt/) });
    expect(stats.firstErrors[3]).toMatchObject({ line: 7, reason: expect.stringMatching(/JSON object/) });
    expect(stats.firstErrors[4]).toMatchObject({ line: 9, reason: expect.stringMatching(/1 MB/) });
  });

  it('reads lines across read chunks, with any line ending (\n, \r\n, a lone \r), numbered as readline does', async () => {
    const n = Math.ceil((3 * READ_CHUNK_BYTES) / JSON.stringify(probe(0)).length);
    const endings = ['\n', '\r\n', '\r'];
    const text = Array.from({ length: n }, (_, i) => JSON.stringify(probe(i)) + endings[i % 3]).join('');
    const file = join(dir, 'chunks.jsonl');
    writeFileSync(file, text);
    const { stats, batches } = await readAll(file, 1000);
    expect(stats).toMatchObject({ lines: n, messages: n, badLines: 0 });
    const lines = batches.flatMap((b) => b.lines);
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(
      batches.flatMap((b) => b.messages).map((m) => (m.type === 'pingResult' ? m.data.sequenceNumber : -1)),
    ).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('stops reading at a limit, with statistics up to the last message read', async () => {
    const lines = [
      JSON.stringify(probe(1)),
      'bad',
      JSON.stringify(probe(2)),
      'bad',
      JSON.stringify(probe(3)),
    ];
    const file = join(dir, 'limit.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const stats = emptyCaptureStats();
    const messages = [];
    for await (const b of readCapture(file, stats, { limit: 2 })) messages.push(...b.messages);
    expect(messages).toHaveLength(2);
    expect(stats).toMatchObject({ lines: 3, messages: 2, badLines: 1 });
  });
});

async function collect(reader: AsyncGenerator<RecordBatch>) {
  const batches: RecordBatch[] = [];
  for await (const b of reader) batches.push(b);
  return {
    records: batches.flatMap((b) => b.records),
    messages: batches.reduce((n, b) => n + b.messages, 0),
    duplicates: batches.reduce((n, b) => n + b.duplicates, 0),
    skipped: batches.map((b) => b.skipped),
  };
}

describe('readRecords on a parse thread', () => {
  const lines = [
    ...Array.from({ length: 1200 }, (_, i) => JSON.stringify(probe(i))),
    '{oops',
    JSON.stringify({ ...probe(5000), type: 'nope' }),
    JSON.stringify(probe(7)), // resent
    JSON.stringify({
      type: 'agent_heartbeat',
      agentId: 'agent-1',
      timestamp: '2025-06-16T18:46:00.000Z',
      data: { status: 'active', uptime: 5, memoryUsage: 1, cpuUsage: 1 },
    }),
    ...readFileSync(join(import.meta.dirname, '../../datasets/capture.jsonl'), 'utf8')
      .trim()
      .split('\n'),
    ...readFileSync(join(import.meta.dirname, '../../datasets/walk.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, 30),
  ];

  it('gives the same records (same keys, key order, values), counts and statistics as this thread', async () => {
    const file = join(dir, 'parallel.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const serialStats = emptyCaptureStats();
    const serial = await collect(readRecords(file, serialStats, { batchSize: 256 }));
    const stats = emptyCaptureStats();
    const parallel = await collect(readRecordsParallel(file, stats, { batchSize: 256 }));
    expect(parallel.records.length).toBe(serial.records.length);
    for (let i = 0; i < serial.records.length; i++)
      expect(same(parallel.records[i], serial.records[i])).toBe(true);
    expect(parallel.messages).toBe(serial.messages);
    expect(parallel.duplicates).toBe(1);
    expect(parallel.skipped).toEqual(serial.skipped);
    expect(stats).toEqual(serialStats);
    expect(stats.badLines).toBe(2);
    const types = new Set(serial.records.map((r) => r.message.type));
    expect(types).toEqual(
      new Set(['pingResult', 'deviceUpdate', 'deviceJoin', 'deviceLeave', 'pingCalibration']),
    );
  });

  it('stops at the same limit', async () => {
    const file = join(dir, 'parallel-limit.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const serialStats = emptyCaptureStats();
    const serial = await collect(readRecords(file, serialStats, { batchSize: 100, limit: 1203 }));
    const stats = emptyCaptureStats();
    const parallel = await collect(readRecordsParallel(file, stats, { batchSize: 100, limit: 1203 }));
    expect(parallel.messages).toBe(1203);
    expect(serial.messages).toBe(1203);
    expect(parallel.records.length).toBe(serial.records.length);
    expect(stats).toEqual(serialStats);
  });

  it('stops its worker thread when the reader stops early', async () => {
    const file = join(dir, 'early.jsonl');
    writeFileSync(file, `${Array.from({ length: 5000 }, (_, i) => JSON.stringify(probe(i))).join('\n')}\n`);
    const stats = emptyCaptureStats();
    let n = 0;
    for await (const b of readRecordsParallel(file, stats, { batchSize: 100 })) {
      n += b.records.length;
      if (n >= 300) break;
    }
    expect(n).toBe(300);
  });

  it('fails clearly on a file it cannot read', async () => {
    const stats = emptyCaptureStats();
    await expect(collect(readRecordsParallel(join(dir, 'missing.jsonl'), stats))).rejects.toThrow(/ENOENT/);
  });
});

describe('readCapture, small inputs', () => {
  it('reads gzip captures', async () => {
    const file = join(dir, 'c.jsonl.gz');
    writeFileSync(file, gzipSync(`${[1, 2, 3].map((i) => JSON.stringify(probe(i))).join('\n')}\n`));
    const { stats } = await readAll(file);
    expect(stats.messages).toBe(3);
  });

  it('reads an empty file', async () => {
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '');
    const { stats, batches } = await readAll(file);
    expect(batches).toEqual([]);
    expect(stats.messages).toBe(0);
  });
});
