import { describe, expect, it } from 'vitest';
import { buildFeatureSpec } from '../../../src/models/positioning/features.js';
import type { FingerprintNet } from '../../../src/models/positioning/fingerprint.js';
import type { Observation } from '../../../src/models/positioning/observation.js';
import { initTensorFlow } from '../../../src/models/positioning/tf-runtime.js';
import { trainFingerprint } from '../../../src/training/positioning/train-fingerprint.js';
import { simulatedWalk } from '../../helpers/simulated-walk.js';

await initTensorFlow();
const { train, test } = simulatedWalk(8, { spacingM: 1.5, samplesPerPoint: 4, testPoints: 30 });
const spec = buildFeatureSpec(train);
const options = {
  hidden: [32, 32],
  steps: 300,
  batchSize: 64,
  learningRate: 3e-3,
  l2: 1e-4,
  dropAnchorProbability: 0.1,
  maxSamplesPerPoint: 60,
  seed: 2,
};

/** Mean shift of the fix (m) when one heard RSSI reading moves by its within-point σ, over test messages and anchors. */
function sensitivity(net: FingerprintNet): number {
  let sum = 0;
  let n = 0;
  for (const s of test) {
    const base = net.predict(s.observations)!;
    for (const o of s.observations) {
      const i = spec.anchors.indexOf(o.anchorId);
      if (i < 0 || o.rssi === undefined || !spec.useRssi[i]) continue;
      const moved: Observation[] = s.observations.map((q) =>
        q === o ? { ...q, rssi: q.rssi! + spec.rssiNoise[i]! } : q,
      );
      const f = net.predict(moved)!;
      sum += Math.hypot(f.x - base.x, f.y - base.y);
      n++;
    }
  }
  return sum / n;
}

describe('trainFingerprint input noise', () => {
  it('makes the network less sensitive to one reading’s noise (the regulariser it is meant to be); reproducible', async () => {
    const plain = await trainFingerprint(spec, train, options);
    const noisy = await trainFingerprint(spec, train, { ...options, inputNoise: 4 });
    const again = await trainFingerprint(spec, train, { ...options, inputNoise: 4 });
    try {
      const sPlain = sensitivity(plain);
      const sNoisy = sensitivity(noisy);
      expect(sPlain).toBeGreaterThan(0);
      // Training on readings jittered by 4σ (the fit is deterministic for the seed; 0.64 of the plain net here) teaches the net that a 1σ change says little about the position.
      expect(sNoisy).toBeLessThan(0.8 * sPlain);
      const q = test.slice(0, 10).map((s) => s.observations);
      expect(again.predictMany(q)).toEqual(noisy.predictMany(q));
      expect(noisy.predictMany(q)).not.toEqual(plain.predictMany(q));
    } finally {
      plain.dispose();
      noisy.dispose();
      again.dispose();
    }
  });
});
