import { type MessageOf, makeMessage, parseMessage } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { CalibrationSampler, Draft } from '../probe-source.js';
import type { Coverage } from './coverage.js';
import type { WalkPoint } from './points.js';

export interface WalkProgress {
  /** 1-based. */
  index: number;
  point: WalkPoint;
  room: string | undefined;
  /** pingCalibration messages written for this point (one per sample in which some anchor was heard). */
  messages: number;
  /** Samples in which no anchor answered (nothing written for them). */
  emptySamples: number;
  /** Distinct anchors heard at this point. */
  anchorsHeard: number;
  anchorsTotal: number;
}

export interface CalibrationWalkOptions {
  agentId: string;
  sampler: CalibrationSampler;
  coverage: Coverage;
  /** Measurements of every anchor per point. */
  samples: number;
  points: AsyncIterable<WalkPoint> | Iterable<WalkPoint>;
  /** Appends one line (a pingCalibration message) to the walk file. */
  writeLine: (line: string) => Promise<void>;
  /** Sends to the hub, when connected (the agent's `emitDraft`). */
  send?: (draft: Draft) => boolean;
  clock: Clock;
  /** Distinguishes this walk's calibrationIds. @defaultValue the start time in base 36 */
  walkId?: string;
  onSample?: (done: number, of: number) => void;
  onPoint?: (progress: WalkProgress) => void;
}

export interface WalkSummary {
  points: number;
  messages: number;
  emptySamples: number;
}

/**
 * The calibration walk: at each known point, `samples` readings of every anchor become `pingCalibration` messages
 * (one per sample, one measurement per anchor heard — the format `sbp train` reads), appended to the walk file and
 * sent to the hub. Every message is validated before it is written.
 */
export async function runCalibrationWalk(o: CalibrationWalkOptions): Promise<WalkSummary> {
  const walkId = o.walkId ?? o.clock.now().toString(36);
  const anchorsTotal = o.sampler.anchors().length;
  let index = 0;
  let total = 0;
  let emptyTotal = 0;
  for await (const point of o.points) {
    index++;
    const room = o.coverage.add(point);
    const sets = await o.sampler.sample(point, o.samples, (done) => o.onSample?.(done, o.samples));
    const heard = new Set<string>();
    let messages = 0;
    let empty = 0;
    for (const [k, set] of sets.entries()) {
      if (set.length === 0) {
        empty++;
        continue;
      }
      for (const m of set) heard.add(m.targetIp);
      const data: MessageOf<'pingCalibration'>['data'] = {
        calibrationId: `${o.agentId}-walk-${walkId}-p${index}-s${k + 1}`.slice(0, 256),
        knownLocation: {
          x: point.x,
          y: point.y,
          ...(room === undefined ? {} : { room }),
          ...(point.floor === undefined ? {} : { floor: point.floor }),
        },
        measurements: set.slice(0, 1024),
        // The point is known (the user stands on it): full confidence in the location label.
        confidence: 1,
      };
      const message = makeMessage('pingCalibration', o.agentId, data, new Date(o.clock.now()));
      const checked = parseMessage(message);
      if (!checked.ok) throw new Error(`calibration message does not validate: ${checked.error.message}`);
      await o.writeLine(JSON.stringify(checked.message));
      o.send?.({ type: 'pingCalibration', data });
      messages++;
    }
    total += messages;
    emptyTotal += empty;
    o.onPoint?.({
      index,
      point,
      room,
      messages,
      emptySamples: empty,
      anchorsHeard: heard.size,
      anchorsTotal,
    });
  }
  return { points: index, messages: total, emptySamples: emptyTotal };
}
