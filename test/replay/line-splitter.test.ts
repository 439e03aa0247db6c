import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/replay/line-splitter.js';

async function withReadline(bytes: Buffer): Promise<string[]> {
  const out: string[] = [];
  const input = Readable.from([bytes]);
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) out.push(line);
  return out;
}

function withSplitter(bytes: Buffer, cuts: readonly number[], maxBytes = 1 << 20) {
  const lines: Array<{ text: string; line: number }> = [];
  const oversized: Array<{ bytes: number; line: number }> = [];
  const splitter = new LineSplitter(
    maxBytes,
    (text, line) => lines.push({ text, line }),
    (n, line) => oversized.push({ bytes: n, line }),
  );
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(cut, bytes.length);
    if (to < at) continue;
    splitter.push(bytes.subarray(at, to));
    at = to;
  }
  splitter.push(bytes.subarray(at));
  splitter.end();
  return { lines, oversized };
}

const content = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('{"type":"pingResult"}', 'é', '😀', ' ', ''),
);
const terminator = fc.constantFrom('\n', '\r\n', '\r', '\n', '\n');
/** Text made of lines with mixed terminators, maybe without a last one. */
const text = fc
  .tuple(fc.array(fc.tuple(content, terminator), { maxLength: 30 }), fc.option(content))
  .map(
    ([lines, last]) =>
      lines.map(([c, t]) => c.replace(/[\r\n]/g, '') + t).join('') + (last ?? '').replace(/[\r\n]/g, ''),
  );

describe('LineSplitter', () => {
  it('gives the lines readline gives, whatever the chunk boundaries (inside a character, between \\r and \\n)', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat({ max: 400 }), { maxLength: 12 }), async (t, cuts) => {
        const bytes = Buffer.from(t);
        const expected = await withReadline(bytes);
        const { lines, oversized } = withSplitter(bytes, cuts);
        expect(oversized).toEqual([]);
        expect(lines.map((l) => l.text)).toEqual(expected);
        expect(lines.map((l) => l.line)).toEqual(expected.map((_, i) => i + 1));
      }),
      { numRuns: 1500 },
    );
  });

  it('reports a line over the limit with its length and number, keeps counting lines, and never holds it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: 40 }), terminator), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat({ max: 500 }), { maxLength: 10 }),
        async (spec, cuts) => {
          const max = 16;
          const bytes = Buffer.from(
            spec.map(([n, t], i) => String.fromCharCode(97 + (i % 26)).repeat(n) + t).join(''),
          );
          const lineTexts = await withReadline(bytes);
          const { lines, oversized } = withSplitter(bytes, cuts, max);
          // A line may still reach the caller over the limit when it arrived whole in one chunk: the caller checks.
          const all = [
            ...lines.map((l) => ({ line: l.line, bytes: Buffer.byteLength(l.text) })),
            ...oversized,
          ].sort((a, b) => a.line - b.line);
          expect(all).toEqual(lineTexts.map((l, i) => ({ line: i + 1, bytes: l.length })));
          for (const o of oversized) expect(o.bytes).toBeGreaterThan(max);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('skips a huge line in pieces without buffering it', () => {
    const lines: string[] = [];
    const oversized: number[] = [];
    const splitter = new LineSplitter(
      1000,
      (t) => lines.push(t),
      (n) => oversized.push(n),
    );
    splitter.push(Buffer.from('first\n'));
    for (let i = 0; i < 100; i++) splitter.push(Buffer.alloc(10_000, 120));
    splitter.push(Buffer.from('xx\r\nlast'));
    splitter.end();
    expect(lines).toEqual(['first', 'last']);
    expect(oversized).toEqual([1_000_002]);
    expect(splitter.line).toBe(3);
  });
});
