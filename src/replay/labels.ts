import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AnomalyType, DeviceId, Timestamp } from '../protocol/index.js';

/*
 * Ground truth beside a capture (written by `sbp simulate`, see docs/replay.md), one JSON object per line:
 *   {"kind":"anomaly","deviceId":"…","anomalyType":"signal_drop","start":"ISO","end":"ISO"}
 *   {"kind":"position","deviceId":"…","timestamp":"ISO","x":1.2,"y":3.4,"room":"kitchen"}
 * Anomaly windows say when a device really misbehaved; positions say where it really was (linearly interpolated
 * between samples).
 */

const Metres = z.number().finite().min(-100_000).max(100_000);

export const AnomalyLabel = z.strictObject({
  kind: z.literal('anomaly'),
  deviceId: DeviceId,
  anomalyType: AnomalyType,
  start: Timestamp,
  end: Timestamp,
  /** Free text: how the simulator made it. */
  note: z.string().max(1000).optional(),
});
export type AnomalyLabel = z.infer<typeof AnomalyLabel>;

export const PositionLabel = z.strictObject({
  kind: z.literal('position'),
  deviceId: DeviceId,
  timestamp: Timestamp,
  x: Metres,
  y: Metres,
  room: z.string().max(256).optional(),
  floor: z.number().int().optional(),
});
export type PositionLabel = z.infer<typeof PositionLabel>;

export const LabelLine = z.discriminatedUnion('kind', [AnomalyLabel, PositionLabel]);
export type LabelLine = z.infer<typeof LabelLine>;

/** A labelled anomaly, times in epoch ms. */
export interface TruthWindow {
  deviceId: string;
  anomalyType: AnomalyType;
  start: number;
  end: number;
}

export interface TruthPoint {
  t: number;
  x: number;
  y: number;
  room?: string;
}

export interface GroundTruth {
  windows: TruthWindow[];
  /** Per device, time-ordered. */
  positions: Map<string, TruthPoint[]>;
}

export function emptyGroundTruth(): GroundTruth {
  return { windows: [], positions: new Map() };
}

/** Parses a labels file's text; a bad line throws with its number (labels are ours, not user input at volume). */
export function parseLabels(text: string, source = 'labels'): GroundTruth {
  const truth = emptyGroundTruth();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${source}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    const parsed = LabelLine.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${source}:${i + 1}: ${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const label = parsed.data;
    if (label.kind === 'anomaly') {
      truth.windows.push({
        deviceId: label.deviceId,
        anomalyType: label.anomalyType,
        start: Date.parse(label.start),
        end: Date.parse(label.end),
      });
    } else {
      let list = truth.positions.get(label.deviceId);
      if (!list) {
        list = [];
        truth.positions.set(label.deviceId, list);
      }
      list.push({
        t: Date.parse(label.timestamp),
        x: label.x,
        y: label.y,
        ...(label.room === undefined ? {} : { room: label.room }),
      });
    }
  }
  for (const list of truth.positions.values()) list.sort((a, b) => a.t - b.t);
  truth.windows.sort((a, b) => a.start - b.start || (a.deviceId < b.deviceId ? -1 : 1));
  return truth;
}

export async function readLabels(path: string): Promise<GroundTruth> {
  return parseLabels(await readFile(path, 'utf8'), path);
}

/** One label as a line of a labels file. */
export function formatLabel(label: LabelLine): string {
  return JSON.stringify(label);
}

/**
 * Where the device really was at `t`: linear interpolation between the surrounding samples; the room of the nearer
 * sample. Undefined outside the labelled span (plus `slackMs` either side) or across a gap longer than `maxGapMs`.
 */
export function truthAt(
  points: readonly TruthPoint[] | undefined,
  t: number,
  maxGapMs = 60_000,
  slackMs = 5_000,
): TruthPoint | undefined {
  if (!points || points.length === 0) return undefined;
  let lo = 0;
  let hi = points.length - 1;
  if (t <= points[0]!.t) return points[0]!.t - t <= slackMs ? points[0] : undefined;
  if (t >= points[hi]!.t) return t - points[hi]!.t <= slackMs ? points[hi] : undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t <= t) lo = mid;
    else hi = mid;
  }
  const a = points[lo]!;
  const b = points[hi]!;
  if (b.t - a.t > maxGapMs) return undefined;
  const f = (t - a.t) / (b.t - a.t);
  const near = f < 0.5 ? a : b;
  return {
    t,
    x: a.x + (b.x - a.x) * f,
    y: a.y + (b.y - a.y) * f,
    ...(near.room === undefined ? {} : { room: near.room }),
  };
}
