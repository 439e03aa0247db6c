import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSiteFile, SiteFileError } from '../../src/training/site-file.js';
import { describeWalkRead, readWalkFile } from '../../src/training/walk-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sbp-walk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cal = (id: string, rtt = 2e-5) => ({
  type: 'pingCalibration',
  agentId: 'a1',
  timestamp: '2025-01-01T00:00:00.000Z',
  data: {
    calibrationId: id,
    knownLocation: { x: 1, y: 2 },
    measurements: [{ targetIp: '192.0.2.1', rtt, rssi: -50 }],
  },
});

describe('reading a walk', () => {
  it('keeps calibration lines, counts bad lines with the first error, never throws on content', async () => {
    const path = join(dir, 'walk.jsonl');
    writeFileSync(
      path,
      [
        JSON.stringify(cal('c1')),
        '',
        '{not json',
        JSON.stringify({ ...cal('c2'), data: { ...cal('c2').data, measurements: [] } }),
        JSON.stringify(cal('c3', -1e-6)), // slightly negative FTM rtt is valid
        JSON.stringify(cal('c1')), // duplicate calibrationId
        JSON.stringify({
          type: 'agent_heartbeat',
          agentId: 'a1',
          timestamp: '2025-01-01T00:00:00Z',
          data: { status: 'active', uptime: 1, memoryUsage: 1, cpuUsage: 1 },
        }),
        JSON.stringify(cal('c4')),
      ].join('\n'),
    );
    const r = await readWalkFile(path);
    expect(r.messages.map((m) => m.data.calibrationId)).toEqual(['c1', 'c3', 'c4']);
    expect(r.lines).toBe(7);
    expect(r.bad).toBe(2);
    expect(r.duplicates).toBe(1);
    expect(r.otherTypes).toBe(1);
    expect(r.firstError).toMatchObject({ line: 3 });
    expect(r.firstError!.message).toMatch(/not valid JSON/);
    expect(describeWalkRead(r)).toMatch(/3 calibration messages .*2 bad lines skipped \(first: line 3: /);
  });

  it('reports a missing file as an error the CLI can print', async () => {
    await expect(readWalkFile(join(dir, 'nope.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});

describe('reading a site file', () => {
  it('names the file and the field', async () => {
    const bad = join(dir, 'site.json');
    writeFileSync(
      bad,
      JSON.stringify({
        bounds: { minX: 0, minY: 0, maxX: 5, maxY: 5 },
        anchors: [{ id: 'a', x: 'far', y: 0 }],
      }),
    );
    await expect(readSiteFile(bad)).rejects.toThrow(SiteFileError);
    await expect(readSiteFile(bad)).rejects.toThrow(/site\.json is invalid: anchors\.0\.x/);
    writeFileSync(bad, '{');
    await expect(readSiteFile(bad)).rejects.toThrow(/not valid JSON/);
    await expect(readSiteFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read site file/);
  });
});
