import type { PositionEstimate } from '../contracts/positioning.js';
import { type BiasGrid, buildBiasGrids } from './bias-map.js';
import { confidenceFromRadius, coverageRadius, type EstimatorName, type Fix } from './fix.js';
import { fuseFixesRobust } from './fusion.js';
import { predictKnn } from './knn.js';
import type { Cov2 } from './linalg2.js';
import type { PositioningModel } from './model.js';
import { type AnchorPosition, solveMultilateration } from './multilateration.js';
import { type AnchorTermTemplates, TermPool, termTemplates } from './multilateration-templates.js';
import { countAnchors, priorTerms } from './multilateration-terms.js';
import type { Observation } from './observation.js';
import type { AnchorRanging } from './ranging.js';
import { roomProbabilities } from './rooms.js';
import type { Site } from './site.js';

// One fix from one set of measurements: every estimator of the model, then their fusion. No tracking here
// (positioner.ts adds it); `sbp evaluate` scores these single fixes.

export interface FixSet {
  members: Partial<Record<EstimatorName, Fix>>;
  /** The model's chosen estimator or fusion of estimators; null when nothing could locate the device. */
  fused: Fix | null;
  /** Floor vote of the kNN neighbours (floor → share), when the walk had floors. */
  floors?: Map<number, number>;
}

interface Geometry {
  anchors: Map<string, AnchorPosition>;
  ranging: Map<string, AnchorRanging>;
  bias?: Map<string, BiasGrid>;
  /** Multilateration's per-anchor terms without the measurement, with their start-grid tables. */
  templates?: Map<string, AnchorTermTemplates>;
  /** The fixes' terms, reused: each solve is done with them before the next fix builds its own. */
  pool: TermPool;
}

// Derived lookups (and the bias map's grids) are built once per loaded model.
const geometryCache = new WeakMap<object, Geometry>();

function geometry(model: PositioningModel): Geometry {
  let g = geometryCache.get(model.data);
  if (!g) {
    g = {
      anchors: new Map<string, AnchorPosition>(model.data.site.anchors.map((a) => [a.id, a])),
      ranging: new Map(model.data.ranging.map((r) => [r.anchorId, r])),
      pool: new TermPool(),
    };
    const ml = model.data.multilateration;
    if (ml?.biasMap) {
      const b = model.data.site.bounds;
      const m = ml.params.marginM;
      g.bias = buildBiasGrids(
        ml.biasMap,
        { minX: b.minX - m, minY: b.minY - m, maxX: b.maxX + m, maxY: b.maxY + m },
        ml.params.localSigma ?? false,
      );
    }
    if (ml) g.templates = termTemplates(g.anchors, g.ranging, ml.params, model.data.site.bounds, g.bias);
    geometryCache.set(model.data, g);
  }
  return g;
}

/** Multilateration fix with its calibrated covariance; null with fewer than 2 anchors usable. */
export function multilaterationFix(
  model: PositioningModel,
  observations: readonly Observation[],
): Fix | null {
  const ml = model.data.multilateration;
  if (!ml) return null;
  const g = geometry(model);
  const terms = g.pool.build(observations, g.templates!);
  if (countAnchors(terms) < 2) return null;
  const r = solveMultilateration(terms, model.data.site.bounds, ml.params);
  if (!r) return null;
  const k = ml.covScale;
  return {
    x: r.x,
    y: r.y,
    cov: [r.cov[0] * k, r.cov[1] * k, r.cov[2] * k],
    model: 'multilateration',
    anchors: r.anchors,
  };
}

export function siteArea(site: Site): number {
  return (site.bounds.maxX - site.bounds.minX) * (site.bounds.maxY - site.bounds.minY);
}

