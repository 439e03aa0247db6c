import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURE_CONFIG,
  type DeviceWindowState,
  FEATURE_GROUPS,
  FEATURE_NAMES,
  initialWindowState,
  observeEvent,
  windowFeatures,
} from '../../../src/models/anomaly/features.js';
import type { BehaviourEvent } from '../../../src/models/contracts/behaviour.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 5, 16);

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** A still device reporting every 30 s for `minutes`, RSSI −60 ± a little, at (5, 5). */
function steady(
  minutes: number,
  from = T0,
  extra: (t: number) => Partial<Extract<BehaviourEvent, { kind: 'update' }>> = () => ({}),
) {
  const events: BehaviourEvent[] = [{ kind: 'join', t: from, services: ['_ipp._tcp'] }];
  for (let t = from + 1000; t < from + minutes * MIN; t += 30_000) {
    const k = (t - from) / 30_000;
    events.push({
      kind: 'update',
      t,
      rssi: -60 + (k % 3) - 1,
      latency: 10 + (k % 2),
      packetLoss: 0,
      bandwidth: 5,
      ...extra(t),
    });
    events.push({ kind: 'location', t, x: 5 + ((k % 5) - 2) * 0.3, y: 5, uncertainty: 2 });
  }
  return events;
}

function fold(events: BehaviourEvent[], state: DeviceWindowState = initialWindowState('dev')) {
  return events.reduce((s, e) => observeEvent(s, e), state);
}

