import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Draft } from '../../../src/agent/probe-source.js';
import { SimulatedSource } from '../../../src/agent/sources/simulated-source.js';
import { eventsFromMessage } from '../../../src/models/anomaly/events-from-messages.js';
import type { DeviceProfile } from '../../../src/models/contracts/behaviour.js';
import { newProfile, updateProfile } from '../../../src/models/trust/profile.js';
import { createTrustModel } from '../../../src/models/trust/trust-model.js';
import { type Message, makeMessage, parseMessage } from '../../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

/**
 * A source started at `start`, run for `seconds` on a fake clock: what it emitted and when, and the messages the
 * protocol would refuse.
 */
function runFrom(start: number, seconds: number, options: ConstructorParameters<typeof SimulatedSource>[0]) {
  const clock = new FakeClock(start);
  const drafts: Draft[] = [];
  const at: number[] = [];
  const invalid: string[] = [];
  let seq = 0;
  const source = new SimulatedSource(options);
  void source.start({
    clock,
    logger: pino({ level: 'silent' }),
    emit: (d) => {
      drafts.push(d);
      at.push(clock.now());
      const check = parseMessage(
        makeMessage(d.type, 'sim_test_agent', d.data as never, new Date(clock.now())),
      );
      if (!check.ok) invalid.push(`${d.type}: ${check.error.message}`);
      return check.ok;
    },
    nextSequence: () => seq++,
  });
  for (let s = 0; s < seconds; s++) clock.advance(1000);
  void source.stop();
  const of = <T extends Draft['type']>(type: T) =>
    drafts.filter((d): d is Extract<Draft, { type: T }> => d.type === type);
  return { drafts, at, invalid, of, source, clock };
}

/** `minutes` of a source started on a Monday at 10:00 UTC. */
function run(seed: number, minutes: number, options: ConstructorParameters<typeof SimulatedSource>[0] = {}) {
  return runFrom(Date.UTC(2025, 5, 16, 10, 0, 0), minutes * 60, { seed, ...options });
}

