import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoHomeScenario } from '../../src/sim/index.js';
import { centroid, parseSite, roomAt, roomLabel } from '../../web/src/site.js';

const FENG = '/work/shared/datasets/positioning/feng-apartment/site.json';

describe('site file, as the page reads it', () => {
  it("reads the simulator's demo home: rooms, walls, anchors", () => {
    const site = parseSite(demoHomeScenario().site)!;
    expect(site.name).toBe('demo-home');
    expect(site.bounds).toEqual({ minX: 0, minY: 0, maxX: 10, maxY: 8 });
    expect(site.rooms.map((r) => r.name)).toEqual(['Living room', 'Kitchen', 'Hall', 'Office', 'Bedroom']);
    expect(site.anchors).toHaveLength(5);
    expect(site.anchors[0]).toMatchObject({ id: '192.168.1.1', label: 'router', kind: 'gateway' });
    expect(site.walls.length).toBeGreaterThan(5);
    expect(roomAt(site, 8, 2)?.name).toBe('Kitchen');
    expect(roomLabel(site, 'office')).toBe('Office');
    expect(roomLabel(site, 'garden_shed')).toBe('Garden shed');
    expect(centroid(site.rooms[0]!.polygon)).toEqual([3, 2]);
  });

  it.runIf(existsSync(FENG))('reads a shared data set site (no rooms) as it is', () => {
    const site = parseSite(JSON.parse(readFileSync(FENG, 'utf8')))!;
    expect(site.rooms).toEqual([]);
    expect(site.anchors).toHaveLength(4);
  });

  it('derives bounds when absent and refuses what cannot be drawn', () => {
    const site = parseSite({
      rooms: [{ id: 'r', bounds: { minX: 1, minY: 1, maxX: 3, maxY: 2 } }],
      anchors: [],
    });
    expect(site?.bounds).toEqual({ minX: 1, minY: 1, maxX: 3, maxY: 2 });
    expect(site?.rooms[0]?.name).toBe('R');
    expect(parseSite({ anchors: [] })).toBeNull();
    expect(parseSite(null)).toBeNull();
    expect(parseSite({ bounds: { minX: 0, minY: 0, maxX: 0, maxY: 1 } })).toBeNull();
  });
});
