import { type Cov2, mahalanobis2 } from './linalg2.js';
import type { Bounds } from './multilateration.js';

// Per-device constant-velocity Kalman filter over position fixes, so positions do not jump. State [x, y, vx, vy]
// (m, m/s); process noise is white acceleration with spectral density q (m²/s³). A fix whose innovation is beyond
// the χ² gate is held back; after `reinitAfter` consecutive held-back fixes that agree with each other the track
// re-initialises on them — a real move is followed within a few fixes, a lone outlier never moves the track.

export interface TrackerParams {
  /** White-acceleration spectral density, m²/s³. */
  processNoise: number;
  /** Squared Mahalanobis gate on the innovation (χ²(2): 13.8 ≈ 99.9 %). */
  gateChi2: number;
  /** Consecutive gated fixes that re-initialise the track. */
  reinitAfter: number;
  /** A gap longer than this (ms) re-initialises the track. */
  maxGapMs: number;
  /** Velocity variance of a new track, (m/s)². */
  initialVelocityVar: number;
  /** Speeds above this are clipped, m/s. */
  maxSpeedMps: number;
}

export const DEFAULT_TRACKER: TrackerParams = {
  processNoise: 0.05,
  gateChi2: 13.8,
  reinitAfter: 3,
  maxGapMs: 120_000,
  initialVelocityVar: 0.25,
  maxSpeedMps: 3,
};

export interface KalmanState {
  /** Epoch ms of the state. */
  t: number;
  /** [x, y, vx, vy]. */
  s: [number, number, number, number];
  /** Row-major 4×4 covariance. */
  P: number[];
  /** Fixes held back by the gate since the last accepted one. */
  pending: Array<{ x: number; y: number; cov: Cov2; t: number }>;
}

export function kalmanInit(x: number, y: number, cov: Cov2, t: number, params: TrackerParams): KalmanState {
  const v = params.initialVelocityVar;
  return {
    t,
    s: [x, y, 0, 0],
    P: [cov[0], cov[1], 0, 0, cov[1], cov[2], 0, 0, 0, 0, v, 0, 0, 0, 0, v],
    pending: [],
  };
}

/** The state moved forward to time t (no measurement). */
export function kalmanPredict(k: KalmanState, t: number, params: TrackerParams): KalmanState {
  const dt = Math.max((t - k.t) / 1000, 0);
  if (dt === 0) return k;
  const [x, y, vx, vy] = k.s;
  const s: [number, number, number, number] = [x + vx * dt, y + vy * dt, vx, vy];
  // P' = F P Fᵀ + Q with F = [[I, dt·I],[0, I]].
  const P = k.P;
  const q = params.processNoise;
  const q11 = (q * dt ** 3) / 3;
  const q13 = (q * dt ** 2) / 2;
  const q33 = q * dt;
  const n = new Array<number>(16);
  // Work per axis pair (x uses indices 0 and 2, y uses 1 and 3); cross terms included generally.
  const F = [1, 0, dt, 0, 0, 1, 0, dt, 0, 0, 1, 0, 0, 0, 0, 1];
  const FP = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      let a = 0;
      for (let m = 0; m < 4; m++) a += F[i * 4 + m]! * P[m * 4 + j]!;
      FP[i * 4 + j] = a;
    }
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      let a = 0;
      for (let m = 0; m < 4; m++) a += FP[i * 4 + m]! * F[j * 4 + m]!;
      n[i * 4 + j] = a;
    }
  n[0]! += q11;
  n[5]! += q11;
  n[2]! += q13;
  n[8]! += q13;
  n[7]! += q13;
  n[13]! += q13;
  n[10]! += q33;
  n[15]! += q33;
  return { ...k, t, s, P: n };
}

export function positionCov(k: KalmanState): Cov2 {
  return [k.P[0]!, k.P[1]!, k.P[5]!];
}

function clampState(k: KalmanState, box: Bounds, params: TrackerParams): KalmanState {
  let [x, y, vx, vy] = k.s;
  x = Math.min(Math.max(x, box.minX), box.maxX);
  y = Math.min(Math.max(y, box.minY), box.maxY);
  const sp = Math.hypot(vx, vy);
  if (sp > params.maxSpeedMps) {
    vx *= params.maxSpeedMps / sp;
    vy *= params.maxSpeedMps / sp;
  }
  return { ...k, s: [x, y, vx, vy] };
}

