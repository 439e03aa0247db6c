import { writeDatasets } from '../replay/simulate-datasets.js';
import { type Command, parseFlags, UsageError } from './command.js';

const USAGE = `usage: sbp simulate --out DIR [--seed N]

Generates seeded, reproducible data sets (the same seed gives byte-identical files) from the project's simulators:
  site.json              the simulated home: rooms, walls, anchors
  walk.jsonl             a calibration walk (pingCalibration lines)      → sbp train
  test.jsonl             a held-out walk                                 → sbp evaluate, sbp replay
  baseline.jsonl         a normal day of device behaviour traffic        → anomaly training
  capture.jsonl          the next day, as the hub's --capture writes it  → sbp replay
  capture.labels.jsonl   its ground truth: anomaly windows, true positions
See datasets/README.md.

options:
  --out DIR      where to write (created if needed)                     (required)
  --seed N       random seed, an integer                                (default 1)
  --json         print what was written as one JSON object on the last line`;

const OPTIONS = {
  out: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const command: Command = {
  name: 'simulate',
  summary: 'generate seeded datasets: site, calibration walk, a day of traffic with labelled anomalies',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, OPTIONS);
    if (values.out === undefined) throw new UsageError('--out is required');
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`);
    }
    const started = performance.now();
    const files = await writeDatasets(values.out, { seed });
    const width = Math.max(...files.map((f) => f.name.length));
    console.log(
      `wrote ${files.length} files to ${values.out} (seed ${seed}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    for (const f of files) {
      console.log(
        `  ${f.name.padEnd(width)}  ${(f.bytes / 1024).toFixed(0).padStart(6)} KiB  ${String(f.lines).padStart(6)} lines  ${f.description}`,
      );
    }
    if (values.json) console.log(JSON.stringify({ seed, out: values.out, files }));
    return 0;
  },
};
