import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadModelSet } from '../ingest/load-model-set.js';
import type { Fix, ModelName } from '../models/positioning/fix.js';
import { roomAt, type Site } from '../models/positioning/site.js';
import type { PingCalibration } from '../protocol/index.js';
import {
  type Cell,
  type ErrorVector,
  errorByRoomSpec,
  errorCdfSpec,
  type Figure,
  floorPlanSpec,
  type MetricTable,
  type ReportSpec,
  renderReport,
} from '../report/index.js';
import type { CalibrationSample } from '../training/positioning/samples.js';
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
  /**
   * The cross-validation's held-out fixes (trainPositioning's `outOfFold`, per estimator, aligned with `samples`):
   * with them the report plots held-out errors on the plan, as a CDF per estimator and per room.
   */
  heldOut?: {
    samples: readonly CalibrationSample[];
    fixes: Partial<Record<ModelName, ReadonlyArray<Fix | null>>>;
  };
}

const num = (v: number | undefined): Cell => (v === undefined || !Number.isFinite(v) ? null : v);

/** Held-out error of each located sample, with the sample. */
function heldOutErrors(
  samples: readonly CalibrationSample[],
  fixes: ReadonlyArray<Fix | null> | undefined,
): Array<{ sample: CalibrationSample; fix: Fix; error: number }> {
  if (!fixes) return [];
  const out: Array<{ sample: CalibrationSample; fix: Fix; error: number }> = [];
  samples.forEach((sample, i) => {
    const fix = fixes[i];
    if (fix) out.push({ sample, fix, error: Math.hypot(fix.x - sample.x, fix.y - sample.y) });
  });
  return out;
}

/** The held-out plots: where each point's held-out fix landed, the error CDF per estimator, the error per room. */
function heldOutFigures(
  o: Omit<TrainingReportOptions, 'out'>,
  heldOut: NonNullable<TrainingReportOptions['heldOut']>,
): Figure[] {
  const r = o.report;
  const primary = heldOutErrors(heldOut.samples, heldOut.fixes[r.primary]);
  const vectors: ErrorVector[] = primary.map(({ sample, fix }) => ({
    truth: { x: sample.x, y: sample.y },
    estimate: { x: fix.x, y: fix.y },
  }));
  const figures: Figure[] = [
    {
      title: `Where the walk went, and where the model put each point when it was held out (${r.primary})`,
      caption:
        'Each line joins a calibration point (where it was) to the model’s fix of it from the fold that held it out: long lines are where the walk taught the model too little. Diamonds: anchors.',
      wide: true,
      spec: floorPlanSpec({ site: o.site, errors: vectors, size: 760 }),
    },
    {
      title: 'Held-out error, cumulative',
      caption:
        'Share of walk points located within x metres while held out, per estimator: further left is better.',
      spec: errorCdfSpec({
        series: (Object.keys(r.cv) as ModelName[]).map((name) => ({
          name: name === r.primary ? `${name} (the model)` : name,
          errors: heldOutErrors(heldOut.samples, heldOut.fixes[name]).map((e) => e.error),
        })),
      }),
    },
  ];
  const byRoom = new Map<string, { errors: number[]; right: number }>();
  for (const { sample, fix, error } of primary) {
    if (sample.room === undefined) continue;
    let room = byRoom.get(sample.room);
    if (!room) {
      room = { errors: [], right: 0 };
      byRoom.set(sample.room, room);
    }
    room.errors.push(error);
    if (roomAt(o.site, fix, sample.floor)?.id === sample.room) room.right += 1;
  }
  if (byRoom.size > 0) {
    const names = new Map(o.site.rooms.map((room) => [room.id, room.name ?? room.id]));
    figures.push({
      title: `Held-out error per room (${r.primary})`,
      caption:
        'Box: quartiles; whiskers: p10–p90; tick: median; room: share of fixes in the right room. Worst first.',
      spec: errorByRoomSpec({
        rooms: [...byRoom.entries()].map(([id, room]) => ({
          room: names.get(id) ?? id,
          errors: room.errors,
          roomAccuracy: room.right / room.errors.length,
        })),
      }),
    });
  }
  return figures;
}

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
    figures: o.heldOut
      ? heldOutFigures(o, o.heldOut)
      : [
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
