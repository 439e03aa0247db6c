// Models with known parameters (the information ESPresense's locator has: calibrated RSSI at 1 m and exponent).

import { estimateMany } from '../../src/models/positioning/estimate.js';
import { DEFAULT_RUNTIME, type PositioningModel } from '../../src/models/positioning/model.js';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
} from '../../src/models/positioning/multilateration.js';
import type { AnchorRanging } from '../../src/models/positioning/ranging.js';
import { DEFAULT_TRACKER } from '../../src/models/positioning/tracker.js';
import type { Scenario } from '../../src/sim/index.js';
import { Rng } from '../../src/sim/prng.js';
import { anchorChannels } from '../../src/sim/radio.js';
import { simulateCalibrationWalk } from '../../src/sim/walk.js';
import { fitPersistentShare } from '../../src/training/positioning/persistent-share.js';
import { samplesFromMessages } from '../../src/training/positioning/samples.js';

/**
 * `posteriorMean` (default on): the posterior mean over the site rather than the cost's minimum — on simulated
 * ESPresense walks with other seeds than the bench's (150 per case) it lowered the single-fix mean error from 0.95 to
 * 0.69 m and the tracked one at 1 Hz from 0.41 to 0.38 m (mean over the three heights and two tracks); the CRLB
 * bench turns it off to measure the unbiased solver against the bound for unbiased estimators.
 * `persistentShare`: the tracker's (see TrackerParams); by default fitted as training fits it, on a simulated walk.
 */
export function knownParameterModel(
  s: Scenario,
  deviceHeight: number,
  options: { posteriorMean?: boolean; persistentShare?: number } = {},
): PositioningModel {
  const ranging: AnchorRanging[] = s.site.anchors.map((a) => ({
    anchorId: a.id,
    rssi: { p0: s.radio.rssiAt1m, exponent: s.radio.exponent, sigmaDb: s.radio.shadowingSigmaDb, n: 0 },
    rtt: null,
  }));
  const params: MultilaterationParams = {
    ...DEFAULT_MULTILATERATION,
    deviceHeight,
    marginM: 0,
    posteriorMean: options.posteriorMean ?? true,
  };
  const model: PositioningModel = {
    data: {
      format: 1,
      site: s.site,
      ranging,
      multilateration: { params, covScale: 1 },
      knn: null,
      fingerprint: null,
      fusion: { members: ['multilateration'], weights: [1], outlierProbability: 0, covScale: 1 },
      tracker: DEFAULT_TRACKER,
      runtime: DEFAULT_RUNTIME,
    },
    fingerprint: null,
  };
  model.data.tracker = {
    ...DEFAULT_TRACKER,
    persistentShare: options.persistentShare ?? calibratedShare(model, s, deviceHeight),
  };
  return model;
}

/**
 * The tracker's persistent share as training fits it, from a walk a user could take: 60 random points of the floor,
 * 30 readings of each station per point at 1 Hz (seeds "calib-share|…", not the benchmark's).
 */
function calibratedShare(model: PositioningModel, s: Scenario, deviceHeight: number): number {
  const channels = anchorChannels(s.site, s.radio, new Rng(1));
  const walk = simulateCalibrationWalk(s.site, s.radio, channels, new Rng(`calib-share|${deviceHeight}`), {
    layout: 'random',
    points: 60,
    samplesPerPoint: 30,
  });
  const samples = samplesFromMessages(walk, s.site);
  const fixes = estimateMany(
    model,
    samples.map((x) => x.observations),
  ).map((f) => f.fused);
  return fitPersistentShare(samples, fixes, s.site.bounds, model.data.tracker)?.share ?? 0;
}
