import type { BiasMapData } from './bias-map.js';
import type { FingerprintArtifacts, FingerprintMeta, FingerprintNet } from './fingerprint.js';
import type { EstimatorName } from './fix.js';
import type { KnnModel } from './knn.js';
import type { MultilaterationParams } from './multilateration.js';
import type { AnchorRanging } from './ranging.js';
import type { Site } from './site.js';
import type { TrackerParams } from './tracker.js';

// A trained positioning model: plain data (JSON in the model directory) plus the fingerprint network's weights.

export const POSITIONING_MODEL_FORMAT = 1;

export interface RuntimeParams {
  /** Readings older than this (ms) are not used for a fix. */
  windowMs: number;
  /** The confidence mapping's scale: confidence = 1/(1 + (r95/scale)²). */
  confidenceScaleM: number;
  /** An estimate older than this (ms) with no new fix is no longer reported. */
  staleMs: number;
}

export const DEFAULT_RUNTIME: RuntimeParams = { windowMs: 5000, confidenceScaleM: 2, staleMs: 300_000 };

export interface PositioningModelData {
  format: typeof POSITIONING_MODEL_FORMAT;
  site: Site;
  ranging: AnchorRanging[];
  multilateration: { params: MultilaterationParams; covScale: number; biasMap?: BiasMapData } | null;
  knn: KnnModel | null;
  /** Metadata of the network; its weights live beside (fingerprint.json + fingerprint.weights.bin). */
  fingerprint: FingerprintMeta | null;
  /**
   * The estimators fused for a fix (chosen by cross-validation), the multipliers of their precisions in the fusion
   * (same order), and the fused covariance's calibration.
   */
  fusion: {
    /**
     * `product` (default): the members' fixes fused as Gaussians. `joint`: the other members' fused fix is a prior
     * inside the multilateration solve (it picks the right basin when the ranges alone are ambiguous).
     */
    mode?: 'product' | 'joint';
    members: EstimatorName[];
    weights: number[];
    /** Prior probability that a member is wrong (robust fusion); 0 = plain product of Gaussians. */
    outlierProbability: number;
    covScale: number;
  };
  tracker: TrackerParams;
  runtime: RuntimeParams;
}

export interface PositioningModel {
  data: PositioningModelData;
  fingerprint: FingerprintNet | null;
}

export interface SerialisedPositioningModel {
  data: PositioningModelData;
  fingerprint: FingerprintArtifacts | null;
}

export async function serialisePositioningModel(
  model: PositioningModel,
): Promise<SerialisedPositioningModel> {
  return { data: model.data, fingerprint: model.fingerprint ? await model.fingerprint.toArtifacts() : null };
}

/** Checks the parts every consumer relies on; throws with the offending field. */
export function checkModelData(value: unknown): PositioningModelData {
  const d = value as Partial<PositioningModelData> | null;
  if (typeof d !== 'object' || d === null) throw new Error('positioning model: not an object');
  if (d.format !== POSITIONING_MODEL_FORMAT) {
    throw new Error(
      `positioning model: unsupported format ${String(d.format)} (this build reads ${POSITIONING_MODEL_FORMAT})`,
    );
  }
  for (const key of ['site', 'ranging', 'fusion', 'tracker', 'runtime'] as const) {
    if (d[key] === undefined || d[key] === null) throw new Error(`positioning model: missing "${key}"`);
  }
  if (!Array.isArray(d.fusion!.members) || d.fusion!.members.length === 0) {
    throw new Error('positioning model: fusion.members is empty');
  }
  return d as PositioningModelData;
}
