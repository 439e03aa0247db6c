import { isIP } from 'node:net';
import { isLocallyAdministered, type OuiVendor, vendorOfMac } from '../../models/trust/oui.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../../protocol/index.js';
import type { TimerHandle } from '../clock.js';
import type { Draft, ProbeContext, ProbeSource, ServiceState, SourceHealth } from '../probe-source.js';
import { type DiscoveredHost, discoverAll } from '../scan/discovery.js';
import { interfaceAddress as addressOfInterface, interfaceOf, readDefaultRoute } from '../scan/gateway.js';
import { type Neighbour, readNeighbours } from '../scan/neighbours.js';
import { icmpPing, type ProbeOutcome, tcpPing } from '../scan/ping.js';
import { readWirelessLinks, type WirelessLink } from '../scan/wireless.js';

/** Real probes of the network the agent sits on. Opt-in (`--scan`); see docs/agent.md for the traffic it sends. */
export interface ScanSourceOptions {
  /** IP addresses to probe every round (RTT). @defaultValue none */
  targets?: readonly string[];
  /** Targets that are anchors of the site (reported with targetType `anchor`). @defaultValue none */
  anchors?: readonly string[];
  /** Also probe the default gateway: `auto` reads it from /proc/net/route, `none` skips it, or an IP. @defaultValue auto */
  gateway?: 'auto' | 'none' | string;
  /** Interface name to probe from and whose neighbours to report. @defaultValue the default route's */
  interface?: string;
  /** Probe round period, ms. @defaultValue 10 000 */
  intervalMs?: number;
  /** `icmp` (system ping), `tcp` (connect time), `auto` = ICMP, falling back to TCP when ping cannot run. @defaultValue auto */
  method?: 'auto' | 'icmp' | 'tcp';
  /** TCP port for `tcp` probes. @defaultValue 80 */
  tcpPort?: number;
  /** Per-probe timeout, ms. @defaultValue 1000 */
  timeoutMs?: number;
  /** ICMP payload bytes. @defaultValue 56 */
  packetSize?: number;
  /** Read the neighbour table (ARP/NDP) for devices. Passive. @defaultValue true */
  neighbours?: boolean;
  /** Read the WiFi link's RSSI where the OS exposes it. Passive. @defaultValue true */
  wifi?: boolean;
  /**
   * IPv4 address of the interface to send mDNS and SSDP discovery from. Absent = no discovery: multicast discovery
   * only ever goes out where the user explicitly asked.
   */
  discoverOn?: string;
  /** @defaultValue 300 000 (5 min) */
  discoveryIntervalMs?: number;
  /** Listen window per discovery, ms. @defaultValue 2000 */
  discoveryDurationMs?: number;
  /** Tests: send mDNS / SSDP queries here instead of the multicast groups. */
  mdnsDestination?: { address: string; port: number };
  ssdpDestination?: { address: string; port: number };
  /** A device not seen for this long gets `deviceLeave` (reason timeout). @defaultValue 600 000 (10 min) */
  leaveAfterMs?: number;
  /** Paths of system tools and of /proc (tests). */
  pingPath?: string;
  ipPath?: string;
  iwPath?: string;
  procRoot?: string;
}

interface KnownDevice {
  deviceId: string;
  ip?: string;
  mac?: string;
  firstSeen: number;
  lastSeen: number;
  services: string[];
}

interface TargetStats {
  window: { ok: boolean; rtt?: number }[];
}

/** How often the same failure is reported to the hub as an `error` message (it is counted every time). */
const ERROR_REPEAT_MS = 5 * 60_000;
const WINDOW = 20;
const MAX_RECENT_ERRORS = 16;

