// TEST DOUBLES — small implementations of the model contracts used only to test the worker's plumbing
// (ordering, idempotency, hot reload, message shapes). They are not product models and are never shipped: the
// real ones live in src/models/ and are wired in src/ingest/load-model-set.ts.

import type { WorkerModels } from '../../../src/ingest/worker-models.js';
import type {
  BehaviourAssessment,
  BehaviourEvent,
  BehaviourModel,
  DeviceProfile,
  TrustAssessment,
  TrustModel,
} from '../../../src/models/contracts/behaviour.js';
import type { AnchorReading, Positioner, PositionUpdate } from '../../../src/models/contracts/positioning.js';

export const TEST_ANCHORS: Record<string, { x: number; y: number }> = {
  '198.51.100.1': { x: 0, y: 0 },
  '198.51.100.2': { x: 10, y: 0 },
  '198.51.100.3': { x: 0, y: 8 },
  '198.51.100.4': { x: 10, y: 8 },
};

interface CentroidState {
  /** Readings folded in, in order (the order tests look at). */
  seen: number;
  lastT: number;
  /** Per anchor: last rssi. */
  last: Record<string, number>;
}

/** Test double: weighted centroid of the anchors heard, weights from RSSI. */
export class TestCentroidPositioner implements Positioner<CentroidState> {
  constructor(readonly version: string) {}
  initialState(): CentroidState {
    return { seen: 0, lastT: 0, last: {} };
  }
  update(
    state: CentroidState,
    readings: readonly AnchorReading[],
    _nowMs: number,
  ): PositionUpdate<CentroidState> {
    const next: CentroidState = {
      seen: state.seen + readings.length,
      lastT: state.lastT,
      last: { ...state.last },
    };
    for (const r of readings) {
      if (r.t < next.lastT) throw new Error(`readings out of order: ${r.t} < ${next.lastT}`);
      next.lastT = r.t;
      if (r.rssi !== undefined && TEST_ANCHORS[r.anchorId]) next.last[r.anchorId] = r.rssi;
    }
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (const [id, rssi] of Object.entries(next.last)) {
      const a = TEST_ANCHORS[id]!;
      const w = 10 ** (rssi / 20);
      sw += w;
      sx += w * a.x;
      sy += w * a.y;
    }
    if (sw === 0) return { state: next, estimate: null };
    return {
      state: next,
      estimate: {
        x: sx / sw,
        y: sy / sw,
        uncertainty: 2,
        confidence: 0.7,
        covariance: [1, 0, 1],
        room: sx / sw < 5 ? 'west' : 'east',
        roomProbability: 0.9,
        model: 'test_centroid',
      },
    };
  }
}

interface SpikeState {
  events: number;
  lastRtt: number;
}

/** Test double: anomalous when the latest RTT is above a threshold. */
export class TestSpikeBehaviour implements BehaviourModel<SpikeState> {
  constructor(
    readonly version: string,
    private readonly rttThreshold = 100,
  ) {}
  initialState(): SpikeState {
    return { events: 0, lastRtt: 0 };
  }
  observe(state: SpikeState, event: BehaviourEvent): SpikeState {
    return {
      events: state.events + 1,
      lastRtt: event.kind === 'probe' && event.rtt !== undefined ? event.rtt : state.lastRtt,
    };
  }
  assess(state: SpikeState): BehaviourAssessment | null {
    if (state.events < 2) return null;
    const score = Math.min(1, state.lastRtt / (2 * this.rttThreshold));
    const anomalous = state.lastRtt > this.rttThreshold;
    const a: BehaviourAssessment = {
      anomalyScore: score,
      threshold: 0.5,
      anomalous,
      confidence: 0.8,
      features: { rtt_last: state.lastRtt },
      performanceScore: 1 - score,
      modelVersion: this.version,
      mlModel: 'test_spike',
    };
    if (anomalous) {
      a.anomalyType = 'latency_spike';
      a.severity = 'high';
      a.recommendedAction = 'check_link';
    }
    return a;
  }
}

/** Test double: trust from the user's decision and the anomaly count. */
export class TestTrust implements TrustModel {
  readonly version = 'test-trust';
  assess(profile: DeviceProfile): TrustAssessment {
    const anomalies = profile.anomalyTimes.length;
    const score = Math.max(0, 0.8 - 0.4 * anomalies);
    const level =
      profile.userDecision === 'approved'
        ? 'trusted'
        : profile.userDecision === 'blocked'
          ? 'blocked'
          : score < 0.5
            ? 'suspicious'
            : 'unknown';
    return {
      score,
      level,
      confidence: 0.9,
      factors: [{ name: 'anomaly_history', value: score, weight: 1 }],
    };
  }
}

export function testModels(version = 'v1'): WorkerModels {
  return {
    version,
    positioner: new TestCentroidPositioner(version),
    behaviour: new TestSpikeBehaviour(version),
    trust: new TestTrust(),
  };
}
