import { isIP } from 'node:net';
import type { TimerHandle } from '../clock.js';
import type {
  AnchorReading,
  CalibrationSampler,
  ProbeContext,
  ProbeSource,
  ServiceState,
  SourceHealth,
} from '../probe-source.js';
import {
  type BehaviourChunk,
  createRadioWorld,
  type RadioWorld,
  type SimAnchor,
  type SimAnomalyLabel,
  type SimBehaviourDevice,
  type SimRandom,
  simRandom,
  simulateBehaviour,
} from './sim-adapter.js';

/** The simulated network (the default source): the project's simulator, seeded and reproducible. */
export interface SimulatedSourceOptions {
  /** Same seed + same clock = same messages. @defaultValue 1 */
  seed?: number;
  /** Simulated devices. @defaultValue 5 */
  devices?: number;
  /**
   * pingResult messages per second, on average. The default keeps the agent under the spec's 100 messages per
   * minute with the behaviour updates and reports. @defaultValue 1
   */
  rate?: number;
  /** A site file's content (its anchors are the probe targets), instead of the simulator's demo home. */
  site?: unknown;
  /** Seconds between one device's behaviour updates (deviceUpdate with RSSI, performance, activity). @defaultValue 30 */
  updateIntervalSeconds?: number;
  /** Injected anomalies of each type per simulated day (signal drop, interference, rogue scanner, latency spike, device moved). @defaultValue 2 */
  anomaliesPerType?: number;
  /** No anomaly during the first minutes, so the models see normal behaviour first. @defaultValue 10 */
  baselineMinutes?: number;
}

const DAY = 24 * 3_600_000;
const DEFAULT_SEED = 1;
const DEFAULT_DEVICES = 5;
const TICK_MS = 1000;

function targetTypeOf(kind: SimAnchor['kind']): 'gateway' | 'access_point' | 'anchor' {
  if (kind === 'gateway') return 'gateway';
  if (kind === 'access_point') return 'access_point';
  return 'anchor';
}

/**
 * Drives the simulators in (simulated) real time: device behaviour messages are released when their time comes;
 * probe rounds step the radio world and report one pingResult per device per anchor heard, with `deviceId` and
 * `rssi` (anchor id = `targetIp`). Labelled anomalies of the behaviour simulator also act on the probes: a signal
 * drop lowers the device's RSSI at every anchor, interference adds noise and loss, a latency spike adds to ping-grade
 * RTT, and a moved device is teleported in the radio world for the anomaly's duration.
 */
export class SimulatedSource implements ProbeSource, CalibrationSampler {
  readonly name = 'simulator';
  readonly capabilities = ['device_scan', 'ping_probe', 'signal_monitor', 'simulated'] as const;
  readonly dataSources = ['simulator'] as const;
  private readonly seed: number;
  private readonly deviceCount: number;
  private readonly rate: number;
  private readonly opts: SimulatedSourceOptions;
  private ctx: ProbeContext | undefined;
  private world: RadioWorld | undefined;
  private chunk: BehaviourChunk | undefined;
  private cursor = 0;
  /** Epoch ms: no anomaly before (the baseline after the start). */
  private anomalyFreeUntil = 0;
  private readonly present = new Set<string>();
  private readonly inWorld = new Set<string>();
  private labels: SimAnomalyLabel[] = [];
  private readonly moved = new Map<string, { x: number; y: number }>();
  private random: SimRandom;
  private tickTimer: TimerHandle | undefined;
  private roundTimer: TimerHandle | undefined;
  private running = false;
  private state: ServiceState = 'stopped';
  private counters = { probes: 0, heard: 0, clampedRtt: 0, behaviour: 0 };

  constructor(options: SimulatedSourceOptions = {}) {
    this.opts = options;
    this.seed = options.seed ?? DEFAULT_SEED;
    this.deviceCount = options.devices ?? DEFAULT_DEVICES;
    this.rate = options.rate ?? 1;
    if (!Number.isInteger(this.deviceCount) || this.deviceCount < 1 || this.deviceCount > 1000) {
      throw new Error(`devices must be an integer 1..1000, got ${this.deviceCount}`);
    }
    if (!(this.rate > 0)) throw new Error(`rate must be > 0 probes per second, got ${this.rate}`);
    this.random = simRandom(this.seed, 'agent-anomaly-effects');
  }

