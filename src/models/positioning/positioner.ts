import type {
  AnchorReading,
  PositionEstimate,
  Positioner,
  PositionUpdate,
} from '../contracts/positioning.js';
import { estimateFixes, jointFix, toPositionEstimate } from './estimate.js';
import type { Fix } from './fix.js';
import { type Cov2, scale2 } from './linalg2.js';
import type { PositioningModel } from './model.js';
import { searchBox } from './multilateration-start-grid.js';
import type { Observation } from './observation.js';
import { measurementFromPosterior, PREDICTION_PRIOR_WIDENING } from './prediction-prior.js';
import { rttToRange } from './ranging.js';
import { type KalmanState, kalmanPredict, positionCov, trackFix, trackReportedCov } from './tracker.js';

// The Positioner the worker calls: per device, the latest reading of each anchor within a time window, a fused
// fix whenever new readings arrive, and the constant-velocity Kalman track. The state is plain JSON.

export interface TrackState {
  /** Latest reading per anchor (RSSI dBm, raw range m) with its epoch ms. */
  latest: Record<string, { t: number; rssi?: number; range?: number }>;
  kf: KalmanState | null;
  /** Which estimator produced the last fix folded in. */
  lastModel: string | null;
  /** Floor vote of the last fix. */
  floors: Array<[number, number]> | null;
  /**
   * Covariance of the last fix folded in (the persistent part of the error, `TrackerParams.persistentShare`).
   * Optional: a state saved before it existed reads as none.
   */
  fixCov?: Cov2 | null;
}

/** Every state is built here, fields in one order (one hidden class: the update is not deoptimised by another). */
function trackState(
  latest: TrackState['latest'],
  kf: KalmanState | null,
  lastModel: string | null,
  floors: Array<[number, number]> | null,
  fixCov: Cov2 | null,
): TrackState {
  return { latest, kf, lastModel, floors, fixCov };
}

export interface PositionerOptions {
  /**
   * When the model's answer is the multilateration fix, solve it with the track's prediction as a prior
   * (prediction-prior.ts). Default on; off reproduces the tracker fed plain fixes (the benches' comparison).
   */
  predictionPrior?: boolean;
}

export function createPositioner(
  model: PositioningModel,
  version = 'untrained',
  options: PositionerOptions = {},
): Positioner<TrackState> {
  const usePredictionPrior = options.predictionPrior ?? true;
  const known = new Set<string>([
    ...model.data.site.anchors.map((a) => a.id),
    ...(model.data.knn?.spec.anchors ?? []),
    ...(model.fingerprint?.meta.spec.anchors ?? []),
  ]);
  const { windowMs, confidenceScaleM, staleMs } = model.data.runtime;
  const box = searchBox(model.data.site.bounds, model.data.multilateration?.params.marginM ?? 1);

  /**
   * The measurement the track folds in for a multilateration fix: the posterior with the prediction as a prior,
   * the prior divided back out. The plain fix when there is no live track or the division is ill-posed.
   */
  const trackMeasurement = (
    kf: KalmanState | null,
    fix: Fix,
    observations: readonly Observation[],
    nowMs: number,
  ): { x: number; y: number; cov: Cov2 } => {
    const ml = model.data.multilateration;
    if (!usePredictionPrior || !ml || fix.model !== 'multilateration' || !kf) return fix;
    if (nowMs - kf.t > model.data.tracker.maxGapMs) return fix;
    const k = kalmanPredict(kf, Math.max(nowMs, kf.t), model.data.tracker);
    const prior: Fix = {
      x: k.s[0],
      y: k.s[1],
      cov: scale2(positionCov(k), PREDICTION_PRIOR_WIDENING),
      model: 'fusion',
      anchors: 0,
    };
    const posterior = jointFix(model, observations, prior, 1);
    if (!posterior || posterior === prior) return fix;
    const m = measurementFromPosterior(prior, posterior);
    if (!m) return fix;
    return { x: m.x, y: m.y, cov: scale2(m.cov, ml.covScale) };
  };

  const estimateOf = (s: TrackState, nowMs: number): PositionEstimate | null => {
    if (!s.kf || nowMs - s.kf.t > staleMs) return null;
    const k = kalmanPredict(s.kf, Math.max(nowMs, s.kf.t), model.data.tracker);
    const floors = s.floors ? new Map(s.floors) : undefined;
    return toPositionEstimate(
      model.data.site,
      k.s[0],
      k.s[1],
      trackReportedCov(k, s.fixCov ?? null, model.data.tracker.persistentShare ?? 0),
      s.lastModel ?? 'fusion',
      confidenceScaleM,
      floors,
    );
  };

  return {
    version,
    initialState: () => trackState({}, null, null, null, null),
    update(state, readings: readonly AnchorReading[], nowMs): PositionUpdate<TrackState> {
      const working: TrackState['latest'] = { ...state.latest };
      const fresh = new Set<string>();
      for (const r of readings) {
        if (!known.has(r.anchorId)) continue;
        const range =
          r.rtt === undefined || !Number.isFinite(r.rtt)
            ? undefined
            : rttToRange(r.rtt, r.processingOffset ?? 0);
        const rssi = r.rssi !== undefined && Number.isFinite(r.rssi) ? r.rssi : undefined;
        if (range === undefined && rssi === undefined) continue;
        const prev = working[r.anchorId];
        if (prev && prev.t > r.t) continue;
        const entry: { t: number; rssi?: number; range?: number } = { t: r.t };
        // A reading with one channel keeps the other channel's recent value.
        const keepOld = prev !== undefined && r.t - prev.t <= windowMs;
        const rs = rssi ?? (keepOld ? prev.rssi : undefined);
        const rg = range ?? (keepOld ? prev.range : undefined);
        if (rs !== undefined) entry.rssi = rs;
        if (rg !== undefined) entry.range = rg;
        working[r.anchorId] = entry;
        fresh.add(r.anchorId);
      }
      // Readings older than the window are dropped: copied into a fresh object rather than deleted (a `delete`
      // turns the object into a slow dictionary), in the same key order.
      const kept: TrackState['latest'] = {};
      const observations: Observation[] = [];
      for (const anchorId in working) {
        const e = working[anchorId]!;
        if (nowMs - e.t > windowMs) continue;
        kept[anchorId] = e;
        const o: Observation = { anchorId };
        if (e.rssi !== undefined) o.rssi = e.rssi;
        if (e.range !== undefined) o.range = e.range;
        observations.push(o);
      }
      const latest = kept;
      let next = trackState(latest, state.kf, state.lastModel, state.floors, state.fixCov ?? null);
      if (fresh.size > 0 && observations.length > 0) {
        // Only what the model's answer needs: estimators outside its fusion are not run (unless as a fallback).
        const fs = estimateFixes(model, observations, { fusedOnly: true });
        const fix = fs.fused;
        if (fix) {
          // Only the new readings are new information: older ones were already folded into the track.
          const inflate = observations.length / Math.min(fresh.size, observations.length);
          const m = trackMeasurement(state.kf, fix, observations, nowMs);
          const cov = [m.cov[0] * inflate, m.cov[1] * inflate, m.cov[2] * inflate] as const;
          const tracked = trackFix(state.kf, { x: m.x, y: m.y, cov }, nowMs, box, model.data.tracker);
          next = trackState(
            latest,
            tracked.state,
            fix.model,
            fs.floors ? [...fs.floors.entries()] : null,
            // The fix's own covariance: its persistent error does not depend on how much of it was new.
            fix.cov,
          );
        }
      }
      return { state: next, estimate: estimateOf(next, nowMs) };
    },
  };
}
