// Positioning accuracy and speed.
//
//   npm run bench -- positioning [--quick]      or      node bin/run-ts.js bench/positioning.ts [--quick]
//   SBP_POSITIONING_DATASETS=/path/to/datasets/positioning to point at the real data (default ../shared/…)
//   SBP_POSITIONING_PARTS=real,speed to run only some parts (espresense, room-bound, outage, crlb, solver, speed, real; default all)
//
// 1. ESPresense-companion's published scenario (baseline_4node_6x4m) reproduced in our simulator, several seeds,
//    beside their figures; plus what they do not publish: coverage of our 95 % radius and room-probability
//    calibration; room mis-id beside a Bayes reference that knows the true noise model; and their
//    single-station-outage sweep (one station down, solve on the other three).
// 2. Single-fix RMSE against the scenario's Cramér–Rao bound, with known parameters and with parameters learned
//    from a 60-point walk.
// 3. The real data sets: mean/median/p90 per estimator beside the reference figures of their README.
// 4. Speed: position solves per second, our 2×2 LM against ml-levenberg-marquardt on the same terms, same run;
//    Positioner updates per second (and what the tracker's prediction prior costs a multilateration-only model);
//    fingerprint training time.

import { pathToFileURL } from 'node:url';
import { initTensorFlow } from '../src/models/positioning/tf-runtime.js';
import { crlb } from './positioning/crlb.js';
import { espresense } from './positioning/espresense.js';
import { espresenseOutage } from './positioning/espresense-outage.js';
import { espresenseRoomBound } from './positioning/espresense-room-bound.js';
import { positionerSpeed } from './positioning/positioner-speed.js';
import { predictionPriorSpeed } from './positioning/prediction-prior-speed.js';
import { realData } from './positioning/real-data.js';
import { solverSpeed } from './positioning/solver-speed.js';
import type { BenchOptions, BenchResult } from './types.js';

const PARTS = ['espresense', 'room-bound', 'outage', 'crlb', 'solver', 'speed', 'real'] as const;

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  await initTensorFlow();
  const parts = new Set(
    (process.env.SBP_POSITIONING_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim()),
  );
  const unknown = [...parts].filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw new Error(`SBP_POSITIONING_PARTS: unknown ${unknown.join(', ')} (known: ${PARTS.join(', ')})`);
  const out: BenchResult[] = [];
  if (parts.has('espresense')) out.push(...(await espresense(opts.quick)));
  if (parts.has('room-bound')) out.push(espresenseRoomBound(opts.quick));
  if (parts.has('outage')) out.push(espresenseOutage(opts.quick));
  if (parts.has('crlb')) out.push(await crlb(opts.quick));
  if (parts.has('solver')) out.push(solverSpeed(opts.quick));
  if (parts.has('speed')) out.push(...(await positionerSpeed(opts.quick)), predictionPriorSpeed(opts.quick));
  if (parts.has('real')) out.push(...(await realData(opts.quick)));
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run({ quick: process.argv.includes('--quick') });
  for (const r of results) {
    console.log(`\n### ${r.title}\n\n${r.table}\n`);
    for (const n of r.notes ?? []) console.log(`- ${n}`);
  }
}
