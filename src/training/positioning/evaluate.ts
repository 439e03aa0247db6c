import { estimateMany, toPositionEstimate } from '../../models/positioning/estimate.js';
import { ESTIMATORS, type Fix, type ModelName } from '../../models/positioning/fix.js';
import type { PositioningModel } from '../../models/positioning/model.js';
import { summariseErrors } from '../../models/positioning/stats.js';
import { coverage95 } from './calibrate.js';
import { bootstrapOverPoints, type PointInterval } from './point-bootstrap.js';
import type { CalibrationSample } from './samples.js';
import type { CvMetrics } from './train.js';

export interface PositioningEvaluation {
  n: number;
  /** The model's own answer (its fusion or chosen estimator). */
  primary: ModelName;
  perModel: Partial<Record<ModelName, CvMetrics>>;
  /** Fraction of samples with a room label whose room was named right; null when the site has no rooms. */
  roomAccuracy: number | null;
  /** Room probability calibration: per probability bin, the mean stated probability and the observed hit rate. */
  roomCalibration: Array<{ bin: string; n: number; stated: number; observed: number }>;
  /**
   * 95 % intervals of the model's mean / median / p90 when the walk's reference points are resampled (how much this
   * walk can tell); null with fewer than two points or when disabled.
   */
  interval95: PointInterval | null;
  /** The model's error per sample, in the samples' order (m; NaN where it located nothing). */
  errors: number[];
}

/** Scores single fixes (no tracking) of every message of a walk, per estimator and for the model's answer. */
export function evaluatePositioning(
  model: PositioningModel,
  samples: readonly CalibrationSample[],
  options: {
    batchSize?: number;
    onProgress?: (done: number, total: number) => void;
    /** Bootstrap resamples of the reference points for `interval95` (default 1000; 0 turns it off). */
    bootstrapResamples?: number;
  } = {},
): PositioningEvaluation {
  const batch = options.batchSize ?? 512;
  const fixes: Array<{ members: Partial<Record<string, Fix>>; fused: Fix | null }> = [];
  for (let i = 0; i < samples.length; i += batch) {
    const part = samples.slice(i, i + batch);
    fixes.push(
      ...estimateMany(
        model,
        part.map((s) => s.observations),
      ),
    );
    options.onProgress?.(Math.min(i + batch, samples.length), samples.length);
  }
  const perModel: PositioningEvaluation['perModel'] = {};
  const metric = (get: (i: number) => Fix | null | undefined): CvMetrics => {
    const pairs: Array<{ fix: Fix; truth: CalibrationSample }> = [];
    samples.forEach((s, i) => {
      const f = get(i);
      if (f) pairs.push({ fix: f, truth: s });
    });
    const errors = pairs.map(({ fix, truth }) => Math.hypot(fix.x - truth.x, fix.y - truth.y));
    return {
      ...summariseErrors(errors),
      coverage95: coverage95(pairs),
      located: pairs.length / Math.max(samples.length, 1),
    };
  };
  for (const e of ESTIMATORS) {
    if (fixes.some((f) => f.members[e])) perModel[e] = metric((i) => fixes[i]!.members[e]);
  }
  const members = model.data.fusion.members;
  const primary: ModelName = members.length > 1 ? 'fusion' : members[0]!;
  perModel[primary] = metric((i) => fixes[i]!.fused);
  const errors = samples.map((s, i) => {
    const f = fixes[i]!.fused;
    return f ? Math.hypot(f.x - s.x, f.y - s.y) : Number.NaN;
  });
  const resamples = options.bootstrapResamples ?? 1000;
  const interval95 =
    resamples > 0
      ? bootstrapOverPoints(
          samples.map((s, i) => ({ pointKey: s.pointKey, error: errors[i]! })),
          { resamples },
        )
      : null;

  let roomAccuracy: number | null = null;
  const bins = Array.from({ length: 5 }, (_, b) => ({ lo: 0.5 + b * 0.1, n: 0, stated: 0, hits: 0 }));
  if (model.data.site.rooms.length > 0) {
    let n = 0;
    let right = 0;
    samples.forEach((s, i) => {
      const f = fixes[i]!.fused;
      if (s.room === undefined) return;
      n++;
      if (!f) return;
      const est = toPositionEstimate(
        model.data.site,
        f.x,
        f.y,
        f.cov,
        f.model,
        model.data.runtime.confidenceScaleM,
      );
      const hit = est.room === s.room;
      if (hit) right++;
      if (est.roomProbability !== undefined) {
        const b = bins[Math.min(Math.max(Math.floor((est.roomProbability - 0.5) / 0.1), 0), 4)]!;
        b.n++;
        b.stated += est.roomProbability;
        if (hit) b.hits++;
      }
    });
    roomAccuracy = n > 0 ? right / n : null;
  }
  return {
    n: samples.length,
    primary,
    perModel,
    roomAccuracy,
    roomCalibration: bins
      .filter((b) => b.n > 0)
      .map((b) => ({
        bin: `${b.lo.toFixed(1)}–${(b.lo + 0.1).toFixed(1)}`,
        n: b.n,
        stated: b.stated / b.n,
        observed: b.hits / b.n,
      })),
    interval95,
    errors,
  };
}
