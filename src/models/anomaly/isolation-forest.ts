import { assertFinite, type Matrix } from './matrix.js';
import { createRandom } from './random.js';

/*
 * Isolation forest (Liu, Ting & Zhou, ICDM 2008), built the way scikit-learn's IsolationForest builds it so the two
 * can be compared figure for figure: each tree is grown on ψ rows drawn without replacement, to depth ⌈log2 ψ⌉;
 * a node splits on the first feature (in random order) that is not constant among its rows, at a threshold
 * uniform between that feature's min and max, rows ≤ threshold going left. A point's path length is the number
 * of edges to its leaf plus c(leaf size); its score is 2^(−E[h]/c(ψ)) in (0, 1], higher = more anomalous.
 *
 * All trees live in one set of typed arrays (20 bytes a node; the right child of node i is left[i] + 1), so a
 * forest of 100 trees with ψ = 256 takes about 1 MB and serialises to base64 without loss.
 */

export interface ForestOptions {
  /** Number of trees t. @defaultValue 100 */
  trees?: number;
  /** Subsample size ψ per tree (capped at the row count). @defaultValue 256 */
  sampleSize?: number;
  /** @defaultValue 0 */
  seed?: number;
  /** @defaultValue ⌈log2 ψ⌉ */
  maxDepth?: number;
  /** When given (length trees × ψ), receives each tree's subsample row indices, for out-of-bag scoring. */
  recordSamples?: Int32Array;
}

export interface IsolationForest {
  readonly trees: number;
  /** ψ actually used: min(sampleSize, rows). */
  readonly sampleSize: number;
  readonly cols: number;
  readonly maxDepth: number;
  readonly seed: number;
  /** Node index of each tree's root; `treeOffset[trees]` is the node count. */
  readonly treeOffset: Int32Array;
  /** Split feature, −1 for a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Index of the left child (right = left + 1); −1 for a leaf. */
  readonly left: Int32Array;
  /** Training rows that reached the node. */
  readonly size: Int32Array;
  /** Per tree and feature, the min and max over that tree's subsample (`tree * cols + feature`). */
  readonly boxMin: Float64Array;
  readonly boxMax: Float64Array;
}

export interface ScoreOptions {
  /**
   * Out-of-box correction: a point outside a tree's subsample range in some feature would, had it been in the
   * subsample, be cut off by any split on that feature with probability (distance outside) / (range including
   * it) — certainly so on a feature that was constant in training. With it on, such features shorten the expected
   * path (see docs/anomaly.md). Off, scores are exactly the standard ones (what the benchmark compares).
   * @defaultValue false
   */
  rangeCheck?: boolean;
}

/** scikit-learn's test for a constant feature in a node. */
const FEATURE_THRESHOLD = 1e-7;
const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search in a binary search tree of n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
}

