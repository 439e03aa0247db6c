// Anomaly detection benchmark (issue #5). Three tables:
//   1. ODDS sets (../shared/datasets/anomaly, or SBP_ANOMALY_DATASETS / --datasets DIR): ROC AUC over many seeds for
//      this project's forest, ml-isolation-forest (measured here) and scikit-learn (SOURCE.md's figures, and measured
//      in this run by bench/anomaly-sklearn.py when /usr/bin/python3 has sklearn), with fit + score times;
//   2. cost growth with rows (10k, 100k, 1M synthetic rows), each measurement in a fresh process for peak memory;
//   3. the traffic simulator's labelled anomalies: precision, recall and time to detection at the alert budget,
//      against one forest over all features (the textbook set-up) trained and thresholded the same way.
// Full run: `npm run bench -- anomaly` (about 8 minutes on 2 cores); smoke: `npm run bench -- --quick anomaly`;
// alone: `node bin/run-ts.js bench/anomaly.ts [--quick] [--datasets DIR]`.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { fitBaselineForest } from '../src/models/anomaly/baseline-forest.js';
import { FEATURE_NAMES } from '../src/models/anomaly/features.js';
import { fitIsolationForest, scoreIsolationForest } from '../src/models/anomaly/isolation-forest.js';
import { rocAuc } from '../src/models/anomaly/metrics.js';
import { type DetectionReport, evaluateDetections } from '../src/sim/traffic/detection-eval.js';
import { SIM_ANOMALY_TYPES, simulateTraffic } from '../src/sim/traffic/simulate-traffic.js';
import { readLabelledCsv } from '../src/training/anomaly/csv-dataset.js';
import { trainAnomalyModel } from '../src/training/anomaly/train.js';
import { markdownTable } from './markdown-table.js';
import type { BenchOptions, BenchResult } from './types.js';

const execFileAsync = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const DEFAULT_DATASETS = resolve(ROOT, '../shared/datasets/anomaly');
const SETS = [
  'shuttle',
  'mammography',
  'annthyroid',
  'satellite',
  'pima',
  'breastw',
  'arrhythmia',
  'ionosphere',
];
const QUICK_SETS = ['pima', 'breastw', 'ionosphere', 'arrhythmia'];

interface Reference {
  aucMean: number;
  aucStd: number;
  fitS: number;
  scoreS: number;
  mlAuc: number;
  mlFitS: number;
  mlScoreS: number;
}

/** The scikit-learn and ml-isolation-forest figures of SOURCE.md's table. */
function readReferences(dir: string): Map<string, Reference> {
  const out = new Map<string, Reference>();
  const file = join(dir, 'SOURCE.md');
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 11 || !SETS.includes(cells[1]!)) continue;
    const [mean, std] = cells[6]!.split('±').map((v) => Number(v.trim()));
    const [mlAuc, mlFit, mlScore] = cells[9]!.split('/').map((v) => Number(v.trim()));
    out.set(cells[1]!, {
      aucMean: mean!,
      aucStd: std!,
      fitS: Number(cells[7]),
      scoreS: Number(cells[8]),
      mlAuc: mlAuc!,
      mlFitS: mlFit!,
      mlScoreS: mlScore!,
    });
  }
  return out;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]) => {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};
const f4 = (v: number) => v.toFixed(4);
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

interface SklearnRun {
  set: string;
  version: string;
  aucs: number[];
  fitMs: number;
  scoreMs: number;
  cpuMs: number;
}

const PYTHON = process.env.SBP_PYTHON ?? '/usr/bin/python3';

/**
 * scikit-learn measured in this run (bench/anomaly-sklearn.py), when the machine has it (`apt-get install
 * python3-sklearn`): AUC over many seeds and fit + score times under the same load as ours. Null when absent.
 */
async function runSklearn(
  dir: string,
  sets: string[],
  seeds: number,
): Promise<Map<string, SklearnRun> | null> {
  try {
    await execFileAsync(PYTHON, ['-c', 'import sklearn'], { timeout: 30_000 });
  } catch {
    console.warn(
      `\n*** scikit-learn not found (${PYTHON}): the same-run comparison is skipped. To run it: apt-get install -y python3-sklearn ***\n`,
    );
    return null;
  }
  const { stdout } = await execFileAsync(
    PYTHON,
    [join(ROOT, 'bench/anomaly-sklearn.py'), dir, String(seeds), ...sets],
    { timeout: 1_800_000, maxBuffer: 16 << 20 },
  );
  const out = new Map<string, SklearnRun>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const run = JSON.parse(line) as SklearnRun;
    out.set(run.set, run);
  }
  return out;
}

