import { pointInPolygon } from './geometry.js';
import { type Cov2, chol2 } from './linalg2.js';
import type { Site } from './site.js';

// Room probabilities: the Gaussian position estimate integrated over each room polygon, by a fixed set of
// quasi-random standard-normal points (Halton bases 2 and 3 through Box–Muller), so the result is deterministic
// and smooth in the estimate. Mass outside the site bounds is discarded (the truth is on the plan); mass inside
// the bounds but outside every room counts as "no room". The first declared room wins on a shared edge.

const N = 512;

function halton(i: number, base: number): number {
  let f = 1;
  let r = 0;
  let n = i;
  while (n > 0) {
    f /= base;
    r += f * (n % base);
    n = Math.floor(n / base);
  }
  return r;
}

const NORMALS: ReadonlyArray<readonly [number, number]> = Array.from({ length: N }, (_, i) => {
  const u1 = halton(i + 1, 2);
  const u2 = halton(i + 1, 3);
  const r = Math.sqrt(-2 * Math.log(1 - u1 * 0.999999));
  return [r * Math.cos(2 * Math.PI * u2), r * Math.sin(2 * Math.PI * u2)] as const;
});

interface IndexedRoom {
  id: string;
  floor: number | undefined;
  polygon: ReadonlyArray<{ x: number; y: number }>;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

// Bounding boxes per site, computed once (the polygon test is the hot loop: 512 points per estimate).
const indexCache = new WeakMap<Site, IndexedRoom[]>();

function indexRooms(site: Site): IndexedRoom[] {
  let rooms = indexCache.get(site);
  if (!rooms) {
    rooms = site.rooms.map((r) => ({
      id: r.id,
      floor: r.floor,
      polygon: r.polygon,
      minX: Math.min(...r.polygon.map((p) => p.x)),
      minY: Math.min(...r.polygon.map((p) => p.y)),
      maxX: Math.max(...r.polygon.map((p) => p.x)),
      maxY: Math.max(...r.polygon.map((p) => p.y)),
    }));
    indexCache.set(site, rooms);
  }
  return rooms;
}

export interface RoomProbability {
  room: string;
  probability: number;
}

/** Probabilities of the rooms (descending), and of no room; empty when the site has no rooms. */
export function roomProbabilities(
  site: Site,
  x: number,
  y: number,
  cov: Cov2,
  floor?: number,
): { rooms: RoomProbability[]; none: number } {
  const rooms = indexRooms(site).filter(
    (r) => floor === undefined || r.floor === undefined || r.floor === floor,
  );
  if (rooms.length === 0) return { rooms: [], none: 1 };
  const [l11, l21, l22] = chol2(cov);
  const counts = new Map<string, number>();
  let none = 0;
  let inBounds = 0;
  const b = site.bounds;
  for (const [z1, z2] of NORMALS) {
    const p = { x: x + l11 * z1, y: y + l21 * z1 + l22 * z2 };
    if (p.x < b.minX || p.x > b.maxX || p.y < b.minY || p.y > b.maxY) continue;
    inBounds++;
    const room = rooms.find(
      (r) => p.x >= r.minX && p.x <= r.maxX && p.y >= r.minY && p.y <= r.maxY && pointInPolygon(p, r.polygon),
    );
    if (room) counts.set(room.id, (counts.get(room.id) ?? 0) + 1);
    else none++;
  }
  if (inBounds === 0) {
    // The whole estimate is off the plan: fall back to the room at the clamped point.
    const p = { x: Math.min(Math.max(x, b.minX), b.maxX), y: Math.min(Math.max(y, b.minY), b.maxY) };
    const room = rooms.find((r) => pointInPolygon(p, r.polygon));
    return room ? { rooms: [{ room: room.id, probability: 1 }], none: 0 } : { rooms: [], none: 1 };
  }
  const out = [...counts.entries()]
    .map(([room, c]) => ({ room, probability: c / inBounds }))
    .sort((p, q) => q.probability - p.probability);
  return { rooms: out, none: none / inBounds };
}
