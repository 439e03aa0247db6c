import { describe, expect, it } from 'vitest';
import {
  buildFeatureSpec,
  encodeStandardised,
  featureLength,
} from '../../../src/models/positioning/features.js';
import { FingerprintNet, LOG_VAR_MAX, LOG_VAR_MIN } from '../../../src/models/positioning/fingerprint.js';
import { initTensorFlow, tf } from '../../../src/models/positioning/tf-runtime.js';
import { trainFingerprint } from '../../../src/training/positioning/train-fingerprint.js';
import { simulatedWalk } from '../../helpers/simulated-walk.js';

const backend = await initTensorFlow();
const { train, test } = simulatedWalk(21, { spacingM: 1.25, samplesPerPoint: 3, testPoints: 40 });
const spec = buildFeatureSpec(train);
// What the single network and the ensemble train with alike.
const optimiser = {
  batchSize: 64,
  learningRate: 3e-3,
  l2: 1e-4,
  dropAnchorProbability: 0.1,
  maxSamplesPerPoint: 60,
};
const net = await trainFingerprint(spec, train, { ...optimiser, hidden: [32, 32], steps: 400, seed: 3 });

// An ensemble of three, trained in one batched graph and stored as one block-diagonal dense stack.
const ensemble = await trainFingerprint(spec, train, {
  ...optimiser,
  hidden: [16, 16],
  steps: 300,
  members: 3,
  seed: 5,
});

function encodeAll(rowsOf: typeof test): Float32Array {
  const dim = featureLength(spec);
  const rows = new Float32Array(rowsOf.length * dim);
  rowsOf.forEach((s, i) => {
    encodeStandardised(spec, s.observations, rows.subarray(i * dim, (i + 1) * dim));
  });
  return rows;
}

/** Mean test error of the net's fixes and of guessing the walk's centre. */
function errorAndGuess(n: FingerprintNet): { err: number; guess: number } {
  const fixes = n.predictMany(test.map((s) => s.observations));
  const cx = train.reduce((a, s) => a + s.x, 0) / train.length;
  const cy = train.reduce((a, s) => a + s.y, 0) / train.length;
  let err = 0;
  let guess = 0;
  test.forEach((s, i) => {
    err += Math.hypot(fixes[i]!.x - s.x, fixes[i]!.y - s.y);
    guess += Math.hypot(cx - s.x, cy - s.y);
  });
  return { err: err / test.length, guess: guess / test.length };
}

/** The plain forward pass against TF.js predict on every test row, the first with anchors missing (mask 0). */
function expectPlainEqualsTf(n: FingerprintNet): void {
  const rows = encodeAll(test);
  encodeStandardised(spec, test[0]!.observations.slice(0, 1), rows.subarray(0, featureLength(spec)));
  const plain = n.predictRows(rows, test.length);
  const viaTf = n.predictRowsTf(rows, test.length);
  expect(plain).toHaveLength(test.length);
  plain.forEach((p, i) => {
    const t = viaTf[i]!;
    expect(Math.abs(p.x - t.x)).toBeLessThan(1e-5);
    expect(Math.abs(p.y - t.y)).toBeLessThan(1e-5);
    expect(Math.abs(p.variance - t.variance) / t.variance).toBeLessThan(1e-5);
  });
}

/** A copy loaded as the model directory stores it: JSON text for topology, manifest and meta, a byte copy of the weights. */
async function roundTrip(n: FingerprintNet): Promise<FingerprintNet> {
  const artifacts = await n.toArtifacts();
  expect(artifacts.weightData.byteLength).toBeGreaterThan(1000);
  const json = JSON.parse(
    JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
  );
  return FingerprintNet.fromArtifacts(
    { ...json, weightData: new Uint8Array(artifacts.weightData).slice().buffer },
    JSON.parse(JSON.stringify(n.meta)),
  );
}

