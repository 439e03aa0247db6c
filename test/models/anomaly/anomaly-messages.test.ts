import { describe, expect, it } from 'vitest';
import { gateAlert, INITIAL_ALERT_GATE } from '../../../src/models/anomaly/alert-gate.js';
import { anomalyDetectedData, mlScoreUpdateData } from '../../../src/models/anomaly/anomaly-messages.js';
import { eventsFromMessage } from '../../../src/models/anomaly/events-from-messages.js';
import { performanceScore } from '../../../src/models/anomaly/performance-score.js';
import type { BehaviourAssessment } from '../../../src/models/contracts/behaviour.js';
import { createTrustModel } from '../../../src/models/trust/trust-model.js';
import {
  AnomalyDetected,
  type Message,
  MlScoreUpdate,
  makeMessage,
  parseMessage,
} from '../../../src/protocol/index.js';

const assessment: BehaviourAssessment = {
  anomalyScore: 0.86,
  threshold: 0.8,
  anomalous: true,
  anomalyType: 'signal_drop',
  severity: 'high',
  confidence: 0.93,
  features: { rssi_delta: -16.1, rssi_delta_contribution: 0.41, rssi_std: 9.3, rssi_std_contribution: 0.22 },
  recommendedAction: 'check_device_placement',
  performanceScore: 0.7,
  modelVersion: '20250616T000000Z-abcd',
  mlModel: 'isolation_forest',
};

describe('protocol messages from model outputs', () => {
  it('anomalyDetectedData validates and carries the explanation', () => {
    const data = anomalyDetectedData('aa:bb:cc:dd:ee:ff', assessment, 'anom_1');
    const r = AnomalyDetected.safeParse(makeMessage('anomalyDetected', 'agent_1', data));
    expect(r.success, r.success ? '' : JSON.stringify(r.error.issues)).toBe(true);
    expect(data.features.rssi_delta).toBe(-16.1);
    expect(data.mlModel).toBe('isolation_forest');
    expect(data.score).toBe(0.86);
    expect(data.threshold).toBe(0.8);
  });

  it('mlScoreUpdateData has the scores that exist and never predictions', () => {
    const trust = createTrustModel().assess(
      { deviceId: 'd', firstSeen: 0, anomalyTimes: [], portScans: 0, connectionAttempts: 0 },
      86_400_000,
    );
    const data = mlScoreUpdateData('d', { behaviour: assessment, trust, locationConfidence: 0.9 })!;
    expect(Object.keys(data.scores).sort()).toEqual([
      'anomalyScore',
      'locationConfidence',
      'performanceScore',
      'trustScore',
    ]);
    expect('predictions' in data).toBe(false);
    expect(MlScoreUpdate.safeParse(makeMessage('mlScoreUpdate', 'a', data)).success).toBe(true);
    expect(mlScoreUpdateData('d', {})).toBeNull();
    const { performanceScore: _, ...noPerf } = assessment;
    expect(mlScoreUpdateData('d', { behaviour: noPerf })!.scores).toEqual({ anomalyScore: 0.86 });
  });

  it('performance score: documented anchors, absent without data', () => {
    expect(performanceScore({})).toBeUndefined();
    expect(performanceScore({ latency: 10, packetLoss: 0, bandwidth: 100 })).toBeCloseTo(1, 6);
    expect(performanceScore({ latency: 1000 })).toBe(0);
    expect(performanceScore({ packetLoss: 5 })).toBeCloseTo(0.5, 6);
    expect(performanceScore({ latency: 200, packetLoss: 2 })!).toBeLessThan(
      performanceScore({ latency: 20, packetLoss: 2 })!,
    );
  });

  it('the alert gate sends one alert per episode', () => {
    let gate = INITIAL_ALERT_GATE;
    const emitted: number[] = [];
    const seq: Array<[number, boolean]> = [
      [0, true],
      [60_000, true],
      [120_000, false],
      [180_000, true],
      [900_000, true],
      [960_000, false],
    ];
    for (const [t, anomalous] of seq) {
      const g = gateAlert(gate, { anomalous }, t, 300_000);
      gate = g.gate;
      if (g.emit) emitted.push(t);
    }
    expect(emitted).toEqual([0, 900_000]);
  });

  it('maps protocol messages to behaviour events', () => {
    const ts = '2025-06-16T10:00:00.000Z';
    const msgs: unknown[] = [
      {
        type: 'pingResult',
        agentId: 'a1',
        timestamp: ts,
        data: {
          targetIp: '198.51.100.1',
          targetType: 'anchor',
          rtt: 3,
          sequenceNumber: 1,
          success: true,
          deviceId: 'd1',
          rssi: -50,
        },
      },
      {
        type: 'deviceJoin',
        agentId: 'a1',
        timestamp: ts,
        data: { deviceId: 'd1', macAddress: 'aa:bb:cc:dd:ee:ff', vendor: 'X', services: ['_ipp._tcp'] },
      },
      {
        type: 'deviceUpdate',
        agentId: 'a1',
        timestamp: ts,
        data: {
          deviceId: 'd1',
          rssi: -60,
          location: { x: 1, y: 2, confidence: 0.9 },
          performance: { latency: 5 },
          activity: { portScans: 3 },
        },
      },
      { type: 'deviceLeave', agentId: 'a1', timestamp: ts, data: { deviceId: 'd1', reason: 'timeout' } },
      {
        type: 'agent_heartbeat',
        agentId: 'a1',
        timestamp: ts,
        data: { status: 'active', uptime: 1, memoryUsage: 1, cpuUsage: 1 },
      },
    ];
    const events = msgs.flatMap((m) => {
      const r = parseMessage(m);
      if (!r.ok) throw new Error(r.error.message);
      return eventsFromMessage(r.message as Message);
    });
    expect(events.map((e) => e.event.kind)).toEqual(['probe', 'join', 'update', 'location', 'leave']);
    expect(events[0]).toEqual({
      deviceId: 'd1',
      event: { kind: 'probe', t: Date.parse(ts), anchorId: '198.51.100.1', success: true, rtt: 3, rssi: -50 },
    });
    expect(events[2]!.event).toMatchObject({ rssi: -60, latency: 5, portScans: 3 });
    expect(events[3]!.event).toMatchObject({ x: 1, y: 2 });
  });
});
