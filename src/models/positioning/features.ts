import type { Observation } from './observation.js';

// The measurement vector of the fingerprint models (TF.js network and kNN). Per anchor of the training walk and
// per channel present in it: the value (RSSI dBm, raw FTM range m) and a mask bit; a missing channel is imputed
// with a "not heard" value (weaker than anything heard / longer than any range) and its mask is 0. No anchor
// positions are needed.

export interface FeatureSpec {
  anchors: string[];
  /** Per anchor: the channel is used (present and informative in the walk). */
  useRssi: boolean[];
  useRange: boolean[];
  /** Imputed value when the channel is missing. */
  rssiFill: number[];
  rangeFill: number[];
  /** Standardisation for the network: (v − mean)/scale. */
  rssiMean: number[];
  rssiScale: number[];
  rangeMean: number[];
  rangeScale: number[];
  /** Measurement noise σ (pooled within-point spread) for kNN distances. */
  rssiNoise: number[];
  rangeNoise: number[];
}

export interface LabelledObservations {
  observations: readonly Observation[];
  /** Groups repeated measurements of one reference point (its key). */
  pointKey: string;
}

function pooledWithin(groups: Map<string, number[]>): { sigma: number; dof: number } {
  let ss = 0;
  let dof = 0;
  for (const vs of groups.values()) {
    if (vs.length < 2) continue;
    let m = 0;
    for (const v of vs) m += v;
    m /= vs.length;
    for (const v of vs) ss += (v - m) ** 2;
    dof += vs.length - 1;
  }
  return { sigma: dof > 0 ? Math.sqrt(ss / dof) : Number.NaN, dof };
}

function stats(vs: readonly number[]): { mean: number; std: number; min: number; max: number } {
  let m = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of vs) {
    m += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  m /= Math.max(vs.length, 1);
  let s = 0;
  for (const v of vs) s += (v - m) ** 2;
  return { mean: m, std: Math.sqrt(s / Math.max(vs.length - 1, 1)), min, max };
}

/**
 * Builds the feature spec from a walk. A range channel is kept only when the spread between points is clearly
 * larger than the spread within a point (signal/noise ≥ `minRangeSnr`): ping-grade RTT fails that test and is
 * left out rather than fed to the network as noise. `noiseFallback` supplies σ's when the walk has one message
 * per point.
 */
