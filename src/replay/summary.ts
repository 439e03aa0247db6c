import type { ReplayResult, SideResult } from './replay.js';

/** Where `sbp simulate` puts the labels of a capture: `capture.jsonl` → `capture.labels.jsonl`. */
export function labelsPathFor(input: string): string {
  return `${input.replace(/\.gz$/, '').replace(/\.jsonl?$/, '')}.labels.jsonl`;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function side(s: SideResult) {
  const p = s.position;
  return {
    model: s.modelVersion,
    hasBehaviourModel: s.hasBehaviourModel,
    emitted: s.emitted,
    emittedByType: s.emittedByType,
    failures: s.failures,
    position:
      p.n > 0
        ? {
            n: p.n,
            meanError: finite(p.meanError),
            medianError: finite(p.medianError),
            p90Error: finite(p.p90Error),
            roomAccuracy: p.roomAccuracy,
            uncertaintyCoverage: p.uncertaintyCoverage,
          }
        : null,
    detection: s.detection,
  };
}

/** The replay's result as plain JSON (what `sbp replay --json` prints). */
export function replaySummary(r: ReplayResult) {
  return {
    input: r.input,
    lines: r.capture.lines,
    messages: r.capture.messages,
    badLines: r.badLines,
    firstErrors: r.firstErrors,
    skipped: r.skipped,
    duplicates: r.duplicates,
    records: r.records,
    calibrationPoints: r.calibrationPoints,
    batches: r.batches,
    firstTime: r.firstTime,
    lastTime: r.lastTime,
    seconds: r.seconds,
    messagesPerSecond: r.messagesPerSecond,
    walkMode: r.walkMode,
    ...side(r.a),
    ...(r.b ? { compareWith: side(r.b) } : {}),
    ...(r.comparison ? { comparison: r.comparison } : {}),
  };
}
