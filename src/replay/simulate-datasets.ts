import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Site } from '../models/positioning/site.js';
import { type Message, parseMessage } from '../protocol/index.js';
import { createSimulatedWorld } from '../sim/index.js';
import { simulateTraffic } from '../sim/traffic/simulate-traffic.js';
import type { LabelLine } from './labels.js';
import { probeTraffic } from './probe-traffic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface DatasetOptions {
  /** @defaultValue 1 */
  seed?: number;
  /** The simulated day (UTC midnight, epoch ms). @defaultValue 2025-06-16 */
  day?: number;
  /** Devices of the behaviour traffic. @defaultValue 6 */
  trafficDevices?: number;
  /** Seconds between two reports of a device in the behaviour traffic. @defaultValue 120 */
  trafficIntervalS?: number;
  /** Devices located from probes. @defaultValue 2 */
  probedDevices?: number;
  /** Probe sessions spread over the day, each `probeSessionMinutes` long. @defaultValue 6 */
  probeSessions?: number;
  /** @defaultValue 5 */
  probeSessionMinutes?: number;
  /** Seconds between two probe rounds in a session. @defaultValue 5 */
  probeIntervalS?: number;
}

export interface DatasetFile {
  name: string;
  bytes: number;
  lines: number;
  sha256: string;
  description: string;
}

const AGENT = 'sim_agent_001';

/**
 * The data sets of `datasets/` (docs: datasets/README.md), all from one seed, byte-identical across runs:
 * site.json, walk.jsonl (calibration walk), test.jsonl (held-out walk), baseline.jsonl (a normal day of behaviour
 * traffic) and capture.jsonl + capture.labels.jsonl (the next day of live traffic, as the hub captures it, with
 * labelled anomalies and the probed devices' true positions). Anchors are renamed to RFC 5737 documentation
 * addresses (198.51.100.0/24): names only.
 */
