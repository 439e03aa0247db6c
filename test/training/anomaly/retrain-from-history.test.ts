import { beforeAll, describe, expect, it } from 'vitest';
import { gateAlert, INITIAL_ALERT_GATE } from '../../../src/models/anomaly/alert-gate.js';
import type { AnomalyModel } from '../../../src/models/anomaly/behaviour-model.js';
import { groupByDevice } from '../../../src/models/anomaly/device-event.js';
import type { FeedbackRecord } from '../../../src/models/anomaly/feedback.js';
import { deserialiseAnomalyModel, serialiseAnomalyModel } from '../../../src/models/anomaly/model-codec.js';
import { simulateTraffic, type Traffic } from '../../../src/sim/traffic/simulate-traffic.js';
import {
  type HistoryAlert,
  type HistoryWindow,
  retrainFromHistory,
  selectNormalHistory,
} from '../../../src/training/anomaly/retrain-from-history.js';
import { trainAnomalyModel } from '../../../src/training/anomaly/train.js';

const HOUR = 3_600_000;
let traffic: Traffic;
let model: AnomalyModel;
let windows: HistoryWindow[];
let alerts: HistoryAlert[];

/** What a worker records: every device scored once a minute, one alert per episode (as processBatch does). */
function scoreLikeTheWorker(m: AnomalyModel, from: number, to: number) {
  const out: HistoryWindow[] = [];
  const raised: HistoryAlert[] = [];
  for (const [deviceId, list] of groupByDevice(traffic.events)) {
    let state = m.initialState(deviceId);
    let gate = INITIAL_ALERT_GATE;
    let i = 0;
    for (let t = from; t <= to; t += 60_000) {
      while (i < list.length && list[i]!.t <= t) state = m.observe(state, list[i++]!);
      const a = m.assessDetailed(state, t);
      if (a === null) continue;
      out.push({ deviceId, t, vector: a.vector, anomalous: a.anomalous });
      const g = gateAlert(gate, a, t, m.data.config.windowMs);
      gate = g.gate;
      if (g.emit) raised.push({ anomalyId: `${deviceId}@${t}`, deviceId, at: t });
    }
  }
  return { windows: out, alerts: raised };
}

beforeAll(() => {
  traffic = simulateTraffic({
    seed: 5,
    durationMs: 30 * HOUR,
    devices: 4,
    anomalyFreeMs: 14 * HOUR,
    anomaliesPerType: 1,
  });
  const cut = traffic.start + 12 * HOUR;
  model = trainAnomalyModel({
    baseline: traffic.messages.filter((m) => Date.parse(m.timestamp) < cut),
    seed: 3,
  });
  ({ windows, alerts } = scoreLikeTheWorker(model, cut, traffic.start + 30 * HOUR));
});

describe('retraining from the windows the worker recorded', () => {
  it('leaves out anomalous episodes and the surroundings of alerts nobody called fine', () => {
    expect(alerts.length).toBeGreaterThan(0);
    const windowMs = model.data.config.windowMs;
    const none = selectNormalHistory({ windows, alerts, feedback: [] }, windowMs);
    const anomalous = windows.filter((w) => w.anomalous).length;
    expect(anomalous).toBeGreaterThan(0);
    expect(none.excluded).toBeGreaterThanOrEqual(anomalous);
    expect(none.windows + none.excluded).toBe(windows.length);
    // A window scored twice (a batch replayed after a crash) counts once.
    const twice = selectNormalHistory({ windows: [...windows, ...windows], alerts, feedback: [] }, windowMs);
    expect(twice.windows).toBe(none.windows);
    // Calling an alert fine keeps its episode as normal history.
    const first = alerts[0]!;
    const fine: FeedbackRecord = {
      anomalyId: first.anomalyId,
      deviceId: first.deviceId,
      verdict: 'fine',
      at: first.at,
      receivedAt: first.at + 1000,
    };
    const withFine = selectNormalHistory({ windows, alerts, feedback: [fine] }, windowMs);
    expect(withFine.windows).toBeGreaterThan(none.windows);
    // …and calling it real again takes it back out.
    const real = {
      ...fine,
      verdict: 'real' as const,
      replaces: 'fine' as const,
      receivedAt: fine.receivedAt + 1,
    };
    expect(selectNormalHistory({ windows, alerts, feedback: [fine, real] }, windowMs).windows).toBe(
      none.windows,
    );
  });

  it('fits a new model that keeps the config, imputation, budget and feedback, and says what it saw', () => {
    const taught = model.applyFeedback({ verdict: 'fine', anomalyType: 'interference' });
    const next = retrainFromHistory(
      taught,
      { windows, alerts, feedback: [] },
      { seed: 4, feedbackThrough: 7 },
    );
    expect(next.data.summary.source).toBe('recent-history');
    expect(next.data.summary.windows).toBeGreaterThan(500);
    expect(next.data.summary.excludedWindows).toBeGreaterThan(0);
    expect(next.data.summary.devices).toBe(new Set(windows.map((w) => w.deviceId)).size);
    expect(next.data.feedbackThrough).toBe(7);
    expect(next.data.config).toEqual(model.data.config);
    expect(next.data.impute).toEqual(model.data.impute);
    expect(next.data.params.falseAlertsPerWeek).toBe(model.data.params.falseAlertsPerWeek);
    expect(next.data.groups[0]!.thresholds.typeFactor.interference).toBeCloseTo(0.7, 12);
    // Same features: the worker keeps its devices' states across the new version.
    expect(next.stateVersion).toBe(model.stateVersion);
    // The forests are new.
    expect(next.data.groups[0]!.forest.threshold).not.toEqual(model.data.groups[0]!.forest.threshold);
    // feedbackThrough survives saving.
    const back = deserialiseAnomalyModel(JSON.parse(JSON.stringify(serialiseAnomalyModel(next))));
    expect(back.data.feedbackThrough).toBe(7);
    // The retrained model still finds the injected anomalies it was not trained on.
    const rogue = traffic.anomalies.find((a) => a.type === 'rogue_scanner')!;
    const list = groupByDevice(traffic.events).get(rogue.deviceId)!;
    let s = next.initialState(rogue.deviceId);
    for (const e of list) if (e.t <= rogue.start + 4 * 60_000) s = next.observe(s, e);
    expect(next.assessDetailed(s, rogue.start + 4 * 60_000)?.anomalous).toBe(true);
  });

  it('refuses a history too small to fit', () => {
    expect(() =>
      retrainFromHistory(model, { windows: windows.slice(0, 20), alerts: [], feedback: [] }, { seed: 1 }),
    ).toThrow(/need at least 50/);
  });
});
