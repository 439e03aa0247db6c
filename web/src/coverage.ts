// Calibration coverage: where the latest model's held-out error is high, where the walk left gaps, and which few
// spots to walk next. Pure functions over the model's per-point held-out errors.
import type { HeldOutPoint } from './models.js';
import { type Bounds, roomAt, type Site } from './site.js';

export interface CoverageCell {
  /** Centre, metres. */
  x: number;
  y: number;
  /** Inverse-distance-weighted held-out error around the cell (metres), null where no point is near. */
  error: number | null;
  /** Distance to the nearest calibration point, metres. */
  gap: number;
}

export interface CoverageGrid {
  /** Row-major, `columns` per row, from the bounds' minimum corner. */
  cells: CoverageCell[];
  columns: number;
  rows: number;
  cellW: number;
  cellH: number;
  /** Median distance between neighbouring calibration points: the walk's own grid step. */
  spacing: number;
  medianError: number;
  /** Top of the colour scale (metres). */
  scaleMax: number;
}

export interface WalkSuggestion {
  x: number;
  y: number;
  room?: string;
  reason: string;
}

/** Points used for interpolation: a deterministic stride keeps big walks (10k points) fast. */
const MAX_POINTS = 3000;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const stride = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * stride)]!);
  return out;
}

/** Median nearest-neighbour distance, on at most 400 points. */
export function walkSpacing(points: readonly { x: number; y: number }[]): number {
  const sample = thin(points, 400);
  if (sample.length < 2) return 1;
  const nearest: number[] = [];
  for (const p of sample) {
    let best = Number.POSITIVE_INFINITY;
    for (const q of sample) {
      if (p === q) continue;
      const d = Math.hypot(p.x - q.x, p.y - q.y);
      if (d > 1e-9 && d < best) best = d;
    }
    if (Number.isFinite(best)) nearest.push(best);
  }
  nearest.sort((a, b) => a - b);
  return Math.max(quantile(nearest, 0.5), 0.1);
}

export function coverageGrid(points: readonly HeldOutPoint[], bounds: Bounds, columns = 40): CoverageGrid {
  const w = bounds.maxX - bounds.minX;
  const h = bounds.maxY - bounds.minY;
  const cellW = w / columns;
  const rows = Math.max(1, Math.round(h / cellW));
  const cellH = h / rows;
  const used = thin(points, MAX_POINTS);
  const spacing = walkSpacing(used);
  const errors = used.map((p) => p.error).sort((a, b) => a - b);
  const medianError = quantile(errors, 0.5);
  // Interpolate only within two walk steps: beyond that the model has not been tested there.
  const radius = gapLimit(spacing, cellW, cellH);
  const cells: CoverageCell[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const x = bounds.minX + (c + 0.5) * cellW;
      const y = bounds.minY + (r + 0.5) * cellH;
      let gap = Number.POSITIVE_INFINITY;
      let sw = 0;
      let swe = 0;
      for (const p of used) {
        const d = Math.hypot(p.x - x, p.y - y);
        if (d < gap) gap = d;
        if (d <= radius) {
          const wgt = 1 / (d * d + 0.25 * spacing * spacing);
          sw += wgt;
          swe += wgt * p.error;
        }
      }
      cells.push({ x, y, error: sw > 0 ? swe / sw : null, gap });
    }
  }
  const scaleMax = Math.max(quantile(errors, 0.95), medianError * 2, 0.5);
  return { cells, columns, rows, cellW, cellH, spacing, medianError, scaleMax };
}

/** Farther than this from every calibration point, a place counts as not calibrated (metres). */
function gapLimit(spacing: number, cellW: number, cellH: number): number {
  return Math.max(2 * spacing, 1.5 * Math.max(cellW, cellH));
}

/**
 * Up to `count` places to walk next: first the middle of each area the walk never reached (largest first), then the
 * covered places where the held-out error is highest. Only inside rooms when the site has rooms.
 */
