import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gateAlert, INITIAL_ALERT_GATE } from '../../../src/models/anomaly/alert-gate.js';
import type { AnomalyModel } from '../../../src/models/anomaly/behaviour-model.js';
import { groupByDevice } from '../../../src/models/anomaly/device-event.js';
import { isIngestMessage, type Message, type MessageOf } from '../../../src/protocol/index.js';
import { simulateTraffic, type Traffic } from '../../../src/sim/traffic/simulate-traffic.js';
import { publishAnomalyVersion } from '../../../src/training/anomaly/model-io.js';
import { trainAnomalyModel } from '../../../src/training/anomaly/train.js';
import { readMetadata, writeMetadata } from '../../../src/training/model-dir.js';

const HOUR = 3_600_000;

export interface AnomalyScenario {
  traffic: Traffic;
  model: AnomalyModel;
  /** Epoch ms: the baseline ends here; live traffic is fed from here. */
  cut: number;
}

/**
 * Simulated behaviour traffic (4 devices, labelled anomalies after 15 h) and a behaviour model trained on its
 * first 12 hours — the real trainer, on small data.
 */
export function anomalyScenario(seed = 7): AnomalyScenario {
  const traffic = simulateTraffic({
    seed,
    durationMs: 24 * HOUR,
    devices: 4,
    anomalyFreeMs: 15 * HOUR,
    anomaliesPerType: 1,
    anomalyTypes: ['latency_spike', 'rogue_scanner', 'signal_drop'],
  });
  const cut = traffic.start + 12 * HOUR;
  const model = trainAnomalyModel({
    baseline: traffic.messages.filter((m) => Date.parse(m.timestamp) < cut),
    seed: 1,
  });
  return { traffic, model, cut };
}

/**
 * Publishes the model as a model directory's first version, with a stand-in positioning folder (not a model: a
 * file the retrained versions must carry over).
 */
export async function publishScenarioModel(root: string, model: AnomalyModel): Promise<string> {
  const { version, path } = await publishAnomalyVersion(root, model, { now: new Date(Date.UTC(2025, 5, 1)) });
  await mkdir(join(path, 'positioning'), { recursive: true });
  await writeFile(join(path, 'positioning', 'kept.txt'), 'carried over by retraining\n');
  await writeMetadata(path, { ...(await readMetadata(path)), positioning: { note: 'stand-in' } });
  return version;
}

export interface Feeder {
  /** Offers one message; returns false when the sink refused it. */
  offer(message: Message): boolean;
  /** Resolves when everything offered so far has been processed by the worker. */
  settle(): Promise<void>;
  /** Sets the worker's clock. */
  setNow(ms: number): void;
}

/**
 * Plays the traffic from `from` in time order on the worker's own clock, a minute at a time (the worker scores each
 * device once a minute), until `until` returns true or the traffic ends. Returns the time reached.
 */
export async function play(
  traffic: Traffic,
  from: number,
  feeder: Feeder,
  until: () => boolean,
  to = Number.POSITIVE_INFINITY,
): Promise<number> {
  let minute = Math.floor(from / 60_000);
  feeder.setNow(from);
  for (const m of traffic.messages) {
    const t = Date.parse(m.timestamp);
    if (t < from || !isIngestMessage(m)) continue;
    if (t > to) break;
    const mm = Math.floor(t / 60_000);
    if (mm !== minute) {
      await feeder.settle();
      if (until()) return minute * 60_000;
      minute = mm;
    }
    feeder.setNow(t);
    if (!feeder.offer(m)) throw new Error(`the sink refused a message at ${m.timestamp}`);
  }
  await feeder.settle();
  return minute * 60_000;
}

export function alertsIn(messages: readonly Message[]): Array<MessageOf<'anomalyDetected'>> {
  return messages.filter((m): m is MessageOf<'anomalyDetected'> => m.type === 'anomalyDetected');
}

/** What a worker records for retraining: every device scored once a minute, one alert per episode. */
export function scoreLikeTheWorker(
  traffic: Traffic,
  model: AnomalyModel,
  from: number,
  to: number,
): {
  windows: Array<{ deviceId: string; t: number; vector: number[]; anomalous: boolean }>;
  alerts: Array<{ anomalyId: string; deviceId: string; at: number }>;
} {
  const windows: Array<{ deviceId: string; t: number; vector: number[]; anomalous: boolean }> = [];
  const alerts: Array<{ anomalyId: string; deviceId: string; at: number }> = [];
  for (const [deviceId, list] of groupByDevice(traffic.events)) {
    let state = model.initialState(deviceId);
    let gate = INITIAL_ALERT_GATE;
    let i = 0;
    for (let t = from; t <= to; t += 60_000) {
      while (i < list.length && list[i]!.t <= t) state = model.observe(state, list[i++]!);
      const a = model.assessDetailed(state, t);
      if (a === null) continue;
      windows.push({ deviceId, t, vector: a.vector, anomalous: a.anomalous });
      const g = gateAlert(gate, a, t, model.data.config.windowMs);
      gate = g.gate;
      if (g.emit) alerts.push({ anomalyId: `${deviceId}@${t}`, deviceId, at: t });
    }
  }
  return { windows, alerts };
}
