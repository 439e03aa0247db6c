import { type Cov2, mahalanobis2 } from './linalg2.js';
import type { Bounds } from './multilateration.js';

// Per-device tracking over position fixes, so positions do not jump: an interacting-multiple-model (IMM) Kalman
// filter of two constant-velocity models on the state [x, y, vx, vy] (m, m/s) — "still" (velocity held at zero,
// the position wanders by a tiny random walk: a device on a shelf is averaged over many fixes) and "moving" (white
// acceleration with spectral density q: a person walking is followed). The filter weighs the two by how well each
// predicted the fixes, with Markov switching between them (mean dwell times below).
// A fix whose innovation is beyond the χ² gate under both models is held back; after `reinitAfter` consecutive
// held-back fixes that agree with each other the track re-initialises on them — a real move (a device carried to
// another room while it was not heard) is followed within a few fixes, a lone outlier never moves the track.

export interface TrackerParams {
  /** White-acceleration spectral density of the moving model, m²/s³. */
  processNoise: number;
  /** Position random walk of the still model, m²/s. */
  stillNoise: number;
  /** Mean time a device stays still / keeps moving before switching, s. */
  meanStillS: number;
  meanMovingS: number;
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
  /**
   * A third model between still and moving: constant velocity with this (small) white-acceleration density,
   * m²/s³ — a device carried slowly and steadily (creeping along, ~0.1 m/s) that the still model explains with lag
   * and the walking model with noise. Absent or 0: the two-model filter.
   */
  slowProcessNoise?: number;
  /**
   * Share ρ ∈ [0, 1] of a fix's covariance that does not average away along a track: the fixes of a device standing
   * in one place share most of their error (the same walls, multipath and bias), which the filter — treating each
   * fix as new information — cannot see, so its own covariance shrinks far below the real error. The reported
   * covariance is (1 − ρ′)·P + ρ′·R (P the filter's, R the last fix's), with ρ′ = ρ · P(still): R for a new track,
   * ρ·R once a still one has settled, less for a moving one (its fixes come from other places). Calibrated by
   * training on the walk's held-out fixes (training/positioning/persistent-share.ts). The filter and the position
   * are unchanged. Absent or 0: the filter's covariance.
   */
  persistentShare?: number;
}

// Defaults: a walker changes velocity by ~0.3 m/s within seconds (q 0.05 m²/s³); a "still" device may drift by
// ~7 cm/√s (stillNoise 0.005 m²/s: furniture, a phone on a sofa); switches about every 20–30 s. A third, "slow"
// model (q 0.001 m²/s³: a steady creep of ~0.1 m/s) was chosen on simulated walks of the ESPresense floor at 1 Hz
// and walking pace whose seeds ("calib|…") are not the benchmark's ("espresense|…"): it removes most of the lag
// the still model puts on a slowly carried device. Not tuned on any real test set.
export const DEFAULT_TRACKER: TrackerParams = {
  processNoise: 0.05,
  stillNoise: 0.005,
  meanStillS: 30,
  meanMovingS: 20,
  gateChi2: 13.8,
  reinitAfter: 3,
  maxGapMs: 120_000,
  initialVelocityVar: 0.25,
  maxSpeedMps: 3,
  slowProcessNoise: 0.001,
};

type Vec4 = [number, number, number, number];

interface ModelState {
  s: Vec4;
  /** Row-major 4×4 covariance. */
  P: number[];
}

export interface KalmanState {
  /** Epoch ms of the state. */
  t: number;
  /** Combined state [x, y, vx, vy] and covariance (what is reported). */
  s: Vec4;
  P: number[];
  /** [still, moving(, slow)] model states and probabilities. */
  models: ModelState[];
  mu: number[];
  /** Fixes held back by the gate since the last accepted one. */
  pending: Array<{ x: number; y: number; cov: Cov2; t: number }>;
}

