import { costAt } from './multilateration-cost.js';
import type { Bounds, MultilaterationParams } from './multilateration-params.js';
import type { Term, TermTable } from './multilateration-terms.js';
import { MIN_DISTANCE_M } from './ranging.js';
import type { RobustLoss } from './robust.js';

// Where the multilateration solver starts: the search box, the cost at every cell of a coarse grid over it (from
// the terms' precomputed tables when they fit the box), the best cells kept apart, and the weighted centroid.

/** The box the solver searches: the bounds enlarged by the margin. */
export function searchBox(bounds: Bounds, marginM: number): Bounds {
  return {
    minX: bounds.minX - marginM,
    minY: bounds.minY - marginM,
    maxX: bounds.maxX + marginM,
    maxY: bounds.maxY + marginM,
  };
}

// Start-grid coordinates per box and size (the same few boxes every fix).
const gridCache = new Map<string, { gx: Float64Array; gy: Float64Array }>();

/** Cell centres of the start grid, cell g = i·ny + j (column i, row j). */
function gridPoints(box: Bounds, nx: number, ny: number): { gx: Float64Array; gy: Float64Array } {
  // The last grid asked for, checked first: a model's fixes all use one box (no key string per fix).
  const last = lastGrid;
  if (
    last !== null &&
    last.minX === box.minX &&
    last.minY === box.minY &&
    last.maxX === box.maxX &&
    last.maxY === box.maxY &&
    last.nx === nx &&
    last.ny === ny
  ) {
    return last.grid;
  }
  const key = `${box.minX},${box.minY},${box.maxX},${box.maxY},${nx},${ny}`;
  let c = gridCache.get(key);
  if (!c) {
    const w = box.maxX - box.minX;
    const h = box.maxY - box.minY;
    c = { gx: new Float64Array(nx * ny), gy: new Float64Array(nx * ny) };
    for (let i = 0; i < nx; i++) {
      for (let j = 0; j < ny; j++) {
        c.gx[i * ny + j] = box.minX + ((i + 0.5) * w) / nx;
        c.gy[i * ny + j] = box.minY + ((j + 0.5) * h) / ny;
      }
    }
    if (gridCache.size > 64) gridCache.clear();
    gridCache.set(key, c);
  }
  lastGrid = { ...box, nx, ny, grid: c };
  return c;
}

let lastGrid: (Bounds & { nx: number; ny: number; grid: { gx: Float64Array; gy: Float64Array } }) | null =
  null;

/** Columns and rows of the start grid over a box. */
function gridDims(box: Bounds, gridPoints: number): { nx: number; ny: number } {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const nx = Math.max(2, Math.round(Math.sqrt((gridPoints * w) / h)));
  const ny = Math.max(2, Math.round(gridPoints / nx));
  return { nx, ny };
}

// Scratch for the bias maps' [value, ∂x, ∂y] while a table is filled (no allocation per cell).
const SCRATCH_B = new Float64Array(3);
const SCRATCH_L = new Float64Array(3);

/** A term's `TermTable` over the start grid of `box`: the cells of `gridPoints`, computed the same way. */
export function termTable(t: Omit<Term, 'value'>, box: Bounds, gridPoints: number): TermTable {
  const { nx, ny } = gridDims(box, gridPoints);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const n = nx * ny;
  const table: TermTable = {
    box: { ...box },
    nx,
    ny,
    pred: new Float64Array(n),
    bias: new Float64Array(n),
    sigma: new Float64Array(n),
    logScale: new Float64Array(n),
  };
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      const x = box.minX + ((i + 0.5) * w) / nx;
      const y = box.minY + ((j + 0.5) * h) / ny;
      const g = i * ny + j;
      const dx = x - t.ax;
      const dy = y - t.ay;
      const d = Math.max(Math.sqrt(dx * dx + dy * dy + t.dz2), MIN_DISTANCE_M);
      let b = 0;
      let ls = 0;
      if (t.bias) {
        t.bias.atInto(x, y, SCRATCH_B);
        b = SCRATCH_B[0]!;
      }
      if (t.logScale) {
        t.logScale.atInto(x, y, SCRATCH_L);
        ls = SCRATCH_L[0]!;
      }
      table.pred[g] = t.kind === 0 ? d : t.n10 * Math.log10(d);
      table.bias[g] = b;
      table.sigma[g] = t.sigma * Math.exp(ls);
      table.logScale[g] = ls;
    }
  }
  return table;
}

