import { describe, expect, it } from 'vitest';
import {
  blur,
  espresenseRoomBound,
  gridOf,
  logLikelihood,
  topRoom,
} from '../../../bench/positioning/espresense-room-bound.js';
import { anchorChannels, espresenseScenario, meanRssi, Rng } from '../../../src/sim/index.js';

describe('ESPresense room mis-id Bayes reference', () => {
  const s = espresenseScenario({ deviceHeight: 0 });
  const g = gridOf(s);
  const channels = anchorChannels(s.site, s.radio, new Rng(1));
  const noiseless = (x: number, y: number) =>
    [...channels.values()].map((ch) => ({
      anchorId: ch.anchor.id,
      rssi: meanRssi(s.site, s.radio, ch, x, y),
    }));

  it('covers the floor with 10 cm cells, each labelled with its room', () => {
    expect(g.xs).toHaveLength(60 * 40);
    const bedroom = g.rooms.filter((r) => r === 'bedroom').length;
    expect(bedroom / g.rooms.length).toBeCloseTo(2 / 6, 2);
  });

  it('puts the likelihood of noiseless readings highest at the cell under the device', () => {
    for (const [x, y] of [
      [1.05, 0.95],
      [4.55, 2.65],
      [5.45, 3.35],
    ] as const) {
      const ll = logLikelihood(s, g, channels, noiseless(x, y));
      let best = 0;
      for (let c = 1; c < ll.length; c++) if (ll[c]! > ll[best]!) best = c;
      expect(Math.hypot(g.xs[best]! - x, g.ys[best]! - y)).toBeLessThan(0.11);
    }
  });

  it('names the room holding the posterior mass, right beside the wall too', () => {
    const decide = (x: number, y: number) => {
      const ll = logLikelihood(s, g, channels, noiseless(x, y));
      const top = Math.max(...ll);
      return topRoom(
        g,
        ll.map((l) => Math.exp(l - top)),
      );
    };
    expect(decide(3.7, 2)).toBe('living');
    expect(decide(4.3, 2)).toBe('bedroom');
  });

  it('moves probability by about 0.3 m per second, keeping it on the floor', () => {
    const spike = new Float64Array(g.xs.length);
    const centre = 20 * g.nx + 30;
    spike[centre] = 1;
    const p = blur(g, spike);
    let total = 0;
    let vx = 0;
    for (let c = 0; c < p.length; c++) {
      total += p[c]!;
      vx += p[c]! * (g.xs[c]! - g.xs[centre]!) ** 2;
    }
    expect(total).toBeCloseTo(1, 6);
    expect(Math.sqrt(vx / total)).toBeCloseTo(0.3, 1);
    const flat = blur(g, new Float64Array(g.xs.length).fill(1));
    for (const v of flat) expect(v).toBeCloseTo(1, 9);
  });

  it('prints ours, the reference and the paired gap for every track, height and mode', () => {
    const r = espresenseRoomBound(true);
    const rows = r.table
      .split('\n')
      .filter((l) => l.startsWith('| diagonal_walk') || l.startsWith('| living_to'));
    expect(rows).toHaveLength(8);
    for (const l of rows)
      expect(l).toMatch(
        /\| -?\d+\.\d% ± \d+\.\d% \| -?\d+\.\d% ± \d+\.\d% \| -?\d+\.\d% ± \d+\.\d% \| \d+\.\d% \|$/,
      );
  });
});
