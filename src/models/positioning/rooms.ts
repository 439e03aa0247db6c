import { EDGE_EPS, pointInPolygon } from './geometry.js';
import { type Cov2, chol2 } from './linalg2.js';
import { NORMALS } from './quasi-random.js';
import type { Site } from './site.js';

// Room probabilities: the Gaussian position estimate integrated over each room polygon, by a fixed set of
// quasi-random standard-normal points (Halton bases 2 and 3 through Box–Muller), so the result is deterministic
// and smooth in the estimate. Mass outside the site bounds is discarded (the truth is on the plan); mass inside
// the bounds but outside every room counts as "no room". The first declared room wins on a shared edge.

const N = NORMALS.length;

// The same points as two flat arrays: the loop below reads them without iterating and destructuring pairs.
const Z1 = Float64Array.from(NORMALS, (z) => z[0]);
const Z2 = Float64Array.from(NORMALS, (z) => z[1]);

// Largest |z1| and |z2| of the points: bounds the spread of the transformed set (the early exit below).
const MAX_Z1 = Math.max(...NORMALS.map((z) => Math.abs(z[0])));
const MAX_Z2 = Math.max(...NORMALS.map((z) => Math.abs(z[1])));

interface IndexedRoom {
  id: string;
  polygon: ReadonlyArray<{ x: number; y: number }>;
  /** The polygon's edges in pointInPolygon's order, with its per-edge constants (see `edgeTable`). */
  edges: Float64Array;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * The rooms of one floor and a lookup grid over the site bounds: each cell holds the index of the room that owns
 * every point of it (first declared room wins), NONE when no room touches it, or MIXED when a room's edge or
 * corner comes near it — only MIXED cells run the exact polygon test, so the answer is the exact test's.
 */
interface RoomIndex {
  rooms: IndexedRoom[];
  x0: number;
  y0: number;
  cell: number;
  nx: number;
  ny: number;
  cells: Int16Array;
}

const NONE = -1;
const MIXED = -2;
const MAX_LOOKUP_CELLS = 65_536;
// Points within pointInPolygon's edge tolerance of an edge count as on it: cells that close are MIXED.
const EDGE_MARGIN = 1e-6;

// Per site and floor, computed once (the polygon test is the hot loop: 512 points per estimate).
const indexCache = new WeakMap<Site, Map<number | undefined, RoomIndex>>();

function roomIndex(site: Site, floor: number | undefined): RoomIndex {
  let perFloor = indexCache.get(site);
  if (!perFloor) {
    perFloor = new Map();
    indexCache.set(site, perFloor);
  }
  let index = perFloor.get(floor);
  if (!index) {
    index = buildRoomIndex(site, floor);
    perFloor.set(floor, index);
  }
  return index;
}

function buildRoomIndex(site: Site, floor: number | undefined): RoomIndex {
  const rooms: IndexedRoom[] = site.rooms
    .filter((r) => floor === undefined || r.floor === undefined || r.floor === floor)
    .map((r) => ({
      id: r.id,
      polygon: r.polygon,
      edges: edgeTable(r.polygon),
      minX: Math.min(...r.polygon.map((p) => p.x)),
      minY: Math.min(...r.polygon.map((p) => p.y)),
      maxX: Math.max(...r.polygon.map((p) => p.x)),
      maxY: Math.max(...r.polygon.map((p) => p.y)),
    }));
  const b = site.bounds;
  const w = b.maxX - b.minX;
  const h = b.maxY - b.minY;
  // About 5 cm cells, capped; an odd fraction so cell edges rarely fall on walls drawn on round coordinates.
  let cell = 0.0493;
  while (Math.ceil(w / cell) * Math.ceil(h / cell) > MAX_LOOKUP_CELLS) cell *= 1.5;
  const nx = Math.max(1, Math.ceil(w / cell));
  const ny = Math.max(1, Math.ceil(h / cell));
  const cells = new Int16Array(nx * ny);
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      cells[j * nx + i] = classifyCell(
        rooms,
        b.minX + i * cell - EDGE_MARGIN,
        b.minY + j * cell - EDGE_MARGIN,
        b.minX + (i + 1) * cell + EDGE_MARGIN,
        b.minY + (j + 1) * cell + EDGE_MARGIN,
      );
    }
  }
  return { rooms, x0: b.minX, y0: b.minY, cell, nx, ny, cells };
}

