import { type BiasMapData, buildBiasGrids } from '../../models/positioning/bias-map.js';
import { siteArea } from '../../models/positioning/estimate.js';
import { buildFeatureSpec, type FeatureSpec } from '../../models/positioning/features.js';
import type { FingerprintNet } from '../../models/positioning/fingerprint.js';
import { ESTIMATORS, type EstimatorName, type Fix, type ModelName } from '../../models/positioning/fix.js';
import { fuseFixesRobust } from '../../models/positioning/fusion.js';
import {
  DEFAULT_RUNTIME,
  POSITIONING_MODEL_FORMAT,
  type PositioningModel,
  type PositioningModelData,
  type RuntimeParams,
} from '../../models/positioning/model.js';
import {
  type AnchorPosition,
  DEFAULT_MULTILATERATION,
  type MultilaterationParams,
  solveMultilateration,
} from '../../models/positioning/multilateration.js';
import { searchBox } from '../../models/positioning/multilateration-start-grid.js';
import { buildTerms, countAnchors, priorTerms } from '../../models/positioning/multilateration-terms.js';
import type { AnchorRanging } from '../../models/positioning/ranging.js';
import { defaultRobustK } from '../../models/positioning/robust.js';
import type { Site } from '../../models/positioning/site.js';
import { type ErrorSummary, mean, summariseErrors } from '../../models/positioning/stats.js';
import { DEFAULT_TRACKER, type TrackerParams } from '../../models/positioning/tracker.js';
import { coverage95, coverageScale, scaleFix } from './calibrate.js';
import { complement, groupKFold } from './cross-validation.js';
import { fitBiasMap } from './fit-bias-map.js';
import { fitRanging } from './fit-ranging.js';
import { fitPersistentShare, type PersistentShareFit } from './persistent-share.js';
import type { CalibrationSample } from './samples.js';
import { summariseWalk, type WalkSummary } from './samples.js';
import {
  DEFAULT_FINGERPRINT_TRAINING,
  FINGERPRINT_INPUT_NOISE_LEVELS,
  type FingerprintTrainOptions,
  trainFingerprint,
} from './train-fingerprint.js';
import { type KnnTuningOptions, tuneKnn } from './tune-knn.js';

export interface PositioningTrainOptions {
  seed: number;
  /** Cross-validation folds over reference points (default 5). */
  folds: number;
  /** Height of the device during the walk and in use, m (default 1). */
  deviceHeight: number;
  /** Estimators to train (default: all that the data allow). */
  estimators?: readonly EstimatorName[];
  fingerprint?: Partial<Omit<FingerprintTrainOptions, 'seed' | 'onProgress'>>;
  knn?: KnnTuningOptions;
  multilateration?: Partial<MultilaterationParams>;
  tracker?: Partial<TrackerParams>;
  runtime?: Partial<RuntimeParams>;
  /**
   * Strengths tried for the prior of the joint fusion mode: multipliers of the other members' weights (those of the
   * subset's best product fusion). The first is kept on a tie. Default ×1, ¼, ½, 2, 4.
   */
  jointPriorStrengths?: readonly number[];
  /** Overall progress in [0, 1] with the current stage. */
  onProgress?: (stage: string, fraction: number) => void;
  /** Also return the held-out fixes of every estimator and of the chosen fusion (for analysis and benches). */
  keepOutOfFold?: boolean;
  /** Also return every fusion candidate cross-validation scored, with its held-out errors (for benches). */
  keepFusionCandidates?: boolean;
}

/** One fusion cross-validation scored: which members, how weighted, and its held-out error per walk sample. */
export interface FusionCandidate {
  members: EstimatorName[];
  weights: number[];
  epsilon: number;
  mode: 'product' | 'joint';
  /** Joint mode: the multiplier of the other members' weights against the product fusion's (1 for a product). */
  priorStrength: number;
  /** Per walk sample, m; a sample nothing located costs the distance to the site centre, as in the selection. */
  errors: Float64Array;
}

export interface CvMetrics extends ErrorSummary {
  /** Fraction of held-out errors inside the (calibrated) 95 % radius. */
  coverage95: number;
  /** Fraction of held-out samples the estimator located. */
  located: number;
}

