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

  it('a state saved before dayBytes/day existed behaves as one with no day of bytes on the day of hourBytesT', () => {
    const HOUR = 60 * MIN;
    const DAY = 24 * HOUR;
    let offHoursSeen = 0;
    for (const utcOffsetMinutes of [0, 120, -300]) {
      const config = { ...DEFAULT_FEATURE_CONFIG, utcOffsetMinutes };
      // Two days of history, busy 08:00–20:00 UTC, so the hour profile makes some hours quiet.
      const history: BehaviourEvent[] = [{ kind: 'join', t: T0, services: ['_ipp._tcp'] }];
      for (let t = T0 + 1000; t < T0 + 2 * DAY; t += 5 * MIN) {
        const hour = new Date(t).getUTCHours();
        history.push({
          kind: 'update',
          t,
          rssi: -60,
          latency: 10,
          dataVolume: hour >= 8 && hour < 20 ? 1e6 : 0,
        });
      }
      // Then a day of probes only, so hourBytesT (the last fold) is on an earlier local day than lastT.
      for (let t = T0 + 2 * DAY; t < T0 + 3 * DAY; t += 10 * MIN) {
        history.push({ kind: 'probe', t, anchorId: 'gw', success: true, rtt: 5, rssi: -60 });
      }
      const current = history.reduce((s, e) => observeEvent(s, e, config), initialWindowState('dev'));
      // What a JSON round trip of a state saved before the fields existed gives: the keys are simply absent.
      const legacy = JSON.parse(JSON.stringify(current)) as Record<string, unknown>;
      delete legacy.dayBytes;
      delete legacy.day;
      expect(legacy).not.toHaveProperty('day');
      // The same state with the values the readers substituted for the missing fields.
      const explicit: DeviceWindowState = {
        ...(legacy as unknown as DeviceWindowState),
        dayBytes: null,
        day: Math.floor((current.hourBytesT + utcOffsetMinutes * MIN) / DAY),
      };
      // Else a fallback to the day of lastT (or of the first event) would pass unnoticed.
      expect(explicit.day).toBeLessThan(Math.floor((current.lastT + utcOffsetMinutes * MIN) / DAY));
      let a = deepFreeze(legacy as unknown as DeviceWindowState);
      let b = deepFreeze(explicit);
      // Bursts of six mixed events every 50 min for ~2 days (across local midnights), one late data volume.
      const start = T0 + 3 * DAY + 10 * MIN;
      for (let burst = 0; burst < 60; burst++) {
        const from = start + burst * 50 * MIN;
        const events: BehaviourEvent[] = [
          { kind: 'probe', t: from, anchorId: 'gw', success: true, rtt: 4 + (burst % 5), rssi: -61 },
          { kind: 'probe', t: from + 20_000, anchorId: 'gw', success: false },
          { kind: 'probe', t: from + 40_000, anchorId: 'ble', success: false, rssi: -72 },
          burst % 2 === 0
            ? { kind: 'leave', t: from + 60_000, reason: 'timeout' }
            : { kind: 'join', t: from + 60_000, services: ['_ipp._tcp', `_svc${burst % 4}._tcp`] },
          {
            kind: 'update',
            t: burst === 30 ? from - 2 * DAY : from + 80_000,
            rssi: -58 - (burst % 7),
            latency: 12,
            dataVolume: 250_000 + 1000 * burst,
            services: [`_svc${burst % 6}._tcp`],
          },
          { kind: 'update', t: from + 100_000, bandwidth: 5, packetLoss: burst % 3, dataVolume: 200_000 },
        ];
        for (const e of events) {
          expect(() => {
            a = deepFreeze(observeEvent(a, e, config));
            b = deepFreeze(observeEvent(b, e, config));
          }).not.toThrow();
          // The states too, not only the features: while dayBytes is null no reader looks at day, so a wrong
          // day fallback shows in the saved state only (the features below cannot tell).
          expect(a).toEqual(b);
        }
        const now = from + 110_000;
        const fa = windowFeatures(a, now, config);
        const fb = windowFeatures(b, now, config);
        expect(fa).not.toBeNull();
        expect(Array.from(fa!.values)).toEqual(Array.from(fb!.values));
        expect(fa!.raw).toEqual(fb!.raw);
        if ((fa!.raw.off_hours_activity as number) > 0) offHoursSeen++;
      }
    }
    // The hour profile (the reader of dayBytes/day) decided some of the compared features.
    expect(offHoursSeen).toBeGreaterThan(0);
  });

  it('groups cover every feature', () => {
    const covered = new Set(FEATURE_GROUPS.flatMap((g) => g.features));
    expect([...covered].sort()).toEqual([...FEATURE_NAMES].sort());
  });
});
