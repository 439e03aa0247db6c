/*
 * performanceScore in [0,1] from what the device's link reported in the window (docs/anomaly.md):
 *   latency   s_L = 1 − log10(max(L, 20 ms) / 20 ms) / log10(50), clamped to [0,1]: 1 up to 20 ms, 0 at 1 s
 *   loss      s_P = max(0, 1 − P / 10 %): 0 at 10 % loss
 *   bandwidth s_B = min(1, log10(1 + B) / log10(101)): 1 from 100 Mbit/s, 0.15 at 1 Mbit/s
 * combined as the weighted geometric mean (weights 0.4, 0.4, 0.2, renormalised over the parts present), so one
 * bad part pulls the score down more than an average would. Absent when the device reported none of them.
 */

export interface LinkPerformance {
  /** ms */
  latency?: number;
  /** percent */
  packetLoss?: number;
  /** Mbit/s */
  bandwidth?: number;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
/** Floor so one zero part does not zero the geometric mean entirely. */
const FLOOR = 0.01;

export function performanceScore(p: LinkPerformance): number | undefined {
  const parts: Array<[number, number]> = [];
  if (p.latency !== undefined && Number.isFinite(p.latency)) {
    parts.push([clamp01(1 - Math.log10(Math.max(p.latency, 20) / 20) / Math.log10(50)), 0.4]);
  }
  if (p.packetLoss !== undefined && Number.isFinite(p.packetLoss)) {
    parts.push([clamp01(1 - p.packetLoss / 10), 0.4]);
  }
  if (p.bandwidth !== undefined && Number.isFinite(p.bandwidth)) {
    parts.push([clamp01(Math.log10(1 + Math.max(0, p.bandwidth)) / Math.log10(101)), 0.2]);
  }
  if (parts.length === 0) return undefined;
  const w = parts.reduce((s, [, wi]) => s + wi, 0);
  const logMean = parts.reduce((s, [v, wi]) => s + wi * Math.log(Math.max(FLOOR, v)), 0) / w;
  const score = Math.exp(logMean);
  return score <= FLOOR + 1e-12 ? 0 : clamp01(score);
}
