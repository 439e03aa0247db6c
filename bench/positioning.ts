// Positioning accuracy and speed.
//
//   npm run bench -- positioning [--quick]      or      node bin/run-ts.js bench/positioning.ts [--quick]
//   SBP_POSITIONING_DATASETS=/path/to/datasets/positioning to point at the real data (default ../shared/…)
//
// 1. ESPresense-companion's published scenario (baseline_4node_6x4m) reproduced in our simulator, several seeds,
//    beside their figures; plus what they do not publish: coverage of our 95 % radius and room-probability
//    calibration; and their single-station-outage sweep (one station down, solve on the other three).
// 2. Single-fix RMSE against the scenario's Cramér–Rao bound, with known parameters and with parameters learned
//    from a 60-point walk.
// 3. The real data sets: mean/median/p90 per estimator beside the reference figures of their README.
// 4. Speed: position solves per second, our 2×2 LM against ml-levenberg-marquardt on the same terms, same run;
//    fingerprint training time.

import { pathToFileURL } from 'node:url';
import { initTensorFlow } from '../src/models/positioning/tf-runtime.js';
import { crlb } from './positioning/crlb.js';
import { espresense } from './positioning/espresense.js';
import { espresenseOutage } from './positioning/espresense-outage.js';
import { positionerSpeed } from './positioning/positioner-speed.js';
import { realData } from './positioning/real-data.js';
import { solverSpeed } from './positioning/solver-speed.js';
import type { BenchOptions, BenchResult } from './types.js';

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  await initTensorFlow();
  const out: BenchResult[] = [];
  out.push(...(await espresense(opts.quick)));
  out.push(espresenseOutage(opts.quick));
  out.push(await crlb(opts.quick));
  out.push(solverSpeed(opts.quick));
  out.push(...(await positionerSpeed(opts.quick)));
  out.push(...(await realData(opts.quick)));
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    console.log(`\n### ${r.title}\n\n${r.table}\n`);
    for (const n of r.notes ?? []) console.log(`- ${n}`);
  }
}