export function fitIsolationForest(x: Matrix, options: ForestOptions = {}): IsolationForest {
  const trees = options.trees ?? 100;
  const requested = options.sampleSize ?? 256;
  const seed = options.seed ?? 0;
  checkPositiveInt('trees', trees);
  checkPositiveInt('sampleSize', requested);
  if (x.rows < 1) throw new Error('cannot fit an isolation forest on zero rows');
  if (x.cols < 1) throw new Error('cannot fit an isolation forest on zero columns');
  assertFinite(x, 'training data');
  const n = x.rows;
  const d = x.cols;
  const psi = Math.min(requested, n);
  const maxDepth = options.maxDepth ?? Math.ceil(Math.log2(Math.max(psi, 2)));
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new Error(`maxDepth must be ≥ 0, got ${maxDepth}`);

  const random = createRandom(seed);
  const data = x.data;
  const perTree = 2 * psi - 1;
  let capacity = trees * perTree;
  let feature = new Int32Array(capacity);
  let threshold = new Float64Array(capacity);
  let left = new Int32Array(capacity);
  let size = new Int32Array(capacity);
  const treeOffset = new Int32Array(trees + 1);
  const boxMin = new Float64Array(trees * d);
  const boxMax = new Float64Array(trees * d);

  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const idx = new Int32Array(psi);
  const features = new Int32Array(d);
  for (let f = 0; f < d; f++) features[f] = f;
  // Explicit stack of (node, lo, hi, depth): a recursion this shallow would do, but this allocates nothing.
  const stackNode = new Int32Array(perTree);
  const stackLo = new Int32Array(perTree);
  const stackHi = new Int32Array(perTree);
  const stackDepth = new Int32Array(perTree);
  let nodes = 0;

  for (let t = 0; t < trees; t++) {
    // Partial Fisher–Yates on a running permutation: a uniform ψ-subset without replacement, O(ψ) per tree.
    for (let i = 0; i < psi; i++) {
      const j = i + random.int(n - i);
      const tmp = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = tmp;
      idx[i] = perm[i]!;
    }
    options.recordSamples?.set(idx, t * psi);
    for (let f = 0; f < d; f++) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < psi; i++) {
        const v = data[idx[i]! * d + f]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      boxMin[t * d + f] = lo;
      boxMax[t * d + f] = hi;
    }
    treeOffset[t] = nodes;
    if (nodes + perTree > capacity) {
      // Only reachable with a custom maxDepth deeper than ψ allows; grow rather than fail.
      capacity = Math.max(capacity * 2, nodes + perTree);
      feature = grow(feature, capacity);
      threshold = grow(threshold, capacity);
      left = grow(left, capacity);
      size = grow(size, capacity);
    }
    let sp = 0;
    stackNode[sp] = nodes++;
    stackLo[sp] = 0;
    stackHi[sp] = psi;
    stackDepth[sp] = 0;
    sp++;
    while (sp > 0) {
      sp--;
      const node = stackNode[sp]!;
      const lo = stackLo[sp]!;
      const hi = stackHi[sp]!;
      const depth = stackDepth[sp]!;
      size[node] = hi - lo;
      feature[node] = -1;
      left[node] = -1;
      threshold[node] = 0;
      if (depth >= maxDepth || hi - lo <= 1) continue;
      let chosen = -1;
      let fMin = 0;
      let fMax = 0;
      for (let k = 0; k < d; k++) {
        const j = k + random.int(d - k);
        const tmp = features[k]!;
        features[k] = features[j]!;
        features[j] = tmp;
        const f = features[k]!;
        let mn = Number.POSITIVE_INFINITY;
        let mx = Number.NEGATIVE_INFINITY;
        for (let i = lo; i < hi; i++) {
          const v = data[idx[i]! * d + f]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        if (mx > mn + FEATURE_THRESHOLD) {
          chosen = f;
          fMin = mn;
          fMax = mx;
          break;
        }
      }
      if (chosen < 0) continue;
      let thr = fMin + random.next() * (fMax - fMin);
      if (thr >= fMax) thr = fMin;
      // Partition idx[lo, hi) so rows with value ≤ thr come first.
      let a = lo;
      let b = hi - 1;
      while (a <= b) {
        if (data[idx[a]! * d + chosen]! <= thr) a++;
        else {
          const tmp = idx[a]!;
          idx[a] = idx[b]!;
          idx[b] = tmp;
          b--;
        }
      }
      const l = nodes;
      nodes += 2;
      feature[node] = chosen;
      threshold[node] = thr;
      left[node] = l;
      stackNode[sp] = l + 1;
      stackLo[sp] = a;
      stackHi[sp] = hi;
      stackDepth[sp] = depth + 1;
      sp++;
      stackNode[sp] = l;
      stackLo[sp] = lo;
      stackHi[sp] = a;
      stackDepth[sp] = depth + 1;
      sp++;
    }
  }
  treeOffset[trees] = nodes;
  return {
    trees,
    sampleSize: psi,
    cols: d,
    maxDepth,
    seed,
    treeOffset,
    feature: feature.slice(0, nodes),
    threshold: threshold.slice(0, nodes),
    left: left.slice(0, nodes),
    size: size.slice(0, nodes),
    boxMin,
    boxMax,
  };
}

function grow<T extends Int32Array | Float64Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}

/**
 * Probability, per internal node on a point's path in tree `t`, that a split of the tree grown with the point
 * included would cut it off right there, with each out-of-box feature's share (see ScoreOptions.rangeCheck).
 */
