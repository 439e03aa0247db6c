import { describe, expect, it } from 'vitest';
import {
  deserializeDeviceState,
  newPartitionState,
  serializeDeviceState,
} from '../../src/ingest/device-state.js';
import { processBatch } from '../../src/ingest/process-batch.js';
import { NO_MODELS, type WorkerModels } from '../../src/ingest/worker-models.js';
import { Message, type MessageOf } from '../../src/protocol/index.js';
import { calibration, join, probe, record } from './helpers/messages.js';
import { TestCentroidPositioner, testModels } from './helpers/test-models.js';

const NOW = Date.parse('2025-06-16T18:46:00.000Z');

function expectAllValid(messages: readonly unknown[]): void {
  for (const m of messages) {
    const check = Message.safeParse(m);
    expect(check.success, JSON.stringify(check.error?.issues[0])).toBe(true);
  }
}

describe('processBatch', () => {
  it('turns probes into a located deviceUpdate and scores, all valid against the protocol', () => {
    const state = newPartitionState();
    const records = [0, 1, 2, 3].map((s) => record(probe('agent-1', 'dev-a', s)));
    const out = processBatch(state, records, testModels(), NOW);
    expectAllValid(out.results);
    const update = out.results.find((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
    expect(update.agentId).toBe('agent-1');
    expect(update.data.deviceId).toBe('dev-a');
    expect(update.data.location).toMatchObject({ confidence: 0.7, uncertainty: 2, model: 'test_centroid' });
    expect(update.data.location?.modelVersion).toBe('v1');
    expect(update.data.rssi).toBe(-43);
    expect(update.data.performance).toEqual({ latency: 6.5, packetLoss: 0 });
    const scores = out.results.find((m) => m.type === 'mlScoreUpdate') as MessageOf<'mlScoreUpdate'>;
    expect(Object.keys(scores.data.scores).sort()).toEqual([
      'anomalyScore',
      'locationConfidence',
      'performanceScore',
      'trustScore',
    ]);
    expect(state.devices.get('dev-a')?.probes).toBe(4);
    expect(out.counters.get('probe:agent-1')).toBe(4);
    expect(out.devices).toHaveLength(1);
    expect(out.devices[0]?.patch.location?.x).toBeCloseTo(update.data.location!.x);
  });

  it('sends only the scores that were computed, and no location without a positioner', () => {
    const out = processBatch(newPartitionState(), [record(probe('a', 'd', 1))], NO_MODELS, NOW);
    expectAllValid(out.results);
    expect(out.results.map((m) => m.type)).toEqual(['deviceUpdate']);
    const update = out.results[0] as MessageOf<'deviceUpdate'>;
    expect(update.data.location).toBeUndefined();
    expect(update.data.performance?.latency).toBe(6);
  });

  it('counts as lost only probes that failed with nothing heard, not BLE sightings (rssi without a round trip)', () => {
    const state = newPartitionState();
    const sighting = (seq: number) => probe('a', 'ble', seq, { success: false, rtt: undefined, rssi: -70 });
    const lost = (seq: number) => probe('a', 'ble', seq, { success: false, rtt: undefined, rssi: undefined });
    // 6 sightings, 3 timed probes (rtt 5 + seq % 7), 1 lost: 1 of the 4 pings sent is lost (sightings are not pings,
    // as in the anomaly model's loss feature).
    const messages = [0, 1, 2, 3, 4, 5].map(sighting).concat([probe('a', 'ble', 6), probe('a', 'ble', 7)]);
    messages.push(probe('a', 'ble', 8), lost(9));
    for (const m of messages) {
      if (m.data.rtt === undefined) delete m.data.rtt;
      if (m.data.rssi === undefined) delete m.data.rssi;
    }
    const out = processBatch(
      state,
      messages.map((m) => record(m)),
      NO_MODELS,
      NOW,
    );
    expectAllValid(out.results);
    const update = out.results.find((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
    expect(update.data.performance).toEqual({ latency: 7.333, packetLoss: 25 });
    expect(out.devices[0]?.patch.performance).toMatchObject({ packetLoss: 25 });
    // Only sightings: no loss at all (a beacon-only device used to show 100%).
    const beacon = processBatch(
      newPartitionState(),
      [0, 1, 2].map((s) => record(sighting(s))),
      NO_MODELS,
      NOW,
    );
    const onlySightings = beacon.results.find((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
    expect(onlySightings.data.performance).toEqual({ packetLoss: 0 });
  });

  it('raises anomalyDetected on a latency spike, then trustUpdate and trustAlert, once per cooldown', () => {
    const state = newPartitionState();
    const models = testModels();
    // Score on every batch here (the default is the model's own cadence, 60 s without one).
    const ctx = { options: { assessIntervalMs: 0 } };
    processBatch(state, [record(probe('a', 'd', 1)), record(probe('a', 'd', 2))], models, NOW, ctx);
    const spike = processBatch(state, [record(probe('a', 'd', 3, { rtt: 400 }))], models, NOW + 100, ctx);
    expectAllValid(spike.results);
    const types = spike.results.map((m) => m.type);
    expect(types).toContain('anomalyDetected');
    const anomaly = spike.results.find((m) => m.type === 'anomalyDetected') as MessageOf<'anomalyDetected'>;
    expect(anomaly.data).toMatchObject({
      deviceId: 'd',
      anomalyType: 'latency_spike',
      severity: 'high',
      mlModel: 'test_spike',
      recommendedAction: 'check_link',
      features: { rtt_last: 400 },
    });
    // One anomaly drops the test trust score below 0.5: suspicious, with an alert.
    const trust = spike.results.find((m) => m.type === 'trustUpdate') as MessageOf<'trustUpdate'>;
    expect(trust.data).toMatchObject({
      previousTrust: 'unknown',
      newTrust: 'suspicious',
      reason: 'anomaly_history',
    });
    expect(types).toContain('trustAlert');
    // Still anomalous 100 ms later: the same episode, no second alert.
    const again = processBatch(state, [record(probe('a', 'd', 4, { rtt: 500 }))], models, NOW + 200, ctx);
    expect(again.results.map((m) => m.type)).not.toContain('anomalyDetected');
    // Quiet for longer than the episode gap, then anomalous again: a new alert.
    processBatch(state, [record(probe('a', 'd', 5, { rtt: 5 }))], models, NOW + 300, ctx);
    const later = processBatch(state, [record(probe('a', 'd', 6, { rtt: 600 }))], models, NOW + 400_000, ctx);
    expect(later.results.map((m) => m.type)).toContain('anomalyDetected');
  });

  it("scores a device at the behaviour model's cadence, not on every batch", () => {
    const state = newPartitionState();
    const models = testModels();
    const scored = (t: number, seq: number) =>
      processBatch(state, [record(probe('a', 'd', seq))], models, t).results.some(
        (m) => m.type === 'mlScoreUpdate' && m.data.scores.anomalyScore !== undefined,
      );
    expect(scored(NOW, 1)).toBe(false); // the test model needs two events first
    expect(scored(NOW + 1_000, 2)).toBe(true);
    expect(scored(NOW + 30_000, 3)).toBe(false);
    expect(scored(NOW + 61_000, 4)).toBe(true);
  });

  it('obeys the user decision from the registry', () => {
    const state = newPartitionState();
    const control = new Map([['d', { trustLevel: 'unknown' as const, userDecision: 'approved' as const }]]);
    const out = processBatch(state, [record(probe('a', 'd', 1))], testModels(), NOW, { control });
    const trust = out.results.find((m) => m.type === 'trustUpdate') as MessageOf<'trustUpdate'>;
    expect(trust.data).toMatchObject({
      previousTrust: 'unknown',
      newTrust: 'trusted',
      reason: 'user_approved',
    });
    expect(out.devices[0]?.patch.trustLevel).toBe('trusted');
  });

  it('stores calibrations as training data and device metadata in the registry', () => {
    const out = processBatch(
      newPartitionState(),
      [record(calibration('a', 'cal-1')), record(join('a', 'tv'))],
      testModels(),
      NOW,
    );
    expect(out.calibrations.map((c) => c.data.calibrationId)).toEqual(['cal-1']);
    const tv = out.devices.find((d) => d.deviceId === 'tv');
    expect(tv?.patch).toMatchObject({ hostname: 'host-tv', vendor: 'Acme', online: true });
    expect(out.counters.get('calibration:a')).toBe(1);
    expect(out.counters.get('event:a')).toBe(1);
  });

  it('is deterministic: same inputs, same outputs', () => {
    const records = Array.from({ length: 50 }, (_, i) => record(probe('a', `d${i % 5}`, i), 'h', 1));
    const run = () => {
      const s = newPartitionState();
      const first = processBatch(s, records.slice(0, 25), testModels(), NOW);
      const second = processBatch(s, records.slice(25), testModels(), NOW + 1000);
      return JSON.stringify([first.results, second.results, first.devices, second.devices]);
    };
    expect(run()).toBe(run());
  });

  it('dead-letters the records a model fails on and carries on with the other devices', () => {
    const failing: WorkerModels = {
      ...testModels(),
      positioner: {
        version: 'boom',
        initialState: () => ({}),
        update: (s, readings) => {
          if (readings.some((r) => r.rssi === -41)) throw new Error('model exploded');
          return { state: s, estimate: null };
        },
      },
    };
    const out = processBatch(
      newPartitionState(),
      [record(probe('a', 'bad', 1)), record(probe('a', 'good', 2))],
      failing,
      NOW,
    );
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]?.reason).toMatch(/ML_ERROR: model exploded/);
    expect(out.results.map((m) => 'deviceId' in m.data && m.data.deviceId)).not.toContain('bad');
    expect(out.results.some((m) => m.type === 'deviceUpdate' && m.data.deviceId === 'good')).toBe(true);
  });

  it('restarts a device track on a new model version, warmed with the measurement window', () => {
    const state = newPartitionState();
    processBatch(
      state,
      [0, 1, 2].map((s) => record(probe('a', 'd', s))),
      testModels('v1'),
      NOW,
    );
    const v2 = { ...testModels('v2'), positioner: new TestCentroidPositioner('v2') };
    const out = processBatch(state, [record(probe('a', 'd', 3))], v2, NOW + 1000);
    const update = out.results.find((m) => m.type === 'deviceUpdate') as MessageOf<'deviceUpdate'>;
    expect(update.data.location?.modelVersion).toBe('v2');
    const device = state.devices.get('d')!;
    expect(device.positioner?.version).toBe('v2');
    // 3 window readings replayed into the fresh state, then the new one.
    expect((device.positioner!.state as { seen: number }).seen).toBe(4);
  });

  it('device state survives serialisation (checkpoints)', () => {
    const state = newPartitionState();
    processBatch(
      state,
      [0, 1, 2].map((s) => record(probe('a', 'd', s))),
      testModels(),
      NOW,
    );
    const device = state.devices.get('d')!;
    const copy = deserializeDeviceState(serializeDeviceState(device));
    expect(copy).toEqual(device);
    expect(copy.anchors).toBeInstanceOf(Map);
  });
});
