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
 * Radius r with P(|e| ≤ r) = p for e ~ N(0, cov): exact for any ellipse (angular integral of the radial
 * Gaussian mass, bisection on r). For an isotropic σ² it is σ·√(−2 ln(1−p)).
 */
export function coverageRadius(cov: Cov2, p = 0.95): number {
  const [l1raw, l2raw] = eig2(cov);
  const l1 = Math.max(l1raw, 1e-12);
  const l2 = Math.max(l2raw, 1e-12);
  if (l2 / l1 > 0.999) return Math.sqrt(-2 * Math.log(1 - p) * ((l1 + l2) / 2));
  const mass = (r: number) => massWithin(l1, l2, r);
  let lo = Math.sqrt(l2) * Math.sqrt(-2 * Math.log(1 - p)) * 0.999;
  let hi = Math.sqrt(l1) * Math.sqrt(-2 * Math.log(1 - p)) * 1.001;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (mass(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const ANGLES = 48;
/** P(|e| ≤ r) for e ~ N(0, diag(l1, l2)); trapezoid over the angle (periodic, so spectrally accurate). */
function massWithin(l1: number, l2: number, r: number): number {
  let s = 0;
  for (let i = 0; i < ANGLES; i++) {
    const phi = (Math.PI * 2 * (i + 0.5)) / ANGLES;
    const c = Math.cos(phi);
    const sn = Math.sin(phi);
    const a = (c * c) / l1 + (sn * sn) / l2;
    s += (1 - Math.exp((-a * r * r) / 2)) / a;
  }
  return s / ANGLES / Math.sqrt(l1 * l2);
}

/**
 * The documented confidence mapping (docs/positioning.md): confidence = 1 / (1 + (r95 / scale)²), with r95 the
 * 95 % uncertainty radius and scale 2 m by default — a room-sized radius gives 0.5, half a metre 0.94, 6 m 0.1.
 */
export function confidenceFromRadius(radius95: number, scaleM = 2): number {
  if (!Number.isFinite(radius95)) return 0;
  return 1 / (1 + (radius95 / scaleM) ** 2);
}
