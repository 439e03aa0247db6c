// Load generator for bench/pipeline.ts, in its own process (child_process.fork). Many agent sockets send pingResults
// of their own devices and wait for the results the pipeline sends back on the same socket.
//
// Each probe carries a marker in its `rssi`; the worker's deviceUpdate echoes the newest probe's rssi of the device,
// so a result tells exactly which probes it covers: the probe with that marker and every earlier one of the device.
// Latency = from sending a probe to receiving the first result that covers it.
//
// IPC: parent → a LoadPlan; child opens every socket → {ready}; parent → 'go'; child runs the plan → a LoadReport.

import { WebSocket } from 'ws';

export interface LoadPlan {
  url: string;
  agents: Array<{ agentId: string; token?: string }>;
  devicesPerAgent: number;
  /**
   * closed: each agent keeps `window` probes outstanding (maximum sustained throughput);
   * open: probes at `rate` per second in total, paced every 2 ms, whatever the answers (latency at a given load);
   * raw: frames as fast as the sockets drain, no answers expected (the raw `ws` baseline).
   */
  mode: 'closed' | 'open' | 'raw';
  window?: number;
  rate?: number;
  warmupMs: number;
  measureMs: number;
}

export interface LoadReport {
  sent: number;
  /** Probes covered by a result within the measurement window. */
  resolved: number;
  seconds: number;
  /** Errors the hub answered (QUEUE_FULL, RATE_LIMITED…), by code. */
  errors: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number; n: number };
  /** Probes still without a result at the end. */
  outstanding: number;
}

const HIGH_WATER = 1 << 20;

function marker(seq: number): number {
  return -(seq % 100_000) / 1000 - 1;
}

interface Pending {
  seq: number;
  sentAt: number;
}

/** Sequence numbers continue across plans: the pipeline would rightly drop a reused (agentId, seq) as a resend. */
const nextSeq = new Map<string, number>();

class Agent {
  seq: number;
  outstanding = 0;
  private next = 0;
  readonly devices: string[];
  readonly pending: Map<string, Pending[]>;

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    devices: number,
  ) {
    this.seq = nextSeq.get(id) ?? 0;
    this.devices = Array.from({ length: devices }, (_, i) => `${id}-d${i}`);
    this.pending = new Map(this.devices.map((d) => [d, []]));
  }

  send(now: number): void {
    const deviceId = this.devices[this.next]!;
    this.next = (this.next + 1) % this.devices.length;
    const seq = this.seq++;
    nextSeq.set(this.id, this.seq);
    const frame = JSON.stringify({
      type: 'pingResult',
      agentId: this.id,
      timestamp: new Date().toISOString(),
      data: {
        targetIp: `198.51.100.${1 + (seq % 4)}`,
        targetType: 'anchor',
        rtt: 4 + (seq % 5),
        sequenceNumber: seq,
        success: true,
        deviceId,
        rssi: marker(seq),
      },
    });
    this.socket.send(frame);
    this.pending.get(deviceId)!.push({ seq, sentAt: now });
    this.outstanding += 1;
  }
}

function open(url: string, token: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
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

let agents: Agent[] = [];
let plan: LoadPlan;

async function runPlan(): Promise<LoadReport> {
  const started = performance.now();
  const measureFrom = started + plan.warmupMs;
  const measureTo = measureFrom + plan.measureMs;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let sent = 0;
  let resolved = 0;
  const window = plan.window ?? 32;

  for (const agent of agents) {
    agent.socket.on('message', (data) => {
      const now = performance.now();
      let m: { type: string; data: { deviceId?: string; rssi?: number; errorCode?: string } };
      try {
        m = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (m.type === 'error') {
        const code = m.data.errorCode ?? 'unknown';
        errors[code] = (errors[code] ?? 0) + 1;
        return;
      }
      if (m.type !== 'deviceUpdate' || m.data.rssi === undefined || m.data.deviceId === undefined) return;
      const queue = agent.pending.get(m.data.deviceId);
      if (!queue) return;
      const idx = queue.findIndex((p) => marker(p.seq) === m.data.rssi);
      if (idx < 0) return;
      const covered = queue.splice(0, idx + 1);
      agent.outstanding -= covered.length;
      for (const p of covered) {
        if (p.sentAt >= measureFrom && now <= measureTo) {
          resolved += 1;
          latencies.push(now - p.sentAt);
        }
      }
      if (plan.mode === 'closed' && now < measureTo) {
        while (agent.outstanding < window && agent.socket.bufferedAmount < HIGH_WATER) {
          agent.send(now);
          sent += 1;
        }
      }
    });
  }

  if (plan.mode === 'closed') {
    const now = performance.now();
    for (const agent of agents) {
      for (let i = 0; i < window; i++) agent.send(now);
      sent += window;
    }
    // Refill anything the answers did not (a socket above its high-water mark).
    while (performance.now() < measureTo) {
      await new Promise((r) => setTimeout(r, 5));
      const t = performance.now();
      for (const agent of agents) {
        while (agent.outstanding < window && agent.socket.bufferedAmount < HIGH_WATER) {
          agent.send(t);
          sent += 1;
        }
      }
    }
  } else if (plan.mode === 'open') {
    const rate = plan.rate ?? 1000;
    let credit = 0;
    let last = performance.now();
    let a = 0;
    while (performance.now() < measureTo) {
      await new Promise((r) => setTimeout(r, 2));
      const t = performance.now();
      credit += ((t - last) * rate) / 1000;
      last = t;
      while (credit >= 1) {
        agents[a]!.send(t);
        a = (a + 1) % agents.length;
        credit -= 1;
        sent += 1;
      }
    }
  } else {
    // raw: as fast as the sockets drain; the server counts.
    while (performance.now() < measureTo) {
      const t = performance.now();
      for (const agent of agents) {
        let n = 0;
        while (agent.socket.bufferedAmount < HIGH_WATER && n < 256) {
          agent.send(t);
          n += 1;
          sent += 1;
        }
        agent.pending.forEach((q) => {
          q.length = 0;
        });
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  // Let the last answers of the window arrive.
  await new Promise((r) => setTimeout(r, plan.mode === 'raw' ? 0 : 500));
  const sorted = Float64Array.from(latencies).sort();
  return {
    sent,
    resolved,
    seconds: plan.measureMs / 1000,
    errors,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
      n: sorted.length,
    },
    outstanding: agents.reduce((n, a) => n + a.outstanding, 0),
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
    plan = message;
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
