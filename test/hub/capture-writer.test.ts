import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureWriter } from '../../src/hub/capture-writer.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sbp-capture-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('CaptureWriter', () => {
  it('appends lines after what the file already holds, and close() writes everything appended', async () => {
    const file = join(dir(), 'c.jsonl');
    writeFileSync(file, '{"old":1}\n');
    const w = await CaptureWriter.open({ file, maxBytes: 0, maxFiles: 0, flushIntervalMs: 60_000 }, log);
    for (let i = 0; i < 1000; i++) w.append(JSON.stringify({ i }));
    expect(lines(file)).toHaveLength(1); // buffered: the interval has not passed
    await w.close();
    const got = lines(file);
    expect(got).toHaveLength(1001);
    expect(got[1000]).toBe('{"i":999}');
    expect(w.stats).toMatchObject({ linesWritten: 1000, linesLost: 0, rotations: 0 });
    w.append('{"late":true}');
    expect(w.stats.linesLost).toBe(1);
  });

  it('flushes on its interval without being asked', async () => {
    const file = join(dir(), 'c.jsonl');
    const w = await CaptureWriter.open({ file, maxBytes: 0, maxFiles: 0, flushIntervalMs: 20 }, log);
    w.append('{"a":1}');
    await new Promise((r) => setTimeout(r, 150));
    expect(lines(file)).toEqual(['{"a":1}']);
    await w.close();
  });

  it('rotates FILE → FILE.1 → FILE.2 by size, whole lines only, oldest in the highest number', async () => {
    const file = join(dir(), 'c.jsonl');
    const w = await CaptureWriter.open({ file, maxBytes: 100, maxFiles: 0, flushIntervalMs: 5 }, log);
    const line = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(16) }); // 33 bytes with the newline
    expect(Buffer.byteLength(`${line(0)}\n`)).toBe(33);
    for (let i = 0; i < 10; i++) w.append(line(i));
    await w.close();
    // 3 lines (99 bytes) per file: [0..2] [3..5] [6..8] [9]
    expect(lines(`${file}.3`)).toEqual([0, 1, 2].map(line));
    expect(lines(`${file}.2`)).toEqual([3, 4, 5].map(line));
    expect(lines(`${file}.1`)).toEqual([6, 7, 8].map(line));
    expect(lines(file)).toEqual([line(9)]);
    expect(w.stats.rotations).toBe(3);
    for (const f of [file, `${file}.1`, `${file}.2`, `${file}.3`]) {
      expect(readFileSync(f).length).toBeLessThanOrEqual(100);
    }
  });

  it('keeps at most maxFiles rotated files, and puts an oversized line in a file of its own', async () => {
    const file = join(dir(), 'c.jsonl');
    const w = await CaptureWriter.open({ file, maxBytes: 50, maxFiles: 2, flushIntervalMs: 5 }, log);
    for (let i = 0; i < 6; i++) w.append(JSON.stringify({ i, pad: 'y'.repeat(30) })); // 44 bytes each: one per file
    w.append(JSON.stringify({ big: 'z'.repeat(200) }));
    await w.close();
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(lines(`${file}.2`).map((l) => JSON.parse(l).i)).toEqual([4]);
    expect(lines(`${file}.1`).map((l) => JSON.parse(l).i)).toEqual([5]);
    expect(JSON.parse(lines(file)[0]!).big).toHaveLength(200);
  });

  // /dev/full answers every write with ENOSPC: a disk that filled up.
  it.runIf(existsSync('/dev/full'))('counts and logs lines it cannot write instead of throwing', async () => {
    const logged: string[] = [];
    const spy = pino({ level: 'error' }, { write: (s: string) => logged.push(s) });
    const w = await CaptureWriter.open(
      { file: '/dev/full', maxBytes: 0, maxFiles: 0, flushIntervalMs: 5 },
      spy,
    );
    w.append('{"first":1}');
    w.append('{"second":2}');
    await w.flush();
    w.append('{"third":3}');
    await w.close();
    expect(w.stats).toMatchObject({ linesWritten: 0, linesLost: 3 });
    expect(logged.join('')).toContain('capture: write failed');
  });
});
