import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BiasMapData, buildBiasGrids } from '../../../src/models/positioning/bias-map.js';
import { encodeNoiseScaled, type FeatureSpec } from '../../../src/models/positioning/features.js';
import { coverageRadius } from '../../../src/models/positioning/fix.js';
import { pointInPolygon } from '../../../src/models/positioning/geometry.js';
import {
  type KnnModel,
  knnCovariance,
  knnFromDistances,
  predictKnn,
  smallestK,
  sortedOrder,
  weightedDistances,
} from '../../../src/models/positioning/knn.js';
import { type Cov2, chol2 } from '../../../src/models/positioning/linalg2.js';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
  solveMultilateration,
} from '../../../src/models/positioning/multilateration.js';
import {
  costAt,
  evaluateAt,
  evaluatePlain,
  fastCostAt,
} from '../../../src/models/positioning/multilateration-cost.js';
import {
  bestSeparatedCells,
  searchBox,
  startPoints,
} from '../../../src/models/positioning/multilateration-start-grid.js';
import {
  TermPool,
  termsFromTemplates,
  termTemplates,
} from '../../../src/models/positioning/multilateration-templates.js';
import { buildTerms, priorTerms } from '../../../src/models/positioning/multilateration-terms.js';
import { NORMALS } from '../../../src/models/positioning/quasi-random.js';
import type { AnchorRanging } from '../../../src/models/positioning/ranging.js';
import { insidePolygon, polygonEdges, roomProbabilities } from '../../../src/models/positioning/rooms.js';
import { parseSite, type Site } from '../../../src/models/positioning/site.js';
import { Rng } from '../../../src/sim/prng.js';

// The Positioner's fast paths (lookup tables, precomputed start grids, partial selection, tabulated radius) must
// give the answers of the plain computations they replace. Each is checked here against that plain computation.

