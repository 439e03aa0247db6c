import { describe, expect, it } from 'vitest';
import { Coverage } from '../../../src/agent/calibration/coverage.js';
import { loadSite } from '../../../src/agent/sources/sim-adapter.js';

const site = loadSite({
  bounds: { minX: 0, minY: 0, maxX: 4, maxY: 3 },
  anchors: [{ id: '198.51.100.1', x: 0.2, y: 0.2 }],
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
    {
      id: 'b',
      polygon: [
        [2, 0],
        [3, 0],
        [3, 3],
        [2, 3],
      ],
    },
  ],
});
const roomAt = (p: { x: number; y: number }) => (p.x <= 2 ? 'a' : p.x <= 3 ? 'b' : undefined);

describe('Coverage', () => {
  it('tracks rooms and cells, and draws the map north up', () => {
    const c = new Coverage(site, roomAt);
    expect(c.add({ x: 0.5, y: 2.5 })).toBe('a');
    expect(c.summary()).toEqual({
      points: 1,
      rooms: { covered: ['a'], missing: ['b'] },
      cells: { covered: 1, total: 9 },
    });
    expect(c.line()).toBe('rooms 1/2 (missing: b) · cells 1/9 (11 %) of 1 m · 1 points');
    c.add({ x: 2.5, y: 0.5, room: 'b' });
    expect(c.map({ x: 2.5, y: 0.5 })).toBe(['+----+', '|#.. |', '|... |', '|A.@ |', '+----+'].join('\n'));
    expect(c.summary().rooms.missing).toEqual([]);
  });

  it('chooses a coarser cell for a large site', () => {
    const big = loadSite({ bounds: { minX: 0, minY: 0, maxX: 200, maxY: 50 }, anchors: [], rooms: [] });
    const c = new Coverage(big, () => undefined);
    expect(c.cellM).toBe(5);
    expect(c.map().split('\n')[0]!.length).toBe(42);
  });
});
