import { describe, expect, it } from 'vitest';
import type { AnchorReading, PositionEstimate } from '../../../src/models/contracts/positioning.js';
import { createPositioner, type TrackState } from '../../../src/models/positioning/positioner.js';
import { Location } from '../../../src/protocol/index.js';
import { createSimulatedWorld } from '../../../src/sim/index.js';
import { samplesFromMessages, trainPositioning } from '../../../src/training/positioning/index.js';

const world = createSimulatedWorld(31, {
  deviceSpecs: [
    {
      id: 'aa:00:00:00:00:01',
      label: 'phone',
      deviceType: 'smartphone',
      vendor: 'x',
      mobile: true,
      at: { x: 2, y: 2 },
    },
    {
      id: 'aa:00:00:00:00:02',
      label: 'tv',
      deviceType: 'smart_tv',
      vendor: 'x',
      mobile: false,
      at: { x: 8, y: 2 },
    },
  ],
});
const { model } = await trainPositioning(
  samplesFromMessages(world.calibrationWalk({ spacingM: 1, samplesPerPoint: 2 }), world.site),
  world.site,
  { seed: 1, folds: 3, deviceHeight: 1, estimators: ['multilateration', 'knn'] },
);
const positioner = createPositioner(model, 'v-test');

describe('Positioner (the worker contract)', () => {
  it('starts empty, ignores unknown anchors, and keeps a plain-JSON state', () => {
    const s0 = positioner.initialState();
    expect(JSON.parse(JSON.stringify(s0))).toEqual(s0);
    expect(positioner.update(s0, [], 1000).estimate).toBeNull();
    expect(
      positioner.update(s0, [{ anchorId: '203.0.113.7', rssi: -40, t: 1000 }], 1000).estimate,
    ).toBeNull();
    expect(positioner.version).toBe('v-test');
  });

  it('is pure: same inputs, same outputs, input state untouched', () => {
    const s0 = positioner.initialState();
    const step = world.step(1000);
    const r = step.devices[1]!.readings;
    const frozen = JSON.stringify(s0);
    const a = positioner.update(s0, r, step.t);
    const b = positioner.update(s0, r, step.t);
    expect(b).toEqual(a);
    expect(JSON.stringify(s0)).toBe(frozen);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
  });

  it('reports a location the protocol accepts: x, y, confidence, 95 % radius, room and its probability', () => {
    let s: TrackState = positioner.initialState();
    let est = null;
    for (let i = 0; i < 10; i++) {
      const step = world.step(1000);
      const u = positioner.update(s, step.devices[1]!.readings, step.t);
      s = u.state;
      est = u.estimate;
    }
    expect(est).not.toBeNull();
    const e = est!;
    expect(e.uncertainty).toBeGreaterThan(0);
    expect(e.confidence).toBeGreaterThan(0);
    expect(e.confidence).toBeLessThanOrEqual(1);
    expect(e.covariance[0]).toBeGreaterThan(0);
    expect(['fusion', 'multilateration', 'knn']).toContain(e.model);
    const loc = Location.safeParse({
      x: e.x,
      y: e.y,
      confidence: e.confidence,
      uncertainty: e.uncertainty,
      room: e.room,
      roomProbability: e.roomProbability,
      model: e.model,
    });
    expect(loc.success).toBe(true);
    expect(Math.hypot(e.x - 8, e.y - 2)).toBeLessThan(1.5);
    expect(e.room).toBe('kitchen');
  });

  it('a standing device: the persistent share keeps the radius from collapsing; the positions are unchanged', () => {
    // Training fitted the share on the walk (a standing device per walk point, held-out fixes).
    const share = model.data.tracker.persistentShare!;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
    const without = createPositioner(
      { ...model, data: { ...model.data, tracker: { ...model.data.tracker, persistentShare: 0 } } },
      'v-test',
    );
    let a: TrackState = positioner.initialState();
    let b: TrackState = without.initialState();
    let ea: PositionEstimate | null = null;
    let eb: PositionEstimate | null = null;
    let firstRadius = 0;
    for (let i = 0; i < 40; i++) {
      const step = world.step(1000);
      const r = step.devices[1]!.readings;
      const ua = positioner.update(a, r, step.t);
      const ub = without.update(b, r, step.t);
      a = ua.state;
      b = ub.state;
      ea = ua.estimate;
      eb = ub.estimate;
      if (i === 0) {
        // A new track reports the fix itself either way.
        expect(ea!.uncertainty).toBeCloseTo(eb!.uncertainty, 9);
        firstRadius = ea!.uncertainty!;
      }
      expect(ea!.x).toBe(eb!.x);
      expect(ea!.y).toBe(eb!.y);
    }
    // Without it the radius of the settled track shrinks far below a fix's; with it (ρ weighted by the probability
    // that the device is still, high for this one), not far below √ρ of it.
    expect(eb!.uncertainty!).toBeLessThan(0.5 * firstRadius);
    expect(ea!.uncertainty!).toBeGreaterThan(0.8 * Math.sqrt(share) * firstRadius);
    expect(ea!.uncertainty!).toBeGreaterThan(eb!.uncertainty!);
    // A state saved before the field existed still updates (no persistent part until the next fix).
    const { fixCov: _dropped, ...old } = a;
    expect(positioner.update(old, [], world.step(1000).t).estimate).not.toBeNull();
  });

  it('accepts readings one anchor at a time (streamed probes) within its window', () => {
    let s: TrackState = positioner.initialState();
    const step = world.step(1000);
    const readings = step.devices[1]!.readings;
    let est: PositionEstimate | null = null;
    readings.forEach((r, i) => {
      const u = positioner.update(s, [{ ...r, t: step.t + i * 100 }], step.t + i * 100);
      s = u.state;
      est = u.estimate ?? est;
    });
    expect(est).not.toBeNull();
    expect(Object.keys(s.latest).length).toBe(readings.length);
    // Readings older than the window are dropped.
    const later = positioner.update(s, [], step.t + model.data.runtime.windowMs + 5000);
    expect(Object.keys(later.state.latest)).toEqual([]);
  });

  it('tracks a walking device better than single fixes do, and follows a teleport within a few seconds', () => {
    const id = 'aa:00:00:00:00:01';
    let s: TrackState = positioner.initialState();
    let tracked = 0;
    let single = 0;
    let n = 0;
    for (let i = 0; i < 90; i++) {
      const step = world.step(1000);
      const d = step.devices.find((x) => x.deviceId === id)!;
      const fresh = positioner.update(positioner.initialState(), d.readings, step.t).estimate;
      const u = positioner.update(s, d.readings, step.t);
      s = u.state;
      if (i >= 10 && u.estimate && fresh) {
        tracked += Math.hypot(u.estimate.x - d.truth.x, u.estimate.y - d.truth.y);
        single += Math.hypot(fresh.x - d.truth.x, fresh.y - d.truth.y);
        n++;
      }
    }
    expect(n).toBeGreaterThan(60);
    expect(tracked / n).toBeLessThan(single / n);
    // Carried to the far corner while unheard for a few seconds: followed within 5 fixes.
    const before = world.truth(id)!;
    const target = before.x < 5 ? { x: 9, y: 7 } : { x: 1, y: 1 };
    world.teleport(id, target);
    let last = null as null | { x: number; y: number };
    for (let i = 0; i < 5; i++) {
      const step = world.step(1000);
      const d = step.devices.find((x) => x.deviceId === id)!;
      const u = positioner.update(s, d.readings as AnchorReading[], step.t);
      s = u.state;
      last = u.estimate;
    }
    const now = world.truth(id)!;
    expect(Math.hypot(last!.x - now.x, last!.y - now.y)).toBeLessThan(2);
  });

  it('reports positions inside the site for a device in a corner', () => {
    const corner = createSimulatedWorld(32, {
      deviceSpecs: [
        {
          id: 'aa:00:00:00:00:03',
          label: 'plug',
          deviceType: 'smart_plug',
          vendor: 'x',
          mobile: false,
          at: { x: 0.1, y: 7.9 },
        },
      ],
    });
    const b = model.data.site.bounds;
    let s: TrackState = positioner.initialState();
    let reported = 0;
    for (let i = 0; i < 120; i++) {
      const step = corner.step(1000);
      const u = positioner.update(s, step.devices[0]!.readings, step.t);
      s = u.state;
      if (!u.estimate) continue;
      reported++;
      expect(u.estimate.x).toBeGreaterThanOrEqual(b.minX);
      expect(u.estimate.x).toBeLessThanOrEqual(b.maxX);
      expect(u.estimate.y).toBeGreaterThanOrEqual(b.minY);
      expect(u.estimate.y).toBeLessThanOrEqual(b.maxY);
    }
    expect(reported).toBeGreaterThan(100);
  });
});