/** Seconds of CPU (user + system) of this process spent in `fn`, and its wall-clock ms. */
function timed<T>(fn: () => T): { value: T; ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

const signed = (v: number) => (v >= 0 ? `+${f4(v)}` : f4(v));

async function oddsTable(dir: string, quick: boolean): Promise<BenchResult> {
  const title = 'Isolation forest on the ODDS sets: ROC AUC and fit + score time, next to scikit-learn';
  if (!existsSync(dir)) {
    const msg = `SKIPPED: ${dir} not found — the ODDS sets live beside the repository (../shared/datasets/anomaly); set SBP_ANOMALY_DATASETS or --datasets DIR`;
    console.warn(`\n*** ${msg} ***\n`);
    return { title, table: msg, notes: [] };
  }
  const refs = readReferences(dir);
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  const misses: string[] = [];
  const manyMisses: string[] = [];
  const fiveSeedOnly: string[] = [];
  const higher: string[] = [];
  const sets = (quick ? QUICK_SETS : SETS).filter((name) => {
    if (existsSync(join(dir, `${name}.csv`))) return true;
    console.warn(`*** SKIPPED ${name}: ${join(dir, `${name}.csv`)} not found ***`);
    notes.push(`${name}: skipped, not found in ${dir}`);
    return false;
  });
  // Many seeds on our side: the target compares our forest's expected AUC with scikit-learn's listed mean, and a
  // 5-seed mean of a set whose per-seed std is ≈0.01 is itself off by ≈0.005 — too noisy to judge a 0.01 margin.
  const seeds = quick ? 20 : 40;
  const ours = new Map<string, { aucs: number[]; ms: number; cpuMs: number; rows: number; cols: number }>();
  const base = new Map<string, { aucs: number[]; ms: number }>();
  for (const name of sets) {
    const ds = await readLabelledCsv(join(dir, `${name}.csv`));
    const x = ds.features;
    // One unmeasured fit + score so the JIT has compiled both before timing.
    scoreIsolationForest(fitIsolationForest(x, { seed: 99 }), x);
    const aucs: number[] = [];
    const times: number[] = [];
    const cpu: number[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const run = timed(() => scoreIsolationForest(fitIsolationForest(x, { seed }), x));
      if (seed < 5) {
        times.push(run.ms);
        cpu.push(run.cpuMs);
      }
      aucs.push(rocAuc(run.value, ds.labels));
    }
    ours.set(name, { aucs, ms: mean(times), cpuMs: mean(cpu), rows: x.rows, cols: x.cols });
    const runs = baseRuns(quick);
    const bAucs: number[] = [];
    const bTimes: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const model = fitBaselineForest(x);
      const scores = model.score(x);
      bTimes.push(performance.now() - t0);
      bAucs.push(rocAuc(scores, ds.labels));
    }
    base.set(name, { aucs: bAucs, ms: mean(bTimes) });
  }
  // After ours, not beside it: two measurements at once would share the two cores.
  const sk = await runSklearn(dir, sets, seeds);
  const slower: string[] = [];
  const slowerCpu: string[] = [];
  for (const name of sets) {
    const o = ours.get(name)!;
    const b = base.get(name)!;
    const ref = refs.get(name);
    const s = sk?.get(name);
    const oursMean = mean(o.aucs);
    const delta = ref ? oursMean - ref.aucMean : Number.NaN;
    if (ref && Math.abs(delta) > 0.01) misses.push(`${name} (Δ ${delta.toFixed(4)})`);
    const five = mean(o.aucs.slice(0, 5));
    if (ref && Math.abs(five - ref.aucMean) > 0.01)
      fiveSeedOnly.push(
        `${name} (ours ${f4(five)} vs ${f4(ref.aucMean)}; over seeds 0–${seeds - 1} ours ${f4(oursMean)}${s ? `, scikit-learn in this run ${f4(mean(s.aucs))}` : ''})`,
      );
    let same = 'n/a';
    if (s) {
      const d = oursMean - mean(s.aucs);
      const se = Math.sqrt(std(o.aucs) ** 2 / o.aucs.length + std(s.aucs) ** 2 / s.aucs.length);
      same = `${signed(d)} ± ${f4(se)}`;
      if (Math.abs(d) > 0.01) manyMisses.push(`${name} (Δ ${d.toFixed(4)})`);
    }
    if (mean(b.aucs) > oursMean + 0.005) higher.push(`${name} (${f4(mean(b.aucs))} vs ${f4(oursMean)})`);
    const skSource = ref ? (ref.fitS + ref.scoreS) * 1000 : Number.NaN;
    if (ref && o.ms >= skSource) slower.push(`${name} (${ms(o.ms)} vs ${ms(skSource)} ms)`);
    if (ref && o.cpuMs >= skSource) slowerCpu.push(name);
    rows.push([
      name,
      `${o.rows} × ${o.cols}`,
      `${f4(oursMean)} ± ${f4(std(o.aucs))}`,
      f4(mean(o.aucs.slice(0, 5))),
      ref ? `${f4(ref.aucMean)} ± ${f4(ref.aucStd)}` : 'n/a',
      ref ? signed(delta) : 'n/a',
      s ? `${f4(mean(s.aucs))} ± ${f4(std(s.aucs))}` : 'n/a',
      same,
      `${f4(mean(b.aucs))}${b.aucs.length > 1 ? ` ± ${f4(std(b.aucs))}` : ''}`,
      `${ms(o.ms)} (${ms(o.cpuMs)})`,
      ref ? ms(skSource) : 'n/a',
      ref ? `${(skSource / o.ms).toFixed(1)}×` : 'n/a',
      s ? `${ms(s.fitMs + s.scoreMs)} (${ms(s.cpuMs)})` : 'n/a',
      s ? `${((s.fitMs + s.scoreMs) / o.ms).toFixed(1)}× (${(s.cpuMs / o.cpuMs).toFixed(1)}×)` : 'n/a',
      ms(b.ms),
      `${(b.ms / o.ms).toFixed(0)}×`,
    ]);
  }
  const header = [
    'set',
    'rows × d',
    `ours AUC (seeds 0–${seeds - 1})`,
    'ours (seeds 0–4)',
    'sklearn AUC (0–4, SOURCE.md)',
    'Δ ours − SOURCE.md',
    `sklearn AUC (0–${seeds - 1}, this run)`,
    'Δ ours − sklearn this run ± SE',
    `ml-isolation-forest AUC (${baseRuns(quick)} run${quick ? '' : 's'})`,
    'ours fit+score ms (CPU ms)',
    'sklearn ms (SOURCE.md)',
    'SOURCE.md / ours',
    'sklearn ms this run (CPU ms)',
    'sklearn / ours this run (CPU)',
    'ml-iforest fit+score ms',
    'ml-iforest / ours',
  ];
  if (sk === null)
    notes.push(
      `scikit-learn is not installed here (${PYTHON} cannot import sklearn), so its columns use SOURCE.md's published figures only; to measure it in the same run: apt-get install -y python3-sklearn.`,
    );
  else
    notes.push(
      `scikit-learn ${[...sk.values()][0]?.version ?? '?'} measured in this run (bench/anomaly-sklearn.py, ${PYTHON}) right after ours, with the same seeds count and the protocol of SOURCE.md.`,
    );
  notes.push(
    misses.length === 0
      ? `Target met: our mean ROC AUC over seeds 0–${seeds - 1} is within 0.01 of scikit-learn’s SOURCE.md mean on every set measured.`
      : `Target (our mean over seeds 0–${seeds - 1} within 0.01 of SOURCE.md) missed on ${misses.join(', ')}.`,
    `Why our many-seed mean and not seeds 0–4: the two forests use different random generators, so seed k on one side has nothing to do with seed k on the other, and a 5-seed mean carries a standard error of std/√5 (≈0.005 for a per-seed std of 0.011, as on arrhythmia). Comparing two such means adds both errors.${fiveSeedOnly.length > 0 ? ` Seeds 0–4 alone would miss on ${fiveSeedOnly.join(', ')}.` : ''}`,
  );
  if (sk !== null) {
    notes.push(
      manyMisses.length === 0
        ? `Both forests measured in this run over seeds 0–${seeds - 1}: every set within 0.01. The forests are built the same way (ψ-subsample without replacement, depth ⌈log2 ψ⌉, the first non-constant feature drawn without replacement, a uniform threshold, ≤ going left, c(n) at the leaves); the remaining differences are of the size of their standard errors.`
        : `Both forests measured in this run over seeds 0–${seeds - 1}: the difference exceeds 0.01 on ${manyMisses.join(', ')}.`,
    );
  }
  notes.push(
    slower.length === 0
      ? 'Time target met: our fit + score is faster than SOURCE.md’s scikit-learn time on every set measured (wall-clock).'
      : `Time target (faster than SOURCE.md’s scikit-learn fit + score, measured on a quiet machine) missed by wall-clock on ${slower.join(', ')}; ${slowerCpu.length === 0 ? 'by CPU time (ours runs on one thread, so on a quiet machine wall-clock ≈ CPU) it is met on every set — the wall-clock loss is waiting for a core under this run’s load' : `by CPU time too on ${slowerCpu.join(', ')}`}.`,
    'Times: mean over seeds 0–4 after one warm-up fit, wall-clock with the process CPU time in brackets (CPU time is what load from other processes inflates least). scikit-learn from SOURCE.md (measured on a quiet machine of the same kind) and, when installed, measured in this run (mean over its seeds 0–4 after one warm-up).',
    higher.length === 0
      ? 'ml-isolation-forest scored higher on no set by more than 0.005.'
      : `ml-isolation-forest scores higher on ${higher.join(', ')}: its trees are grown on all n rows to depth ⌈log2 n⌉, so each tree sees every point and the dense, ragged normal clusters of these sets are cut finer; subsampling to ψ = 256 loses that resolution (and masks clustered anomalies less — Liu et al.'s reason to subsample) — at the price of cost growing with n (table below).`,
  );
  return { title, table: markdownTable(header, rows), notes };
}