export function buildFeatureSpec(
  samples: readonly LabelledObservations[],
  options: {
    minRangeSnr?: number;
    noiseFallback?: (anchorId: string, channel: 'rssi' | 'range') => number | undefined;
  } = {},
): FeatureSpec {
  const ids = new Set<string>();
  for (const s of samples) for (const o of s.observations) ids.add(o.anchorId);
  const anchors = [...ids].sort();
  const spec: FeatureSpec = {
    anchors,
    useRssi: [],
    useRange: [],
    rssiFill: [],
    rangeFill: [],
    rssiMean: [],
    rssiScale: [],
    rangeMean: [],
    rangeScale: [],
    rssiNoise: [],
    rangeNoise: [],
  };
  const minSnr = options.minRangeSnr ?? 1.5;
  for (const id of anchors) {
    const rs: number[] = [];
    const gs: number[] = [];
    const rGroups = new Map<string, number[]>();
    const gGroups = new Map<string, number[]>();
    for (const s of samples) {
      const o = s.observations.find((q) => q.anchorId === id);
      if (!o) continue;
      if (o.rssi !== undefined) {
        rs.push(o.rssi);
        let g = rGroups.get(s.pointKey);
        if (!g) {
          g = [];
          rGroups.set(s.pointKey, g);
        }
        g.push(o.rssi);
      }
      if (o.range !== undefined) {
        gs.push(o.range);
        let g = gGroups.get(s.pointKey);
        if (!g) {
          g = [];
          gGroups.set(s.pointKey, g);
        }
        g.push(o.range);
      }
    }
    const r = stats(rs);
    const g = stats(gs);
    const rWithin = pooledWithin(rGroups);
    const gWithin = pooledWithin(gGroups);
    const rNoise =
      rWithin.dof >= 3 ? rWithin.sigma : (options.noiseFallback?.(id, 'rssi') ?? Math.max(r.std / 2, 1));
    const gNoise =
      gWithin.dof >= 3 ? gWithin.sigma : (options.noiseFallback?.(id, 'range') ?? Math.max(g.std / 2, 0.5));
    spec.useRssi.push(rs.length >= 3);
    spec.rssiMean.push(rs.length > 0 ? r.mean : -90);
    spec.rssiScale.push(Math.max(r.std, 1));
    spec.rssiFill.push(rs.length > 0 ? r.min - 5 : -110);
    spec.rssiNoise.push(Math.max(rNoise, 0.5));
    // Between-point spread of the per-point means vs within-point noise.
    const means = [...gGroups.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
    const between = stats(means).std;
    const informative =
      gs.length >= 3 && Number.isFinite(gNoise) && between / Math.max(gNoise, 1e-6) >= minSnr;
    spec.useRange.push(informative);
    spec.rangeMean.push(gs.length > 0 ? g.mean : 0);
    spec.rangeScale.push(Math.max(g.std, 0.1));
    spec.rangeFill.push(gs.length > 0 ? g.max + Math.max(g.std, 1) : 0);
    spec.rangeNoise.push(Math.max(Number.isFinite(gNoise) ? gNoise : 1, 0.05));
  }
  return spec;
}

export function featureLength(spec: FeatureSpec): number {
  let n = 0;
  for (let i = 0; i < spec.anchors.length; i++) n += (spec.useRssi[i] ? 2 : 0) + (spec.useRange[i] ? 2 : 0);
  return n;
}

// Anchor id → position in the spec, once per spec (the encoders run per fix).
const indexCache = new WeakMap<FeatureSpec, Map<string, number>>();

function anchorIndex(spec: FeatureSpec): Map<string, number> {
  let m = indexCache.get(spec);
  if (!m) {
    m = new Map(spec.anchors.map((a, i) => [a, i]));
    indexCache.set(spec, m);
  }
  return m;
}

/** The observation of each spec anchor (the last one when an anchor is repeated), undefined where not heard. */
function bySpecAnchor(
  spec: FeatureSpec,
  observations: readonly Observation[],
): Array<Observation | undefined> {
  const index = anchorIndex(spec);
  const out = new Array<Observation | undefined>(spec.anchors.length);
  for (const o of observations) {
    const i = index.get(o.anchorId);
    if (i !== undefined) out[i] = o;
  }
  return out;
}

/** Standardised vector with mask bits, for the network. */
export function encodeStandardised(
  spec: FeatureSpec,
  observations: readonly Observation[],
  out?: Float32Array,
): Float32Array {
  const v = out ?? new Float32Array(featureLength(spec));
  const m = bySpecAnchor(spec, observations);
  let j = 0;
  for (let i = 0; i < spec.anchors.length; i++) {
    const o = m[i];
    if (spec.useRssi[i]) {
      const have = o?.rssi !== undefined;
      v[j++] = ((have ? o!.rssi! : spec.rssiFill[i]!) - spec.rssiMean[i]!) / spec.rssiScale[i]!;
      v[j++] = have ? 1 : 0;
    }
    if (spec.useRange[i]) {
      const have = o?.range !== undefined;
      v[j++] = ((have ? o!.range! : spec.rangeFill[i]!) - spec.rangeMean[i]!) / spec.rangeScale[i]!;
      v[j++] = have ? 1 : 0;
    }
  }
  return v;
}

/** Per-anchor values divided by their noise σ, for kNN: [rssi part, range part], missing channels imputed. */
export function encodeNoiseScaled(
  spec: FeatureSpec,
  observations: readonly Observation[],
): { rssi: Float64Array; range: Float64Array; heard: number } {
  const m = bySpecAnchor(spec, observations);
  const rssi = new Float64Array(spec.anchors.length);
  const range = new Float64Array(spec.anchors.length);
  let heard = 0;
  for (let i = 0; i < spec.anchors.length; i++) {
    const o = m[i];
    if (o) heard++;
    rssi[i] = spec.useRssi[i] ? (o?.rssi ?? spec.rssiFill[i]!) / spec.rssiNoise[i]! : 0;
    range[i] = spec.useRange[i] ? (o?.range ?? spec.rangeFill[i]!) / spec.rangeNoise[i]! : 0;
  }
  return { rssi, range, heard };
}

/** True when at least one anchor of the spec was heard. */
export function hearsAny(spec: FeatureSpec, observations: readonly Observation[]): boolean {
  const index = anchorIndex(spec);
  return observations.some((o) => index.has(o.anchorId));
}

/** How many distinct anchors of the spec were heard. */
export function heardCount(spec: FeatureSpec, observations: readonly Observation[]): number {
  const index = anchorIndex(spec);
  const seen = new Uint8Array(spec.anchors.length);
  let n = 0;
  for (const o of observations) {
    const i = index.get(o.anchorId);
    if (i === undefined || seen[i]) continue;
    seen[i] = 1;
    n++;
  }
  return n;
}
