import type { Point } from '../models/positioning/geometry.js';
import type { Rng } from './prng.js';

/**
 * Linearly interpolated waypoints, `samplesPerSegment` per segment, inclusive of the last waypoint: N waypoints
 * give (N − 1)·samplesPerSegment + 1 samples (the ESPresense harness's shape).
 */
export function expandWaypoints(points: readonly Point[], samplesPerSegment: number): Point[] {
  const out: Point[] = [];
  if (points.length === 0) return out;
  for (let i = 0; i < points.length - 1; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    for (let s = 0; s < samplesPerSegment; s++) {
      const t = s / samplesPerSegment;
      out.push({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t });
    }
  }
  out.push({ ...points[points.length - 1]! });
  return out;
}

/** A device moving between random waypoints at walking speed, pausing at each (random-waypoint model). */
export interface WalkerState {
  x: number;
  y: number;
  target: Point;
  /** m/s while moving. */
  speed: number;
  /** ms left to wait at the current waypoint. */
  pauseMs: number;
}

export interface WalkerOptions {
  speedMps: [number, number];
  pauseMs: [number, number];
}

export function stepWalker(
  w: WalkerState,
  dtMs: number,
  pickTarget: (rng: Rng) => Point,
  rng: Rng,
  options: WalkerOptions,
): WalkerState {
  let { x, y, target, speed, pauseMs } = w;
  let left = dtMs;
  while (left > 0) {
    if (pauseMs > 0) {
      const wait = Math.min(pauseMs, left);
      pauseMs -= wait;
      left -= wait;
      continue;
    }
    const dist = Math.hypot(target.x - x, target.y - y);
    const reach = (speed * left) / 1000;
    if (reach >= dist) {
      x = target.x;
      y = target.y;
      left -= dist > 0 ? (dist / speed) * 1000 : 0;
      target = pickTarget(rng);
      speed = rng.uniform(options.speedMps[0], options.speedMps[1]);
      pauseMs = rng.uniform(options.pauseMs[0], options.pauseMs[1]);
    } else {
      x += ((target.x - x) / dist) * reach;
      y += ((target.y - y) / dist) * reach;
      left = 0;
    }
  }
  return { x, y, target, speed, pauseMs };
}
