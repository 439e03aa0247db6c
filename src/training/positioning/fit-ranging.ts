import {
  type AnchorRanging,
  fitRssiModel,
  fitRttModel,
  MIN_DISTANCE_M,
} from '../../models/positioning/ranging.js';
import type { Site } from '../../models/positioning/site.js';
import type { CalibrationSample } from './samples.js';

export interface RangingFitOptions {
  /** Device height during the walk, m (used with anchors that have a z). */
  deviceHeight: number;
  /** Pseudo-observations pulling each anchor's path loss toward the pooled fit of all anchors (default 10). */
  rssiPriorWeight?: number;
}

/** True distance from a walk point to an anchor, m (3-D when the anchor has a height). */
export function walkDistance(
  s: { x: number; y: number },
  a: { x: number; y: number; z?: number | undefined },
  deviceHeight: number,
): number {
  const dz = a.z === undefined ? 0 : a.z - deviceHeight;
  return Math.max(Math.sqrt((s.x - a.x) ** 2 + (s.y - a.y) ** 2 + dz * dz), MIN_DISTANCE_M);
}

/**
 * Fits every placed anchor's ranging from the walk's individual messages (so σ is the noise of one reading at an
 * unseen place, location-dependent bias included). RSSI per anchor is shrunk toward the pooled fit of all anchors,
 * which keeps anchors heard at few points sane; RTT is fitted per anchor (offsets differ per anchor).
 */
export function fitRanging(
  samples: readonly CalibrationSample[],
  site: Site,
  options: RangingFitOptions,
): AnchorRanging[] {
  const pairs = new Map<string, { dr: number[]; rssi: number[]; dg: number[]; range: number[] }>();
  for (const a of site.anchors) pairs.set(a.id, { dr: [], rssi: [], dg: [], range: [] });
  const anchors = new Map(site.anchors.map((a) => [a.id, a]));
  for (const s of samples) {
    for (const o of s.observations) {
      const a = anchors.get(o.anchorId);
      if (!a) continue;
      const p = pairs.get(a.id)!;
      const d = walkDistance(s, a, options.deviceHeight);
      if (o.rssi !== undefined) {
        p.dr.push(d);
        p.rssi.push(o.rssi);
      }
      if (o.range !== undefined) {
        p.dg.push(d);
        p.range.push(o.range);
      }
    }
  }
  const allD: number[] = [];
  const allR: number[] = [];
  for (const p of pairs.values()) {
    allD.push(...p.dr);
    allR.push(...p.rssi);
  }
  const pooled = fitRssiModel(allD, allR);
  const out: AnchorRanging[] = [];
  for (const a of site.anchors) {
    const p = pairs.get(a.id)!;
    const rssi = fitRssiModel(
      p.dr,
      p.rssi,
      pooled
        ? { prior: { p0: pooled.p0, exponent: pooled.exponent }, priorWeight: options.rssiPriorWeight ?? 10 }
        : {},
    );
    const rtt = fitRttModel(p.dg, p.range);
    if (rssi || rtt) out.push({ anchorId: a.id, rssi, rtt });
  }
  return out;
}