describe('TF.js fingerprint network', () => {
  it('runs on the WebAssembly backend here', () => {
    expect(['wasm', 'tensorflow']).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it('learns position from the walk: much better than guessing the walk centre', () => {
    const { err, guess } = errorAndGuess(net);
    expect(err).toBeLessThan(0.6 * guess);
    const fixes = net.predictMany(test.map((s) => s.observations));
    expect(fixes.every((f) => f !== null && f.cov[0] > 0 && f.model === 'fingerprint')).toBe(true);
  });

  it('handles missing anchors (mask + imputation) and refuses when no model anchor was heard', () => {
    const partial = test[0]!.observations.slice(0, 2);
    const f = net.predict(partial);
    expect(f).not.toBeNull();
    expect(Number.isFinite(f!.x)).toBe(true);
    expect(net.predict([{ anchorId: '203.0.113.9', rssi: -50 }])).toBeNull();
  });

  it('the plain forward pass (what scoring runs) equals TF.js predict to 1e-5', () => {
    expectPlainEqualsTf(net);
  });

  it('leaks no tensor when scoring', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) net.predictMany(test.map((s) => s.observations));
    net.predict(test[1]!.observations);
    net.predictRowsTf(encodeStandardised(spec, test[2]!.observations), 1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips through plain artifacts (JSON topology + binary weights) with identical outputs', async () => {
    const copy = await roundTrip(net);
    const a = net.predictMany(test.slice(0, 10).map((s) => s.observations));
    const b = copy.predictMany(test.slice(0, 10).map((s) => s.observations));
    expect(b).toEqual(a);
    copy.dispose();
  });

  it('trains deterministically for a seed', async () => {
    const again = await trainFingerprint(spec, train.slice(0, 60), {
      hidden: [8],
      steps: 30,
      batchSize: 32,
      learningRate: 3e-3,
      l2: 0,
      dropAnchorProbability: 0.1,
      maxSamplesPerPoint: 60,
      seed: 9,
    });
    const twice = await trainFingerprint(spec, train.slice(0, 60), {
      hidden: [8],
      steps: 30,
      batchSize: 32,
      learningRate: 3e-3,
      l2: 0,
      dropAnchorProbability: 0.1,
      maxSamplesPerPoint: 60,
      seed: 9,
    });
    const q = test.slice(0, 5).map((s) => s.observations);
    expect(twice.predictMany(q)).toEqual(again.predictMany(q));
    again.dispose();
    twice.dispose();
  });

  describe('ensemble', () => {
    it('stores its members as one dense stack: first layer side by side, later layers block-diagonal', () => {
      expect(ensemble.members).toBe(3);
      const weights = ensemble.model.getWeights();
      const widths = weights.filter((w) => w.shape.length === 2).map((w) => w.shape);
      expect(widths).toEqual([
        [featureLength(spec), 48],
        [48, 48],
        [48, 9],
      ]);
      // Off the diagonal blocks every weight is exactly zero: no member reads another's units.
      for (const w of weights.filter((x) => x.shape.length === 2).slice(1)) {
        const [rows, cols] = w.shape as [number, number];
        const data = w.dataSync();
        const rb = rows / 3;
        const cb = cols / 3;
        let offBlock = 0;
        let onBlockNonZero = 0;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            const same = Math.floor(i / rb) === Math.floor(j / cb);
            if (!same && data[i * cols + j] !== 0) offBlock++;
            if (same && data[i * cols + j] !== 0) onBlockNonZero++;
          }
        }
        expect(offBlock).toBe(0);
        expect(onBlockNonZero).toBeGreaterThan(0.9 * rb * cb * 3);
      }
    });

    it('its members differ, and its answer is their mean with their spread added to the variance', () => {
      const rows = encodeAll(test);
      const raw = new Float64Array(9 * test.length);
      ensemble.forwardRows(rows, test.length, raw);
      const { cx, cy, scale } = ensemble.meta.target;
      const out = ensemble.predictRows(rows, test.length);
      let disagree = 0;
      out.forEach((p, i) => {
        const xs = [0, 1, 2].map((k) => cx + scale * raw[9 * i + 3 * k]!);
        const ys = [0, 1, 2].map((k) => cy + scale * raw[9 * i + 3 * k + 1]!);
        const mx = (xs[0]! + xs[1]! + xs[2]!) / 3;
        const my = (ys[0]! + ys[1]! + ys[2]!) / 3;
        expect(p.x).toBeCloseTo(mx, 9);
        expect(p.y).toBeCloseTo(my, 9);
        const spread = xs.reduce((a, x, k) => a + (x - mx) ** 2 + (ys[k]! - my) ** 2, 0) / 6;
        const memberVar = [0, 1, 2].reduce((a, k) => {
          const r = raw[9 * i + 3 * k + 2]!;
          return a + Math.exp(LOG_VAR_MIN + (LOG_VAR_MAX - LOG_VAR_MIN) / (1 + Math.exp(-r))) * scale * scale;
        }, 0);
        expect(p.variance).toBeCloseTo(memberVar / 3 + spread, 9);
        if (Math.hypot(xs[0]! - xs[1]!, ys[0]! - ys[1]!) > 0.05) disagree++;
      });
      // Different initialisations, subsamples and batch orders: the members are not copies of one network.
      expect(disagree).toBeGreaterThan(test.length / 2);
    });

    it('learns position from the walk', () => {
      const { err, guess } = errorAndGuess(ensemble);
      expect(err).toBeLessThan(0.6 * guess);
    });

    it('the block-wise plain pass equals TF.js predict to 1e-5', () => {
      expectPlainEqualsTf(ensemble);
    });

    it('round-trips through artifacts with its member count', async () => {
      const copy = await roundTrip(ensemble);
      expect(copy.members).toBe(3);
      const q = test.slice(0, 10).map((s) => s.observations);
      expect(copy.predictMany(q)).toEqual(ensemble.predictMany(q));
      copy.dispose();
    });

    it('a member count that does not divide the layers is refused with a clear error', async () => {
      const artifacts = await ensemble.toArtifacts();
      const wrong = await FingerprintNet.fromArtifacts(artifacts, { ...ensemble.meta, members: 2 });
      expect(() => wrong.predict(test[0]!.observations)).toThrow(/3 outputs per member \(6\)/);
      wrong.dispose();
    });
  });
});