/** mDNS service / SSDP target → a snake_case device type (a hint for trust's type consistency). */
function deviceTypeOf(services: readonly string[], vendor: OuiVendor | null): string | undefined {
  // Types from the OUI table's vocabulary (models/trust/oui.ts), so the trust score can check them against the vendor.
  const has = (re: RegExp) => services.some((s) => re.test(s));
  if (has(/InternetGatewayDevice|WANDevice/i)) return 'router';
  if (has(/_ipp|_printer|_pdl-datastream|Printer/i)) return 'printer';
  if (has(/_sonos|ZonePlayer/i)) return 'speaker';
  if (has(/_googlecast|_airplay|_raop|MediaRenderer|_spotify-connect/i)) return 'streaming';
  if (has(/_hue/i)) return 'bridge';
  if (has(/_hap/i)) return 'iot';
  if (vendor?.key === 'raspberry') return 'computer';
  if (vendor?.key === 'espressif') return 'iot';
  return undefined;
}

export class ScanSource implements ProbeSource {
  readonly name = 'scan';
  readonly capabilities: readonly string[];
  readonly dataSources: readonly string[];
  private ctx: ProbeContext | undefined;
  private readonly opts: ScanSourceOptions;
  private roundTimer: TimerHandle | undefined;
  private discoveryTimer: TimerHandle | undefined;
  private running = false;
  private roundInFlight: Promise<void> | undefined;
  private discoveryInFlight: Promise<void> | undefined;
  private method: 'icmp' | 'tcp';
  private gatewayIp: string | undefined;
  private iface: string | undefined;
  private readonly devices = new Map<string, KnownDevice>();
  private readonly targetStats = new Map<string, TargetStats>();
  private readonly lastErrorAt = new Map<string, number>();
  private readonly recentErrors: string[] = [];
  private wifiSeen = false;
  private counters = { probes: 0, failures: 0, lost: 0, scans: 0, scanFailures: 0, discoveries: 0 };
  private services: Record<string, ServiceState>;

  constructor(options: ScanSourceOptions = {}) {
    this.opts = options;
    for (const t of [...(options.targets ?? []), ...(options.anchors ?? [])]) {
      if (isIP(t) === 0) throw new Error(`scan target must be an IP address, got "${t}"`);
    }
    if (
      options.gateway !== undefined &&
      !['auto', 'none'].includes(options.gateway) &&
      isIP(options.gateway) === 0
    ) {
      throw new Error(`--gateway must be auto, none or an IP address, got "${options.gateway}"`);
    }
    if (options.discoverOn !== undefined && isIP(options.discoverOn) !== 4) {
      throw new Error(`discovery needs the IPv4 address of an interface, got "${options.discoverOn}"`);
    }
    this.method = options.method === 'tcp' ? 'tcp' : 'icmp';
    this.capabilities = [
      'ping_probe',
      ...(options.neighbours === false ? [] : ['device_scan']),
      ...(options.wifi === false ? [] : ['signal_monitor']),
      ...(options.discoverOn === undefined ? [] : ['mdns_discovery', 'ssdp_discovery']),
    ];
    this.dataSources = [
      'ping_probe',
      ...(options.neighbours === false ? [] : ['network_scan']),
      ...(options.wifi === false ? [] : ['signal_monitor']),
      ...(options.discoverOn === undefined ? [] : ['mdns', 'ssdp']),
    ];
    this.services = {
      pingProber: 'starting',
      deviceScanner: options.neighbours === false ? 'disabled' : 'starting',
      signalMonitor: options.wifi === false ? 'disabled' : 'starting',
      discovery: options.discoverOn === undefined ? 'disabled' : 'starting',
    };
  }

