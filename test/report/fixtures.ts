import type { FloorPlanSite, FloorPlanTrack } from '../../src/report/index.js';

/** A 10 m × 6 m flat with four rooms, two walls and four anchors in the corners. */
export const SITE: FloorPlanSite = {
  bounds: { minX: 0, minY: 0, maxX: 10, maxY: 6 },
  rooms: [
    {
      name: 'living',
      polygon: [
        [0, 0],
        [6, 0],
        [6, 3],
        [0, 3],
      ],
    },
    {
      name: 'kitchen',
      polygon: [
        [6, 0],
        [10, 0],
        [10, 3],
        [6, 3],
      ],
    },
    {
      name: 'bedroom',
      polygon: [
        [0, 3],
        [5, 3],
        [5, 6],
        [0, 6],
      ],
    },
    {
      name: 'office',
      polygon: [
        [5, 3],
        [10, 3],
        [10, 6],
        [5, 6],
      ],
    },
  ],
  anchors: [
    { id: '198.51.100.1', label: 'AP1', x: 0.5, y: 0.5 },
    { id: '198.51.100.2', label: 'AP2', x: 9.5, y: 0.5 },
    { id: '198.51.100.3', label: 'AP3', x: 9.5, y: 5.5 },
    { id: '198.51.100.4', x: 0.5, y: 5.5 },
  ],
  walls: [
    { x1: 0, y1: 3, x2: 10, y2: 3 },
    { x1: 6, y1: 0, x2: 6, y2: 2 },
  ],
};

/** A seeded LCG so fixtures are the same on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function tracks(n: number, points: number): FloorPlanTrack[] {
  const r = rng(7);
  return Array.from({ length: n }, (_, d) => {
    const truth = Array.from({ length: points }, (_, i) => ({
      t: i * 1000,
      x: 1 + (8 * i) / points,
      y: 1 + d,
    }));
    return {
      id: `device-${d}`,
      truth,
      estimate: truth.map((p) => ({ t: p.t, x: p.x + r() - 0.5, y: p.y + r() - 0.5, uncertainty: 1 })),
    };
  });
}
