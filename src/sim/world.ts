import type { AnchorReading } from '../models/contracts/positioning.js';
import type { Point } from '../models/positioning/geometry.js';
import { roomAt, type Site } from '../models/positioning/site.js';
import type { PingCalibration } from '../protocol/index.js';
import { crlbRmseAt } from './crlb.js';
import { Rng } from './prng.js';
import { type AnchorChannel, anchorChannels, type RadioParams } from './radio.js';
import { demoHomeScenario, espresenseScenario, type Scenario } from './scenarios.js';
import { stepWalker, type WalkerState } from './tracks.js';
import { type CalibrationWalkOptions, measureAt, simulateCalibrationWalk } from './walk.js';

// The simulated world the agent's simulator probe source drives: a site, its radio channel, devices that walk
// or stay put, and per-device per-anchor readings with the ground truth. Seeded: the same seed and the same calls
// give the same readings.

export interface SimulatedDevice {
  /** MAC-format id (locally administered). */
  id: string;
  label: string;
  deviceType: string;
  vendor: string;
  /** Walks between random points of the site (else stays where it is). */
  mobile: boolean;
}

export interface DeviceTruth {
  x: number;
  y: number;
  room?: string;
}

export interface DeviceStep {
  deviceId: string;
  truth: DeviceTruth;
  /** One reading per heard anchor, `t` = the world's time after the step. */
  readings: AnchorReading[];
}

export interface WorldStep {
  /** Epoch ms. */
  t: number;
  devices: DeviceStep[];
}

export type DeviceSpec = Omit<SimulatedDevice, 'id'> & { id?: string; at?: Point };

export interface SimulatedWorldOptions {
  /** `home` (default: 5 rooms with walls, mixed anchors), `espresense` (the peer's scenario) or a custom scenario. */
  scenario?: 'home' | 'espresense' | Scenario;
  /** Number of devices (default 5: 2 mobile, 3 static); ignored when `deviceSpecs` is given. */
  devices?: number;
  deviceSpecs?: readonly DeviceSpec[];
  /** Epoch ms at creation (default 2025-01-01T00:00:00Z). */
  startTime?: number;
  /** Walking speed range, m/s (default 0.6–1.4), and pause at each waypoint, ms (default 2–20 s). */
  speedMps?: [number, number];
  pauseMs?: [number, number];
}

export interface SimulatedWorld {
  readonly scenario: Scenario;
  readonly site: Site;
  readonly radio: RadioParams;
  /** Per-anchor truth of the channel (offsets, exponents) — what a fitted ranging model should recover. */
  readonly channels: ReadonlyMap<string, AnchorChannel>;
  /** Epoch ms. */
  now(): number;
  devices(): SimulatedDevice[];
  truth(deviceId: string): DeviceTruth | undefined;
  /** Advances time by dtMs, moves the mobile devices, and measures every device against every anchor. */
  step(dtMs: number): WorldStep;
  /** Puts a device somewhere else at once (e.g. to exercise `device_moved`). */
  teleport(deviceId: string, p: Point): void;
  /** `samples` noisy reading sets of every anchor from a point, as a calibration walk takes them (world time). */
  measureAt(p: Point, samples?: number): AnchorReading[][];
  /** A whole calibration walk as `pingCalibration` messages (its own noise stream; does not advance time). */
  calibrationWalk(options?: CalibrationWalkOptions): PingCalibration[];
  /** Single-fix Cramér–Rao bound at a point, m RMSE. */
  crlbAt(p: Point): number;
}

const TYPES: ReadonlyArray<Omit<SimulatedDevice, 'id'>> = [
  { label: 'Phone', deviceType: 'smartphone', vendor: 'Apple', mobile: true },
  { label: 'Laptop', deviceType: 'laptop', vendor: 'Lenovo', mobile: true },
  { label: 'SmartTV-Living', deviceType: 'smart_tv', vendor: 'Samsung Electronics', mobile: false },
  { label: 'Printer', deviceType: 'printer', vendor: 'HP', mobile: false },
  { label: 'Thermostat', deviceType: 'iot', vendor: 'Google', mobile: false },
  { label: 'Tablet', deviceType: 'tablet', vendor: 'Samsung Electronics', mobile: true },
];