function tableFits(table: TermTable | undefined, box: Bounds, nx: number, ny: number): table is TermTable {
  return (
    table !== undefined &&
    table.nx === nx &&
    table.ny === ny &&
    table.box.minX === box.minX &&
    table.box.minY === box.minY &&
    table.box.maxX === box.maxX &&
    table.box.maxY === box.maxY
  );
}

/**
 * `costAt` at every start-grid point from the terms' tables (the same operations in the same order per point as
 * `costAt` and RhoSum, so the same values).
 */
function tableCosts(
  terms: readonly Term[],
  gx: Float64Array,
  gy: Float64Array,
  loss: RobustLoss,
  k: number,
): Float64Array {
  const n = gx.length;
  // Reused too: the caller ranks the cells and is done with their costs before the next fix.
  if (COSTS.length !== n) COSTS = new Float64Array(n);
  const out = COSTS;
  const cauchy = loss === 'cauchy';
  const huber = loss === 'huber';
  // Term by term over every cell (each table read in order), with per-cell accumulators: every cell still sums
  // its terms in the same order, so the values are the same as cell by cell.
  const sum = scratch(0, n);
  const product = scratch(1, n);
  const logProduct = scratch(2, n);
  const ls = scratch(3, n);
  for (let g = 0; g < n; g++) {
    sum[g] = 0;
    product[g] = 1;
    logProduct[g] = 0;
    ls[g] = 0;
  }
  const kk = 0.5 * k * k;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i]!;
    const kind = t.kind;
    const tb = kind === 2 ? undefined : t.table!;
    const value = kind === 1 ? t.value - t.p0 : t.value;
    for (let g = 0; g < n; g++) {
      let r: number;
      if (tb === undefined) r = t.value - (t.ax * gx[g]! + t.ay * gy[g]!);
      else {
        r =
          kind === 0
            ? (value - tb.pred[g]! - tb.bias[g]!) / tb.sigma[g]!
            : (value + tb.pred[g]! - tb.bias[g]!) / tb.sigma[g]!;
        ls[g] += tb.logScale[g]!;
      }
      if (cauchy) {
        const p = product[g]! * (1 + (r / k) * (r / k));
        if (p > 1e250) {
          logProduct[g] += Math.log(p);
          product[g] = 1;
        } else product[g] = p;
      } else if (huber) {
        const a = Math.abs(r);
        sum[g] += a <= k ? 0.5 * r * r : k * a - kk;
      } else sum[g] += 0.5 * r * r;
    }
  }
  for (let g = 0; g < n; g++) {
    let c = sum[g]!;
    if (cauchy) {
      const p = product[g]!;
      c = Number.isFinite(p) ? 0.5 * k * k * (logProduct[g]! + Math.log(p)) : Number.POSITIVE_INFINITY;
    }
    out[g] = c + ls[g]!;
  }
  return out;
}

// Per-cell accumulators and costs of tableCosts (reused: no allocation per fix).
const SCRATCH_CELLS: Float64Array[] = [];
let COSTS = new Float64Array(0);
function scratch(slot: number, n: number): Float64Array {
  let a = SCRATCH_CELLS[slot];
  if (!a || a.length < n) {
    a = new Float64Array(Math.max(n, 256));
    SCRATCH_CELLS[slot] = a;
  }
  return a;
}

/**
 * Up to `want` cells in ascending cost (ties by index: a stable sort's order), each skipped when within `minSep` of
 * one already kept. The cells come off a heap one at a time rather than all sorted: the starts are usually among
 * the first dozen of 64.
 */
