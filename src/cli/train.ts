import { rm } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { ESTIMATORS, type EstimatorName } from '../models/positioning/fix.js';
import { writeTrainingReport } from '../replay/walk-report.js';
import {
  createVersionDir,
  MODEL_DIR_FORMAT,
  type ModelMetadata,
  publishVersion,
  writeMetadata,
} from '../training/model-dir.js';
import { heldOutPoints } from '../training/positioning/held-out-points.js';
import { savePositioningModel } from '../training/positioning/model-store.js';
import { samplesFromMessages } from '../training/positioning/samples.js';
import { type PositioningTrainReport, trainPositioning } from '../training/positioning/train.js';
import { FINGERPRINT_INPUT_NOISE_LEVELS } from '../training/positioning/train-fingerprint.js';
import { readSiteFile, SiteFileError } from '../training/site-file.js';
import { describeWalkRead, readWalkFile } from '../training/walk-file.js';
import type { Command } from './command.js';
import { parseFlags, UsageError } from './command.js';
import { anomalyTrainStep } from './train-anomaly-step.js';

// `sbp train`: trains every model family whose inputs are given into one new version of a model directory, then
// publishes it (LATEST). Each family is a TrainStep; positioning is built in, the anomaly trainer (issue #5) adds
// its step to TRAIN_STEPS with its own flags (e.g. --baseline CAPTURE.jsonl).

