import { Rng } from '../../models/positioning/prng.js';

/**
 * Group k-fold: the groups (reference points) are shuffled with the seed and dealt into k folds, so the repeated
 * measurements of one point are never split between training and held-out data — the held-out points are new
 * places, as in a real deployment (and as in the data sets' disjoint train/test points).
 * Returns, per fold, the indices of the held-out samples.
 */
export function groupKFold(groups: readonly string[], k: number, seed: number): number[][] {
  const unique = [...new Set(groups)].sort();
  const rng = new Rng(seed);
  rng.shuffle(unique);
  const folds = Math.max(2, Math.min(k, unique.length));
  const foldOf = new Map<string, number>();
  unique.forEach((g, i) => {
    foldOf.set(g, i % folds);
  });
  const out: number[][] = Array.from({ length: folds }, () => []);
  groups.forEach((g, i) => {
    out[foldOf.get(g)!]!.push(i);
  });
  return out;
}

export function complement(n: number, heldOut: readonly number[]): number[] {
  const mask = new Uint8Array(n);
  for (const i of heldOut) mask[i] = 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!mask[i]) out.push(i);
  return out;
}
