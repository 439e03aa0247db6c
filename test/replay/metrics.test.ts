import { describe, expect, it } from 'vitest';
import { CompareMetrics, diffAlerts } from '../../src/replay/compare-metrics.js';
import { type Alert, DetectionMetrics } from '../../src/replay/detection-metrics.js';
import { parseLabels, truthAt } from '../../src/replay/labels.js';
import { Pacer, parseSpeed } from '../../src/replay/pace.js';
import { PositionMetrics } from '../../src/replay/position-metrics.js';
import { Decimator, Reservoir } from '../../src/replay/sampling.js';
import { labelsPathFor } from '../../src/replay/summary.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 5, 16, 12);
const iso = (t: number) => new Date(t).toISOString();

describe('labels', () => {
  const text = [
    JSON.stringify({
      kind: 'anomaly',
      deviceId: 'tv',
      anomalyType: 'signal_drop',
      start: iso(T0),
      end: iso(T0 + 10 * MIN),
    }),
    JSON.stringify({
      kind: 'position',
      deviceId: 'phone',
      timestamp: iso(T0 + 2000),
      x: 2,
      y: 0,
      room: 'hall',
    }),
    JSON.stringify({ kind: 'position', deviceId: 'phone', timestamp: iso(T0), x: 0, y: 0, room: 'living' }),
    '',
  ].join('\n');

  it('parses windows and time-orders positions', () => {
    const truth = parseLabels(text);
    expect(truth.windows).toEqual([
      { deviceId: 'tv', anomalyType: 'signal_drop', start: T0, end: T0 + 10 * MIN },
    ]);
    expect(truth.positions.get('phone')!.map((p) => p.x)).toEqual([0, 2]);
  });

  it('interpolates the true position in time, the room of the nearer sample', () => {
    const points = parseLabels(text).positions.get('phone');
    expect(truthAt(points, T0 + 500)).toEqual({ t: T0 + 500, x: 0.5, y: 0, room: 'living' });
    expect(truthAt(points, T0 + 1500)).toMatchObject({ x: 1.5, room: 'hall' });
    expect(truthAt(points, T0 - 4000)).toMatchObject({ x: 0 }); // within the 5 s slack
    expect(truthAt(points, T0 - 60_000)).toBeUndefined();
    expect(truthAt(points, T0 + 1000, 500)).toBeUndefined(); // a gap longer than maxGapMs
    expect(truthAt(undefined, T0)).toBeUndefined();
  });

  it('names the line and field of a bad label', () => {
    expect(() => parseLabels('{"kind":"anomaly","deviceId":"tv"}\n', 'x.labels.jsonl')).toThrow(
      /x\.labels\.jsonl:1: anomalyType/,
    );
    expect(() => parseLabels('\n{oops', 'f')).toThrow(/f:2: not JSON/);
  });

  it('finds the labels beside a capture', () => {
    expect(labelsPathFor('datasets/capture.jsonl')).toBe('datasets/capture.labels.jsonl');
    expect(labelsPathFor('/x/day.jsonl.gz')).toBe('/x/day.labels.jsonl');
  });
});

describe('detection metrics', () => {
  const windows = [
    { deviceId: 'tv', anomalyType: 'signal_drop' as const, start: T0, end: T0 + 10 * MIN },
    { deviceId: 'cam', anomalyType: 'latency_spike' as const, start: T0 + 60 * MIN, end: T0 + 70 * MIN },
    { deviceId: 'cam', anomalyType: 'interference' as const, start: T0 + 120 * MIN, end: T0 + 130 * MIN },
  ];

  it('computes precision, event recall, type accuracy and time to detect, with a grace period', () => {
    const m = new DetectionMetrics(windows, { graceMs: 5 * MIN });
    const alert = (deviceId: string, minutes: number, anomalyType: Alert['anomalyType']): Alert => ({
      deviceId,
      t: T0 + minutes * MIN,
      anomalyType,
    });
    m.observeTime(T0);
    m.observeTime(T0 + 24 * 60 * MIN);
    m.addAlert(alert('tv', 2, 'signal_drop')); // detects window 1 after 2 min
    m.addAlert(alert('tv', 14, 'signal_drop')); // inside the grace period: still true
    m.addAlert(alert('tv', 16, 'signal_drop')); // after the grace period: false
    m.addAlert(alert('cam', 66, 'packet_loss')); // detects window 2 after 6 min, wrong type
    m.addAlert(alert('printer', 30, 'interference')); // false
    const s = m.summary();
    expect(s).toMatchObject({ alerts: 5, windows: 3, truePositives: 3, falsePositives: 2 });
    expect(s.precision).toBeCloseTo(3 / 5);
    expect(s.recall).toBeCloseTo(2 / 3);
    expect(s.typeAccuracy).toBeCloseTo(2 / 3);
    expect(s.timeToDetect!.median).toBeCloseTo(4 * 60); // seconds: median of 2 and 6 minutes
    expect(s.timeToDetect!.max).toBeCloseTo(6 * 60);
    expect(s.falseAlertsPerDay).toBeCloseTo(2);
    expect(s.perType).toEqual([
      { anomalyType: 'interference', windows: 1, detected: 0 },
      { anomalyType: 'latency_spike', windows: 1, detected: 1 },
      { anomalyType: 'signal_drop', windows: 1, detected: 1 },
    ]);
  });

  it('separates scores inside labelled windows from the rest', () => {
    const m = new DetectionMetrics(windows);
    m.addScore('tv', T0 + MIN, 0.9);
    m.addScore('tv', T0 + 200 * MIN, 0.3);
    m.addScore('radio', T0 + MIN, 0.2);
    expect(m.scores()).toEqual({ normal: [0.3, 0.2], anomalous: [0.9] });
    expect(m.timelines()).toHaveLength(3);
  });

  it('reports no precision or recall without labels', () => {
    const m = new DetectionMetrics([]);
    m.addAlert({ deviceId: 'tv', t: T0, anomalyType: 'signal_drop' });
    expect(m.summary()).toMatchObject({ alerts: 1, precision: null, recall: null, truePositives: 0 });
  });
});

