import type { TopLevelSpec } from 'vega-lite';
import { round, thin } from '../sample.js';
import { INK, MUTED, ROOM_FILLS, SERIES_COLOURS, TRUTH } from '../theme.js';

interface XY {
  x: number;
  y: number;
}

/** The parts of a site a floor plan draws: a parsed site file (`Site` of src/models/positioning) fits. Metres. */
export interface FloorPlanSite {
  bounds: { minX: number; minY: number; maxX: number; maxY: number };
  rooms?: readonly { id: string; name?: string | undefined; polygon: readonly XY[] }[];
  anchors?: readonly { id: string; label?: string | undefined; x: number; y: number }[];
  walls?: readonly { from: XY; to: XY }[] | undefined;
}

export interface TrackPoint {
  /** Epoch ms. */
  t: number;
  x: number;
  y: number;
  /** 95% radius in metres. */
  uncertainty?: number;
  /** Points of different segments are not joined (gaps in a track). */
  segment?: number;
}

export interface FloorPlanTrack {
  /** Device (or series) name shown in the legend. */
  id: string;
  estimate: readonly TrackPoint[];
  /** Ground truth, where known (simulator, walk). */
  truth?: readonly TrackPoint[];
}

/** One located calibration/test point: where it really was, and where the model put it. */
export interface ErrorVector {
  truth: { x: number; y: number };
  estimate: { x: number; y: number; uncertainty?: number };
}

export interface FloorPlanData {
  site: FloorPlanSite;
  tracks?: readonly FloorPlanTrack[];
  errors?: readonly ErrorVector[];
  /** Points of a calibration walk (truth only). */
  walk?: readonly { x: number; y: number }[];
  title?: string;
  /** Longest side of the plot in pixels. @defaultValue 620 */
  size?: number;
}

const MAX_TRACKS = SERIES_COLOURS.length;
const MAX_POINTS_PER_TRACK = 400;
const MAX_CIRCLES_PER_TRACK = 12;
const MAX_ERROR_VECTORS = 600;