function baseRuns(quick: boolean): number {
  return quick ? 1 : 5;
}

interface ChildResult {
  fitMs: number;
  scoreMs: number;
  /** Fit + score CPU time (user + system). */
  cpuMs: number;
  peakRssMb: number;
  dataRssMb: number;
  modelBytes?: number;
}

async function measure(
  impl: 'ours' | 'baseline',
  rows: number,
  cols: number,
  capMs: number,
): Promise<ChildResult | null> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        join(ROOT, 'bin/run-ts.js'),
        join(ROOT, 'bench/anomaly-scale-child.ts'),
        impl,
        String(rows),
        String(cols),
      ],
      { timeout: capMs, maxBuffer: 1 << 20, killSignal: 'SIGKILL' },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  } catch (error) {
    const e = error as { killed?: boolean; signal?: string; stderr?: string };
    if (e.killed || e.signal === 'SIGKILL') return null;
    throw new Error(`scale measurement ${impl} ${rows} failed: ${e.stderr ?? String(error)}`);
  }
}

async function scaleTable(quick: boolean): Promise<BenchResult> {
  const cols = 10;
  const sizes = quick ? [10_000] : [10_000, 100_000, 1_000_000];
  const capMs = quick ? 60_000 : 180_000;
  const rows: Array<Array<string | number>> = [];
  const notes: string[] = [];
  for (const n of sizes) {
    const ours = await measure('ours', n, cols, 600_000);
    // ml-isolation-forest grows with n·log n per tree and copies the data into arrays of arrays: 1M rows is out of
    // reach (SOURCE.md: a 567k-row set did not finish in 120 s), so it is not attempted.
    const base = n <= 100_000 ? await measure('baseline', n, cols, capMs) : undefined;
    const cell = (r: ChildResult | null | undefined, k: 'fitMs' | 'scoreMs') =>
      r === undefined ? 'not attempted' : r === null ? `> ${capMs / 1000} s (killed)` : ms(r[k]);
    rows.push([
      n.toLocaleString('en-US'),
      cell(ours, 'fitMs'),
      cell(ours, 'scoreMs'),
      ours ? ms(ours.cpuMs) : '—',
      ours ? (ours.peakRssMb - ours.dataRssMb).toFixed(0) : '—',
      ours?.modelBytes ? (ours.modelBytes / 2 ** 20).toFixed(2) : '—',
      cell(base, 'fitMs'),
      cell(base, 'scoreMs'),
      base ? ms(base.cpuMs) : '—',
      base ? (base.peakRssMb - base.dataRssMb).toFixed(0) : '—',
      ours && base ? `${((base.fitMs + base.scoreMs) / (ours.fitMs + ours.scoreMs)).toFixed(0)}×` : '—',
    ]);
  }
  notes.push(
    `${cols} Gaussian features, 1 % of rows shifted in one; t = 100 trees, ψ = 256. Each cell is one fresh process; memory = peak RSS minus the RSS after the data was generated (MB).`,
    'Ours: fit is O(t·ψ·log ψ) whatever n (only the ψ-subsample is touched), scoring O(n·t·log ψ); the model stays ~1 MB. ml-isolation-forest: fit O(t·n·log n) on a copy of the data as arrays of arrays, so both time and memory grow with n; its 1M-row run is not attempted (see SOURCE.md: 567k rows did not finish in 120 s).',
  );
  return {
    title: 'Cost growth with rows (synthetic data)',
    table: markdownTable(
      [
        'rows',
        'ours fit ms',
        'ours score ms',
        'ours CPU ms',
        'ours memory MB',
        'ours model MB',
        'ml-iforest fit ms',
        'ml-iforest score ms',
        'ml-iforest CPU ms',
        'ml-iforest memory MB',
        'ml-iforest / ours time',
      ],
      rows,
    ),
    notes,
  };
}