export function walkNext(
  grid: CoverageGrid,
  points: readonly HeldOutPoint[],
  site: Site | null,
  count = 3,
): WalkSuggestion[] {
  const limit = gapLimit(grid.spacing, grid.cellW, grid.cellH);
  const isInside = (x: number, y: number): boolean =>
    !site || site.rooms.length === 0 || roomAt(site, x, y) !== undefined;
  const inside = grid.cells.map((c) => isInside(c.x, c.y));
  const uncovered = grid.cells.map((c, i) => inside[i]! && c.gap > limit);
  const chosen: WalkSuggestion[] = [];
  const minApart = Math.max(3 * grid.spacing, 3 * Math.max(grid.cellW, grid.cellH));
  const add = (c: { x: number; y: number }, reason: string): void => {
    const s: WalkSuggestion = { x: c.x, y: c.y, reason };
    const room = site ? roomAt(site, c.x, c.y) : undefined;
    if (room) s.room = room.name;
    chosen.push(s);
  };
  const cellArea = grid.cellW * grid.cellH;
  for (const area of uncoveredAreas(grid, uncovered)) {
    if (chosen.length >= count) break;
    // Too small to matter: a sliver between walk rows.
    if (area.length * cellArea < limit * limit) continue;
    const cx = area.reduce((sum, c) => sum + c.x, 0) / area.length;
    const cy = area.reduce((sum, c) => sum + c.y, 0) / area.length;
    // The area's own cell nearest its centroid, so an L-shaped area still gets a point inside it.
    const centre = area.reduce((best, c) =>
      Math.hypot(c.x - cx, c.y - cy) < Math.hypot(best.x - cx, best.y - cy) ? c : best,
    );
    const deepest = Math.max(...area.map((c) => c.gap));
    add(
      centre,
      `not calibrated: ${(area.length * cellArea).toFixed(1)} m² with no point within ${deepest.toFixed(1)} m`,
    );
  }
  // Where the walk went but the model still does badly: real walk points (a place one can stand), their error
  // smoothed over their neighbours so one bad fix does not send anyone across the house.
  const sample = thin(points, 1000);
  const smoothed = sample
    .map((p) => {
      let sum = 0;
      let n = 0;
      for (const q of sample) {
        if (Math.hypot(p.x - q.x, p.y - q.y) <= 1.5 * grid.spacing) {
          sum += q.error;
          n++;
        }
      }
      return { p, error: sum / n };
    })
    .filter(({ p, error }) => error > 1.25 * grid.medianError && isInside(p.x, p.y))
    .sort((a, b) => b.error - a.error);
  for (const { p, error } of smoothed) {
    if (chosen.length >= count) break;
    if (chosen.some((s) => Math.hypot(s.x - p.x, s.y - p.y) < minApart)) continue;
    add(
      p,
      `held-out error about ${error.toFixed(1)} m around here (median ${grid.medianError.toFixed(1)} m)`,
    );
  }
  return chosen;
}

/** Connected (4-neighbour) groups of uncovered cells, largest first. */
function uncoveredAreas(grid: CoverageGrid, uncovered: readonly boolean[]): CoverageCell[][] {
  const seen = new Uint8Array(grid.cells.length);
  const areas: CoverageCell[][] = [];
  for (let start = 0; start < grid.cells.length; start++) {
    if (!uncovered[start] || seen[start]) continue;
    const area: CoverageCell[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      area.push(grid.cells[i]!);
      const r = Math.floor(i / grid.columns);
      const c = i % grid.columns;
      const next = [
        c > 0 ? i - 1 : -1,
        c < grid.columns - 1 ? i + 1 : -1,
        r > 0 ? i - grid.columns : -1,
        r < grid.rows - 1 ? i + grid.columns : -1,
      ];
      for (const n of next) {
        if (n >= 0 && uncovered[n] && !seen[n]) {
          seen[n] = 1;
          stack.push(n);
        }
      }
    }
    areas.push(area);
  }
  return areas.sort((a, b) => b.length - a.length);
}

/** Green (low error) through amber to red (high), for a value in [0,1]. */
export function errorColour(t: number): string {
  const u = Math.min(1, Math.max(0, t));
  const hue = 140 - 140 * u;
  return `hsl(${hue.toFixed(0)} 70% 45%)`;
}
