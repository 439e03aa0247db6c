import { linearRegression } from 'simple-statistics';
import { isLostProbe } from '../../protocol/index.js';
import type { BehaviourEvent } from '../contracts/behaviour.js';

/*
 * Per-device behaviour features over a rolling window. The state is a plain JSON object (no typed arrays, maps or
 * classes) so the worker can store it anywhere; `observeEvent` is pure and O(window buckets).
 *
 * Events are folded into time buckets (10 s by default) of sums, so a device probed many times a second costs the
 * same as one updated twice a minute. Long-term per-device references (RSSI, RTT, bandwidth, usual location) are
 * exponentially weighted means with time constants of hours, so "RSSI dropped 20 dB" and "the printer moved" are
 * measured against the device's own history, not the network's.
 */

export const FEATURE_NAMES = [
  'rssi_mean',
  'rssi_delta',
  'rssi_std',
  'rssi_trend',
  'rtt_mean',
  'rtt_jitter',
  'packet_loss',
  'bandwidth',
  'bandwidth_ratio',
  'flaps',
  'new_services',
  'port_scans',
  'connection_attempts',
  'data_rate',
  'hour_sin',
  'hour_cos',
  'off_hours_activity',
  'zone_distance',
  'moved',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * The behaviour model grows one isolation forest per group (feature bagging over subspaces that mean something,
 * Lazarevic & Kumar, KDD 2005): in a few dimensions a point extreme in one feature is isolated in two or three
 * splits, while a single forest over all 18 would need ~18 levels to pick that feature at random. Time of day
 * only means something next to activity, so the schedule group pairs them.
 */
export const FEATURE_GROUPS: ReadonlyArray<{ name: string; features: readonly FeatureName[] }> = [
  { name: 'signal', features: ['rssi_mean', 'rssi_delta', 'rssi_std', 'rssi_trend'] },
  { name: 'link', features: ['rtt_mean', 'rtt_jitter', 'packet_loss', 'bandwidth', 'bandwidth_ratio'] },
  { name: 'activity', features: ['flaps', 'new_services', 'port_scans', 'connection_attempts', 'data_rate'] },
  { name: 'schedule', features: ['hour_sin', 'hour_cos', 'off_hours_activity'] },
  { name: 'location', features: ['zone_distance', 'moved'] },
];

/** Units of the raw values (what explanations show). */
export const FEATURE_UNITS: Record<FeatureName, string> = {
  rssi_mean: 'dBm',
  rssi_delta: 'dB vs the device’s usual level',
  rssi_std: 'dB',
  rssi_trend: 'dB/min',
  rtt_mean: 'ms',
  rtt_jitter: 'ms (mean |Δrtt|)',
  packet_loss: '%',
  bandwidth: 'Mbit/s',
  bandwidth_ratio: 'log2(window / usual)',
  flaps: 'joins + leaves in the window beyond the first',
  new_services: 'services first seen in the window',
  port_scans: 'in the window',
  connection_attempts: 'in the window',
  data_rate: 'kB/s',
  hour_sin: 'sin(2π·hour/24)',
  hour_cos: 'cos(2π·hour/24)',
  off_hours_activity: 'kB/s at an hour this device is usually quiet',
  zone_distance: 'm from the usual zone',
  moved: '1 = a stationary device left its zone',
};

/** Heavy-tailed counts and levels enter the forest as log1p: its splits are uniform in value, not in rank. */
const LOG_FEATURES: ReadonlySet<FeatureName> = new Set([
  'rtt_mean',
  'rtt_jitter',
  'bandwidth',
  'flaps',
  'new_services',
  'port_scans',
  'connection_attempts',
  'data_rate',
  'off_hours_activity',
]);

export interface FeatureConfig {
  /** @defaultValue 300000 (5 min) */
  windowMs: number;
  /** @defaultValue 10000 */
  bucketMs: number;
  /** Local time = UTC + offset, for the time-of-day features. @defaultValue 0 */
  utcOffsetMinutes: number;
  /** Time constant of the long-term RSSI/RTT/bandwidth references. @defaultValue 6 h */
  longTermTauMs: number;
  /** Time constant of the usual-zone estimate. @defaultValue 24 h */
  zoneTauMs: number;
  /** Location history a device needs before its zone counts (zone distance, stationary). @defaultValue 2 h */
  stationaryAfterMs: number;
  /** Zone spread (m, RMS) below which a device counts as stationary. @defaultValue 2.5 */
  stationarySpreadM: number;
  /** Events in the window before the device is scored. @defaultValue 3 */
  minEvents: number;
}

export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  windowMs: 300_000,
  bucketMs: 10_000,
  utcOffsetMinutes: 0,
  longTermTauMs: 6 * 3_600_000,
  zoneTauMs: 24 * 3_600_000,
  stationaryAfterMs: 2 * 3_600_000,
  stationarySpreadM: 2.5,
  minEvents: 3,
};

