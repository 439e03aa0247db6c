import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyCaptureStats, readCapture } from '../../src/replay/read-capture.js';
import { readCaptureParallel } from '../../src/replay/read-capture-parallel.js';

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

  it('gives the same batches and statistics when a worker thread reads and validates', async () => {
    const lines = [
      ...Array.from({ length: 1200 }, (_, i) => JSON.stringify(probe(i))),
      '{oops',
      JSON.stringify({ ...probe(5000), type: 'nope' }),
      ...Array.from({ length: 300 }, (_, i) => JSON.stringify(probe(2000 + i))),
    ];
    const file = join(dir, 'parallel.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const serial = await readAll(file, 256);
    const stats = emptyCaptureStats();
    const batches = [];
    for await (const b of readCaptureParallel(file, stats, { batchSize: 256 })) batches.push(b);
    expect(batches).toEqual(serial.batches);
    expect(stats).toEqual(serial.stats);
    expect(stats.badLines).toBe(2);
  });

  it('stops its worker thread when the reader stops early', async () => {
    const file = join(dir, 'early.jsonl');
    writeFileSync(file, `${Array.from({ length: 5000 }, (_, i) => JSON.stringify(probe(i))).join('\n')}\n`);
    const stats = emptyCaptureStats();
    let n = 0;
    for await (const b of readCaptureParallel(file, stats, { batchSize: 100 })) {
      n += b.messages.length;
      if (n >= 300) break;
    }
    expect(n).toBe(300);
  });

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
