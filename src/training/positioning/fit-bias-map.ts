import type { BiasMapData } from '../../models/positioning/bias-map.js';
import { type AnchorRanging, correctRange, predictRssi } from '../../models/positioning/ranging.js';
import type { Site } from '../../models/positioning/site.js';
import { walkDistance } from './fit-ranging.js';
import type { CalibrationSample } from './samples.js';

/** Mean residual (measurement − fitted model) per reference point, per anchor and channel: the bias map's data. */
export function fitBiasMap(
  samples: readonly CalibrationSample[],
  site: Site,
  ranging: readonly AnchorRanging[],
  options: { deviceHeight: number; bandwidthM: number; shrinkage?: number },
): BiasMapData {
  const rmap = new Map(ranging.map((r) => [r.anchorId, r]));
  const anchors = site.anchors.filter((a) => rmap.has(a.id));
  const index = new Map(anchors.map((a, i) => [a.id, i]));
  const acc = new Map<
    string,
    { x: number; y: number; rs: number[]; rn: number[]; gs: number[]; gn: number[] }
  >();
  for (const s of samples) {
    let p = acc.get(s.pointKey);
    if (!p) {
      const z = () => new Array<number>(anchors.length).fill(0);
      p = { x: s.x, y: s.y, rs: z(), rn: z(), gs: z(), gn: z() };
      acc.set(s.pointKey, p);
    }
    for (const o of s.observations) {
      const i = index.get(o.anchorId);
      if (i === undefined) continue;
      const r = rmap.get(o.anchorId)!;
      const d = walkDistance(s, anchors[i]!, options.deviceHeight);
      if (o.range !== undefined && r.rtt?.informative) {
        p.gs[i]! += correctRange(r.rtt, o.range) - d;
        p.gn[i]! += 1;
      }
      if (o.rssi !== undefined && r.rssi) {
        p.rs[i]! += o.rssi - predictRssi(r.rssi, d);
        p.rn[i]! += 1;
      }
    }
  }
  return {
    bandwidthM: options.bandwidthM,
    shrinkage: options.shrinkage ?? 0.3,
    anchors: anchors.map((a) => a.id),
    points: [...acc.values()].map((p) => ({
      x: p.x,
      y: p.y,
      range: p.gs.map((v, i) => (p.gn[i]! > 0 ? v / p.gn[i]! : null)),
      rssi: p.rs.map((v, i) => (p.rn[i]! > 0 ? v / p.rn[i]! : null)),
    })),
  };
}