export interface Bucket {
  /** Bucket start, epoch ms. */
  t: number;
  events: number;
  rssiN: number;
  rssiSum: number;
  rssiSq: number;
  rttN: number;
  rttSum: number;
  jitterN: number;
  jitterSum: number;
  lossN: number;
  lossSum: number;
  probes: number;
  probeFails: number;
  bwN: number;
  bwSum: number;
  scans: number;
  conns: number;
  bytes: number;
  joins: number;
  leaves: number;
}

/**
 * Exponentially weighted mean and variance with their total weight (West's weighted Welford, weights decaying
 * with exp(−Δt/τ)): unbiased from the first sample, unlike a plain EWMA seeded with it.
 */
export interface Ewma {
  mean: number;
  /** Σ w·(x − mean)², so variance = m2 / weight. */
  m2: number;
  weight: number;
  t: number;
}

export interface Zone {
  x: Ewma;
  y: Ewma;
  n: number;
  since: number;
}

export interface DeviceWindowState {
  deviceId: string;
  firstSeen: number | null;
  lastT: number;
  totalEvents: number;
  buckets: Bucket[];
  lastRtt: number | null;
  rssi: Ewma | null;
  rtt: Ewma | null;
  bandwidth: Ewma | null;
  zone: Zone | null;
  locations: Array<{ t: number; x: number; y: number; u: number }>;
  /** Service name → first seen, epoch ms. */
  services: Record<string, number>;
  /**
   * Bytes per local hour of day over the device's complete past days (today is not in it), decaying with a 7-day
   * time constant as of `hourBytesT`; null until the first data volume.
   */
  hourBytes: number[] | null;
  hourBytesT: number;
  /**
   * Bytes per local hour of the current local day `day`, folded into `hourBytes` when the day ends. Kept apart so a
   * busy hour that is unusual for the device stays unusual all hour: counted into the profile at once, its own
   * bytes made it look usual within minutes, and every new hour of an unusual day raised a fresh alert. Absent in
   * states saved before it existed (read as an empty day).
   */
  dayBytes?: number[] | null;
  /** Local day number (days since the epoch, local time) that `dayBytes` belongs to. */
  day?: number;
}

const HOUR_PROFILE_TAU_MS = 7 * 24 * 3_600_000;
/** A device's hour profile counts once it covers a day. */
const HOUR_PROFILE_MIN_MS = 24 * 3_600_000;

const MAX_LOCATIONS = 64;
const MAX_SERVICES = 128;

export function initialWindowState(deviceId: string): DeviceWindowState {
  return {
    deviceId,
    firstSeen: null,
    lastT: Number.NEGATIVE_INFINITY,
    totalEvents: 0,
    buckets: [],
    lastRtt: null,
    rssi: null,
    rtt: null,
    bandwidth: null,
    zone: null,
    locations: [],
    services: {},
    hourBytes: null,
    hourBytesT: 0,
    dayBytes: null,
    day: 0,
  };
}

function localHour(t: number, config: FeatureConfig): number {
  return (((t / 3_600_000 + config.utcOffsetMinutes / 60) % 24) + 24) % 24;
}

const DAY_MS = 24 * 3_600_000;

function localDay(t: number, config: FeatureConfig): number {
  return Math.floor((t + config.utcOffsetMinutes * 60_000) / DAY_MS);
}

