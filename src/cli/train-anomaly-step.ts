import { anomalyMetadata, saveAnomalyModel } from '../training/anomaly/model-io.js';
import { trainAnomalyFromCapture } from '../training/anomaly/train-from-capture.js';
import { UsageError } from './command.js';

// The anomaly family's step of `sbp train` (issue #5): `--baseline CAPTURE.jsonl` fits the behaviour model into the
// version being trained. Shaped as train.ts's TrainStep (structurally, so this file does not import train.ts).

type Values = Record<string, string | boolean | undefined>;

function num(values: Values, name: string, fallback: number, ok: (n: number) => boolean): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || !ok(n)) {
    throw new UsageError(`--${name}: invalid value "${String(raw)}"`);
  }
  return n;
}

export const anomalyTrainStep = {
  key: 'anomaly' as const,
  options: {
    baseline: { type: 'string' as const },
    budget: { type: 'string' as const },
    'score-interval': { type: 'string' as const },
  },
  usage: [
    '  --baseline CAPTURE.jsonl  also train the anomaly model on this capture of normal traffic (docs/anomaly.md)',
    '  --budget N                false alerts per week you accept, network-wide (default 2)',
    '  --score-interval S        seconds between two assessments of a device by the worker (default 60)',
  ],
  applies(values: Values): boolean {
    return typeof values.baseline === 'string';
  },
  async run(ctx: {
    values: Values;
    versionPath: string;
    version: string;
    seed: number;
    progress: { update(label: string, fraction: number): void };
    log(line: string): void;
  }): Promise<Record<string, unknown>> {
    const capture = ctx.values.baseline as string;
    ctx.progress.update('anomaly model', 0);
    const { model, read } = await trainAnomalyFromCapture(capture, {
      seed: ctx.seed,
      falseAlertsPerWeek: num(ctx.values, 'budget', 2, (n) => n > 0),
      scoreIntervalMs: num(ctx.values, 'score-interval', 60, (n) => n > 0) * 1000,
    });
    // train.ts writes metadata.json (with the section returned here) once every step is done.
    await saveAnomalyModel(ctx.versionPath, model);
    ctx.progress.update('anomaly model', 1);
    const s = model.data.summary;
    if (read.badLines > 0) ctx.log(`${capture}: skipped ${read.badLines} bad lines`);
    ctx.log(
      `anomaly model: ${s.devices} devices, ${s.windows} windows; thresholds ${Object.entries(
        model.thresholdsFor(),
      )
        .map(([g, t]) => `${g} ${t.toFixed(3)}`)
        .join(', ')} (budget ${model.data.params.falseAlertsPerWeek} false alerts/week)`,
    );
    return anomalyMetadata(model.withVersion(ctx.version));
  },
};
