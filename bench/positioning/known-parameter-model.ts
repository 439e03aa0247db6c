// Models with known parameters (the information ESPresense's locator has: calibrated RSSI at 1 m and exponent).

import { DEFAULT_RUNTIME, type PositioningModel } from '../../src/models/positioning/model.js';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
} from '../../src/models/positioning/multilateration.js';
import type { AnchorRanging } from '../../src/models/positioning/ranging.js';
import { DEFAULT_TRACKER } from '../../src/models/positioning/tracker.js';
import type { Scenario } from '../../src/sim/index.js';

/**
 * `posteriorMean` (default on): the posterior mean over the site rather than the cost's minimum — on simulated
 * ESPresense walks with other seeds than the bench's (150 per case) it lowered the single-fix mean error from 0.95 to
 * 0.69 m and the tracked one at 1 Hz from 0.41 to 0.38 m (mean over the three heights and two tracks); the CRLB
 * bench turns it off to measure the unbiased solver against the bound for unbiased estimators.
 */
export function knownParameterModel(
  s: Scenario,
  deviceHeight: number,
  options: { posteriorMean?: boolean } = {},
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
  return {
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
}
