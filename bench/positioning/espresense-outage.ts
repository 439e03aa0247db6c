// 1b. ESPresense-companion's single-station-outage sweep (docs/accuracy.md: drop each station, solve on the
//     remaining three), reproduced on the same scenario and tracks, beside their published figures.

import { summariseErrors } from '../../src/models/positioning/stats.js';
import { espresenseScenario, expandWaypoints, Rng } from '../../src/sim/index.js';
import { markdownTable } from '../markdown-table.js';
import type { BenchResult } from '../types.js';
import { formatVerdict, runTrack, type Verdict, verdictAgainst } from './espresense.js';
import { f2, pct, spread } from './format.js';
import { knownParameterModel } from './known-parameter-model.js';

/** Their published outage figures (docs/accuracy.md, seed 20260530), per track and dropped station. */
export const THEIR_OUTAGE: Record<string, Record<string, { median: number; p95: number }>> = {
  diagonal_walk: {
    'node-bedroom-ne': { median: 0.84, p95: 2.06 },
    'node-bedroom-se': { median: 0.8, p95: 1.69 },
    'node-living-nw': { median: 0.61, p95: 1.44 },
    'node-living-sw': { median: 0.85, p95: 2.17 },
  },
  living_to_bedroom: {
    'node-bedroom-ne': { median: 0.7, p95: 2.01 },
    'node-bedroom-se': { median: 0.71, p95: 2.04 },
    'node-living-nw': { median: 0.69, p95: 1.83 },
    'node-living-sw': { median: 0.69, p95: 1.86 },
  },
};

/**
 * The locators compared: single fixes in their geometry (the like-for-like row: their harness solves each sample on
 * its own, in the stations' plane), and the tracked output at 1 Hz — what the product reports — at all three heights.
 */
const CASES: ReadonlyArray<{ z: number; zLabel: string; mode: 'single' | 'tracked' }> = [
  { z: 2.4, zLabel: '2.4 (their geometry)', mode: 'single' },
  { z: 2.4, zLabel: '2.4 (their geometry)', mode: 'tracked' },
  { z: 0, zLabel: '0', mode: 'tracked' },
  { z: 1, zLabel: '1', mode: 'tracked' },
];

export interface OutageCase {
  track: string;
  dropped: string;
  z: number;
  mode: 'single' | 'tracked';
  /** Per seed. */
  median: number[];
  p95: number[];
  mean: number[];
  misid: number[];
  covered: number[];
}

/** Runs every track × dropped station × case over `seeds` seeds (1 Hz sampling). */
export function outageSweep(seeds: number): OutageCase[] {
  const out: OutageCase[] = [];
  for (const c of CASES) {
    const s = espresenseScenario({ deviceHeight: c.z });
    // The model knows all four stations, as theirs does: a station that is down simply stops reporting.
    const model = knownParameterModel(s, c.z);
    for (const [trackName, track] of Object.entries(s.tracks)) {
      const points = expandWaypoints(track.points, track.samplesPerSegment);
      for (const station of Object.keys(THEIR_OUTAGE[trackName] ?? {})) {
        const anchor = s.site.anchors.find((a) => a.label === station);
        if (!anchor) throw new Error(`scenario has no station ${station}`);
        const r: OutageCase = {
          track: trackName,
          dropped: station,
          z: c.z,
          mode: c.mode,
          median: [],
          p95: [],
          mean: [],
          misid: [],
          covered: [],
        };
        for (let seed = 1; seed <= seeds; seed++) {
          const rng = new Rng(`espresense-outage|${c.z}|${trackName}|${station}|${seed}`);
          const run = runTrack(model, s, points, rng, c.mode, 1000, anchor.id);
          const sum = summariseErrors(run.errors);
          r.median.push(sum.medianError);
          r.p95.push(sum.p95Error);
          r.mean.push(sum.meanError);
          r.misid.push(run.misid / points.length);
          r.covered.push(run.covered / Math.max(run.errors.length, 1));
        }
        out.push(r);
      }
    }
  }
  return out;
}

export function espresenseOutage(quick: boolean): BenchResult {
  const seeds = quick ? 3 : 200;
  const cases = outageSweep(seeds);
  const rows: Array<Array<string | number>> = [];
  const tally = new Map<string, Record<Verdict, number>>();
  for (const [trackName, stations] of Object.entries(THEIR_OUTAGE)) {
    for (const [station, theirs] of Object.entries(stations)) {
      rows.push([
        trackName,
        station,
        '—',
        'ESPresense NelderMead (published)',
        f2(theirs.median),
        f2(theirs.p95),
        '',
        '',
        '',
      ]);
      for (const c of cases.filter((k) => k.track === trackName && k.dropped === station)) {
        const zLabel = CASES.find((k) => k.z === c.z)!.zLabel;
        const label = c.mode === 'single' ? 'ours, single fix' : 'ours, tracked, 1 Hz';
        const median = verdictAgainst(c.median, theirs.median);
        const p95 = verdictAgainst(c.p95, theirs.p95);
        const key = `${label}, z = ${c.z} m`;
        const t = tally.get(key) ?? { beats: 0, tie: 0, behind: 0 };
        t[median.verdict]++;
        t[p95.verdict]++;
        tally.set(key, t);
        rows.push([
          trackName,
          station,
          zLabel,
          label,
          formatVerdict(median, f2),
          formatVerdict(p95, f2),
          spread(c.mean),
          spread(c.misid, pct),
          spread(c.covered, pct),
        ]);
      }
    }
  }
  return {
    title: `ESPresense scenario, one station down (their single-station-outage sweep; ${seeds} seeds, 1 Hz; errors in m)`,
    table: markdownTable(
      [
        'track',
        'station down',
        'z (m)',
        'locator',
        'median',
        'p95',
        'mean',
        'room mis-id',
        '95 % radius holds',
      ],
      rows,
    ),
    notes: [
      "Their docs/accuracy.md drops each station in turn and solves on the remaining three. Ours: the station's readings are drawn and then withheld (same random stream as the full run); the model still knows all four stations' positions, as theirs does.",
      'median and p95: the mean over seeds ± the 95 % confidence half-width of that mean, and the verdict against their one published run ("beats": the whole interval below theirs; "tie": theirs inside it). mean, room mis-id and coverage: mean ± sd across seeds (they publish none of these for the outage).',
      `Verdicts (median and p95, 8 published pairs each): ${[...tally]
        .map(([k, t]) => `${k}: ${t.beats} beat, ${t.tie} tie, ${t.behind} behind`)
        .join('; ')}.`,
    ],
  };
}
