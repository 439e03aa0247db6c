import type { AnomalyDetected, MlScoreUpdate } from '../../protocol/index.js';
import type { BehaviourAssessment, TrustAssessment } from '../contracts/behaviour.js';
import { RECOMMENDED_ACTION } from './anomaly-type.js';

/*
 * The `data` of the messages the worker emits from the models' outputs, so the worker only wraps them in an
 * envelope (makeMessage). Tests validate them against the zod schemas.
 */

export type AnomalyDetectedData = AnomalyDetected['data'];
export type MlScoreUpdateData = MlScoreUpdate['data'];

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;
const unit = (v: number) => round(Math.min(1, Math.max(0, v)));
/** FlatRecord keys are at most 64 characters and values short strings. */
function flat(features: BehaviourAssessment['features']): AnomalyDetectedData['features'] {
  const out: AnomalyDetectedData['features'] = {};
  for (const [k, v] of Object.entries(features)) {
    if (k.length === 0 || k.length > 64) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    out[k] = typeof v === 'string' ? v.slice(0, 256) : v;
  }
  return out;
}

/** anomalyDetected.data for an anomalous assessment (an assessment that is not anomalous is reported as low). */
export function anomalyDetectedData(
  deviceId: string,
  assessment: BehaviourAssessment,
  anomalyId: string,
): AnomalyDetectedData {
  const type = assessment.anomalyType ?? 'behavior_change';
  const data: AnomalyDetectedData = {
    anomalyId,
    deviceId,
    anomalyType: type,
    severity: assessment.severity ?? 'low',
    confidence: unit(assessment.confidence),
    mlModel: assessment.mlModel,
    features: flat(assessment.features),
    recommendedAction: assessment.recommendedAction ?? RECOMMENDED_ACTION[type],
    score: unit(assessment.anomalyScore),
    threshold: unit(assessment.threshold),
  };
  if (assessment.modelVersion.length > 0) data.modelVersion = assessment.modelVersion.slice(0, 256);
  return data;
}

/**
 * mlScoreUpdate.data for a device: the scores that exist (anomaly and performance from the behaviour model, trust
 * from the trust model, locationConfidence from positioning). Never `predictions`: no model here computes them.
 * Null when there is no score at all.
 */
export function mlScoreUpdateData(
  deviceId: string,
  parts: {
    behaviour?: BehaviourAssessment | null;
    trust?: TrustAssessment | null;
    locationConfidence?: number;
  },
): MlScoreUpdateData | null {
  const scores: MlScoreUpdateData['scores'] = {};
  if (parts.behaviour) {
    scores.anomalyScore = unit(parts.behaviour.anomalyScore);
    if (parts.behaviour.performanceScore !== undefined) {
      scores.performanceScore = unit(parts.behaviour.performanceScore);
    }
  }
  if (parts.trust) scores.trustScore = unit(parts.trust.score);
  if (parts.locationConfidence !== undefined && Number.isFinite(parts.locationConfidence)) {
    scores.locationConfidence = unit(parts.locationConfidence);
  }
  if (Object.keys(scores).length === 0) return null;
  return { deviceId, scores };
}
