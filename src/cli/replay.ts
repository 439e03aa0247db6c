import { existsSync } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { loadModelSet } from '../ingest/load-model-set.js';
import type { WorkerModels } from '../ingest/worker-models.js';
import type { Site } from '../models/positioning/site.js';
import { JsonlWriter } from '../replay/jsonl-writer.js';
import { type GroundTruth, readLabels } from '../replay/labels.js';
import { formatSpeed, parseSpeed, type ReplaySpeed } from '../replay/pace.js';
import { createProgress } from '../replay/progress.js';
import { type ReplayResult, replay } from '../replay/replay.js';
import { replayReport } from '../replay/replay-report.js';
import { labelsPathFor, replaySummary } from '../replay/summary.js';
import type { WalkMode } from '../replay/walk-probes.js';
import { renderReport } from '../report/index.js';
import { resolveVersionPath } from '../training/model-dir.js';
import { hasPositioningModel, loadPositioningModel } from '../training/positioning/model-store.js';
import { readSiteFile } from '../training/site-file.js';
import { type Command, parseFlags, UsageError } from './command.js';

const USAGE = `usage: sbp replay --input CAPTURE.jsonl [options]

Replays a capture (the hub's --capture file, or a calibration walk of pingCalibration lines) through the worker's
own code with no socket, queue or store. Time comes from the messages' timestamps, so the same capture and models
give the same results at any speed. Where ground truth exists (calibration points' known locations, a simulator's
labels file) it reports accuracy and detection metrics. See docs/replay.md.

options:
  --input FILE        capture or walk, JSON lines (.gz is read as gzip)                       (required)
  --model DIR         model directory (its LATEST version) or one version directory
                      (default: no trained model — only what needs none)
  --compare DIR2      replay through a second model version too, and report what changed
  --labels FILE       ground truth: anomaly windows and true positions, JSON lines
                      (default: CAPTURE.labels.jsonl beside the input, when it exists)
  --site FILE         site.json for the floor plan (default: the model's site)
  --speed S           max | realtime | Nx (e.g. 10x): pace by the capture's clock            (default max)
  --out FILE          write the emitted messages (deviceUpdate, mlScoreUpdate, anomalyDetected,
                      trustUpdate, trustAlert) as JSON lines
  --compare-out FILE  the same for the --compare model
  --report FILE       write an HTML report with plots (one self-contained file)
  --walk MODE         fix: locate every calibration point on its own (like sbp evaluate);
                      track: the walk as one moving device through the tracker              (default fix)
  --batch-ms N        capture time per worker batch, ms                                     (default 1000)
  --grace-s N         an alert this long after a labelled anomaly ends still detects it     (default 300)
  --limit N           stop after N messages
  --parse-thread M    auto | on | off: read, validate and deduplicate the capture on a second
                      thread, pipelined with the replay (same results); auto = when a second
                      core is idle (load average ≤ cores − 1) and the input is 16 MB or more (default auto)
  --json              print the summary as one JSON object on the last line
  --quiet             no progress output`;

