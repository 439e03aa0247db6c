// Small closed-form 2-D linear algebra: positions are 2-vectors and their covariances 2×2 symmetric matrices,
// stored as [σxx, σxy, σyy] (m²) to stay JSON-friendly and allocation-light in the hot path.

export type Cov2 = readonly [number, number, number];

export function det2(c: Cov2): number {
  return c[0] * c[2] - c[1] * c[1];
}

/** Inverse of a symmetric 2×2; null when (numerically) singular. */
export function inv2(c: Cov2): Cov2 | null {
  const d = det2(c);
  const scale = Math.max(Math.abs(c[0]), Math.abs(c[2]), 1e-300);
  if (!Number.isFinite(d) || Math.abs(d) <= 1e-14 * scale * scale) return null;
  return [c[2] / d, -c[1] / d, c[0] / d];
}

export function add2(a: Cov2, b: Cov2): Cov2 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function scale2(c: Cov2, k: number): Cov2 {
  return [c[0] * k, c[1] * k, c[2] * k];
}

/** Eigenvalues (largest first) of a symmetric 2×2. */
export function eig2(c: Cov2): [number, number] {
  const tr = c[0] + c[2];
  const diff = (c[0] - c[2]) / 2;
  const r = Math.sqrt(diff * diff + c[1] * c[1]);
  return [tr / 2 + r, Math.max(tr / 2 - r, 0)];
}

/** vᵀ C⁻¹ v: squared Mahalanobis distance of (dx, dy) under covariance c. */
export function mahalanobis2(dx: number, dy: number, c: Cov2): number {
  const i = inv2(c);
  if (i === null) return Number.POSITIVE_INFINITY;
  return dx * dx * i[0] + 2 * dx * dy * i[1] + dy * dy * i[2];
}

/** Lower Cholesky factor [l11, l21, l22] of a symmetric positive semi-definite 2×2. */
export function chol2(c: Cov2): [number, number, number] {
  const l11 = Math.sqrt(Math.max(c[0], 0));
  const l21 = l11 > 0 ? c[1] / l11 : 0;
  const l22 = Math.sqrt(Math.max(c[2] - l21 * l21, 0));
  return [l11, l21, l22];
}

/** Makes a covariance usable: symmetric, finite, eigenvalues at least `floor` m². */
export function regularise2(c: Cov2, floor = 1e-4): Cov2 {
  if (!c.every(Number.isFinite)) return [1e6, 0, 1e6];
  const [l1, l2] = eig2(c);
  if (l2 >= floor) return c;
  // Add the missing amount on the diagonal: cheap, keeps orientation roughly.
  const add = floor - l2;
  return [c[0] + add, c[1], c[2] + add + Math.max(0, floor - l1)];
}

/** The covariance with its eigenvalues clipped at `maxVar` (same axes). */
export function capVariance(c: Cov2, maxVar: number): Cov2 {
  const [l1, l2] = eig2(c);
  if (!(l1 > maxVar)) return c;
  // Unit eigenvector of l1 (the matrix is symmetric: the other is orthogonal to it).
  let vx = c[1];
  let vy = l1 - c[0];
  if (Math.hypot(vx, vy) < 1e-12) {
    vx = l1 - c[2];
    vy = c[1];
  }
  const n = Math.hypot(vx, vy);
  if (n < 1e-12) return [Math.min(c[0], maxVar), 0, Math.min(c[2], maxVar)];
  vx /= n;
  vy /= n;
  const a = Math.min(l1, maxVar);
  const b = Math.min(l2, maxVar);
  return [a * vx * vx + b * vy * vy, (a - b) * vx * vy, a * vy * vy + b * vx * vx];
}
