// How the fusion is chosen, judged on the walk alone: a walk's reference points are split in half, a rule chooses a
// fusion on one half's held-out errors and is scored on the other half's. The estimators' held-out fixes are fixed,
// so this measures what the choosing itself costs or gains — without looking at a test set.

import { Rng } from '../../src/models/positioning/prng.js';
import { summariseErrors } from '../../src/models/positioning/stats.js';
import type { FusionCandidate } from '../../src/training/positioning/train.js';
import { sdOf } from './format.js';

/** Chooses one candidate from the candidates' errors on the given samples; returns its index. */
export type SelectionRule = (
  candidates: readonly FusionCandidate[],
  samples: readonly number[],
  pointOf: readonly number[],
) => number;

function meanOn(c: FusionCandidate, samples: readonly number[]): number {
  let s = 0;
  for (const i of samples) s += c.errors[i]!;
  return s / Math.max(samples.length, 1);
}

/** Index of the lowest score, the first of scores within 1e-4 of each other (as training breaks ties). */
function firstLowest(scores: readonly number[]): number {
  let best = -1;
  let bestScore = Number.POSITIVE_INFINITY;
  scores.forEach((score, i) => {
    if (score < bestScore - 1e-4) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}

/** Training's own rule: the lowest mean error, the first of candidates within 1e-4 m of each other. */
export const lowestMean: SelectionRule = (candidates, samples) =>
  firstLowest(candidates.map((c) => meanOn(c, samples)));

/** Training's rule over the candidates `keep` lets through (the others never scored). */
export const restricted =
  (keep: (c: FusionCandidate) => boolean): SelectionRule =>
  (candidates, samples, pointOf) => {
    const kept = candidates.map((c, i) => ({ c, i })).filter(({ c }) => keep(c));
    return kept[
      lowestMean(
        kept.map(({ c }) => c),
        samples,
        pointOf,
      )
    ]!.i;
  };

/** Fewer members, product before joint, weights nearer 1, smaller ε: the simpler of two fusions sorts first. */
function simpler(a: FusionCandidate, b: FusionCandidate): number {
  const spreadOf = (c: FusionCandidate) => c.weights.reduce((s, w) => s + Math.abs(Math.log2(w)), 0);
  return (
    a.members.length - b.members.length ||
    Number(a.mode === 'joint') - Number(b.mode === 'joint') ||
    spreadOf(a) - spreadOf(b) ||
    a.epsilon - b.epsilon
  );
}

/**
 * The one-standard-error rule: the simplest candidate whose mean is within `k` standard errors of the best's, the
 * error of each difference taken over reference points (a point's messages share their error).
 */
export const withinStandardErrors =
  (k: number): SelectionRule =>
  (candidates, samples, pointOf) => {
    const means = candidates.map((c) => meanOn(c, samples));
    const best = firstLowest(means);
    const points = [...new Set(samples.map((i) => pointOf[i]!))];
    const slot = new Map(points.map((p, j) => [p, j]));
    const perPoint = (c: FusionCandidate) => {
      const sum = new Float64Array(points.length);
      const n = new Float64Array(points.length);
      for (const i of samples) {
        const j = slot.get(pointOf[i]!)!;
        sum[j]! += c.errors[i]!;
        n[j]!++;
      }
      return sum.map((v, j) => v / n[j]!);
    };
    const ref = perPoint(candidates[best]!);
    const eligible = candidates
      .map((c, i) => ({ c, i }))
      .filter(({ c, i }) => {
        if (i === best) return true;
        const d = Array.from(perPoint(c), (v, j) => v - ref[j]!);
        return means[i]! <= means[best]! + (k * sdOf(d)) / Math.sqrt(d.length);
      });
    eligible.sort((a, b) => simpler(a.c, b.c) || means[a.i]! - means[b.i]!);
    return eligible[0]!.i;
  };

/** The lowest mean + median + p90 (the three figures the data sets are judged on) instead of the mean. */
export const lowestThreeFigures: SelectionRule = (candidates, samples) =>
  firstLowest(
    candidates.map((c) => {
      const s = summariseErrors(samples.map((j) => c.errors[j]!));
      return s.meanError + s.medianError + s.p90Error;
    }),
  );

export interface HalfWalkFigures {
  mean: number;
  median: number;
  p90: number;
}

/**
 * Each rule's error on the held half, averaged over `splits` random halvings of the reference points (both halves
 * take a turn at choosing). `pointKeys`: the walk sample's reference point, in the candidates' sample order.
 */
export function halfWalkStudy(
  candidates: readonly FusionCandidate[],
  pointKeys: readonly string[],
  rules: Readonly<Record<string, SelectionRule>>,
  options: { splits: number; seed: number },
): Record<string, HalfWalkFigures> {
  const keys = [...new Set(pointKeys)].sort();
  const index = new Map(keys.map((k, j) => [k, j]));
  const pointOf = pointKeys.map((k) => index.get(k)!);
  const rng = new Rng(options.seed);
  const out: Record<string, HalfWalkFigures> = {};
  for (const name of Object.keys(rules)) out[name] = { mean: 0, median: 0, p90: 0 };
  const turns = options.splits * 2;
  for (let s = 0; s < options.splits; s++) {
    const order = keys.map((_, j) => j);
    rng.shuffle(order);
    const inA = new Uint8Array(keys.length);
    for (const j of order.slice(0, Math.floor(keys.length / 2))) inA[j] = 1;
    const a: number[] = [];
    const b: number[] = [];
    pointOf.forEach((p, i) => {
      (inA[p] ? a : b).push(i);
    });
    for (const [choose, score] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const [name, rule] of Object.entries(rules)) {
        const c = candidates[rule(candidates, choose, pointOf)]!;
        const e = summariseErrors(score.map((i) => c.errors[i]!));
        out[name]!.mean += e.meanError / turns;
        out[name]!.median += e.medianError / turns;
        out[name]!.p90 += e.p90Error / turns;
      }
    }
  }
  return out;
}
