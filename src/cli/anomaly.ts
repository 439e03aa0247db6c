import { DatasetError, readLabelledCsv } from '../training/anomaly/csv-dataset.js';
import { evaluateDataset } from '../training/anomaly/evaluate-csv.js';
import { publishAnomalyVersion } from '../training/anomaly/model-io.js';
import { trainAnomalyFromCapture } from '../training/anomaly/train-from-capture.js';
import { readLatest } from '../training/model-dir.js';
import { type Command, parseFlags, UsageError } from './command.js';

const USAGE = `usage:
  sbp anomaly evaluate --csv FILE [--label-column NAME] [--json] [--seed N] [--trees N] [--samples N] [--no-baseline]
  sbp anomaly train --baseline CAPTURE.jsonl --out MODEL_DIR [--budget N] [--seed N] [--trees N] [--samples N]
                    [--score-interval SECONDS] [--devices N]

evaluate  Fits the isolation forest on every row of a numeric CSV (unsupervised; the label column, 0 = normal,
          1 = anomaly, is used only to score) and prints ROC AUC, PR AUC (average precision), fit and score time for
          this project's forest and the baseline ml-isolation-forest.
            --csv FILE            the data set (header line, numeric cells)
            --label-column NAME   the 0/1 label column (default: the last column)
            --json                the last line of output is one JSON object:
                                  {"rows","auc","prAuc","fitMs","scoreMs","baseline":{"auc","fitMs","scoreMs"}}
            --seed N              forest seed (default 0)
            --trees N             trees t (default 100)
            --samples N           subsample size ψ (default 256)
            --no-baseline         skip ml-isolation-forest (its cost grows with all rows; baseline fields are null)

train     Fits the behaviour model (features → isolation forests → alert thresholds) on a baseline capture — the
          hub's --capture JSON lines of a normal period — and publishes it as a new version of MODEL_DIR, copying
          the other models (positioning) of the current LATEST version unchanged.
            --baseline FILE       the capture (.jsonl or .jsonl.gz)
            --out MODEL_DIR       the model directory (created if needed)
            --budget N            false alerts per week you accept, network-wide (default 2)
            --seed N              (default 0)   --trees N (default 100)   --samples N (default 256)
            --score-interval S    seconds between two assessments of a device by the worker (default 60)
            --devices N           devices the live system scores (default: those in the capture)`;

