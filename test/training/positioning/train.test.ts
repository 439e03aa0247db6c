import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateMany } from '../../../src/models/positioning/estimate.js';
import { summariseErrors } from '../../../src/models/positioning/stats.js';
import { tf } from '../../../src/models/positioning/tf-runtime.js';
import {
  anchorChannels,
  createSimulatedWorld,
  espresenseScenario,
  Rng,
  simulateCalibrationWalk,
} from '../../../src/sim/index.js';
import {
  createVersionDir,
  publishVersion,
  readLatest,
  writeMetadata,
} from '../../../src/training/model-dir.js';
import {
  evaluatePositioning,
  fitRanging,
  loadPositioner,
  loadPositioningModel,
  samplesFromMessages,
  savePositioningModel,
  trainPositioning,
} from '../../../src/training/positioning/index.js';
import { FINGERPRINT_INPUT_NOISE_LEVELS } from '../../../src/training/positioning/train-fingerprint.js';
import { simulatedWalk } from '../../helpers/simulated-walk.js';

const dir = mkdtempSync(join(tmpdir(), 'sbp-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const {
  world,
  train: walk,
  test,
} = simulatedWalk(13, { spacingM: 1.25, samplesPerPoint: 2, testPoints: 60 });

describe('fitting ranging from a walk', () => {
  it('recovers the simulator’s per-anchor FTM offsets and scales, and finds ping RTT uninformative', () => {
    const ranging = fitRanging(walk, world.site, { deviceHeight: world.radio.deviceHeight });
    for (const r of ranging) {
      const ch = world.channels.get(r.anchorId)!;
      if (ch.rtt === 'ftm') {
        expect(r.rtt!.informative).toBe(true);
        // NLOS excess (10 % of samples, mean 2 m) biases a line fit a little long; Huber keeps it small.
        expect(Math.abs(r.rtt!.offsetM - ch.ftmOffsetM)).toBeLessThan(0.6);
        expect(Math.abs(r.rtt!.scale - ch.ftmScale)).toBeLessThan(0.08);
        expect(r.rtt!.sigmaM).toBeLessThan(1.5);
      } else if (ch.rtt === 'ping') {
        expect(r.rtt!.informative).toBe(false);
        expect(r.rtt!.sigmaM).toBeGreaterThan(1e4);
      } else {
        expect(r.rtt).toBeNull();
      }
    }
  });

  it('recovers the ESPresense path loss (−59 dBm at 1 m, exponent 3) from a 60-point walk', () => {
    const s = espresenseScenario({ deviceHeight: 1 });
    const radio = { ...s.radio, multipathProbability: 0 };
    const msgs = simulateCalibrationWalk(
      s.site,
      radio,
      anchorChannels(s.site, radio, new Rng(1)),
      new Rng(2),
      {
        layout: 'random',
        points: 60,
        samplesPerPoint: 1,
      },
    );
    const ranging = fitRanging(samplesFromMessages(msgs, s.site), s.site, { deviceHeight: 1 });
    for (const r of ranging) {
      expect(r.rssi!.p0).toBeGreaterThan(-61.5);
      expect(r.rssi!.p0).toBeLessThan(-56.5);
      expect(r.rssi!.exponent).toBeGreaterThan(2.5);
      expect(r.rssi!.exponent).toBeLessThan(3.5);
      expect(r.rssi!.sigmaDb).toBeGreaterThan(1.5);
      expect(r.rssi!.sigmaDb).toBeLessThan(3.5);
    }
  });
});

describe('training from a simulated walk (all estimators, real TF.js training, small)', () => {
  const trained = trainPositioning(walk, world.site, {
    seed: 4,
    folds: 3,
    deviceHeight: 1,
    fingerprint: { steps: 200, hidden: [32, 32], batchSize: 64 },
  });

  it('cross-validates every estimator and calibrates honest 95 % radii', async () => {
    const { report } = await trained;
    expect(Object.keys(report.cv).sort()).toEqual(['fingerprint', 'fusion', 'knn', 'multilateration']);
    for (const m of Object.values(report.cv)) {
      expect(m!.n).toBe(walk.length);
      expect(m!.coverage95).toBeGreaterThan(0.9);
      expect(m!.coverage95).toBeLessThan(0.99);
    }
    expect(report.cv.fusion!.meanError).toBeLessThan(1.6);
    expect(report.data.points).toBeGreaterThan(30);
    expect(report.chosen.members.length).toBeGreaterThanOrEqual(1);
    // The network's input noise: each level cross-validated, the lowest held-out mean kept, and its held-out fixes
    // are the ones the fusion was chosen on.
    const fp = report.fingerprint!;
    expect(fp.inputNoiseTried.map((t) => t.inputNoise)).toEqual([...FINGERPRINT_INPUT_NOISE_LEVELS]);
    const lowest = Math.min(...fp.inputNoiseTried.map((t) => t.meanError));
    expect(fp.inputNoiseTried.find((t) => t.inputNoise === fp.inputNoise)!.meanError).toBe(lowest);
    expect(report.cv.fingerprint!.meanError).toBeCloseTo(lowest, 12);
  });

  it('locates held-out points and names their rooms', async () => {
    const { model } = await trained;
    const ev = evaluatePositioning(model, test);
    const primary = ev.perModel[ev.primary]!;
    expect(primary.located).toBe(1);
    expect(primary.meanError).toBeLessThan(1.6);
    expect(ev.roomAccuracy).toBeGreaterThan(0.7);
    // The interval over the held-out walk's reference points brackets the model's own figures.
    const ci = ev.interval95!;
    expect(ci.points).toBe(new Set(test.map((s) => s.pointKey)).size);
    expect(ci.mean[0]).toBeLessThanOrEqual(primary.meanError);
    expect(ci.mean[1]).toBeGreaterThanOrEqual(primary.meanError);
    expect(ci.p90[0]).toBeLessThanOrEqual(primary.p90Error);
    expect(ci.p90[1]).toBeGreaterThanOrEqual(primary.p90Error);
    expect(evaluatePositioning(model, test, { bootstrapResamples: 0 }).interval95).toBeNull();
    // Per-sample errors of the model's answer, in the samples' order, summarising to its figures.
    expect(ev.errors).toHaveLength(test.length);
    expect(summariseErrors(ev.errors).meanError).toBeCloseTo(primary.meanError, 10);
  });

  it('saves to a version directory and loads back to the same fixes; loadPositioner serves it', async () => {
    const { model } = await trained;
    const { version, path } = await createVersionDir(join(dir, 'models'));
    await savePositioningModel(path, model);
    await writeMetadata(path, { formatVersion: 1, version, createdAt: new Date().toISOString() });
    await publishVersion(join(dir, 'models'), version);
    expect(await readLatest(join(dir, 'models'))).toBe(version);
    const loaded = await loadPositioningModel(path);
    const q = test.slice(0, 12).map((s) => s.observations);
    const a = estimateMany(model, q).map((f) => f.fused);
    const b = estimateMany(loaded, q).map((f) => f.fused);
    expect(b).toEqual(a);
    const positioner = await loadPositioner(path);
    expect(positioner.version).toBe(version);
    const s0 = positioner.initialState();
    const readings = test[0]!.observations.map((o) => ({
      anchorId: o.anchorId,
      t: 1000,
      ...(o.rssi === undefined ? {} : { rssi: o.rssi }),
      ...(o.range === undefined ? {} : { rtt: (2 * o.range) / 299_792.458 }),
    }));
    const u = positioner.update(s0, readings, 1000);
    expect(u.estimate).not.toBeNull();
    expect(Math.hypot(u.estimate!.x - test[0]!.x, u.estimate!.y - test[0]!.y)).toBeLessThan(4);
    loaded.fingerprint?.dispose();
    const before = tf.memory().numTensors;
    positioner.update(u.state, readings, 2000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs the fusion mode cross-validation chose (a joint solve is what was scored)', async () => {
    // This walk is one where the joint mode (the others' fix as a prior inside multilateration) wins in CV.
    const w = createSimulatedWorld(10, { devices: 1 });
    const jointWalk = samplesFromMessages(w.calibrationWalk({ spacingM: 1.25, samplesPerPoint: 2 }), w.site);
    const { model, report, fusionCandidates } = await trainPositioning(jointWalk, w.site, {
      seed: 4,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
      // This walk was picked for the joint mode's search; the posterior mean (tested below) would change the fits.
      multilateration: { posteriorMean: false },
      keepFusionCandidates: true,
    });
    expect(report.chosen.mode).toBe('joint');
    // Every fusion scored is kept, with its held-out errors; the lowest mean of them (first of equals) is the model's.
    const meanOf = (e: Float64Array) => e.reduce((a, b) => a + b, 0) / e.length;
    let pick = fusionCandidates![0]!;
    for (const c of fusionCandidates!) if (meanOf(c.errors) < meanOf(pick.errors) - 1e-4) pick = c;
    expect(fusionCandidates!.every((c) => c.errors.length === jointWalk.length)).toBe(true);
    expect(fusionCandidates!.filter((c) => c.mode === 'joint').map((c) => c.priorStrength)).toEqual([
      1, 0.25, 0.5, 2, 4,
    ]);
    expect({ ...pick, errors: null }).toEqual({
      members: model.data.fusion.members,
      weights: model.data.fusion.weights,
      epsilon: model.data.fusion.outlierProbability,
      mode: 'joint',
      priorStrength: pick.priorStrength,
      errors: null,
    });
    expect(model.data.fusion.mode).toBe('joint');
    const { path } = await createVersionDir(join(dir, 'joint-models'));
    await savePositioningModel(path, model);
    expect((await loadPositioningModel(path)).data.fusion.mode).toBe('joint');

    // The prior's strength is searched: held to the product fusion's weights (×1 only), the joint mode scores worse
    // on this walk, and the searched model's kNN weight is that one scaled by a strength tried.
    const fixed = await trainPositioning(jointWalk, w.site, {
      seed: 4,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
      multilateration: { posteriorMean: false },
      jointPriorStrengths: [1],
    });
    expect(fixed.report.chosen.mode).toBe('joint');
    expect(report.cv.fusion!.meanError).toBeLessThan(fixed.report.cv.fusion!.meanError - 1e-3);
    const ratio = model.data.fusion.weights[1]! / fixed.model.data.fusion.weights[1]!;
    expect([0.25, 0.5, 2, 4]).toContain(ratio);
    expect(model.data.fusion.weights[0]).toBe(fixed.model.data.fusion.weights[0]);
  });

  it('cross-validates the posterior mean over the site: chosen where the likelihood is wide, saved and served', async () => {
    // An ESPresense walk: four RSSI stations, σ 2.5 dB — a likelihood metres wide on a 6 × 4 m floor.
    const s = espresenseScenario({ deviceHeight: 1 });
    const msgs = simulateCalibrationWalk(
      s.site,
      s.radio,
      anchorChannels(s.site, s.radio, new Rng(1)),
      new Rng(5),
      {
        layout: 'random',
        points: 60,
        samplesPerPoint: 2,
      },
    );
    const samples = samplesFromMessages(msgs, s.site);
    const options = {
      seed: 2,
      folds: 5,
      deviceHeight: 1,
      estimators: ['multilateration' as const],
      multilateration: { biasBandwidthM: 0 },
    };
    const chosen = await trainPositioning(samples, s.site, options);
    expect(chosen.report.chosen.multilateration!.posteriorMean).toBe(true);
    expect(chosen.model.data.multilateration!.params.posteriorMean).toBe(true);
    // Held to the cost's minimum, the held-out error is clearly higher.
    const off = await trainPositioning(samples, s.site, {
      ...options,
      multilateration: { ...options.multilateration, posteriorMean: false },
    });
    expect(off.report.chosen.multilateration!.posteriorMean).toBe(false);
    expect(chosen.report.cv.multilateration!.meanError).toBeLessThan(
      0.9 * off.report.cv.multilateration!.meanError,
    );
    // Saved and loaded, the model answers with the same fixes, inside the floor.
    const { path } = await createVersionDir(join(dir, 'posterior-models'));
    await savePositioningModel(path, chosen.model);
    const loaded = await loadPositioningModel(path);
    const q = samples.slice(0, 10).map((x) => x.observations);
    const fixes = estimateMany(loaded, q).map((f) => f.fused!);
    expect(fixes).toEqual(estimateMany(chosen.model, q).map((f) => f.fused));
    for (const f of fixes) {
      expect(f.x).toBeGreaterThanOrEqual(0);
      expect(f.x).toBeLessThanOrEqual(6);
      expect(f.y).toBeGreaterThanOrEqual(0);
      expect(f.y).toBeLessThanOrEqual(4);
    }
  });

  it('trains a fingerprint ensemble of three where no anchor is placed (no multilateration), one otherwise', async () => {
    const small = walk.slice(0, 120);
    const options = {
      seed: 4,
      folds: 3,
      deviceHeight: 1,
      fingerprint: { steps: 60, hidden: [16], batchSize: 64 },
    };
    const unplaced = { ...world.site, anchors: [] };
    const blind = await trainPositioning(small, unplaced, { ...options, estimators: ['fingerprint'] });
    expect(blind.report.fingerprint!.members).toBe(3);
    expect(blind.model.data.fingerprint!.members).toBe(3);
    expect(blind.model.data.multilateration).toBeNull();
    const { path } = await createVersionDir(join(dir, 'ensemble-models'));
    await savePositioningModel(path, blind.model);
    const loaded = await loadPositioningModel(path);
    const q = test.slice(0, 8).map((s) => s.observations);
    expect(estimateMany(loaded, q).map((f) => f.fused)).toEqual(
      estimateMany(blind.model, q).map((f) => f.fused),
    );
    loaded.fingerprint?.dispose();
    blind.model.fingerprint?.dispose();

    const placed = await trainPositioning(small, world.site, {
      ...options,
      estimators: ['multilateration', 'fingerprint'],
    });
    expect(placed.report.fingerprint!.members).toBe(1);
    // A given input noise is used as it is: no other level is tried.
    const given = await trainPositioning(small, world.site, {
      ...options,
      estimators: ['fingerprint'],
      fingerprint: { ...options.fingerprint, inputNoise: 1.5 },
    });
    expect(given.report.fingerprint!.inputNoise).toBe(1.5);
    expect(given.report.fingerprint!.inputNoiseTried.map((t) => t.inputNoise)).toEqual([1.5]);
    given.model.fingerprint?.dispose();
    expect(placed.model.data.fingerprint!.members).toBeUndefined();
    placed.model.fingerprint?.dispose();
  });

  it('is reproducible for a seed', async () => {
    const again = await trainPositioning(walk.slice(0, 80), world.site, {
      seed: 4,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
    });
    const twice = await trainPositioning(walk.slice(0, 80), world.site, {
      seed: 4,
      folds: 3,
      deviceHeight: 1,
      estimators: ['multilateration', 'knn'],
    });
    expect(JSON.stringify(twice.model.data)).toBe(JSON.stringify(again.model.data));
    expect(twice.report.cv).toEqual(again.report.cv);
  });
});