function initModel(x: number, y: number, cov: Cov2, velVar: number): ModelState {
  return {
    s: [x, y, 0, 0],
    P: [cov[0], cov[1], 0, 0, cov[1], cov[2], 0, 0, 0, 0, velVar, 0, 0, 0, 0, velVar],
  };
}

/** 2, or 3 with the slow model. */
function modelCount(params: TrackerParams): number {
  return params.slowProcessNoise ? 3 : 2;
}

/** Model probabilities: `still` for the still model, the rest shared by the moving ones. */
function splitMu(still: number, n: number): number[] {
  return [still, ...Array.from({ length: n - 1 }, () => (1 - still) / (n - 1))];
}

export function kalmanInit(x: number, y: number, cov: Cov2, t: number, params: TrackerParams): KalmanState {
  const still = initModel(x, y, cov, 1e-4);
  const moving = initModel(x, y, cov, params.initialVelocityVar);
  const models = [still, moving];
  if (modelCount(params) === 3) models.push(initModel(x, y, cov, params.initialVelocityVar));
  return combine({ t, s: [x, y, 0, 0], P: moving.P, models, mu: splitMu(0.5, models.length), pending: [] });
}

function mul4(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  return mul4Into(A, B, new Array<number>(16));
}

/** A·B into out (4×4, row-major). */
function mul4Into<T extends { [i: number]: number }>(A: ArrayLike<number>, B: ArrayLike<number>, out: T): T {
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      let a = 0;
      for (let m = 0; m < 4; m++) a += A[i * 4 + m]! * B[m * 4 + j]!;
      out[i * 4 + j] = a;
    }
  return out;
}

function transpose4Into(A: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = A[j * 4 + i]!;
  return out;
}

// Scratch of predictModel: F, Fᵀ and F·P (only F·P·Fᵀ is kept, in a fresh array: it goes into the state).
const F_S = new Float64Array(16);
const FT_S = new Float64Array(16);
const FP_S = new Float64Array(16);

/** F·P·Fᵀ for the transition F (row-major), with mul4's arithmetic. */
function propagate(F: ArrayLike<number>, P: ArrayLike<number>): number[] {
  return mul4(mul4Into(F, P, FP_S), transpose4Into(F, FT_S));
}

const STILL_F = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const UNIT_F = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);

/** One model's prediction over dt seconds: kind 0 still, 1 moving, 2 slow. */
function predictModel(
  m: { s: ArrayLike<number>; P: ArrayLike<number> },
  dt: number,
  kind: number,
  params: TrackerParams,
): ModelState {
  if (dt <= 0) return { s: [m.s[0]!, m.s[1]!, m.s[2]!, m.s[3]!], P: Array.from(m.P) };
  if (kind === 0) {
    // Still: velocity is zero, position random walk.
    const P = propagate(STILL_F, m.P);
    const qp = params.stillNoise * dt;
    P[0]! += qp;
    P[5]! += qp;
    P[10] = 1e-4;
    P[15] = 1e-4;
    return { s: [m.s[0]!, m.s[1]!, 0, 0], P };
  }
  const F = F_S;
  F.set(UNIT_F);
  F[2] = dt;
  F[7] = dt;
  const P = propagate(F, m.P);
  const q = kind === 2 ? (params.slowProcessNoise ?? params.processNoise) : params.processNoise;
  const q11 = (q * dt ** 3) / 3;
  const q13 = (q * dt ** 2) / 2;
  const q33 = q * dt;
  P[0]! += q11;
  P[5]! += q11;
  P[2]! += q13;
  P[8]! += q13;
  P[7]! += q13;
  P[13]! += q13;
  P[10]! += q33;
  P[15]! += q33;
  return { s: [m.s[0]! + m.s[2]! * dt, m.s[1]! + m.s[3]! * dt, m.s[2]!, m.s[3]!], P };
}

const K_S = new Float64Array(8);

