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
function anchorSlots(spec: FeatureSpec): Array<Array<{ value: number; mask: number; fill: number }>> {
  const out: Array<Array<{ value: number; mask: number; fill: number }>> = [];
  let j = 0;
  for (let i = 0; i < spec.anchors.length; i++) {
    const slots: Array<{ value: number; mask: number; fill: number }> = [];
    if (spec.useRssi[i]) {
      slots.push({
        value: j,
        mask: j + 1,
        fill: (spec.rssiFill[i]! - spec.rssiMean[i]!) / spec.rssiScale[i]!,
      });
      j += 2;
    }
    if (spec.useRange[i]) {
      slots.push({
        value: j,
        mask: j + 1,
        fill: (spec.rangeFill[i]! - spec.rangeMean[i]!) / spec.rangeScale[i]!,
      });
      j += 2;
    }
    out.push(slots);
  }
  return out;
}

/** Trains the fingerprint network on a walk (deterministic for a seed). Its covScale is 1 until calibrated. */
export async function trainFingerprint(
  spec: FeatureSpec,
  samples: readonly FingerprintSample[],
  options: FingerprintTrainOptions,
): Promise<FingerprintNet> {
  await initTensorFlow();
  const rng = new Rng(options.seed);
  // Subsample per point.
  const byPoint = new Map<string, FingerprintSample[]>();
  for (const s of samples) {
    let g = byPoint.get(s.pointKey);
    if (!g) {
      g = [];
      byPoint.set(s.pointKey, g);
    }
    g.push(s);
  }
  const used: FingerprintSample[] = [];
  for (const key of [...byPoint.keys()].sort()) {
    const g = byPoint.get(key)!;
    used.push(
      ...(g.length > options.maxSamplesPerPoint
        ? rng.shuffle([...g]).slice(0, options.maxSamplesPerPoint)
        : g),
    );
  }
  const n = used.length;
  if (n === 0) throw new Error('fingerprint: no training samples');
  const dim = featureLength(spec);
  const X = new Float32Array(n * dim);
  let cx = 0;
  let cy = 0;
  used.forEach((s, i) => {
    encodeStandardised(spec, s.observations, X.subarray(i * dim, (i + 1) * dim));
    cx += s.x;
    cy += s.y;
  });
  cx /= n;
  cy /= n;
  let vx = 0;
  let vy = 0;
  for (const s of used) {
    vx += (s.x - cx) ** 2;
    vy += (s.y - cy) ** 2;
  }
  const scale = Math.max(Math.sqrt(Math.max(vx, vy) / n), 0.5);
  const Y = new Float32Array(n * 2);
  used.forEach((s, i) => {
    Y[2 * i] = (s.x - cx) / scale;
    Y[2 * i + 1] = (s.y - cy) / scale;
  });

  const model = createFingerprintNetwork(dim, options.hidden, options.seed);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const kernels = model.trainableWeights.filter((w) => w.name.includes('kernel')).map((w) => w.read());
  const batch = Math.min(options.batchSize, n);
  const stepsPerEpoch = Math.ceil(n / batch);
  const epochs = Math.max(1, Math.round(options.steps / stepsPerEpoch));
  const total = epochs * stepsPerEpoch;
  const optimizer = tf.train.adam(options.learningRate);
  const slots = anchorSlots(spec);
  const order = Array.from({ length: n }, (_, i) => i);
  const xb = new Float32Array(batch * dim);
  const yb = new Float32Array(batch * 2);
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      rng.shuffle(order);
      for (let start = 0; start < n; start += batch) {
        const m = Math.min(batch, n - start);
        for (let r = 0; r < m; r++) {
          const i = order[start + r]!;
          const row = xb.subarray(r * dim, (r + 1) * dim);
          row.set(X.subarray(i * dim, (i + 1) * dim));
          for (const anchor of slots) {
            if (anchor.length === 0 || !rng.bernoulli(options.dropAnchorProbability)) continue;
            for (const sl of anchor) {
              row[sl.value] = sl.fill;
              row[sl.mask] = 0;
            }
          }
          yb[2 * r] = Y[2 * i]!;
          yb[2 * r + 1] = Y[2 * i + 1]!;
        }
        // Cosine decay to 5 % of the initial rate.
        const lr = options.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * step) / total)));
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        tf.tidy(() => {
          const xt = tf.tensor2d(xb.subarray(0, m * dim), [m, dim]);
          const yt = tf.tensor2d(yb.subarray(0, m * 2), [m, 2]);
          optimizer.minimize(
            () => {
              const out = model.apply(xt, { training: true }) as tf.Tensor2D;
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
  } finally {
    optimizer.dispose();
  }
  return new FingerprintNet(model, {
    spec,
    target: { cx, cy, scale },
    hidden: [...options.hidden],
    covScale: 1,
    varFloorM2: 1e-3,
  });
}
