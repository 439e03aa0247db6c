import { z } from 'zod';
import { type Point, pointInPolygon } from './geometry.js';

// The site file: the plan the models and the simulator share. Metres, site coordinates. The data sets under
// ../shared/datasets/positioning/*/site.json load as they are (rooms: []).

const Coord = z.number().finite().min(-100_000).max(100_000);
const PointSchema = z
  .union([z.strictObject({ x: Coord, y: Coord }), z.tuple([Coord, Coord])])
  .transform((p): Point => (Array.isArray(p) ? { x: p[0], y: p[1] } : p));
const FloorLevel = z.number().int().min(-100).max(1000);

export const AnchorKind = z.enum(['access_point', 'gateway', 'agent', 'beacon']);
export type AnchorKind = z.infer<typeof AnchorKind>;

export const SiteAnchor = z.strictObject({
  /** The id measurements use (`targetIp` of a probe). */
  id: z.string().min(1).max(256),
  label: z.string().max(256).optional(),
  x: Coord,
  y: Coord,
  /** Mounting height in metres above the floor; absent = same height as the device (2-D ranging). */
  z: z.number().finite().min(-1000).max(1000).optional(),
  floor: FloorLevel.optional(),
  kind: AnchorKind.optional(),
});
export type SiteAnchor = z.infer<typeof SiteAnchor>;

export const SiteRoom = z.strictObject({
  id: z.string().min(1).max(256),
  name: z.string().max(256).optional(),
  floor: FloorLevel.optional(),
  /** A simple polygon, at least 3 vertices, as {x,y} objects or [x,y] pairs. */
  polygon: z.array(PointSchema).min(3).max(10_000),
});
export type SiteRoom = z.infer<typeof SiteRoom>;

export const SiteWall = z.strictObject({
  from: PointSchema,
  to: PointSchema,
  /** Extra path loss when a link crosses the wall, dB (used by the simulator; default 5 dB). */
  attenuationDb: z.number().min(0).max(100).optional(),
  floor: FloorLevel.optional(),
});
export type SiteWall = z.infer<typeof SiteWall>;

export const SiteFloor = z.strictObject({
  level: FloorLevel,
  name: z.string().max(256).optional(),
  /** Height of this floor above level 0, metres. */
  elevation: z.number().finite().optional(),
});

export const Site = z
  .strictObject({
    name: z.string().max(256).optional(),
    units: z.literal('m').optional(),
    note: z.string().max(10_000).optional(),
    bounds: z
      .strictObject({ minX: Coord, minY: Coord, maxX: Coord, maxY: Coord })
      .refine((b) => b.minX < b.maxX && b.minY < b.maxY, {
        message: 'bounds need minX < maxX and minY < maxY',
      }),
    anchors: z.array(SiteAnchor).max(10_000),
    rooms: z.array(SiteRoom).max(10_000).default([]),
    walls: z.array(SiteWall).max(100_000).optional(),
    floors: z.array(SiteFloor).max(1000).optional(),
  })
  .superRefine((site, ctx) => {
    const seen = new Set<string>();
    site.anchors.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['anchors', i, 'id'], message: `duplicate anchor id ${a.id}` });
      seen.add(a.id);
    });
    const rooms = new Set<string>();
    site.rooms.forEach((r, i) => {
      if (rooms.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['rooms', i, 'id'], message: `duplicate room id ${r.id}` });
      rooms.add(r.id);
    });
  });
/** A parsed site (polygon points normalised to {x, y}). */
export type Site = z.output<typeof Site>;
/** What a site file may contain (points as objects or pairs). */
export type SiteInput = z.input<typeof Site>;

export type SiteParseResult = { ok: true; site: Site } | { ok: false; error: string };

/** Validates a decoded site file; the error names the first offending path. Never throws. */
export function parseSite(value: unknown): SiteParseResult {
  const result = Site.safeParse(value);
  if (result.success) return { ok: true, site: result.data };
  const issue = result.error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  return { ok: false, error: `${path || 'site'}: ${issue?.message ?? 'invalid'}${more}` };
}

/**
 * The room containing a point: the first declared room wins where rooms share an edge (bounds are inclusive).
 * With `floor` given, only rooms on that floor (or with no floor) are considered.
 */
export function roomAt(site: Site, p: Point, floor?: number): SiteRoom | undefined {
  for (const room of site.rooms) {
    if (floor !== undefined && room.floor !== undefined && room.floor !== floor) continue;
    if (pointInPolygon(p, room.polygon)) return room;
  }
  return undefined;
}

export function anchorById(site: Site): Map<string, SiteAnchor> {
  return new Map(site.anchors.map((a) => [a.id, a]));
}

export function siteSize(site: Site): { width: number; height: number; diagonal: number } {
  const width = site.bounds.maxX - site.bounds.minX;
  const height = site.bounds.maxY - site.bounds.minY;
  return { width, height, diagonal: Math.hypot(width, height) };
}
