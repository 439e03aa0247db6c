import type { Point } from '../models/positioning/geometry.js';
import { type Cov2, inv2 } from '../models/positioning/linalg2.js';
import { type AnchorChannel, distanceToAnchor, type RadioParams } from './radio.js';

// Cramér–Rao lower bound of a single fix: the inverse Fisher information of the position given one reading per
// anchor. RSSI: μ = p0 − 10n·log10 d, ∂μ/∂x = −(10n/ln10)·(x − ax)/d², information (∇μ∇μᵀ)/σ². FTM: μ = offset +
// scale·d, information scale²·(∇d∇dᵀ)/σ². Multipath and NLOS outliers are not Gaussian and are left out: the bound
// is that of the Gaussian part (as the scenario's note states it). Wall losses are constant in x, y: no information.

export interface CrlbOptions {
  rssi?: boolean;
  rtt?: boolean;
}

export function fisherInformation(
  radio: RadioParams,
  channels: ReadonlyMap<string, AnchorChannel>,
  p: Point,
  options: CrlbOptions = {},
): Cov2 {
  let j11 = 0;
  let j12 = 0;
  let j22 = 0;
  for (const ch of channels.values()) {
    const a = ch.anchor;
    const d = Math.max(distanceToAnchor(a, p.x, p.y, radio.deviceHeight), 0.1);
    const ux = (p.x - a.x) / d;
    const uy = (p.y - a.y) / d;
    if (options.rssi ?? true) {
      const f = (10 * ch.exponent) / (Math.LN10 * d * radio.shadowingSigmaDb);
      j11 += f * f * ux * ux;
      j12 += f * f * ux * uy;
      j22 += f * f * uy * uy;
    }
    if ((options.rtt ?? true) && ch.rtt === 'ftm') {
      const f = ch.ftmScale / radio.ftm.sigmaM;
      j11 += f * f * ux * ux;
      j12 += f * f * ux * uy;
      j22 += f * f * uy * uy;
    }
    // Ping-grade RTT: σ of milliseconds ≈ 10⁵ m of range; its information (~1e-10 per m²) is nil.
  }
  return [j11, j12, j22];
}

/** √trace(J⁻¹): the smallest RMSE (m) an unbiased single fix at p can have. Infinity when not identifiable. */
export function crlbRmseAt(
  radio: RadioParams,
  channels: ReadonlyMap<string, AnchorChannel>,
  p: Point,
  options: CrlbOptions = {},
): number {
  const inv = inv2(fisherInformation(radio, channels, p, options));
  return inv === null ? Number.POSITIVE_INFINITY : Math.sqrt(inv[0] + inv[2]);
}

/** The bound's RMSE over a set of points: √(mean of trace(J⁻¹)). */
export function crlbRmse(
  radio: RadioParams,
  channels: ReadonlyMap<string, AnchorChannel>,
  points: readonly Point[],
  options: CrlbOptions = {},
): number {
  let s = 0;
  for (const p of points) s += crlbRmseAt(radio, channels, p, options) ** 2;
  return Math.sqrt(s / points.length);
}
