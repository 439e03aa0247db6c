import { describe, expect, it } from 'vitest';
import { makeMessage } from '../../src/protocol/index.js';
import {
  DashboardStore,
  FEED_LENGTH,
  TRAIL_LENGTH,
  TRAIL_MAX_AGE_MS,
  trustScoreOf,
} from '../../web/src/store.js';

const A = 'agent_1';

describe('DashboardStore', () => {
  it('folds device messages into a device with position, trail, scores and trust', () => {
    const s = new DashboardStore();
    s.apply(makeMessage('deviceJoin', A, { deviceId: 'd1', hostname: 'tv', trustLevel: 'suspicious' }), 1000);
    s.apply(
      makeMessage('deviceUpdate', A, { deviceId: 'd1', location: { x: 1, y: 2, confidence: 0.8 } }),
      2000,
    );
    s.apply(
      makeMessage('deviceUpdate', A, { deviceId: 'd1', location: { x: 3, y: 2, confidence: 0.8 } }),
      3000,
    );
    s.apply(makeMessage('mlScoreUpdate', A, { deviceId: 'd1', scores: { anomalyScore: 0.3 } }), 3500);
    const d = s.devices.get('d1')!;
    expect(d.hostname).toBe('tv');
    expect(d.trustLevel).toBe('suspicious');
    expect(d.location).toMatchObject({ x: 3, y: 2 });
    expect(d.trail.map((p) => [p.x, p.y])).toEqual([
      [1, 2],
      [3, 2],
    ]);
    expect(d.scores).toEqual({ anomalyScore: 0.3 });
    s.apply(
      makeMessage('trustUpdate', A, {
        deviceId: 'd1',
        previousTrust: 'suspicious',
        newTrust: 'trusted',
        reason: 'user_approved',
        confidence: 1,
        behaviorScore: 70,
      }),
      4000,
    );
    expect(d.trustLevel).toBe('trusted');
    expect(d.userDecision).toBe('approved');
    expect(trustScoreOf(d)).toBeCloseTo(0.7);
    // A later agent guess does not override the decision.
    s.apply(makeMessage('deviceJoin', A, { deviceId: 'd1', trustLevel: 'unknown' }), 5000);
    expect(d.trustLevel).toBe('trusted');
    s.apply(makeMessage('deviceLeave', A, { deviceId: 'd1', reason: 'timeout' }), 6000);
    expect(d.online).toBe(false);
  });

  it('keeps trails short: small jitter adds no point, old points age out, at most TRAIL_LENGTH', () => {
    const s = new DashboardStore();
    const at = (x: number, t: number) =>
      s.apply(makeMessage('deviceUpdate', A, { deviceId: 'd', location: { x, y: 0, confidence: 1 } }), t);
    at(0, 0);
    at(0.01, 100);
    expect(s.devices.get('d')!.trail).toHaveLength(1);
    for (let i = 1; i <= 40; i++) at(i, 1000 * i);
    expect(s.devices.get('d')!.trail).toHaveLength(TRAIL_LENGTH);
    s.ageTrails(40_000 + TRAIL_MAX_AGE_MS + 1);
    // The head stays: the device is still there.
    expect(s.devices.get('d')!.trail).toHaveLength(1);
  });

  it('builds the anomaly feed newest first, without duplicates, bounded', () => {
    const s = new DashboardStore();
    const anomaly = (id: string) =>
      makeMessage('anomalyDetected', A, {
        anomalyId: id,
        deviceId: 'd',
        anomalyType: 'latency_spike',
        severity: 'medium',
        confidence: 0.5,
        mlModel: 'isolation_forest',
        features: { rtt_mean: 80 },
        recommendedAction: 'investigate',
      });
    s.apply(anomaly('a1'));
    s.apply(anomaly('a2'));
    s.apply(anomaly('a1'));
    expect(s.feed.map((f) => f.id)).toEqual(['anomaly:a2', 'anomaly:a1']);
    s.apply(
      makeMessage('trustAlert', A, {
        alertId: 'x',
        deviceId: 'd',
        severity: 'critical',
        alertType: 'port_scan',
        description: 'scans',
        evidence: { portScans: 15 },
        recommendedAction: 'block_device',
        autoBlocked: true,
      }),
    );
    expect(s.feed[0]).toMatchObject({ kind: 'alert', severity: 'critical', description: 'scans' });
    expect(s.devices.get('d')!.trustLevel).toBe('blocked');
    for (let i = 0; i < FEED_LENGTH + 10; i++) s.apply(anomaly(`many-${i}`));
    expect(s.feed).toHaveLength(FEED_LENGTH);
  });

  it('counts unreadable messages instead of throwing', () => {
    const s = new DashboardStore();
    expect(s.apply('nope')).toBe(false);
    expect(s.apply({ type: 'deviceUpdate', agentId: A, timestamp: 't', data: null })).toBe(false);
    // Well-formed envelopes, payloads the page cannot use: skipped, and nothing is created or changed.
    expect(s.apply({ type: 'trustUpdate', agentId: A, timestamp: 't', data: { deviceId: 'x' } })).toBe(false);
    expect(s.apply({ type: 'mlScoreUpdate', agentId: A, timestamp: 't', data: { deviceId: 'x' } })).toBe(
      false,
    );
    expect(
      s.apply({
        type: 'deviceUpdate',
        agentId: A,
        timestamp: 't',
        data: { deviceId: 'x', location: { x: 'a' } },
      }),
    ).toBe(false);
    expect(s.unreadable).toBe(5);
    expect(s.devices.size).toBe(0);
    // Types the page does not show are fine.
    const ping = makeMessage('pingResult', A, {
      targetIp: '192.0.2.1',
      targetType: 'anchor',
      sequenceNumber: 1,
      success: false,
    });
    expect(s.apply(ping)).toBe(true);
  });

  it('merges a REST snapshot without rolling back newer live data', () => {
    const s = new DashboardStore();
    s.apply(
      makeMessage('deviceUpdate', A, { deviceId: 'live', location: { x: 5, y: 5, confidence: 1 } }),
      2000,
    );
    s.loadDevices(
      [
        { deviceId: 'live', trustLevel: 'blocked', location: { x: 0, y: 0, confidence: 1 } },
        {
          deviceId: 'rest',
          agentId: A,
          hostname: 'printer',
          online: false,
          trustLevel: 'trusted',
          userDecision: 'approved',
          scores: { trustScore: 0.9 },
          lastSeen: '2026-01-01T00:00:00.000Z',
          location: { x: 1, y: 1, confidence: 0.5, uncertainty: 2 },
        },
        { nonsense: true },
      ],
      1000,
      3000,
    );
    expect(s.devices.get('live')!.location).toMatchObject({ x: 5, y: 5 });
    expect(s.devices.get('live')!.trustLevel).toBe('unknown');
    const r = s.devices.get('rest')!;
    expect(r).toMatchObject({
      hostname: 'printer',
      online: false,
      trustLevel: 'trusted',
      userDecision: 'approved',
    });
    expect(r.lastSeen).toBe(Date.parse('2026-01-01T00:00:00.000Z'));
    expect(s.devices.size).toBe(2);
  });
});