/** Every estimator's fix for each measurement set (the network scores the whole batch at once). */
export function estimateMany(
  model: PositioningModel,
  batch: ReadonlyArray<readonly Observation[]>,
  options: {
    /**
     * Compute only what the model's answer needs (the live path): estimators outside the fusion are skipped
     * unless the fusion cannot answer and they are the fallback. `members` then holds only what was computed.
     */
    fusedOnly?: boolean;
  } = {},
): FixSet[] {
  const fusion = model.data.fusion;
  const joint = fusion.mode === 'joint' && fusion.members.includes('multilateration');
  const all = !options.fusedOnly;
  const needFp = all || fusion.members.includes('fingerprint');
  const needMl = all || (!joint && fusion.members.includes('multilateration'));
  const fp =
    model.fingerprint && needFp ? model.fingerprint.predictMany(batch) : batch.map((): Fix | null => null);
  const eps = fusion.outlierProbability ?? 0;
  const area = siteArea(model.data.site);
  return batch.map((observations, i) => {
    const members: Partial<Record<EstimatorName, Fix>> = {};
    const ml = needMl ? multilaterationFix(model, observations) : null;
    if (ml) members.multilateration = ml;
    const f = fp[i];
    if (f) members.fingerprint = f;
    let floors: Map<number, number> | undefined;
    if (model.data.knn) {
      const k = predictKnn(model.data.knn, observations);
      if (k) {
        members.knn = k.fix;
        floors = k.floors;
      }
    }
    const chosen: Fix[] = [];
    fusion.members.forEach((m, j) => {
      const f = members[m];
      if (!f) return;
      if (joint && m === 'multilateration') return;
      const w = fusion.weights[j] ?? 1;
      chosen.push(w === 1 ? f : { ...f, cov: [f.cov[0] / w, f.cov[1] / w, f.cov[2] / w] });
    });
    let fused: Fix | null;
    if (joint) {
      // The other members' fused fix is a prior inside the multilateration solve.
      const prior =
        chosen.length === 0 ? null : chosen.length === 1 ? chosen[0]! : fuseFixesRobust(chosen, eps, area, 1);
      fused = prior
        ? jointFix(model, observations, prior, fusion.covScale)
        : (members.multilateration ?? (needMl ? null : multilaterationFix(model, observations)));
    } else {
      fused =
        chosen.length === 0
          ? null
          : chosen.length === 1
            ? chosen[0]!
            : fuseFixesRobust(chosen, eps, area, fusion.covScale);
    }
    // None of the chosen estimators could answer (e.g. fewer than two placed anchors heard): fall back on any
    // estimator that could, with its own calibrated covariance — a wide answer beats none.
    if (!fused) {
      if (!members.fingerprint && !needFp && model.fingerprint) {
        const g = model.fingerprint.predict(observations);
        if (g) members.fingerprint = g;
      }
      if (!members.multilateration && !needMl) {
        const m = multilaterationFix(model, observations);
        if (m) members.multilateration = m;
      }
      for (const m of ['knn', 'fingerprint', 'multilateration'] as const) {
        if (members[m]) {
          fused = members[m]!;
          break;
        }
      }
    }
    return floors ? { members, fused, floors } : { members, fused };
  });
}

/** Multilateration with another estimate as a Gaussian prior; the fused answer of the `joint` fusion mode. */
export function jointFix(
  model: PositioningModel,
  observations: readonly Observation[],
  prior: Fix,
  covScale: number,
): Fix | null {
  const ml = model.data.multilateration;
  if (!ml) return prior;
  const g = geometry(model);
  const terms = g.pool.build(observations, g.templates!);
  if (countAnchors(terms) < 1) return prior;
  // The prior's two linear terms after the measurements' (the array is this fix's own).
  for (const t of priorTerms(prior, prior.cov)) terms.push(t);
  const r = solveMultilateration(terms, model.data.site.bounds, ml.params, [prior]);
  if (!r) return prior;
  return {
    x: r.x,
    y: r.y,
    cov: [r.cov[0] * covScale, r.cov[1] * covScale, r.cov[2] * covScale],
    model: 'fusion',
    anchors: r.anchors,
  };
}

export function estimateFixes(
  model: PositioningModel,
  observations: readonly Observation[],
  options: { fusedOnly?: boolean } = {},
): FixSet {
  return estimateMany(model, [observations], { fusedOnly: options.fusedOnly ?? false })[0]!;
}

/**
 * The contract's estimate from a position and covariance: 95 % radius, confidence, room and floor. The position is
 * reported inside the site's bounds: the solver searches a margin beyond them (clamping the search at the walls
 * would bias fixes near them) and the tracker averages unclamped fixes, but every device is on the site, so
 * projecting the reported point onto its bounds can only shorten the error — and a device is never drawn off the
 * plan.
 */
export function toPositionEstimate(
  site: Site,
  rawX: number,
  rawY: number,
  cov: Cov2,
  model: string,
  confidenceScaleM: number,
  floors?: Map<number, number>,
): PositionEstimate {
  const b = site.bounds;
  const x = Math.min(Math.max(rawX, b.minX), b.maxX);
  const y = Math.min(Math.max(rawY, b.minY), b.maxY);
  const uncertainty = coverageRadius(cov, 0.95);
  const est: PositionEstimate = {
    x,
    y,
    uncertainty,
    confidence: confidenceFromRadius(uncertainty, confidenceScaleM),
    covariance: cov,
    model,
  };
  let floor: number | undefined;
  if (floors && floors.size > 0) {
    floor = [...floors.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    est.floor = floor;
  }
  const rp = roomProbabilities(site, x, y, cov, floor);
  const top = rp.rooms[0];
  if (top && top.probability >= rp.none) {
    est.room = top.room;
    est.roomProbability = top.probability;
  }
  return est;
}
