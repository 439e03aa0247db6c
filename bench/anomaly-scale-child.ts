// One measurement of bench/anomaly.ts's cost-growth table, in a fresh process so peak memory is this model's alone:
//   node bin/run-ts.js bench/anomaly-scale-child.ts ours|baseline ROWS COLS
// Prints one JSON line: {"fitMs","scoreMs","cpuMs","peakRssMb","dataRssMb","modelBytes"?} (cpuMs: fit + score, user + system).
import { fitBaselineForest } from '../src/models/anomaly/baseline-forest.js';
import {
  fitIsolationForest,
  forestBytes,
  scoreIsolationForest,
} from '../src/models/anomaly/isolation-forest.js';
import { createRandom, gaussian } from '../src/models/anomaly/random.js';

const [impl, rowsArg, colsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const cols = Number(colsArg);
if ((impl !== 'ours' && impl !== 'baseline') || !(rows > 0) || !(cols > 0)) {
  console.error('usage: anomaly-scale-child.ts ours|baseline ROWS COLS');
  process.exit(2);
}
// Gaussian rows, 1 % shifted in one feature: the same data for both implementations.
const random = createRandom(rows);
const data = new Float64Array(rows * cols);
for (let i = 0; i < rows; i++) {
  for (let j = 0; j < cols; j++) data[i * cols + j] = gaussian(random);
  if (i % 100 === 0) data[i * cols] = 5 + random.next();
}
const x = { data, rows, cols };
const dataRssMb = process.memoryUsage().rss / 2 ** 20;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let score: () => Float64Array;
let modelBytes: number | undefined;
if (impl === 'ours') {
  const forest = fitIsolationForest(x, { seed: 0 });
  modelBytes = forestBytes(forest);
  score = () => scoreIsolationForest(forest, x);
} else {
  const model = fitBaselineForest(x);
  score = () => model.score(x);
}
const t1 = performance.now();
const scores = score();
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
if (scores.length !== rows) throw new Error('wrong number of scores');
console.log(
  JSON.stringify({
    fitMs: t1 - t0,
    scoreMs: t2 - t1,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    dataRssMb,
    ...(modelBytes === undefined ? {} : { modelBytes }),
  }),
);
