import { robustLineFit } from './robust.js';

// Per-anchor ranging models, fitted from calibration walks.
//
// RSSI: log-distance path loss, rssi = p0 − 10·n·log10(d) + N(0, σ²) in dB, p0 = RSSI at 1 m.
// RTT:  the round trip is converted to a one-way range c·(rtt − processingOffset)/2, then corrected per anchor:
//       range = offset + scale·d + N(0, (scale·σ)²), so d = (range − offset)/scale has σ metres.
// One metre adds 2/c ≈ 6.7 ns of round trip: a ping timed in milliseconds (jitter ~0.1–10 ms ≈ 15–1500 km of
// "range") carries no usable range information, an 802.11mc FTM measurement carries metre-level information.
// The fitted σ shows which is which and every estimator weights the channel by it.

/** Speed of light in metres per millisecond (rtt is in ms on the wire). */
export const SPEED_OF_LIGHT_M_PER_MS = 299_792.458;

/** One-way range in metres from a round-trip time in milliseconds (before any per-anchor correction). */
export function rttToRange(rttMs: number, processingOffsetMs = 0): number {
  return ((rttMs - processingOffsetMs) * SPEED_OF_LIGHT_M_PER_MS) / 2;
}

export function rangeToRtt(rangeM: number): number {
  return (2 * rangeM) / SPEED_OF_LIGHT_M_PER_MS;
}

/** Distances below this are clamped in the path-loss model (the log diverges at 0). */
export const MIN_DISTANCE_M = 0.1;

/** σ we give a channel judged uninformative: large enough to weigh nothing, finite for JSON. */
export const UNINFORMATIVE_SIGMA_M = 1e6;

export interface RssiModel {
  /** dBm at 1 m. */
  p0: number;
  /** Path-loss exponent n. */
  exponent: number;
  /** Shadowing σ, dB. */
  sigmaDb: number;
  /** Samples the fit used. */
  n: number;
}

export interface RttModel {
  /** Metres: measured range = offsetM + scale·true distance. */
  offsetM: number;
  scale: number;
  /** σ of the corrected distance, metres. Huge for ping-grade RTT. */
  sigmaM: number;
  /** False when the channel carries no usable range information (ping-grade timing, too few points). */
  informative: boolean;
  n: number;
}

export interface AnchorRanging {
  anchorId: string;
  rssi: RssiModel | null;
  rtt: RttModel | null;
}

export function predictRssi(m: RssiModel, distanceM: number): number {
  return m.p0 - 10 * m.exponent * Math.log10(Math.max(distanceM, MIN_DISTANCE_M));
}

/** Median distance implied by an RSSI reading (inverse path loss). */
export function rssiToDistance(m: RssiModel, rssi: number): number {
  return 10 ** ((m.p0 - rssi) / (10 * m.exponent));
}

/** Corrected distance from a raw one-way range. */
export function correctRange(m: RttModel, rangeM: number): number {
  return (rangeM - m.offsetM) / m.scale;
}

export interface RssiFitOptions {
  /** Shrink toward this model (e.g. the pooled fit of all anchors) … */
  prior?: { p0: number; exponent: number };
  /** … with this many pseudo-observations per parameter. */
  priorWeight?: number;
}

/** Fits the path-loss model to (distance, rssi) pairs; null with fewer than 3 pairs. */
export function fitRssiModel(
  distances: readonly number[],
  rssi: readonly number[],
  options: RssiFitOptions = {},
): RssiModel | null {
  if (distances.length < 3) return null;
  const xs = distances.map((d) => -10 * Math.log10(Math.max(d, MIN_DISTANCE_M)));
  // The prior counts as `priorWeight` observations for each parameter: the slope's information per observation is
  // the variance of x, so its pseudo-weight scales with it.
  let mx = 0;
  for (const x of xs) mx += x;
  mx /= xs.length;
  let vx = 0;
  for (const x of xs) vx += (x - mx) ** 2;
  vx = Math.max(vx / xs.length, 1);
  const lam = options.priorWeight ?? 0;
  const fit = robustLineFit(xs, rssi, {
    ...(options.prior && lam > 0
      ? {
          prior: { intercept: options.prior.p0, slope: options.prior.exponent },
          priorWeight: [lam, lam * vx] as const,
        }
      : {}),
  });
  if (!fit) return null;
  // Exponents outside [1, 6] are not physical indoors; they come from too narrow a distance span.
  const exponent = Math.min(Math.max(fit.slope, 1), 6);
  let p0 = fit.intercept;
  if (exponent !== fit.slope) {
    // Refit the intercept with the exponent held.
    const res = rssi.map((r, i) => r - exponent * xs[i]!).sort((a, b) => a - b);
    p0 = res[Math.floor(res.length / 2)]!;
  }
  return { p0, exponent, sigmaDb: Math.max(fit.sigma, 0.5), n: distances.length };
}

/**
 * Fits the range correction to (true distance, raw range) pairs. The channel is informative when the slope is
 * clearly positive (t > 5) and the corrected σ is below `maxSigmaM` (default 50 m).
 */
export function fitRttModel(
  distances: readonly number[],
  ranges: readonly number[],
  options: { maxSigmaM?: number } = {},
): RttModel | null {
  if (distances.length < 3) return null;
  const fit = robustLineFit(distances, ranges);
  if (!fit) return null;
  const maxSigma = options.maxSigmaM ?? 50;
  const t = fit.slope / fit.slopeStdError;
  const sigmaM = fit.slope > 0 ? fit.sigma / fit.slope : Number.POSITIVE_INFINITY;
  const informative = fit.slope > 0.2 && fit.slope < 5 && t > 5 && sigmaM < maxSigma;
  if (!informative) {
    // Keep what was measured so the metadata shows why (σ of ping RTT is hundreds of km), capped for JSON.
    const spread = Math.min(Math.max(fit.sigma, Number.isFinite(sigmaM) ? sigmaM : 0), UNINFORMATIVE_SIGMA_M);
    return {
      offsetM: fit.intercept,
      scale: 1,
      sigmaM: Math.max(spread, maxSigma),
      informative: false,
      n: distances.length,
    };
  }
  return {
    offsetM: fit.intercept,
    scale: fit.slope,
    sigmaM: Math.max(sigmaM, 0.05),
    informative,
    n: distances.length,
  };
}