export interface PositioningTrainReport {
  data: WalkSummary;
  folds: number;
  /** Held-out (cross-validated) errors per estimator and of the chosen fusion, m. */
  cv: Partial<Record<ModelName, CvMetrics>>;
  /** What the model reports: `fusion` of several estimators, or the one that won. */
  primary: ModelName;
  chosen: {
    members: EstimatorName[];
    /** Precision multipliers of the members in the fusion. */
    weights: number[];
    outlierProbability?: number;
    mode?: 'product' | 'joint';
    multilateration?: {
      loss: string;
      useRssi: boolean;
      useRtt: boolean;
      biasBandwidthM: number;
      localSigma: boolean;
      mixModes: boolean;
      posteriorMean: boolean;
    };
    knn?: { k: number; rssiWeight: number; rangeWeight: number; kernel: string; database: string };
  };
  covScales: Partial<Record<ModelName, number>>;
  ranging: Array<{
    anchorId: string;
    rssi?: { p0: number; exponent: number; sigmaDb: number; n: number };
    rtt?: { offsetM: number; scale: number; sigmaM: number; informative: boolean; n: number };
  }>;
  fingerprint: {
    samples: number;
    hidden: number[];
    steps: number;
    members: number;
    /** Training input noise, in within-point σ's, chosen by cross-validation (or given). */
    inputNoise: number;
    /** The levels cross-validation scored, with the network's held-out mean error (m). */
    inputNoiseTried: Array<{ inputNoise: number; meanError: number }>;
    /** Time to train the final network (s). */
    seconds: number;
  } | null;
  /**
   * The walk's points replayed through the tracker as standing devices (held-out fixes): the fitted persistent share
   * (kept by the model unless `tracker.persistentShare` was given) and the share of the tracked errors inside the
   * 95 % radius with the filter's covariance and with the fitted share.
   */
  tracking: PersistentShareFit | null;
  seconds: number;
}

export interface PositioningTrainResult {
  model: PositioningModel;
  report: PositioningTrainReport;
  /** With `keepOutOfFold`: per sample, each estimator's held-out fix (calibrated) and the chosen fusion's. */
  outOfFold?: Partial<Record<ModelName, Array<Fix | null>>>;
  /** With `keepFusionCandidates`: every fusion scored, in the order scored (the first of equals wins). */
  fusionCandidates?: FusionCandidate[];
}

type Oof = Array<Fix | null>;

function anchorMap(site: Site): Map<string, AnchorPosition> {
  return new Map(site.anchors.map((a) => [a.id, a]));
}

function rangingMap(r: readonly AnchorRanging[]): Map<string, AnchorRanging> {
  return new Map(r.map((x) => [x.anchorId, x]));
}

function metricsOf(oof: Oof, samples: readonly CalibrationSample[]): CvMetrics {
  const pairs: Array<{ fix: Fix; truth: CalibrationSample }> = [];
  oof.forEach((f, i) => {
    if (f) pairs.push({ fix: f, truth: samples[i]! });
  });
  const errors = pairs.map(({ fix, truth }) => Math.hypot(fix.x - truth.x, fix.y - truth.y));
  return {
    ...summariseErrors(errors),
    coverage95: coverage95(pairs),
    located: pairs.length / Math.max(samples.length, 1),
  };
}

/** Error per sample where a fix exists; a missing fix costs the distance to the site centre (a "don't know"). */
function heldOutErrors(oof: Oof, samples: readonly CalibrationSample[], site: Site): Float64Array {
  const cx = (site.bounds.minX + site.bounds.maxX) / 2;
  const cy = (site.bounds.minY + site.bounds.maxY) / 2;
  return Float64Array.from(oof, (f, i) => {
    const t = samples[i]!;
    return f ? Math.hypot(f.x - t.x, f.y - t.y) : Math.hypot(cx - t.x, cy - t.y);
  });
}

/** Mean of `heldOutErrors`: what every setting and fusion is chosen by. */
function selectionScore(oof: Oof, samples: readonly CalibrationSample[], site: Site): number {
  return mean(heldOutErrors(oof, samples, site));
}

