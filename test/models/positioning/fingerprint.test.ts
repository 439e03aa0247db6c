import { describe, expect, it } from 'vitest';
import {
  buildFeatureSpec,
  encodeStandardised,
  featureLength,
} from '../../../src/models/positioning/features.js';
import { FingerprintNet } from '../../../src/models/positioning/fingerprint.js';
import { initTensorFlow, tf } from '../../../src/models/positioning/tf-runtime.js';
import { createSimulatedWorld } from '../../../src/sim/index.js';
import { samplesFromMessages } from '../../../src/training/positioning/samples.js';
import { trainFingerprint } from '../../../src/training/positioning/train-fingerprint.js';

const backend = await initTensorFlow();
const world = createSimulatedWorld(21, { devices: 1 });
const train = samplesFromMessages(world.calibrationWalk({ spacingM: 1.25, samplesPerPoint: 3 }), world.site);
const test = samplesFromMessages(
  world.calibrationWalk({ layout: 'random', points: 40, samplesPerPoint: 1, idPrefix: 'test' }),
  world.site,
);
const spec = buildFeatureSpec(train);
const net = await trainFingerprint(spec, train, {
  hidden: [32, 32],
  steps: 400,
  batchSize: 64,
  learningRate: 3e-3,
  l2: 1e-4,
  dropAnchorProbability: 0.1,
  maxSamplesPerPoint: 60,
  seed: 3,
});

describe('TF.js fingerprint network', () => {
  it('runs on the WebAssembly backend here', () => {
    expect(['wasm', 'tensorflow']).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it('learns position from the walk: much better than guessing the walk centre', () => {
    const fixes = net.predictMany(test.map((s) => s.observations));
    const cx = train.reduce((a, s) => a + s.x, 0) / train.length;
    const cy = train.reduce((a, s) => a + s.y, 0) / train.length;
    let err = 0;
    let guess = 0;
    test.forEach((s, i) => {
      err += Math.hypot(fixes[i]!.x - s.x, fixes[i]!.y - s.y);
      guess += Math.hypot(cx - s.x, cy - s.y);
    });
    expect(err / test.length).toBeLessThan(0.6 * (guess / test.length));
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
    const dim = featureLength(spec);
    const rows = new Float32Array(test.length * dim);
    test.forEach((s, i) => {
      encodeStandardised(spec, s.observations, rows.subarray(i * dim, (i + 1) * dim));
    });
    // Some rows with anchors missing (imputed values, mask 0).
    encodeStandardised(spec, test[0]!.observations.slice(0, 1), rows.subarray(0, dim));
    const plain = net.predictRows(rows, test.length);
    const viaTf = net.predictRowsTf(rows, test.length);
    expect(plain).toHaveLength(test.length);
    plain.forEach((p, i) => {
      const t = viaTf[i]!;
      expect(Math.abs(p.x - t.x)).toBeLessThan(1e-5);
      expect(Math.abs(p.y - t.y)).toBeLessThan(1e-5);
      expect(Math.abs(p.variance - t.variance) / t.variance).toBeLessThan(1e-5);
    });
  });

  it('leaks no tensor when scoring', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) net.predictMany(test.map((s) => s.observations));
    net.predict(test[1]!.observations);
    net.predictRowsTf(encodeStandardised(spec, test[2]!.observations), 1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips through plain artifacts (JSON topology + binary weights) with identical outputs', async () => {
    const artifacts = await net.toArtifacts();
    expect(artifacts.weightData.byteLength).toBeGreaterThan(1000);
    // As the model directory stores them: JSON text for topology and manifest, a byte copy of the weights.
    const json = JSON.parse(
      JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
    );
    const weightData = new Uint8Array(artifacts.weightData).slice().buffer;
    const copy = await FingerprintNet.fromArtifacts(
      { ...json, weightData },
      JSON.parse(JSON.stringify(net.meta)),
    );
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
});
