// Speed of the whole positioner (fixes per second) and the fingerprint model's training time.

import type { PositionEstimate } from '../../src/models/contracts/positioning.js';
import { encodeStandardised } from '../../src/models/positioning/features.js';
import { observationsFromReadings } from '../../src/models/positioning/observation.js';
import { createPositioner } from '../../src/models/positioning/positioner.js';
import { createSimulatedWorld } from '../../src/sim/index.js';
import { samplesFromMessages } from '../../src/training/positioning/samples.js';
import { trainPositioning } from '../../src/training/positioning/train.js';
import { markdownTable } from '../markdown-table.js';
import type { BenchResult } from '../types.js';
import { cpuMs } from './cpu-ms.js';
import { f1, f2 } from './format.js';

/**
 * Whole Positioner updates per second (fix from every estimator the model fuses, fusion, IMM track, rooms) on the
 * demo home, with the fingerprint network scored through TF.js (`model.predict`, the baseline) and through the
 * plain forward pass, in the same run; and the network's inference alone.
 */
export async function positionerSpeed(quick: boolean): Promise<BenchResult[]> {
  const world = createSimulatedWorld(3, { devices: 20 });
  const walk = samplesFromMessages(world.calibrationWalk({ spacingM: 1, samplesPerPoint: 3 }), world.site);
  const rows: Array<Array<string | number>> = [];
  const speedRows: Array<Array<string | number>> = [];
  const inferenceRows: Array<Array<string | number>> = [];
  const steps = Array.from({ length: quick ? 30 : 150 }, () => world.step(1000));
  for (const estimators of [
    ['multilateration', 'knn'],
    ['multilateration', 'knn', 'fingerprint'],
  ] as const) {
    const t0 = performance.now();
    const { model, report } = await trainPositioning(walk, world.site, {
      seed: 1,
      folds: 5,
      deviceHeight: 1,
      estimators,
      fingerprint: { steps: quick ? 300 : 2500 },
    });
    const trainS = (performance.now() - t0) / 1000;
    const label = `${report.primary} (${report.chosen.members.join(' + ')})`;
    rows.push([
      estimators.join(' + '),
      label,
      walk.length,
      f2(trainS),
      report.fingerprint ? f2(report.fingerprint.seconds) : '—',
    ]);
    const run = () => {
      const positioner = createPositioner(model, 'bench');
      const states = new Map<string, ReturnType<typeof positioner.initialState>>();
      const estimates: Array<PositionEstimate | null> = [];
      let n = 0;
      const t = cpuMs(() => {
        for (const st of steps) {
          for (const d of st.devices) {
            const u = positioner.update(
              states.get(d.deviceId) ?? positioner.initialState(),
              d.readings,
              st.t,
            );
            states.set(d.deviceId, u.state);
            estimates.push(u.estimate);
            n++;
          }
        }
      });
      return { n, ...t, estimates };
    };
    const engines: Array<'tfjs' | 'plain'> = model.fingerprint ? ['tfjs', 'plain'] : ['plain'];
    const results = new Map<string, ReturnType<typeof run>>();
    for (const engine of engines) {
      if (model.fingerprint) model.fingerprint.inference = engine;
      run(); // warm-up (JIT, caches)
      results.set(engine, run());
    }
    const plain = results.get('plain')!;
    const base = results.get('tfjs');
    let maxMove = 0;
    if (base) {
      base.estimates.forEach((e, i) => {
        const p = plain.estimates[i];
        if (e && p) maxMove = Math.max(maxMove, Math.hypot(e.x - p.x, e.y - p.y));
      });
    }
    const ml = model.data.multilateration;
    const answer = ml?.params.posteriorMean ? 'posterior mean' : ml ? 'cost minimum' : '—';
    for (const [engine, r] of results) {
      speedRows.push([
        label,
        engine === 'tfjs' ? 'TF.js model.predict (baseline)' : model.fingerprint ? 'plain forward pass' : '—',
        answer,
        r.n,
        Math.round(r.n / (r.wall / 1000)),
        f1(1000 * (r.wall / r.n)),
        f1(1000 * (r.cpu / r.n)),
        engine === 'plain' && base ? `${(base.cpu / plain.cpu).toFixed(1)}× (CPU)` : '',
        engine === 'plain' && base ? maxMove.toExponential(1) : '',
      ]);
    }
    if (ml?.params.posteriorMean) {
      // What the posterior mean costs: the same model answering with the cost's minimum, in the same run.
      ml.params.posteriorMean = false;
      run();
      const minimum = run();
      ml.params.posteriorMean = true;
      speedRows.push([
        label,
        model.fingerprint ? 'plain forward pass' : '—',
        'cost minimum (posterior mean switched off; baseline)',
        minimum.n,
        Math.round(minimum.n / (minimum.wall / 1000)),
        f1(1000 * (minimum.wall / minimum.n)),
        f1(1000 * (minimum.cpu / minimum.n)),
        `posterior mean: ${(plain.cpu / minimum.cpu).toFixed(1)}× the CPU`,
        '',
      ]);
    }
    if (model.fingerprint) {
      // The network alone: one measurement set per call, as the Positioner scores it.
      const net = model.fingerprint;
      const dim = net.inputDim;
      const obs = steps.flatMap((st) => st.devices.map((d) => observationsFromReadings(d.readings)));
      const rowsOf = obs.map((o) => encodeStandardised(net.meta.spec, o, new Float32Array(dim)));
      const time = (f: (r: Float32Array) => unknown) => {
        for (const r of rowsOf.slice(0, 200)) f(r);
        return cpuMs(() => {
          for (const r of rowsOf) f(r);
        });
      };
      const tTf = time((r) => net.predictRowsTf(r, 1));
      const tPlain = time((r) => net.predictRows(r, 1));
      let maxDiff = 0;
      for (const r of rowsOf) {
        const a = net.predictRows(r, 1)[0]!;
        const b = net.predictRowsTf(r, 1)[0]!;
        maxDiff = Math.max(maxDiff, Math.abs(a.x - b.x), Math.abs(a.y - b.y));
      }
      const arch = `${dim}→${net.meta.hidden.join('→')}→3`;
      inferenceRows.push([
        arch,
        rowsOf.length,
        f1((1000 * tTf.cpu) / rowsOf.length),
        f1((1000 * tPlain.cpu) / rowsOf.length),
        `${(tTf.cpu / tPlain.cpu).toFixed(0)}×`,
        maxDiff.toExponential(1),
      ]);
      net.inference = 'plain';
    }
    model.fingerprint?.dispose();
  }
  return [
    {
      title: 'Training time (demo home, 5 anchors)',
      table: markdownTable(
        [
          'estimators trained',
          'model',
          'walk messages',
          'train + 5-fold CV (s)',
          'final fingerprint net (s)',
        ],
        rows,
      ),
    },
    {
      title: 'Positioner updates per second (demo home, 5 anchors, 20 devices; same run, same readings)',
      table: markdownTable(
        [
          'model',
          'fingerprint inference',
          'multilateration answer',
          'updates',
          'updates/s (wall)',
          'µs/update (wall)',
          'µs/update (CPU)',
          'speed-up',
          'max position change (m)',
        ],
        speedRows,
      ),
      notes: [
        "An update = one device's readings of every anchor: the fix of each estimator the model fuses, the fusion, the IMM track, the room probabilities and the 95 % radius.",
        'CPU time (user + system of this process) is the steadier figure on a shared machine; wall-clock updates/s drop with the load of other processes.',
        'Where cross-validation chose the posterior mean over the site for multilateration (160–320 cost evaluations per fix), the same model is also run with it switched off (the Laplace answer at the cost minimum): the row below it, and its ratio.',
        'The baseline scores the same trained network through TF.js (model.predict in tf.tidy); everything else is the same code. "max position change": largest distance between the two runs’ estimates (float32 TF.js vs float64 sums).',
      ],
    },
    {
      title: 'Fingerprint network inference, one measurement set per call (what the Positioner does)',
      table: markdownTable(
        [
          'network',
          'calls',
          'TF.js predict (µs, CPU)',
          'plain forward pass (µs, CPU)',
          'speed-up',
          'max |Δ| (m)',
        ],
        inferenceRows,
      ),
      notes: [
        'TF.js keeps training the network (wasm backend); scoring copies its dense weights once and runs the multiply-adds in a loop. test/models/positioning/fingerprint.test.ts holds both equal to 1e-5.',
      ],
    },
  ];
}

/** Errors of the live Positioner fed each test point's messages in time order (a standing device), per message. */