describe('SimulatedSource', () => {
  it('produces valid per-device, per-anchor probes and device behaviour, at the configured rate', () => {
    const { invalid, of, source } = run(7, 10, { devices: 4, rate: 2 });
    expect(invalid).toEqual([]);
    const anchors = new Set(source.anchors());
    const pings = of('pingResult');
    // 2 probes/s over 10 minutes, minus the devices that are away; never above the rate.
    expect(pings.length).toBeGreaterThan(300);
    expect(pings.length).toBeLessThanOrEqual(2 * 600 + 50);
    for (const p of pings) {
      expect(anchors.has(p.data.targetIp)).toBe(true);
      expect(p.data.deviceId).toBeDefined();
      if (p.data.success) expect(p.data.rtt).toBeGreaterThanOrEqual(0);
    }
    expect(pings.some((p) => p.data.rssi !== undefined && p.data.rtt !== undefined)).toBe(true);
    const seqs = pings.map((p) => p.data.sequenceNumber);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const joined = new Set(of('deviceJoin').map((j) => j.data.deviceId));
    expect(joined.size).toBeGreaterThan(0);
    // Every probed device joined first.
    for (const p of pings) expect(joined.has(p.data.deviceId!)).toBe(true);
    const updates = of('deviceUpdate');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((u) => u.data.location === undefined)).toBe(true);
    expect(updates.some((u) => u.data.activity?.connectionAttempts !== undefined && u.data.performance)).toBe(
      true,
    );
    for (const j of of('deviceJoin')) expect(j.data).toMatchObject({ trustLevel: 'unknown' });
  });

  it('announces the devices already on the network at start, as a first scan would, and probes them at once', () => {
    const { drafts } = runFrom(Date.UTC(2025, 5, 16, 10, 0, 0), 1, { seed: 1, devices: 5 });
    const joined = drafts.flatMap((d) => (d.type === 'deviceJoin' ? [d.data.deviceId] : []));
    const probed = new Set(
      drafts.flatMap((d) => (d.type === 'pingResult' && d.data.deviceId ? [d.data.deviceId] : [])),
    );
    expect(joined.length).toBeGreaterThan(0);
    expect(probed.size).toBeGreaterThan(0);
    for (const id of probed) expect(joined).toContain(id);
  });

  it('restarting does not change the network: who is home at a moment depends on the seed and the clock only', () => {
    const options = { seed: 2, devices: 3, updateIntervalSeconds: 5 };
    // A Thursday morning: devices with working hours are away on most weekdays.
    const t1 = Date.UTC(2026, 10, 26, 9, 50, 0);
    const minutes = 20;
    const long = runFrom(t1, minutes * 60, options);
    const presentAt = (until: number) => {
      const present = new Set<string>();
      for (const [i, d] of long.drafts.entries()) {
        if (long.at[i]! > until) break;
        if (d.type === 'deviceJoin') present.add(d.data.deviceId);
        if (d.type === 'deviceLeave') present.delete(d.data.deviceId);
      }
      return [...present].sort();
    };
    expect(presentAt(t1).length).toBeGreaterThan(0);
    for (const after of [0.25, 2, 5, 9.75, 10, 10.5, 11, 17]) {
      const t2 = t1 + after * 60_000;
      const restarted = runFrom(t2, 1, options);
      const joinedAtOnce = restarted.drafts.flatMap((d) =>
        d.type === 'deviceJoin' ? [d.data.deviceId] : [],
      );
      expect(joinedAtOnce.sort(), `restarted ${after} min later`).toEqual(presentAt(t2));
    }
  });

  it('is reproducible: same seed and clock, same messages; another seed, other messages', () => {
    const a = run(3, 3);
    const b = run(3, 3);
    const c = run(4, 3);
    expect(JSON.stringify(a.drafts)).toBe(JSON.stringify(b.drafts));
    expect(JSON.stringify(a.drafts)).not.toBe(JSON.stringify(c.drafts));
  });

  it('keeps the baseline free of anomalies when it runs past midnight into the next simulated day', () => {
    const start = Date.UTC(2025, 5, 16, 23, 0, 0);
    // 2 h of baseline from 23:00; with 20 anomalies per type a day, ~4 would otherwise fall between 00:00 and 01:00.
    const { source } = runFrom(start, 2.5 * 3600, {
      seed: 5,
      devices: 6,
      rate: 0.2,
      anomaliesPerType: 20,
      baselineMinutes: 120,
    });
    const labels = source.anomalies();
    expect(labels.some((a) => a.start >= Date.UTC(2025, 5, 17, 1, 0, 0))).toBe(true);
    expect(labels.filter((a) => a.start < start + 120 * 60_000)).toEqual([]);
  });

  it('labelled anomalies reach the probes: a signal drop lowers the device RSSI at every anchor', () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 16, 0, 0, 0));
    const pings: { t: number; deviceId: string | undefined; rssi: number | undefined }[] = [];
    let seq = 0;
    const source = new SimulatedSource({
      seed: 21,
      devices: 4,
      rate: 0.5,
      anomaliesPerType: 6,
      baselineMinutes: 0,
    });
    void source.start({
      clock,
      logger: pino({ level: 'silent' }),
      emit: (d) => {
        if (d.type === 'pingResult')
          pings.push({ t: clock.now(), deviceId: d.data.deviceId, rssi: d.data.rssi });
        return true;
      },
      nextSequence: () => seq++,
    });
    const staticIds = new Set(
      source
        .simulatedDevices()
        .filter((d) => !d.mobile)
        .map((d) => d.deviceId),
    );
    const drop = source
      .anomalies()
      .filter((a) => a.type === 'signal_drop' && staticIds.has(a.deviceId) && a.end - a.start >= 10 * 60_000)
      .sort((x, y) => x.start - y.start)[0];
    expect(drop).toBeDefined();
    const a = drop!;
    // Fast-forward to 20 minutes before the anomaly, then record until it ends.
    clock.advance(a.start - 20 * 60_000 - clock.now());
    pings.length = 0;
    clock.advance(a.end - clock.now());
    const mean = (from: number, to: number) => {
      const v = pings.filter(
        (p) => p.deviceId === a.deviceId && p.rssi !== undefined && p.t >= from && p.t < to,
      );
      return { n: v.length, rssi: v.reduce((sum, p) => sum + p.rssi!, 0) / Math.max(1, v.length) };
    };
    const before = mean(a.start - 20 * 60_000, a.start);
    const during = mean(a.start, a.end);
    expect(before.n).toBeGreaterThan(3);
    expect(during.n).toBeGreaterThan(3);
    // 20 dB applied on top of σ = 3 dB shadowing.
    expect(before.rssi - during.rssi).toBeGreaterThan(12);
    void source.stop();
  });

  it('exercises the trust path: a rogue scanner joins with a randomised MAC, scans, and scores below every ordinary device', () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 16, 0, 0, 0));
    const sent: Message[] = [];
    let seq = 0;
    const source = new SimulatedSource({
      seed: 9,
      devices: 4,
      rate: 0.2,
      anomaliesPerType: 3,
      baselineMinutes: 0,
    });
    void source.start({
      clock,
      logger: pino({ level: 'silent' }),
      emit: (d) => {
        const parsed = parseMessage(
          makeMessage(d.type, 'sim_test_agent', d.data as never, new Date(clock.now())),
        );
        expect(parsed.ok).toBe(true);
        if (parsed.ok) sent.push(parsed.message);
        return parsed.ok;
      },
      nextSequence: () => seq++,
    });
    const scan = source
      .anomalies()
      .filter((a) => a.type === 'rogue_scanner')
      .sort((x, y) => x.start - y.start)[0];
    expect(scan).toBeDefined();
    clock.advance(scan!.end + 60_000 - clock.now());
    void source.stop();

    // The worker's own path: messages → behaviour events → per-device profiles → the trust model.
    const profiles = new Map<string, DeviceProfile>();
    for (const m of sent) {
      for (const { deviceId, event } of eventsFromMessage(m)) {
        const profile = profiles.get(deviceId) ?? newProfile(deviceId, event.t);
        profiles.set(deviceId, updateProfile(profile, event));
      }
    }
    const join = sent.find((m) => m.type === 'deviceJoin' && m.data.deviceId === scan!.deviceId);
    expect(join).toBeDefined();
    const scanner = profiles.get(scan!.deviceId)!;
    expect(scanner.macAddress).toBe(scan!.deviceId);
    expect(Number.parseInt(scanner.macAddress!.slice(0, 2), 16) & 0x02).toBe(2);
    expect(scanner.portScans).toBeGreaterThan(20);
    const trust = createTrustModel();
    const now = clock.now();
    const verdict = trust.assess(scanner, now);
    expect(['suspicious', 'untrusted']).toContain(verdict.level);
    const ordinary = source.simulatedDevices().map((d) => profiles.get(d.deviceId));
    expect(ordinary.filter((p) => p !== undefined).length).toBeGreaterThanOrEqual(3);
    for (const p of ordinary)
      if (p !== undefined) expect(trust.assess(p, now).score).toBeGreaterThan(verdict.score);
  });

  it('takes calibration samples at a point from every anchor it hears', async () => {
    const source = new SimulatedSource({ seed: 5 });
    source.prepare(Date.UTC(2025, 0, 1));
    const samples = await source.sample({ x: 2, y: 2 }, 4);
    expect(samples).toHaveLength(4);
    const anchors = new Set(source.anchors());
    for (const set of samples) {
      expect(set.length).toBeGreaterThan(0);
      for (const r of set) expect(anchors.has(r.targetIp)).toBe(true);
    }
    expect(source.roomAt({ x: 2, y: 2 })).toBe('living');
  });

  it('refuses a site whose anchors are not named by IP address', () => {
    const site = {
      bounds: { minX: 0, minY: 0, maxX: 5, maxY: 5 },
      anchors: [{ id: 'AP1', x: 0, y: 0 }],
      rooms: [],
    };
    expect(() => new SimulatedSource({ site }).prepare(0)).toThrow(/not IPs: AP1/);
  });
});