function macFor(rng: Rng): string {
  const bytes = [0x02, rng.int(256), rng.int(256), rng.int(256), rng.int(256), rng.int(256)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function createSimulatedWorld(seed: number, options: SimulatedWorldOptions = {}): SimulatedWorld {
  const scenario =
    options.scenario === undefined || options.scenario === 'home'
      ? demoHomeScenario()
      : options.scenario === 'espresense'
        ? espresenseScenario()
        : options.scenario;
  const { site, radio } = scenario;
  const root = new Rng(seed);
  const channels = anchorChannels(site, radio, root.fork('channels'));
  const placeRng = root.fork('placement');
  const walkRng = root.fork('walkers');
  const noiseRng = root.fork('noise');
  const speed = options.speedMps ?? [0.6, 1.4];
  const pause = options.pauseMs ?? [2000, 20000];
  let now = options.startTime ?? Date.UTC(2025, 0, 1);

  const randomPoint = (rng: Rng): Point => {
    const { minX, minY, maxX, maxY } = site.bounds;
    for (let i = 0; i < 1000; i++) {
      const p = { x: rng.uniform(minX, maxX), y: rng.uniform(minY, maxY) };
      if (site.rooms.length === 0 || roomAt(site, p)) return p;
    }
    return { x: (minX + maxX) / 2, y: (minY + maxY) / 2 };
  };

  const specs: readonly DeviceSpec[] =
    options.deviceSpecs ?? Array.from({ length: options.devices ?? 5 }, (_, i) => TYPES[i % TYPES.length]!);
  const devices: SimulatedDevice[] = [];
  const state = new Map<string, WalkerState>();
  for (const spec of specs) {
    const id = spec.id ?? macFor(placeRng);
    const at = spec.at ?? randomPoint(placeRng);
    devices.push({
      id,
      label: spec.label,
      deviceType: spec.deviceType,
      vendor: spec.vendor,
      mobile: spec.mobile,
    });
    state.set(id, {
      x: at.x,
      y: at.y,
      target: randomPoint(placeRng),
      speed: placeRng.uniform(speed[0], speed[1]),
      pauseMs: 0,
    });
  }

  const truthOf = (w: WalkerState): DeviceTruth => {
    const room = roomAt(site, w);
    return { x: w.x, y: w.y, ...(room ? { room: room.id } : {}) };
  };

  return {
    scenario,
    site,
    radio,
    channels,
    now: () => now,
    devices: () => devices.map((d) => ({ ...d })),
    truth: (deviceId) => {
      const w = state.get(deviceId);
      return w ? truthOf(w) : undefined;
    },
    step(dtMs) {
      if (!(dtMs >= 0)) throw new RangeError(`step: dtMs must be ≥ 0, got ${dtMs}`);
      now += dtMs;
      const out: DeviceStep[] = [];
      for (const d of devices) {
        let w = state.get(d.id)!;
        if (d.mobile) {
          w = stepWalker(w, dtMs, randomPoint, walkRng, { speedMps: speed, pauseMs: pause });
          state.set(d.id, w);
        }
        out.push({
          deviceId: d.id,
          truth: truthOf(w),
          readings: measureAt(site, radio, channels, w, noiseRng, now),
        });
      }
      return { t: now, devices: out };
    },
    teleport(deviceId, p) {
      const w = state.get(deviceId);
      if (!w) throw new Error(`teleport: unknown device ${deviceId}`);
      state.set(deviceId, { ...w, x: p.x, y: p.y });
    },
    measureAt(p, samples = 1) {
      return Array.from({ length: samples }, () => measureAt(site, radio, channels, p, noiseRng, now));
    },
    calibrationWalk(walkOptions = {}) {
      return simulateCalibrationWalk(site, radio, channels, root.fork('walk'), {
        startTime: now,
        ...walkOptions,
      });
    },
    crlbAt(p) {
      return crlbRmseAt(radio, channels, p);
    },
  };
}
