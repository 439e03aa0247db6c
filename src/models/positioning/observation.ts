import type { AnchorReading } from '../contracts/positioning.js';
import { rttToRange } from './ranging.js';

/** What was measured of one anchor in one snapshot: RSSI in dBm and/or raw one-way range in metres. */
export interface Observation {
  anchorId: string;
  rssi?: number;
  /** c·(rtt − processingOffset)/2 in metres, before the per-anchor correction. */
  range?: number;
}

/** Groups readings by anchor, averaging repeated RSSI (dB) and range values. */
export function observationsFromReadings(readings: readonly AnchorReading[]): Observation[] {
  const acc = new Map<string, { rs: number; rn: number; gs: number; gn: number }>();
  for (const r of readings) {
    let a = acc.get(r.anchorId);
    if (!a) {
      a = { rs: 0, rn: 0, gs: 0, gn: 0 };
      acc.set(r.anchorId, a);
    }
    if (r.rssi !== undefined && Number.isFinite(r.rssi)) {
      a.rs += r.rssi;
      a.rn += 1;
    }
    if (r.rtt !== undefined && Number.isFinite(r.rtt)) {
      a.gs += rttToRange(r.rtt, r.processingOffset ?? 0);
      a.gn += 1;
    }
  }
  const out: Observation[] = [];
  for (const [anchorId, a] of acc) {
    if (a.rn === 0 && a.gn === 0) continue;
    const o: Observation = { anchorId };
    if (a.rn > 0) o.rssi = a.rs / a.rn;
    if (a.gn > 0) o.range = a.gs / a.gn;
    out.push(o);
  }
  return out;
}