const DAY = 86_400_000;
/** a / b as "N.N×", or "∞" when only the baseline found nothing. */
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}×` : a > 0 ? '∞ (baseline 0)' : '—');

async function simulatorTable(quick: boolean): Promise<BenchResult> {
  const seeds = quick ? [1] : [1, 2];
  const devices = quick ? 8 : 16;
  const baselineDays = 2;
  const testDays = quick ? 1 : 5;
  const perType = quick ? 2 : 10;
  const budget = 2;
  const allFeatures = [{ name: 'all', features: [...FEATURE_NAMES] }];
  const reports: { ours: DetectionReport[]; single: DetectionReport[] } = { ours: [], single: [] };
  let testWeeks = 0;
  for (const seed of seeds) {
    const traffic = simulateTraffic({
      seed,
      devices,
      durationMs: (baselineDays + testDays) * DAY,
      anomalyFreeMs: baselineDays * DAY,
      anomaliesPerType: perType,
    });
    const cut = traffic.start + baselineDays * DAY;
    const baseline = traffic.events.filter((e) => e.event.t < cut);
    const ours = trainAnomalyModel({ baseline, seed, falseAlertsPerWeek: budget });
    const single = trainAnomalyModel({ baseline, seed, falseAlertsPerWeek: budget, groups: allFeatures });
    reports.ours.push(evaluateDetections(ours, traffic.events, traffic.anomalies, cut));
    reports.single.push(evaluateDetections(single, traffic.events, traffic.anomalies, cut));
    testWeeks += (testDays * DAY) / (7 * DAY);
  }
  const sum = (rs: DetectionReport[], f: (r: DetectionReport) => number) => rs.reduce((s, r) => s + f(r), 0);
  const rows: Array<Array<string | number>> = [];
  const minutes = (v: number | null) => (v === null ? '—' : (v / 60_000).toFixed(1));
  for (const type of SIM_ANOMALY_TYPES) {
    const row: Array<string | number> = [type];
    const recalls: number[] = [];
    for (const rs of [reports.ours, reports.single]) {
      const per = rs.map((r) => r.perType.find((p) => p.type === type)!);
      const injected = per.reduce((s, p) => s + p.injected, 0);
      const detected = per.reduce((s, p) => s + p.detected, 0);
      recalls.push(detected / Math.max(1, injected));
      const precisions = per.filter((p) => p.precision !== null).map((p) => p.precision!);
      const delays = per.filter((p) => p.medianDelayMs !== null);
      row.push(
        `${detected}/${injected} (${(detected / Math.max(1, injected)).toFixed(2)})`,
        precisions.length > 0 ? mean(precisions).toFixed(2) : '—',
        delays.length > 0 ? minutes(mean(delays.map((p) => p.medianDelayMs!))) : '—',
        delays.length > 0 ? minutes(Math.max(...delays.map((p) => p.maxDelayMs!))) : '—',
      );
    }
    row.push(ratio(recalls[0]!, recalls[1]!));
    rows.push(row);
  }
  const overall = (rs: DetectionReport[]) => {
    const alerts = sum(rs, (r) => r.alerts.length);
    const tp = sum(rs, (r) => r.truePositiveAlerts);
    const injected = sum(rs, (r) => r.perType.reduce((s, p) => s + p.injected, 0));
    const detected = sum(rs, (r) => r.perType.reduce((s, p) => s + p.detected, 0));
    return [
      `${detected}/${injected} (${(detected / Math.max(1, injected)).toFixed(2)})`,
      alerts > 0 ? (tp / alerts).toFixed(2) : '—',
      `${(alerts - tp) / testWeeks > 0 ? ((alerts - tp) / testWeeks).toFixed(1) : '0'} false/wk`,
      `${alerts - tp} false of ${alerts}`,
    ];
  };
  const recallOf = (rs: DetectionReport[]) =>
    sum(rs, (r) => r.perType.reduce((s, p) => s + p.detected, 0)) /
    Math.max(
      1,
      sum(rs, (r) => r.perType.reduce((s, p) => s + p.injected, 0)),
    );
  rows.push([
    'all',
    ...overall(reports.ours),
    ...overall(reports.single),
    ratio(recallOf(reports.ours), recallOf(reports.single)),
  ]);
  return {
    title: `Simulated anomalies at an alert budget of ${budget} false alerts/week: detection and time to alert`,
    table: markdownTable(
      [
        'anomaly',
        'ours recall',
        'ours precision',
        'ours median min to alert',
        'ours max min',
        'one-forest recall',
        'one-forest precision',
        'one-forest median min',
        'one-forest max min',
        'recall ours / one-forest',
      ],
      rows,
    ),
    notes: [
      `${seeds.length} seed(s) × ${devices} devices; ${baselineDays} days of normal traffic to train on, then ${testDays} days with ${perType} anomalies of each type per seed; devices report every 30 s, scored every minute over a 5-minute window; one alert per episode (alert gate).`,
      'Recall: injected anomalies with an alert on that device between onset and one window after the end. Precision (per type): alerts typed as that kind (interference also as packet_loss, rogue_scanner also as port_scan) that fell in an anomaly of that kind. Time to alert: onset → first alert (median over anomalies, and the worst).',
      'Baseline: the same features, training and budget thresholds with one forest over all 18 features — the textbook set-up. With 18 dimensions a point extreme in one feature is cut off only when that feature is drawn (≈1/18 per level), so its score barely leaves the normal range; the per-group forests are why ours detects.',
      `“all” row, last columns: false alerts per week over the ${(testWeeks * 7).toFixed(0)} simulated test days against the budget of ${budget}.`,
    ],
  };
}

export async function run(opts: BenchOptions & { datasets?: string }): Promise<BenchResult[]> {
  const dir = opts.datasets ?? process.env.SBP_ANOMALY_DATASETS ?? DEFAULT_DATASETS;
  const load = () =>
    loadavg()
      .map((v) => v.toFixed(1))
      .join(' / ');
  const before = load();
  const cpu0 = process.cpuUsage();
  const results = [
    await oddsTable(dir, opts.quick),
    await scaleTable(opts.quick),
    await simulatorTable(opts.quick),
  ];
  const cpu = process.cpuUsage(cpu0);
  results[0]!.notes = [
    ...(results[0]!.notes ?? []),
    `Machine load while this ran: load average (1 / 5 / 15 min) ${before} at the start, ${load()} at the end, on ${cpus().length} cores; this process used ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s of CPU (the scale table's children not included). Other work on the machine slows wall-clock figures; CPU figures much less.`,
  ];
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--datasets');
  const results = await run({
    quick: args.includes('--quick'),
    ...(at >= 0 && args[at + 1] ? { datasets: args[at + 1]! } : {}),
  });
  for (const r of results) {
    console.log(`\n### ${r.title}\n\n${r.table}\n`);
    for (const n of r.notes ?? []) console.log(`- ${n}`);
  }
}
