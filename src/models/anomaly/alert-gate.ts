import type { BehaviourAssessment } from '../contracts/behaviour.js';

/*
 * One alert per episode. A device over its threshold for ten minutes is one anomaly, not ten: the worker keeps
 * one gate per device beside the model state and emits anomalyDetected only when the gate says so. An episode
 * ends after `quietMs` without an anomalous assessment. The threshold's extremal index counts clusters the same
 * way, so the alert budget is in these alerts.
 */

export interface AlertGateState {
  /** Epoch ms of the last anomalous assessment, null if none yet. */
  lastAnomalousAt: number | null;
  /** Epoch ms the current episode's alert went out. */
  episodeStart: number | null;
}

export const INITIAL_ALERT_GATE: AlertGateState = { lastAnomalousAt: null, episodeStart: null };

/** Pure: whether to emit anomalyDetected for this assessment, and the gate after it. */
export function gateAlert(
  gate: AlertGateState,
  assessment: Pick<BehaviourAssessment, 'anomalous'>,
  nowMs: number,
  quietMs = 300_000,
): { gate: AlertGateState; emit: boolean } {
  if (!assessment.anomalous) return { gate, emit: false };
  const newEpisode = gate.lastAnomalousAt === null || nowMs - gate.lastAnomalousAt > quietMs;
  return {
    gate: { lastAnomalousAt: nowMs, episodeStart: newEpisode ? nowMs : gate.episodeStart },
    emit: newEpisode,
  };
}