/** Standard Kalman update with H = [I 0], measurement covariance R = the fix's covariance. */
function kalmanCorrect(k: KalmanState, x: number, y: number, R: Cov2): KalmanState {
  const P = k.P;
  const s11 = P[0]! + R[0];
  const s12 = P[1]! + R[1];
  const s22 = P[5]! + R[2];
  const det = s11 * s22 - s12 * s12;
  const i11 = s22 / det;
  const i12 = -s12 / det;
  const i22 = s11 / det;
  // K = P Hᵀ S⁻¹ (4×2): PHᵀ is the first two columns of P.
  const K = new Array<number>(8);
  for (let r = 0; r < 4; r++) {
    const p0 = P[r * 4]!;
    const p1 = P[r * 4 + 1]!;
    K[r * 2] = p0 * i11 + p1 * i12;
    K[r * 2 + 1] = p0 * i12 + p1 * i22;
  }
  const ix = x - k.s[0];
  const iy = y - k.s[1];
  const s: [number, number, number, number] = [
    k.s[0] + K[0]! * ix + K[1]! * iy,
    k.s[1] + K[2]! * ix + K[3]! * iy,
    k.s[2] + K[4]! * ix + K[5]! * iy,
    k.s[3] + K[6]! * ix + K[7]! * iy,
  ];
  // P' = (I − K H) P.
  const n = new Array<number>(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      n[r * 4 + c] = P[r * 4 + c]! - (K[r * 2]! * P[c]! + K[r * 2 + 1]! * P[4 + c]!);
  // Keep it symmetric against round-off.
  for (let r = 0; r < 4; r++)
    for (let c = r + 1; c < 4; c++) {
      const m = (n[r * 4 + c]! + n[c * 4 + r]!) / 2;
      n[r * 4 + c] = m;
      n[c * 4 + r] = m;
    }
  return { ...k, s, P: n, pending: [] };
}

export type TrackOutcome = 'initialised' | 'accepted' | 'gated' | 'reinitialised';

/** Folds one fix (taken at time t) into the track. */
export function trackFix(
  k: KalmanState | null,
  fix: { x: number; y: number; cov: Cov2 },
  t: number,
  box: Bounds,
  params: TrackerParams,
): { state: KalmanState; outcome: TrackOutcome } {
  if (k === null || t - k.t > params.maxGapMs) {
    return {
      state: clampState(kalmanInit(fix.x, fix.y, fix.cov, t, params), box, params),
      outcome: 'initialised',
    };
  }
  const pred = kalmanPredict(k, Math.max(t, k.t), params);
  const S: Cov2 = [pred.P[0]! + fix.cov[0], pred.P[1]! + fix.cov[1], pred.P[5]! + fix.cov[2]];
  const d2 = mahalanobis2(fix.x - pred.s[0], fix.y - pred.s[1], S);
  if (d2 <= params.gateChi2) {
    return {
      state: clampState(kalmanCorrect(pred, fix.x, fix.y, fix.cov), box, params),
      outcome: 'accepted',
    };
  }
  const pending = [...pred.pending, { x: fix.x, y: fix.y, cov: fix.cov, t }].slice(-params.reinitAfter);
  if (pending.length >= params.reinitAfter && consistent(pending, params.gateChi2)) {
    // A real move: restart on the held-back fixes (oldest first), so the new track has their information.
    const first = pending[0]!;
    let s = kalmanInit(first.x, first.y, first.cov, first.t, params);
    for (const p of pending.slice(1)) s = kalmanCorrect(kalmanPredict(s, p.t, params), p.x, p.y, p.cov);
    return { state: clampState(s, box, params), outcome: 'reinitialised' };
  }
  return { state: { ...pred, pending }, outcome: 'gated' };
}

/** The held-back fixes agree with their common (precision-weighted) mean. */
function consistent(fixes: ReadonlyArray<{ x: number; y: number; cov: Cov2 }>, gate: number): boolean {
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (const f of fixes) {
    const w = 2 / (f.cov[0] + f.cov[2]);
    sx += w * f.x;
    sy += w * f.y;
    sw += w;
  }
  const mx = sx / sw;
  const my = sy / sw;
  return fixes.every((f) => mahalanobis2(f.x - mx, f.y - my, f.cov) <= gate);
}
