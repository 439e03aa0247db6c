import type { FloorPlanSite, FloorPlanTrack } from '../../src/report/index.js';

/** A 10 m × 6 m flat with four rooms, two walls and four anchors in the corners. */
export const SITE: FloorPlanSite = {
  bounds: { minX: 0, minY: 0, maxX: 10, maxY: 6 },
  rooms: [
    {
      id: 'living',
      polygon: [
        { x: 0, y: 0 },
        { x: 6, y: 0 },
        { x: 6, y: 3 },
        { x: 0, y: 3 },
      ],
    },
    {
      id: 'kitchen',
      polygon: [
        { x: 6, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 3 },
        { x: 6, y: 3 },
      ],
    },
    {
      id: 'bedroom',
      polygon: [
        { x: 0, y: 3 },
        { x: 5, y: 3 },
        { x: 5, y: 6 },
        { x: 0, y: 6 },
      ],
    },
    {
      id: 'office',
      polygon: [
        { x: 5, y: 3 },
        { x: 10, y: 3 },
        { x: 10, y: 6 },
        { x: 5, y: 6 },
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
    { from: { x: 0, y: 3 }, to: { x: 10, y: 3 } },
    { from: { x: 6, y: 0 }, to: { x: 6, y: 2 } },
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
