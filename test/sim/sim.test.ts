import { describe, expect, it } from 'vitest';
import { PingCalibration } from '../../src/protocol/index.js';
import {
  anchorChannels,
  createSimulatedWorld,
  crlbRmse,
  espresenseScenario,
  expandWaypoints,
  Rng,
  sampleLink,
  simulateCalibrationWalk,
} from '../../src/sim/index.js';
import { meanRssi } from '../../src/sim/radio.js';

describe('positioning simulator', () => {
  it('is reproducible: same seed, same readings; another seed, other readings', () => {
    const run = (seed: number) => {
      const w = createSimulatedWorld(seed, { devices: 3 });
      return [w.step(1000), w.step(1000), w.calibrationWalk({ spacingM: 3, samplesPerPoint: 1 })];
    };
    expect(JSON.stringify(run(42))).toBe(JSON.stringify(run(42)));
    expect(JSON.stringify(run(42))).not.toBe(JSON.stringify(run(43)));
  });

  it('builds the ESPresense scenario as described: 4 ceiling nodes, 2 rooms, 61 and 121 track samples', () => {
    const s = espresenseScenario({ deviceHeight: 1 });
    expect(s.site.bounds).toEqual({ minX: 0, minY: 0, maxX: 6, maxY: 4 });
    expect(s.site.anchors.map((a) => [a.x, a.y, a.z])).toEqual([
      [0, 0, 2.4],
      [0, 4, 2.4],
      [6, 0, 2.4],
      [6, 4, 2.4],
    ]);
    expect(s.site.rooms.map((r) => r.id)).toEqual(['living', 'bedroom']);
    expect(s.radio).toMatchObject({
      rssiAt1m: -59,
      exponent: 3,
      shadowingSigmaDb: 2.5,
      multipathProbability: 0.1,
      multipathDb: 6,
    });
    const diag = s.tracks.diagonal_walk!;
    const transit = s.tracks.living_to_bedroom!;
    expect(expandWaypoints(diag.points, diag.samplesPerSegment)).toHaveLength(61);
    expect(expandWaypoints(transit.points, transit.samplesPerSegment)).toHaveLength(121);
    // rssi = −59 − 30·log10(d), d in 3-D: 3 m horizontal and 1.4 m vertical from a node.
    const ch = anchorChannels(s.site, s.radio, new Rng(1)).get(s.site.anchors[0]!.id)!;
    expect(meanRssi(s.site, s.radio, ch, 3, 0)).toBeCloseTo(-59 - 30 * Math.log10(Math.hypot(3, 1.4)), 9);
  });

  it("at z = 2.4 m it is their harness's geometry: RSSI from the distance in x and y only", () => {
    // AccuracyRunner.cs draws rssi = −59 − 30·log10(√(dx² + dy²)) for nodes hung at 2.4 m: a device in their plane.
    const s = espresenseScenario({ deviceHeight: 2.4 });
    const channels = anchorChannels(s.site, s.radio, new Rng(1));
    for (const a of s.site.anchors) {
      const ch = channels.get(a.id)!;
      for (const [x, y] of [
        [0.5, 0.5],
        [3, 2],
        [5.5, 3.5],
      ] as const)
        expect(meanRssi(s.site, s.radio, ch, x, y)).toBeCloseTo(
          -59 - 30 * Math.log10(Math.hypot(x - a.x, y - a.y)),
          9,
        );
    }
  });

  it('its noise is what it says: σ 2.5 dB and 10 % of samples 6 dB down', () => {
    const s = espresenseScenario();
    const ch = anchorChannels(s.site, s.radio, new Rng(1)).get(s.site.anchors[0]!.id)!;
    const mean = meanRssi(s.site, s.radio, ch, 2, 2);
    const rng = new Rng(3);
    const dev = Array.from({ length: 20000 }, () => sampleLink(s.site, s.radio, ch, 2, 2, rng).rssi! - mean);
    const avg = dev.reduce((a, b) => a + b, 0) / dev.length;
    expect(avg).toBeCloseTo(-0.6, 1);
    const core = dev.filter((d) => d > -3.5);
    expect(core.length / dev.length).toBeGreaterThan(0.8);
  });

  it('computes the CRLB the scenario note states: ~1.1 m at z = 0 and ~0.85 m at z = 1 m for one fix', () => {
    for (const [h, expected] of [
      [0, 1.1],
      [1, 0.85],
    ] as const) {
      const s = espresenseScenario({ deviceHeight: h });
      const radio = { ...s.radio, multipathProbability: 0 };
      const points = Object.values(s.tracks).flatMap((t) => expandWaypoints(t.points, t.samplesPerSegment));
      const bound = crlbRmse(radio, anchorChannels(s.site, radio, new Rng(1)), points);
      expect(Math.abs(bound - expected)).toBeLessThan(0.06);
    }
  });

  it('makes ping-grade RTT milliseconds long and FTM-grade RTT nanoseconds long', () => {
    const w = createSimulatedWorld(5, {
      devices: 1,
      deviceSpecs: [{ label: 'x', deviceType: 'phone', vendor: 'v', mobile: false, at: { x: 3, y: 2 } }],
    });
    const readings = w.measureAt({ x: 3, y: 2 }, 20).flat();
    const byKind = (kind: string) =>
      readings.filter(
        (r) => w.site.anchors.find((a) => a.id === r.anchorId)!.kind === kind && r.rtt !== undefined,
      );
    expect(byKind('gateway').every((r) => r.rtt! > 1)).toBe(true);
    expect(byKind('access_point').every((r) => Math.abs(r.rtt!) < 1e-3)).toBe(true);
    expect(byKind('beacon')).toEqual([]);
  });

  it('walks devices around, teleports on request, and reports truth with every reading', () => {
    const w = createSimulatedWorld(7, { devices: 4 });
    const mobile = w.devices().find((d) => d.mobile)!;
    const start = w.truth(mobile.id)!;
    let step = w.step(0);
    for (let i = 0; i < 60; i++) step = w.step(1000);
    const now = step.devices.find((d) => d.deviceId === mobile.id)!;
    expect(Math.hypot(now.truth.x - start.x, now.truth.y - start.y)).toBeGreaterThan(0.5);
    expect(now.readings.length).toBeGreaterThan(2);
    expect(now.readings.every((r) => r.t === step.t)).toBe(true);
    expect(step.t).toBe(Date.UTC(2025, 0, 1) + 60_000);
    w.teleport(mobile.id, { x: 9, y: 7 });
    expect(w.truth(mobile.id)).toMatchObject({ x: 9, y: 7, room: 'bedroom' });
    expect(() => w.step(-1)).toThrow(RangeError);
  });

  it('writes calibration walks that are valid pingCalibration messages', () => {
    const s = espresenseScenario();
    const msgs = simulateCalibrationWalk(
      s.site,
      s.radio,
      anchorChannels(s.site, s.radio, new Rng(1)),
      new Rng(2),
      {
        layout: 'random',
        points: 60,
        samplesPerPoint: 1,
      },
    );
    expect(msgs).toHaveLength(60);
    for (const m of msgs) expect(PingCalibration.safeParse(m).success).toBe(true);
    expect(msgs[0]!.data.knownLocation.room).toMatch(/living|bedroom/);
  });
});
