import type { Bounds } from './multilateration-params.js';

// Location-dependent ranging bias ("radio map of residuals"). The log-distance and linear-range models are right
// on average but walls and reflections make each anchor read long or short in some places. From the walk we know
// the residual (measured − model) at every reference point; a Gaussian-kernel (Nadaraya–Watson) average of those
// residuals, shrunk toward 0 where few points are near, predicts the bias anywhere. Multilateration then solves
// with model + bias — physics between the walk's points, the walk's own evidence near them.

export interface BiasMapData {
  /** Kernel bandwidth, m. */
  bandwidthM: number;
  /** Pseudo-weight of the zero prior (in kernel-weight units: 1 = one point at distance 0). */
  shrinkage: number;
  anchors: string[];
  /** Per reference point, per anchor: mean residual of the corrected range (m) and of the RSSI (dB); null = not heard. */
  points: Array<{
    x: number;
    y: number;
    range: Array<number | null>;
    rssi: Array<number | null>;
    /**
     * Expected squared error of one new reading there after the bias correction: the leave-one-point-out error of
     * the map at the point squared plus the point's own reading variance (m², dB²). Feeds the local σ.
     */
    rangeSq?: Array<number | null>;
    rssiSq?: Array<number | null>;
  }>;
  /** The anchors' global σ (corrected range m, RSSI dB): the local σ is shrunk toward it. */
  sigma?: { range: Array<number | null>; rssi: Array<number | null> };
}

/** Bias of one anchor and channel, on a regular grid with bilinear interpolation (value and gradient). */
export class BiasGrid {
  // Public (read-only): GridCell reads the geometry to locate a point and to tell grids of one geometry apart.
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly cell: number,
    readonly nx: number,
    readonly ny: number,
    readonly v: Float64Array,
  ) {}

  /** [bias, ∂bias/∂x, ∂bias/∂y]. */
  at(x: number, y: number): [number, number, number] {
    const out = new Float64Array(3);
    this.atInto(x, y, out);
    return [out[0]!, out[1]!, out[2]!];
  }

  /** `at` without allocating: writes [bias, ∂bias/∂x, ∂bias/∂y] into out (the solver's hot loop). */
  atInto(x: number, y: number, out: Float64Array): void {
    AT_CELL.locate(this, x, y);
    this.sampleInto(AT_CELL, out, 0);
  }

  /**
   * `atInto` of this grid into out[0..2] and of `other` into out[3..5]. The bias map's grids of one anchor and
   * channel share their geometry, so the cell and weights are found once (the same arithmetic as two `atInto`).
   */
  pairInto(other: BiasGrid, x: number, y: number, out: Float64Array): void {
    AT_CELL.locate(this, x, y);
    this.sampleInto(AT_CELL, out, 0);
    if (!AT_CELL.fits(other)) AT_CELL.locate(other, x, y);
    other.sampleInto(AT_CELL, out, 3);
  }

  /** The bilinear value alone at a located cell (`cell.fits(this)`): `sampleInto`'s out[o], the same arithmetic. */
  valueAt(cell: GridCell): number {
    const v = this.v;
    return (
      cell.c00 * v[cell.k00]! +
      cell.c10 * v[cell.k00 + 1]! +
      cell.c01 * v[cell.k01]! +
      cell.c11 * v[cell.k01 + 1]!
    );
  }

  /** Bilinear value and gradient at a located cell (`cell.fits(this)`) into out[o..o+2]. */
  sampleInto(cell: GridCell, out: Float64Array, o: number): void {
    const v = this.v;
    const u = cell.u;
    const w = cell.w;
    const b00 = v[cell.k00]!;
    const b10 = v[cell.k00 + 1]!;
    const b01 = v[cell.k01]!;
    const b11 = v[cell.k01 + 1]!;
    out[o] = cell.c00 * b00 + cell.c10 * b10 + cell.c01 * b01 + cell.c11 * b11;
    out[o + 1] = ((1 - w) * (b10 - b00) + w * (b11 - b01)) / this.cell;
    out[o + 2] = ((1 - u) * (b01 - b00) + u * (b11 - b10)) / this.cell;
  }
}

/**
 * Where a point falls in a grid geometry: the cell's corner indices and bilinear weights. Every grid of that geometry
 * (an anchor's bias and local-σ grids, all anchors' grids of one map) can be sampled at it without locating again.
 */
export class GridCell {
  k00 = 0;
  k01 = 0;
  u = 0;
  w = 0;
  // The corner weights as bilinear interpolation groups them ((1 − u)·(1 − w) first, then · b00, …).
  c00 = 0;
  c10 = 0;
  c01 = 0;
  c11 = 0;
  private x0 = Number.NaN;
  private y0 = Number.NaN;
  private cell = Number.NaN;
  private nx = -1;
  private ny = -1;

