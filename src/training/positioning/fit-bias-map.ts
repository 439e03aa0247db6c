import { type BiasMapData, kernelBias } from '../../models/positioning/bias-map.js';
import { type AnchorRanging, correctRange, predictRssi } from '../../models/positioning/ranging.js';
import type { Site } from '../../models/positioning/site.js';
import { walkDistance } from './fit-ranging.js';
import type { CalibrationSample } from './samples.js';

interface PointSums {
  x: number;
  y: number;
  /** Per anchor: sums of RSSI residuals, of their squares, counts; the same for corrected ranges. */
  rs: number[];
  rq: number[];
  rn: number[];
  gs: number[];
  gq: number[];
  gn: number[];
}

/**
 * The bias map's data: per reference point, per anchor and channel, the mean residual (measurement − fitted model),
 * and the expected squared error of a new reading there after the correction (the map's leave-one-point-out error
 * at the point, squared, plus the point's own reading variance) for the local σ.
 */
export function fitBiasMap(
  samples: readonly CalibrationSample[],
  site: Site,
  ranging: readonly AnchorRanging[],
  options: { deviceHeight: number; bandwidthM: number; shrinkage?: number },
): BiasMapData {
  const rmap = new Map(ranging.map((r) => [r.anchorId, r]));
  const anchors = site.anchors.filter((a) => rmap.has(a.id));
  const index = new Map(anchors.map((a, i) => [a.id, i]));
  const acc = new Map<string, PointSums>();
  for (const s of samples) {
    let p = acc.get(s.pointKey);
    if (!p) {
      const z = () => new Array<number>(anchors.length).fill(0);
      p = { x: s.x, y: s.y, rs: z(), rq: z(), rn: z(), gs: z(), gq: z(), gn: z() };
      acc.set(s.pointKey, p);
    }
    for (const o of s.observations) {
      const i = index.get(o.anchorId);
      if (i === undefined) continue;
      const r = rmap.get(o.anchorId)!;
      const d = walkDistance(s, anchors[i]!, options.deviceHeight);
      if (o.range !== undefined && r.rtt?.informative) {
        const e = correctRange(r.rtt, o.range) - d;
        p.gs[i]! += e;
        p.gq[i]! += e * e;
        p.gn[i]! += 1;
      }
      if (o.rssi !== undefined && r.rssi) {
        const e = o.rssi - predictRssi(r.rssi, d);
        p.rs[i]! += e;
        p.rq[i]! += e * e;
        p.rn[i]! += 1;
      }
    }
  }
  const pts = [...acc.values()];
  const mean = (sums: number[], n: number[]) => sums.map((v, i) => (n[i]! > 0 ? v / n[i]! : null));
  const data: BiasMapData = {
    bandwidthM: options.bandwidthM,
    shrinkage: options.shrinkage ?? 0.3,
    anchors: anchors.map((a) => a.id),
    points: pts.map((p) => ({ x: p.x, y: p.y, range: mean(p.gs, p.gn), rssi: mean(p.rs, p.rn) })),
    sigma: {
      range: anchors.map((a) => {
        const r = rmap.get(a.id)!.rtt;
        return r?.informative ? r.sigmaM : null;
      }),
      rssi: anchors.map((a) => rmap.get(a.id)!.rssi?.sigmaDb ?? null),
    },
  };
  data.points.forEach((pt, k) => {
    const others: BiasMapData = { ...data, points: data.points.filter((_, j) => j !== k) };
    const p = pts[k]!;
    const expected = (channel: 'range' | 'rssi', squares: number[], counts: number[]) =>
      anchors.map((_, a) => {
        const m = pt[channel][a];
        if (m === null || m === undefined) return null;
        const n = counts[a]!;
        const within = n > 1 ? Math.max(squares[a]! / n - m * m, 0) : 0;
        const predicted = kernelBias(
          others,
          others.points.map((q) => q[channel][a] ?? null),
          pt.x,
          pt.y,
        );
        return (m - predicted) ** 2 + within;
      });
    pt.rangeSq = expected('range', p.gq, p.gn);
    pt.rssiSq = expected('rssi', p.rq, p.rn);
  });
  return data;
}
