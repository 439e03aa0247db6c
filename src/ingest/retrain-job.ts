import { join } from 'node:path';
import { AnomalyModel } from '../models/anomaly/behaviour-model.js';
import { applyFeedbackRecords } from '../models/anomaly/feedback.js';
import type { StoredVerdict } from '../store/anomaly-feedback-store.js';
import { loadBehaviourModel, publishAnomalyVersion } from '../training/anomaly/model-io.js';
import { type HistoryWindow, retrainFromHistory } from '../training/anomaly/retrain-from-history.js';
import { readLatest } from '../training/model-dir.js';

/*
 * One retraining, as it runs in its worker thread (retrain-thread.ts): CPU-bound for seconds on a large history,
 * so it never runs on the worker's event loop, where it would stall batches and let partition leases expire.
 */

/** Windows packed into typed arrays (one copy into the thread, no per-object cost). */
export interface PackedWindows {
  deviceIds: string[];
  /** Index into deviceIds, per window. */
  device: Int32Array;
  t: Float64Array;
  anomalous: Uint8Array;
  /** Row-major, `width` values per window. */
  vectors: Float32Array;
  width: number;
}

export interface RetrainJobInput {
  modelDir: string;
  /** The version to retrain from (LATEST when the job was planned). */
  parent: string;
  windows: PackedWindows;
  alerts: Array<{ anomalyId: string; deviceId: string; at: number }>;
  feedback: StoredVerdict[];
  /** The feedback log position `feedback` reaches. */
  feedbackThrough: number;
  historyMs: number;
  /** The kept history must span at least this long. */
  minSpanMs: number;
}

export type RetrainJobResult =
  | {
      kind: 'published';
      version: string;
      parent: string;
      windows: number;
      excludedWindows: number;
      devices: number;
      from: number;
      to: number;
      feedbackExamples: number;
    }
  | { kind: 'skipped'; reason: string };

export function packWindows(
  windows: ReadonlyArray<{ deviceId: string; t: number; vector: ArrayLike<number>; anomalous: boolean }>,
  width: number,
): PackedWindows {
  const ids = new Map<string, number>();
  const fitting = windows.filter((w) => w.vector.length === width);
  const n = fitting.length;
  const packed: PackedWindows = {
    deviceIds: [],
    device: new Int32Array(n),
    t: new Float64Array(n),
    anomalous: new Uint8Array(n),
    vectors: new Float32Array(n * width),
    width,
  };
  fitting.forEach((w, i) => {
    let id = ids.get(w.deviceId);
    if (id === undefined) {
      id = packed.deviceIds.length;
      ids.set(w.deviceId, id);
      packed.deviceIds.push(w.deviceId);
    }
    packed.device[i] = id;
    packed.t[i] = w.t;
    packed.anomalous[i] = w.anomalous ? 1 : 0;
    packed.vectors.set(Array.from(w.vector), i * width);
  });
  return packed;
}

function unpackWindows(p: PackedWindows): HistoryWindow[] {
  const out: HistoryWindow[] = [];
  for (let i = 0; i < p.t.length; i++) {
    out.push({
      deviceId: p.deviceIds[p.device[i]!]!,
      t: p.t[i]!,
      anomalous: p.anomalous[i] === 1,
      vector: p.vectors.subarray(i * p.width, (i + 1) * p.width),
    });
  }
  return out;
}

/**
 * Loads the parent's behaviour model, brings its thresholds up to the feedback log (as the workers run it), fits a
 * new one on the recent normal history (retrainFromHistory) and publishes it as a new version whose parent is
 * `parent` (its positioning model copied), unless LATEST moved meanwhile.
 */
export async function runRetrainJob(input: RetrainJobInput): Promise<RetrainJobResult> {
  const parentPath = join(input.modelDir, input.parent);
  const base = await loadBehaviourModel(parentPath);
  if (!(base instanceof AnomalyModel)) {
    return { kind: 'skipped', reason: `version ${input.parent} has no anomaly model to retrain` };
  }
  const through = base.data.feedbackThrough ?? 0;
  const live = applyFeedbackRecords(
    base,
    input.feedback.filter((r) => r.seq > through && r.seq <= input.feedbackThrough),
  );
  let model: AnomalyModel;
  try {
    model = retrainFromHistory(
      live,
      { windows: unpackWindows(input.windows), alerts: input.alerts, feedback: input.feedback },
      {
        seed: base.data.params.seed + 1,
        historyMs: input.historyMs,
        feedbackThrough: Math.max(through, input.feedbackThrough),
      },
    );
  } catch (error) {
    return { kind: 'skipped', reason: (error as Error).message };
  }
  const { summary } = model.data;
  const span = summary.to - summary.from;
  if (span < input.minSpanMs) {
    return {
      kind: 'skipped',
      reason: `the recent normal history spans ${hours(span)} h; retraining needs ${hours(input.minSpanMs)} h`,
    };
  }
  if ((await readLatest(input.modelDir)) !== input.parent) {
    return { kind: 'skipped', reason: 'a newer version was published while retraining' };
  }
  const { version } = await publishAnomalyVersion(input.modelDir, model, { parent: input.parent });
  return {
    kind: 'published',
    version,
    parent: input.parent,
    windows: summary.windows,
    excludedWindows: summary.excludedWindows ?? 0,
    devices: summary.devices,
    from: summary.from,
    to: summary.to,
    feedbackExamples: summary.feedbackExamples,
  };
}

function hours(ms: number): string {
  return (ms / 3_600_000).toFixed(1);
}
