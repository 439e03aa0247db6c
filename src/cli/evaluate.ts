import type { AnchorReading } from '../models/contracts/positioning.js';
import { createPositioner } from '../models/positioning/positioner.js';
import { summariseErrors } from '../models/positioning/stats.js';
import { writeWalkReport } from '../replay/walk-report.js';
import { resolveVersionPath } from '../training/model-dir.js';
import { evaluatePositioning } from '../training/positioning/evaluate.js';
import { loadPositioningModel } from '../training/positioning/model-store.js';
import { type CalibrationSample, samplesFromMessages } from '../training/positioning/samples.js';
import { describeWalkRead, readWalkFile } from '../training/walk-file.js';
import type { Command } from './command.js';
import { parseFlags, UsageError } from './command.js';
import { createProgress, formatErrorTable } from './train.js';

const USAGE = [
  'usage: sbp evaluate --model MODEL_DIR --input TEST.jsonl [--json] [--track] [--report FILE]',
  '',
  'Locates every pingCalibration message of a walk with the model and compares with its knownLocation.',
  '',
  'options:',
  '  --model MODEL_DIR   a model directory (uses its LATEST) or one version directory',
  '  --input TEST.jsonl  a walk: pingCalibration messages, one per line (bad lines are counted and skipped)',
  '  --json              the last line of output is one JSON object:',
  '                      {"n","meanError","medianError","p90Error","roomAccuracy"} (metres; roomAccuracy null',
  '                      when the site has no rooms)',
  '  --track             run the walk through the live Positioner (Kalman tracking per device, in time order)',
  '                      instead of scoring each message as an independent single fix',
  '  --report FILE       also write an HTML report (the walk replayed through the worker: floor plan, error CDF,',
  '                      error per room), the same kind `sbp replay --report` writes',
].join('\n');

/** Feeds each device's messages in time order through the Positioner; the estimate after each is scored. */
function trackedErrors(
  positioner: ReturnType<typeof createPositioner>,
  samples: readonly CalibrationSample[],
): { errors: number[]; roomHits: number; roomN: number } {
  const byDevice = new Map<string, CalibrationSample[]>();
  for (const s of samples) {
    let list = byDevice.get(s.device);
    if (!list) {
      list = [];
      byDevice.set(s.device, list);
    }
    list.push(s);
  }
  const errors: number[] = [];
  let roomHits = 0;
  let roomN = 0;
  for (const list of byDevice.values()) {
    list.sort((a, b) => a.t - b.t);
    let state = positioner.initialState();
    for (const s of list) {
      const readings: AnchorReading[] = s.observations.map((o) => ({
        anchorId: o.anchorId,
        t: s.t,
        ...(o.rssi === undefined ? {} : { rssi: o.rssi }),
        // The sample holds the raw range; the Positioner takes rtt (ms): convert back exactly.
        ...(o.range === undefined ? {} : { rtt: (2 * o.range) / 299_792.458 }),
      }));
      const u = positioner.update(state, readings, s.t);
      state = u.state;
      if (!u.estimate) continue;
      errors.push(Math.hypot(u.estimate.x - s.x, u.estimate.y - s.y));
      if (s.room !== undefined) {
        roomN++;
        if (u.estimate.room === s.room) roomHits++;
      }
    }
  }
  return { errors, roomHits, roomN };
}