/** Standard Kalman update with H = [I 0]; returns the updated model and the innovation's log-likelihood and d². */
function correctModel(
  m: ModelState,
  x: number,
  y: number,
  R: Cov2,
): { m: ModelState; logL: number; d2: number } {
  const P = m.P;
  const s11 = P[0]! + R[0];
  const s12 = P[1]! + R[1];
  const s22 = P[5]! + R[2];
  const det = s11 * s22 - s12 * s12;
  const i11 = s22 / det;
  const i12 = -s12 / det;
  const i22 = s11 / det;
  const ix = x - m.s[0];
  const iy = y - m.s[1];
  const d2 = ix * ix * i11 + 2 * ix * iy * i12 + iy * iy * i22;
  const K = K_S;
  for (let r = 0; r < 4; r++) {
    const p0 = P[r * 4]!;
    const p1 = P[r * 4 + 1]!;
    K[r * 2] = p0 * i11 + p1 * i12;
    K[r * 2 + 1] = p0 * i12 + p1 * i22;
  }
  const s: Vec4 = [
    m.s[0] + K[0]! * ix + K[1]! * iy,
    m.s[1] + K[2]! * ix + K[3]! * iy,
    m.s[2] + K[4]! * ix + K[5]! * iy,
    m.s[3] + K[6]! * ix + K[7]! * iy,
  ];
  const n = new Array<number>(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      n[r * 4 + c] = P[r * 4 + c]! - (K[r * 2]! * P[c]! + K[r * 2 + 1]! * P[4 + c]!);
  for (let r = 0; r < 4; r++)
    for (let c = r + 1; c < 4; c++) {
      const avg = (n[r * 4 + c]! + n[c * 4 + r]!) / 2;
      n[r * 4 + c] = avg;
      n[c * 4 + r] = avg;
    }
  return { m: { s, P: n }, logL: -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * d2, d2 };
}

/** Moment-matched mixture of the models (what is reported). */
function combine(k: KalmanState): KalmanState {
  const n = k.models.length;
  const s: Vec4 = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) for (let j = 0; j < n; j++) s[i] += k.mu[j]! * k.models[j]!.s[i]!;
  const P = new Array<number>(16).fill(0);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      for (let j = 0; j < n; j++) {
        const m = k.models[j]!;
        const d = (m.s[r]! - s[r]!) * (m.s[c]! - s[c]!);
        P[r * 4 + c]! += k.mu[j]! * (m.P[r * 4 + c]! + d);
      }
    }
  return kalmanState(k.t, s, P, k.models, k.mu, k.pending);
}

/**
 * Every state is built here, fields in one order: spreads (`{ ...k, s, P }`) made objects of other hidden classes,
 * and the tracker's functions were deoptimised whenever a new one came by.
 */
function kalmanState(
  t: number,
  s: Vec4,
  P: number[],
  models: ModelState[],
  mu: number[],
  pending: KalmanState['pending'],
): KalmanState {
  return { t, s, P, models, mu, pending };
}

/**
 * Markov switching probabilities over dt seconds: π[i][j] = P(model j now | model i before). A model is left at
 * the rate of its mean dwell time (still: meanStillS, the others meanMovingS), evenly toward the others.
 */
function transitions(dt: number, params: TrackerParams, n: number): Float64Array {
  // Row-major n×n into scratch (no allocation: this runs on every update of every device).
  if (PI_S.length < n * n) PI_S = new Float64Array(n * n);
  const out = PI_S;
  for (let i = 0; i < n; i++) {
    const l = i === 0 ? 1 - Math.exp(-dt / params.meanStillS) : 1 - Math.exp(-dt / params.meanMovingS);
    for (let j = 0; j < n; j++) out[i * n + j] = i === j ? 1 - l : l / (n - 1);
  }
  return out;
}

// Scratch of mixAndPredict: the transition matrix, one model's mixing weights, and its mixed state and covariance
// (predictModel copies what it keeps).
let PI_S = new Float64Array(9);
let W_S = new Float64Array(3);
const MIX_S = new Float64Array(4);
const MIX_P = new Float64Array(16);