  /** Builds the world (also done by `start`); after this, `anchors()`, `sample()` and `truth()` work. */
  prepare(startTime: number): void {
    if (this.world !== undefined) return;
    this.chunk = simulatedDayFrom(this.opts, startTime);
    this.anomalyFreeUntil = baselineEnd(this.opts, startTime);
    this.world = createRadioWorld({
      seed: this.seed,
      ...(this.opts.site === undefined ? {} : { site: this.opts.site }),
      devices: this.chunk.devices,
      startTime,
    });
    const bad = this.world.anchors.filter((a) => isIP(a.id) === 0);
    if (bad.length > 0) {
      throw new Error(
        `the protocol names anchors by IP address (pingResult.targetIp); these site anchors are not IPs: ${bad
          .map((a) => a.id)
          .join(', ')}`,
      );
    }
    for (const d of this.chunk.devices) this.inWorld.add(d.deviceId);
    this.labels = [...this.chunk.anomalies];
  }

  async start(ctx: ProbeContext): Promise<void> {
    this.ctx = ctx;
    this.prepare(ctx.clock.now());
    this.running = true;
    this.state = 'running';
    ctx.logger.info(
      {
        seed: this.seed,
        devices: this.deviceCount,
        anchors: this.world!.anchors.length,
        rate: this.rate,
        anomalies: this.labels.length,
      },
      'simulated network started',
    );
    this.tick();
    this.tickTimer = ctx.clock.every(TICK_MS, () => this.tick());
    this.scheduleRound(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.state = 'stopped';
    this.tickTimer?.cancel();
    this.roundTimer?.cancel();
  }

  health(): SourceHealth {
    return {
      services: { deviceScanner: this.state, pingProber: this.state, signalMonitor: this.state },
      probes: this.counters.probes,
      probeFailures: 0,
      recentErrors: [],
    };
  }

  interfaceAddress(): string | undefined {
    return undefined;
  }

  /** Ground truth of a device's position (for evaluation and the demo). */
  truth(deviceId: string): { x: number; y: number; room?: string } | undefined {
    return this.world?.truth(deviceId);
  }

  /** The anomalies injected so far, with their device and time span (ground truth for detection). */
  anomalies(): readonly SimAnomalyLabel[] {
    return this.labels;
  }

  simulatedDevices(): readonly SimBehaviourDevice[] {
    return this.chunk?.devices ?? [];
  }

  anchors(): readonly string[] {
    return this.requireWorld().anchors.map((a) => a.id);
  }

  /** Calibration: the simulated walker stands at the point; readings of every anchor it hears, `samples` times. */
  async sample(
    point: { x: number; y: number },
    samples: number,
    onSample?: (done: number) => void,
  ): Promise<AnchorReading[][]> {
    const world = this.requireWorld();
    const out: AnchorReading[][] = [];
    for (let i = 0; i < samples; i++) {
      const [set] = world.measureAt(point, 1);
      out.push(
        (set ?? []).map((r) => ({
          targetIp: r.anchorId,
          ...(r.rtt === undefined ? {} : { rtt: r.rtt }),
          ...(r.rssi === undefined ? {} : { rssi: r.rssi }),
        })),
      );
      onSample?.(i + 1);
    }
    return out;
  }

  roomAt(p: { x: number; y: number }): string | undefined {
    return this.requireWorld().roomAt(p);
  }

  async close(): Promise<void> {
    await this.stop();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private requireWorld(): RadioWorld {
    if (this.world === undefined) this.prepare(Date.now());
    return this.world!;
  }

  /** Releases the behaviour messages whose time has come. */
  private tick(): void {
    if (!this.running || this.chunk === undefined) return;
    const now = this.ctx!.clock.now();
    for (;;) {
      const m = this.chunk.messages[this.cursor];
      if (m === undefined) {
        // Next simulated day: same devices (same seed), fresh anomaly schedule.
        // A baseline that runs past midnight (an agent started at 23:55) stays anomaly-free on the next day too.
        const next = simulatedDay(
          this.opts,
          this.chunk.end,
          Math.max(0, this.anomalyFreeUntil - this.chunk.end),
        );
        this.chunk = { ...next, devices: this.chunk.devices };
        this.labels = [...this.labels, ...next.anomalies].slice(-1000);
        this.cursor = 0;
        continue;
      }
      if (Date.parse(m.timestamp) > now) break;
      this.cursor++;
      this.release(m);
    }
    this.applyMoves(now);
  }

  private release(m: BehaviourChunk['messages'][number]): void {
    const ctx = this.ctx!;
    this.counters.behaviour++;
    switch (m.type) {
      case 'deviceJoin':
        // Day boundaries restart the behaviour simulator's presence: a device already here does not join again.
        if (this.present.has(m.data.deviceId)) return;
        this.present.add(m.data.deviceId);
        ctx.emit({
          type: 'deviceJoin',
          data: {
            ...m.data,
            firstSeen: new Date(ctx.clock.now()).toISOString(),
            protocols: ['mDNS', 'ARP'],
            trustLevel: 'unknown',
          },
        });
        return;
      case 'deviceLeave':
        if (!this.present.delete(m.data.deviceId)) return;
        ctx.emit({
          type: 'deviceLeave',
          data: { ...m.data, lastSeen: new Date(ctx.clock.now()).toISOString() },
        });
        return;
      case 'deviceUpdate': {
        if (!this.present.has(m.data.deviceId)) return;
        // Locations are the worker's output, computed from the probes; the agent reports what it observes.
        const { location: _dropped, ...observed } = m.data;
        if (
          observed.rssi === undefined &&
          observed.performance === undefined &&
          observed.activity === undefined
        )
          return;
        ctx.emit({ type: 'deviceUpdate', data: observed });
        return;
      }
      default:
        return;
    }
  }

  private active(deviceId: string, t: number, type: SimAnomalyLabel['type']): boolean {
    return this.labels.some((a) => a.deviceId === deviceId && a.type === type && t >= a.start && t < a.end);
  }

  /** Teleports devices whose device_moved anomaly started, and back when it ends. */
  private applyMoves(now: number): void {
    const world = this.world!;
    for (const a of this.labels) {
      if (a.type !== 'device_moved' || !this.inWorld.has(a.deviceId)) continue;
      const on = now >= a.start && now < a.end;
      const home = this.moved.get(a.id);
      if (on && home === undefined) {
        const from = world.truth(a.deviceId);
        if (from === undefined) continue;
        this.moved.set(a.id, { x: from.x, y: from.y });
        world.teleport(a.deviceId, this.farPoint(from));
      } else if (!on && home !== undefined && now >= a.end) {
        world.teleport(a.deviceId, home);
        this.moved.delete(a.id);
      }
    }
  }

  /** A point of the site at least 4 m away (or the farthest of 50 tries). */
  private farPoint(from: { x: number; y: number }): { x: number; y: number } {
    const { minX, minY, maxX, maxY } = this.world!.site.bounds;
    let best = from;
    let bestD = -1;
    for (let i = 0; i < 50; i++) {
      const p = {
        x: minX + this.random.next() * (maxX - minX),
        y: minY + this.random.next() * (maxY - minY),
      };
      if (this.world!.site.rooms.length > 0 && this.world!.roomAt(p) === undefined) continue;
      const d = Math.hypot(p.x - from.x, p.y - from.y);
      if (d >= 4) return p;
      if (d > bestD) {
        best = p;
        bestD = d;
      }
    }
    return best;
  }

  private scheduleRound(delayMs: number): void {
    if (!this.running) return;
    this.roundTimer = this.ctx!.clock.schedule(delayMs, () => {
      const emitted = this.round();
      // Keep the average at `rate` probes per second whatever the number of devices and anchors heard.
      this.scheduleRound(Math.max(50, (1000 * Math.max(1, emitted)) / this.rate));
    });
  }

  private round(): number {
    if (!this.running) return 0;
    const ctx = this.ctx!;
    const world = this.world!;
    const now = ctx.clock.now();
    this.applyMoves(now);
    const step = world.step(Math.max(0, now - world.now()));
    const kinds = new Map(world.anchors.map((a) => [a.id, a.kind]));
    let emitted = 0;
    for (const d of step.devices) {
      if (!this.present.has(d.deviceId)) continue;
      const drop = this.active(d.deviceId, now, 'signal_drop');
      const interference = this.active(d.deviceId, now, 'interference');
      const spike = this.active(d.deviceId, now, 'latency_spike');
      for (const r of d.readings) {
        this.counters.probes++;
        const kind = kinds.get(r.anchorId);
        let rssi = r.rssi;
        let rtt = r.rtt;
        if (drop && rssi !== undefined) rssi -= 20;
        if (interference) {
          if (rssi !== undefined) rssi += this.random.gaussian(0, 6);
          if (this.random.next() < 0.3) {
            rssi = undefined;
            rtt = undefined;
          }
        }
        // Ping-grade links (gateway, agents) carry network latency; FTM ranging does not.
        if (spike && rtt !== undefined && (kind === 'gateway' || kind === 'agent')) {
          rtt += 100 + 200 * this.random.next();
        }
        if (rssi !== undefined) rssi = Math.max(-120, Math.min(0, Math.round(rssi * 10) / 10));
        if (rtt !== undefined && rtt < 0) {
          // A pingResult rtt cannot be negative (FTM can come out slightly below 0 at short range).
          rtt = 0;
          this.counters.clampedRtt++;
        }
        // An RSSI-only sighting (BLE beacon) is not a ping: success false, with the rssi (docs/agent.md).
        ctx.emit({
          type: 'pingResult',
          data: {
            targetIp: r.anchorId,
            targetType: targetTypeOf(kind),
            ...(rtt === undefined ? {} : { rtt }),
            sequenceNumber: ctx.nextSequence(),
            success: rtt !== undefined,
            deviceId: d.deviceId,
            ...(rssi === undefined ? {} : { rssi }),
          },
        });
        emitted++;
        if (rssi !== undefined || rtt !== undefined) this.counters.heard++;
      }
    }
    return emitted;
  }
}

/** End of the anomaly-free baseline of a source started at `t`, epoch ms. */
function baselineEnd(o: SimulatedSourceOptions, t: number): number {
  return t + (o.baselineMinutes ?? 10) * 60_000;
}

/** One UTC day of device behaviour from the behaviour simulator, anomalies only after `anomalyFreeMs`. */
function simulatedDay(o: SimulatedSourceOptions, dayStart: number, anomalyFreeMs: number): BehaviourChunk {
  return simulateBehaviour({
    seed: o.seed ?? DEFAULT_SEED,
    devices: o.devices ?? DEFAULT_DEVICES,
    start: dayStart,
    durationMs: DAY,
    updateIntervalMs: (o.updateIntervalSeconds ?? 30) * 1000,
    anomaliesPerType: o.anomaliesPerType ?? 2,
    anomalyFreeMs,
  });
}

/**
 * The behaviour of the simulated network from `t` on. The day is simulated from its UTC midnight, so what the
 * network looks like at a moment depends only on the seed and the clock, never on when the agent was started:
 * restarting the agent does not send the laptop away or bring the phone home. The devices on the network at `t` join
 * at once, as a real agent's first scan would find them; what happened before `t` is not replayed. The first
 * `baselineMinutes` after `t` carry no anomaly, so the models see normal behaviour first.
 */
export function simulatedDayFrom(o: SimulatedSourceOptions, t: number): BehaviourChunk {
  const dayStart = Math.floor(t / DAY) * DAY;
  const day = simulatedDay(o, dayStart, baselineEnd(o, t) - dayStart);
  const present = new Map<string, BehaviourChunk['messages'][number]>();
  let i = 0;
  for (; i < day.messages.length; i++) {
    const m = day.messages[i]!;
    if (Date.parse(m.timestamp) >= t) break;
    if (m.type === 'deviceJoin') present.set(m.data.deviceId, m);
    else if (m.type === 'deviceLeave') present.delete(m.data.deviceId);
  }
  const at = new Date(t).toISOString();
  const joins = [...present.values()].map((m) => ({ ...m, timestamp: at }));
  return { ...day, messages: [...joins, ...day.messages.slice(i)] };
}

export function createSimulatedSource(options: SimulatedSourceOptions = {}): SimulatedSource {
  return new SimulatedSource(options);
}