function calibrated(oof: Oof, samples: readonly CalibrationSample[]): { oof: Oof; scale: number } {
  const pairs: Array<{ fix: Fix; truth: CalibrationSample }> = [];
  oof.forEach((f, i) => {
    if (f) pairs.push({ fix: f, truth: samples[i]! });
  });
  const scale = coverageScale(pairs);
  return { oof: oof.map((f) => (f ? scaleFix(f, scale) : null)), scale };
}

/** Median distance between a reference point and its nearest neighbour, m. */
function pointSpacing(samples: readonly CalibrationSample[]): number {
  const pts = new Map<string, { x: number; y: number }>();
  for (const s of samples) pts.set(s.pointKey, { x: s.x, y: s.y });
  const list = [...pts.values()];
  if (list.length < 2) return 1;
  const nn = list.map((p) => {
    let best = Number.POSITIVE_INFINITY;
    for (const q of list) {
      const d = Math.hypot(p.x - q.x, p.y - q.y);
      if (d > 0 && d < best) best = d;
    }
    return best;
  });
  nn.sort((a, b) => a - b);
  return nn[Math.floor(nn.length / 2)]!;
}

function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) out.push(items.filter((_, i) => mask & (1 << i)));
  return out;
}

/**
 * Trains the positioning models from a calibration walk: ranging per anchor, multilateration settings, kNN and the
 * fingerprint network, each cross-validated over reference points; then chooses by held-out error which
 * estimators to fuse, calibrates every covariance to honest 95 % coverage, and refits everything on the whole walk.
 */
