// 1. ESPresense-companion's published scenario (baseline_4node_6x4m) reproduced in our simulator, several seeds,
//    beside their figures; plus what they do not publish: coverage of our 95 % radius and room-probability
//    calibration.

import type { AnchorReading } from '../../src/models/contracts/positioning.js';
import type { PositioningModel } from '../../src/models/positioning/model.js';
import { createPositioner } from '../../src/models/positioning/positioner.js';
import { roomAt } from '../../src/models/positioning/site.js';
import { summariseErrors } from '../../src/models/positioning/stats.js';
import {
  anchorChannels,
  espresenseScenario,
  expandWaypoints,
  measureAt,
  Rng,
  type Scenario,
} from '../../src/sim/index.js';
import { markdownTable } from '../markdown-table.js';
import type { BenchResult } from '../types.js';
import { f2, halfWidth95, meanOf, pct, spread } from './format.js';
import { knownParameterModel } from './known-parameter-model.js';

// Device heights. Their harness (AccuracyHarness/AccuracyRunner.cs) draws each station's RSSI from the distance in
// the floor plane (dx, dy: no z), so its device is in the stations' plane: 2.4 m here, the like-for-like geometry.
// The scenario note asks for z = 0 and 1 m as well: a device below ceiling nodes has a flatter RSSI-distance curve
// near them, a harder geometry than theirs.
export const HEIGHTS: ReadonlyArray<readonly [number, string]> = [
  [2.4, '2.4 (their geometry)'],
  [0, '0'],
  [1, '1'],
];

export const THEIRS: Record<
  string,
  { median: number; p95: number; mean: number; max: number; misid: number }
> = {
  diagonal_walk: { median: 0.6, p95: 1.33, mean: 0.7, max: 1.56, misid: 0.066 },
  living_to_bedroom: { median: 0.6, p95: 1.61, mean: 0.69, max: 2.03, misid: 0.223 },
};

export interface TrackRun {
  errors: number[];
  misid: number;
  covered: number;
  roomStated: number[];
  roomHit: boolean[];
}

/**
 * Sample times along a track: every `intervalMs`, or — with 0, walking pace — the distance from the previous sample
 * at 1 m/s (at least 1 ms apart).
 */
function sampleTimes(points: ReadonlyArray<{ x: number; y: number }>, intervalMs: number): number[] {
  let t = Date.UTC(2025, 0, 1);
  return points.map((p, i) => {
    if (i > 0) {
      const q = points[i - 1]!;
      t += intervalMs > 0 ? intervalMs : Math.max(Math.round(1000 * Math.hypot(p.x - q.x, p.y - q.y)), 1);
    }
    return t;
  });
}

/**
 * One pass of a track: readings per sample (4 RSSI), through the tracked Positioner or as single fixes. With
 * `dropAnchorId` that station's readings are drawn (so the random stream is the one of the full run) and then
 * withheld: a station that is down.
 */
export function runTrack(
  model: PositioningModel,
  s: Scenario,
  points: ReadonlyArray<{ x: number; y: number }>,
  rng: Rng,
  mode: 'tracked' | 'single',
  intervalMs: number,
  dropAnchorId?: string,
): TrackRun {
  const channels = anchorChannels(s.site, s.radio, new Rng(1));
  const positioner = createPositioner(model, 'bench');
  let state = positioner.initialState();
  const out: TrackRun = { errors: [], misid: 0, covered: 0, roomStated: [], roomHit: [] };
  const times = sampleTimes(points, intervalMs);
  points.forEach((p, i) => {
    const t = times[i]!;
    const drawn: AnchorReading[] = measureAt(s.site, s.radio, channels, p, rng, t);
    const readings = dropAnchorId === undefined ? drawn : drawn.filter((r) => r.anchorId !== dropAnchorId);
    const u = positioner.update(mode === 'tracked' ? state : positioner.initialState(), readings, t);
    state = u.state;
    const e = u.estimate;
    if (!e) return;
    const err = Math.hypot(e.x - p.x, e.y - p.y);
    out.errors.push(err);
    if (err <= e.uncertainty) out.covered++;
    const truthRoom = roomAt(s.site, p)?.id;
    if (e.room !== truthRoom) out.misid++;
    if (e.roomProbability !== undefined) {
      out.roomStated.push(e.roomProbability);
      out.roomHit.push(e.room === truthRoom);
    }
  });
  return out;
}

export type Verdict = 'beats' | 'tie' | 'behind';

/**
 * Ours (per-seed values) against their one published figure: the mean over seeds with the half-width of its 95 %
 * confidence interval (normal approximation, 1.96·sd/√n); "beats" only when the whole interval is below theirs.
 */