/** The room owning the whole closed cell, NONE, or MIXED (some room's boundary comes near it). */
function classifyCell(rooms: readonly IndexedRoom[], x0: number, y0: number, x1: number, y1: number): number {
  for (let r = 0; r < rooms.length; r++) {
    const room = rooms[r]!;
    if (room.maxX < x0 || room.minX > x1 || room.maxY < y0 || room.minY > y1) continue;
    const poly = room.polygon;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      if (segmentTouchesBox(poly[j]!, poly[i]!, x0, y0, x1, y1)) return MIXED;
    }
    // No edge comes near: the cell is wholly inside or wholly outside this room.
    if (pointInPolygon({ x: (x0 + x1) / 2, y: (y0 + y1) / 2 }, poly)) return r;
  }
  return NONE;
}

/** Segment ab meets the closed box (Liang–Barsky clipping). */
function segmentTouchesBox(
  a: { x: number; y: number },
  b: { x: number; y: number },
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const t = q / p;
    if (p < 0) {
      if (t > t1) return false;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return false;
      if (t < t1) t1 = t;
    }
    return true;
  };
  return clip(-dx, a.x - x0) && clip(dx, x1 - a.x) && clip(-dy, a.y - y0) && clip(dy, y1 - a.y);
}

function exactRoom(rooms: readonly IndexedRoom[], px: number, py: number): number {
  for (let r = 0; r < rooms.length; r++) {
    const room = rooms[r]!;
    if (
      px >= room.minX &&
      px <= room.maxX &&
      py >= room.minY &&
      py <= room.maxY &&
      insidePolygon(room.edges, px, py)
    ) {
      return r;
    }
  }
  return NONE;
}

const EDGE_FIELDS = 9;

/**
 * Per edge (a = polygon[i], b = polygon[i−1], pointInPolygon's order): a.x, a.y, b.x, b.y, the cross-product
 * tolerance EDGE_EPS·max(|ab|, 1), and the edge's bounding box widened by EDGE_EPS (x min, x max, y min, y max);
 * slot 0 holds the edge count. Computed once per room: a hypot per edge and point was most of the exact test's cost.
 */
function edgeTable(polygon: ReadonlyArray<{ x: number; y: number }>): Float64Array {
  const n = polygon.length;
  const out = new Float64Array(n * EDGE_FIELDS + 1);
  out[0] = n;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    const o = 1 + i * EDGE_FIELDS;
    out[o] = a.x;
    out[o + 1] = a.y;
    out[o + 2] = b.x;
    out[o + 3] = b.y;
    out[o + 4] = EDGE_EPS * Math.max(Math.hypot(b.x - a.x, b.y - a.y), 1);
    out[o + 5] = Math.min(a.x, b.x) - EDGE_EPS;
    out[o + 6] = Math.max(a.x, b.x) + EDGE_EPS;
    out[o + 7] = Math.min(a.y, b.y) - EDGE_EPS;
    out[o + 8] = Math.max(a.y, b.y) + EDGE_EPS;
  }
  return out;
}

/**
 * pointInPolygon (geometry.ts) on an edge table: the same tests with the same values (on an edge within the
 * tolerance: inside; else ray casting), without recomputing each edge's length per point.
 */
export function insidePolygon(edges: Float64Array, px: number, py: number): boolean {
  const n = edges[0]!;
  if (n < 3) return false;
  let inside = false;
  for (let i = 0; i < n; i++) {
    const o = 1 + i * EDGE_FIELDS;
    const ax = edges[o]!;
    const ay = edges[o + 1]!;
    const bx = edges[o + 2]!;
    const by = edges[o + 3]!;
    const cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
    if (
      !(Math.abs(cross) > edges[o + 4]!) &&
      px >= edges[o + 5]! &&
      px <= edges[o + 6]! &&
      py >= edges[o + 7]! &&
      py <= edges[o + 8]!
    ) {
      return true;
    }
    if (ay > py !== by > py) {
      const xCross = ((bx - ax) * (py - ay)) / (by - ay) + ax;
      if (px < xCross) inside = !inside;
    }
  }
  return inside;
}

/** An edge table of a polygon (exported for the equality test with pointInPolygon). */
export function polygonEdges(polygon: ReadonlyArray<{ x: number; y: number }>): Float64Array {
  return edgeTable(polygon);
}