const OPTIONS = {
  input: { type: 'string' },
  model: { type: 'string' },
  compare: { type: 'string' },
  labels: { type: 'string' },
  site: { type: 'string' },
  speed: { type: 'string' },
  out: { type: 'string' },
  'compare-out': { type: 'string' },
  report: { type: 'string' },
  walk: { type: 'string' },
  'batch-ms': { type: 'string' },
  'grace-s': { type: 'string' },
  limit: { type: 'string' },
  'parse-thread': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--${flag} must be a positive number, got "${value}"`);
  }
  return n;
}

async function loadModels(
  dir: string | undefined,
  flag: string,
): Promise<{ models: WorkerModels; path: string | null }> {
  if (dir === undefined) return { models: await loadModelSet(null), path: null };
  let resolved: { path: string };
  try {
    resolved = await resolveVersionPath(dir);
  } catch (error) {
    throw new UsageError(`--${flag} ${dir}: ${(error as Error).message}`);
  }
  return { models: await loadModelSet(resolved.path), path: resolved.path };
}

async function siteOf(siteFile: string | undefined, versionPath: string | null): Promise<Site | undefined> {
  if (siteFile !== undefined) return readSiteFile(siteFile);
  if (versionPath !== null && (await hasPositioningModel(versionPath))) {
    return (await loadPositioningModel(versionPath)).data.site;
  }
  return undefined;
}

function printSummary(
  r: ReplayResult,
  out: { results?: string; compareResults?: string; report?: string },
): void {
  const lines = [
    `replayed ${r.capture.messages.toLocaleString('en-US')} messages in ${r.seconds.toFixed(2)} s (${Math.round(r.messagesPerSecond).toLocaleString('en-US')} msg/s)`,
    `  ${r.records} to the worker in ${r.batches} batches; ${Object.values(r.skipped).reduce((a, b) => a + (b ?? 0), 0)} skipped (not for the worker); ${r.duplicates} duplicates dropped`,
  ];
  if (r.badLines > 0) {
    lines.push(`  ${r.badLines} bad line${r.badLines === 1 ? '' : 's'} skipped; first:`);
    for (const e of r.firstErrors.slice(0, 5)) lines.push(`    line ${e.line}: ${e.reason.slice(0, 200)}`);
  }
  const sides = r.b ? [r.a, r.b] : [r.a];
  for (const s of sides) {
    lines.push(
      `model ${s.modelVersion}: ${s.emitted} messages emitted (${
        Object.entries(s.emittedByType)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      })`,
    );
    if (s.failures > 0) lines.push(`  ${s.failures} records failed in a model; first: ${s.firstFailures[0]}`);
    const p = s.position;
    if (p.n > 0) {
      const room = p.roomAccuracy === null ? '' : `, room accuracy ${(100 * p.roomAccuracy).toFixed(1)}%`;
      lines.push(
        `  positions: ${p.n} fixes, mean ${p.meanError.toFixed(2)} m, median ${p.medianError.toFixed(2)} m, p90 ${p.p90Error.toFixed(2)} m${room}`,
      );
    }
    const d = s.detection;
    if (!s.hasBehaviourModel) {
      lines.push(
        `  anomalies: no behaviour model in this version${d.windows > 0 ? ` (${d.windows} labelled anomalies not scored)` : ''}`,
      );
    } else if (d.windows > 0) {
      const ttd = d.timeToDetect
        ? `, median time to detect ${(d.timeToDetect.median / 60).toFixed(1)} min`
        : '';
      lines.push(
        `  anomalies: ${d.alerts} alerts, precision ${d.precision === null ? '—' : `${(100 * d.precision).toFixed(1)}%`}, recall ${(100 * (d.recall ?? 0)).toFixed(1)}% of ${d.windows} labelled${ttd}`,
      );
    } else {
      lines.push(`  anomalies: ${d.alerts} alerts (no labels)`);
    }
  }
  const c = r.comparison;
  if (c) {
    const disp = c.displacement
      ? `median ${c.displacement.median.toFixed(2)} m, p90 ${c.displacement.p90.toFixed(2)} m, max ${c.displacement.max.toFixed(2)} m`
      : 'no fix located by both';
    lines.push(
      `compare: positions moved ${disp} over ${c.pairs} fixes; alerts ${c.alertsA} → ${c.alertsB} (+${c.gained} gained, −${c.lost} lost); trust alerts ${c.trustAlertsA} → ${c.trustAlertsB} (+${c.trustGained}, −${c.trustLost})`,
    );
  }
  if (out.results) lines.push(`results: ${out.results}`);
  if (out.compareResults) lines.push(`compare results: ${out.compareResults}`);
  if (out.report) lines.push(`report: ${out.report}`);
  console.log(lines.join('\n'));
}

export const command: Command = {
  name: 'replay',
  summary: 'replay a captured dataset through the worker code, with metrics and an HTML report',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, OPTIONS);
    const input = values.input;
    if (input === undefined) throw new UsageError('--input is required');
    try {
      await access(input);
    } catch {
      throw new UsageError(`--input ${input}: no such file`);
    }
    let speed: ReplaySpeed = { kind: 'max' };
    if (values.speed !== undefined) {
      try {
        speed = parseSpeed(values.speed);
      } catch (error) {
        throw new UsageError(`--speed: ${(error as Error).message}`);
      }
    }
    const walk = values.walk ?? 'fix';
    if (walk !== 'fix' && walk !== 'track')
      throw new UsageError(`--walk must be fix or track, got "${walk}"`);
    const batchMs = positive('batch-ms', values['batch-ms']);
    const graceS = positive('grace-s', values['grace-s']);
    const limit = positive('limit', values.limit);
    const parseThread = values['parse-thread'] ?? 'auto';
    if (parseThread !== 'auto' && parseThread !== 'on' && parseThread !== 'off') {
      throw new UsageError(`--parse-thread must be auto, on or off, got "${parseThread}"`);
    }
    if (values['compare-out'] !== undefined && values.compare === undefined) {
      throw new UsageError('--compare-out needs --compare');
    }

    const a = await loadModels(values.model, 'model');
    const b = values.compare === undefined ? undefined : await loadModels(values.compare, 'compare');
    const labelsPath = values.labels ?? labelsPathFor(input);
    let truth: GroundTruth | undefined;
    if (values.labels !== undefined || existsSync(labelsPath)) {
      try {
        truth = await readLabels(labelsPath);
      } catch (error) {
        throw new UsageError(`--labels ${labelsPath}: ${(error as Error).message}`);
      }
    }
    const site = values.report === undefined ? undefined : await siteOf(values.site, a.path);

    const writer = values.out === undefined ? undefined : new JsonlWriter(values.out);
    const compareWriter =
      values['compare-out'] === undefined ? undefined : new JsonlWriter(values['compare-out']);
    const progress = createProgress(process.stderr, {
      label: 'replay',
      quiet: values.quiet === true || values.json === true,
    });
    let result: ReplayResult;
    try {
      result = await replay({
        input,
        models: a.models,
        ...(b ? { compare: b.models } : {}),
        ...(truth ? { truth } : {}),
        speed,
        walkMode: walk as WalkMode,
        ...(batchMs === undefined ? {} : { batchMs }),
        ...(graceS === undefined ? {} : { graceMs: graceS * 1000 }),
        ...(limit === undefined ? {} : { limit: Math.floor(limit) }),
        parseInWorker: parseThread === 'auto' ? 'auto' : parseThread === 'on',
        ...(writer ? { onResults: (m) => writer.write(m) } : {}),
        ...(compareWriter ? { onCompareResults: (m) => compareWriter.write(m) } : {}),
        onProgress: (s) => progress.update(s),
      });
    } finally {
      await writer?.close();
      await compareWriter?.close();
    }
    progress.stop({
      bytesRead: result.capture.bytesRead,
      totalBytes: result.capture.totalBytes,
      messages: result.capture.messages,
      badLines: result.badLines,
      emitted: result.a.emitted,
    });

    if (values.report !== undefined) {
      const spec = replayReport(result, {
        ...(site ? { site } : {}),
        meta: [
          { label: 'speed', value: formatSpeed(speed) },
          ...(truth ? [{ label: 'labels', value: labelsPath }] : []),
        ],
        generator: 'sbp replay',
        generatedAt: new Date().toISOString(),
      });
      await writeFile(values.report, await renderReport(spec));
    }
    printSummary(result, {
      ...(values.out === undefined ? {} : { results: values.out }),
      ...(values['compare-out'] === undefined ? {} : { compareResults: values['compare-out'] }),
      ...(values.report === undefined ? {} : { report: values.report }),
    });
    if (values.json) console.log(JSON.stringify(replaySummary(result)));
    return 0;
  },
};
