import { describe, expect, it } from 'vitest';
import {
  errorByRoomSpec,
  errorCdfSpec,
  floorPlanSpec,
  renderSvg,
  scoreDistributionSpec,
  scoreTimelineSpec,
  selectTimelineDevices,
} from '../../src/report/index.js';
import { histogram } from '../../src/report/plots/score-distribution.js';
import { timelineSegments } from '../../src/report/plots/score-timeline.js';
import { rng, SITE, tracks } from './fixtures.js';
import { circleRadius, count, marks, pathYs, position, svgSize, texts } from './svg-marks.js';

describe('floor plan', () => {
  it('draws rooms, walls, anchors with labels, tracks with truth and 95% circles', async () => {
    const svg = await renderSvg(floorPlanSpec({ site: SITE, tracks: tracks(2, 30) }));
    expect(count(svg, 'rooms')).toBe(4);
    expect(count(svg, 'room_labels')).toBe(4);
    expect(marks(svg, 'walls')).toMatchObject({ type: 'rule' });
    expect(count(svg, 'walls')).toBe(2);
    expect(count(svg, 'anchors')).toBe(4);
    const labels = marks(svg, 'anchor_labels').items.map((t) => t.replace(/<[^>]+>/g, ''));
    expect(count(svg, 'anchor_labels')).toBe(4);
    expect(texts(svg)).toContain('AP1');
    expect(texts(svg)).toContain('198.51.100.4'); // an anchor without a label shows its id
    expect(labels).toHaveLength(4);
    expect(count(svg, 'tracks')).toBe(2);
    expect(count(svg, 'truth_tracks')).toBe(2);
    expect(count(svg, 'track_points')).toBe(60);
    expect(count(svg, 'uncertainty')).toBe(2 * 12); // thinned to 12 circles per device
    expect(texts(svg)).toContain('device-1'); // legend
  });

  it('keeps one metre the same length on both axes and draws uncertainty at true scale', async () => {
    const svg = await renderSvg(floorPlanSpec({ site: SITE, tracks: tracks(1, 3) }));
    const [ap1, ap2, ap3] = marks(svg, 'anchors').items.map(position);
    const kx = (ap2!.x - ap1!.x) / 9; // AP1 → AP2: 9 m along x
    const ky = (ap2!.y - ap3!.y) / 5; // AP2 → AP3: 5 m along y (screen y grows downwards)
    expect(kx).toBeGreaterThan(10);
    expect(ky).toBeCloseTo(kx, 0);
    // A 1 m radius is k px on screen.
    for (const item of marks(svg, 'uncertainty').items) expect(circleRadius(item)).toBeCloseTo(kx, 0);
    const { width, height } = svgSize(svg);
    expect(width).toBeGreaterThan(height); // a 10 × 6 m site is landscape
  });

  it('does not join a track across a gap: each segment is its own line', async () => {
    const points = [0, 1, 2, 10, 11].map((i) => ({ t: i * 1000, x: i * 0.5, y: 1, segment: i < 10 ? 0 : 1 }));
    const svg = await renderSvg(
      floorPlanSpec({ site: SITE, tracks: [{ id: 'phone', estimate: points, truth: points }] }),
    );
    expect(count(svg, 'tracks')).toBe(2);
    expect(count(svg, 'truth_tracks')).toBe(2);
  });

  it('draws one error vector per located test point', async () => {
    const errors = Array.from({ length: 12 }, (_, i) => ({
      truth: { x: i * 0.8, y: 2 },
      estimate: { x: i * 0.8 + 0.3, y: 2.4 },
    }));
    const svg = await renderSvg(floorPlanSpec({ site: SITE, errors, walk: [{ x: 1, y: 1 }] }));
    expect(count(svg, 'error_vectors')).toBe(12);
    expect(count(svg, 'error_truth')).toBe(12);
    expect(count(svg, 'error_estimates')).toBe(12);
    expect(count(svg, 'walk')).toBe(1);
    expect(count(svg, 'tracks')).toBe(0);
  });

  it('renders a bare site (no rooms, no anchors) without failing', async () => {
    const svg = await renderSvg(
      floorPlanSpec({ site: { bounds: { minX: -1, minY: -1, maxX: 3, maxY: 9 } } }),
    );
    expect(svg).toMatch(/^<svg/);
    const { width, height } = svgSize(svg);
    expect(height).toBeGreaterThan(width); // portrait
  });
});

describe('error CDF', () => {
  it('draws one step line per series, reaching 100%, with median and p90 in the legend', async () => {
    const a = Array.from({ length: 101 }, (_, i) => i / 100); // median 0.50, p90 0.90
    const b = a.map((e) => e * 2);
    const svg = await renderSvg(
      errorCdfSpec({
        series: [
          { name: 'fusion', errors: a },
          { name: 'knn', errors: b },
          { name: 'empty', errors: [] },
        ],
      }),
    );
    expect(count(svg, 'cdf')).toBe(2);
    expect(count(svg, 'quantiles')).toBe(4);
    expect(texts(svg)).toContain('fusion · median 0.50 m · p90 0.90 m');
    expect(texts(svg)).toContain('knn · median 1.00 m · p90 1.80 m');
    expect(texts(svg).join('|')).not.toContain('empty');
    // Both lines climb from p = 0 (bottom) to p = 1 (top of the plot, y = 0).
    for (const line of marks(svg, 'cdf').items) {
      const ys = pathYs(line);
      expect(Math.min(...ys)).toBeCloseTo(0, 0);
      expect(Math.max(...ys)).toBeGreaterThan(200);
    }
  });
});