/** Floor plan at true scale (1 m is the same length on both axes): rooms, walls, anchors, tracks, error vectors. */
export function floorPlanSpec(data: FloorPlanData): TopLevelSpec {
  const { site } = data;
  const margin = 0.05 * Math.max(site.bounds.maxX - site.bounds.minX, site.bounds.maxY - site.bounds.minY, 1);
  const x0 = site.bounds.minX - margin;
  const x1 = site.bounds.maxX + margin;
  const y0 = site.bounds.minY - margin;
  const y1 = site.bounds.maxY + margin;
  const size = data.size ?? 620;
  // Pixels per metre, the same on both axes; the tall side gets `size` px at most.
  const k = Math.min(size / (x1 - x0), (size * 0.75) / (y1 - y0));
  const width = Math.round((x1 - x0) * k);
  const height = Math.round((y1 - y0) * k);
  const x = {
    field: 'x',
    type: 'quantitative',
    scale: { domain: [x0, x1], nice: false, zero: false },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    scale: { domain: [y0, y1], nice: false, zero: false },
  } as const;
  const xAxis = { ...x, axis: { title: 'x (m)', grid: true, tickMinStep: 1 } } as const;
  const yAxis = { ...y, axis: { title: 'y (m)', grid: true, tickMinStep: 1 } } as const;

  const layers: object[] = [];

  const rooms = site.rooms ?? [];
  if (rooms.length > 0) {
    const vertices = rooms.flatMap((room, r) => {
      const ring = [...room.polygon, room.polygon[0]!];
      return ring.map((v, i) => ({
        room: room.id,
        i,
        x: v.x,
        y: v.y,
        fill: ROOM_FILLS[r % ROOM_FILLS.length],
      }));
    });
    layers.push({
      name: 'rooms',
      data: { values: vertices },
      mark: { type: 'line', stroke: '#aab4bf', strokeWidth: 1, interpolate: 'linear' },
      encoding: {
        x: xAxis,
        y: yAxis,
        detail: { field: 'room' },
        order: { field: 'i', type: 'quantitative' },
        fill: { field: 'fill', type: 'nominal', scale: null },
      },
    });
    const labels = rooms.map((room) => {
      const c = centroid(room.polygon);
      return { room: room.name ?? room.id, x: c.x, y: c.y };
    });
    layers.push({
      name: 'room_labels',
      data: { values: labels },
      mark: { type: 'text', color: MUTED, fontSize: 12, fontWeight: 500, opacity: 0.9 },
      encoding: { x, y, text: { field: 'room' } },
    });
  }

  if (site.walls && site.walls.length > 0) {
    layers.push({
      name: 'walls',
      data: { values: site.walls.map((w) => ({ x: w.from.x, y: w.from.y, x2: w.to.x, y2: w.to.y })) },
      mark: { type: 'rule', color: '#4a5562', strokeWidth: 3, strokeCap: 'round' },
      encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' } },
    });
  }

  if (data.walk && data.walk.length > 0) {
    layers.push({
      name: 'walk',
      data: { values: thin(data.walk, 2000).map((p) => ({ x: round(p.x), y: round(p.y) })) },
      mark: { type: 'point', shape: 'circle', filled: true, size: 22, color: '#8895a3', opacity: 0.8 },
      encoding: { x, y },
    });
  }

  const errors = thin(data.errors ?? [], MAX_ERROR_VECTORS);
  if (errors.length > 0) {
    const rows = errors.map((e) => ({
      x: round(e.truth.x),
      y: round(e.truth.y),
      x2: round(e.estimate.x),
      y2: round(e.estimate.y),
    }));
    layers.push({
      name: 'error_vectors',
      data: { values: rows },
      mark: { type: 'rule', color: '#e15759', strokeWidth: 1, opacity: 0.55 },
      encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' } },
    });
    layers.push({
      name: 'error_truth',
      data: { values: rows.map((r) => ({ x: r.x, y: r.y })) },
      mark: { type: 'point', filled: true, size: 16, color: TRUTH, opacity: 0.8 },
      encoding: { x, y },
    });
    layers.push({
      name: 'error_estimates',
      data: { values: rows.map((r) => ({ x: r.x2, y: r.y2 })) },
      mark: { type: 'point', filled: true, size: 14, color: '#e15759', opacity: 0.8 },
      encoding: { x, y },
    });
  }

  const tracks = (data.tracks ?? []).slice(0, MAX_TRACKS);
  const domain = tracks.map((t) => t.id);
  const colour = {
    field: 'device',
    type: 'nominal',
    title: 'device',
    scale: { domain, range: SERIES_COLOURS.slice(0, Math.max(1, domain.length)) },
  } as const;
  const circles = tracks.flatMap((track) =>
    thin(
      track.estimate.filter((p) => p.uncertainty !== undefined && p.uncertainty > 0),
      MAX_CIRCLES_PER_TRACK,
    ).map((p) => ({
      device: track.id,
      x: round(p.x),
      y: round(p.y),
      // Vega sizes a symbol by the area of its bounding square: a circle of radius r metres is (2·r·k)² px².
      area: round((2 * p.uncertainty! * k) ** 2, 1),
    })),
  );
  if (circles.length > 0) {
    layers.push({
      name: 'uncertainty',
      data: { values: circles },
      mark: {
        type: 'point',
        shape: 'circle',
        filled: true,
        fillOpacity: 0.07,
        strokeOpacity: 0.35,
        strokeWidth: 0.8,
      },
      encoding: {
        x,
        y,
        size: { field: 'area', type: 'quantitative', scale: null },
        color: { ...colour, legend: null },
      },
    });
  }
  const truth = tracks.flatMap((track, d) =>
    thin(track.truth ?? [], MAX_POINTS_PER_TRACK).map((p, i) => ({
      device: `${d}`,
      seg: `${d}:${p.segment ?? 0}`,
      i,
      x: round(p.x),
      y: round(p.y),
    })),
  );
  if (truth.length > 0) {
    layers.push({
      name: 'truth_tracks',
      data: { values: truth },
      mark: { type: 'line', color: TRUTH, strokeWidth: 1.5, strokeDash: [5, 4], opacity: 0.75 },
      encoding: { x, y, detail: { field: 'seg' }, order: { field: 'i', type: 'quantitative' } },
    });
  }
  const estimate = tracks.flatMap((track) =>
    thin(track.estimate, MAX_POINTS_PER_TRACK).map((p, i) => ({
      device: track.id,
      seg: `${track.id}:${p.segment ?? 0}`,
      i,
      x: round(p.x),
      y: round(p.y),
    })),
  );
  if (estimate.length > 0) {
    layers.push({
      name: 'tracks',
      data: { values: estimate },
      mark: { type: 'line', strokeWidth: 1.6, opacity: 0.9 },
      encoding: {
        x,
        y,
        color: colour,
        detail: { field: 'seg' },
        order: { field: 'i', type: 'quantitative' },
      },
    });
    layers.push({
      name: 'track_points',
      data: { values: estimate },
      mark: { type: 'point', size: 10, filled: true, opacity: 0.9 },
      encoding: { x, y, color: { ...colour, legend: null } },
    });
  }

  const anchors = site.anchors ?? [];
  if (anchors.length > 0) {
    const rows = anchors.map((a) => ({ x: a.x, y: a.y, label: a.label ?? a.id }));
    layers.push({
      name: 'anchors',
      data: { values: rows },
      mark: {
        type: 'point',
        shape: 'diamond',
        filled: true,
        size: 110,
        color: INK,
        stroke: 'white',
        strokeWidth: 1.5,
        opacity: 1,
      },
      encoding: { x, y },
    });
    layers.push({
      name: 'anchor_labels',
      data: { values: rows },
      mark: { type: 'text', color: INK, fontSize: 10, dy: -11, fontWeight: 600 },
      encoding: { x, y, text: { field: 'label' } },
    });
  }

  if (layers.length === 0) {
    layers.push({
      name: 'empty',
      data: { values: [{ x: x0, y: y0 }] },
      mark: { type: 'point', opacity: 0 },
      encoding: { x: xAxis, y: yAxis },
    });
  }
  return {
    ...(data.title === undefined ? {} : { title: data.title }),
    width,
    height,
    layer: layers,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** Area-weighted centroid of a simple polygon (vertex mean when degenerate). */
export function centroid(polygon: readonly XY[]): XY {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < polygon.length; i++) {
    const p = polygon[i]!;
    const q = polygon[(i + 1) % polygon.length]!;
    const cross = p.x * q.y - q.x * p.y;
    a += cross;
    cx += (p.x + q.x) * cross;
    cy += (p.y + q.y) * cross;
  }
  if (Math.abs(a) < 1e-12) {
    const n = Math.max(1, polygon.length);
    return { x: polygon.reduce((s, p) => s + p.x, 0) / n, y: polygon.reduce((s, p) => s + p.y, 0) / n };
  }
  return { x: cx / (3 * a), y: cy / (3 * a) };
}
