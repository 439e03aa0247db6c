import { type AlertGateState, gateAlert, INITIAL_ALERT_GATE } from '../../models/anomaly/alert-gate.js';
import type { AnomalyModel } from '../../models/anomaly/behaviour-model.js';
import { type DeviceEvent, groupByDevice } from '../../models/anomaly/device-event.js';
import type { AnomalyType } from '../../protocol/index.js';
import { type LabelledAnomaly, SIM_ANOMALY_TYPES, type SimAnomalyType } from './simulate-traffic.js';

/** An alert the worker would have sent (anomalyDetected). */
export interface SimAlert {
  deviceId: string;
  t: number;
  anomalyType: AnomalyType;
  score: number;
  /** The feature group that flagged it. */
  group: string;
}

export interface TypeResult {
  type: SimAnomalyType;
  injected: number;
  detected: number;
  recall: number;
  /** Alerts typed as this kind that fell in an injected anomaly of this kind / alerts typed as this kind. */
  precision: number | null;
  /** Onset → first alert, ms, over detected anomalies. */
  medianDelayMs: number | null;
  maxDelayMs: number | null;
}

export interface DetectionReport {
  alerts: SimAlert[];
  truePositiveAlerts: number;
  falseAlerts: number;
  /** Over all alerts. */
  precision: number;
  recall: number;
  /** False alerts per week over the scored period. */
  falseAlertsPerWeek: number;
  perType: TypeResult[];
}

/** The protocol types an alert may carry for each simulated kind (interference often shows as packet loss). */
const TYPE_MATCH: Record<SimAnomalyType, readonly AnomalyType[]> = {
  signal_drop: ['signal_drop'],
  interference: ['interference', 'packet_loss'],
  rogue_scanner: ['rogue_scanner', 'port_scan'],
  latency_spike: ['latency_spike'],
  device_moved: ['device_moved'],
};

/**
 * Runs the model over the traffic as the worker would — observe every event, assess every device at the model's
 * cadence, one alert per episode through the alert gate — scoring from `scoreFrom` on, and matches alerts to the
 * labels: an alert on a device during an anomaly (or within one window after it ends) detects it.
 */
export function evaluateDetections(
  model: AnomalyModel,
  events: readonly DeviceEvent[],
  anomalies: readonly LabelledAnomaly[],
  scoreFrom: number,
): DetectionReport {
  const interval = model.data.params.scoreIntervalMs;
  const windowMs = model.data.config.windowMs;
  const alerts: SimAlert[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const [deviceId, list] of groupByDevice(events)) {
    let state = model.initialState(deviceId);
    let gate: AlertGateState = INITIAL_ALERT_GATE;
    let tick = Math.ceil((list[0]!.t + 1) / interval) * interval;
    let i = 0;
    const endT = list[list.length - 1]!.t + interval;
    while (tick <= endT) {
      while (i < list.length && list[i]!.t <= tick) state = model.observe(state, list[i++]!);
      if (tick >= scoreFrom) {
        first = Math.min(first, tick);
        last = Math.max(last, tick);
        const a = model.assessDetailed(state, tick);
        if (a !== null) {
          const g = gateAlert(gate, a, tick, windowMs);
          gate = g.gate;
          if (g.emit)
            alerts.push({
              deviceId,
              t: tick,
              anomalyType: a.anomalyType ?? 'behavior_change',
              score: a.anomalyScore,
              group: a.group,
            });
        }
      }
      tick += interval;
      if (i < list.length && list[i]!.t - tick > windowMs) tick = Math.ceil(list[i]!.t / interval) * interval;
    }
  }
  const scored = anomalies.filter((a) => a.start >= scoreFrom);
  const matchOf = (alert: SimAlert) =>
    scored.find((a) => a.deviceId === alert.deviceId && alert.t >= a.start && alert.t <= a.end + windowMs);
  let tp = 0;
  for (const alert of alerts) if (matchOf(alert)) tp++;
  const perType: TypeResult[] = SIM_ANOMALY_TYPES.map((type) => {
    const mine = scored.filter((a) => a.type === type);
    const delays: number[] = [];
    for (const a of mine) {
      const hit = alerts.find((x) => x.deviceId === a.deviceId && x.t >= a.start && x.t <= a.end + windowMs);
      if (hit) delays.push(hit.t - a.start);
    }
    delays.sort((p, q) => p - q);
    const typed = alerts.filter((x) => TYPE_MATCH[type].includes(x.anomalyType));
    const typedRight = typed.filter((x) => matchOf(x)?.type === type).length;
    return {
      type,
      injected: mine.length,
      detected: delays.length,
      recall: mine.length > 0 ? delays.length / mine.length : 0,
      precision: typed.length > 0 ? typedRight / typed.length : null,
      medianDelayMs: delays.length > 0 ? delays[Math.floor((delays.length - 1) / 2)]! : null,
      maxDelayMs: delays.length > 0 ? delays[delays.length - 1]! : null,
    };
  });
  const detected = perType.reduce((s, r) => s + r.detected, 0);
  const weeks = Math.max(last - first, interval) / (7 * 24 * 3_600_000);
  return {
    alerts,
    truePositiveAlerts: tp,
    falseAlerts: alerts.length - tp,
    precision: alerts.length > 0 ? tp / alerts.length : 1,
    recall: scored.length > 0 ? detected / scored.length : 0,
    falseAlertsPerWeek: (alerts.length - tp) / weeks,
    perType,
  };
}
