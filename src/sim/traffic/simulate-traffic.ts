import type { DeviceEvent } from '../../models/anomaly/device-event.js';
import { eventsFromMessage } from '../../models/anomaly/events-from-messages.js';
import { createRandom, gaussian, type Random } from '../../models/anomaly/random.js';
import type { Message, MessageOf } from '../../protocol/index.js';
import { FLOOR, makeDevices, randomMac, rssiAt, type SimDevice } from './devices.js';

/*
 * Seeded device behaviour traffic: a home or small office of devices that join, update (RSSI, location,
 * performance, activity) every interval and sometimes leave, with labelled anomalies injected into it. Output as
 * protocol messages (what an agent would send) and as the behaviour events the worker derives from them — the
 * events are made *from* the messages by the worker's own mapping, so the two can never disagree.
 */

export const SIM_ANOMALY_TYPES = [
  'signal_drop',
  'interference',
  'rogue_scanner',
  'latency_spike',
  'device_moved',
] as const;
export type SimAnomalyType = (typeof SIM_ANOMALY_TYPES)[number];

export interface LabelledAnomaly {
  id: string;
  type: SimAnomalyType;
  deviceId: string;
  /** Epoch ms; the anomaly is in the traffic from `start` to `end`. */
  start: number;
  end: number;
}

export interface TrafficOptions {
  /** @defaultValue 0 */
  seed?: number;
  /** Epoch ms. @defaultValue 2025-06-16T00:00:00Z */
  start?: number;
  /** @defaultValue 1 day */
  durationMs?: number;
  /** @defaultValue 16 */
  devices?: number;
  /** @defaultValue 30000 */
  updateIntervalMs?: number;
  /** Anomalies start only after this much normal traffic (the baseline period). @defaultValue 0 */
  anomalyFreeMs?: number;
  /** @defaultValue 0 */
  anomaliesPerType?: number;
  /** @defaultValue all five */
  anomalyTypes?: readonly SimAnomalyType[];
  /** @defaultValue 'sim_agent_001' */
  agentId?: string;
}

export interface Traffic {
  devices: SimDevice[];
  /** Time-ordered. */
  messages: Message[];
  /** Time-ordered; derived from `messages`. */
  events: DeviceEvent[];
  anomalies: LabelledAnomaly[];
  start: number;
  end: number;
}

const MIN = 60_000;
const HOUR = 3_600_000;

const DURATION: Record<SimAnomalyType, [number, number]> = {
  signal_drop: [10 * MIN, 30 * MIN],
  interference: [10 * MIN, 30 * MIN],
  latency_spike: [5 * MIN, 20 * MIN],
  rogue_scanner: [10 * MIN, 20 * MIN],
  device_moved: [2 * HOUR, 4 * HOUR],
};

