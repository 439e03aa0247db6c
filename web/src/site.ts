// The site file (bounds, rooms, anchors, walls) as the page draws it. The site format belongs to the positioning
// side (docs/positioning.md); this reads it tolerantly so a new optional field never breaks the page.

import { humanize } from './format.js';

export type Point = readonly [number, number];

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface Room {
  id: string;
  name: string;
  polygon: Point[];
  floor?: number;
}

export interface Anchor {
  id: string;
  label: string;
  x: number;
  y: number;
  kind?: string;
}

export interface Site {
  name: string;
  bounds: Bounds;
  rooms: Room[];
  anchors: Anchor[];
  walls: [Point, Point][];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function toPoint(v: unknown): Point | null {
  if (Array.isArray(v) && finite(v[0]) && finite(v[1])) return [v[0], v[1]];
  if (isRecord(v) && finite(v.x) && finite(v.y)) return [v.x, v.y];
  return null;
}

function toPoints(v: unknown): Point[] {
  if (!Array.isArray(v)) return [];
  const out: Point[] = [];
  for (const p of v) {
    const q = toPoint(p);
    if (q) out.push(q);
  }
  return out;
}

function roomPolygon(r: Record<string, unknown>): Point[] {
  for (const key of ['polygon', 'points', 'vertices', 'outline']) {
    const pts = toPoints(r[key]);
    if (pts.length >= 3) return pts;
  }
  // Axis-aligned rooms given as a rectangle.
  const b = isRecord(r.bounds) ? r.bounds : r;
  if (finite(b.minX) && finite(b.minY) && finite(b.maxX) && finite(b.maxY)) {
    return [
      [b.minX, b.minY],
      [b.maxX, b.minY],
      [b.maxX, b.maxY],
      [b.minX, b.maxY],
    ];
  }
  return [];
}

export function boundsOf(points: readonly Point[]): Bounds | null {
  if (points.length === 0) return null;
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return { minX, minY, maxX, maxY };
}

/** Reads a site file; returns null when it has nothing drawable. */
export function parseSite(raw: unknown): Site | null {
  const root = isRecord(raw) && isRecord(raw.site) ? raw.site : raw;
  if (!isRecord(root)) return null;
  const rooms: Room[] = [];
  if (Array.isArray(root.rooms)) {
    root.rooms.forEach((r, i) => {
      if (!isRecord(r)) return;
      const polygon = roomPolygon(r);
      if (polygon.length < 3) return;
      const id = typeof r.id === 'string' ? r.id : typeof r.name === 'string' ? r.name : `room-${i + 1}`;
      const name = typeof r.name === 'string' ? r.name : typeof r.label === 'string' ? r.label : humanize(id);
      const room: Room = { id, name, polygon };
      if (finite(r.floor)) room.floor = r.floor;
      rooms.push(room);
    });
  }
  const anchors: Anchor[] = [];
  if (Array.isArray(root.anchors)) {
    root.anchors.forEach((a, i) => {
      if (!isRecord(a)) return;
      const p = toPoint(a) ?? toPoint(a.position);
      if (!p) return;
      const id = typeof a.id === 'string' ? a.id : `anchor-${i + 1}`;
      const anchor: Anchor = { id, label: typeof a.label === 'string' ? a.label : id, x: p[0], y: p[1] };
      const kind = typeof a.kind === 'string' ? a.kind : typeof a.type === 'string' ? a.type : undefined;
      if (kind !== undefined) anchor.kind = kind;
      anchors.push(anchor);
    });
  }
  const walls: [Point, Point][] = [];
  if (Array.isArray(root.walls)) {
    for (const w of root.walls) {
      const pts = isRecord(w)
        ? [toPoint(w.from ?? w.a ?? { x: w.x1, y: w.y1 }), toPoint(w.to ?? w.b ?? { x: w.x2, y: w.y2 })]
        : toPoints(w);
      const [a, b] = pts;
      if (a && b) walls.push([a, b]);
    }
  }
  let bounds: Bounds | null = null;
  const b = root.bounds;
  if (isRecord(b) && finite(b.minX) && finite(b.minY) && finite(b.maxX) && finite(b.maxY)) {
    bounds = { minX: b.minX, minY: b.minY, maxX: b.maxX, maxY: b.maxY };
  } else {
    bounds = boundsOf([
      ...rooms.flatMap((r) => r.polygon),
      ...anchors.map((a): Point => [a.x, a.y]),
      ...walls.flat(),
    ]);
  }
  if (!bounds || bounds.maxX <= bounds.minX || bounds.maxY <= bounds.minY) return null;
  const name = typeof root.name === 'string' ? root.name : 'site';
  return { name, bounds, rooms, anchors, walls };
}

/** Ray casting; points on an edge may fall either way, which is fine for picking a room label. */
export function pointInPolygon(x: number, y: number, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A room's display name from the id (or name) a location carries. */
export function roomLabel(site: Site | null, room: string): string {
  return site?.rooms.find((r) => r.id === room || r.name === room)?.name ?? humanize(room);
}

export function roomAt(site: Site, x: number, y: number): Room | undefined {
  return site.rooms.find((r) => pointInPolygon(x, y, r.polygon));
}

/** Area-weighted centroid, for placing a room's label. */
export function centroid(polygon: readonly Point[]): Point {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    const cross = xj * yi - xi * yj;
    a += cross;
    cx += (xj + xi) * cross;
    cy += (yj + yi) * cross;
  }
  if (Math.abs(a) < 1e-12) {
    const b = boundsOf(polygon)!;
    return [(b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2];
  }
  return [cx / (3 * a), cy / (3 * a)];
}
