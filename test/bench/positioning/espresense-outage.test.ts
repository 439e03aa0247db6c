import { describe, expect, it } from 'vitest';
import { runTrack } from '../../../bench/positioning/espresense.js';
import { espresenseOutage, outageSweep, THEIR_OUTAGE } from '../../../bench/positioning/espresense-outage.js';
import { knownParameterModel } from '../../../bench/positioning/known-parameter-model.js';
import { espresenseScenario, expandWaypoints, Rng } from '../../../src/sim/index.js';

const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('ESPresense single-station-outage sweep', () => {
  const s = espresenseScenario({ deviceHeight: 2.4 });
  const model = knownParameterModel(s, 2.4);
  const track = s.tracks.diagonal_walk!;
  const points = expandWaypoints(track.points, track.samplesPerSegment);

  it('withholds the station after drawing it: an unknown id changes nothing, a real one costs accuracy', () => {
    const full: number[] = [];
    const down: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const a = runTrack(model, s, points, new Rng(`t|${seed}`), 'single', 1000);
      const b = runTrack(model, s, points, new Rng(`t|${seed}`), 'single', 1000, '198.51.100.99');
      const c = runTrack(model, s, points, new Rng(`t|${seed}`), 'single', 1000, s.site.anchors[1]!.id);
      expect(b.errors).toEqual(a.errors);
      expect(c.errors).toHaveLength(points.length);
      expect(c.errors).not.toEqual(a.errors);
      full.push(meanOf(a.errors));
      down.push(meanOf(c.errors));
    }
    // Three stations instead of four: single fixes are worse on average over the seeds.
    expect(meanOf(down)).toBeGreaterThan(meanOf(full) * 1.05);
  });

  it('runs every published track × station for each case, one value per seed', () => {
    const cases = outageSweep(2);
    expect(cases).toHaveLength(4 * 2 * 4);
    for (const [trackName, stations] of Object.entries(THEIR_OUTAGE)) {
      for (const station of Object.keys(stations)) {
        const mine = cases.filter((c) => c.track === trackName && c.dropped === station);
        expect(mine.map((c) => `${c.mode}@${c.z}`)).toEqual([
          'single@2.4',
          'tracked@2.4',
          'tracked@0',
          'tracked@1',
        ]);
        for (const c of mine) {
          expect(c.median).toHaveLength(2);
          expect(c.p95.every((v, i) => v >= c.median[i]!)).toBe(true);
        }
      }
    }
  });

  it('prints their figures beside ours with a verdict on each, and tallies them', () => {
    const r = espresenseOutage(true);
    const lines = r.table.split('\n');
    expect(lines.filter((l) => l.includes('(published)'))).toHaveLength(8);
    const ours = lines.filter((l) => l.includes('| ours,'));
    expect(ours).toHaveLength(32);
    for (const l of ours)
      expect(l).toMatch(/± \d\.\d\d (beats|tie|behind) \|.*± \d\.\d\d (beats|tie|behind) \|/);
    const tally = r.notes!.find((n) => n.startsWith('Verdicts'))!;
    const counts = [...tally.matchAll(/(\d+) beat, (\d+) tie, (\d+) behind/g)].map(
      (m) => Number(m[1]) + Number(m[2]) + Number(m[3]),
    );
    expect(counts).toEqual([16, 16, 16, 16]);
  });
});
