// Load generator for bench/pipeline.ts, in its own process (child_process.fork): many agent sockets send pingResults
// of their own devices at an offered rate (open loop: the rate does not depend on the answers) and match the results
// the pipeline sends back on the same sockets.
//
// Which result covers a probe: each probe carries a marker in its `rssi` (its sequence number mod 100,000); the
// worker's deviceUpdate for a device echoes the rssi of the newest probe of the device in the batch it processed, so
// that deviceUpdate covers the probe with that marker and every earlier probe of the device. Results are coalesced
// per device per batch (one deviceUpdate for all of a device's probes in one job): legitimate batching, and the
// reason a result can cover many probes. Latency = from sending a probe to receiving the first result covering it.
//
// Cheap on purpose, so that it leaves the machine's cores to the system under test: frames are built by string
// concatenation (no JSON.stringify), a socket's frames of one pacing tick go out in one write (cork/uncork), client
// frames use an all-zero mask (ws then skips the XOR; the server still unmasks), and results are read by indexOf
// with JSON.parse only for anything unexpected. Its own CPU time is reported with the figures.
//
// IPC: parent → a LoadPlan; child opens every socket → {ready}; parent → 'go'; child runs the plan → a LoadReport;
// parent → 'close'.

import type { Socket } from 'node:net';
import { WebSocket } from 'ws';

export interface LoadPlan {
  url: string;
  agents: Array<{ agentId: string; token?: string }>;
  devicesPerAgent: number;
  /**
   * open: `rate` probes per second in total, paced every `tickMs`, whatever the answers;
   * raw: frames as fast as the sockets drain, no answers expected (the raw `ws` ceiling, counted by the server).
   */
  mode: 'open' | 'raw';
  rate?: number;
  /** Sent but not measured (the pipeline reaches its steady state). */
  warmupMs: number;
  measureMs: number;
  /** After the measurement, how long to wait at most for the results still owed. @defaultValue 3000 */
  graceMs?: number;
  /** Pacing period. @defaultValue 2 */
  tickMs?: number;
}

export interface LoadReport {
  /** Offered rate, probes/s (open mode). */
  rate: number;
  /** Probes sent during the measurement window. */
  sent: number;
  /** Of those, how many a result covered (by the end of the grace period). */
  covered: number;
  /** Probes whose covering result arrived during the measurement window (whenever they were sent): the delivered rate × seconds. */
  delivered: number;
  seconds: number;
  /** Result frames received during the measurement window. */
  results: number;
  /** Errors the hub answered (QUEUE_FULL, RATE_LIMITED…), by code, over the whole run. */
  errors: Record<string, number>;
  /** Of the probes sent during the measurement window, from send to covering result. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; n: number };
  /** Probes without a result when sending stopped / at the end of the grace period. */
  backlogAtEnd: number;
  outstanding: number;
  /** This process's CPU time during the measurement window, ms. */
  cpuMs: number;
}

const HIGH_WATER = 4 << 20;
/** Anchors probed per device per round. */
export const ANCHORS = 4;
const MARKS = 100_000;

function marker(seq: number): number {
  return -(seq % MARKS) / 1000 - 1;
}

function markOf(rssi: number): number {
  return Math.round((-rssi - 1) * 1000);
}

/** Sequence numbers continue across plans: the pipeline would rightly drop a reused (agentId, seq) as a resend. */
const nextSeq = new Map<string, number>();

/** Per device: probes sent and not yet covered, oldest first (parallel arrays, a moving head). */
class Pending {
  seqs: number[] = [];
  sentAt: number[] = [];
  head = 0;

  push(seq: number, at: number): void {
    this.seqs.push(seq);
    this.sentAt.push(at);
  }

  get size(): number {
    return this.seqs.length - this.head;
  }

  /** Index (absolute) of the pending probe with this mark, or -1. */
  find(mark: number): number {
    for (let i = this.head; i < this.seqs.length; i++) if (this.seqs[i]! % MARKS === mark) return i;
    return -1;
  }

  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.sentAt = this.sentAt.slice(this.head);
      this.head = 0;
    }
  }
}

