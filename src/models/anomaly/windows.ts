import type { BehaviourEvent } from '../contracts/behaviour.js';
import { type DeviceEvent, groupByDevice } from './device-event.js';
import {
  DEFAULT_FEATURE_CONFIG,
  type DeviceWindowState,
  FEATURE_NAMES,
  type FeatureConfig,
  type FeatureWindow,
  initialWindowState,
  observeEvent,
  windowFeatures,
} from './features.js';

/** One scored window of one device. */
export interface ScoredWindow {
  deviceId: string;
  /** Window end, epoch ms. */
  t: number;
  window: FeatureWindow;
}

export interface ReplayOptions {
  config?: FeatureConfig;
  /** Score every device at this cadence. @defaultValue 60000 */
  scoreIntervalMs?: number;
  /**
   * Skip each device's first windows (ms after its first event): its own references (usual RSSI, zone, hour
   * profile) are still forming. @defaultValue 0
   */
  warmupMs?: number;
  /** Skip windows ending inside these intervals (known anomalies), per device. */
  exclude?: ReadonlyArray<{ deviceId: string; from: number; to: number }>;
}

/**
 * Replays each device's events through the feature state and takes its window every `scoreIntervalMs` — what the
 * worker does live, so training sees the same windows the live model scores.
 */
export function replayWindows(
  events: Iterable<DeviceEvent>,
  options: ReplayOptions = {},
  onWindow?: (w: ScoredWindow, state: DeviceWindowState) => void,
): {
  windows: ScoredWindow[];
  perDevice: Map<string, ScoredWindow[]>;
  events: number;
  from: number;
  to: number;
} {
  const config = options.config ?? DEFAULT_FEATURE_CONFIG;
  const interval = options.scoreIntervalMs ?? 60_000;
  if (!(interval > 0)) throw new Error(`scoreIntervalMs must be > 0, got ${interval}`);
  const byDevice = groupByDevice(events);
  const windows: ScoredWindow[] = [];
  const perDevice = new Map<string, ScoredWindow[]>();
  let count = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const excluded = (deviceId: string, t: number) =>
    options.exclude?.some((x) => x.deviceId === deviceId && t >= x.from && t <= x.to) ?? false;
  for (const [deviceId, list] of byDevice) {
    const mine: ScoredWindow[] = [];
    let state = initialWindowState(deviceId);
    const first = list[0]!.t;
    const last = list[list.length - 1]!.t;
    from = Math.min(from, first);
    to = Math.max(to, last);
    count += list.length;
    let next = Math.ceil((first + 1) / interval) * interval;
    let i = 0;
    const take = (t: number) => {
      const window = windowFeatures(state, t, config);
      if (window === null || t - first < (options.warmupMs ?? 0) || excluded(deviceId, t)) return;
      const w = { deviceId, t, window };
      mine.push(w);
      windows.push(w);
      onWindow?.(w, state);
    };
    while (i < list.length) {
      const e: BehaviourEvent = list[i]!;
      if (e.t <= next) {
        state = observeEvent(state, e, config);
        i++;
        continue;
      }
      take(next);
      next += interval;
      // Long silences: jump to the next tick that has events in its window.
      if (list[i]!.t - next > config.windowMs) next = Math.ceil(list[i]!.t / interval) * interval;
    }
    if (next <= last + interval) take(next);
    perDevice.set(deviceId, mine);
  }
  return { windows, perDevice, events: count, from, to };
}

export { FEATURE_NAMES };
