import type { Fix } from './fix.js';
import { type Cov2, capVariance, inv2 } from './linalg2.js';

/**
 * Fuses fixes by their covariances (product of Gaussians): information Σᵢ Cᵢ⁻¹, mean weighted by it. The
 * estimators share their measurements, so their errors correlate and the product is over-confident: `covScale`
 * (from cross-validation) restores honest coverage.
 */
export function fuseFixes(fixes: readonly Fix[], covScale = 1): Fix | null {
  let i11 = 0;
  let i12 = 0;
  let i22 = 0;
  let b1 = 0;
  let b2 = 0;
  let anchors = 0;
  let used = 0;
  for (const f of fixes) {
    const inv = inv2(f.cov);
    if (inv === null || !Number.isFinite(f.x) || !Number.isFinite(f.y)) continue;
    i11 += inv[0];
    i12 += inv[1];
    i22 += inv[2];
    b1 += inv[0] * f.x + inv[1] * f.y;
    b2 += inv[1] * f.x + inv[2] * f.y;
    anchors = Math.max(anchors, f.anchors);
    used++;
  }
  if (used === 0) return null;
  const cov = inv2([i11, i12, i22]);
  if (cov === null) return null;
  const x = cov[0] * b1 + cov[1] * b2;
  const y = cov[1] * b1 + cov[2] * b2;
  const scaled: Cov2 = [cov[0] * covScale, cov[1] * covScale, cov[2] * covScale];
  return {
    x,
    y,
    cov: scaled,
    model: used > 1 ? 'fusion' : (fixes.find((f) => inv2(f.cov) !== null)?.model ?? 'fusion'),
    anchors,
  };
}

/**
 * Fusion that survives one estimator being wrong: each member is an inlier with probability 1 − ε or an outlier
 * (uniform over the site, area A) with probability ε. The posterior is a mixture over which members are inliers
 * (every non-empty subset: the product of its Gaussians, weighted by its evidence); its mean and covariance are
 * returned. Members that agree fuse as in `fuseFixes`; members that disagree are hedged, and the covariance shows
 * the disagreement. ε = 0 is `fuseFixes`.
 */
export function fuseFixesRobust(
  fixes: readonly Fix[],
  epsilon: number,
  areaM2: number,
  covScale = 1,
): Fix | null {
  // A member vaguer than "somewhere on the site" is capped at the site's own spread (uniform over a square of the
  // site's area: A/6 per axis): its Gaussian would otherwise spread most of its mass off the plan and make the
  // others look like outliers next to it.
  const maxVar = areaM2 / 6;
  const usable = fixes
    .filter((f) => inv2(f.cov) !== null && Number.isFinite(f.x) && Number.isFinite(f.y))
    .map((f) => ({ ...f, cov: capVariance(f.cov, maxVar) }));
  if (epsilon <= 0 || usable.length < 2) return fuseFixes(usable, covScale);
  const m = usable.length;
  const comps: Array<{ logw: number; x: number; y: number; cov: Cov2 }> = [];
  for (let mask = 1; mask < 1 << m; mask++) {
    const members = usable.filter((_, i) => mask & (1 << i));
    const k = members.length;
    let i11 = 0;
    let i12 = 0;
    let i22 = 0;
    let b1 = 0;
    let b2 = 0;
    let quad = 0;
    let logDetSum = 0;
    for (const f of members) {
      const inv = inv2(f.cov)!;
      i11 += inv[0];
      i12 += inv[1];
      i22 += inv[2];
      b1 += inv[0] * f.x + inv[1] * f.y;
      b2 += inv[1] * f.x + inv[2] * f.y;
      quad += inv[0] * f.x * f.x + 2 * inv[1] * f.x * f.y + inv[2] * f.y * f.y;
      logDetSum += Math.log(Math.max(f.cov[0] * f.cov[2] - f.cov[1] * f.cov[1], 1e-300));
    }
    const cov = inv2([i11, i12, i22]);
    if (cov === null) continue;
    const x = cov[0] * b1 + cov[1] * b2;
    const y = cov[1] * b1 + cov[2] * b2;
    const detLambda = i11 * i22 - i12 * i12;
    // log ∫ Πᵢ N(x; μᵢ, Σᵢ) dx for 2-D Gaussians.
    const logZ =
      -(k - 1) * Math.log(2 * Math.PI) -
      0.5 * logDetSum -
      0.5 * Math.log(detLambda) +
      0.5 * (x * b1 + y * b2) -
      0.5 * quad;
    const logw = k * Math.log(1 - epsilon) + (m - k) * Math.log(epsilon / areaM2) + logZ;
    comps.push({ logw, x, y, cov });
  }
  if (comps.length === 0) return fuseFixes(usable, covScale);
  const max = Math.max(...comps.map((c) => c.logw));
  let sw = 0;
  for (const c of comps) sw += Math.exp(c.logw - max);
  let mx = 0;
  let my = 0;
  for (const c of comps) {
    const w = Math.exp(c.logw - max) / sw;
    mx += w * c.x;
    my += w * c.y;
  }
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  for (const c of comps) {
    const w = Math.exp(c.logw - max) / sw;
    c0 += w * (c.cov[0] + (c.x - mx) ** 2);
    c1 += w * (c.cov[1] + (c.x - mx) * (c.y - my));
    c2 += w * (c.cov[2] + (c.y - my) ** 2);
  }
  return {
    x: mx,
    y: my,
    cov: [c0 * covScale, c1 * covScale, c2 * covScale],
    model: 'fusion',
    anchors: Math.max(...usable.map((f) => f.anchors)),
  };
}