class Agent {
  seq: number;
  private next = 0;
  private anchor = 0;
  readonly devices: string[];
  readonly pending: Map<string, Pending>;
  private readonly prefix: string;
  private readonly tcp: Socket | undefined;

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    devices: number,
  ) {
    this.seq = nextSeq.get(id) ?? 0;
    this.devices = Array.from({ length: devices }, (_, i) => `${id}-d${i}`);
    this.pending = new Map(this.devices.map((d) => [d, new Pending()]));
    this.prefix = `{"type":"pingResult","agentId":${JSON.stringify(id)},"timestamp":"`;
    this.tcp = (socket as unknown as { _socket?: Socket })._socket;
  }

  cork(): void {
    this.tcp?.cork();
  }

  uncork(): void {
    this.tcp?.uncork();
  }

  /**
   * One pingResult: a device's round is one probe per anchor, back to back (as an agent probes a device), then the
   * next device. `iso` is the tick's timestamp.
   */
  send(iso: string, now: number, track: boolean): void {
    const device = this.devices[this.next]!;
    const anchor = this.anchor;
    if (++this.anchor === ANCHORS) {
      this.anchor = 0;
      this.next = this.next + 1 === this.devices.length ? 0 : this.next + 1;
    }
    const seq = this.seq++;
    const frame = `${this.prefix}${iso}","data":{"targetIp":"198.51.100.${1 + anchor}","targetType":"anchor","rtt":${4 + (seq % 5)},"sequenceNumber":${seq},"success":true,"deviceId":"${device}","rssi":${marker(seq)}}}`;
    this.socket.send(frame);
    if (track) this.pending.get(device)!.push(seq, now);
  }

  saveSeq(): void {
    nextSeq.set(this.id, this.seq);
  }
}