describe('position metrics', () => {
  it('measures error, room accuracy and how often the truth lies inside the reported radius', () => {
    const m = new PositionMetrics();
    m.add('a', 0, { x: 3, y: 4, uncertainty: 6, room: 'living' }, { t: 0, x: 0, y: 0, room: 'living' }); // 5 m, inside
    m.add('a', 1, { x: 1, y: 0, uncertainty: 0.5, room: 'hall' }, { t: 1, x: 0, y: 0, room: 'living' }); // 1 m, outside
    m.add('b', 1, { x: 1, y: 0 }, undefined);
    const s = m.summary();
    expect(s).toMatchObject({
      n: 2,
      meanError: 3,
      medianError: 3,
      roomAccuracy: 0.5,
      uncertaintyCoverage: 0.5,
    });
    expect(m.unlabelled).toBe(1);
    expect(m.rooms()).toEqual([{ room: 'living', n: 2, errors: [5, 1], roomAccuracy: 0.5 }]);
    expect(m.tracks().map((t) => t.id)).toEqual(['a', 'b']);
  });
});

describe('comparison', () => {
  it('matches alerts of the same device and type within the window, nearest first', () => {
    const a: Alert[] = [
      { deviceId: 'tv', t: T0, anomalyType: 'signal_drop' },
      { deviceId: 'tv', t: T0 + 10 * MIN, anomalyType: 'signal_drop' },
      { deviceId: 'cam', t: T0, anomalyType: 'interference' },
    ];
    const b: Alert[] = [
      { deviceId: 'tv', t: T0 + 30_000, anomalyType: 'signal_drop' }, // same as a[0]
      { deviceId: 'cam', t: T0, anomalyType: 'packet_loss' }, // another type: gained
      { deviceId: 'tv', t: T0 + 40 * MIN, anomalyType: 'signal_drop' }, // too far from a[1]: gained
    ];
    const { gained, lost } = diffAlerts(a, b, MIN);
    expect(gained.map((x) => x.anomalyType)).toEqual(['packet_loss', 'signal_drop']);
    expect(lost).toEqual([a[2], a[1]].sort((p, q) => p.t - q.t));
  });

  it('summarises displacement between the two versions', () => {
    const c = new CompareMetrics();
    c.addPair({ x: 0, y: 0 }, { x: 3, y: 4 });
    c.addPair({ x: 0, y: 0, room: 'a' }, { x: 0, y: 0, room: 'a' });
    const s = c.summary([], []);
    expect(s.displacement).toEqual({ mean: 2.5, median: 2.5, p90: 4.5, max: 5 });
    expect(s).toMatchObject({ pairs: 2, movedOverOneMetre: 1, roomChanged: 0, gained: 0, lost: 0 });
  });
});

describe('sampling', () => {
  it('keeps every item until the reservoir is full, then a fixed-size sample', () => {
    const r = new Reservoir<number>(100, 1);
    for (let i = 0; i < 100; i++) r.add(i);
    expect(r.exact).toBe(true);
    for (let i = 100; i < 10_000; i++) r.add(i);
    expect(r.items).toHaveLength(100);
    expect(r.exact).toBe(false);
    const mean = r.items.reduce((a, b) => a + b, 0) / 100;
    expect(mean).toBeGreaterThan(3000);
    expect(mean).toBeLessThan(7000);
  });

  it('thins a long series without losing its peak', () => {
    const d = new Decimator<{ t: number; v: number }>(64, (p) => p.v);
    for (let t = 0; t < 100_000; t++) d.add({ t, v: t === 54_321 ? 99 : Math.sin(t) });
    const values = d.values();
    expect(values.length).toBeLessThanOrEqual(65);
    expect(Math.max(...values.map((p) => p.v))).toBe(99);
    expect(values[values.length - 1]!.t).toBeGreaterThan(90_000);
  });
});

describe('speed', () => {
  it('parses max, realtime and factors', () => {
    expect(parseSpeed('max')).toEqual({ kind: 'max' });
    expect(parseSpeed('realtime')).toEqual({ kind: 'scaled', factor: 1 });
    expect(parseSpeed('10x')).toEqual({ kind: 'scaled', factor: 10 });
    expect(parseSpeed('0.5')).toEqual({ kind: 'scaled', factor: 0.5 });
    expect(() => parseSpeed('fast')).toThrow(/max, realtime/);
    expect(() => parseSpeed('0x')).toThrow();
  });

  it('waits until a message is due by the capture clock, divided by the factor', async () => {
    let wall = 1000;
    const waits: number[] = [];
    const pacer = new Pacer(
      { kind: 'scaled', factor: 10 },
      () => wall,
      async (ms) => {
        waits.push(ms);
        wall += ms;
      },
    );
    await pacer.waitFor(T0); // the first message sets the origin
    await pacer.waitFor(T0 + 10_000); // 10 s of capture at 10x: due 1 s later
    wall += 5000; // the worker was slow: no wait, no catching up
    await pacer.waitFor(T0 + 20_000);
    expect(waits).toEqual([1000]);
    const max = new Pacer(
      { kind: 'max' },
      () => wall,
      async () => {
        throw new Error('never waits');
      },
    );
    await max.waitFor(T0);
    await max.waitFor(T0 + 1e9);
  });
});
