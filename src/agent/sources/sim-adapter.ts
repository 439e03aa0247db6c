// The one file of the agent that knows the project's simulators (src/sim for the site, radio and moving devices;
// src/sim/traffic for device behaviour with labelled anomalies). The simulated probe source only sees the small
// interfaces below, so a change in the simulators' API is absorbed here.
import { parseSite, roomAt, type Site } from '../../models/positioning/site.js';
import type { Message } from '../../protocol/index.js';
import { createSimulatedWorld, DEFAULT_RADIO, Rng, type Scenario } from '../../sim/index.js';
import { simulateTraffic } from '../../sim/traffic/simulate-traffic.js';

export type { Site };

export interface SimAnchor {
  id: string;
  kind: 'access_point' | 'gateway' | 'agent' | 'beacon' | undefined;
  x: number;
  y: number;
}

export interface SimReading {
  anchorId: string;
  rssi?: number;
  /** ms. */
  rtt?: number;
}

export interface SimBehaviourDevice {
  deviceId: string;
  macAddress: string;
  vendor: string;
  deviceType: string;
  hostname: string;
  mobile: boolean;
}

export interface SimAnomalyLabel {
  id: string;
  type: 'signal_drop' | 'interference' | 'rogue_scanner' | 'latency_spike' | 'device_moved';
  deviceId: string;
  /** Epoch ms. */
  start: number;
  end: number;
}

/** Positions and radio: devices that walk or stay, measured against every anchor. */
export interface RadioWorld {
  readonly site: Site;
  readonly anchors: readonly SimAnchor[];
  step(dtMs: number): {
    t: number;
    devices: { deviceId: string; x: number; y: number; readings: SimReading[] }[];
  };
  now(): number;
  truth(deviceId: string): { x: number; y: number; room?: string } | undefined;
  teleport(deviceId: string, p: { x: number; y: number }): void;
  /** `samples` reading sets of every anchor heard from a point. */
  measureAt(p: { x: number; y: number }, samples: number): SimReading[][];
  roomAt(p: { x: number; y: number }): string | undefined;
}

/** Behaviour: joins, leaves and updates (RSSI, performance, activity) with labelled anomalies, for one period. */
export interface BehaviourChunk {
  devices: SimBehaviourDevice[];
  /** Time-ordered. */
  messages: Message[];
  anomalies: SimAnomalyLabel[];
  end: number;
}

export interface BehaviourOptions {
  seed: number;
  devices: number;
  start: number;
  durationMs: number;
  updateIntervalMs: number;
  anomaliesPerType: number;
  anomalyFreeMs: number;
}

export function simulateBehaviour(o: BehaviourOptions): BehaviourChunk {
  const traffic = simulateTraffic({
    seed: o.seed,
    start: o.start,
    durationMs: o.durationMs,
    devices: o.devices,
    updateIntervalMs: o.updateIntervalMs,
    anomaliesPerType: o.anomaliesPerType,
    anomalyFreeMs: o.anomalyFreeMs,
  });
  return {
    devices: traffic.devices.map((d) => ({
      deviceId: d.deviceId,
      macAddress: d.macAddress,
      vendor: d.vendor,
      deviceType: d.deviceType,
      hostname: d.hostname,
      mobile: d.mobile,
    })),
    messages: traffic.messages,
    anomalies: traffic.anomalies.map((a) => ({ ...a })),
    end: traffic.end,
  };
}

export interface RadioWorldOptions {
  seed: number;
  /** A site file's content (parsed here), or the simulator's demo home. */
  site?: unknown;
  devices: readonly SimBehaviourDevice[];
  startTime: number;
}

/** Reads and checks a site file's content; throws with the offending path. */
export function loadSite(value: unknown): Site {
  const parsed = parseSite(value);
  if (!parsed.ok) throw new Error(`site file: ${parsed.error}`);
  return parsed.site;
}

export function createRadioWorld(o: RadioWorldOptions): RadioWorld {
  let scenario: 'home' | Scenario = 'home';
  if (o.site !== undefined) {
    const site = loadSite(o.site);
    scenario = {
      name: site.name ?? 'site',
      site,
      radio: { ...DEFAULT_RADIO },
      tracks: {},
      note: 'from --site',
    };
  }
  const world = createSimulatedWorld(o.seed, {
    scenario,
    deviceSpecs: o.devices.map((d) => ({
      id: d.deviceId,
      label: d.hostname,
      deviceType: d.deviceType,
      vendor: d.vendor,
      mobile: d.mobile,
    })),
    startTime: o.startTime,
  });
  const toReading = (r: { anchorId: string; rssi?: number; rtt?: number }): SimReading => ({
    anchorId: r.anchorId,
    ...(r.rssi === undefined ? {} : { rssi: r.rssi }),
    ...(r.rtt === undefined ? {} : { rtt: r.rtt }),
  });
  return {
    site: world.site,
    anchors: world.site.anchors.map((a) => ({ id: a.id, kind: a.kind, x: a.x, y: a.y })),
    step(dtMs) {
      const s = world.step(dtMs);
      return {
        t: s.t,
        devices: s.devices.map((d) => ({
          deviceId: d.deviceId,
          x: d.truth.x,
          y: d.truth.y,
          readings: d.readings.map(toReading),
        })),
      };
    },
    now: () => world.now(),
    truth: (id) => world.truth(id),
    teleport: (id, p) => world.teleport(id, p),
    measureAt: (p, samples) => world.measureAt(p, samples).map((set) => set.map(toReading)),
    roomAt: (p) => roomAt(world.site, p)?.id,
  };
}

/** A seeded random stream (the simulators' own generator), for the source's anomaly effects. */
export interface SimRandom {
  next(): number;
  gaussian(mean: number, sigma: number): number;
}

export function simRandom(seed: number, label: string): SimRandom {
  return new Rng(seed).fork(label);
}
