import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSite } from '../../src/models/positioning/site.js';
import { parseFrame } from '../../src/protocol/index.js';
import { parseLabels } from '../../src/replay/labels.js';
import { simulateDatasets } from '../../src/replay/simulate-datasets.js';

const DATASETS = resolve(import.meta.dirname, '../../datasets');
const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

describe('datasets/', () => {
  const generated = simulateDatasets({ seed: 1 });

  it('is exactly what `sbp simulate --out datasets --seed 1` generates, byte for byte', () => {
    expect([...generated.keys()].sort()).toEqual(
      [
        'baseline.jsonl',
        'capture.jsonl',
        'capture.labels.jsonl',
        'site.json',
        'test.jsonl',
        'walk.jsonl',
      ].sort(),
    );
    for (const [name, text] of generated) {
      expect(
        sha(readFileSync(join(DATASETS, name))),
        `${name} differs: regenerate it (datasets/README.md)`,
      ).toBe(sha(text));
    }
  });

  it('is reproducible within a run and differs with another seed', () => {
    const again = simulateDatasets({ seed: 1 });
    const other = simulateDatasets({ seed: 2 });
    expect(again.get('capture.jsonl')).toBe(generated.get('capture.jsonl'));
    expect(other.get('capture.jsonl')).not.toBe(generated.get('capture.jsonl'));
  });

  it('holds valid protocol messages, a loadable site and labels, and stays small', () => {
    expect(parseSite(JSON.parse(generated.get('site.json')!)).ok).toBe(true);
    for (const name of ['walk.jsonl', 'test.jsonl', 'baseline.jsonl', 'capture.jsonl']) {
      const lines = generated.get(name)!.trim().split('\n');
      expect(lines.length).toBeGreaterThan(50);
      for (const line of lines) expect(parseFrame(line).ok).toBe(true);
      expect(statSync(join(DATASETS, name)).size).toBeLessThan(3 * 2 ** 20);
    }
    const truth = parseLabels(generated.get('capture.labels.jsonl')!);
    expect(truth.windows).toHaveLength(5);
    expect(truth.positions.size).toBe(2);
    // Anchors are documentation addresses (RFC 5737): names only.
    for (const a of JSON.parse(generated.get('site.json')!).anchors)
      expect(a.id).toMatch(/^198\.51\.100\.\d+$/);
    expect(generated.get('capture.jsonl')).not.toMatch(/192\.168\./);
  });
});
