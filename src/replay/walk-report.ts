import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadModelSet } from '../ingest/load-model-set.js';
import type { Site } from '../models/positioning/site.js';
import type { PingCalibration } from '../protocol/index.js';
import {
  type Cell,
  floorPlanSpec,
  type MetricTable,
  type ReportSpec,
  renderReport,
} from '../report/index.js';
import type { PositioningTrainReport } from '../training/positioning/train.js';
import { replay } from './replay.js';
import { replayReport } from './replay-report.js';
import type { WalkMode } from './walk-probes.js';

export interface WalkReportOptions {
  /** A walk (pingCalibration lines) with known locations. */
  input: string;
  /** A model version directory (as resolveVersionPath returns it). */
  versionPath: string;
  site?: Site;
  /** @defaultValue 'fix' */
  walkMode?: WalkMode;
  /** HTML file to write. */
  out: string;
  generator?: string;
}

/**
 * `sbp evaluate --report FILE`: the walk replayed through the worker with the model version (each point on its own,
 * as evaluate scores it) and the same HTML report `sbp replay --report` writes.
 */
export async function writeWalkReport(options: WalkReportOptions): Promise<void> {
  const models = await loadModelSet(options.versionPath);
  const result = await replay({ input: options.input, models, walkMode: options.walkMode ?? 'fix' });
  const spec = replayReport(result, {
    ...(options.site ? { site: options.site } : {}),
    generator: options.generator ?? 'sbp evaluate',
    generatedAt: new Date().toISOString(),
  });
  spec.title = `Evaluation of ${models.version} on ${basename(options.input)}`;
  await writeFile(options.out, await renderReport(spec));
}

export interface TrainingReportOptions {
  report: PositioningTrainReport;
  site: Site;
  /** The walk trained on (for the coverage plot). */
  walk: readonly PingCalibration[];
  version: string;
  walkFile: string;
  out: string;
}

const num = (v: number | undefined): Cell => (v === undefined || !Number.isFinite(v) ? null : v);

/** `sbp train --report FILE`: what the walk covered, the held-out errors per estimator, the ranging fit per anchor. */
export function trainingReport(o: Omit<TrainingReportOptions, 'out'>): ReportSpec {
  const r = o.report;
  const primary = r.cv[r.primary];
  const tables: MetricTable[] = [
    {
      title: `Held-out error (${r.folds}-fold cross-validation over walk points, single fixes)`,
      columns: [
        'estimator',
        'n',
        'mean (m)',
        'median (m)',
        'p90 (m)',
        'p95 (m)',
        'truth inside 95% radius',
        'located',
      ],
      rows: Object.entries(r.cv).map(([name, m]) => [
        name === r.primary ? `${name} (the model)` : name,
        m.n,
        num(m.meanError),
        num(m.medianError),
        num(m.p90Error),
        num(m.p95Error),
        `${(100 * m.coverage95).toFixed(1)}%`,
        `${(100 * m.located).toFixed(1)}%`,
      ]),
    },
    {
      title: 'Ranging fitted per anchor',
      columns: [
        'anchor',
        'RSSI P0 (dBm)',
        'exponent',
        'σ RSSI (dB)',
        'RTT offset (m)',
        'RTT scale',
        'σ RTT (m)',
        'RTT informative',
      ],
      rows: r.ranging.map((a) => [
        a.anchorId,
        num(a.rssi?.p0),
        num(a.rssi?.exponent),
        num(a.rssi?.sigmaDb),
        // An uninformative RTT fit (ping-grade timing) has meaningless offsets: show only its σ.
        a.rtt?.informative ? num(a.rtt.offsetM) : null,
        a.rtt?.informative ? num(a.rtt.scale) : null,
        a.rtt ? (a.rtt.informative ? num(a.rtt.sigmaM) : `≈ ${a.rtt.sigmaM.toExponential(1)}`) : null,
        a.rtt ? (a.rtt.informative ? 'yes' : 'no') : null,
      ]),
      caption:
        'Ping-grade RTT carries almost no range information (1 m ≈ 6.7 ns of round trip): its σ says so, and every estimator weights channels by these σ.',
    },
  ];
  return {
    title: `Training of ${o.version}`,
    subtitle: `${o.walk.length.toLocaleString('en-US')} calibration messages from ${basename(o.walkFile)}`,
    meta: [
      { label: 'walk', value: o.walkFile },
      { label: 'model', value: r.primary },
      { label: 'fused', value: r.chosen.members.join(' + ') },
    ],
    highlights: [
      { label: 'held-out median', value: num(primary?.medianError), unit: 'm', tone: 'good' },
      { label: 'held-out p90', value: num(primary?.p90Error), unit: 'm' },
      {
        label: 'honest 95% radius',
        value: primary ? `${(100 * primary.coverage95).toFixed(0)}%` : null,
        detail: 'truth inside the stated radius',
      },
      { label: 'training time', value: r.seconds, unit: 's' },
    ],
    tables,
    figures: [
      {
        title: 'Where the walk went',
        caption:
          'Grey dots: calibration points; diamonds: anchors. Rooms the walk did not visit cannot be located well.',
        wide: true,
        spec: floorPlanSpec({ site: o.site, walk: o.walk.map((m) => m.data.knownLocation), size: 760 }),
      },
    ],
    generator: 'sbp train',
    generatedAt: new Date().toISOString(),
  };
}

export async function writeTrainingReport(o: TrainingReportOptions): Promise<void> {
  await writeFile(o.out, await renderReport(trainingReport(o)));
}