describe('behaviour features', () => {
  it('observe is pure and the state is plain JSON', () => {
    let state = initialWindowState('dev');
    for (const e of steady(20)) {
      const frozen = deepFreeze(state);
      const before = JSON.stringify(frozen);
      state = observeEvent(frozen, e);
      expect(JSON.stringify(frozen)).toBe(before);
    }
    const round = JSON.parse(JSON.stringify(state)) as DeviceWindowState;
    expect(round).toEqual(state);
    const now = T0 + 20 * MIN;
    expect(Array.from(windowFeatures(round, now)!.values)).toEqual(
      Array.from(windowFeatures(state, now)!.values),
    );
  });

  it('is null until the window has enough events, and keeps only the window', () => {
    const one = observeEvent(initialWindowState('d'), { kind: 'update', t: T0, rssi: -50 });
    expect(windowFeatures(one, T0)).toBeNull();
    const state = fold(steady(60));
    const span = state.buckets[state.buckets.length - 1]!.t - state.buckets[0]!.t;
    expect(span).toBeLessThanOrEqual(DEFAULT_FEATURE_CONFIG.windowMs + DEFAULT_FEATURE_CONFIG.bucketMs);
  });

  it("measures an RSSI drop against the device's own level, with a downward trend", () => {
    const history = fold(steady(180));
    const now = T0 + 180 * MIN;
    const base = windowFeatures(history, now)!;
    expect(Math.abs(base.raw.rssi_delta)).toBeLessThan(2);
    const dropped = fold(
      Array.from(
        { length: 10 },
        (_, i): BehaviourEvent => ({ kind: 'update', t: now + 1000 + i * 30_000, rssi: -60 - 4 * i }),
      ),
      history,
    );
    const f = windowFeatures(dropped, now + 5 * MIN)!;
    expect(f.raw.rssi_delta).toBeLessThan(-8);
    expect(f.raw.rssi_trend).toBeLessThan(-4);
    expect(f.raw.rssi_std).toBeGreaterThan(5);
  });

  it('computes RTT, jitter, loss, bandwidth, scans, services and time of day', () => {
    const now = T0 + 180 * MIN;
    const history = fold(steady(180));
    const later = fold(
      [
        {
          kind: 'update',
          t: now + 1000,
          latency: 300,
          packetLoss: 20,
          portScans: 12,
          connectionAttempts: 40,
          services: ['_ssh._tcp'],
        },
        { kind: 'probe', t: now + 2000, anchorId: 'a', success: false },
        { kind: 'leave', t: now + 3000, reason: 'timeout' },
        { kind: 'join', t: now + 4000 },
      ],
      history,
    );
    const f = windowFeatures(later, now + 5000)!;
    expect(f.raw.rtt_mean).toBeGreaterThan(20);
    expect(f.raw.rtt_jitter).toBeGreaterThan(10);
    expect(f.raw.packet_loss).toBeGreaterThan(1);
    expect(f.raw.port_scans).toBe(12);
    expect(f.raw.connection_attempts).toBe(40);
    expect(f.raw.new_services).toBe(1);
    expect(f.raw.flaps).toBe(1);
    expect(f.raw.hour_sin).toBeCloseTo(Math.sin((2 * Math.PI * 3) / 24), 2);
    expect(f.performance.latency).toBeGreaterThan(20);
  });

  it('counts failed pings as loss but not BLE sightings (rssi heard, no round trip)', () => {
    const now = T0 + 30 * MIN;
    const probes = (failedWithRssi: boolean): BehaviourEvent[] =>
      Array.from({ length: 20 }, (_, i): BehaviourEvent => {
        const t = now - 60_000 + i * 2000;
        if (i % 4 === 0) {
          return failedWithRssi
            ? { kind: 'probe', t, anchorId: 'ble', success: false, rssi: -70 }
            : { kind: 'probe', t, anchorId: 'gw', success: false };
        }
        return { kind: 'probe', t, anchorId: 'gw', success: true, rtt: 4, rssi: -60 };
      });
    const sightings = windowFeatures(fold(probes(true)), now)!;
    const lost = windowFeatures(fold(probes(false)), now)!;
    expect(sightings.raw.packet_loss).toBe(0);
    expect(sightings.performance.packetLoss).toBe(0);
    expect(lost.raw.packet_loss).toBeCloseTo(25, 5);
  });

  it('flags a stationary device that left its usual zone', () => {
    const history = fold(steady(180));
    const now = T0 + 180 * MIN;
    expect(windowFeatures(history, now)!.raw.moved).toBe(0);
    const moved = fold(
      Array.from(
        { length: 10 },
        (_, i): BehaviourEvent => ({
          kind: 'location',
          t: now + 1000 + i * 30_000,
          x: 15,
          y: 12,
          uncertainty: 2,
        }),
      ),
      history,
    );
    const f = windowFeatures(moved, now + 5 * MIN)!;
    expect(f.raw.zone_distance).toBeGreaterThan(10);
    expect(f.raw.moved).toBe(1);
  });

  it('time of day: traffic at an hour this device is usually quiet is off-hours activity, at a busy hour it is not', () => {
    // Two days of a device busy 08:00–20:00 UTC (100 kB every 30 s) and silent at night.
    const HOUR = 60 * MIN;
    const events: BehaviourEvent[] = [{ kind: 'join', t: T0 }];
    for (let t = T0 + 1000; t < T0 + 48 * HOUR; t += 30_000) {
      const hour = new Date(t).getUTCHours();
      events.push({ kind: 'update', t, latency: 10, dataVolume: hour >= 8 && hour < 20 ? 100_000 : 0 });
    }
    const history = fold(events);
    // The same 5 minutes of traffic (≈3.3 kB/s) at 03:00 and at 12:00 on the third day.
    const burst = (at: number) =>
      fold(
        Array.from(
          { length: 10 },
          (_, i): BehaviourEvent => ({
            kind: 'update',
            t: at + 1000 + i * 30_000,
            latency: 10,
            dataVolume: 100_000,
          }),
        ),
        history,
      );
    const night = T0 + 51 * HOUR;
    const noon = T0 + 60 * HOUR;
    const atNight = windowFeatures(burst(night), night + 5 * MIN)!;
    const atNoon = windowFeatures(burst(noon), noon + 5 * MIN)!;
    expect(atNight.raw.data_rate).toBeCloseTo(atNoon.raw.data_rate as number, 6);
    expect(atNight.raw.data_rate).toBeGreaterThan(1);
    expect(atNight.raw.off_hours_activity).toBeGreaterThan(1);
    expect(atNoon.raw.off_hours_activity).toBe(0);
    expect(atNight.raw.hour_cos).toBeCloseTo(Math.cos((2 * Math.PI * 3.08) / 24), 2);
    // An unusual hour stays unusual all hour: today's own bytes do not make it look usual (they join the profile
    // when the day is over) — else each new hour of an unusual day would open a fresh alert.
    const longNight = fold(
      Array.from(
        { length: 100 },
        (_, i): BehaviourEvent => ({
          kind: 'update',
          t: night + 1000 + i * 30_000,
          latency: 10,
          dataVolume: 100_000,
        }),
      ),
      history,
    );
    expect(windowFeatures(longNight, night + 50 * MIN)!.raw.off_hours_activity).toBeGreaterThan(1);
    // The next day, that night is part of the profile.
    const nextDay = fold([{ kind: 'update', t: night + 24 * HOUR, latency: 10, dataVolume: 0 }], longNight);
    const profile = nextDay.hourBytes!;
    expect(profile[3]).toBeGreaterThan(0);
    expect(nextDay.dayBytes!.every((v) => v === 0)).toBe(true);
    // Before a day of history there is no profile to call an hour quiet: 22 hours in, at a quiet hour, nothing.
    const late = T0 + 22 * HOUR;
    const young = fold(events.filter((e) => e.t < late));
    const early = fold(
      Array.from(
        { length: 10 },
        (_, i): BehaviourEvent => ({
          kind: 'update',
          t: late + 1000 + i * 30_000,
          latency: 10,
          dataVolume: 100_000,
        }),
      ),
      young,
    );
    expect(windowFeatures(early, late + 5 * MIN)!.raw.off_hours_activity).toBe(0);
  });

  it('groups cover every feature', () => {
    const covered = new Set(FEATURE_GROUPS.flatMap((g) => g.features));
    expect([...covered].sort()).toEqual([...FEATURE_NAMES].sort());
  });
});