/** IMM mixing and prediction of every model to time t. */
function mixAndPredict(
  k: KalmanState,
  t: number,
  params: TrackerParams,
): { models: ModelState[]; c: number[] } {
  const dt = Math.max((t - k.t) / 1000, 0);
  const n = k.models.length;
  const pi = transitions(dt, params, n);
  // Packed arrays (push, not new Array(n)): they go into states, whose readers should see one element kind.
  const c: number[] = [];
  for (let j = 0; j < n; j++) {
    let v = 0;
    for (let i = 0; i < n; i++) v += pi[i * n + j]! * k.mu[i]!;
    c.push(v);
  }
  if (W_S.length < n) W_S = new Float64Array(n);
  const w = W_S;
  const models: ModelState[] = [];
  for (let j = 0; j < n; j++) {
    // Mixing weights of the previous models into model j (the last one as the remainder, so they sum to 1).
    let rest = 1;
    for (let i = 0; i < n - 1; i++) {
      w[i] = (pi[i * n + j]! * k.mu[i]!) / Math.max(c[j]!, 1e-300);
      rest -= w[i]!;
    }
    w[n - 1] = rest;
    // Without a prediction step (dt = 0) the mixed state is the model's new state: fresh arrays, else scratch.
    const keep = dt <= 0;
    const s = keep ? new Array<number>(4).fill(0) : MIX_S.fill(0);
    for (let r = 0; r < 4; r++) for (let i = 0; i < n; i++) s[r] += w[i]! * k.models[i]!.s[r]!;
    const P = keep ? new Array<number>(16).fill(0) : MIX_P.fill(0);
    for (let r = 0; r < 4; r++)
      for (let col = 0; col < 4; col++) {
        for (let i = 0; i < n; i++) {
          const m = k.models[i]!;
          const d = (m.s[r]! - s[r]!) * (m.s[col]! - s[col]!);
          P[r * 4 + col]! += w[i]! * (m.P[r * 4 + col]! + d);
        }
      }
    models.push(keep ? { s: s as Vec4, P: P as number[] } : predictModel({ s, P }, dt, j, params));
  }
  return { models, c };
}

/** The state moved forward to time t (no measurement), for reporting. */
export function kalmanPredict(
  k: KalmanState,
  t: number,
  params: TrackerParams = DEFAULT_TRACKER,
): KalmanState {
  if (t <= k.t) return k;
  const { models, c } = mixAndPredict(k, t, params);
  return combine(kalmanState(t, k.s, k.P, models, c, k.pending));
}

export function positionCov(k: KalmanState): Cov2 {
  return [k.P[0]!, k.P[1]!, k.P[5]!];
}

/**
 * The covariance a track reports: `reportedCov` with ρ weighted by the probability that the device is still — the
 * fixes of a device that stays put share their error; a moving device's come from other places, other walls.
 */
export function trackReportedCov(k: KalmanState, fixCov: Cov2 | null, share: number): Cov2 {
  return reportedCov(positionCov(k), fixCov, share * (1 - movingProbability(k)));
}

/** (1 − ρ)·P + ρ·R: the filter's covariance P blended with the fix covariance R (`persistentShare`). */
export function reportedCov(trackCov: Cov2, fixCov: Cov2 | null, share: number): Cov2 {
  if (!(share > 0) || fixCov === null) return trackCov;
  const rho = Math.min(share, 1);
  return [
    (1 - rho) * trackCov[0] + rho * fixCov[0],
    (1 - rho) * trackCov[1] + rho * fixCov[1],
    (1 - rho) * trackCov[2] + rho * fixCov[2],
  ];
}

function clampState(k: KalmanState, box: Bounds, params: TrackerParams): KalmanState {
  const models: ModelState[] = [];
  for (let i = 0; i < k.models.length; i++) {
    const m = k.models[i]!;
    const x = Math.min(Math.max(m.s[0], box.minX), box.maxX);
    const y = Math.min(Math.max(m.s[1], box.minY), box.maxY);
    let vx = m.s[2];
    let vy = m.s[3];
    const sp = Math.hypot(vx, vy);
    if (sp > params.maxSpeedMps) {
      vx *= params.maxSpeedMps / sp;
      vy *= params.maxSpeedMps / sp;
    }
    models.push({ s: [x, y, vx, vy], P: m.P });
  }
  return combine(kalmanState(k.t, k.s, k.P, models, k.mu, k.pending));
}