function open(url: string, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      // All-zero masks: ws skips the XOR on this side (the server's unmasking is unchanged).
      generateMask: (mask: Buffer) => {
        mask.fill(0);
      },
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The device and rssi of a deviceUpdate frame, read without a full parse (the hub writes `data.deviceId` then `data.rssi`). */
function readUpdate(text: string): { deviceId: string; rssi: number } | null {
  const d = text.indexOf('"deviceId":"');
  if (d < 0) return null;
  const dEnd = text.indexOf('"', d + 12);
  const r = text.indexOf('"rssi":', dEnd);
  if (dEnd < 0 || r < 0) return null;
  let end = r + 7;
  while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
  const rssi = Number(text.slice(r + 7, end));
  return Number.isFinite(rssi) ? { deviceId: text.slice(d + 12, dEnd), rssi } : null;
}

let agents: Agent[] = [];
let plan: LoadPlan;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function runPlan(): Promise<LoadReport> {
  const started = performance.now();
  const measureFrom = started + plan.warmupMs;
  const measureTo = measureFrom + plan.measureMs;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  let covered = 0;
  let delivered = 0;
  let results = 0;
  let backlog = 0;
  const tickMs = plan.tickMs ?? 2;

  for (const agent of agents) {
    // Whatever a previous plan left unanswered is not this plan's business.
    for (const d of agent.devices) agent.pending.set(d, new Pending());
    agent.socket.removeAllListeners('message');
    agent.socket.on('message', (data: Buffer) => {
      const now = performance.now();
      const text = data.toString();
      let update: { deviceId: string; rssi: number } | null = null;
      if (text.startsWith('{"type":"deviceUpdate"')) update = readUpdate(text);
      if (update === null) {
        let m: { type?: string; data?: { deviceId?: string; rssi?: number; errorCode?: string } };
        try {
          m = JSON.parse(text);
        } catch {
          return;
        }
        if (m.type === 'error') {
          const code = m.data?.errorCode ?? 'unknown';
          errors[code] = (errors[code] ?? 0) + 1;
          return;
        }
        if (m.type !== 'deviceUpdate' || m.data?.rssi === undefined || m.data.deviceId === undefined) return;
        update = { deviceId: m.data.deviceId, rssi: m.data.rssi };
      }
      const inWindow = now >= measureFrom && now <= measureTo;
      if (inWindow) results += 1;
      const pending = agent.pending.get(update.deviceId);
      if (!pending) return;
      const idx = pending.find(markOf(update.rssi));
      if (idx < 0) return;
      for (let i = pending.head; i <= idx; i++) {
        const at = pending.sentAt[i]!;
        backlog -= 1;
        if (inWindow) delivered += 1;
        if (at >= measureFrom && at <= measureTo) {
          covered += 1;
          latencies.push(now - at);
        }
      }
      pending.head = idx + 1;
      pending.compact();
    });
  }

  let cpuFrom = cpuMs();
  let cpuTo = Number.NaN;
  let measuring = false;
  if (plan.mode === 'open') {
    const rate = plan.rate ?? 1000;
    let credit = 0;
    let last = performance.now();
    let a = 0;
    let inRound = 0;
    while (performance.now() < measureTo) {
      await new Promise((r) => setTimeout(r, tickMs));
      const t = performance.now();
      if (!measuring && t >= measureFrom) {
        measuring = true;
        cpuFrom = cpuMs();
      }
      credit += ((Math.min(t, measureTo) - last) * rate) / 1000;
      last = t;
      const iso = new Date().toISOString();
      const n = Math.floor(credit);
      credit -= n;
      if (n === 0) continue;
      // Each agent sends a device's round (one probe per anchor) in a row; its frames of this tick go in one write.
      const corked: Agent[] = [];
      for (let i = 0; i < n; i++) {
        const agent = agents[a]!;
        if (corked[corked.length - 1] !== agent) {
          agent.cork();
          corked.push(agent);
        }
        agent.send(iso, t, true);
        if (++inRound === ANCHORS) {
          inRound = 0;
          a = a + 1 === agents.length ? 0 : a + 1;
        }
      }
      for (const agent of corked) agent.uncork();
      backlog += n;
      if (t >= measureFrom) sent += n;
    }
    cpuTo = cpuMs();
    const backlogAtEnd = backlog;
    const graceUntil = performance.now() + (plan.graceMs ?? 3000);
    while (backlog > 0 && performance.now() < graceUntil) await new Promise((r) => setTimeout(r, 10));
    for (const agent of agents) agent.saveSeq();
    const sorted = Float64Array.from(latencies).sort();
    return {
      rate,
      sent,
      covered,
      delivered,
      seconds: plan.measureMs / 1000,
      results,
      errors,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
        n: sorted.length,
      },
      backlogAtEnd,
      outstanding: backlog,
      cpuMs: cpuTo - cpuFrom,
    };
  }
  // raw: as fast as the sockets drain; the server counts.
  while (performance.now() < measureTo) {
    const t = performance.now();
    if (!measuring && t >= measureFrom) {
      measuring = true;
      cpuFrom = cpuMs();
    }
    const iso = new Date().toISOString();
    for (const agent of agents) {
      agent.cork();
      for (let n = 0; n < 64 && agent.socket.bufferedAmount < HIGH_WATER; n++) {
        agent.send(iso, t, false);
        if (measuring) sent += 1;
      }
      agent.uncork();
    }
    await new Promise((r) => setImmediate(r));
  }
  cpuTo = cpuMs();
  for (const agent of agents) agent.saveSeq();
  return {
    rate: 0,
    sent,
    covered: 0,
    delivered: 0,
    seconds: plan.measureMs / 1000,
    results: 0,
    errors,
    latencyMs: { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN, n: 0 },
    backlogAtEnd: 0,
    outstanding: 0,
    cpuMs: cpuTo - cpuFrom,
  };
}

process.on('message', (message: LoadPlan | 'go' | 'close') => {
  if (message === 'go') {
    runPlan().then(
      (report) => process.send?.(report),
      (error: unknown) => process.send?.({ error: String(error) }),
    );
  } else if (message === 'close') {
    for (const a of agents) a.socket.terminate();
    process.disconnect();
  } else {
    const previous = plan?.url;
    plan = message;
    // Reuse the sockets when the target is the same (sequence numbers continue; no reconnect storm per trial).
    if (previous === plan.url && agents.length === plan.agents.length) {
      process.send?.({ ready: true });
      return;
    }
    for (const a of agents) a.socket.terminate();
    Promise.all(plan.agents.map((a) => open(plan.url, a.token))).then(
      (sockets) => {
        agents = sockets.map((s, i) => {
          s.on('error', () => undefined);
          return new Agent(plan.agents[i]!.agentId, s, plan.devicesPerAgent);
        });
        process.send?.({ ready: true });
      },
      (error: unknown) => process.send?.({ error: String(error) }),
    );
  }
});
