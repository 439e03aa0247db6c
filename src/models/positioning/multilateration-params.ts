import { defaultRobustK, type RobustLoss } from './robust.js';

// What the multilateration solver is given besides the terms: where the anchors are, the site's bounds and the
// settings (with their defaults). In a file of their own so the terms, cost and start-grid files can use them
// without importing the solver; multilateration.ts re-exports them for its callers.

export interface AnchorPosition {
  x: number;
  y: number;
  /** Mounting height, metres; absent = device height (2-D ranging). */
  z?: number | undefined;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface MultilaterationParams {
  loss: RobustLoss;
  /** Robust tuning constant in σ units (Huber k / Cauchy c). */
  k: number;
  /** Device height above the floor (m), used with anchors that have a z. */
  deviceHeight: number;
  useRssi: boolean;
  useRtt: boolean;
  /** The search box is the site bounds enlarged by this many metres. */
  marginM: number;
  /** Inflate the covariance by the reduced χ² when the residuals are larger than their σ's say. */
  inflateByMisfit: boolean;
  maxIterations: number;
  /**
   * Report the Laplace-approximated posterior over the distinct local minima found (mean and covariance of the
   * mixture) instead of the single best one: ambiguous geometry then shows in the covariance rather than as a
   * confident wrong answer. Chosen by cross-validation.
   */
  mixModes: boolean;
  /**
   * Report the posterior mean (and covariance) under a uniform prior over the site bounds instead of the cost's
   * minimum: the least-squares answer scatters along and past walls where the likelihood is wide
   * (multilateration-posterior.ts). Chosen by cross-validation; absent = off (models saved before it existed).
   */
  posteriorMean?: boolean;
  /** Bandwidth of the bias map, m; 0 = no bias map (set by training when cross-validation prefers one). */
  biasBandwidthM: number;
  /** With a bias map: also weight each anchor by its local σ (where its bias is unpredictable, it counts less). */
  localSigma?: boolean;
  /** Grid points evaluated for start values (spread over the search box). */
  gridPoints: number;
  /** LM runs from the best grid points (plus the weighted centroid). */
  starts: number;
}

export const DEFAULT_MULTILATERATION: MultilaterationParams = {
  loss: 'huber',
  k: defaultRobustK('huber'),
  deviceHeight: 1,
  useRssi: true,
  useRtt: true,
  marginM: 1,
  inflateByMisfit: true,
  mixModes: false,
  biasBandwidthM: 0,
  maxIterations: 40,
  gridPoints: 64,
  starts: 3,
};
