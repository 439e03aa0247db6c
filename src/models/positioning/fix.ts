import { type Cov2, eig2 } from './linalg2.js';

export const ESTIMATORS = ['multilateration', 'fingerprint', 'knn'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];
export type ModelName = EstimatorName | 'fusion';

/** One position fix of one estimator from one set of measurements (no tracking). */
export interface Fix {
  /** Metres, site coordinates. */
  x: number;
  y: number;
  /** m²: [σxx, σxy, σyy], already calibrated when it comes out of an estimator of a trained model. */
  cov: Cov2;
  model: ModelName;
  /** Anchors the fix used. */
  anchors: number;
}

/** χ²(2) quantile at 0.95: for an isotropic 2-D Gaussian the 95 % radius is σ·√5.991. */
export const CHI2_2_95 = 5.991464547107979;

/**
 * Radius r with P(|e| ≤ r) = p for e ~ N(0, cov): exact for any ellipse. The mass inside r is the angular integral
 * of the radial Gaussian mass (closed form per angle); r scales with √λ₁ and otherwise depends only on the axis
 * ratio, so r/√λ₁ is tabulated once per p over √(λ₂/λ₁) and one Newton step from the interpolated value makes it
 * exact (to ~1e-12 relative). For an isotropic σ² it is σ·√(−2 ln(1−p)).
 */
export function coverageRadius(cov: Cov2, p = 0.95): number {
  const [l1raw, l2raw] = eig2(cov);
  const l1 = Math.max(l1raw, 1e-12);
  const l2 = Math.max(l2raw, 1e-12);
  const q = Math.sqrt(-2 * Math.log(1 - p));
  if (l2 / l1 > 0.999) return q * Math.sqrt((l1 + l2) / 2);
  const s = Math.sqrt(l1);
  const table = radiusTable(p);
  const f = Math.sqrt(l2 / l1) * RATIO_STEPS;
  const i = Math.min(Math.floor(f), RATIO_STEPS - 1);
  const u = f - i;
  const r0 = s * ((1 - u) * table[i]! + u * table[i + 1]!);
  const [fm, slope] = massAndSlope(l1, l2, r0, p);
  const r1 = r0 - fm / slope;
  // A start that close converges in this one step; otherwise (very elongated ellipses, where the angular sum is
  // steep) solve in full from the bracket.
  if (Number.isFinite(r1) && Math.abs(r1 - r0) <= 1e-5 * r0) return r1;
  return solveRadius(l1, l2, p);
}

const RATIO_STEPS = 512;
const tables = new Map<number, Float64Array>();

/** r/√λ₁ at √(λ₂/λ₁) = i/RATIO_STEPS, for coverage p (solved once). */
function radiusTable(p: number): Float64Array {
  let t = tables.get(p);
  if (!t) {
    t = new Float64Array(RATIO_STEPS + 1);
    for (let i = 0; i <= RATIO_STEPS; i++) {
      const ratio = Math.max((i / RATIO_STEPS) ** 2, 1e-12);
      t[i] = solveRadius(1, ratio, p);
    }
    tables.set(p, t);
  }
  return t;
}

/** P(|e| ≤ r) − p and its derivative in r, for e ~ N(0, diag(l1, l2)) (trapezoid over the angle). */
function massAndSlope(l1: number, l2: number, r: number, p: number): [number, number] {
  const norm = 1 / (ANGLES * Math.sqrt(l1 * l2));
  let m = 0;
  let dm = 0;
  for (let i = 0; i < ANGLES; i++) {
    const a = COS2[i]! / l1 + SIN2[i]! / l2;
    const e = Math.exp((-a * r * r) / 2);
    m += (1 - e) / a;
    dm += r * e;
  }
  return [m * norm - p, dm * norm];
}

/** Safeguarded Newton (bisection when a step leaves the bracket) to full precision. */
function solveRadius(l1: number, l2: number, p: number): number {
  const q = Math.sqrt(-2 * Math.log(1 - p));
  let lo = Math.sqrt(Math.min(l1, l2)) * q * 0.999;
  let hi = Math.sqrt(Math.max(l1, l2)) * q * 1.001;
  let r = Math.min(Math.max(q * Math.sqrt((l1 + l2) / 2), lo), hi);
  for (let it = 0; it < 100; it++) {
    const [f, df] = massAndSlope(l1, l2, r, p);
    if (f < 0) lo = r;
    else hi = r;
    let next = r - f / df;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - r) <= 1e-15 * r || hi - lo <= 1e-15 * hi) return next;
    r = next;
  }
  return r;
}

const ANGLES = 48;
// cos² and sin² of the trapezoid's angles (periodic integrand, so spectrally accurate).
const COS2 = Float64Array.from(
  { length: ANGLES },
  (_, i) => Math.cos((Math.PI * 2 * (i + 0.5)) / ANGLES) ** 2,
);
const SIN2 = Float64Array.from(
  { length: ANGLES },
  (_, i) => Math.sin((Math.PI * 2 * (i + 0.5)) / ANGLES) ** 2,
);

/**
 * The documented confidence mapping (docs/positioning.md): confidence = 1 / (1 + (r95 / scale)²), with r95 the
 * 95 % uncertainty radius and scale 2 m by default — a room-sized radius gives 0.5, half a metre 0.94, 6 m 0.1.
 */
export function confidenceFromRadius(radius95: number, scaleM = 2): number {
  if (!Number.isFinite(radius95)) return 0;
  return 1 / (1 + (radius95 / scaleM) ** 2);
}
