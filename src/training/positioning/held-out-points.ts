import type { Fix } from '../../models/positioning/fix.js';
import type { CalibrationSample } from './samples.js';

/** One calibration point's cross-validated error: what the dashboard's coverage view maps. */
export interface HeldOutPoint {
  /** The point's known location, metres (site coordinates). */
  x: number;
  y: number;
  /** Mean held-out error of the point's located samples, metres. */
  error: number;
  room?: string;
  floor?: number;
  /** Samples measured at the point. */
  n: number;
  /** Share of them the model located while the point was held out. */
  located: number;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/**
 * Per calibration point (samples grouped by `pointKey`, the unit the CV folds hold out), the mean distance between
 * the model's held-out fixes and the point. Each point's error comes from the fold that held it out, so it is the
 * error the model makes at a place it never saw — the map of where the walk taught the model too little.
 * A point none of whose samples was located is left out: it has no error to show, and the coverage view then marks
 * the area as untested, which is what it is. Rounded to mm so `metadata.json` stays small and readable.
 */
export function heldOutPoints(
  samples: readonly CalibrationSample[],
  oof: ReadonlyArray<Fix | null | undefined>,
): HeldOutPoint[] {
  if (oof.length !== samples.length) {
    throw new RangeError(`heldOutPoints: ${oof.length} fixes for ${samples.length} samples`);
  }
  const groups = new Map<string, { first: CalibrationSample; n: number; located: number; sum: number }>();
  samples.forEach((s, i) => {
    let g = groups.get(s.pointKey);
    if (!g) {
      g = { first: s, n: 0, located: 0, sum: 0 };
      groups.set(s.pointKey, g);
    }
    g.n++;
    const f = oof[i];
    if (f) {
      g.located++;
      g.sum += Math.hypot(f.x - s.x, f.y - s.y);
    }
  });
  const out: HeldOutPoint[] = [];
  for (const { first, n, located, sum } of groups.values()) {
    if (located === 0) continue;
    out.push({
      x: round(first.x, 3),
      y: round(first.y, 3),
      error: round(sum / located, 3),
      ...(first.room === undefined ? {} : { room: first.room }),
      ...(first.floor === undefined ? {} : { floor: first.floor }),
      n,
      located: round(located / n, 3),
    });
  }
  return out;
}