describe('fast paths give the plain computations’ answers', () => {
  it('room probabilities through the lookup grid equal the exact polygon test at every sample point', () => {
    // Rooms with shared walls, a diagonal edge, a concave room, and a gap (no room) between them.
    const parsed = parseSite({
      bounds: { minX: 0, minY: 0, maxX: 10, maxY: 8 },
      anchors: [{ id: 'a', x: 0, y: 0 }],
      rooms: [
        {
          id: 'living',
          polygon: [
            [0, 0],
            [4, 0],
            [4, 4],
            [0, 4],
          ],
        },
        {
          id: 'bed',
          polygon: [
            [4, 0],
            [7, 0],
            [7, 3],
            [5, 4],
            [4, 4],
          ],
        },
        {
          id: 'ell',
          polygon: [
            [0, 4],
            [6, 4],
            [6, 8],
            [3, 8],
            [3, 6],
            [0, 6],
          ],
        },
        {
          id: 'hall',
          polygon: [
            [7.5, 0],
            [10, 0],
            [10, 8],
            [7.5, 8],
          ],
        },
      ],
    });
    if (!parsed.ok) throw new Error(parsed.error);
    const site: Site = parsed.site;
    const reference = (x: number, y: number, cov: Cov2) => {
      const [l11, l21, l22] = chol2(cov);
      const counts = new Map<string, number>();
      let none = 0;
      let inBounds = 0;
      for (const [z1, z2] of NORMALS) {
        const p = { x: x + l11 * z1, y: y + l21 * z1 + l22 * z2 };
        const b = site.bounds;
        if (p.x < b.minX || p.x > b.maxX || p.y < b.minY || p.y > b.maxY) continue;
        inBounds++;
        const room = site.rooms.find((r) => pointInPolygon(p, r.polygon));
        if (room) counts.set(room.id, (counts.get(room.id) ?? 0) + 1);
        else none++;
      }
      const rooms = [...counts].map(([room, c]) => ({ room, probability: c / inBounds }));
      rooms.sort((p, q) => q.probability - p.probability);
      return { rooms, none: none / inBounds };
    };
    fc.assert(
      fc.property(
        fc.double({ min: 0.2, max: 9.8, noNaN: true }),
        fc.double({ min: 0.2, max: 7.8, noNaN: true }),
        fc.double({ min: 0.0005, max: 4, noNaN: true }),
        fc.double({ min: 0.0005, max: 4, noNaN: true }),
        fc.double({ min: -0.95, max: 0.95, noNaN: true }),
        (x, y, vx, vy, rho) => {
          const cov: Cov2 = [vx, rho * Math.sqrt(vx * vy), vy];
          expect(roomProbabilities(site, x, y, cov)).toEqual(reference(x, y, cov));
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    // Points exactly on shared walls and corners (the first declared room wins).
    for (const [x, y] of [
      [4, 2],
      [4, 4],
      [6, 3.5],
      [3, 6],
      [7.5, 4],
    ] as const) {
      expect(roomProbabilities(site, x, y, [1e-9, 0, 1e-9])).toEqual(reference(x, y, [1e-9, 0, 1e-9]));
    }
  });

  it('the point-in-polygon test on precomputed edge tables equals pointInPolygon, on edges and vertices too', () => {
    const rng = new Rng(17);
    const polygons = [
      // Concave, with a diagonal edge, a degenerate one (two points) and a triangle with a long thin edge.
      [
        { x: 0, y: 0 },
        { x: 6, y: 0 },
        { x: 6, y: 8 },
        { x: 3, y: 8 },
        { x: 3, y: 6 },
        { x: 0, y: 6 },
      ],
      [
        { x: 4, y: 0 },
        { x: 7, y: 0 },
        { x: 7, y: 3 },
        { x: 5, y: 4 },
        { x: 4, y: 4 },
      ],
      [
        { x: 1, y: 1 },
        { x: 2, y: 2 },
      ],
      [
        { x: 0, y: 0 },
        { x: 100, y: 0.5 },
        { x: 0, y: 1 },
      ],
      // Edges shorter than 1 m, one diagonal (the tolerance is then 1e-9 m, not 1e-9 × length).
      [
        { x: 0.2, y: 0.2 },
        { x: 0.5, y: 0.6 },
        { x: 0.2, y: 0.6 },
      ],
    ];
    for (const polygon of polygons) {
      const edges = polygonEdges(polygon);
      const points: Array<{ x: number; y: number }> = [];
      for (let i = 0; i < 2000; i++) points.push({ x: rng.uniform(-2, 102), y: rng.uniform(-2, 10) });
      // On the vertices, along the edges, and a hair off them (inside the 1e-9 tolerance and outside it).
      for (let i = 0; i < polygon.length; i++) {
        const a = polygon[i]!;
        const b = polygon[(i + 1) % polygon.length]!;
        for (const u of [0, 0.25, 0.5, 1]) {
          const x = a.x + u * (b.x - a.x);
          const y = a.y + u * (b.y - a.y);
          for (const off of [0, 5e-10, -5e-10, 2e-9, -2e-9])
            points.push({ x: x + off, y }, { x, y: y + off });
        }
      }
      for (const p of points) expect(insidePolygon(edges, p.x, p.y)).toBe(pointInPolygon(p, polygon));
    }
  });

  it('the tabulated 95 % radius equals the bisection of the Gaussian mass to 1e-9', () => {
    // The plain computation: bisection on the angular integral (48-point trapezoid), in the bracket fix.ts used
    // before the table (for very thin ellipses the trapezoid never reaches p and both answers are its top).
    const bisect = (cov: Cov2, p: number) => {
      const tr = cov[0] + cov[2];
      const r = Math.sqrt(((cov[0] - cov[2]) / 2) ** 2 + cov[1] ** 2);
      const l1 = Math.max(tr / 2 + r, 1e-12);
      const l2 = Math.max(tr / 2 - r, 1e-12);
      const mass = (rad: number) => {
        let s = 0;
        for (let i = 0; i < 48; i++) {
          const phi = (Math.PI * 2 * (i + 0.5)) / 48;
          const a = Math.cos(phi) ** 2 / l1 + Math.sin(phi) ** 2 / l2;
          s += (1 - Math.exp((-a * rad * rad) / 2)) / a;
        }
        return s / 48 / Math.sqrt(l1 * l2);
      };
      const q = Math.sqrt(-2 * Math.log(1 - p));
      let lo = Math.sqrt(l2) * q * 0.999;
      let hi = Math.sqrt(l1) * q * 1.001;
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (mass(mid) < p) lo = mid;
        else hi = mid;
      }
      return (lo + hi) / 2;
    };
    const rng = new Rng(3);
    for (let i = 0; i < 300; i++) {
      const a = Math.exp(rng.uniform(-6, 6));
      const b = Math.exp(rng.uniform(-6, 6));
      const c = rng.uniform(-0.99, 0.99) * Math.sqrt(a * b);
      for (const p of [0.95, 0.5]) {
        const want = bisect([a, c, b], p);
        expect(Math.abs(coverageRadius([a, c, b], p) - want) / want).toBeLessThan(1e-9);
      }
    }
  });

  it('partial selection of the k nearest equals the first k of the stable sort, ties by index', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (values, k) => {
          const d2 = Float64Array.from(values, (v) => v / 4);
          expect(Array.from(smallestK(d2, k))).toEqual(Array.from(sortedOrder(d2)).slice(0, k));
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('picking the separated start cells one at a time equals walking the full stable sort', () => {
    // The replaced code: sort every cell by cost (stable), keep each one farther than minSep from those kept.
    const reference = (
      costs: Float64Array,
      gx: Float64Array,
      gy: Float64Array,
      minSep: number,
      want: number,
    ) => {
      const order = Array.from({ length: costs.length }, (_, g) => g).sort((a, b) => costs[a]! - costs[b]!);
      const starts: Array<{ x: number; y: number }> = [];
      for (const g of order) {
        if (starts.length >= want) break;
        const cx = gx[g]!;
        const cy = gy[g]!;
        if (starts.every((p) => Math.hypot(p.x - cx, p.y - cy) > minSep)) starts.push({ x: cx, y: cy });
      }
      return starts;
    };
    fc.assert(
      fc.property(
        // Few distinct values (ties), infinities (an overflowing Cauchy product) and the odd NaN.
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 6 }),
            fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
          ),
          { minLength: 4, maxLength: 80 },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        (values, want, minSep) => {
          const costs = Float64Array.from(values);
          const side = Math.ceil(Math.sqrt(costs.length));
          const gx = Float64Array.from(costs, (_, g) => Math.floor(g / side) + 0.5);
          const gy = Float64Array.from(costs, (_, g) => (g % side) + 0.5);
          expect(bestSeparatedCells(costs, gx, gy, minSep, want)).toEqual(
            reference(costs, gx, gy, minSep, want),
          );
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });

  it('a bias grid and its local-σ grid read in one pass equal two separate reads', () => {
    const rng = new Rng(9);
    const data: BiasMapData = {
      bandwidthM: 1.2,
      shrinkage: 0.5,
      anchors: ['a'],
      points: Array.from({ length: 20 }, () => ({
        x: rng.uniform(0, 8),
        y: rng.uniform(0, 6),
        range: [rng.gaussian(0, 0.5)],
        rssi: [rng.gaussian(0, 3)],
        rangeSq: [rng.uniform(0.1, 1)],
        rssiSq: [rng.uniform(4, 30)],
      })),
      sigma: { range: [0.6], rssi: [4] },
    };
    const grids = buildBiasGrids(data, { minX: -1, minY: -1, maxX: 9, maxY: 7 }, true);
    // Another box: a grid of other geometry takes the two-read path.
    const other = buildBiasGrids(data, { minX: -2, minY: -1.5, maxX: 9, maxY: 7.3 }, true);
    const pair = new Float64Array(6);
    const one = new Float64Array(3);
    const two = new Float64Array(3);
    for (const [bias, ls] of [
      [grids.get('a|rssi')!, grids.get('a|rssi|ls')!],
      [grids.get('a|range')!, grids.get('a|range|ls')!],
      [grids.get('a|rssi')!, other.get('a|rssi|ls')!],
    ] as const) {
      for (let i = 0; i < 300; i++) {
        // Beyond the box too: the reads clamp to its edge.
        const x = rng.uniform(-3, 11);
        const y = rng.uniform(-3, 9);
        bias.pairInto(ls, x, y, pair);
        bias.atInto(x, y, one);
        ls.atInto(x, y, two);
        expect(Array.from(pair)).toEqual([...one, ...two]);
      }
    }
  });

  it('the live kNN (reused buffers, no neighbour pairs) equals knnFromDistances, floors included', () => {
    const rng = new Rng(21);
    const anchors = ['a', 'b', 'c', 'd'];
    const spec: FeatureSpec = {
      anchors,
      useRssi: [true, true, true, true],
      useRange: [true, false, true, false],
      rssiFill: [-95, -95, -95, -95],
      rangeFill: [20, 20, 20, 20],
      rssiMean: [-70, -70, -70, -70],
      rssiScale: [10, 10, 10, 10],
      rangeMean: [5, 5, 5, 5],
      rangeScale: [3, 3, 3, 3],
      rssiNoise: [4, 4.5, 5, 3.5],
      rangeNoise: [0.8, 0.8, 0.8, 0.8],
    };
    for (const kernel of ['uniform', 'inverse', 'inverse-square'] as const) {
      // Two sizes of database in turn: the reused distance buffer must follow the model's size.
      for (const size of [60, 25]) {
        const points = Array.from({ length: size }, () => ({
          x: rng.uniform(0, 10),
          y: rng.uniform(0, 8),
          ...(rng.uniform(0, 1) < 0.8 ? { floor: rng.uniform(0, 1) < 0.5 ? 0 : 1 } : {}),
          rssi: anchors.map(() => rng.uniform(-25, -10)),
          range: anchors.map(() => rng.uniform(0, 12)),
        }));
        const model: KnnModel = {
          spec,
          points,
          params: { k: 7, rssiWeight: 1, rangeWeight: 0.6, kernel },
          covScale: 1.7,
          floorVarM2: 0.2,
        };
        for (let i = 0; i < 20; i++) {
          const obs = anchors
            .filter(() => rng.uniform(0, 1) < 0.85)
            .map((anchorId) => ({ anchorId, rssi: rng.uniform(-95, -45), range: rng.uniform(0, 12) }));
          const live = predictKnn(model, obs);
          if (obs.length === 0) {
            expect(live).toBeNull();
            continue;
          }
          const q = encodeNoiseScaled(spec, obs);
          const d2 = weightedDistances(points, q, 1, 0.6);
          const ref = knnFromDistances(points, d2, 7, kernel, smallestK(d2, 7));
          const c = knnCovariance(ref.scatter, 0.2);
          expect(live!.fix).toEqual({
            x: ref.x,
            y: ref.y,
            cov: [c[0] * 1.7, c[1] * 1.7, c[2] * 1.7],
            model: 'knn',
            anchors: q.heard,
          });
          const floors = new Map<number, number>();
          let sw = 0;
          for (const [j, w] of ref.weights) {
            const f = points[j]!.floor;
            if (f === undefined) continue;
            floors.set(f, (floors.get(f) ?? 0) + w);
            sw += w;
          }
          for (const [f, w] of floors) floors.set(f, w / sw);
          expect(live!.floors).toEqual(floors.size > 0 ? floors : undefined);
        }
      }
    }
  });

  it('multilateration from model templates (precomputed start grid) equals the plain terms and grid', () => {
    const bounds = { minX: 0, minY: 0, maxX: 12, maxY: 9 };
    const anchors = new Map([
      ['a', { x: 0.5, y: 0.5, z: 2.2 }],
      ['b', { x: 11, y: 1 }],
      ['c', { x: 11.5, y: 8.5, z: 1.5 }],
      ['d', { x: 1, y: 8 }],
      ['e', { x: 6, y: 4 }],
    ]);
    const ranging = new Map<string, AnchorRanging>(
      [...anchors.keys()].map((id, i) => [
        id,
        {
          anchorId: id,
          rssi: { p0: -40 - i, exponent: 2.4 + 0.2 * i, sigmaDb: 4 + i / 2, n: 50 },
          rtt: i % 2 === 0 ? { offsetM: 1.5, scale: 1.05, sigmaM: 0.6, informative: true, n: 50 } : null,
        },
      ]),
    );
    const rng = new Rng(5);
    // A bias map with a local σ: residuals at 30 walk points.
    const biasMap: BiasMapData = {
      bandwidthM: 1.5,
      shrinkage: 0.5,
      anchors: [...anchors.keys()],
      points: Array.from({ length: 30 }, () => ({
        x: rng.uniform(0, 12),
        y: rng.uniform(0, 9),
        range: [...anchors.keys()].map(() => rng.gaussian(0, 0.5)),
        rssi: [...anchors.keys()].map(() => rng.gaussian(0, 3)),
        rangeSq: [...anchors.keys()].map(() => rng.uniform(0.1, 1)),
        rssiSq: [...anchors.keys()].map(() => rng.uniform(4, 30)),
      })),
      sigma: { range: [0.6, null, 0.6, null, 0.6], rssi: [4, 4.5, 5, 5.5, 6] },
    };
    for (const loss of ['huber', 'cauchy', 'l2'] as const) {
      const params: MultilaterationParams = { ...DEFAULT_MULTILATERATION, loss, deviceHeight: 1, marginM: 1 };
      const grids = buildBiasGrids(biasMap, searchBox(bounds, params.marginM), true);
      const otherGrids = buildBiasGrids(biasMap, searchBox(bounds, params.marginM + 0.7), true);
      const templates = termTemplates(anchors, ranging, params, bounds, grids);
      const pool = new TermPool();
      for (let i = 0; i < 40; i++) {
        const p = { x: rng.uniform(0, 12), y: rng.uniform(0, 9) };
        const observations = [...anchors].map(([anchorId, a]) => ({
          anchorId,
          rssi: -45 - 25 * Math.log10(Math.hypot(p.x - a.x, p.y - a.y) + 0.5) + rng.gaussian(0, 4),
          range: 1.5 + 1.05 * Math.hypot(p.x - a.x, p.y - a.y) + rng.gaussian(0, 0.7),
        }));
        const plain = buildTerms(observations, anchors, ranging, params, grids);
        const fast = termsFromTemplates(observations, templates);
        expect(fast.map((t) => [t.anchor, t.kind, t.value])).toEqual(
          plain.map((t) => [t.anchor, t.kind, t.value]),
        );
        expect(fast.every((t) => t.table !== undefined)).toBe(true);
        // The live path's reused terms: the same terms, also for an anchor listed twice (then two distinct terms).
        const twice = [...observations, { ...observations[2]!, rssi: observations[2]!.rssi + 3 }];
        for (const obs of [observations, twice, observations]) {
          const pooled = pool.build(obs, templates);
          expect(pooled).toEqual(termsFromTemplates(obs, templates));
          expect(new Set(pooled).size).toBe(pooled.length);
        }
        const box = searchBox(bounds, params.marginM);
        expect(startPoints(fast, box, params)).toEqual(startPoints(plain, box, params));
        // The solver's inlined evaluation (and the posterior's cost-only one) equals residual() + RhoSum term by term,
        // bit for bit, with a prior's
        // linear terms, a local-σ grid of another geometry than its bias grid, and points beyond the box.
        const mixed = [
          // Grids of another geometry in the middle (the shared cell must be recomputed for them and after them).
          ...fast.map((t, j) =>
            j === 1 && t.logScale
              ? { ...t, logScale: otherGrids.get(`${t.anchor}|rssi|ls`) }
              : j === 3 && t.bias
                ? { ...t, bias: otherGrids.get(`${t.anchor}|${t.kind === 0 ? 'range' : 'rssi'}`) }
                : t,
          ),
          ...priorTerms({ x: rng.uniform(0, 12), y: rng.uniform(0, 9) }, [
            rng.uniform(0.1, 4),
            0.3,
            rng.uniform(0.1, 4),
          ]),
        ];
        for (let s = 0; s < 5; s++) {
          const x = rng.uniform(-3, 15);
          const y = rng.uniform(-3, 12);
          expect(evaluateAt(mixed, x, y, loss, params.k)).toEqual(evaluatePlain(mixed, x, y, loss, params.k));
          // The posterior's cost-only loop: the same value as the plain cost, bit for bit.
          expect(fastCostAt(mixed, x, y, loss, params.k)).toBe(costAt(mixed, x, y, loss, params.k));
        }
        expect(solveMultilateration(fast, bounds, params)).toEqual(
          solveMultilateration(plain, bounds, params),
        );
      }
    }
  });
});