/** Epoch ms at which local day `day` starts. */
function localDayStart(day: number, config: FeatureConfig): number {
  return day * DAY_MS - config.utcOffsetMinutes * 60_000;
}

/**
 * The hour profile of the device's complete days as of `t`: `hourBytes`, with the current day's bytes folded in
 * once that day is over. Null before any data volume.
 */
function profileAsOf(
  state: Pick<DeviceWindowState, 'hourBytes' | 'hourBytesT' | 'dayBytes' | 'day'>,
  t: number,
  config: FeatureConfig,
): { hourBytes: number[]; hourBytesT: number } | null {
  const today = state.dayBytes ?? null;
  if (state.hourBytes === null && today === null) return null;
  const day = state.day ?? localDay(state.hourBytesT, config);
  if (today === null || localDay(t, config) <= day) {
    return state.hourBytes === null ? null : { hourBytes: state.hourBytes, hourBytesT: state.hourBytesT };
  }
  const at = localDayStart(day + 1, config);
  const decay =
    state.hourBytes === null ? 0 : Math.exp(-Math.max(0, at - state.hourBytesT) / HOUR_PROFILE_TAU_MS);
  return {
    hourBytes: today.map((v, h) => v + (state.hourBytes === null ? 0 : state.hourBytes[h]! * decay)),
    hourBytesT: at,
  };
}

function emptyBucket(t: number): Bucket {
  return {
    t,
    events: 0,
    rssiN: 0,
    rssiSum: 0,
    rssiSq: 0,
    rttN: 0,
    rttSum: 0,
    jitterN: 0,
    jitterSum: 0,
    lossN: 0,
    lossSum: 0,
    probes: 0,
    probeFails: 0,
    bwN: 0,
    bwSum: 0,
    scans: 0,
    conns: 0,
    bytes: 0,
    joins: 0,
    leaves: 0,
  };
}

/**
 * A copy of `b` as an object literal of emptyBucket's shape, one per event. Measured against `{ ...b }` in replay
 * (bench capture, behaviour model only): the behaviour cost fell from ~2.1 to ~0.9–1.3 µs a message, most likely
 * because every bucket then has the one literal shape and bucket accesses (here, windowFeatures) stay monomorphic.
 */
function copyBucket(b: Bucket): Bucket {
  return {
    t: b.t,
    events: b.events,
    rssiN: b.rssiN,
    rssiSum: b.rssiSum,
    rssiSq: b.rssiSq,
    rttN: b.rttN,
    rttSum: b.rttSum,
    jitterN: b.jitterN,
    jitterSum: b.jitterSum,
    lossN: b.lossN,
    lossSum: b.lossSum,
    probes: b.probes,
    probeFails: b.probeFails,
    bwN: b.bwN,
    bwSum: b.bwSum,
    scans: b.scans,
    conns: b.conns,
    bytes: b.bytes,
    joins: b.joins,
    leaves: b.leaves,
  };
}

/**
 * Once a reference has 20 samples, new samples are clipped to mean ± max(4σ, minSpread) before they enter it, so a
 * 20-minute latency spike does not drag the device's usual latency up for hours (and make the next normal hours
 * look anomalous). A lasting change still moves the reference, a clip's worth at a time.
 */
function ewma(prev: Ewma | null, raw: number, t: number, tauMs: number, minSpread = 0): Ewma {
  if (prev === null) return { mean: raw, m2: 0, weight: 1, t };
  let value = raw;
  if (prev.weight >= 20) {
    const spread = Math.max(4 * Math.sqrt(ewmaVariance(prev)), minSpread);
    value = Math.min(prev.mean + spread, Math.max(prev.mean - spread, raw));
  }
  const decay = Math.exp(-Math.max(0, t - prev.t) / tauMs);
  const weight = prev.weight * decay + 1;
  const delta = value - prev.mean;
  const mean = prev.mean + delta / weight;
  return { mean, m2: prev.m2 * decay + delta * (value - mean), weight, t: Math.max(t, prev.t) };
}

export function ewmaVariance(e: Ewma): number {
  return e.weight > 0 ? Math.max(0, e.m2 / e.weight) : 0;
}