function int(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number > 0, got "${value}"`);
  return n;
}

const fmt = (v: number, d = 4) => v.toFixed(d);

async function evaluate(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    csv: { type: 'string' },
    'label-column': { type: 'string' },
    json: { type: 'boolean', default: false },
    seed: { type: 'string' },
    trees: { type: 'string' },
    samples: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
  });
  if (values.csv === undefined) throw new UsageError('evaluate needs --csv FILE');
  const seed = int('seed', values.seed, 0);
  const trees = int('trees', values.trees, 100, 1);
  const samples = int('samples', values.samples, 256, 2);
  let ds: Awaited<ReturnType<typeof readLabelledCsv>>;
  try {
    ds = await readLabelledCsv(
      values.csv,
      values['label-column'] ? { labelColumn: values['label-column'] } : {},
    );
  } catch (error) {
    if (error instanceof DatasetError) {
      console.error(`sbp anomaly evaluate: ${error.message}`);
      return 1;
    }
    throw error;
  }
  let result: ReturnType<typeof evaluateDataset>;
  try {
    result = evaluateDataset(ds, { seed, trees, samples, baseline: !values['no-baseline'] });
  } catch (error) {
    // e.g. a label column with only one class: AUC is undefined.
    console.error(`sbp anomaly evaluate: ${values.csv}: ${(error as Error).message}`);
    return 1;
  }
  const b = result.baseline;
  console.log(
    `${values.csv}: ${result.rows} rows, ${result.features} features, ${result.anomalies} anomalies (label column "${ds.labelColumn}")`,
  );
  console.log(`model                      ROC AUC  PR AUC   fit ms   score ms`);
  console.log(
    `isolation forest (ours)    ${fmt(result.auc)}   ${fmt(result.prAuc)}   ${result.fitMs.toFixed(1).padStart(7)}  ${result.scoreMs.toFixed(1).padStart(8)}   t=${trees} ψ=${Math.min(samples, result.rows)} seed=${seed}`,
  );
  if (b) {
    console.log(
      `ml-isolation-forest        ${fmt(b.auc)}   ${fmt(b.prAuc)}   ${b.fitMs.toFixed(1).padStart(7)}  ${b.scoreMs.toFixed(1).padStart(8)}   t=${trees}, full-data trees, unseeded`,
    );
  }
  if (values.json) {
    console.log(
      JSON.stringify({
        rows: result.rows,
        auc: result.auc,
        prAuc: result.prAuc,
        fitMs: result.fitMs,
        scoreMs: result.scoreMs,
        // Exactly the shape issue #5 specifies (the baseline's PR AUC is in the table above, not here).
        baseline: b
          ? { auc: b.auc, fitMs: b.fitMs, scoreMs: b.scoreMs }
          : { auc: null, fitMs: null, scoreMs: null },
      }),
    );
  }
  return 0;
}

async function train(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    baseline: { type: 'string' },
    out: { type: 'string' },
    budget: { type: 'string' },
    seed: { type: 'string' },
    trees: { type: 'string' },
    samples: { type: 'string' },
    'score-interval': { type: 'string' },
    devices: { type: 'string' },
  });
  if (values.baseline === undefined) throw new UsageError('train needs --baseline CAPTURE.jsonl');
  if (values.out === undefined) throw new UsageError('train needs --out MODEL_DIR');
  const devices = values.devices === undefined ? undefined : int('devices', values.devices, 1, 1);
  const started = performance.now();
  let trained: Awaited<ReturnType<typeof trainAnomalyFromCapture>>;
  try {
    trained = await trainAnomalyFromCapture(values.baseline, {
      seed: int('seed', values.seed, 0),
      trees: int('trees', values.trees, 100, 1),
      sampleSize: int('samples', values.samples, 256, 2),
      falseAlertsPerWeek: positive('budget', values.budget, 2),
      scoreIntervalMs: positive('score-interval', values['score-interval'], 60) * 1000,
      ...(devices === undefined ? {} : { devices }),
    });
  } catch (error) {
    console.error(`sbp anomaly train: ${(error as Error).message}`);
    return 1;
  }
  const { model, read } = trained;
  if (read.badLines > 0) {
    console.error(`${values.baseline}: skipped ${read.badLines} bad lines, e.g.`);
    for (const e of read.firstErrors.slice(0, 3)) console.error(`  line ${e.line}: ${e.reason}`);
  }
  const parent = await readLatest(values.out);
  const { version, path } = await publishAnomalyVersion(values.out, model, { parent });
  const s = model.data.summary;
  console.log(
    `trained on ${read.messages} messages: ${s.devices} devices, ${s.windows} scored windows (${new Date(s.from).toISOString()} … ${new Date(s.to).toISOString()}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    `alert budget ${model.data.params.falseAlertsPerWeek} false alerts/week; thresholds per feature group:`,
  );
  for (const [group, thr] of Object.entries(model.thresholdsFor()))
    console.log(`  ${group.padEnd(9)} ${thr.toFixed(4)}`);
  console.log(`wrote ${path}${parent ? ` (other models copied from ${parent})` : ''}; LATEST = ${version}`);
  return 0;
}

export const command: Command = {
  name: 'anomaly',
  summary:
    '`anomaly evaluate --csv FILE`: ROC/PR AUC of the isolation forest against the baseline; `anomaly train`',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'evaluate') return await evaluate(rest);
    if (sub === 'train') return await train(rest);
    throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
  },
};
