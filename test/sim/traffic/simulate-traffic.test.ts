import { describe, expect, it } from 'vitest';
import { isLocallyAdministered } from '../../../src/models/trust/oui.js';
import { parseMessage } from '../../../src/protocol/index.js';
import { evaluateDetections } from '../../../src/sim/traffic/detection-eval.js';
import { SIM_ANOMALY_TYPES, simulateTraffic } from '../../../src/sim/traffic/simulate-traffic.js';
import { trainAnomalyModel } from '../../../src/training/anomaly/train.js';

const HOUR = 3_600_000;

describe('simulated device behaviour traffic', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = simulateTraffic({ seed: 5, durationMs: 2 * HOUR, devices: 4, anomaliesPerType: 1 });
    const b = simulateTraffic({ seed: 5, durationMs: 2 * HOUR, devices: 4, anomaliesPerType: 1 });
    const c = simulateTraffic({ seed: 6, durationMs: 2 * HOUR, devices: 4, anomaliesPerType: 1 });
    expect(JSON.stringify(a.messages)).toBe(JSON.stringify(b.messages));
    expect(a.anomalies).toEqual(b.anomalies);
    expect(JSON.stringify(a.messages)).not.toBe(JSON.stringify(c.messages));
  });

  it('emits valid protocol messages in time order, and the events the worker derives from them', () => {
    const t = simulateTraffic({ seed: 1, durationMs: 6 * HOUR, devices: 6, anomaliesPerType: 1 });
    let last = 0;
    for (const m of t.messages) {
      const r = parseMessage(m);
      expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
      const ts = Date.parse(m.timestamp);
      expect(ts).toBeGreaterThanOrEqual(last);
      last = ts;
    }
    expect(new Set(t.messages.map((m) => m.type))).toEqual(
      new Set(['deviceJoin', 'deviceUpdate', 'deviceLeave']),
    );
    expect(t.events.length).toBeGreaterThan(t.messages.length);
    expect(t.events.every((e) => e.event.t >= t.start && e.event.t <= t.end)).toBe(true);
  });

  it('labels every injected anomaly: type, device, onset and end, after the anomaly-free baseline', () => {
    const t = simulateTraffic({
      seed: 2,
      durationMs: 12 * HOUR,
      devices: 8,
      anomalyFreeMs: 4 * HOUR,
      anomaliesPerType: 2,
    });
    expect(t.anomalies).toHaveLength(10);
    for (const type of SIM_ANOMALY_TYPES) expect(t.anomalies.filter((a) => a.type === type)).toHaveLength(2);
    const ids = new Set(t.devices.map((d) => d.deviceId));
    for (const a of t.anomalies) {
      expect(a.start).toBeGreaterThanOrEqual(t.start + 4 * HOUR);
      expect(a.end).toBeGreaterThan(a.start);
      expect(a.end).toBeLessThanOrEqual(t.end);
      if (a.type === 'rogue_scanner') {
        // A newcomer with a randomised MAC, seen only while it scans.
        expect(ids.has(a.deviceId)).toBe(false);
        expect(isLocallyAdministered(a.deviceId)).toBe(true);
        const times = t.events.filter((e) => e.deviceId === a.deviceId).map((e) => e.event.t);
        expect(Math.min(...times)).toBeGreaterThanOrEqual(a.start);
        expect(Math.max(...times)).toBeLessThanOrEqual(a.end);
      } else {
        expect(ids.has(a.deviceId)).toBe(true);
      }
    }
  });

  it('its anomalies are detectable: a model trained on the baseline finds them, typed, with few false alerts', () => {
    const t = simulateTraffic({
      seed: 3,
      durationMs: 30 * HOUR,
      devices: 6,
      anomalyFreeMs: 18 * HOUR,
      anomaliesPerType: 2,
    });
    const cut = t.start + 18 * HOUR;
    const model = trainAnomalyModel({ baseline: t.events.filter((e) => e.event.t < cut), seed: 0 });
    const report = evaluateDetections(model, t.events, t.anomalies, cut);
    expect(report.recall).toBeGreaterThanOrEqual(0.8);
    expect(report.precision).toBeGreaterThanOrEqual(0.7);
    for (const r of report.perType) {
      expect(r.injected).toBe(2);
      if (r.detected > 0) expect(r.medianDelayMs!).toBeLessThan(10 * 60_000);
    }
    const typed = report.alerts.filter((a) =>
      t.anomalies.some((x) => x.deviceId === a.deviceId && x.type === 'rogue_scanner'),
    );
    expect(typed.some((a) => a.anomalyType === 'rogue_scanner' || a.anomalyType === 'port_scan')).toBe(true);
  });
});