/** Progress of a long step: a bar on a terminal, plain lines otherwise (CI logs, pipes). */
export interface ProgressReporter {
  update(label: string, fraction: number): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% | {label} | {duration}s',
        stream,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(label, fraction) {
        if (!started) {
          bar.start(100, 0, { label });
          started = true;
        }
        bar.update(Math.round(Math.min(Math.max(fraction, 0), 1) * 100), { label });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastPct = -1;
  let lastLabel = '';
  return {
    update(label, fraction) {
      const pct = Math.floor(Math.min(Math.max(fraction, 0), 1) * 10) * 10;
      if (pct === lastPct && label === lastLabel) return;
      lastPct = pct;
      lastLabel = label;
      stream.write(`progress: ${String(pct).padStart(3)}% ${label}\n`);
    },
    stop() {},
  };
}

export type TrainFlagValues = Record<string, string | boolean | undefined>;

export interface TrainStepContext {
  values: TrainFlagValues;
  /** The new version directory (not yet published). */
  versionPath: string;
  version: string;
  seed: number;
  progress: ProgressReporter;
  /** Prints a line of the human summary (stdout). */
  log(line: string): void;
}

export interface TrainStep {
  /** The metadata.json key the step's summary goes under. */
  key: 'positioning' | 'anomaly';
  /** Flags the step adds to `sbp train` (node:util parseArgs options). */
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  usage: string[];
  /** The step runs when its inputs were given. */
  applies(values: TrainFlagValues): boolean;
  /** Trains and writes into ctx.versionPath; returns the metadata section (parameters, data summary, metrics). */
  run(ctx: TrainStepContext): Promise<Record<string, unknown>>;
}

function fmt(v: number | undefined, digits = 2): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

export function formatErrorTable(
  rows: ReadonlyArray<{
    name: string;
    n?: number;
    meanError: number;
    medianError: number;
    p90Error: number;
    coverage95?: number;
  }>,
): string {
  const header = ['model', 'n', 'mean (m)', 'median (m)', 'p90 (m)', '95% radius holds'];
  const body = rows.map((r) => [
    r.name,
    r.n === undefined ? '' : String(r.n),
    fmt(r.meanError),
    fmt(r.medianError),
    fmt(r.p90Error),
    r.coverage95 === undefined ? '' : `${(r.coverage95 * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

function parseEstimators(v: string | undefined): EstimatorName[] | undefined {
  if (v === undefined) return undefined;
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const e of list) {
    if (!(ESTIMATORS as readonly string[]).includes(e)) {
      throw new UsageError(`--estimators: unknown estimator "${e}" (known: ${ESTIMATORS.join(', ')})`);
    }
  }
  if (list.length === 0) throw new UsageError('--estimators: give at least one');
  return list as EstimatorName[];
}

function numberFlag(
  values: TrainFlagValues,
  name: string,
  fallback: number,
  check: (n: number) => boolean,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new UsageError(`--${name}: invalid value "${String(raw)}"`);
  }
  return n;
}

const percent = (v: number): string => `${Math.round(100 * v)} %`;

function describeRanging(report: PositioningTrainReport): string[] {
  const lines = ['ranging per anchor (fitted from the walk):'];
  for (const r of report.ranging) {
    const parts = [`  ${r.anchorId.padEnd(16)}`];
    if (r.rssi) {
      parts.push(
        `RSSI p0 ${r.rssi.p0.toFixed(1)} dBm, n ${r.rssi.exponent.toFixed(2)}, σ ${r.rssi.sigmaDb.toFixed(1)} dB`,
      );
    }
    if (r.rtt) {
      parts.push(
        r.rtt.informative
          ? `RTT offset ${r.rtt.offsetM.toFixed(2)} m, scale ${r.rtt.scale.toFixed(3)}, σ ${r.rtt.sigmaM.toFixed(2)} m`
          : `RTT uninformative (σ ≈ ${r.rtt.sigmaM.toExponential(1)} m: ping-grade timing carries no range), ignored`,
      );
    }
    lines.push(parts.join(' | '));
  }
  return lines;
}

export const positioningStep: TrainStep = {
  key: 'positioning',
  options: {
    input: { type: 'string' },
    site: { type: 'string' },
    folds: { type: 'string' },
    'device-height': { type: 'string' },
    estimators: { type: 'string' },
    'fingerprint-steps': { type: 'string' },
    'fingerprint-members': { type: 'string' },
    'fingerprint-noise': { type: 'string' },
    report: { type: 'string' },
  },
  usage: [
    '  --input WALK.jsonl        calibration walk: pingCalibration messages, one per line (positioning)',
    '  --site SITE.json          the site: bounds, anchors, rooms, walls (required with --input)',
    "  --folds K                 cross-validation folds over the walk's points (default 5)",
    '  --device-height M         height of the carried device, metres (default 1; used with anchors that have z)',
    `  --estimators LIST         which to train, comma-separated (default all: ${ESTIMATORS.join(',')})`,
    '  --fingerprint-steps N     optimiser steps of the fingerprint network (default 2500)',
    '  --fingerprint-members N   networks in the fingerprint ensemble (default auto: 3 without multilateration, else 1)',
    `  --fingerprint-noise S     training input noise in within-point σ (default auto: ${FINGERPRINT_INPUT_NOISE_LEVELS.join(' or ')}, by cross-validation)`,
    '  --report FILE             also write an HTML report: held-out errors, ranging per anchor, walk coverage',
  ],
  applies: (values) => values.input !== undefined,
  async run(ctx) {
    const input = ctx.values.input as string;
    const sitePath = ctx.values.site;
    if (typeof sitePath !== 'string') throw new UsageError('--site SITE.json is required with --input');
    const folds = numberFlag(ctx.values, 'folds', 5, (n) => Number.isInteger(n) && n >= 2 && n <= 50);
    const deviceHeight = numberFlag(ctx.values, 'device-height', 1, (n) => n >= -10 && n <= 100);
    const steps = numberFlag(
      ctx.values,
      'fingerprint-steps',
      2500,
      (n) => Number.isInteger(n) && n >= 1 && n <= 1e6,
    );
    const membersFlag = ctx.values['fingerprint-members'];
    const members =
      membersFlag === undefined || membersFlag === 'auto'
        ? undefined
        : numberFlag(ctx.values, 'fingerprint-members', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 16);
    const noiseFlag = ctx.values['fingerprint-noise'];
    const inputNoise =
      noiseFlag === undefined || noiseFlag === 'auto'
        ? undefined
        : numberFlag(ctx.values, 'fingerprint-noise', 0, (n) => n >= 0 && n <= 10);
    const estimators = parseEstimators(ctx.values.estimators as string | undefined);
    const site = await readSiteFile(sitePath);
    const read = await readWalkFile(input);
    ctx.log(`${input}: ${describeWalkRead(read)}`);
    if (read.messages.length === 0) {
      throw new TrainInputError(`${input} holds no valid pingCalibration message: nothing to train on`);
    }
    const samples = samplesFromMessages(read.messages, site);
    const { model, report, outOfFold } = await trainPositioning(samples, site, {
      seed: ctx.seed,
      // The per-point held-out errors (metrics.heldOutPoints) are what the dashboard's coverage view maps.
      keepOutOfFold: true,
      folds,
      deviceHeight,
      ...(estimators ? { estimators } : {}),
      fingerprint: {
        steps,
        ...(members !== undefined ? { members } : {}),
        ...(inputNoise !== undefined ? { inputNoise } : {}),
      },
      onProgress: (stage, f) => ctx.progress.update(stage, f),
    });
    ctx.progress.stop();
    await savePositioningModel(ctx.versionPath, model);
    model.fingerprint?.dispose();
    const d = report.data;
    ctx.log(
      `walk: ${d.samples} messages at ${d.points} points, ${d.anchorsHeard} anchors heard (${d.rssiReadings} RSSI, ${d.rttReadings} RTT readings)`,
    );
    if (d.anchorsNotInSite.length > 0) {
      ctx.log(
        `  anchors heard but not placed in the site (fingerprint models only): ${d.anchorsNotInSite.join(', ')}`,
      );
    }
    if (d.anchorsNeverHeard.length > 0)
      ctx.log(`  site anchors never heard: ${d.anchorsNeverHeard.join(', ')}`);
    for (const l of describeRanging(report)) ctx.log(l);
    ctx.log('');
    ctx.log(`held-out error (${report.folds}-fold cross-validation over walk points, single fixes):`);
    const rows = (Object.keys(report.cv) as Array<keyof typeof report.cv>).map((name) => ({
      ...report.cv[name]!,
      name: name === report.primary ? `${name} ← model` : name,
    }));
    ctx.log(formatErrorTable(rows));
    const fused = report.chosen.members.map((m, i) => `${m}×${report.chosen.weights[i] ?? 1}`).join(' + ');
    ctx.log(`model: ${report.primary} (${fused}); trained in ${report.seconds.toFixed(1)} s`);
    const fp = report.fingerprint;
    if (fp && fp.inputNoiseTried.length > 1) {
      const tried = fp.inputNoiseTried.map((t) => `${t.inputNoise}σ ${t.meanError.toFixed(2)} m`).join(', ');
      ctx.log(`fingerprint input noise: ${fp.inputNoise}σ (held-out mean error: ${tried})`);
    }
    const tr = report.tracking;
    if (tr) {
      ctx.log(
        `tracked, walk points as standing devices: 95 % radius held ${percent(tr.coverageBefore)} → ` +
          `${percent(tr.coverageAfter)} keeping ${percent(tr.share)} of the fix covariance (persistent share)`,
      );
    }
    if (typeof ctx.values.report === 'string') {
      const out = ctx.values.report;
      await writeTrainingReport({
        report,
        site,
        walk: read.messages,
        version: ctx.version,
        walkFile: input,
        out,
        ...(outOfFold ? { heldOut: { samples, fixes: outOfFold } } : {}),
      });
      ctx.log(`report: ${out}`);
    }
    const primary = report.cv[report.primary]!;
    const points = heldOutPoints(samples, outOfFold?.[report.primary] ?? []);
    return {
      walk: input,
      site: sitePath,
      parameters: {
        seed: ctx.seed,
        folds,
        deviceHeight,
        estimators: estimators ?? [...ESTIMATORS],
        fingerprintSteps: steps,
        fingerprintMembers: report.fingerprint?.members ?? null,
        fingerprintInputNoise: report.fingerprint?.inputNoise ?? null,
      },
      data: report.data,
      chosen: report.chosen,
      ranging: report.ranging,
      covScales: report.covScales,
      fingerprint: report.fingerprint,
      tracking: report.tracking,
      metrics: {
        heldOut: {
          meanError: primary.meanError,
          medianError: primary.medianError,
          p90Error: primary.p90Error,
        },
        crossValidation: report.cv,
        // Per calibration point, the model's error while that point was held out (its CV fold): where to walk next.
        heldOutPoints: points,
      },
      trainingSeconds: report.seconds,
    };
  },
};

/** Bad input data (not a usage mistake): printed without the usage text, exit code 1. */
export class TrainInputError extends Error {
  override readonly name = 'TrainInputError';
}

/** The families `sbp train` knows, in the order they run. The anomaly trainer appends its step here (issue #5). */
export const TRAIN_STEPS: TrainStep[] = [positioningStep, anomalyTrainStep];

function usage(steps: readonly TrainStep[]): string {
  return [
    'usage: sbp train --input WALK.jsonl --site SITE.json --out MODEL_DIR [options]',
    '',
    'Trains into a new version of MODEL_DIR (MODEL_DIR/<version>/: metadata.json and one folder per model family)',
    'and points MODEL_DIR/LATEST at it once it is complete. Prints the held-out error in metres.',
    '',
    'options:',
    '  --out MODEL_DIR           model directory (created if missing)',
    '  --seed N                  seed of folds, shuffles and network initialisation (default 1)',
    ...steps.flatMap((s) => s.usage),
  ].join('\n');
}

export const command: Command = {
  name: 'train',
  summary: 'train positioning (and anomaly) models from a calibration walk into a model directory',
  get usage() {
    return usage(TRAIN_STEPS);
  },
  async run(argv) {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
      out: { type: 'string' },
      seed: { type: 'string' },
    };
    for (const s of TRAIN_STEPS) Object.assign(options, s.options);
    const values: TrainFlagValues = parseFlags(argv, options);
    const out = values.out;
    if (typeof out !== 'string') throw new UsageError('--out MODEL_DIR is required');
    const seed = numberFlag(values, 'seed', 1, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
    const steps = TRAIN_STEPS.filter((s) => s.applies(values));
    if (steps.length === 0)
      throw new UsageError('nothing to train: give --input WALK.jsonl (and --site SITE.json)');
    const { version, path } = await createVersionDir(out);
    const metadata: ModelMetadata = {
      formatVersion: MODEL_DIR_FORMAT,
      version,
      createdAt: new Date().toISOString(),
    };
    const progress = createProgress();
    try {
      for (const step of steps) {
        const section = await step.run({
          values,
          versionPath: path,
          version,
          seed,
          progress,
          log: (line) => console.log(line),
        });
        metadata[step.key] = section;
      }
    } catch (error) {
      progress.stop();
      // Never leave a half-written version behind (it was not published, but listVersions would show it).
      await rm(path, { recursive: true, force: true });
      if (error instanceof UsageError) throw error;
      if (error instanceof SiteFileError || error instanceof TrainInputError) {
        console.error(`sbp train: ${error.message}`);
        return 1;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        console.error(`sbp train: ${(error as Error).message}`);
        return 1;
      }
      throw error;
    }
    await writeMetadata(path, metadata);
    await publishVersion(out, version);
    console.log(`wrote ${path} and published it as ${out}/LATEST`);
    return 0;
  },
};