export function verdictAgainst(
  ours: readonly number[],
  theirs: number,
): { mean: number; half: number; verdict: Verdict } {
  const mean = meanOf(ours);
  const half = halfWidth95(ours);
  const verdict = mean + half < theirs ? 'beats' : mean - half > theirs ? 'behind' : 'tie';
  return { mean, half, verdict };
}

/** A verdict as a table cell: "0.49 ± 0.01 beats". */
export function formatVerdict(v: ReturnType<typeof verdictAgainst>, fmt: (v: number) => string): string {
  return `${fmt(v.mean)} ± ${fmt(v.half)} ${v.verdict}`;
}

function againstPublished(ours: readonly number[], theirs: number, fmt: (v: number) => string): string {
  return formatVerdict(verdictAgainst(ours, theirs), fmt);
}

export async function espresense(quick: boolean): Promise<BenchResult[]> {
  // Room mis-id on one 61-sample track is a few samples: its seed-to-seed sd is ~4 points, so 20 seeds left the
  // mean uncertain by ±1.7 points (95 %). 200 seeds (a few seconds) pin it to about ±0.5.
  const seeds = quick ? 3 : 200;
  const intervals: Array<[string, number]> = [
    ['1 Hz', 1000],
    ['walking pace', 0],
  ];
  const rows: Array<Array<string | number>> = [];
  const honesty: Array<Array<string | number>> = [];
  const verdicts: Array<Array<string | number>> = [];
  const calib = new Map<string, { stated: number[]; hit: boolean[] }>();
  for (const [h, zLabel] of HEIGHTS) {
    const s = espresenseScenario({ deviceHeight: h });
    const model = knownParameterModel(s, h);
    // The same model whose track reports the filter's own covariance: the baseline of the coverage column.
    const filterOnly = knownParameterModel(s, h, { persistentShare: 0 });
    for (const [trackName, track] of Object.entries(s.tracks)) {
      const points = expandWaypoints(track.points, track.samplesPerSegment);
      const theirs = THEIRS[trackName]!;
      rows.push([
        `${trackName}`,
        '—',
        'ESPresense NelderMead (published)',
        points.length,
        f2(theirs.median),
        f2(theirs.p95),
        f2(theirs.mean),
        f2(theirs.max),
        pct(theirs.misid),
      ]);
      for (const [label, interval] of intervals) {
        for (const mode of ['tracked', 'single'] as const) {
          if (mode === 'single' && interval === 0) continue;
          const per = {
            median: [] as number[],
            p95: [] as number[],
            mean: [] as number[],
            max: [] as number[],
            misid: [] as number[],
            cov: [] as number[],
            covFilter: [] as number[],
          };
          for (let seed = 1; seed <= seeds; seed++) {
            const rng = new Rng(`espresense|${h}|${trackName}|${seed}`);
            const r = runTrack(model, s, points, rng, mode, interval);
            const sum = summariseErrors(r.errors);
            per.median.push(sum.medianError);
            per.p95.push(sum.p95Error);
            per.mean.push(sum.meanError);
            per.max.push(sum.maxError);
            per.misid.push(r.misid / points.length);
            per.cov.push(r.covered / Math.max(r.errors.length, 1));
            if (mode === 'tracked') {
              const f = runTrack(
                filterOnly,
                s,
                points,
                new Rng(`espresense|${h}|${trackName}|${seed}`),
                mode,
                interval,
              );
              per.covFilter.push(f.covered / Math.max(f.errors.length, 1));
            }
            if (mode === 'tracked' && interval === 1000) {
              const key = `${trackName}, z = ${h} m`;
              const c = calib.get(key) ?? { stated: [], hit: [] };
              c.stated.push(...r.roomStated);
              c.hit.push(...r.roomHit);
              calib.set(key, c);
            }
          }
          rows.push([
            trackName,
            zLabel,
            `ours, ${mode === 'tracked' ? 'tracked (IMM Kalman)' : 'single fix'}, ${label}`,
            points.length,
            spread(per.median),
            spread(per.p95),
            spread(per.mean),
            spread(per.max),
            spread(per.misid, pct),
          ]);
          honesty.push([
            trackName,
            zLabel,
            `${mode}, ${label}`,
            spread(per.cov, pct),
            mode === 'tracked' ? spread(per.covFilter, pct) : '—',
            mode === 'tracked' ? f2(model.data.tracker.persistentShare ?? 0) : '—',
          ]);
          verdicts.push([
            trackName,
            zLabel,
            mode === 'tracked' ? `tracked, ${label}` : 'single fix',
            againstPublished(per.median, theirs.median, f2),
            againstPublished(per.p95, theirs.p95, f2),
            againstPublished(per.mean, theirs.mean, f2),
            againstPublished(per.max, theirs.max, f2),
            againstPublished(per.misid, theirs.misid, pct),
          ]);
        }
      }
    }
  }
  const bins = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0001];
  const calibRows: Array<Array<string | number>> = [];
  for (const [key, c] of calib) {
    for (let b = 0; b < bins.length - 1; b++) {
      const idx = c.stated.map((p, i) => [p, i] as const).filter(([p]) => p >= bins[b]! && p < bins[b + 1]!);
      if (idx.length === 0) continue;
      calibRows.push([
        key,
        `${bins[b]!.toFixed(1)}–${Math.min(bins[b + 1]!, 1).toFixed(1)}`,
        idx.length,
        f2(meanOf(idx.map(([p]) => p))),
        f2(meanOf(idx.map(([, i]) => (c.hit[i] ? 1 : 0)))),
      ]);
    }
  }
  return [
    {
      title: `ESPresense scenario baseline_4node_6x4m (${seeds} seeds, mean ± sd across seeds; errors in m)`,
      table: markdownTable(
        ['track', 'z (m)', 'locator', 'n', 'median', 'p95', 'mean', 'max', 'room mis-id'],
        rows,
      ),
      notes: [
        "Scenario as ../shared/benchmarks/espresense-scenario.md describes it (stations in the corners at 2.4 m, σ 2.5 dB, 10 % of samples −6 dB); waypoints from upstream's scenario file, 30 samples per segment.",
        "Device height z: their harness (AccuracyHarness/AccuracyRunner.cs) computes each station's true distance from dx and dy only, so its device lies in the stations' plane; z = 2.4 m reproduces that geometry and is the like-for-like row. z = 0 and 1 m (a device below the ceiling nodes, as the scenario note asks to show) are harder: the RSSI changes less with horizontal distance near a node.",
        "Our locator is given the same knowledge as theirs (RSSI at 1 m −59 dBm, exponent 3): multilateration with a Huber loss, no calibration walk; its fix is the posterior mean over the floor (src/models/positioning/multilateration-posterior.ts), not the cost's minimum.",
        '"1 Hz": one sample of the four stations per second (ESPresense nodes report about once a second); "walking pace": the samples are 1 m/s apart in time along the track (0.1 s on the diagonal).',
        "Their harness solves each sample on its own through the multilateralizer (its comment: the device's Kalman filter lives elsewhere, so there is no cross-call continuity), although their docs/accuracy.md says the device state is reused: their figures are single fixes. We show our single fixes (the like-for-like comparison) and our tracked output (what the product reports).",
        'Room mis-id uses the room our estimate names (argmax of the room probabilities; living room wins on x = 4, as in their harness).',
      ],
    },
    {
      title: `ESPresense scenario: our figures against their published ones (mean over ${seeds} seeds ± the 95 % confidence half-width of that mean)`,
      table: markdownTable(
        ['track', 'z (m)', 'ours', 'median', 'p95', 'mean', 'max', 'room mis-id'],
        verdicts,
      ),
      notes: [
        '"beats": the whole 95 % interval of our mean lies below their figure; "behind": above it; "tie": their figure lies inside it. Their figures are one run (seed 20260530), so their own seed-to-seed spread is unknown.',
        'z = 2.4 m is their geometry (see the table above); z = 0 and 1 m are harder ones they did not run.',
      ],
    },
    {
      title:
        'Uncertainty honesty: share of fixes whose truth lies inside the reported 95 % radius (target ≈ 95 %)',
      table: markdownTable(
        [
          'track',
          'z (m)',
          'mode',
          'coverage of the 95 % radius',
          "tracked with the filter's own covariance (baseline)",
          'persistent share ρ',
        ],
        honesty,
      ),
      notes: [
        'No peer publishes this. The radius is the exact 95 % circle of the reported covariance (not a σ multiple).',
        "Tracked, the reported covariance keeps a share ρ of the fix's ((1 − ρ)·P + ρ·R): fixes of a device standing or creeping in one place share their error, which the filter cannot see. ρ is fitted as training fits it, on a simulated calibration walk (60 random points × 30 readings, seeds not the benchmark's); the baseline column is the same track reporting the filter's own covariance.",
      ],
    },
    {
      title:
        'Room probability calibration (tracked, 1 Hz, all seeds): a stated probability p should be right ≈ p of the time',
      table: markdownTable(['track', 'stated p', 'n', 'mean stated', 'observed hit rate'], calibRows),
    },
  ];
}
