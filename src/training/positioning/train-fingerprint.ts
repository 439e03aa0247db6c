import { encodeStandardised, type FeatureSpec, featureLength } from '../../models/positioning/features.js';
import {
  createFingerprintNetwork,
  FingerprintNet,
  LOG_VAR_MAX,
  LOG_VAR_MIN,
} from '../../models/positioning/fingerprint.js';
import type { Observation } from '../../models/positioning/observation.js';
import { Rng } from '../../models/positioning/prng.js';
import { initTensorFlow, tf } from '../../models/positioning/tf-runtime.js';

export interface FingerprintTrainOptions {
  /** Hidden layer widths (default [64, 64]). */
  hidden: number[];
  /** Optimiser steps in total (default 2500); epochs follow from the data size. */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** L2 weight decay on the kernels. */
  l2: number;
  /** Per-anchor probability of hiding it during training (teaches the net missing anchors). */
  dropAnchorProbability: number;
  /** At most this many messages per reference point (seeded subsample), to bound training time. */
  maxSamplesPerPoint: number;
  /**
   * Networks in the ensemble (default 1; `trainPositioning` picks 3 when there is no multilateration to fuse
   * with). Each has its own initialisation, subsample, batch order and anchor dropout; all train in one batched
   * graph, so three cost about 2.5 times one.
   */
  members?: number;
  /**
   * Gaussian noise added to each heard channel of a training message, in units of that channel's within-point σ
   * (default 0). A regulariser: the network cannot key on one point's exact readings, so it interpolates more
   * smoothly between the walk's points. `trainPositioning` picks it from FINGERPRINT_INPUT_NOISE_LEVELS by
   * cross-validation unless given.
   */
  inputNoise?: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_FINGERPRINT_TRAINING: Omit<FingerprintTrainOptions, 'seed'> = {
  hidden: [64, 64],
  steps: 2500,
  batchSize: 128,
  learningRate: 3e-3,
  l2: 1e-4,
  dropAnchorProbability: 0.1,
  maxSamplesPerPoint: 60,
};

/**
 * Input-noise levels cross-validation chooses from. On the walks (5-fold CV, seed 1, held-out mean error of the
 * network) 2σ took feng-apartment 0.71 → 0.68 m, feng-office 0.51 → 0.50, feng-building 2.38 → 2.27, and made the
 * UJI BLE sets worse (lib 2.59 → 2.83, geo 4.04 → 4.32): the choice is the walk's, not a constant.
 */
export const FINGERPRINT_INPUT_NOISE_LEVELS: readonly number[] = [0, 2];

export interface FingerprintSample {
  x: number;
  y: number;
  pointKey: string;
  observations: readonly Observation[];
}

/** The gradient of a detached tensor is zero: the variance head learns from the residual, not the reverse. */
const stopGradient = tf.customGrad((x) => ({
  value: (x as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** Slots of each anchor's channels in the feature vector, for anchor dropout. */
function anchorSlots(
  spec: FeatureSpec,
): Array<Array<{ value: number; mask: number; fill: number; noise: number }>> {
  const out: Array<Array<{ value: number; mask: number; fill: number; noise: number }>> = [];
  let j = 0;
  for (let i = 0; i < spec.anchors.length; i++) {
    const slots: Array<{ value: number; mask: number; fill: number; noise: number }> = [];
    if (spec.useRssi[i]) {
      slots.push({
        value: j,
        mask: j + 1,
        fill: (spec.rssiFill[i]! - spec.rssiMean[i]!) / spec.rssiScale[i]!,
        noise: spec.rssiNoise[i]! / spec.rssiScale[i]!,
      });
      j += 2;
    }
    if (spec.useRange[i]) {
      slots.push({
        value: j,
        mask: j + 1,
        fill: (spec.rangeFill[i]! - spec.rangeMean[i]!) / spec.rangeScale[i]!,
        noise: spec.rangeNoise[i]! / spec.rangeScale[i]!,
      });
      j += 2;
    }
    out.push(slots);
  }
  return out;
}

/**
 * Trains the fingerprint ensemble on a walk (deterministic for a seed). Its covScale is 1 until calibrated.
 *
 * Why an ensemble: one network's answer between the walk's points depends on its initialisation and on which
 * messages it saw — on the feng-apartment test points one network scored 0.86 m mean error, the average of five
 * trained with seeds 1–5 0.78 m — and its variance head cannot know when it extrapolates. The members' average cancels much of that, and their
 * spread is added to the variance, so the fusion weights the network down where the members disagree (deep
 * ensembles, Lakshminarayanan et al. 2017).
 */
export async function trainFingerprint(
  spec: FeatureSpec,
  samples: readonly FingerprintSample[],
  options: FingerprintTrainOptions,
): Promise<FingerprintNet> {
  await initTensorFlow();
  if (samples.length === 0) throw new Error('fingerprint: no training samples');
  const M = Math.max(1, Math.floor(options.members ?? 1));
  const rng = new Rng(options.seed);
  const dim = featureLength(spec);
  const byPoint = new Map<string, FingerprintSample[]>();
  for (const s of samples) {
    let g = byPoint.get(s.pointKey);
    if (!g) {
      g = [];
      byPoint.set(s.pointKey, g);
    }
    g.push(s);
  }
  const keys = [...byPoint.keys()].sort();
  // Each member's own subsample of at most maxSamplesPerPoint messages per point (so all hold n messages).
  const subsets = Array.from({ length: M }, () => {
    const used: FingerprintSample[] = [];
    for (const key of keys) {
      const g = byPoint.get(key)!;
      used.push(
        ...(g.length > options.maxSamplesPerPoint
          ? rng.shuffle([...g]).slice(0, options.maxSamplesPerPoint)
          : g),
      );
    }
    return used;
  });
  const n = subsets[0]!.length;
  // Targets are centred and scaled by the messages the members train on (one shared frame).
  const all = subsets.flat();
  let cx = 0;
  let cy = 0;
  for (const s of all) {
    cx += s.x;
    cy += s.y;
  }
  cx /= all.length;
  cy /= all.length;
  let vx = 0;
  let vy = 0;
  for (const s of all) {
    vx += (s.x - cx) ** 2;
    vy += (s.y - cy) ** 2;
  }
  const scale = Math.max(Math.sqrt(Math.max(vx, vy) / all.length), 0.5);
  const sets = subsets.map((used) => {
    const X = new Float32Array(n * dim);
    const Y = new Float32Array(n * 2);
    used.forEach((s, i) => {
      encodeStandardised(spec, s.observations, X.subarray(i * dim, (i + 1) * dim));
      Y[2 * i] = (s.x - cx) / scale;
      Y[2 * i + 1] = (s.y - cy) / scale;
    });
    return { X, Y, order: Array.from({ length: n }, (_, i) => i) };
  });

  // One network: [in, out] kernels and [out] biases, as the layers API holds them. An ensemble: the members'
  // weights stacked on a leading axis, [M, in, out] and [M, 1, out], and every matMul batched over members.
  // Initialisers as createFingerprintNetwork's (He-normal hidden, Glorot-uniform output, zero biases), member k
  // seeded 1000·k further on: a one-network ensemble is the network this function trained before ensembles.
  const widths = [dim, ...options.hidden, 3];
  const kernels: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  // In tidy: the initial values are freed, the variables (not tracked by tidy) stay.
  tf.tidy(() => {
    for (let l = 0; l + 1 < widths.length; l++) {
      const shape = [widths[l]!, widths[l + 1]!];
      const last = l + 2 === widths.length;
      const init = (k: number) =>
        last
          ? tf.initializers.glorotUniform({ seed: options.seed + 100 + 1000 * k }).apply(shape)
          : tf.initializers.heNormal({ seed: options.seed + l + 1000 * k }).apply(shape);
      kernels.push(tf.variable(M === 1 ? init(0) : tf.stack(Array.from({ length: M }, (_, k) => init(k)))));
      biases.push(tf.variable(tf.zeros(M === 1 ? [widths[l + 1]!] : [M, 1, widths[l + 1]!])));
    }
  });
  const vars = [...kernels, ...biases];

  const batch = Math.min(options.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batch);
  const epochs = Math.max(1, Math.round(options.steps / stepsPerEpoch));
  const total = epochs * stepsPerEpoch;
  const optimizer = tf.train.adam(options.learningRate);
  const slots = anchorSlots(spec);
  const noiseK = options.inputNoise ?? 0;
  const xb = new Float32Array(M * batch * dim);
  const yb = new Float32Array(M * batch * 2);
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const set of sets) rng.shuffle(set.order);
      for (let start = 0; start < n; start += batch) {
        // Every member holds n rows (the cap per point is the same for all): row r of the step is the
        // (start + r)-th of each member's own order.
        const m = Math.min(batch, n - start);
        sets.forEach((set, k) => {
          for (let r = 0; r < m; r++) {
            const i = set.order[start + r]!;
            const o = (k * m + r) * dim;
            const row = xb.subarray(o, o + dim);
            row.set(set.X.subarray(i * dim, (i + 1) * dim));
            for (const anchor of slots) {
              if (noiseK > 0) {
                for (const sl of anchor)
                  if (row[sl.mask] === 1) row[sl.value]! += noiseK * sl.noise * rng.normal();
              }
              if (anchor.length === 0 || !rng.bernoulli(options.dropAnchorProbability)) continue;
              for (const sl of anchor) {
                row[sl.value] = sl.fill;
                row[sl.mask] = 0;
              }
            }
            yb[2 * (k * m + r)] = set.Y[2 * i]!;
            yb[2 * (k * m + r) + 1] = set.Y[2 * i + 1]!;
          }
        });
        // Cosine decay to 5 % of the initial rate.
        const lr = options.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / total)));
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        tf.tidy(() => {
          const xt =
            M === 1
              ? tf.tensor2d(xb.subarray(0, m * dim), [m, dim])
              : tf.tensor3d(xb.subarray(0, M * m * dim), [M, m, dim]);
          const yt = tf.tensor2d(yb.subarray(0, M * m * 2), [M * m, 2]);
          optimizer.minimize(
            () => {
              let h: tf.Tensor = xt;
              for (let l = 0; l < kernels.length; l++) {
                const relu = l + 1 < kernels.length;
                if (M === 1) {
                  // The fused kernel the Dense layer uses (matMul + bias + activation in one op).
                  h = tf.fused.matMul({
                    a: h as tf.Tensor2D,
                    b: kernels[l]! as tf.Tensor2D,
                    bias: biases[l]!,
                    activation: relu ? 'relu' : 'linear',
                  });
                } else {
                  // The wasm fused kernel takes only a rank-1 bias: batched matMul, then the members' biases.
                  h = tf.add(tf.matMul(h, kernels[l]!), biases[l]!);
                  if (relu) h = tf.relu(h);
                }
              }
              // Member-major rows, as yt: [M·m, 3].
              const out = M === 1 ? h : h.reshape([M * m, 3]);
              const mu = out.slice([0, 0], [-1, 2]);
              const raw = out.slice([0, 2], [-1, 1]);
              const s = tf
                .sigmoid(raw)
                .mul(LOG_VAR_MAX - LOG_VAR_MIN)
                .add(LOG_VAR_MIN);
              const sq = tf.sum(tf.square(tf.sub(yt, mu)), 1, true);
              const mse = tf.mean(sq);
              // 2-D isotropic Gaussian NLL with per-axis variance e^s: s + |r|²/(2e^s) (constants dropped).
              const nll = tf.mean(s.add(stopGradient(sq).div(tf.exp(s).mul(2))));
              let loss = mse.add(nll.mul(0.5));
              // Each member's loss is its own mean over its rows: the sum over members (M × the mean over all
              // rows) keeps each member's gradient what it would be alone.
              if (M > 1) loss = loss.mul(M);
              if (options.l2 > 0) {
                loss = loss.add(tf.addN(kernels.map((k) => tf.sum(tf.square(k)))).mul(options.l2));
              }
              return loss as tf.Scalar;
            },
            false,
            vars,
          );
        });
        step++;
        if (options.onProgress && (step % 50 === 0 || step === total)) options.onProgress(step, total);
      }
    }
    // One dense stack holds the whole ensemble: the first layer's kernels side by side, the later ones on a
    // block diagonal (zero between members), the output [x, y, log-variance] of member k in columns 3k..3k+2.
    const model = createFingerprintNetwork(
      dim,
      options.hidden.map((h) => h * M),
      options.seed,
      3 * M,
    );
    const weights: tf.Tensor[] = [];
    for (let l = 0; l < kernels.length; l++) {
      const k = kernels[l]!.dataSync();
      const b = biases[l]!.dataSync();
      const fanIn = widths[l]!;
      const fanOut = widths[l + 1]!;
      const rows = l === 0 ? fanIn : M * fanIn;
      const cols = M * fanOut;
      const full = new Float32Array(rows * cols);
      for (let member = 0; member < M; member++) {
        const r0 = l === 0 ? 0 : member * fanIn;
        for (let i = 0; i < fanIn; i++) {
          for (let j = 0; j < fanOut; j++) {
            full[(r0 + i) * cols + member * fanOut + j] = k[(member * fanIn + i) * fanOut + j]!;
          }
        }
      }
      weights.push(tf.tensor2d(full, [rows, cols]), tf.tensor1d(b));
    }
    model.setWeights(weights);
    for (const w of weights) w.dispose();
    return new FingerprintNet(model, {
      spec,
      target: { cx, cy, scale },
      hidden: [...options.hidden],
      ...(M > 1 ? { members: M } : {}),
      covScale: 1,
      varFloorM2: 1e-3,
    });
  } finally {
    optimizer.dispose();
    for (const v of vars) v.dispose();
  }
}
