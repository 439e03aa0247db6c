import { basename } from 'node:path';
import {
  type Cell,
  errorByRoomSpec,
  errorCdfSpec,
  type Figure,
  type FloorPlanSite,
  floorPlanSpec,
  type Highlight,
  type MetricTable,
  type ReportSpec,
  scoreDistributionSpec,
  scoreTimelineSpec,
} from '../report/index.js';
import type { ReplayResult, SideResult } from './replay.js';

export interface ReplayReportOptions {
  /** The site, for the floor plan (without one the plan is drawn from the tracks' extent). */
  site?: FloorPlanSite;
  /** What to print as the model names (default: their versions). */
  labelA?: string;
  labelB?: string;
  /** Extra context lines (speed, labels file…). */
  meta?: ReadonlyArray<{ label: string; value: string }>;
  generatedAt?: string;
  generator?: string;
}

const pct = (v: number | null): Cell => (v === null ? null : `${(100 * v).toFixed(1)}%`);
const num = (v: number): Cell => (Number.isFinite(v) ? v : null);

/** The report of a replay: key figures, tables and plots, for `renderReport`. */
export function replayReport(r: ReplayResult, options: ReplayReportOptions = {}): ReportSpec {
  const labelA = options.labelA ?? r.a.modelVersion;
  const labelB = options.labelB ?? r.b?.modelVersion ?? 'B';
  const sides: Array<[string, SideResult]> = [[labelA, r.a]];
  if (r.b) sides.push([labelB, r.b]);
  const hasPositions = sides.some(([, s]) => s.position.n > 0);
  const hasLabels = r.a.detection.windows > 0;
  const detects = sides.some(([, s]) => s.hasBehaviourModel);

  const highlights: Highlight[] = [
    {
      label: 'messages',
      value: r.capture.messages,
      detail: `${r.records.toLocaleString('en-US')} to the worker`,
    },
    {
      label: 'replay speed',
      value: Math.round(r.messagesPerSecond),
      unit: 'msg/s',
      detail: `${r.seconds.toFixed(2)} s wall clock`,
    },
    {
      label: 'bad lines',
      value: r.badLines,
      tone: r.badLines > 0 ? 'bad' : 'good',
      detail: r.badLines > 0 ? `first at line ${r.firstErrors[0]?.line}` : 'every line valid',
    },
  ];
  if (hasPositions) {
    const p = r.a.position;
    highlights.push(
      {
        label: 'median error',
        value: p.medianError,
        unit: 'm',
        detail: `${p.n.toLocaleString('en-US')} fixes`,
      },
      { label: 'p90 error', value: p.p90Error, unit: 'm' },
    );
    if (p.roomAccuracy !== null) highlights.push({ label: 'room accuracy', value: pct(p.roomAccuracy) });
  }
  if (!detects) {
    highlights.push({
      label: 'anomaly detection',
      value: 'no model',
      detail: hasLabels
        ? `${r.a.detection.windows} labelled anomalies not scored`
        : 'no behaviour model loaded',
    });
  } else if (hasLabels) {
    const d = r.a.detection;
    highlights.push(
      {
        label: 'recall',
        value: pct(d.recall),
        detail: `${Math.round((d.recall ?? 0) * d.windows)} of ${d.windows} labelled anomalies`,
        tone: (d.recall ?? 0) >= 0.8 ? 'good' : 'bad',
      },
      {
        label: 'precision',
        value: pct(d.precision),
        detail: `${d.truePositives} of ${d.alerts} alerts`,
        tone: (d.precision ?? 0) >= 0.8 ? 'good' : 'bad',
      },
    );
    if (d.timeToDetect) {
      highlights.push({
        label: 'time to detect',
        value: d.timeToDetect.median / 60,
        unit: 'min',
        detail: 'median',
      });
    }
  } else {
    highlights.push({ label: 'alerts', value: r.a.detection.alerts });
  }
  if (r.comparison) {
    const c = r.comparison;
    highlights.push(
      {
        label: 'positions moved',
        value: c.displacement?.median ?? null,
        unit: 'm',
        detail: `median over ${c.pairs.toLocaleString('en-US')} fixes`,
      },
      {
        label: 'alerts gained / lost',
        value: `+${c.gained} / −${c.lost}`,
        detail: `trust alerts +${c.trustGained} / −${c.trustLost}`,
      },
    );
  }

  const tables: MetricTable[] = [];
  tables.push({
    title: 'Replay',
    columns: ['', 'value'],
    rows: [
      ['lines read', r.capture.lines],
      ['valid messages', r.capture.messages],
      ['bad lines', r.badLines],
      ['skipped (not for the worker)', Object.values(r.skipped).reduce((a, b) => a + (b ?? 0), 0)],
      ['duplicates dropped', r.duplicates],
      ['records to the worker', r.records],
      ['calibration points', r.calibrationPoints],
      ['batches', r.batches],
      ['capture time span', r.firstTime && r.lastTime ? `${r.firstTime} → ${r.lastTime}` : null],
    ],
  });
  tables.push({
    title: 'Emitted messages',
    columns: [
      'model',
      'total',
      'deviceUpdate',
      'mlScoreUpdate',
      'anomalyDetected',
      'trustUpdate',
      'trustAlert',
      'failed records',
    ],
    rows: sides.map(([name, s]) => [
      name,
      s.emitted,
      s.emittedByType.deviceUpdate ?? 0,
      s.emittedByType.mlScoreUpdate ?? 0,
      s.emittedByType.anomalyDetected ?? 0,
      s.emittedByType.trustUpdate ?? 0,
      s.emittedByType.trustAlert ?? 0,
      s.failures,
    ]),
  });
  if (hasPositions) {
    tables.push({
      title: 'Positioning accuracy',
      columns: [
        'model',
        'fixes',
        'mean (m)',
        'median (m)',
        'p90 (m)',
        'room accuracy',
        'truth inside 95% radius',
      ],
      rows: sides.map(([name, s]) => [
        name,
        s.position.n,
        num(s.position.meanError),
        num(s.position.medianError),
        num(s.position.p90Error),
        pct(s.position.roomAccuracy),
        pct(s.position.uncertaintyCoverage),
      ]),
      caption:
        r.calibrationPoints > 0
          ? `Truth: the calibration points' known locations (walk mode ${r.walkMode}: ${r.walkMode === 'fix' ? 'each point located on its own' : 'the walk tracked as one moving device'}).`
          : 'Truth: the positions in the labels file, interpolated in time.',
    });
  }
  if (hasLabels && detects) {
    tables.push({
      title: 'Anomaly detection',
      columns: [
        'model',
        'alerts',
        'true',
        'false',
        'precision',
        'recall',
        'type right',
        'median delay (min)',
        'false alerts / day',
      ],
      rows: sides.map(([name, s]) => {
        const d = s.detection;
        return [
          name,
          d.alerts,
          d.truePositives,
          d.falsePositives,
          pct(d.precision),
          pct(d.recall),
          pct(d.typeAccuracy),
          d.timeToDetect ? d.timeToDetect.median / 60 : null,
          d.falseAlertsPerDay,
        ];
      }),
    });
    tables.push({
      title: 'Recall per anomaly type',
      columns: ['type', 'labelled', ...sides.map(([name]) => `detected · ${name}`)],
      rows: r.a.detection.perType.map((t) => [
        t.anomalyType,
        t.windows,
        ...sides.map(
          ([, s]) => s.detection.perType.find((x) => x.anomalyType === t.anomalyType)?.detected ?? 0,
        ),
      ]),
    });
  }
  if (r.comparison) {
    const c = r.comparison;
    tables.push({
      title: `What changed from ${labelA} to ${labelB}`,
      columns: ['', 'value'],
      rows: [
        ['fixes located by both', c.pairs],
        ['mean displacement (m)', c.displacement ? c.displacement.mean : null],
        ['median displacement (m)', c.displacement ? c.displacement.median : null],
        ['p90 displacement (m)', c.displacement ? c.displacement.p90 : null],
        ['max displacement (m)', c.displacement ? c.displacement.max : null],
        ['moved more than 1 m', c.movedOverOneMetre],
        ['room changed', c.roomChanged],
        [`located only by ${labelA}`, c.locatedOnlyByA],
        [`located only by ${labelB}`, c.locatedOnlyByB],
        [`alerts ${labelA} → ${labelB}`, `${c.alertsA} → ${c.alertsB}`],
        ['alerts gained', c.gained],
        ['alerts lost', c.lost],
        [`trust alerts ${labelA} → ${labelB}`, `${c.trustAlertsA} → ${c.trustAlertsB}`],
        ['trust alerts gained', c.trustGained],
        ['trust alerts lost', c.trustLost],
      ],
    });
    const kind = (x: { kind: string }) => (x.kind === 'trust' ? 'trust alert' : 'anomaly');
    const changes = [
      ...c.gainedExamples.map((x) => ['gained', x.time, x.deviceId, kind(x), x.anomalyType] as Cell[]),
      ...c.lostExamples.map((x) => ['lost', x.time, x.deviceId, kind(x), x.anomalyType] as Cell[]),
    ];
    if (changes.length > 0) {
      tables.push({
        title: 'Alerts gained and lost (first 20 of each)',
        columns: ['', 'time', 'device', 'kind', 'type'],
        rows: changes,
      });
    }
  }
  if (r.firstErrors.length > 0) {
    tables.push({
      title: `Bad lines (first ${r.firstErrors.length} of ${r.badLines})`,
      columns: ['line', 'reason'],
      rows: r.firstErrors.map((e) => [String(e.line), e.reason.slice(0, 160)]),
    });
  }

  const figures: Figure[] = [];
  if (hasPositions || r.a.positionMetrics.tracks().length > 0) {
    const site = options.site ?? siteFromData(r.a);
    const tracks = r.a.positionMetrics.tracks();
    const walk = r.calibrationPoints > 0;
    figures.push({
      title: walk
        ? `Floor plan · where each calibration point was placed (${labelA})`
        : `Floor plan · tracks (${labelA})`,
      caption: walk
        ? 'Black dots: true calibration points; red: where the model put them; lines join the two. Diamonds: anchors.'
        : 'The first 80 fixes of each device (up to six devices). Coloured lines: estimated tracks, with some of their 95% uncertainty circles; dashed: the true path where labelled; a gap of over a minute breaks a line. Diamonds: anchors.',
      wide: true,
      spec: walk
        ? floorPlanSpec({ site, errors: r.a.positionMetrics.vectors(), size: 760 })
        : floorPlanSpec({ site, tracks: tracks.slice(0, 6), size: 760 }),
    });
  }
  if (hasPositions) {
    figures.push({
      title: 'Position error, cumulative',
      caption: 'Share of fixes whose error is at most x metres: the further left a line climbs, the better.',
      spec: errorCdfSpec({
        series: sides.map(([name, s]) => ({ name, errors: s.positionMetrics.errors() })),
      }),
    });
    const rooms = r.a.positionMetrics.rooms();
    if (rooms.length > 0) {
      figures.push({
        title: `Error per room (${labelA})`,
        caption: 'Box: quartiles; whiskers: p10–p90; tick: median. Worst room first — walk there again.',
        spec: errorByRoomSpec({
          rooms: rooms.map((x) => ({
            room: x.room,
            errors: x.errors,
            ...(x.roomAccuracy === null ? {} : { roomAccuracy: x.roomAccuracy }),
          })),
        }),
      });
    }
  }
  if (r.comparison && r.compareMetrics && r.comparison.pairs > 0) {
    figures.push({
      title: `How far positions moved, ${labelA} → ${labelB}`,
      caption: 'Distance between the two versions’ positions of the same device at the same moment.',
      spec: errorCdfSpec({ series: [{ name: 'displacement', errors: r.compareMetrics.displacements() }] }),
    });
  }
  const timeline = r.a.detectionMetrics.timelines();
  if (timeline.length > 0 || r.a.detectionMetrics.alerts.length > 0) {
    const thresholds = r.a.detectionMetrics.thresholds();
    figures.push({
      title: `Anomaly score over time (${labelA})`,
      caption: hasLabels
        ? 'Red triangles: alerts; shaded: labelled anomalies; dashed: the alert threshold. A triangle in a band is a detection, one outside a false alert.'
        : 'Red triangles: alerts; dashed: the alert threshold.',
      wide: true,
      spec: scoreTimelineSpec({
        scores: timeline,
        alerts: r.a.detectionMetrics.alerts.map((a) => ({
          deviceId: a.deviceId,
          t: a.t,
          label: a.anomalyType,
        })),
        windows: r.a.detectionMetrics
          .windows()
          .map((w) => ({ deviceId: w.deviceId, start: w.start, end: w.end, label: w.anomalyType })),
        ...(Object.keys(thresholds).length > 0 ? { threshold: thresholds } : {}),
        maxDevices: 8,
      }),
    });
    const scores = r.a.detectionMetrics.scores();
    if (scores.normal.length + scores.anomalous.length > 0) {
      const values = Object.values(thresholds).sort((x, y) => x - y);
      figures.push({
        title: `Score distributions (${labelA})`,
        caption: hasLabels
          ? 'Scores inside labelled anomalies against all others, each as a share of its own group.'
          : 'Scores of all devices (no labels: every score counts as normal).',
        spec: scoreDistributionSpec({
          normal: scores.normal,
          anomalous: scores.anomalous,
          ...(values.length > 0 ? { threshold: values[Math.floor(values.length / 2)]! } : {}),
        }),
      });
    }
  }

  const title = r.b ? `Replay: ${labelA} vs ${labelB}` : `Replay of ${basename(r.input)}`;
  const notes = [
    'Replayed through the worker’s own processBatch with the capture’s timestamps as the clock: the same capture and models give the same results at any speed.',
  ];
  if (r.a.position.sampled)
    notes.push('More than 200,000 fixes: error quantiles come from a uniform sample of 200,000.');
  if (hasLabels)
    notes.push(
      'An alert detects a labelled anomaly when it falls inside the window or up to the grace period after it.',
    );
  return {
    title,
    subtitle: `${r.capture.messages.toLocaleString('en-US')} messages · ${r.firstTime ?? '—'} → ${r.lastTime ?? '—'}`,
    meta: [
      { label: 'input', value: r.input },
      { label: 'model', value: r.a.modelVersion },
      ...(r.b ? [{ label: 'compared with', value: r.b.modelVersion }] : []),
      ...(options.meta ?? []),
    ],
    highlights,
    tables,
    figures,
    notes,
    ...(options.generatedAt === undefined ? {} : { generatedAt: options.generatedAt }),
    ...(options.generator === undefined ? {} : { generator: options.generator }),
  };
}

/** Bounds from the data when no site was given: the tracks and error vectors, with a margin. */
function siteFromData(side: SideResult): FloorPlanSite {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const t of side.positionMetrics.tracks()) {
    for (const p of [...t.estimate, ...(t.truth ?? [])]) {
      xs.push(p.x);
      ys.push(p.y);
    }
  }
  for (const v of side.positionMetrics.vectors()) {
    xs.push(v.truth.x, v.estimate.x);
    ys.push(v.truth.y, v.estimate.y);
  }
  if (xs.length === 0) return { bounds: { minX: 0, minY: 0, maxX: 1, maxY: 1 } };
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  return { bounds: { minX, minY, maxX: Math.max(maxX, minX + 1), maxY: Math.max(maxY, minY + 1) } };
}
