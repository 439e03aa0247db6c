import { segmentsIntersect } from '../models/positioning/geometry.js';
import { rangeToRtt, SPEED_OF_LIGHT_M_PER_MS } from '../models/positioning/ranging.js';
import type { Site, SiteAnchor } from '../models/positioning/site.js';
import type { Rng } from './prng.js';

// The radio channel between a device and an anchor. RSSI: log-distance path loss, wall attenuation, Gaussian
// shadowing in dB and a multipath fraction taking a further loss. RTT: FTM-grade (802.11mc: metres of noise, a
// per-anchor offset and scale, NLOS excess delay) or ping-grade (milliseconds of stack latency and jitter — about
// a million times the 6.7 ns that one metre adds to a round trip).

export type RttGrade = 'ftm' | 'ping' | 'none';

export interface RadioParams {
  /** dBm at 1 m. */
  rssiAt1m: number;
  exponent: number;
  /** Gaussian shadowing σ on every sample, dB. */
  shadowingSigmaDb: number;
  /** Fraction of samples that take a further loss of `multipathDb`. */
  multipathProbability: number;
  multipathDb: number;
  /** Attenuation of a wall without its own value, dB. */
  wallDb: number;
  /** Below this an anchor is not heard, dBm. */
  sensitivityDbm: number;
  /** Device height above the floor, m (anchors with a z are ranged in 3-D). */
  deviceHeight: number;
  /** Probability that a reading is simply missing. */
  dropProbability: number;
  /** Anchor kinds → RTT grade; unlisted kinds give `defaultRtt`. */
  rttByKind: Partial<Record<NonNullable<SiteAnchor['kind']>, RttGrade>>;
  defaultRtt: RttGrade;
  ftm: {
    /** Gaussian σ of the FTM range, m. */
    sigmaM: number;
    /** Per-anchor range offset drawn uniformly from this interval, m (phones run long by 1–3 m). */
    offsetRangeM: [number, number];
    /** Per-anchor range scale drawn uniformly from this interval. */
    scaleRange: [number, number];
    /** Probability of a non-line-of-sight excess (exponential) on a sample, and its mean, m. */
    nlosProbability: number;
    nlosMeanM: number;
  };
  ping: {
    /** Fixed stack/processing latency, ms. */
    baseMs: number;
    /** Exponential jitter mean, ms. */
    jitterMs: number;
  };
}

export const DEFAULT_RADIO: RadioParams = {
  rssiAt1m: -45,
  exponent: 2.8,
  shadowingSigmaDb: 3,
  multipathProbability: 0.1,
  multipathDb: 6,
  wallDb: 5,
  sensitivityDbm: -100,
  deviceHeight: 1,
  dropProbability: 0.02,
  rttByKind: { access_point: 'ftm', gateway: 'ping', agent: 'ping', beacon: 'none' },
  defaultRtt: 'ping',
  ftm: { sigmaM: 0.8, offsetRangeM: [1, 3], scaleRange: [1, 1.08], nlosProbability: 0.1, nlosMeanM: 2 },
  ping: { baseMs: 1.5, jitterMs: 2 },
};

/** What the simulator knows about one anchor's link (the "truth" a fitted ranging model should recover). */
export interface AnchorChannel {
  anchor: SiteAnchor;
  rssiAt1m: number;
  exponent: number;
  rtt: RttGrade;
  ftmOffsetM: number;
  ftmScale: number;
}

export function anchorChannels(site: Site, radio: RadioParams, rng: Rng): Map<string, AnchorChannel> {
  const out = new Map<string, AnchorChannel>();
  for (const anchor of site.anchors) {
    const r = rng.fork(`anchor:${anchor.id}`);
    const grade = (anchor.kind ? radio.rttByKind[anchor.kind] : undefined) ?? radio.defaultRtt;
    out.set(anchor.id, {
      anchor,
      rssiAt1m: radio.rssiAt1m,
      exponent: radio.exponent,
      rtt: grade,
      ftmOffsetM: r.uniform(radio.ftm.offsetRangeM[0], radio.ftm.offsetRangeM[1]),
      ftmScale: r.uniform(radio.ftm.scaleRange[0], radio.ftm.scaleRange[1]),
    });
  }
  return out;
}

export function distanceToAnchor(anchor: SiteAnchor, x: number, y: number, deviceHeight: number): number {
  const dz = anchor.z === undefined ? 0 : anchor.z - deviceHeight;
  return Math.sqrt((x - anchor.x) ** 2 + (y - anchor.y) ** 2 + dz * dz);
}

/** Sum of the attenuation of the walls the straight link crosses, dB. */
export function wallLoss(site: Site, radio: RadioParams, anchor: SiteAnchor, x: number, y: number): number {
  if (!site.walls) return 0;
  let loss = 0;
  const a = { x: anchor.x, y: anchor.y };
  const b = { x, y };
  for (const w of site.walls) {
    if (segmentsIntersect(a, b, w.from, w.to)) loss += w.attenuationDb ?? radio.wallDb;
  }
  return loss;
}

/** The noiseless mean RSSI (path loss + walls), dBm. */
export function meanRssi(site: Site, radio: RadioParams, ch: AnchorChannel, x: number, y: number): number {
  const d = Math.max(distanceToAnchor(ch.anchor, x, y, radio.deviceHeight), 0.1);
  return ch.rssiAt1m - 10 * ch.exponent * Math.log10(d) - wallLoss(site, radio, ch.anchor, x, y);
}

export interface SimulatedSample {
  rssi?: number;
  /** Round trip, ms. */
  rtt?: number;
}

/** One noisy measurement of one anchor from (x, y); empty when the anchor is not heard. */
export function sampleLink(
  site: Site,
  radio: RadioParams,
  ch: AnchorChannel,
  x: number,
  y: number,
  rng: Rng,
): SimulatedSample {
  const out: SimulatedSample = {};
  if (rng.bernoulli(radio.dropProbability)) return out;
  let rssi = meanRssi(site, radio, ch, x, y) + rng.gaussian(0, radio.shadowingSigmaDb);
  if (rng.bernoulli(radio.multipathProbability)) rssi -= radio.multipathDb;
  if (rssi < radio.sensitivityDbm) return out;
  out.rssi = Math.min(rssi, 0);
  const d = distanceToAnchor(ch.anchor, x, y, radio.deviceHeight);
  if (ch.rtt === 'ftm') {
    let range = ch.ftmOffsetM + ch.ftmScale * d + rng.gaussian(0, radio.ftm.sigmaM);
    if (rng.bernoulli(radio.ftm.nlosProbability)) range += rng.exponential(radio.ftm.nlosMeanM);
    // FTM subtracts the responder's turnaround, so short links can come out slightly negative (as real data do).
    out.rtt = rangeToRtt(range);
  } else if (ch.rtt === 'ping') {
    out.rtt = radio.ping.baseMs + (2 * d) / SPEED_OF_LIGHT_M_PER_MS + rng.exponential(radio.ping.jitterMs);
  }
  return out;
}
