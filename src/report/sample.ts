// Thinning helpers so plots stay small (kilobytes, not megabytes) whatever the size of the replay behind them.

/** Every k-th element so that at most `max` remain, always keeping the last. */
export function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = items.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.floor(i * step)]!);
  out[out.length - 1] = items[items.length - 1]!;
  return out;
}

/**
 * Splits a time-ordered series into `buckets` equal time spans and keeps, per span, the point with the largest
 * value: a downsampled score line still shows every spike that crossed a threshold.
 */
export function thinKeepingPeaks<T>(
  items: readonly T[],
  max: number,
  time: (item: T) => number,
  value: (item: T) => number,
): T[] {
  if (items.length <= max) return [...items];
  const t0 = time(items[0]!);
  const t1 = time(items[items.length - 1]!);
  const span = t1 - t0;
  if (!(span > 0)) return thin(items, max);
  const best: (T | undefined)[] = new Array(max);
  for (const item of items) {
    const b = Math.min(max - 1, Math.floor(((time(item) - t0) / span) * max));
    const cur = best[b];
    if (cur === undefined || value(item) > value(cur)) best[b] = item;
  }
  return best.filter((x): x is T => x !== undefined);
}

/** Linear-interpolated quantile of ascending-sorted values; NaN when empty. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