interface Effect {
  anomaly: LabelledAnomaly;
  /** signal_drop depth (dB), latency added (ms), interference loss (%), moved-to position. */
  magnitude: number;
  to?: { x: number; y: number };
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function poisson(random: Random, mean: number): number {
  // Knuth; means here are small.
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random.next();
  while (p > limit) {
    k++;
    p *= random.next();
  }
  return k;
}

function inHours(t: number, [from, to]: readonly [number, number]): boolean {
  const h = new Date(t).getUTCHours();
  return from <= to ? h >= from && h <= to : h >= from || h <= to;
}

export function simulateTraffic(options: TrafficOptions = {}): Traffic {
  const seed = options.seed ?? 0;
  const random = createRandom(seed);
  const start = options.start ?? Date.UTC(2025, 5, 16);
  const duration = options.durationMs ?? 24 * HOUR;
  const end = start + duration;
  const interval = options.updateIntervalMs ?? 30_000;
  const agentId = options.agentId ?? 'sim_agent_001';
  const devices = makeDevices(random, options.devices ?? 16);
  const anomalies = placeAnomalies(random, devices, {
    from: start + (options.anomalyFreeMs ?? 0),
    to: end,
    perType: options.anomaliesPerType ?? 0,
    types: options.anomalyTypes ?? SIM_ANOMALY_TYPES,
    interval,
  });
  const messages: Message[] = [];
  for (const device of devices) {
    const effects: Effect[] = anomalies
      .filter((a) => a.deviceId === device.deviceId)
      .map((a) => effectOf(random, a, device));
    messages.push(...deviceTraffic(random, device, effects, { start, end, interval, agentId }));
  }
  for (const a of anomalies.filter((x) => x.type === 'rogue_scanner')) {
    messages.push(...rogueTraffic(random, a, interval, agentId));
  }
  // Stable sort by time: per-device order is preserved.
  const keyed = messages.map((m, i) => ({ m, t: Date.parse(m.timestamp), i }));
  keyed.sort((a, b) => a.t - b.t || a.i - b.i);
  const sorted = keyed.map((k) => k.m);
  return {
    devices,
    messages: sorted,
    events: sorted.flatMap(eventsFromMessage),
    anomalies: anomalies.sort((a, b) => a.start - b.start),
    start,
    end,
  };
}

function placeAnomalies(
  random: Random,
  devices: SimDevice[],
  o: { from: number; to: number; perType: number; types: readonly SimAnomalyType[]; interval: number },
): LabelledAnomaly[] {
  const out: LabelledAnomaly[] = [];
  const busy = new Map<string, Array<[number, number]>>();
  let n = 0;
  for (const type of o.types) {
    for (let k = 0; k < o.perType; k++) {
      const [dMin, dMax] = DURATION[type];
      const length = dMin + random.next() * (dMax - dMin);
      const latest = o.to - length - 10 * MIN;
      if (latest <= o.from) break;
      for (let attempt = 0; attempt < 100; attempt++) {
        const t0 = Math.round(o.from + random.next() * (latest - o.from));
        let deviceId: string;
        if (type === 'rogue_scanner') {
          deviceId = randomMac(random, null, true);
        } else {
          // Anomalies on devices that stay on the network; a move needs a device that normally stays put.
          const pool = devices.filter(
            (d) => d.awayHours === undefined && (type !== 'device_moved' || !d.mobile),
          );
          deviceId = pool[random.int(pool.length)]!.deviceId;
        }
        const margin = 30 * MIN;
        const taken = busy.get(deviceId) ?? [];
        if (taken.some(([a, b]) => t0 < b + margin && t0 + length > a - margin)) continue;
        taken.push([t0, t0 + length]);
        busy.set(deviceId, taken);
        out.push({ id: `sim_anomaly_${++n}`, type, deviceId, start: t0, end: Math.round(t0 + length) });
        break;
      }
    }
  }
  return out;
}

function effectOf(random: Random, anomaly: LabelledAnomaly, device: SimDevice): Effect {
  switch (anomaly.type) {
    case 'signal_drop':
      return { anomaly, magnitude: 15 + 10 * random.next() };
    case 'interference':
      return { anomaly, magnitude: 5 + 15 * random.next() };
    case 'latency_spike':
      return { anomaly, magnitude: 100 + 300 * random.next() };
    case 'device_moved': {
      // Somewhere at least 6 m away, on the floor.
      for (;;) {
        const x = 1 + random.next() * (FLOOR.width - 2);
        const y = 1 + random.next() * (FLOOR.height - 2);
        if (Math.hypot(x - device.home.x, y - device.home.y) >= 6)
          return { anomaly, magnitude: 0, to: { x, y } };
      }
    }
    case 'rogue_scanner':
      return { anomaly, magnitude: 0 };
  }
}

function deviceTraffic(
  random: Random,
  device: SimDevice,
  effects: Effect[],
  o: { start: number; end: number; interval: number; agentId: string },
): Message[] {
  const out: Message[] = [];
  const phase = Math.floor(random.next() * o.interval);
  let present = false;
  let pos = { ...device.home };
  let target = { ...device.home };
  let drift = 0;
  let awayToday = false;
  let day = -1;
  for (let t = o.start + phase; t < o.end; t += o.interval) {
    const d = Math.floor(t / (24 * HOUR));
    if (d !== day) {
      day = d;
      const weekday = new Date(t).getUTCDay() % 6 !== 0;
      awayToday = device.awayHours !== undefined && weekday && random.next() < 0.7;
    }
    const away = awayToday && device.awayHours !== undefined && inHours(t, device.awayHours);
    if (away && present) {
      out.push(
        msg('deviceLeave', t, o.agentId, {
          deviceId: device.deviceId,
          reason: 'disconnected',
          lastSeen: iso(t),
        }),
      );
      present = false;
    }
    if (away) continue;
    if (!present) {
      out.push(joinMessage(device, t, o.agentId, rssiAt(pos.x, pos.y)));
      present = true;
    }
    const active = effects.filter((e) => t >= e.anomaly.start && t < e.anomaly.end);
    const effect = (type: SimAnomalyType) => active.find((e) => e.anomaly.type === type);
    if (device.mobile) {
      if (random.next() < 0.05) {
        target = { x: 1 + random.next() * (FLOOR.width - 2), y: 1 + random.next() * (FLOOR.height - 2) };
      }
      const step = 0.5 * (o.interval / 1000) * 0.2;
      const dist = Math.hypot(target.x - pos.x, target.y - pos.y);
      if (dist > step)
        pos = {
          x: pos.x + ((target.x - pos.x) * step) / dist,
          y: pos.y + ((target.y - pos.y) * step) / dist,
        };
      else pos = { ...target };
    } else {
      pos = effect('device_moved')?.to ?? device.home;
    }
    drift = 0.95 * drift + 0.6 * gaussian(random);
    let rssi = rssiAt(pos.x, pos.y) + drift + 2 * gaussian(random);
    let latency = device.baseLatency * Math.exp(0.25 * gaussian(random));
    let loss = Math.max(0, device.baseLoss + 0.2 * gaussian(random));
    const activity = inHours(t, device.activeHours) ? 1 : 0.15;
    const bandwidth = device.baseBandwidth * (0.3 + 0.7 * activity) * Math.exp(0.3 * gaussian(random));
    const drop = effect('signal_drop');
    if (drop) rssi -= drop.magnitude;
    const interference = effect('interference');
    if (interference) {
      rssi += 7 * gaussian(random);
      loss += interference.magnitude * (0.5 + random.next());
      latency *= Math.exp(0.9 * Math.abs(gaussian(random)));
    }
    const spike = effect('latency_spike');
    if (spike) latency += spike.magnitude * (0.7 + 0.6 * random.next());
    const intervalS = o.interval / 1000;
    out.push(
      msg('deviceUpdate', t, o.agentId, {
        deviceId: device.deviceId,
        rssi: round(clamp(rssi, -110, -20), 1),
        location: {
          x: round(pos.x + gaussian(random)),
          y: round(pos.y + gaussian(random)),
          confidence: 0.8,
          uncertainty: 2.5,
        },
        performance: {
          latency: round(latency),
          packetLoss: round(clamp(loss, 0, 100)),
          bandwidth: round(bandwidth, 3),
        },
        activity: {
          portScans: 0,
          connectionAttempts: poisson(random, device.connectionRate),
          dataVolume: Math.round(((bandwidth * 1e6) / 8) * intervalS * 0.05 * random.next()),
          services: device.services,
          intervalSeconds: intervalS,
        },
      }),
    );
  }
  return out;
}

function rogueTraffic(random: Random, a: LabelledAnomaly, interval: number, agentId: string): Message[] {
  const out: Message[] = [];
  const pos = { x: 1 + random.next() * (FLOOR.width - 2), y: 1 + random.next() * (FLOOR.height - 2) };
  out.push(
    msg('deviceJoin', a.start, agentId, {
      deviceId: a.deviceId,
      macAddress: a.deviceId,
      rssi: round(rssiAt(pos.x, pos.y), 1),
    }),
  );
  for (let t = a.start + 1000; t < a.end; t += interval) {
    out.push(
      msg('deviceUpdate', t, agentId, {
        deviceId: a.deviceId,
        rssi: round(clamp(rssiAt(pos.x, pos.y) + 2 * gaussian(random), -110, -20), 1),
        location: {
          x: round(pos.x + gaussian(random)),
          y: round(pos.y + gaussian(random)),
          confidence: 0.8,
          uncertainty: 2.5,
        },
        performance: {
          latency: round(8 * Math.exp(0.25 * gaussian(random))),
          packetLoss: 0,
          bandwidth: round(2 + random.next(), 3),
        },
        activity: {
          portScans: 5 + random.int(36),
          connectionAttempts: 10 + random.int(71),
          dataVolume: 20_000 + random.int(200_000),
          intervalSeconds: interval / 1000,
        },
      }),
    );
  }
  out.push(
    msg('deviceLeave', a.end, agentId, { deviceId: a.deviceId, reason: 'timeout', lastSeen: iso(a.end) }),
  );
  return out;
}

function joinMessage(device: SimDevice, t: number, agentId: string, rssi: number): Message {
  return msg('deviceJoin', t, agentId, {
    deviceId: device.deviceId,
    macAddress: device.macAddress,
    vendor: device.vendor,
    deviceType: device.deviceType,
    hostname: device.hostname,
    rssi: round(clamp(rssi, -110, -20), 1),
    services: device.services,
  });
}

function msg<T extends 'deviceJoin' | 'deviceLeave' | 'deviceUpdate'>(
  type: T,
  t: number,
  agentId: string,
  data: MessageOf<T>['data'],
): Message {
  return { type, agentId, timestamp: iso(t), data } as Message;
}