/** The room owning every cell of the box, or MIXED. */
function uniformRoom(index: RoomIndex, x0: number, y0: number, x1: number, y1: number): number {
  const i0 = Math.floor((x0 - index.x0) / index.cell);
  const i1 = Math.floor((x1 - index.x0) / index.cell);
  const j0 = Math.floor((y0 - index.y0) / index.cell);
  const j1 = Math.floor((y1 - index.y0) / index.cell);
  if (i0 < 0 || j0 < 0 || i1 >= index.nx || j1 >= index.ny) return MIXED;
  if ((i1 - i0 + 1) * (j1 - j0 + 1) > 256) return MIXED;
  const first = index.cells[j0 * index.nx + i0]!;
  if (first < 0) return MIXED;
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) if (index.cells[j * index.nx + i] !== first) return MIXED;
  }
  return first;
}

export interface RoomProbability {
  room: string;
  probability: number;
}

const COUNTS = new Int32Array(4096);
const ORDER = new Int32Array(4096);

/** Probabilities of the rooms (descending), and of no room; empty when the site has no rooms. */
export function roomProbabilities(
  site: Site,
  x: number,
  y: number,
  cov: Cov2,
  floor?: number,
): { rooms: RoomProbability[]; none: number } {
  if (site.rooms.length === 0) return { rooms: [], none: 1 };
  const index = roomIndex(site, floor);
  const rooms = index.rooms;
  if (rooms.length === 0) return { rooms: [], none: 1 };
  const [l11, l21, l22] = chol2(cov);
  const b = site.bounds;
  // Every point of the set inside one room's cells (and the bounds): all the mass is that room's.
  const hx = l11 * MAX_Z1;
  const hy = Math.abs(l21) * MAX_Z1 + l22 * MAX_Z2;
  if (x - hx >= b.minX && x + hx <= b.maxX && y - hy >= b.minY && y + hy <= b.maxY) {
    const r = uniformRoom(index, x - hx, y - hy, x + hx, y + hy);
    if (r >= 0) return { rooms: [{ room: rooms[r]!.id, probability: 1 }], none: 0 };
  }
  const many = rooms.length > COUNTS.length;
  const counts = many ? new Int32Array(rooms.length) : COUNTS;
  const order = many ? new Int32Array(rooms.length) : ORDER;
  counts.fill(0, 0, rooms.length);
  let seen = 0;
  let none = 0;
  let inBounds = 0;
  const { x0, y0, cell, nx, ny, cells } = index;
  for (let i = 0; i < N; i++) {
    const z1 = Z1[i]!;
    const z2 = Z2[i]!;
    const px = x + l11 * z1;
    const py = y + l21 * z1 + l22 * z2;
    if (px < b.minX || px > b.maxX || py < b.minY || py > b.maxY) continue;
    inBounds++;
    // The cell's owner from the grid; the exact polygon test only on MIXED cells (and off the grid).
    const ci = Math.floor((px - x0) / cell);
    const cj = Math.floor((py - y0) / cell);
    let r = MIXED;
    if (ci >= 0 && cj >= 0 && ci < nx && cj < ny) r = cells[cj * nx + ci]!;
    if (r === MIXED) r = exactRoom(rooms, px, py);
    if (r >= 0) {
      if (counts[r] === 0) order[seen++] = r;
      counts[r]!++;
    } else none++;
  }
  if (inBounds === 0) {
    // The whole estimate is off the plan: fall back to the room at the clamped point.
    const p = { x: Math.min(Math.max(x, b.minX), b.maxX), y: Math.min(Math.max(y, b.minY), b.maxY) };
    const room = rooms.find((r) => pointInPolygon(p, r.polygon));
    return room ? { rooms: [{ room: room.id, probability: 1 }], none: 0 } : { rooms: [], none: 1 };
  }
  const out: RoomProbability[] = [];
  for (let i = 0; i < seen; i++) {
    const r = order[i]!;
    out.push({ room: rooms[r]!.id, probability: counts[r]! / inBounds });
  }
  // Stable: equal probabilities keep the order in which the rooms were first met (as before the index).
  out.sort((p, q) => q.probability - p.probability);
  return { rooms: out, none: none / inBounds };
}
