import type { AnchorReading } from '../models/contracts/positioning.js';
import type { Point } from '../models/positioning/geometry.js';
import { roomAt, type Site } from '../models/positioning/site.js';
import type { PingCalibration } from '../protocol/index.js';
import type { Rng } from './prng.js';
import { type AnchorChannel, type RadioParams, sampleLink } from './radio.js';

export interface CalibrationWalkOptions {
  /** `grid`: points every `spacingM` inside the rooms (or the bounds); `random`: `points` uniform points. */
  layout?: 'grid' | 'random';
  /** Grid spacing, m (default 1). */
  spacingM?: number;
  /** Number of points for the random layout (default 60). */
  points?: number;
  /** Messages per point (default 3). */
  samplesPerPoint?: number;
  agentId?: string;
  /** Epoch ms of the first message (default 2025-01-01T00:00:00Z). */
  startTime?: number;
  /** ms between messages (default 1000). */
  intervalMs?: number;
  /** calibrationId prefix (default `sim`). */
  idPrefix?: string;
}

/** The points of a calibration walk: inside some room when the site has rooms, else inside the bounds. */
export function walkPoints(site: Site, rng: Rng, options: CalibrationWalkOptions = {}): Point[] {
  const { minX, minY, maxX, maxY } = site.bounds;
  const inside = (p: Point) => site.rooms.length === 0 || roomAt(site, p) !== undefined;
  const pts: Point[] = [];
  if ((options.layout ?? 'grid') === 'grid') {
    const s = options.spacingM ?? 1;
    for (let x = minX + s / 2; x < maxX; x += s) {
      for (let y = minY + s / 2; y < maxY; y += s) {
        const p = { x: Math.round(x * 1000) / 1000, y: Math.round(y * 1000) / 1000 };
        if (inside(p)) pts.push(p);
      }
    }
    return pts;
  }
  const n = options.points ?? 60;
  let guard = 0;
  while (pts.length < n && guard++ < n * 1000) {
    const p = { x: rng.uniform(minX, maxX), y: rng.uniform(minY, maxY) };
    if (inside(p)) pts.push({ x: Math.round(p.x * 1000) / 1000, y: Math.round(p.y * 1000) / 1000 });
  }
  return pts;
}

/** One noisy reading of every heard anchor from one point. */
export function measureAt(
  site: Site,
  radio: RadioParams,
  channels: ReadonlyMap<string, AnchorChannel>,
  p: Point,
  rng: Rng,
  t: number,
): AnchorReading[] {
  const out: AnchorReading[] = [];
  for (const [anchorId, ch] of channels) {
    const s = sampleLink(site, radio, ch, p.x, p.y, rng);
    if (s.rssi === undefined && s.rtt === undefined) continue;
    const r: AnchorReading = { anchorId, t };
    if (s.rssi !== undefined) r.rssi = s.rssi;
    if (s.rtt !== undefined) r.rtt = s.rtt;
    out.push(r);
  }
  return out;
}

/** A calibration walk as the agent would send it: `pingCalibration` messages at known points. */
export function simulateCalibrationWalk(
  site: Site,
  radio: RadioParams,
  channels: ReadonlyMap<string, AnchorChannel>,
  rng: Rng,
  options: CalibrationWalkOptions = {},
): PingCalibration[] {
  const agentId = options.agentId ?? 'sim-agent';
  const t0 = options.startTime ?? Date.UTC(2025, 0, 1);
  const dt = options.intervalMs ?? 1000;
  const per = options.samplesPerPoint ?? 3;
  const prefix = options.idPrefix ?? 'sim';
  const out: PingCalibration[] = [];
  let i = 0;
  for (const p of walkPoints(site, rng, options)) {
    const room = roomAt(site, p);
    for (let k = 0; k < per; k++) {
      const t = t0 + i * dt;
      const readings = measureAt(site, radio, channels, p, rng, t);
      i++;
      if (readings.length === 0) continue;
      out.push({
        type: 'pingCalibration',
        agentId,
        timestamp: new Date(t).toISOString(),
        data: {
          calibrationId: `${prefix}-${String(i).padStart(6, '0')}`,
          knownLocation: { x: p.x, y: p.y, ...(room ? { room: room.id } : {}) },
          measurements: readings.map((r) => ({
            targetIp: r.anchorId,
            ...(r.rtt === undefined ? {} : { rtt: r.rtt }),
            ...(r.rssi === undefined ? {} : { rssi: r.rssi }),
          })),
          confidence: 1,
        },
      });
    }
  }
  return out;
}