export async function trainPositioning(
  samples: readonly CalibrationSample[],
  site: Site,
  options: PositioningTrainOptions,
): Promise<PositioningTrainResult> {
  const started = performance.now();
  if (samples.length === 0) throw new Error('no calibration samples to train on');
  const progress = options.onProgress ?? (() => {});
  const data = summariseWalk(samples, site);
  const wanted = new Set(options.estimators ?? ESTIMATORS);
  const anchors = anchorMap(site);
  const placedHeard = site.anchors.filter((a) => !data.anchorsNeverHeard.includes(a.id)).length;
  const useMl = wanted.has('multilateration') && placedHeard >= 2;
  const useKnn = wanted.has('knn') && data.points >= 2;
  const useFp = wanted.has('fingerprint') && data.points >= 4;
  // Without multilateration beside it the network carries the answer (with kNN): an ensemble of three is worth its
  // ~2–2.5× training time there (the network's error 4–9 % lower in cross-validation, 9–12 % on the real test
  // points). Beside multilateration the fused answer moved by ~0.01 m, so one network is the default there
  // (docs/positioning.md, "Fingerprint ensemble").
  const fpOptions = {
    ...DEFAULT_FINGERPRINT_TRAINING,
    members: useMl ? 1 : 3,
    ...options.fingerprint,
  };
  const folds = groupKFold(
    samples.map((s) => s.pointKey),
    options.folds,
    options.seed,
  );
  const K = folds.length;
  // Progress weights of the stages.
  const wMl = useMl ? 0.1 : 0;
  const wKnn = useKnn ? 0.1 : 0;
  const wFp = useFp ? 0.8 : 0;
  const wTotal = wMl + wKnn + wFp || 1;
  let base = 0;
  const stage = (name: string, weight: number) => (f: number) => progress(name, (base + weight * f) / wTotal);

  const oof: Partial<Record<EstimatorName, Oof>> = {};
  const covScales: Partial<Record<ModelName, number>> = {};
  const chosen: PositioningTrainReport['chosen'] = { members: [], weights: [] };
  let mlParams: MultilaterationParams | null = null;

  // Multilateration: ranging refitted per fold; robust loss and channels compared on held-out points, then the
  // bandwidth of the bias map (none, or a multiple of the walk's point spacing).
  let biasMap: BiasMapData | undefined;
  let jointRun: ((priors: ReadonlyArray<Fix | null>) => Oof) | null = null;
  if (useMl) {
    const report = stage('multilateration (cross-validation)', wMl);
    const hasRtt = data.rttReadings > 0;
    const foldData = folds.map((held) => {
      const train = complement(samples.length, held).map((i) => samples[i]!);
      return { held, train, ranging: fitRanging(train, site, { deviceHeight: options.deviceHeight }) };
    });
    const box = {
      minX: site.bounds.minX - (options.multilateration?.marginM ?? DEFAULT_MULTILATERATION.marginM),
      minY: site.bounds.minY - (options.multilateration?.marginM ?? DEFAULT_MULTILATERATION.marginM),
      maxX: site.bounds.maxX + (options.multilateration?.marginM ?? DEFAULT_MULTILATERATION.marginM),
      maxY: site.bounds.maxY + (options.multilateration?.marginM ?? DEFAULT_MULTILATERATION.marginM),
    };
    const run = (cfg: MultilaterationParams, priors?: ReadonlyArray<Fix | null>): Oof => {
      const out: Oof = samples.map(() => null);
      for (const fd of foldData) {
        const rm = rangingMap(fd.ranging);
        const grids =
          cfg.biasBandwidthM > 0
            ? buildBiasGrids(
                fitBiasMap(fd.train, site, fd.ranging, {
                  deviceHeight: options.deviceHeight,
                  bandwidthM: cfg.biasBandwidthM,
                }),
                box,
                cfg.localSigma ?? false,
              )
            : undefined;
        for (const i of fd.held) {
          const terms = buildTerms(samples[i]!.observations, anchors, rm, cfg, grids);
          const prior = priors?.[i];
          if (prior) {
            // Joint fusion: the other estimators' fix is a prior inside the solve (fallback: the prior itself).
            const r =
              countAnchors(terms) >= 1
                ? solveMultilateration([...terms, ...priorTerms(prior, prior.cov)], site.bounds, cfg, [prior])
                : null;
            out[i] = r ? { x: r.x, y: r.y, cov: r.cov, model: 'fusion', anchors: r.anchors } : prior;
            continue;
          }
          if (countAnchors(terms) < 2) continue;
          const r = solveMultilateration(terms, site.bounds, cfg);
          if (r) out[i] = { x: r.x, y: r.y, cov: r.cov, model: 'multilateration', anchors: r.anchors };
        }
      }
      return out;
    };
    const configs: MultilaterationParams[] = [];
    for (const loss of ['huber', 'cauchy'] as const) {
      for (const useRssi of hasRtt ? [true, false] : [true]) {
        configs.push({
          ...DEFAULT_MULTILATERATION,
          ...options.multilateration,
          loss,
          k: defaultRobustK(loss),
          useRssi,
          useRtt: true,
          deviceHeight: options.deviceHeight,
        });
      }
    }
    const spacing = pointSpacing(samples);
    const bandwidths =
      options.multilateration?.biasBandwidthM !== undefined
        ? [options.multilateration.biasBandwidthM]
        : [0, 1, 2, 4].map((f) => f * spacing);
    // Every loss and channel set with every bandwidth: which channels help can depend on the bias map (RSSI's
    // place-dependent bias is what the map corrects), so the bandwidth is not chosen for one channel set only.
    const totalRuns = configs.length * bandwidths.length + 3;
    let runs = 0;
    let best: { cfg: MultilaterationParams; oof: Oof; score: number } | null = null;
    for (const cfg of configs) {
      for (const h of bandwidths) {
        const c = { ...cfg, biasBandwidthM: h };
        const o = run(c);
        const score = selectionScore(o, samples, site);
        if (!best || score < best.score) best = { cfg: c, oof: o, score };
        report(++runs / totalRuns);
      }
    }
    // One setting flipped on the best configuration so far, kept when it lowers the held-out error.
    const tryFlip = (patch: Partial<MultilaterationParams>) => {
      const c = { ...best!.cfg, ...patch };
      const o = run(c);
      const score = selectionScore(o, samples, site);
      if (score < best!.score) best = { cfg: c, oof: o, score };
      report(++runs / totalRuns);
    };
    if (options.multilateration?.localSigma === undefined && best!.cfg.biasBandwidthM > 0) {
      tryFlip({ localSigma: true });
    }
    if (options.multilateration?.mixModes === undefined) tryFlip({ mixModes: !best!.cfg.mixModes });
    // The posterior mean over the site instead of the cost's minimum (multilateration-posterior.ts): it helps where
    // the likelihood is wide against the site (RSSI-only BLE sets) and is ~neutral where FTM ranges pin the position.
    if (options.multilateration?.posteriorMean === undefined) {
      tryFlip({ posteriorMean: !best!.cfg.posteriorMean });
    }
    mlParams = best!.cfg;
    const finalCfg = best!.cfg;
    jointRun = (priors) => run(finalCfg, priors);
    const cal = calibrated(best!.oof, samples);
    oof.multilateration = cal.oof;
    covScales.multilateration = cal.scale;
    chosen.multilateration = {
      loss: mlParams.loss,
      useRssi: mlParams.useRssi,
      useRtt: mlParams.useRtt,
      biasBandwidthM: mlParams.biasBandwidthM,
      localSigma: mlParams.localSigma ?? false,
      mixModes: mlParams.mixModes,
      posteriorMean: mlParams.posteriorMean ?? false,
    };
    base += wMl;
  }

  // Ranging of the whole walk (final model; also the noise fallback of the feature spec).
  const ranging = fitRanging(samples, site, { deviceHeight: options.deviceHeight });
  const rmap = rangingMap(ranging);
  if (mlParams && mlParams.biasBandwidthM > 0) {
    biasMap = fitBiasMap(samples, site, ranging, {
      deviceHeight: options.deviceHeight,
      bandwidthM: mlParams.biasBandwidthM,
    });
  }
  const noiseFallback = (id: string, ch: 'rssi' | 'range') => {
    const r = rmap.get(id);
    if (ch === 'rssi') return r?.rssi?.sigmaDb;
    return r?.rtt ? r.rtt.sigmaM * r.rtt.scale : undefined;
  };
  let spec: FeatureSpec | null = null;
  if (useKnn || useFp) spec = buildFeatureSpec(samples, { noiseFallback });

  let knnModel: PositioningModelData['knn'] = null;
  if (useKnn && spec) {
    const report = stage('kNN (leave one point out)', wKnn);
    report(0);
    const t = tuneKnn(spec, samples, { seed: options.seed, ...options.knn });
    const cal = calibrated(t.oof, samples);
    oof.knn = cal.oof;
    covScales.knn = cal.scale;
    knnModel = {
      spec,
      database: t.database,
      points: t.points,
      params: t.params,
      covScale: cal.scale,
      floorVarM2: t.floorVarM2,
    };
    chosen.knn = { ...t.params, database: t.database };
    report(1);
    base += wKnn;
  }

  let fingerprint: FingerprintNet | null = null;
  let fpReport: PositioningTrainReport['fingerprint'] = null;
  if (useFp) {
    const report = stage('fingerprint network (cross-validation + final)', wFp);
    // The input-noise level is chosen by cross-validation: it regularises the network where a walk has many noisy
    // messages per point (the Feng sets), and hurts where it has few (the UJI BLE sets).
    const levels =
      fpOptions.inputNoise !== undefined ? [fpOptions.inputNoise] : [...FINGERPRINT_INPUT_NOISE_LEVELS];
    const units = K * levels.length + 1;
    const tried: Array<{ inputNoise: number; meanError: number }> = [];
    let best: { inputNoise: number; meanError: number; cal: { oof: Oof; scale: number } } | null = null;
    for (const [li, level] of levels.entries()) {
      const perFold = samples.map((): Fix | null => null);
      for (let f = 0; f < K; f++) {
        const held = folds[f]!;
        const train = complement(samples.length, held).map((i) => samples[i]!);
        const foldSpec = buildFeatureSpec(train, { noiseFallback });
        const net = await trainFingerprint(foldSpec, train, {
          ...fpOptions,
          inputNoise: level,
          seed: options.seed + 17 * (f + 1),
          onProgress: (d, n) => report((li * K + f + d / n) / units),
        });
        try {
          const fixes = net.predictMany(held.map((i) => samples[i]!.observations));
          held.forEach((i, j) => {
            perFold[i] = fixes[j] ?? null;
          });
        } finally {
          net.dispose();
        }
      }
      const cal = calibrated(perFold, samples);
      const meanError = metricsOf(cal.oof, samples).meanError;
      tried.push({ inputNoise: level, meanError });
      // The first (no noise) is kept on a tie.
      if (!best || meanError < best.meanError) best = { inputNoise: level, meanError, cal };
    }
    const cal = best!.cal;
    oof.fingerprint = cal.oof;
    covScales.fingerprint = cal.scale;
    const t0 = performance.now();
    fingerprint = await trainFingerprint(spec!, samples, {
      ...fpOptions,
      inputNoise: best!.inputNoise,
      seed: options.seed,
      onProgress: (d, n) => report((units - 1 + d / n) / units),
    });
    fingerprint.meta.covScale = cal.scale;
    fpReport = {
      samples: samples.length,
      hidden: [...fpOptions.hidden],
      steps: fpOptions.steps,
      members: fpOptions.members ?? 1,
      inputNoise: best!.inputNoise,
      inputNoiseTried: tried,
      seconds: (performance.now() - t0) / 1000,
    };
    base += wFp;
  }

  // Fusion: every non-empty subset of the trained estimators, fused with their calibrated covariances, each
  // member's precision optionally re-weighted (×¼ … ×4); the combination with the lowest held-out mean error wins
  // (ties go to the simpler one).
  const available = ESTIMATORS.filter((e) => oof[e] !== undefined);
  if (available.length === 0)
    throw new Error('no estimator could be trained from this walk (too few points or anchors)');
  let bestMembers: EstimatorName[] = [available[0]!];
  let bestWeights: number[] = [1];
  let bestScore = Number.POSITIVE_INFINITY;
  let bestFused: Oof = [];
  const multipliers = [0.25, 0.5, 1, 2, 4];
  const area = siteArea(site);
  let bestEpsilon = 0;
  const productBest = new Map<string, { score: number; weights: number[]; epsilon: number }>();
  const candidates: FusionCandidate[] = [];
  // Scores a fusion (its mean held-out error), keeping it with its errors when asked to.
  const scoreFusion = (c: Omit<FusionCandidate, 'errors'>, fused: Oof): number => {
    const errors = heldOutErrors(fused, samples, site);
    if (options.keepFusionCandidates) candidates.push({ ...c, errors });
    return mean(errors);
  };
  // Per sample, the members' held-out fixes (each precision × its weight) fused; `skip` leaves one member out.
  const fuseHeldOut = (
    members: readonly EstimatorName[],
    weights: readonly number[],
    epsilon: number,
    skip?: EstimatorName,
  ): Oof =>
    samples.map((_, i) => {
      const fixes: Fix[] = [];
      members.forEach((m, j) => {
        const f = m === skip ? null : oof[m]![i];
        if (f) fixes.push(scaleFix(f, 1 / weights[j]!));
      });
      return fixes.length === 0
        ? null
        : fixes.length === 1
          ? fixes[0]!
          : fuseFixesRobust(fixes, epsilon, area, 1);
    });
  for (const members of subsets(available)) {
    const grids: number[][] = [[1]];
    for (let m = 1; m < members.length; m++) {
      const next: number[][] = [];
      for (const g of grids) for (const w of multipliers) next.push([...g, w]);
      grids.splice(0, grids.length, ...next);
    }
    for (const epsilon of members.length > 1 ? [0, 0.01, 0.05, 0.2] : [0]) {
      for (const weights of grids) {
        const fused = fuseHeldOut(members, weights, epsilon);
        const score = scoreFusion({ members, weights, epsilon, mode: 'product', priorStrength: 1 }, fused);
        const key = members.join('+');
        const prev = productBest.get(key);
        if (!prev || score < prev.score) productBest.set(key, { score, weights, epsilon });
        if (score < bestScore - 1e-4) {
          bestScore = score;
          bestMembers = members;
          bestWeights = weights;
          bestEpsilon = epsilon;
          bestFused = fused;
        }
      }
    }
  }
  // Joint candidates: for subsets with multilateration and another estimator, the others' fused fix as a prior
  // inside the multilateration solve (ε and the members' relative weights of the best product fusion of that subset,
  // the prior's overall strength searched).
  let bestMode: 'product' | 'joint' = 'product';
  if (jointRun && oof.multilateration) {
    for (const members of subsets(available)) {
      if (!members.includes('multilateration') || members.length < 2) continue;
      const best = productBest.get(members.join('+'));
      if (!best) continue;
      // The prior's strength against the ranges is its own question (the product's weights balance estimators
      // of one kind): the others' weights scaled together, the product's own (×1) first so a tie keeps it. Choosing
      // the strength on held-out points of the walk (not a test set) lowered the error of half-walks scored on the
      // other half, over the five real data sets and five seeds (docs/positioning.md, "Joint prior strength").
      for (const strength of options.jointPriorStrengths ?? [1, 0.25, 0.5, 2, 4]) {
        const weights = best.weights.map((w, j) => (members[j] === 'multilateration' ? w : w * strength));
        const priors = fuseHeldOut(members, weights, best.epsilon, 'multilateration');
        const joint = jointRun(priors);
        // Where the prior is missing, the joint answer is multilateration's own.
        const fused = joint.map((f, i) => f ?? oof.multilateration![i] ?? null);
        const score = scoreFusion(
          { members, weights, epsilon: best.epsilon, mode: 'joint', priorStrength: strength },
          fused,
        );
        if (score < bestScore - 1e-4) {
          bestScore = score;
          bestMembers = members;
          bestWeights = weights;
          bestEpsilon = best.epsilon;
          bestFused = fused;
          bestMode = 'joint';
        }
      }
    }
  }
  let fusionScale = 1;
  let fusedOof = bestFused;
  if (bestMembers.length > 1 || bestMode === 'joint') {
    const cal = calibrated(bestFused, samples);
    fusionScale = cal.scale;
    fusedOof = cal.oof;
  }
  chosen.members = bestMembers;
  chosen.weights = bestWeights;
  chosen.outlierProbability = bestEpsilon;
  chosen.mode = bestMode;
  const primary: ModelName = bestMembers.length > 1 ? 'fusion' : bestMembers[0]!;
  covScales.fusion = fusionScale;

  const cv: PositioningTrainReport['cv'] = {};
  for (const e of available) cv[e] = metricsOf(oof[e]!, samples);
  cv.fusion = metricsOf(fusedOof, samples);

  // The tracked covariance's persistent share, fitted on the walk's points replayed as standing devices (unless given).
  const tracker: TrackerParams = { ...DEFAULT_TRACKER, ...options.tracker };
  // The box the live Positioner clamps tracks to (the solver's search box).
  const trackBox = searchBox(site.bounds, mlParams?.marginM ?? 1);
  const tracking = fitPersistentShare(samples, fusedOof, trackBox, tracker);
  if (options.tracker?.persistentShare === undefined && tracking) tracker.persistentShare = tracking.share;

  const modelData: PositioningModelData = {
    format: POSITIONING_MODEL_FORMAT,
    site,
    ranging,
    multilateration: mlParams
      ? { params: mlParams, covScale: covScales.multilateration ?? 1, ...(biasMap ? { biasMap } : {}) }
      : null,
    knn: knnModel,
    fingerprint: fingerprint ? fingerprint.meta : null,
    fusion: {
      // The mode cross-validation chose: the joint solve is what was scored, so it is what the model must run.
      mode: bestMode,
      members: bestMembers,
      weights: bestWeights,
      outlierProbability: bestEpsilon,
      covScale: fusionScale,
    },
    tracker,
    runtime: { ...DEFAULT_RUNTIME, ...options.runtime },
  };
  progress('done', 1);
  return {
    ...(options.keepOutOfFold ? { outOfFold: { ...oof, fusion: fusedOof } } : {}),
    ...(options.keepFusionCandidates ? { fusionCandidates: candidates } : {}),
    model: { data: modelData, fingerprint },
    report: {
      data,
      folds: K,
      cv,
      primary,
      chosen,
      covScales,
      ranging: ranging.map((r) => ({
        anchorId: r.anchorId,
        ...(r.rssi ? { rssi: { ...r.rssi } } : {}),
        ...(r.rtt ? { rtt: { ...r.rtt } } : {}),
      })),
      fingerprint: fpReport,
      tracking,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