export const command: Command = {
  name: 'evaluate',
  summary: 'evaluate a model directory on a walk: mean/median/p90 error, room accuracy',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, {
      model: { type: 'string' },
      input: { type: 'string' },
      json: { type: 'boolean' },
      track: { type: 'boolean' },
      report: { type: 'string' },
    });
    if (values.model === undefined) throw new UsageError('--model MODEL_DIR is required');
    if (values.input === undefined) throw new UsageError('--input TEST.jsonl is required');
    let versionPath: string;
    let version: string;
    try {
      ({ path: versionPath, version } = await resolveVersionPath(values.model));
    } catch (error) {
      console.error(`sbp evaluate: ${(error as Error).message}`);
      return 1;
    }
    let model: Awaited<ReturnType<typeof loadPositioningModel>>;
    try {
      model = await loadPositioningModel(versionPath);
    } catch (error) {
      console.error(`sbp evaluate: ${(error as Error).message}`);
      return 1;
    }
    let read: Awaited<ReturnType<typeof readWalkFile>>;
    try {
      read = await readWalkFile(values.input);
    } catch (error) {
      console.error(`sbp evaluate: cannot read ${values.input}: ${(error as Error).message}`);
      return 1;
    }
    console.log(`${values.input}: ${describeWalkRead(read)}`);
    console.log(`model: ${versionPath} (version ${version})`);
    const samples = samplesFromMessages(read.messages, model.data.site);
    const hasRooms = model.data.site.rooms.length > 0;
    let result: {
      n: number;
      meanError: number;
      medianError: number;
      p90Error: number;
      roomAccuracy: number | null;
    };
    if (values.track) {
      const t = trackedErrors(createPositioner(model, version), samples);
      const s = summariseErrors(t.errors);
      console.log(`tracked (Positioner, per device in time order): ${t.errors.length} estimates`);
      console.log(formatErrorTable([{ ...s, name: 'tracked' }]));
      result = {
        n: s.n,
        meanError: s.meanError,
        medianError: s.medianError,
        p90Error: s.p90Error,
        roomAccuracy: hasRooms && t.roomN > 0 ? t.roomHits / t.roomN : null,
      };
    } else {
      const progress = createProgress();
      const ev = evaluatePositioning(model, samples, {
        onProgress: (d, n) => progress.update('locating', d / n),
      });
      progress.stop();
      console.log('single fixes (each message located on its own):');
      console.log(
        formatErrorTable(
          (Object.keys(ev.perModel) as Array<keyof typeof ev.perModel>).map((name) => ({
            ...ev.perModel[name]!,
            name: name === ev.primary ? `${name} ← model` : name,
          })),
        ),
      );
      if (ev.roomCalibration.length > 0) {
        console.log('room probability calibration (stated → observed):');
        for (const b of ev.roomCalibration) {
          console.log(
            `  ${b.bin}: n ${b.n}, stated ${b.stated.toFixed(2)}, observed ${b.observed.toFixed(2)}`,
          );
        }
      }
      const ci = ev.interval95;
      if (ci) {
        const r = (b: [number, number]) => `[${b[0].toFixed(2)}, ${b[1].toFixed(2)}]`;
        console.log(
          `the model's 95 % interval over the walk's ${ci.points} reference points (bootstrap): mean ${r(ci.mean)} m, median ${r(ci.median)} m, p90 ${r(ci.p90)} m`,
        );
      }
      const p = ev.perModel[ev.primary]!;
      result = {
        n: p.n,
        meanError: p.meanError,
        medianError: p.medianError,
        p90Error: p.p90Error,
        roomAccuracy: hasRooms ? ev.roomAccuracy : null,
      };
    }
    model.fingerprint?.dispose();
    if (hasRooms && result.roomAccuracy !== null)
      console.log(`room accuracy: ${(result.roomAccuracy * 100).toFixed(1)}%`);
    if (result.n === 0)
      console.error('sbp evaluate: no message could be located (no anchor of the model heard?)');
    if (values.report !== undefined) {
      await writeWalkReport({
        input: values.input,
        versionPath,
        site: model.data.site,
        walkMode: values.track ? 'track' : 'fix',
        out: values.report,
      });
      console.log(`report: ${values.report}`);
    }
    if (values.json) {
      const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);
      console.log(
        JSON.stringify({
          n: result.n,
          meanError: round(result.meanError),
          medianError: round(result.medianError),
          p90Error: round(result.p90Error),
          roomAccuracy: result.roomAccuracy === null ? null : round(result.roomAccuracy),
        }),
      );
    }
    return result.n > 0 ? 0 : 1;
  },
};
