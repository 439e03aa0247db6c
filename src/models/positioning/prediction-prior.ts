import { type Cov2, det2, inv2 } from './linalg2.js';

// The tracker's prediction as a prior inside the multilateration posterior, handed back to the Kalman filter as an
// ordinary measurement.
//
// Why: a multilateration fix is the posterior mean over the site (a uniform prior on the floor). Each fix on its own
// is better for it, but it leans toward the middle of the floor, and a tracker that averages such fixes keeps the
// lean: on ESPresense's z = 0 m diagonal, tracked fixes within 0.6 m of the inner wall sat 0.17 m short of the truth
// in x, and the room was wrong more often. Solved with the prediction as a (widened) Gaussian prior, the posterior is
// localised where the device is, so the floor's edges pull far less. Dividing the prior back out gives the
// measurement that, folded in by the Kalman update, yields that posterior.
//
// The prior handed to the solve is the prediction's covariance widened PREDICTION_PRIOR_WIDENING times. Wider: it
// localises the posterior without dominating it, and the division stays well conditioned (Q⁻¹ − (αP)⁻¹ is positive
// definite for 98 % of updates at α = 10 on the ESPresense tracks, 72 % at α = 2, 46 % at α = 1). On 150 study
// seeds (not the bench's), tracked at 1 Hz, room mis-id fell at every height and track: z = 0 m diagonal 7.5 → 7.0 %,
// crossing 13.2 → 12.1 %; z = 1 m 5.0 → 4.9 % and 13.5 → 13.0 %; the median error fell or held (0.52 → 0.47 m on the
// z = 0 diagonal).
export const PREDICTION_PRIOR_WIDENING = 10;

export interface Gaussian2 {
  x: number;
  y: number;
  cov: Cov2;
}

/**
 * The measurement z ~ N(·, R) whose Kalman update of `prior` gives `posterior`: R = (Q⁻¹ − P⁻¹)⁻¹,
 * z = R (Q⁻¹ q − P⁻¹ p). Null when the posterior is not narrower than the prior in every direction (Q⁻¹ − P⁻¹ not
 * positive definite: the sampled posterior says nothing the prior did not) — the caller then keeps the plain fix.
 */
export function measurementFromPosterior(prior: Gaussian2, posterior: Gaussian2): Gaussian2 | null {
  const ip = inv2(prior.cov);
  const iq = inv2(posterior.cov);
  if (!ip || !iq) return null;
  const info: Cov2 = [iq[0] - ip[0], iq[1] - ip[1], iq[2] - ip[2]];
  if (!(info[0] > 0) || !(det2(info) > 0)) return null;
  const r = inv2(info);
  if (!r) return null;
  const bx = iq[0] * posterior.x + iq[1] * posterior.y - (ip[0] * prior.x + ip[1] * prior.y);
  const by = iq[1] * posterior.x + iq[2] * posterior.y - (ip[1] * prior.x + ip[2] * prior.y);
  return { x: r[0] * bx + r[1] * by, y: r[1] * bx + r[2] * by, cov: r };
}
