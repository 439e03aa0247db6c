import { quantileSorted } from '../models/positioning/stats.js';
import type { ErrorVector, FloorPlanTrack, TrackPoint } from '../report/index.js';
import type { TruthPoint } from './labels.js';
import { Reservoir } from './sampling.js';

/** Quantiles are exact up to this many located fixes, then computed from a uniform sample of this size. */
const ERROR_SAMPLE = 200_000;
const ROOM_SAMPLE = 5_000;
const MAX_ROOMS = 200;
const MAX_TRACKED_DEVICES = 50;
/** The floor plan shows each device's first fixes: a readable stretch of track, not a day of spaghetti. */
const TRACK_POINTS = 80;
/** A longer silence starts a new segment of the track (not joined by a line). */
const TRACK_GAP_MS = 60_000;

export interface PositionSummary {
  /** Located fixes compared with ground truth. */
  n: number;
  /** Metres. */
  meanError: number;
  medianError: number;
  p90Error: number;
  /** Fraction of fixes in the right room; null when no truth or estimate carried a room. */
  roomAccuracy: number | null;
  /** Fraction of fixes whose truth lies inside the reported 95% uncertainty radius (honest ≈ 0.95). */
  uncertaintyCoverage: number | null;
  /** Quantiles come from a sample (more than 200,000 fixes). */
  sampled: boolean;
}

export interface RoomSummary {
  room: string;
  n: number;
  errors: number[];
  roomAccuracy: number | null;
}

interface TrackBuffers {
  estimate: TrackPoint[];
  truth: TrackPoint[];
  segment: number;
  lastT: number;
}

/**
 * Accumulates located fixes against ground truth, in bounded memory: sums for the mean, a reservoir for quantiles,
 * per-room samples, and thinned per-device tracks for the floor plan.
 */
export class PositionMetrics {
  #n = 0;
  #sum = 0;
  #roomHits = 0;
  #roomTotal = 0;
  #covered = 0;
  #withUncertainty = 0;
  readonly #errors = new Reservoir<number>(ERROR_SAMPLE, 11);
  readonly #vectors = new Reservoir<ErrorVector>(600, 13);
  readonly #rooms = new Map<string, { errors: Reservoir<number>; hits: number; total: number }>();
  readonly #tracks = new Map<string, TrackBuffers>();
  /** Estimates seen without truth (no labels for the device or time). */
  unlabelled = 0;

  /** A located fix with its truth (or undefined when none is known). */
  add(
    deviceId: string,
    t: number,
    estimate: { x: number; y: number; uncertainty?: number | undefined; room?: string | undefined },
    truth: TruthPoint | undefined,
  ): void {
    this.#track(deviceId, t, estimate, truth);
    if (!truth) {
      this.unlabelled += 1;
      return;
    }
    const error = Math.hypot(estimate.x - truth.x, estimate.y - truth.y);
    this.#n += 1;
    this.#sum += error;
    this.#errors.add(error);
    this.#vectors.add({ truth: { x: truth.x, y: truth.y }, estimate: { x: estimate.x, y: estimate.y } });
    if (estimate.uncertainty !== undefined) {
      this.#withUncertainty += 1;
      if (error <= estimate.uncertainty) this.#covered += 1;
    }
    if (truth.room !== undefined) {
      let room = this.#rooms.get(truth.room);
      if (!room && this.#rooms.size < MAX_ROOMS) {
        room = { errors: new Reservoir<number>(ROOM_SAMPLE, 17), hits: 0, total: 0 };
        this.#rooms.set(truth.room, room);
      }
      if (room) room.errors.add(error);
      if (estimate.room !== undefined) {
        this.#roomTotal += 1;
        const hit = estimate.room === truth.room;
        if (hit) this.#roomHits += 1;
        if (room) {
          room.total += 1;
          if (hit) room.hits += 1;
        }
      }
    }
  }

  #track(
    deviceId: string,
    t: number,
    estimate: { x: number; y: number; uncertainty?: number | undefined },
    truth: TruthPoint | undefined,
  ): void {
    let buffers = this.#tracks.get(deviceId);
    if (!buffers) {
      if (this.#tracks.size >= MAX_TRACKED_DEVICES) return;
      buffers = { estimate: [], truth: [], segment: 0, lastT: t };
      this.#tracks.set(deviceId, buffers);
    }
    if (buffers.estimate.length >= TRACK_POINTS) return;
    if (t - buffers.lastT > TRACK_GAP_MS) buffers.segment += 1;
    buffers.lastT = t;
    const segment = buffers.segment;
    buffers.estimate.push({
      t,
      x: estimate.x,
      y: estimate.y,
      segment,
      ...(estimate.uncertainty === undefined ? {} : { uncertainty: estimate.uncertainty }),
    });
    if (truth) buffers.truth.push({ t, x: truth.x, y: truth.y, segment });
  }

  summary(): PositionSummary {
    const sorted = [...this.#errors.items].sort((a, b) => a - b);
    return {
      n: this.#n,
      meanError: this.#n > 0 ? this.#sum / this.#n : Number.NaN,
      medianError: quantileSorted(sorted, 0.5),
      p90Error: quantileSorted(sorted, 0.9),
      roomAccuracy: this.#roomTotal > 0 ? this.#roomHits / this.#roomTotal : null,
      uncertaintyCoverage: this.#withUncertainty > 0 ? this.#covered / this.#withUncertainty : null,
      sampled: !this.#errors.exact,
    };
  }

  /** Errors (a sample beyond 200,000), for the CDF. */
  errors(): readonly number[] {
    return this.#errors.items;
  }

  rooms(): RoomSummary[] {
    return [...this.#rooms.entries()]
      .map(([room, r]) => ({
        room,
        n: r.errors.seen,
        errors: r.errors.items,
        roomAccuracy: r.total > 0 ? r.hits / r.total : null,
      }))
      .sort((a, b) => (a.room < b.room ? -1 : 1));
  }

  tracks(): FloorPlanTrack[] {
    return [...this.#tracks.entries()].map(([id, b]) => ({
      id,
      estimate: b.estimate,
      truth: b.truth,
    }));
  }

  vectors(): readonly ErrorVector[] {
    return this.#vectors.items;
  }
}
