import type { Observation } from '../../models/positioning/observation.js';
import { rttToRange } from '../../models/positioning/ranging.js';
import { roomAt, type Site } from '../../models/positioning/site.js';
import type { PingCalibration } from '../../protocol/index.js';

/** One calibration message as training data: a known point and what was measured there. */
export interface CalibrationSample {
  id: string;
  x: number;
  y: number;
  room?: string;
  floor?: number;
  /** Epoch ms. */
  t: number;
  /** agentId/deviceId: which device was carried. */
  device: string;
  /** Groups the repeated measurements of one reference point (cross-validation folds never split it). */
  pointKey: string;
  observations: Observation[];
}

export function pointKeyOf(x: number, y: number, floor?: number): string {
  return `${x.toFixed(3)},${y.toFixed(3)}${floor === undefined ? '' : `@${floor}`}`;
}

/**
 * Converts messages to samples. RTT becomes the raw range c·rtt/2 (calibration measurements carry no processing
 * offset). When the site has rooms and the message names none, the room is taken from the site plan.
 */
export function samplesFromMessages(messages: readonly PingCalibration[], site?: Site): CalibrationSample[] {
  return messages.map((m) => {
    const loc = m.data.knownLocation;
    const observations: Observation[] = m.data.measurements.map((q) => ({
      anchorId: q.targetIp,
      ...(q.rssi === undefined ? {} : { rssi: q.rssi }),
      ...(q.rtt === undefined ? {} : { range: rttToRange(q.rtt) }),
    }));
    const room = loc.room ?? (site ? roomAt(site, loc, loc.floor)?.id : undefined);
    return {
      id: m.data.calibrationId,
      x: loc.x,
      y: loc.y,
      ...(room === undefined ? {} : { room }),
      ...(loc.floor === undefined ? {} : { floor: loc.floor }),
      t: Date.parse(m.timestamp),
      device: `${m.agentId}/${m.data.deviceId ?? ''}`,
      pointKey: pointKeyOf(loc.x, loc.y, loc.floor),
      observations,
    };
  });
}

export interface WalkSummary {
  samples: number;
  points: number;
  devices: number;
  anchorsHeard: number;
  /** Anchors heard that the site does not place (usable by the fingerprint models only). */
  anchorsNotInSite: string[];
  /** Site anchors never heard. */
  anchorsNeverHeard: string[];
  rssiReadings: number;
  rttReadings: number;
  extent: { minX: number; minY: number; maxX: number; maxY: number };
  rooms: string[];
}

export function summariseWalk(samples: readonly CalibrationSample[], site: Site): WalkSummary {
  const anchors = new Set<string>();
  let rssi = 0;
  let rtt = 0;
  const ext = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (const s of samples) {
    ext.minX = Math.min(ext.minX, s.x);
    ext.minY = Math.min(ext.minY, s.y);
    ext.maxX = Math.max(ext.maxX, s.x);
    ext.maxY = Math.max(ext.maxY, s.y);
    for (const o of s.observations) {
      anchors.add(o.anchorId);
      if (o.rssi !== undefined) rssi++;
      if (o.range !== undefined) rtt++;
    }
  }
  const siteIds = new Set(site.anchors.map((a) => a.id));
  return {
    samples: samples.length,
    points: new Set(samples.map((s) => s.pointKey)).size,
    devices: new Set(samples.map((s) => s.device)).size,
    anchorsHeard: anchors.size,
    anchorsNotInSite: [...anchors].filter((a) => !siteIds.has(a)).sort(),
    anchorsNeverHeard: [...siteIds].filter((a) => !anchors.has(a)).sort(),
    rssiReadings: rssi,
    rttReadings: rtt,
    extent: ext,
    rooms: [...new Set(samples.flatMap((s) => (s.room === undefined ? [] : [s.room])))].sort(),
  };
}