export type TrackOutcome = 'initialised' | 'accepted' | 'gated' | 'reinitialised';

/** The probability that the device is moving (the weight of the IMM's moving models). */
export function movingProbability(k: KalmanState): number {
  return 1 - k.mu[0]!;
}

/** Folds one fix (taken at time t) into the track. */
export function trackFix(
  k: KalmanState | null,
  fix: { x: number; y: number; cov: Cov2 },
  t: number,
  box: Bounds,
  params: TrackerParams,
): { state: KalmanState; outcome: TrackOutcome } {
  // A gap, or a state of another model set (saved under other tracker parameters): a new track.
  if (k === null || t - k.t > params.maxGapMs || k.models.length !== modelCount(params)) {
    return {
      state: clampState(kalmanInit(fix.x, fix.y, fix.cov, t, params), box, params),
      outcome: 'initialised',
    };
  }
  const tt = Math.max(t, k.t);
  const { models, c } = mixAndPredict(k, tt, params);
  // Plain loops (pairwise Math.min/max: the same values as the spread calls, NaN included).
  const n = models.length;
  const u: Array<{ m: ModelState; logL: number; d2: number }> = new Array(n);
  let minD2 = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    u[i] = correctModel(models[i]!, fix.x, fix.y, fix.cov);
    minD2 = Math.min(minD2, u[i]!.d2);
  }
  if (minD2 <= params.gateChi2) {
    const w: number[] = new Array(n);
    let top = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      w[i] = Math.log(Math.max(c[i]!, 1e-300)) + u[i]!.logL;
      top = Math.max(top, w[i]!);
    }
    for (let i = 0; i < n; i++) w[i] = Math.exp(w[i]! - top);
    let mu: number[];
    if (n === 2) {
      // Keep each model alive (≥ 0.1 %) so the filter can always switch back.
      const mu0 = Math.min(Math.max(w[0]! / (w[0]! + w[1]!), 0.001), 0.999);
      mu = [mu0, 1 - mu0];
    } else {
      let sw = 0;
      for (let i = 0; i < n; i++) sw += w[i]!;
      let sf = 0;
      for (let i = 0; i < n; i++) {
        w[i] = Math.max(w[i]! / sw, 0.001);
        sf += w[i]!;
      }
      mu = [];
      for (let i = 0; i < n; i++) mu.push(w[i]! / sf);
    }
    const corrected: ModelState[] = [];
    for (let i = 0; i < n; i++) corrected.push(u[i]!.m);
    // clampState combines the (clamped) models into s and P: no combine of the unclamped ones before it.
    const state = kalmanState(tt, k.s, k.P, corrected, mu, []);
    return { state: clampState(state, box, params), outcome: 'accepted' };
  }
  const predicted = combine(kalmanState(tt, k.s, k.P, models, c, k.pending));
  const pending = [...k.pending, { x: fix.x, y: fix.y, cov: fix.cov, t }].slice(-params.reinitAfter);
  if (pending.length >= params.reinitAfter && consistent(pending, params.gateChi2)) {
    // A real move: restart on the held-back fixes (oldest first), so the new track has their information.
    const first = pending[0]!;
    let s = kalmanInit(first.x, first.y, first.cov, first.t, params);
    s = kalmanState(s.t, s.s, s.P, s.models, splitMu(0.1, s.models.length), s.pending);
    for (const p of pending.slice(1))
      s = trackFix(s, p, p.t, box, { ...params, gateChi2: Number.POSITIVE_INFINITY }).state;
    return { state: clampState(s, box, params), outcome: 'reinitialised' };
  }
  return {
    state: kalmanState(predicted.t, predicted.s, predicted.P, predicted.models, predicted.mu, pending),
    outcome: 'gated',
  };
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