  async start(ctx: ProbeContext): Promise<void> {
    this.ctx = ctx;
    this.running = true;
    const gw = this.opts.gateway ?? 'auto';
    const route = gw === 'auto' ? await readDefaultRoute(this.opts.procRoot) : undefined;
    this.gatewayIp = gw === 'auto' ? route?.gateway : gw === 'none' ? undefined : gw;
    this.iface =
      this.opts.interface ??
      (this.opts.discoverOn !== undefined ? interfaceOf(this.opts.discoverOn) : undefined) ??
      route?.dev;
    if (gw === 'auto' && this.gatewayIp === undefined) {
      ctx.logger.warn('no default IPv4 route: the gateway is not probed');
    }
    ctx.logger.info(
      {
        targets: this.targets().map((t) => t.ip),
        interface: this.iface,
        method: this.opts.method ?? 'auto',
        discovery: this.opts.discoverOn ?? 'off',
      },
      'real network scan started',
    );
    const interval = this.opts.intervalMs ?? 10_000;
    this.roundTimer = ctx.clock.every(interval, () => this.kickRound());
    this.kickRound();
    if (this.opts.discoverOn !== undefined) {
      this.discoveryTimer = ctx.clock.every(this.opts.discoveryIntervalMs ?? 300_000, () =>
        this.kickDiscovery(),
      );
      this.kickDiscovery();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.roundTimer?.cancel();
    this.discoveryTimer?.cancel();
    await Promise.allSettled([this.roundInFlight, this.discoveryInFlight]);
    for (const key of Object.keys(this.services)) {
      if (this.services[key] !== 'disabled') this.services[key] = 'stopped';
    }
  }

  health(): SourceHealth {
    const gw = this.gatewayIp ?? this.targets()[0]?.ip;
    const rtts = gw === undefined ? [] : (this.targetStats.get(gw)?.window ?? []).flatMap((w) => w.rtt ?? []);
    return {
      services: { ...this.services },
      probes: this.counters.probes,
      probeFailures: this.counters.failures,
      recentErrors: [...this.recentErrors],
      ...(rtts.length > 0 ? { gatewayRttMs: Math.min(...rtts) } : {}),
    };
  }

  interfaceAddress(): string | undefined {
    if (this.opts.discoverOn !== undefined) return this.opts.discoverOn;
    return this.iface === undefined ? undefined : addressOfInterface(this.iface);
  }

  /** Runs one probe round now and resolves when it is done (tests; the timer calls it too). */
  async runRound(): Promise<void> {
    this.kickRound();
    await this.roundInFlight;
  }

  async runDiscovery(): Promise<void> {
    this.kickDiscovery();
    await this.discoveryInFlight;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private targets(): { ip: string; type: 'gateway' | 'anchor' | 'device' }[] {
    const out: { ip: string; type: 'gateway' | 'anchor' | 'device' }[] = [];
    if (this.gatewayIp !== undefined) out.push({ ip: this.gatewayIp, type: 'gateway' });
    for (const ip of this.opts.anchors ?? [])
      if (!out.some((t) => t.ip === ip)) out.push({ ip, type: 'anchor' });
    for (const ip of this.opts.targets ?? [])
      if (!out.some((t) => t.ip === ip)) out.push({ ip, type: 'device' });
    return out;
  }

  private kickRound(): void {
    if (!this.running || this.roundInFlight !== undefined) return;
    this.roundInFlight = this.round()
      .catch((error: unknown) => this.ctx?.logger.error({ err: error }, 'scan round failed'))
      .finally(() => {
        this.roundInFlight = undefined;
      });
  }

  private kickDiscovery(): void {
    if (!this.running || this.discoveryInFlight !== undefined) return;
    this.discoveryInFlight = this.discover()
      .catch((error: unknown) => this.ctx?.logger.error({ err: error }, 'discovery failed'))
      .finally(() => {
        this.discoveryInFlight = undefined;
      });
  }

  private now(): number {
    return this.ctx!.clock.now();
  }

  private emit(draft: Draft): void {
    if (this.running) this.ctx?.emit(draft);
  }

  private async round(): Promise<void> {
    const neighbours = this.opts.neighbours === false ? [] : await this.scanNeighbours();
    const byIp = new Map(neighbours.map((n) => [n.ip, n]));
    const wifi = this.opts.wifi === false ? [] : await this.readWifi();
    for (const target of this.targets()) {
      if (!this.running) return;
      await this.probe(target, byIp, wifi);
    }
    this.expire();
  }

  private async probe(
    target: { ip: string; type: 'gateway' | 'anchor' | 'device' },
    neighbours: Map<string, Neighbour>,
    wifi: WirelessLink[],
  ): Promise<void> {
    const outcome = await this.measure(target.ip);
    if (!this.running) return;
    this.counters.probes++;
    const ctx = this.ctx!;
    if (outcome.status === 'failed') {
      this.counters.failures++;
      this.services.pingProber = 'error';
      this.report('PING_FAILED', `${outcome.method} probe of ${target.ip} could not run: ${outcome.detail}`, {
        targetDevice: target.ip,
        operation: 'ping_probe',
        method: outcome.method,
        code: outcome.code,
      });
      return;
    }
    this.services.pingProber = 'running';
    const stats = this.targetStats.get(target.ip) ?? { window: [] };
    this.targetStats.set(target.ip, stats);
    stats.window.push(outcome.status === 'reply' ? { ok: true, rtt: outcome.rttMs } : { ok: false });
    if (stats.window.length > WINDOW) stats.window.shift();
    if (outcome.status === 'lost') this.counters.lost++;
    const gatewayLink = target.type === 'gateway' ? wifi.find((w) => w.dev === this.iface) : undefined;
    const loss = stats.window.filter((w) => !w.ok).length / stats.window.length;
    this.emit({
      type: 'pingResult',
      data: {
        targetIp: target.ip,
        targetType: target.type,
        ...(outcome.status === 'reply' ? { rtt: round3(outcome.rttMs) } : {}),
        ...(outcome.method === 'icmp' ? { packetSize: this.opts.packetSize ?? 56 } : {}),
        ...(outcome.status === 'reply' && outcome.ttl !== undefined ? { ttl: outcome.ttl } : {}),
        sequenceNumber: ctx.nextSequence(),
        success: outcome.status === 'reply',
        // Share of the last probes to this target that came back.
        qualityScore: round3(1 - loss),
        ...(gatewayLink === undefined ? {} : { rssi: gatewayLink.rssi }),
      },
    });
    // The target as a device: performance from the probe window, when the neighbour table names its MAC.
    const n = neighbours.get(target.ip);
    if (n !== undefined) {
      const device = this.devices.get(n.mac);
      if (device !== undefined && outcome.status === 'reply') device.lastSeen = this.now();
      const rtts = stats.window.flatMap((w) => w.rtt ?? []);
      this.emit({
        type: 'deviceUpdate',
        data: {
          deviceId: n.mac,
          performance: {
            ...(rtts.length > 0 ? { latency: round3(rtts.reduce((a, b) => a + b, 0) / rtts.length) } : {}),
            packetLoss: round3(100 * loss),
          },
          ...(gatewayLink === undefined ? {} : { rssi: gatewayLink.rssi }),
        },
      });
    }
  }

  private async measure(ip: string): Promise<ProbeOutcome> {
    const timeoutMs = this.opts.timeoutMs ?? 1000;
    if (this.method === 'icmp') {
      const outcome = await icmpPing(ip, {
        timeoutMs,
        packetSize: this.opts.packetSize ?? 56,
        ...(this.iface === undefined || this.opts.interface === undefined ? {} : { source: this.iface }),
        ...(this.opts.pingPath === undefined ? {} : { pingPath: this.opts.pingPath }),
      });
      const cannotRun = outcome.status === 'failed' && ['ENOENT', 'EACCES', 'EPERM'].includes(outcome.code);
      if (cannotRun && (this.opts.method ?? 'auto') === 'auto') {
        this.method = 'tcp';
        this.ctx?.logger.warn(
          { reason: outcome.detail },
          'ICMP ping cannot run here; falling back to TCP connect time',
        );
      } else {
        return outcome;
      }
    }
    const local = this.interfaceAddress();
    return tcpPing(ip, {
      timeoutMs,
      port: this.opts.tcpPort ?? 80,
      ...(local === undefined || this.opts.interface === undefined ? {} : { localAddress: local }),
    });
  }

  private async scanNeighbours(): Promise<Neighbour[]> {
    this.counters.scans++;
    let rows: Neighbour[];
    try {
      rows = await readNeighbours({
        ...(this.iface === undefined ? {} : { interfaces: [this.iface] }),
        ...(this.opts.ipPath === undefined ? {} : { ipPath: this.opts.ipPath }),
        ...(this.opts.procRoot === undefined ? {} : { procRoot: this.opts.procRoot }),
      });
    } catch (error) {
      this.counters.scanFailures++;
      this.services.deviceScanner = 'error';
      this.report('SCAN_FAILED', `could not read the neighbour table: ${(error as Error).message}`, {
        operation: 'neighbour_scan',
      });
      return [];
    }
    this.services.deviceScanner = 'running';
    const now = this.now();
    for (const n of rows) {
      const fresh = n.state !== 'STALE';
      const known = this.devices.get(n.mac);
      if (known !== undefined) {
        if (fresh) known.lastSeen = now;
        known.ip = n.ip;
        continue;
      }
      // A STALE entry alone is old news: join only what the kernel has confirmed recently.
      if (!fresh) continue;
      this.join({ deviceId: n.mac, ip: n.ip, mac: n.mac, protocols: [n.ip.includes(':') ? 'NDP' : 'ARP'] });
    }
    return rows;
  }

  private async readWifi(): Promise<WirelessLink[]> {
    const links = await readWirelessLinks({
      ...(this.opts.procRoot === undefined ? {} : { procRoot: this.opts.procRoot }),
      ...(this.opts.iwPath === undefined ? {} : { iwPath: this.opts.iwPath }),
    });
    if (links.length === 0) {
      if (!this.wifiSeen) this.services.signalMonitor = 'disabled';
      return [];
    }
    this.wifiSeen = true;
    this.services.signalMonitor = 'running';
    for (const link of links) {
      if (link.bssid === undefined) continue;
      if (!this.devices.has(link.bssid)) {
        this.join({
          deviceId: link.bssid,
          mac: link.bssid,
          protocols: ['802.11'],
          rssi: link.rssi,
          deviceType: 'access_point',
          ...(link.ssid === undefined ? {} : { hostname: link.ssid }),
        });
      } else {
        this.devices.get(link.bssid)!.lastSeen = this.now();
        this.emit({ type: 'deviceUpdate', data: { deviceId: link.bssid, rssi: link.rssi } });
      }
    }
    return links;
  }

  private async discover(): Promise<void> {
    const on = this.opts.discoverOn;
    if (on === undefined) return;
    this.counters.discoveries++;
    const { hosts, failures } = await discoverAll({
      interfaceAddress: on,
      durationMs: this.opts.discoveryDurationMs ?? 2000,
      ...(this.opts.mdnsDestination === undefined ? {} : { mdns: this.opts.mdnsDestination }),
      ...(this.opts.ssdpDestination === undefined ? {} : { ssdp: this.opts.ssdpDestination }),
    });
    if (!this.running) return;
    for (const f of failures) {
      this.report('SCAN_FAILED', `${f.protocol} discovery on ${on} failed: ${f.error}`, {
        operation: `${f.protocol.toLowerCase()}_discovery`,
        interfaceAddress: on,
      });
    }
    this.services.discovery = failures.length === 2 ? 'error' : 'running';
    // Answering hosts are usually in the neighbour table by now: prefer their MAC as the device id.
    const neighbours =
      this.opts.neighbours === false
        ? []
        : await readNeighbours({
            ...(this.iface === undefined ? {} : { interfaces: [this.iface] }),
            ...(this.opts.ipPath === undefined ? {} : { ipPath: this.opts.ipPath }),
          }).catch(() => []);
    for (const host of hosts) this.seenByDiscovery(host, neighbours.find((n) => n.ip === host.address)?.mac);
  }

  private seenByDiscovery(host: DiscoveredHost, mac: string | undefined): void {
    const deviceId =
      mac ?? [...this.devices.values()].find((d) => d.ip === host.address)?.deviceId ?? `ip:${host.address}`;
    const known = this.devices.get(deviceId);
    if (known === undefined) {
      this.join({
        deviceId,
        ip: host.address,
        ...(mac === undefined ? {} : { mac }),
        protocols: host.protocols,
        services: host.services,
        ...(host.hostname === undefined ? {} : { hostname: host.hostname }),
      });
      return;
    }
    known.lastSeen = this.now();
    const added = host.services.filter((s) => !known.services.includes(s));
    if (added.length > 0) {
      known.services = [...known.services, ...added].slice(0, 256);
      this.emit({
        type: 'deviceUpdate',
        data: {
          deviceId,
          activity: {
            services: known.services,
            intervalSeconds: Math.round((this.opts.discoveryIntervalMs ?? 300_000) / 1000),
          },
        },
      });
    }
  }

  private join(d: {
    deviceId: string;
    ip?: string;
    mac?: string;
    protocols: string[];
    services?: string[];
    hostname?: string;
    rssi?: number;
    deviceType?: string;
  }): void {
    const now = this.now();
    const maker = d.mac === undefined ? null : vendorOfMac(d.mac);
    const vendor = maker?.name;
    const services = d.services ?? [];
    const deviceType = d.deviceType ?? deviceTypeOf(services, maker);
    this.devices.set(d.deviceId, {
      deviceId: d.deviceId,
      ...(d.ip === undefined ? {} : { ip: d.ip }),
      ...(d.mac === undefined ? {} : { mac: d.mac }),
      firstSeen: now,
      lastSeen: now,
      services,
    });
    this.emit({
      type: 'deviceJoin',
      data: {
        deviceId: d.deviceId,
        ...(d.hostname === undefined ? {} : { hostname: d.hostname.slice(0, 256) }),
        ...(d.ip === undefined ? {} : { ipAddress: d.ip.replace(/%.*$/, '') }),
        ...(d.mac === undefined ? {} : { macAddress: d.mac }),
        ...(vendor === undefined ? {} : { vendor }),
        ...(deviceType === undefined ? {} : { deviceType }),
        ...(d.rssi === undefined ? {} : { rssi: d.rssi }),
        firstSeen: new Date(now).toISOString(),
        protocols: [
          ...d.protocols,
          ...(d.mac !== undefined && isLocallyAdministered(d.mac) ? ['randomized_mac'] : []),
        ],
        ...(services.length === 0 ? {} : { services: services.slice(0, 256) }),
        trustLevel: 'unknown',
      },
    });
  }

  private expire(): void {
    const now = this.now();
    const after = this.opts.leaveAfterMs ?? 600_000;
    for (const [id, d] of this.devices) {
      if (now - d.lastSeen < after) continue;
      this.devices.delete(id);
      this.emit({
        type: 'deviceLeave',
        data: { deviceId: id, reason: 'timeout', lastSeen: new Date(d.lastSeen).toISOString() },
      });
    }
  }

  /** Counts every failure; tells the hub with an `error` message at most once per 5 minutes per kind and target. */
  private report(
    code: Extract<ErrorCode, 'PING_FAILED' | 'SCAN_FAILED'>,
    message: string,
    context: Record<string, string | number>,
  ): void {
    this.recentErrors.push(message.slice(0, 256));
    if (this.recentErrors.length > MAX_RECENT_ERRORS) this.recentErrors.shift();
    const key = `${code}:${context.targetDevice ?? context.operation ?? ''}`;
    const now = this.now();
    const last = this.lastErrorAt.get(key);
    const attempts = (this.lastErrorCount.get(key) ?? 0) + 1;
    this.lastErrorCount.set(key, attempts);
    if (last !== undefined && now - last < ERROR_REPEAT_MS) return;
    this.lastErrorAt.set(key, now);
    this.ctx?.logger.warn({ code, ...context }, message);
    this.emit({
      type: 'error',
      data: {
        errorCode: code,
        errorMessage: message.slice(0, 4096),
        context: { ...context, attemptNumber: attempts },
        severity: ERROR_CATALOGUE[code].severity,
        recoverable: ERROR_CATALOGUE[code].recoverable,
      },
    });
  }

  private readonly lastErrorCount = new Map<string, number>();
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function createScanSource(options: ScanSourceOptions = {}): ScanSource {
  return new ScanSource(options);
}
