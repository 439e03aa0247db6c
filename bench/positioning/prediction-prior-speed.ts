// What the tracker's prediction prior costs (src/models/positioning/prediction-prior.ts): a model that answers with
// multilateration alone solves each fix twice with it. Same readings, same run, the prior switched off as baseline.

import { createPositioner } from '../../src/models/positioning/positioner.js';
import { anchorChannels, espresenseScenario, expandWaypoints, measureAt, Rng } from '../../src/sim/index.js';
import { markdownTable } from '../markdown-table.js';
import type { BenchResult } from '../types.js';
import { cpuMs } from './cpu-ms.js';
import { f1 } from './format.js';
import { knownParameterModel } from './known-parameter-model.js';

export function predictionPriorSpeed(quick: boolean): BenchResult {
  const s = espresenseScenario({ deviceHeight: 0 });
  const model = knownParameterModel(s, 0);
  const track = s.tracks.diagonal_walk!;
  const points = expandWaypoints(track.points, track.samplesPerSegment);
  const channels = anchorChannels(s.site, s.radio, new Rng(1));
  const rng = new Rng('prediction-prior-speed');
  const t0 = Date.UTC(2025, 0, 1);
  const passes = Array.from({ length: quick ? 5 : 40 }, () =>
    points.map((p, i) => measureAt(s.site, s.radio, channels, p, rng, t0 + 1000 * i)),
  );
  const run = (predictionPrior: boolean) => {
    const positioner = createPositioner(model, 'bench', { predictionPrior });
    let n = 0;
    const t = cpuMs(() => {
      for (const pass of passes) {
        let state = positioner.initialState();
        pass.forEach((readings, i) => {
          state = positioner.update(state, readings, t0 + 1000 * i).state;
          n++;
        });
      }
    });
    return { n, ...t };
  };
  const rows: Array<Array<string | number>> = [];
  const results = ([false, true] as const).map((on) => {
    run(on); // warm-up (JIT, caches)
    return { on, ...run(on) };
  });
  const off = results[0]!;
  for (const r of results) {
    rows.push([
      r.on ? 'prediction prior (the default)' : 'plain fixes (baseline)',
      r.n,
      Math.round(r.n / (r.wall / 1000)),
      f1(1000 * (r.cpu / r.n)),
      r.on ? `${(r.cpu / off.cpu).toFixed(2)}× the CPU` : '',
    ]);
  }
  return {
    title:
      'Positioner updates per second, multilateration alone (ESPresense floor, known parameters, z = 0 m diagonal at 1 Hz): the prediction prior against plain fixes',
    table: markdownTable(['tracker fed', 'updates', 'updates/s (wall)', 'µs/update (CPU)', 'cost'], rows),
    notes: [
      'Each update after a track’s first solves the fix twice with the prior: once as the model answers, once around the prediction. Models that fuse several estimators do not use it, so the demo-home rows above are unaffected.',
    ],
  };
}
