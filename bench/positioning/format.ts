// Number formatting and summary statistics shared by the positioning benchmark's tables.

export const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');
export const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '—');
export const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
export const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
export const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
export const sdOf = (xs: readonly number[]) => {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length - 1, 1));
};
/** Half-width of the 95 % confidence interval of the mean (normal approximation, 1.96·sd/√n). */
export const halfWidth95 = (xs: readonly number[]) => (1.96 * sdOf(xs)) / Math.sqrt(Math.max(xs.length, 1));
export const spread = (xs: readonly number[], fmt: (v: number) => string = f2) =>
  `${fmt(meanOf(xs))} ± ${fmt(sdOf(xs))}`;
