import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pointInPolygon, rectangle, segmentsIntersect } from '../../../src/models/positioning/geometry.js';
import { parseSite, roomAt, Site } from '../../../src/models/positioning/site.js';
import { espresenseScenario } from '../../../src/sim/scenarios.js';
import { datasetsDir } from '../../training/positioning/datasets-dir.js';

describe('site file', () => {
  it('accepts points as objects or pairs and normalises them', () => {
    const r = parseSite({
      bounds: { minX: 0, minY: 0, maxX: 4, maxY: 3 },
      anchors: [{ id: '192.0.2.1', x: 0, y: 0, kind: 'gateway' }],
      rooms: [
        {
          id: 'a',
          polygon: [
            [0, 0],
            [2, 0],
            [2, 3],
            [0, 3],
          ],
        },
      ],
      walls: [{ from: [2, 0], to: { x: 2, y: 3 }, attenuationDb: 6 }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.site.rooms[0]!.polygon[1]).toEqual({ x: 2, y: 0 });
    expect(r.site.walls![0]!.from).toEqual({ x: 2, y: 0 });
  });

  it('names the offending field of a bad site', () => {
    const bad = parseSite({ bounds: { minX: 0, minY: 0, maxX: 0, maxY: 3 }, anchors: [] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/bounds/);
    const dup = parseSite({
      bounds: { minX: 0, minY: 0, maxX: 1, maxY: 1 },
      anchors: [
        { id: 'a', x: 0, y: 0 },
        { id: 'a', x: 1, y: 1 },
      ],
    });
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.error).toMatch(/anchors\.1\.id: duplicate anchor id a/);
    const typo = parseSite({
      bounds: { minX: 0, minY: 0, maxX: 1, maxY: 1 },
      anchors: [{ id: 'a', x: 0, y: 0, kind: 'router' }],
    });
    expect(typo.ok).toBe(false);
  });

  it('gives a shared edge to the room declared first (inclusive bounds)', () => {
    const { site } = espresenseScenario();
    expect(roomAt(site, { x: 4, y: 2 })?.id).toBe('living');
    expect(roomAt(site, { x: 4.0001, y: 2 })?.id).toBe('bedroom');
    expect(roomAt(site, { x: 0, y: 0 })?.id).toBe('living');
    expect(roomAt(site, { x: 6.1, y: 2 })).toBeUndefined();
  });

  it('point in polygon and segment crossing', () => {
    const sq = rectangle(0, 0, 2, 2);
    expect(pointInPolygon({ x: 1, y: 1 }, sq)).toBe(true);
    expect(pointInPolygon({ x: 2, y: 1 }, sq)).toBe(true);
    expect(pointInPolygon({ x: 2.01, y: 1 }, sq)).toBe(false);
    const l = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 1 },
      { x: 1, y: 1 },
      { x: 1, y: 4 },
      { x: 0, y: 4 },
    ];
    expect(pointInPolygon({ x: 3, y: 3 }, l)).toBe(false);
    expect(pointInPolygon({ x: 0.5, y: 3 }, l)).toBe(true);
    expect(segmentsIntersect({ x: 0, y: 0 }, { x: 2, y: 2 }, { x: 0, y: 2 }, { x: 2, y: 0 })).toBe(true);
    expect(segmentsIntersect({ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }, { x: 1, y: 1 })).toBe(false);
  });

  const dir = datasetsDir();
  describe.runIf(dir !== null)('the data sets’ site files', () => {
    it('load as they are', () => {
      const names = readdirSync(dir!).filter((n) => existsSync(join(dir!, n, 'site.json')));
      expect(names.length).toBeGreaterThanOrEqual(5);
      for (const n of names) {
        const value = JSON.parse(readFileSync(join(dir!, n, 'site.json'), 'utf8'));
        const site = Site.parse(value);
        expect(site.anchors.length).toBeGreaterThanOrEqual(3);
        expect(site.rooms).toEqual([]);
      }
    });
  });
});