  /** Forgets the geometry: the next `fits` is false (a new point). */
  reset(): void {
    this.nx = -1;
  }

  /** The grid has the geometry this cell was located in. */
  fits(g: BiasGrid): boolean {
    return (
      g.x0 === this.x0 && g.y0 === this.y0 && g.cell === this.cell && g.nx === this.nx && g.ny === this.ny
    );
  }

  locate(g: BiasGrid, x: number, y: number): void {
    const fx = Math.min(Math.max((x - g.x0) / g.cell, 0), g.nx - 1.000001);
    const fy = Math.min(Math.max((y - g.y0) / g.cell, 0), g.ny - 1.000001);
    const i = Math.floor(fx);
    const j = Math.floor(fy);
    const u = fx - i;
    const w = fy - j;
    this.u = u;
    this.w = w;
    this.c00 = (1 - u) * (1 - w);
    this.c10 = u * (1 - w);
    this.c01 = (1 - u) * w;
    this.c11 = u * w;
    this.k00 = j * g.nx + i;
    this.k01 = (j + 1) * g.nx + i;
    this.x0 = g.x0;
    this.y0 = g.y0;
    this.cell = g.cell;
    this.nx = g.nx;
    this.ny = g.ny;
  }
}

const AT_CELL = new GridCell();

const MAX_CELLS = 40_000;

/** Nadaraya–Watson estimate of the bias at (x, y) from the points' values (null = no data there). */
export function kernelBias(
  data: BiasMapData,
  values: ReadonlyArray<number | null>,
  x: number,
  y: number,
): number {
  const inv2h2 = 1 / (2 * data.bandwidthM * data.bandwidthM);
  let sw = data.shrinkage;
  let sv = 0;
  data.points.forEach((p, i) => {
    const v = values[i];
    if (v === null || v === undefined) return;
    const w = Math.exp(-((p.x - x) ** 2 + (p.y - y) ** 2) * inv2h2);
    sw += w;
    sv += w * v;
  });
  return sv / sw;
}

/**
 * Grids for every anchor and channel with data, covering the box. Keys: `${anchorId}|range` and `${anchorId}|rssi`
 * (the bias), and with `localSigma` `${anchorId}|range|ls` and `${anchorId}|rssi|ls`: log(σ_local/σ_global), the
 * local σ being the kernel average of the points' expected squared errors, shrunk toward σ_global.
 */
export function buildBiasGrids(data: BiasMapData, box: Bounds, localSigma = false): Map<string, BiasGrid> {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  let cell = data.bandwidthM / 3;
  while (Math.ceil(w / cell + 1) * Math.ceil(h / cell + 1) > MAX_CELLS) cell *= 1.25;
  const nx = Math.ceil(w / cell) + 1;
  const ny = Math.ceil(h / cell) + 1;
  const out = new Map<string, BiasGrid>();
  data.anchors.forEach((anchor, a) => {
    for (const channel of ['range', 'rssi'] as const) {
      const values = data.points.map((p) => p[channel][a] ?? null);
      if (values.every((v) => v === null)) continue;
      const v = new Float64Array(nx * ny);
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++)
          v[j * nx + i] = kernelBias(data, values, box.minX + i * cell, box.minY + j * cell);
      }
      out.set(`${anchor}|${channel}`, new BiasGrid(box.minX, box.minY, cell, nx, ny, v));
      const global = data.sigma?.[channel][a];
      const sq = data.points.map((p) => p[channel === 'range' ? 'rangeSq' : 'rssiSq']?.[a] ?? null);
      if (!localSigma || global === null || global === undefined || sq.every((q) => q === null)) continue;
      const ls = new Float64Array(nx * ny);
      const g2 = global * global;
      const inv2h2 = 1 / (2 * data.bandwidthM * data.bandwidthM);
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const x = box.minX + i * cell;
          const y = box.minY + j * cell;
          let sw = data.shrinkage;
          let sv = data.shrinkage * g2;
          data.points.forEach((p, k) => {
            const q = sq[k];
            if (q === null || q === undefined) return;
            const w = Math.exp(-((p.x - x) ** 2 + (p.y - y) ** 2) * inv2h2);
            sw += w;
            sv += w * q;
          });
          ls[j * nx + i] = 0.5 * Math.log(Math.max(sv / sw, 1e-4 * g2) / g2);
        }
      }
      out.set(`${anchor}|${channel}|ls`, new BiasGrid(box.minX, box.minY, cell, nx, ny, ls));
    }
  });
  return out;
}