export function bestSeparatedCells(
  costs: Float64Array,
  gx: Float64Array,
  gy: Float64Array,
  minSep: number,
  want: number,
): Array<{ x: number; y: number }> {
  const n = costs.length;
  const starts: Array<{ x: number; y: number }> = [];
  const keep = (g: number): boolean => {
    const cx = gx[g]!;
    const cy = gy[g]!;
    for (let s = 0; s < starts.length; s++) {
      if (!(Math.hypot(starts[s]!.x - cx, starts[s]!.y - cy) > minSep)) return starts.length >= want;
    }
    starts.push({ x: cx, y: cy });
    return starts.length >= want;
  };
  if (want <= 0) return starts;
  let nan = false;
  for (let g = 0; g < n; g++) if (Number.isNaN(costs[g]!)) nan = true;
  if (nan) {
    // (Never with finite measurements: the comparison below has no order for NaN.) The full sort, as it was.
    const order = Array.from({ length: n }, (_, g) => g).sort((a, b) => costs[a]! - costs[b]!);
    for (const g of order) if (keep(g)) break;
    return starts;
  }
  // A binary min-heap of the cells by (cost, index): built in O(n), popped until enough starts are kept.
  if (HEAP.length < n) HEAP = new Int32Array(n);
  const heap = HEAP;
  for (let g = 0; g < n; g++) heap[g] = g;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(heap, n, i, costs);
  for (let size = n; size > 0; ) {
    const best = heap[0]!;
    size--;
    heap[0] = heap[size]!;
    siftDown(heap, size, 0, costs);
    if (keep(best)) break;
  }
  return starts;
}

let HEAP = new Int32Array(256);

/** Cell a before cell b: lower cost, ties (±∞ included) by index. */
function before(costs: Float64Array, a: number, b: number): boolean {
  const ca = costs[a]!;
  const cb = costs[b]!;
  return ca < cb || (ca === cb && a < b);
}

function siftDown(heap: Int32Array, size: number, i: number, costs: Float64Array): void {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) return;
    const r = l + 1;
    const c = r < size && before(costs, heap[r]!, heap[l]!) ? r : l;
    if (!before(costs, heap[c]!, heap[i]!)) return;
    const tmp = heap[i]!;
    heap[i] = heap[c]!;
    heap[c] = tmp;
    i = c;
  }
}

/** Start points: the best cells of a coarse grid over the box, and the signal-weighted anchor centroid. */
export function startPoints(
  terms: readonly Term[],
  box: Bounds,
  params: MultilaterationParams,
): Array<{ x: number; y: number }> {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const { nx, ny } = gridDims(box, params.gridPoints);
  const tabled = terms.every((t) => t.kind === 2 || tableFits(t.table, box, nx, ny));
  const { gx, gy } = gridPoints(box, nx, ny);
  const n = nx * ny;
  const gc = tabled ? tableCosts(terms, gx, gy, params.loss, params.k) : new Float64Array(n);
  if (!tabled) for (let g = 0; g < n; g++) gc[g] = costAt(terms, gx[g]!, gy[g]!, params.loss, params.k);
  // The best cells, kept apart (non-maximum suppression): distinct basins, not three cells of the same one.
  const starts = bestSeparatedCells(gc, gx, gy, 1.5 * Math.hypot(w / nx, h / ny), Math.max(1, params.starts));
  // Centroid weighted by closeness (short corrected ranges, strong RSSI).
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (const t of terms) {
    if (t.kind === 2) continue;
    const d = t.kind === 0 ? Math.max(t.value, 0.5) : 10 ** ((t.p0 - t.value) / Math.max(t.n10, 1));
    const wt = 1 / (Math.max(d, 0.5) ** 2 * t.sigma);
    sx += wt * t.ax;
    sy += wt * t.ay;
    sw += wt;
  }
  if (sw > 0) starts.push({ x: sx / sw, y: sy / sw });
  return starts;
}