function finite(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Pure: the state after `event`. Events older than the window are folded into the long-term references only. */
// observeEvent's per-channel updates, as module functions: closures made per event cost an allocation each (and,
// run through tsx, a __name call each) on every probe the worker or replay sees.
function addRssi(
  bucket: Bucket,
  next: DeviceWindowState,
  v: number | undefined,
  t: number,
  config: FeatureConfig,
): void {
  if (!finite(v)) return;
  bucket.rssiN++;
  bucket.rssiSum += v;
  bucket.rssiSq += v * v;
  next.rssi = ewma(next.rssi, v, t, config.longTermTauMs, 3);
}

function addRtt(
  bucket: Bucket,
  next: DeviceWindowState,
  v: number | undefined,
  t: number,
  config: FeatureConfig,
): void {
  if (!finite(v) || v < 0) return;
  bucket.rttN++;
  bucket.rttSum += v;
  if (next.lastRtt !== null) {
    bucket.jitterN++;
    bucket.jitterSum += Math.abs(v - next.lastRtt);
  }
  next.lastRtt = v;
  next.rtt = ewma(next.rtt, v, t, config.longTermTauMs, 0.5 * (next.rtt?.mean ?? v) + 1);
}

function addServices(
  state: DeviceWindowState,
  next: DeviceWindowState,
  list: readonly string[] | undefined,
  t: number,
): void {
  if (!list) return;
  let services = next.services;
  for (const s of list) {
    if (services[s] !== undefined) continue;
    if (Object.keys(services).length >= MAX_SERVICES) break;
    if (services === state.services) services = { ...services };
    services[s] = t;
  }
  next.services = services;
}

export function observeEvent(
  state: DeviceWindowState,
  event: BehaviourEvent,
  config: FeatureConfig = DEFAULT_FEATURE_CONFIG,
): DeviceWindowState {
  const t = event.t;
  if (!Number.isFinite(t)) return state;
  const bucketT = Math.floor(t / config.bucketMs) * config.bucketMs;
  const horizon = Math.max(state.lastT, t) - config.windowMs - config.bucketMs;
  // Find or create the event's bucket (events arrive in order; a late one lands in its own bucket if still kept).
  let buckets = state.buckets;
  let at = buckets.length - 1;
  while (at >= 0 && buckets[at]!.t > bucketT) at--;
  let bucket: Bucket;
  if (at >= 0 && buckets[at]!.t === bucketT) bucket = copyBucket(buckets[at]!);
  else if (bucketT < horizon) bucket = emptyBucket(bucketT);
  else {
    bucket = emptyBucket(bucketT);
    buckets = [...buckets.slice(0, at + 1), bucket, ...buckets.slice(at + 1)];
    at++;
  }
  bucket.events++;
  // Spelled out rather than `{ ...state, … }`, like copyBucket: one state shape. A state saved before dayBytes/day
  // existed gets what every reader substitutes for them (no day of bytes; the day of hourBytesT).
  const next: DeviceWindowState = {
    deviceId: state.deviceId,
    firstSeen: state.firstSeen === null ? t : Math.min(state.firstSeen, t),
    lastT: Math.max(state.lastT, t),
    totalEvents: state.totalEvents + 1,
    buckets: state.buckets,
    lastRtt: state.lastRtt,
    rssi: state.rssi,
    rtt: state.rtt,
    bandwidth: state.bandwidth,
    zone: state.zone,
    locations: state.locations,
    services: state.services,
    hourBytes: state.hourBytes,
    hourBytesT: state.hourBytesT,
    dayBytes: state.dayBytes ?? null,
    day: state.day ?? localDay(state.hourBytesT, config),
  };
  switch (event.kind) {
    case 'probe':
      // A BLE sighting (no round trip, success false, but an rssi heard) is not a ping that failed: it counts
      // towards neither the probes nor the losses, or a beacon-heard device would show a permanent packet loss.
      if (isLostProbe(event)) {
        bucket.probes++;
        bucket.probeFails++;
      } else if (event.success) {
        bucket.probes++;
        addRtt(bucket, next, event.rtt, t, config);
      }
      addRssi(bucket, next, event.rssi, t, config);
      break;
    case 'join':
      // A device's first appearance is not flapping; a re-join is.
      if (state.totalEvents > 0) bucket.joins++;
      addServices(state, next, event.services, t);
      break;
    case 'leave':
      bucket.leaves++;
      break;
    case 'update':
      addRssi(bucket, next, event.rssi, t, config);
      addRtt(bucket, next, event.latency, t, config);
      if (finite(event.packetLoss)) {
        bucket.lossN++;
        bucket.lossSum += Math.min(100, Math.max(0, event.packetLoss));
      }
      if (finite(event.bandwidth) && event.bandwidth >= 0) {
        bucket.bwN++;
        bucket.bwSum += event.bandwidth;
        const bw = next.bandwidth;
        next.bandwidth = ewma(
          bw,
          event.bandwidth,
          t,
          config.longTermTauMs,
          (bw?.mean ?? event.bandwidth) + 0.1,
        );
      }
      if (finite(event.portScans)) bucket.scans += Math.max(0, event.portScans);
      if (finite(event.connectionAttempts)) bucket.conns += Math.max(0, event.connectionAttempts);
      if (finite(event.dataVolume)) {
        const bytes = Math.max(0, event.dataVolume);
        bucket.bytes += bytes;
        const hour = Math.floor(localHour(t, config));
        const day = localDay(t, config);
        const current = next.day ?? localDay(next.hourBytesT, config);
        if (next.dayBytes == null || day > current) {
          // A new day: the finished one joins the profile; this one starts empty.
          const folded = profileAsOf(next, t, config);
          if (folded !== null) {
            next.hourBytes = folded.hourBytes;
            next.hourBytesT = folded.hourBytesT;
          }
          next.dayBytes = new Array<number>(24).fill(0);
          next.day = day;
        } else {
          next.dayBytes = [...next.dayBytes];
        }
        if (day < (next.day ?? day) && next.hourBytes !== null) {
          // Late data of a day already folded in goes straight into the profile.
          next.hourBytes = [...next.hourBytes];
          next.hourBytes[hour]! += bytes;
        } else {
          next.dayBytes[hour]! += bytes;
        }
      }
      addServices(state, next, event.services, t);
      break;
    case 'location': {
      if (!finite(event.x) || !finite(event.y)) break;
      const u = finite(event.uncertainty) ? event.uncertainty : 0;
      const locations = next.locations.filter((l) => l.t >= horizon);
      locations.push({ t, x: event.x, y: event.y, u });
      next.locations = locations.length > MAX_LOCATIONS ? locations.slice(-MAX_LOCATIONS) : locations;
      next.zone = updateZone(next.zone, event.x, event.y, t, config.zoneTauMs);
      break;
    }
  }
  if (at >= 0 && buckets[at]?.t === bucketT) {
    if (buckets === state.buckets) buckets = [...buckets];
    buckets[at] = bucket;
  }
  let drop = 0;
  while (drop < buckets.length && buckets[drop]!.t < horizon) drop++;
  next.buckets = drop > 0 ? buckets.slice(drop) : buckets;
  return next;
}

function updateZone(zone: Zone | null, x: number, y: number, t: number, tauMs: number): Zone {
  return {
    x: ewma(zone?.x ?? null, x, t, tauMs),
    y: ewma(zone?.y ?? null, y, t, tauMs),
    n: (zone?.n ?? 0) + 1,
    since: zone?.since ?? t,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Raw feature values in their units; NaN where the device reported nothing to compute it from. */
export type RawFeatures = Record<FeatureName, number>;

export interface FeatureWindow {
  raw: RawFeatures;
  /** Model inputs in FEATURE_NAMES order (log1p where noted), NaN when missing. */
  values: Float64Array;
  /** Events in the window. */
  events: number;
  /** Window means of latency (ms), loss (%) and bandwidth (Mbit/s), for the performance score. */
  performance: { latency?: number; packetLoss?: number; bandwidth?: number };
}

/**
 * `sum += b`, field by field (not `t`). Spelled out: a loop over `Object.keys(sum)` made a key array and a keyed
 * load/store per field per bucket, ~30 buckets per scored window (replay profile).
 */
function addBucket(sum: Bucket, b: Bucket): void {
  sum.events += b.events;
  sum.rssiN += b.rssiN;
  sum.rssiSum += b.rssiSum;
  sum.rssiSq += b.rssiSq;
  sum.rttN += b.rttN;
  sum.rttSum += b.rttSum;
  sum.jitterN += b.jitterN;
  sum.jitterSum += b.jitterSum;
  sum.lossN += b.lossN;
  sum.lossSum += b.lossSum;
  sum.probes += b.probes;
  sum.probeFails += b.probeFails;
  sum.bwN += b.bwN;
  sum.bwSum += b.bwSum;
  sum.scans += b.scans;
  sum.conns += b.conns;
  sum.bytes += b.bytes;
  sum.joins += b.joins;
  sum.leaves += b.leaves;
}

/** Per FEATURE_NAMES index: whether the model sees the feature as log1p. */
const LOG_AT: readonly boolean[] = FEATURE_NAMES.map((name) => LOG_FEATURES.has(name));
const RSSI_DELTA_AT = FEATURE_NAMES.indexOf('rssi_delta');
const RSSI_STD_AT = FEATURE_NAMES.indexOf('rssi_std');
const RSSI_TREND_AT = FEATURE_NAMES.indexOf('rssi_trend');
const RTT_MEAN_AT = FEATURE_NAMES.indexOf('rtt_mean');
const ZONE_DISTANCE_AT = FEATURE_NAMES.indexOf('zone_distance');

/** The features of the window ending at `nowMs`; null while the window holds fewer than `minEvents` events. */
export function windowFeatures(
  state: DeviceWindowState,
  nowMs: number,
  config: FeatureConfig = DEFAULT_FEATURE_CONFIG,
): FeatureWindow | null {
  const from = nowMs - config.windowMs;
  const sum = emptyBucket(from);
  const rssiPoints: Array<[number, number]> = [];
  for (const b of state.buckets) {
    if (b.t + config.bucketMs <= from || b.t > nowMs) continue;
    addBucket(sum, b);
    if (b.rssiN > 0) rssiPoints.push([(b.t + config.bucketMs / 2 - nowMs) / 60_000, b.rssiSum / b.rssiN]);
  }
  if (sum.events < config.minEvents) return null;
  const nan = Number.NaN;
  const rssiMean = sum.rssiN > 0 ? sum.rssiSum / sum.rssiN : nan;
  const rssiVar =
    sum.rssiN > 1 ? Math.max(0, (sum.rssiSq - (sum.rssiSum * sum.rssiSum) / sum.rssiN) / (sum.rssiN - 1)) : 0;
  const rssiTrend = rssiPoints.length >= 3 ? linearRegression(rssiPoints).m : 0;
  const rttMean = sum.rttN > 0 ? sum.rttSum / sum.rttN : nan;
  const jitter = sum.jitterN > 0 ? sum.jitterSum / sum.jitterN : 0;
  const lossParts: Array<[number, number]> = [];
  if (sum.lossN > 0) lossParts.push([sum.lossSum / sum.lossN, sum.lossN]);
  if (sum.probes > 0) lossParts.push([(100 * sum.probeFails) / sum.probes, sum.probes]);
  const lossWeight = lossParts.reduce((s, [, w]) => s + w, 0);
  const loss = lossWeight > 0 ? lossParts.reduce((s, [v, w]) => s + v * w, 0) / lossWeight : 0;
  const bw = sum.bwN > 0 ? sum.bwSum / sum.bwN : nan;
  const bwRatio =
    sum.bwN > 0 && state.bandwidth !== null ? Math.log2((bw + 0.1) / (state.bandwidth.mean + 0.1)) : 0;
  let newServices = 0;
  const firstSeen = state.firstSeen ?? nowMs;
  for (const seen of Object.values(state.services)) {
    if (seen > from && seen <= nowMs && seen - firstSeen > config.windowMs) newServices++;
  }
  const hour = localHour(nowMs, config);
  const angle = (2 * Math.PI * hour) / 24;
  const dataRate = sum.bytes / (config.windowMs / 1000) / 1000;
  // Activity at an hour that usually carries under a quarter of this device's average hourly volume.
  // The profile of complete past days: today's own bytes would make an unusual hour look usual within minutes.
  let offHours = 0;
  const profile = profileAsOf(state, nowMs, config)?.hourBytes ?? null;
  if (profile !== null && firstSeen <= nowMs - HOUR_PROFILE_MIN_MS) {
    const mean = profile.reduce((a, b) => a + b, 0) / 24;
    const share = mean > 0 ? profile[Math.floor(hour)]! / mean : 1;
    // Below 1 kB/s is background chatter, not activity.
    if (dataRate >= 1) offHours = dataRate * Math.max(0, 1 - 4 * share);
  }
  let zoneDistance = 0;
  let zoneSpread = 0;
  let moved = 0;
  const recent = state.locations.filter((l) => l.t > from && l.t <= nowMs);
  if (recent.length > 0 && state.zone !== null && nowMs - state.zone.since >= config.stationaryAfterMs) {
    const x = median(recent.map((l) => l.x));
    const y = median(recent.map((l) => l.y));
    const u = median(recent.map((l) => l.u));
    zoneDistance = Math.hypot(x - state.zone.x.mean, y - state.zone.y.mean);
    // RMS distance of the device's locations from their centre: ~1.4 × the position noise for a still device.
    const spread = Math.sqrt(ewmaVariance(state.zone.x) + ewmaVariance(state.zone.y));
    zoneSpread = spread;
    const stationary = spread <= config.stationarySpreadM;
    if (stationary && zoneDistance > Math.max(3, 3 * spread + u)) moved = 1;
  }
  const raw: RawFeatures = {
    rssi_mean: rssiMean,
    rssi_delta: sum.rssiN > 0 && state.rssi !== null ? rssiMean - state.rssi.mean : 0,
    rssi_std: Math.sqrt(rssiVar),
    rssi_trend: rssiTrend,
    rtt_mean: rttMean,
    rtt_jitter: jitter,
    packet_loss: loss,
    bandwidth: bw,
    bandwidth_ratio: bwRatio,
    // One join or leave is a device arriving or going; flapping is more than that in one window.
    flaps: Math.max(0, sum.joins + sum.leaves - 1),
    new_services: newServices,
    port_scans: sum.scans,
    connection_attempts: sum.conns,
    data_rate: dataRate,
    hour_sin: Math.sin(angle),
    hour_cos: Math.cos(angle),
    off_hours_activity: offHours,
    zone_distance: zoneDistance,
    moved,
  };
  const values = new Float64Array(FEATURE_NAMES.length);
  for (let i = 0; i < FEATURE_NAMES.length; i++) {
    const v = raw[FEATURE_NAMES[i]!];
    values[i] = LOG_AT[i] && Number.isFinite(v) ? Math.log1p(Math.max(0, v)) : v;
  }
  // Against the device's own history, so a phone carried around or a slow sensor is normal for itself: RSSI
  // changes in units of the device's usual RSSI spread, RTT as a log ratio to its usual RTT, distance from the
  // zone in units of the zone's spread.
  if (state.rssi !== null && sum.rssiN > 0) {
    const sd = Math.sqrt(ewmaVariance(state.rssi));
    values[RSSI_DELTA_AT] = raw.rssi_delta / Math.max(2, sd);
    values[RSSI_STD_AT] = raw.rssi_std / Math.max(1.5, sd);
    values[RSSI_TREND_AT] = raw.rssi_trend / Math.max(1, sd);
  }
  if (state.rtt !== null && Number.isFinite(rttMean))
    values[RTT_MEAN_AT] = Math.log((rttMean + 1) / (state.rtt.mean + 1));
  if (state.zone !== null) values[ZONE_DISTANCE_AT] = zoneDistance / Math.max(1.5, zoneSpread);
  const performance: FeatureWindow['performance'] = {};
  if (Number.isFinite(rttMean)) performance.latency = rttMean;
  if (lossWeight > 0) performance.packetLoss = loss;
  if (Number.isFinite(bw)) performance.bandwidth = bw;
  return { raw, values, events: sum.events, performance };
}