export function simulateDatasets(options: DatasetOptions = {}): Map<string, string> {
  const seed = options.seed ?? 1;
  const day = options.day ?? Date.UTC(2025, 5, 16);
  // People at home stroll and then stay put for a while: slower than the simulator's default walkers.
  const world = createSimulatedWorld(seed, {
    devices: options.probedDevices ?? 2,
    startTime: day - DAY,
    speedMps: [0.4, 0.9],
    pauseMs: [15_000, 90_000],
  });
  const rename = new Map(world.site.anchors.map((a, i) => [a.id, `198.51.100.${i + 1}`]));
  const anchorId = (id: string) => rename.get(id) ?? id;
  const site: Site = {
    ...world.site,
    anchors: world.site.anchors.map((a) => ({ ...a, id: anchorId(a.id) })),
  };

  const renameWalk = (messages: Message[]) =>
    messages.map((m) =>
      m.type === 'pingCalibration'
        ? {
            ...m,
            data: {
              ...m.data,
              measurements: m.data.measurements.map((x) => ({ ...x, targetIp: anchorId(x.targetIp) })),
            },
          }
        : m,
    );
  // The walk happens the morning before: a 1 m grid, three readings per point.
  const walk = renameWalk(
    world.calibrationWalk({ spacingM: 1, samplesPerPoint: 3, agentId: AGENT, startTime: day - 14 * HOUR }),
  );
  const test = renameWalk(
    world.calibrationWalk({
      layout: 'random',
      points: 60,
      samplesPerPoint: 1,
      agentId: AGENT,
      idPrefix: 'test',
      startTime: day - 13 * HOUR,
    }),
  );

  // Behaviour traffic over two days: the first (no anomalies) is the baseline, the second the captured day.
  const traffic = simulateTraffic({
    seed,
    start: day - DAY,
    durationMs: 2 * DAY,
    devices: options.trafficDevices ?? 6,
    updateIntervalMs: (options.trafficIntervalS ?? 120) * 1000,
    anomalyFreeMs: DAY,
    anomaliesPerType: 1,
    agentId: AGENT,
  });
  const baselineTraffic = traffic.messages.filter((m) => Date.parse(m.timestamp) < day);
  const live = traffic.messages.filter((m) => Date.parse(m.timestamp) >= day);

  // Probes of the located devices in short sessions spread over the day (a day of 1 Hz probes would be ~100 MB).
  const labels: LabelLine[] = traffic.anomalies
    .filter((a) => a.start >= day)
    .map((a) => ({
      kind: 'anomaly',
      deviceId: a.deviceId,
      anomalyType: a.type,
      start: new Date(a.start).toISOString(),
      end: new Date(a.end).toISOString(),
    }));
  const sessions = options.probeSessions ?? 6;
  const minutes = options.probeSessionMinutes ?? 5;
  const interval = options.probeIntervalS ?? 5;
  let seq = 0;
  // One session every 24/sessions hours from 01:00; the baseline day gets the same schedule, so that the behaviour
  // model learns what probed devices normally look like.
  const probeDay = (from: number, truth: boolean): Message[] => {
    const out: Message[] = [];
    world.step(Math.max(0, from + HOUR - world.now()));
    for (let s = 0; s < sessions; s++) {
      if (s > 0) world.step(DAY / sessions - minutes * 60_000);
      for (const m of probeTraffic(world, {
        durationS: minutes * 60,
        intervalS: interval,
        agentId: AGENT,
        ...(truth
          ? {
              onTruth: (deviceId: string, t: number, p: { x: number; y: number; room?: string }) =>
                labels.push({
                  kind: 'position',
                  deviceId,
                  timestamp: new Date(t).toISOString(),
                  x: round(p.x),
                  y: round(p.y),
                  ...(p.room === undefined ? {} : { room: p.room }),
                }),
            }
          : {}),
      })) {
        if (m.type === 'pingResult') {
          out.push({ ...m, data: { ...m.data, targetIp: anchorId(m.data.targetIp), sequenceNumber: seq++ } });
        }
      }
    }
    return out;
  };
  const baselineProbes = probeDay(day - DAY, false);
  const probes = probeDay(day, true);

  // What else the hub captures from the agent: its registration and a heartbeat every 30 minutes.
  const agentMessages: Message[] = [
    {
      type: 'agent_register',
      agentId: AGENT,
      timestamp: new Date(day).toISOString(),
      data: {
        version: '1.0.0',
        capabilities: ['device_scan', 'ping_probe', 'signal_monitor'],
        networkInterface: '198.51.100.200',
        systemInfo: { os: 'Linux', arch: 'x64', nodeVersion: '20.20.0' },
      },
    },
  ];
  for (let t = day + 30 * 60_000, i = 1; t < day + DAY; t += 30 * 60_000, i++) {
    agentMessages.push({
      type: 'agent_heartbeat',
      agentId: AGENT,
      timestamp: new Date(t).toISOString(),
      data: { status: 'active', uptime: i * 1800, memoryUsage: 41.5, cpuUsage: 3.2 },
    });
  }
  const baseline = byTime([...baselineTraffic, ...baselineProbes]);
  const capture = byTime([...agentMessages, ...live, ...probes]);
  labels.sort((a, b) => timeOf(a) - timeOf(b) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));

  for (const m of [...walk, ...test, ...baseline, ...capture]) {
    const parsed = parseMessage(m);
    if (!parsed.ok) throw new Error(`simulated message fails the protocol: ${parsed.error.message}`);
  }
  const jsonl = (values: readonly unknown[]) => values.map((v) => `${JSON.stringify(v)}\n`).join('');
  return new Map([
    ['site.json', `${JSON.stringify(site, null, 2)}\n`],
    ['walk.jsonl', jsonl(walk)],
    ['test.jsonl', jsonl(test)],
    ['baseline.jsonl', jsonl(baseline)],
    ['capture.jsonl', jsonl(capture)],
    ['capture.labels.jsonl', jsonl(labels)],
  ]);
}

const DESCRIPTIONS: Record<string, string> = {
  'site.json': 'the simulated home: 5 rooms with walls, 5 anchors',
  'walk.jsonl': 'calibration walk: pingCalibration on a 1 m grid, 3 readings per point',
  'test.jsonl': 'held-out walk: 60 random points, 1 reading each',
  'baseline.jsonl': 'the day before: behaviour traffic and probe sessions, no anomalies',
  'capture.jsonl':
    'the next day as the hub captures it: behaviour traffic with anomalies, probe sessions, agent messages',
  'capture.labels.jsonl':
    "ground truth of capture.jsonl: labelled anomaly windows, probed devices' true positions",
};

/** Writes the data sets into `dir` and describes what was written. */
export async function writeDatasets(dir: string, options: DatasetOptions = {}): Promise<DatasetFile[]> {
  await mkdir(dir, { recursive: true });
  const out: DatasetFile[] = [];
  for (const [name, text] of simulateDatasets(options)) {
    await writeFile(join(dir, name), text);
    out.push({
      name,
      bytes: Buffer.byteLength(text),
      lines: text.split('\n').length - 1,
      sha256: createHash('sha256').update(text).digest('hex'),
      description: DESCRIPTIONS[name] ?? '',
    });
  }
  return out;
}

function byTime(messages: Message[]): Message[] {
  return messages
    .map((m, i) => ({ m, i, t: Date.parse(m.timestamp) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.m);
}

function timeOf(label: LabelLine): number {
  return Date.parse(label.kind === 'anomaly' ? label.start : label.timestamp);
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