describe('error per room', () => {
  it('draws one box per room, worst median first, with sample sizes and room accuracy', async () => {
    const svg = await renderSvg(
      errorByRoomSpec({
        rooms: [
          { room: 'living', errors: [0.2, 0.3, 0.4, 0.5], roomAccuracy: 0.95 },
          { room: 'kitchen', errors: [1, 1.5, 2, 2.5, 3], roomAccuracy: 0.6 },
          { room: 'hall', errors: [0.5, 0.6, 0.7] },
          { room: 'never-visited', errors: [] },
        ],
      }),
    );
    expect(count(svg, 'boxes')).toBe(3);
    expect(count(svg, 'medians')).toBe(3);
    expect(texts(svg)).toContain('n=5 · room 60%');
    expect(texts(svg)).toContain('n=3');
    expect(texts(svg).join('|')).not.toContain('never-visited');
    const labels = marks(svg, 'counts').items.map(position);
    // Worst (kitchen) first: its row is the top one.
    expect(labels[0]!.y).toBeLessThan(labels[1]!.y);
    expect(svg.indexOf('n=5')).toBeLessThan(svg.indexOf('n=3'));
  });
});

describe('anomaly score timeline', () => {
  const t0 = Date.UTC(2025, 5, 16);
  const r = rng(3);
  const scores = ['tv', 'camera', 'phone', 'printer', 'kettle'].flatMap((deviceId) =>
    Array.from({ length: 5000 }, (_, i) => ({
      deviceId,
      t: t0 + i * 17_000,
      score: deviceId === 'camera' && i === 2345 ? 0.97 : 0.3 + 0.1 * r(),
    })),
  );

  it('gives eventful devices a row first and keeps every spike after thinning', async () => {
    const data = {
      scores,
      threshold: 0.8,
      maxDevices: 3,
      alerts: [
        { deviceId: 'camera', t: t0 + 2345 * 17_000, label: 'signal_drop' },
        { deviceId: 'kettle', t: t0 + 100 * 17_000 },
      ],
      windows: [
        { deviceId: 'camera', start: t0 + 2340 * 17_000, end: t0 + 2350 * 17_000, label: 'signal_drop' },
      ],
    };
    expect(selectTimelineDevices(data)).toEqual(['camera', 'kettle', expect.any(String)]);
    const svg = await renderSvg(scoreTimelineSpec(data));
    expect(count(svg, /^scores_r\d$/)).toBe(3);
    expect(count(svg, /^alerts_r\d$/)).toBe(2);
    expect(count(svg, /^windows_r\d$/)).toBe(1);
    expect(count(svg, /^threshold_r\d$/)).toBe(3);
    // The camera's line (first row) still reaches 0.97 of its 64 px: y ≈ 64 × (1 − 0.97).
    const camera = marks(svg, 'scores_r0').items[0]!;
    expect(Math.min(...pathYs(camera))).toBeLessThan(64 * 0.05);
    expect(pathYs(camera).length).toBeLessThanOrEqual(300);
  });
});

describe('anomaly score timeline gaps', () => {
  it('breaks a line where the device went silent, and shows a lone score as a dot', async () => {
    const t0 = Date.UTC(2025, 5, 16);
    const every = 120_000;
    const scores = [
      ...Array.from({ length: 40 }, (_, i) => ({ deviceId: 'tv', t: t0 + i * every, score: 0.4 })),
      // Gone for four hours, back for a while, then one last report hours later.
      ...Array.from({ length: 40 }, (_, i) => ({
        deviceId: 'tv',
        t: t0 + 4 * 3_600_000 + i * every,
        score: 0.5,
      })),
      { deviceId: 'tv', t: t0 + 12 * 3_600_000, score: 0.6 },
    ];
    expect(timelineSegments(scores.map((p) => p.t))).toEqual([
      ...Array<number>(40).fill(0),
      ...Array<number>(40).fill(1),
      2,
    ]);
    // Steady reports far apart (a capture sampled sparsely) stay one line: gaps are relative to the usual interval.
    expect(new Set(timelineSegments(Array.from({ length: 30 }, (_, i) => i * 3_600_000)))).toEqual(
      new Set([0]),
    );
    const svg = await renderSvg(scoreTimelineSpec({ scores }));
    expect(count(svg, 'scores_r0')).toBe(2);
    expect(count(svg, 'score_area_r0')).toBe(2);
    expect(count(svg, 'score_dots_r0')).toBe(1);
  });
});

describe('score distributions', () => {
  it('bins each group as a share of itself', () => {
    const h = histogram([0, 0.01, 0.5, 0.99, 1, Number.NaN], 10);
    expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(h[0]).toBeCloseTo(0.4);
    expect(h[9]).toBeCloseTo(0.4);
  });

  it('draws normal and anomalous groups and the threshold', async () => {
    const svg = await renderSvg(
      scoreDistributionSpec({ normal: [0.3, 0.35, 0.4], anomalous: [0.8, 0.9], threshold: 0.7 }),
    );
    expect(count(svg, 'density')).toBe(2);
    expect(count(svg, 'threshold')).toBe(1);
    expect(texts(svg)).toContain('normal (n=3)');
    expect(texts(svg)).toContain('anomalous (n=2)');
    expect(texts(svg)).toContain('threshold 0.700');
  });
});