function outOfBox(
  forest: IsolationForest,
  t: number,
  row: ArrayLike<number>,
  shares: Float64Array | null,
): number {
  const d = forest.cols;
  let candidates = 0;
  let sum = 0;
  for (let f = 0; f < d; f++) {
    const lo = forest.boxMin[t * d + f]!;
    const hi = forest.boxMax[t * d + f]!;
    const v = row[f]!;
    const out = v < lo ? lo - v : v > hi ? v - hi : 0;
    let q = 0;
    if (hi > lo + FEATURE_THRESHOLD) {
      candidates++;
      if (out > 0) q = out / (hi - lo + out);
    } else if (out > FEATURE_THRESHOLD) {
      candidates++;
      q = 1;
    }
    if (shares) shares[f] = q;
    sum += q;
  }
  if (candidates === 0 || sum === 0) {
    if (shares) shares.fill(0);
    return 0;
  }
  if (shares) for (let f = 0; f < d; f++) shares[f]! /= candidates;
  return sum / candidates;
}

function checkWidth(forest: IsolationForest, cols: number): void {
  if (cols !== forest.cols) {
    throw new Error(`the forest was fitted on ${forest.cols} features, got rows of ${cols}`);
  }
}

/** Mean path length E[h(x)] of every row over the trees. */
export function meanPathLengths(
  forest: IsolationForest,
  x: Matrix,
  options: ScoreOptions = {},
): Float64Array {
  checkWidth(forest, x.cols);
  const n = x.rows;
  const d = x.cols;
  const data = x.data;
  const out = new Float64Array(n);
  const { feature, threshold, left, size, treeOffset } = forest;
  const cLeaf = leafAdjustments(forest.sampleSize);
  if (!options.rangeCheck) {
    // Tree-major: one tree (≈10 kB) stays in cache while every row walks it.
    for (let t = 0; t < forest.trees; t++) {
      const root = treeOffset[t]!;
      for (let i = 0; i < n; i++) {
        const base = i * d;
        let node = root;
        let depth = 0;
        let f = feature[node]!;
        while (f >= 0) {
          node = data[base + f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
          depth++;
          f = feature[node]!;
        }
        out[i]! += depth + cLeaf[size[node]!]!;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const row = data.subarray(i * d, (i + 1) * d);
      let sum = 0;
      for (let t = 0; t < forest.trees; t++) sum += treePath(forest, t, row, cLeaf, true, null, null);
      out[i] = sum;
    }
  }
  for (let i = 0; i < n; i++) out[i]! /= forest.trees;
  return out;
}

/**
 * Out-of-bag scores of the training rows: each row is scored only by the trees whose subsample did not contain
 * it, so thresholds taken from these scores are not biased low by rows the trees have seen (matters for small
 * baselines; with n ≫ ψ almost every tree is out of bag anyway).
 */
export function outOfBagScores(
  forest: IsolationForest,
  x: Matrix,
  samples: Int32Array,
  options: ScoreOptions = {},
): Float64Array {
  checkWidth(forest, x.cols);
  const psi = forest.sampleSize;
  if (samples.length !== forest.trees * psi) throw new Error('samples must hold trees × ψ row indices');
  const n = x.rows;
  const d = x.cols;
  const sums = new Float64Array(n);
  const counts = new Int32Array(n);
  const allSums = new Float64Array(n);
  const inBag = new Uint8Array(n);
  const cLeaf = leafAdjustments(psi);
  const rangeCheck = options.rangeCheck === true;
  for (let t = 0; t < forest.trees; t++) {
    for (let k = 0; k < psi; k++) inBag[samples[t * psi + k]!] = 1;
    for (let i = 0; i < n; i++) {
      const h = treePath(forest, t, x.data.subarray(i * d, (i + 1) * d), cLeaf, rangeCheck, null, null);
      allSums[i]! += h;
      if (inBag[i] === 0) {
        sums[i]! += h;
        counts[i]!++;
      }
    }
    for (let k = 0; k < psi; k++) inBag[samples[t * psi + k]!] = 0;
  }
  const c = averagePathLength(psi);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = counts[i]! > 0 ? sums[i]! / counts[i]! : allSums[i]! / forest.trees;
    out[i] = c > 0 ? 2 ** (-h / c) : 0.5;
  }
  return out;
}

/** Anomaly scores 2^(−E[h]/c(ψ)) in (0, 1]; higher = more anomalous. */
export function scoreIsolationForest(
  forest: IsolationForest,
  x: Matrix,
  options: ScoreOptions = {},
): Float64Array {
  const h = meanPathLengths(forest, x, options);
  const c = averagePathLength(forest.sampleSize);
  for (let i = 0; i < h.length; i++) h[i] = c > 0 ? 2 ** (-h[i]! / c) : 0.5;
  return h;
}

export function scoreOne(
  forest: IsolationForest,
  row: ArrayLike<number>,
  options: ScoreOptions = {},
): number {
  return scoreIsolationForest(
    forest,
    { data: Float64Array.from(row), rows: 1, cols: row.length },
    options,
  )[0]!;
}

let leafCache: { psi: number; table: Float64Array } | null = null;
function leafAdjustments(psi: number): Float64Array {
  if (leafCache?.psi === psi) return leafCache.table;
  const table = new Float64Array(psi + 1);
  for (let k = 0; k <= psi; k++) table[k] = averagePathLength(k);
  leafCache = { psi, table };
  return table;
}

/**
 * Expected path length of `row` in tree `t`. Internal node k on the path is reached with probability r_k; there
 * the point is cut off by an out-of-box feature with probability p (path ends at depth k + 1), otherwise it follows
 * the trained split. `bits`, when given, receives each feature's attribution: the information log2(n_parent/n_child)
 * of every split on the path, weighted by the probability of reaching it.
 */
function treePath(
  forest: IsolationForest,
  t: number,
  row: ArrayLike<number>,
  cLeaf: Float64Array,
  rangeCheck: boolean,
  bits: Float64Array | null,
  shares: Float64Array | null,
): number {
  const { feature, threshold, left, size } = forest;
  const p = rangeCheck ? outOfBox(forest, t, row, shares) : 0;
  let node = forest.treeOffset[t]!;
  let depth = 0;
  let reach = 1;
  let h = 0;
  let f = feature[node]!;
  while (f >= 0) {
    const next = row[f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
    if (p > 0) {
      h += reach * p * (depth + 1);
      if (bits && shares) {
        const cut = Math.log2(size[node]! + 1);
        for (let g = 0; g < forest.cols; g++) if (shares[g]! > 0) bits[g]! += reach * shares[g]! * cut;
      }
    }
    if (bits) bits[f]! += reach * (1 - p) * Math.log2(size[node]! / size[next]!);
    reach *= 1 - p;
    node = next;
    depth++;
    f = feature[node]!;
  }
  return h + reach * (depth + cLeaf[size[node]!]!);
}

export interface Explanation {
  score: number;
  /** Mean path length over the trees. */
  pathLength: number;
  /** Per feature, the bits of isolation it contributed, averaged over the trees. */
  bits: Float64Array;
  /** `bits` normalised to sum to 1 (all zero when nothing split the point). */
  share: Float64Array;
}

/**
 * Which features isolated `row`: every split on its path is credited to its feature with the information it
 * carried, log2(rows in the node / rows in the branch the point took). A split that cuts the point off from
 * most of the node is worth many bits; the halving splits a normal point sees are worth about one. The sum over a
 * path is log2(ψ / leaf size), so the shares say which features made the path short.
 */
export function explainRow(
  forest: IsolationForest,
  row: ArrayLike<number>,
  options: ScoreOptions = {},
): Explanation {
  checkWidth(forest, row.length);
  const d = forest.cols;
  const cLeaf = leafAdjustments(forest.sampleSize);
  const bits = new Float64Array(d);
  const shares = options.rangeCheck ? new Float64Array(d) : null;
  let sum = 0;
  const rangeCheck = options.rangeCheck === true;
  for (let t = 0; t < forest.trees; t++) sum += treePath(forest, t, row, cLeaf, rangeCheck, bits, shares);
  const pathLength = sum / forest.trees;
  let total = 0;
  for (let f = 0; f < d; f++) {
    bits[f]! /= forest.trees;
    total += bits[f]!;
  }
  const share = new Float64Array(d);
  if (total > 0) for (let f = 0; f < d; f++) share[f] = bits[f]! / total;
  const c = averagePathLength(forest.sampleSize);
  return { score: c > 0 ? 2 ** (-pathLength / c) : 0.5, pathLength, bits, share };
}

/** Bytes held by the forest's arrays. */
export function forestBytes(forest: IsolationForest): number {
  return [
    forest.treeOffset,
    forest.feature,
    forest.threshold,
    forest.left,
    forest.size,
    forest.boxMin,
    forest.boxMax,
  ].reduce((s, a) => s + a.byteLength, 0);
}
