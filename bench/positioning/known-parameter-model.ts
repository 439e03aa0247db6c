// Models with known parameters (the information ESPresense's locator has: calibrated RSSI at 1 m and exponent).

import { DEFAULT_RUNTIME, type PositioningModel } from '../../src/models/positioning/model.js';
import {
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
} from '../../src/models/positioning/multilateration.js';
import type { AnchorRanging } from '../../src/models/positioning/ranging.js';
import { DEFAULT_TRACKER } from '../../src/models/positioning/tracker.js';
import type { Scenario } from '../../src/sim/index.js';

export function knownParameterModel(s: Scenario, deviceHeight: number): PositioningModel {
  const ranging: AnchorRanging[] = s.site.anchors.map((a) => ({
    anchorId: a.id,
    rssi: { p0: s.radio.rssiAt1m, exponent: s.radio.exponent, sigmaDb: s.radio.shadowingSigmaDb, n: 0 },
    rtt: null,
  }));
  const params: MultilaterationParams = { ...DEFAULT_MULTILATERATION, deviceHeight, marginM: 0 };
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
