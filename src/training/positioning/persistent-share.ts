import { coverageRadius, type Fix } from '../../models/positioning/fix.js';
import type { Cov2 } from '../../models/positioning/linalg2.js';
import type { Bounds } from '../../models/positioning/multilateration.js';
import {
  type KalmanState,
  type TrackerParams,
  trackFix,
  trackReportedCov,
} from '../../models/positioning/tracker.js';
import type { CalibrationSample } from './samples.js';

// How much of a fix's error survives tracking. The tracker treats every fix as new information, so a device that
// stands still gets a covariance that shrinks like 1/n; but its fixes share most of their error (the same walls and
// multipath), so the tracked error does not shrink that fast. On feng-apartment's test points a standing device's
// 95 % radius held 57 % of the tracked errors (single fixes: 94 %). A calibration walk is exactly that case: each
// reference point's messages in time order are a device standing there. Its held-out fixes replayed through the
// tracker tell which share ρ of the fix covariance to keep in the reported one (`TrackerParams.persistentShare`).

export interface PersistentShareFit {
  /** The smallest ρ on a 0.01 grid whose reported 95 % radius holds `target` of the replayed errors (else the best). */
  share: number;
  /** Share of the replayed tracked errors inside the 95 % radius with the filter's covariance (ρ = 0). */
  coverageBefore: number;
  /** The same with ρ = share. */
  coverageAfter: number;
  /** Tracked fixes replayed. */
  n: number;
}

interface Step {
  error: number;
  state: KalmanState;
  fix: Cov2;
}

const GRID = 100;

/**
 * Replays each walk point's held-out fixes (in time order, as a standing device) through the tracker and fits the
 * persistent share: the smallest ρ whose reported covariance (`trackReportedCov`: (1 − ρ′)·P + ρ′·R, ρ′ = ρ·P(still))
 * covers `target` of the tracked errors.
 * Null without fixes to replay.
 */
export function fitPersistentShare(
  samples: readonly CalibrationSample[],
  fixes: ReadonlyArray<Fix | null>,
  box: Bounds,
  params: TrackerParams,
  target = 0.95,
): PersistentShareFit | null {
  const byPoint = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const list = byPoint.get(s.pointKey);
    if (list) list.push(i);
    else byPoint.set(s.pointKey, [i]);
  });
  const steps: Step[] = [];
  for (const indices of byPoint.values()) {
    indices.sort((a, b) => samples[a]!.t - samples[b]!.t);
    let k: KalmanState | null = null;
    for (const i of indices) {
      const f = fixes[i];
      if (!f) continue;
      const s = samples[i]!;
      k = trackFix(k, f, s.t, box, params).state;
      steps.push({ error: Math.hypot(k.s[0] - s.x, k.s[1] - s.y), state: k, fix: f.cov });
    }
  }
  if (steps.length === 0) return null;
  const coverageAt = (rho: number): number => {
    let inside = 0;
    for (const st of steps) {
      if (st.error <= coverageRadius(trackReportedCov(st.state, st.fix, rho), 0.95)) inside++;
    }
    return inside / steps.length;
  };
  const coverageBefore = coverageAt(0);
  let share = 0;
  let coverageAfter = coverageBefore;
  for (let g = 0; g <= GRID && coverageAfter < target; g++) {
    const c = coverageAt(g / GRID);
    if (g === 0 || c > coverageAfter) {
      share = g / GRID;
      coverageAfter = c;
    }
  }
  return { share, coverageBefore, coverageAfter, n: steps.length };
}
