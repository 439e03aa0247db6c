import type { Site } from '../sources/sim-adapter.js';

/** Which rooms and grid cells of the site a walk has covered so far, with a small ASCII map. */
export class Coverage {
  readonly cellM: number;
  private readonly cols: number;
  private readonly rows: number;
  private readonly covered = new Set<number>();
  private readonly roomsCovered = new Set<string>();
  private readonly inside: boolean[];
  private points = 0;

  /**
   * @param roomAt the room containing a point (undefined outside every room)
   * @param maxColumns width of the ASCII map; the cell size is chosen so the site fits. @defaultValue 40
   */
  constructor(
    private readonly site: Site,
    private readonly roomAt: (p: { x: number; y: number }) => string | undefined,
    maxColumns = 40,
  ) {
    const { minX, minY, maxX, maxY } = site.bounds;
    const width = maxX - minX;
    const height = maxY - minY;
    // 1 m cells unless the site is too wide for the map; rounded up to a tidy size.
    const raw = Math.max(1, width / maxColumns, height / (maxColumns / 2));
    this.cellM = raw <= 1 ? 1 : Math.ceil(raw * 2) / 2;
    this.cols = Math.max(1, Math.ceil(width / this.cellM));
    this.rows = Math.max(1, Math.ceil(height / this.cellM));
    this.inside = [];
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < this.cols; c++) {
        const centre = { x: minX + (c + 0.5) * this.cellM, y: minY + (r + 0.5) * this.cellM };
        this.inside.push(site.rooms.length === 0 || roomAt(centre) !== undefined);
      }
    }
  }

  /** Records a measured point; returns its room (from the site when the point did not say). */
  add(p: { x: number; y: number; room?: string | undefined }): string | undefined {
    this.points++;
    const room = p.room ?? this.roomAt(p);
    if (room !== undefined) this.roomsCovered.add(room);
    const cell = this.cellOf(p);
    if (cell !== undefined) this.covered.add(cell);
    return room;
  }

  summary(): {
    points: number;
    rooms: { covered: string[]; missing: string[] };
    cells: { covered: number; total: number };
  } {
    const all = this.site.rooms.map((r) => r.id);
    return {
      points: this.points,
      rooms: {
        covered: all.filter((r) => this.roomsCovered.has(r)),
        missing: all.filter((r) => !this.roomsCovered.has(r)),
      },
      cells: { covered: this.covered.size, total: this.inside.filter(Boolean).length },
    };
  }

  /** One line: `rooms 2/5 (missing: office, bedroom) · cells 7/80 (9 %) · 7 points`. */
  line(): string {
    const s = this.summary();
    const rooms =
      this.site.rooms.length === 0
        ? ''
        : `rooms ${s.rooms.covered.length}/${this.site.rooms.length}${
            s.rooms.missing.length > 0 ? ` (missing: ${s.rooms.missing.join(', ')})` : ''
          } · `;
    const pct = s.cells.total === 0 ? 0 : Math.round((100 * s.cells.covered) / s.cells.total);
    return `${rooms}cells ${s.cells.covered}/${s.cells.total} (${pct} %) of ${this.cellM} m · ${s.points} points`;
  }

  /**
   * The site as text, north (max y) up: `#` covered cell, `.` cell still to walk, ` ` outside the rooms, `A` an
   * anchor, `@` the last point.
   */
  map(last?: { x: number; y: number }): string {
    const grid: string[][] = [];
    for (let r = 0; r < this.rows; r++) {
      const row: string[] = [];
      for (let c = 0; c < this.cols; c++) {
        const i = r * this.cols + c;
        row.push(this.covered.has(i) ? '#' : this.inside[i] ? '.' : ' ');
      }
      grid.push(row);
    }
    for (const a of this.site.anchors) {
      const cell = this.cellOf(a);
      if (cell !== undefined) grid[Math.floor(cell / this.cols)]![cell % this.cols] = 'A';
    }
    if (last !== undefined) {
      const cell = this.cellOf(last);
      if (cell !== undefined) grid[Math.floor(cell / this.cols)]![cell % this.cols] = '@';
    }
    const border = `+${'-'.repeat(this.cols)}+`;
    return [border, ...grid.reverse().map((row) => `|${row.join('')}|`), border].join('\n');
  }

  private cellOf(p: { x: number; y: number }): number | undefined {
    const { minX, minY } = this.site.bounds;
    const c = Math.floor((p.x - minX) / this.cellM);
    const r = Math.floor((p.y - minY) / this.cellM);
    if (c < 0 || r < 0 || c >= this.cols || r >= this.rows) {
      // On the max edge: count it in the last cell.
      const cc = Math.min(this.cols - 1, Math.max(0, c));
      const rr = Math.min(this.rows - 1, Math.max(0, r));
      const onEdge = Math.abs(cc - c) <= 1 && Math.abs(rr - r) <= 1;
      return onEdge ? rr * this.cols + cc : undefined;
    }
    return r * this.cols + c;
  }
}
