import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Draft } from '../../../src/agent/probe-source.js';
import { ScanSource } from '../../../src/agent/sources/scan-source.js';
import { makeMessage, parseMessage } from '../../../src/protocol/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { createNetnsLab, haveNetns, havePing, type NetnsLab } from '../helpers/netns.js';

// The whole real-probe source, aimed only at a namespace host this file creates (gateway probing off): ICMP,
// neighbour table, vendor, multicast discovery on the veth, leave after a timeout, and failures as error messages.

function collector(clock: FakeClock) {
  const drafts: Draft[] = [];
  let seq = 1000;
  return {
    drafts,
    ctx: {
      clock,
      logger: pino({ level: 'silent' }),
      emit: (d: Draft) => {
        drafts.push(d);
        // Every draft must become a valid protocol message.
        const check = parseMessage(makeMessage(d.type, 'agent_scan_test', d.data as never));
        if (!check.ok) throw new Error(`invalid ${d.type}: ${check.error.message}`);
        return true;
      },
      nextSequence: () => seq++,
    },
    of<T extends Draft['type']>(type: T) {
      return drafts.filter((d): d is Extract<Draft, { type: T }> => d.type === type);
    },
  };
}

const netnsOk = havePing() && haveNetns();
describe.runIf(netnsOk)('ScanSource against a network namespace', () => {
  let lab: NetnsLab;
  let child: ReturnType<NetnsLab['spawnInNs']>;
  beforeAll(async () => {
    lab = createNetnsLab();
    const script = join(import.meta.dirname, '..', 'fixtures', 'discovery-responder.mjs');
    child = lab.spawnInNs(process.execPath, [
      script,
      '--address',
      lab.nsAddress,
      '--name',
      'nsdevice',
      '--multicast',
    ]);
    await once(child.stdout!, 'data');
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    lab?.destroy();
  });

  it('probes, discovers, names the vendor, and says goodbye to a device that went away', async () => {
    const clock = new FakeClock();
    const c = collector(clock);
    const source = new ScanSource({
      targets: [lab.nsAddress, lab.absentAddress],
      gateway: 'none',
      interface: lab.hostIf,
      method: 'icmp',
      timeoutMs: 1000,
      wifi: false,
      discoverOn: lab.hostAddress,
      discoveryDurationMs: 600,
      leaveAfterMs: 60_000,
    });
    expect(source.capabilities).toEqual(['ping_probe', 'device_scan', 'mdns_discovery', 'ssdp_discovery']);
    // start() runs a probe round and a discovery at once; then one more round.
    await source.start(c.ctx);
    await source.runRound();
    await source.runDiscovery();
    await source.runRound();

    const pings = c.of('pingResult');
    const toHost = pings.filter((p) => p.data.targetIp === lab.nsAddress);
    const toAbsent = pings.filter((p) => p.data.targetIp === lab.absentAddress);
    expect(toHost.length).toBeGreaterThanOrEqual(2);
    expect(toHost.every((p) => p.data.success && p.data.rtt! >= 0 && p.data.ttl === 64)).toBe(true);
    expect(toAbsent.every((p) => !p.data.success && p.data.rtt === undefined)).toBe(true);
    const seqs = pings.map((p) => p.data.sequenceNumber);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const join = c.of('deviceJoin').find((j) => j.data.deviceId === lab.nsMac);
    expect(join?.data).toMatchObject({
      macAddress: lab.nsMac,
      ipAddress: lab.nsAddress,
      vendor: 'Raspberry Pi',
      trustLevel: 'unknown',
    });
    // A type from the OUI table's vocabulary: from the vendor, or from the cast service if discovery came first.
    expect(['computer', 'streaming']).toContain(join?.data.deviceType);
    expect(c.of('deviceJoin').filter((j) => j.data.deviceId === lab.nsMac)).toHaveLength(1);
    // Whichever came first (neighbour table or discovery), the device is keyed by its MAC and ends up with the
    // services discovery found — in its join or in a later update's activity.
    const services = [
      ...(join?.data.services ?? []),
      ...c
        .of('deviceUpdate')
        .flatMap((u) => (u.data.deviceId === lab.nsMac ? (u.data.activity?.services ?? []) : [])),
    ];
    expect(services).toEqual(expect.arrayContaining(['_http._tcp', '_googlecast._tcp', 'upnp:rootdevice']));
    const perf = c.of('deviceUpdate').find((u) => u.data.deviceId === lab.nsMac && u.data.performance);
    expect(perf?.data.performance?.packetLoss).toBe(0);
    expect(source.health().services).toMatchObject({
      pingProber: 'running',
      deviceScanner: 'running',
      discovery: 'running',
    });

    // The host goes away: its address is removed, the kernel forgets it, and after the timeout it leaves.
    lab.exec('ip', ['addr', 'del', `${lab.nsAddress}/24`, 'dev', lab.nsIf]);
    execIp(['neigh', 'flush', 'dev', lab.hostIf]);
    clock.advance(61_000);
    await source.runRound();
    expect(c.of('deviceLeave')).toContainEqual({
      type: 'deviceLeave',
      data: expect.objectContaining({ deviceId: lab.nsMac, reason: 'timeout' }),
    });
    await source.stop();
  });

  it('gateway auto: reads the default route and probes that gateway, with the WiFi RSSI of its interface', async () => {
    // A /proc root of our own: its default route names the namespace host as the gateway, so the machine's real
    // gateway is never read, let alone probed. /proc/net/route holds addresses as little-endian hex.
    // The first test took the host's address away; give it back.
    lab.exec('ip', ['addr', 'replace', `${lab.nsAddress}/24`, 'dev', lab.nsIf]);
    // The host's neighbour entry for it was left FAILED by the first test: forget it, and wait until the host
    // answers again, so the probes below measure the source rather than the kernel's ARP retry timer.
    execIp(['neigh', 'flush', 'dev', lab.hostIf]);
    expect(lab.waitReachable()).toBe(true);
    const root = mkdtempSync(join(tmpdir(), 'sbp-scan-proc-'));
    try {
      mkdirSync(join(root, 'net'));
      const hex = (ip: string) =>
        ip
          .split('.')
          .map((b) => Number(b).toString(16).padStart(2, '0'))
          .reverse()
          .join('')
          .toUpperCase();
      writeFileSync(
        join(root, 'net', 'route'),
        'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
          `${lab.hostIf}\t00000000\t${hex(lab.nsAddress)}\t0003\t0\t0\t100\t00000000\t0\t0\t0\n`,
      );
      writeFileSync(
        join(root, 'net', 'wireless'),
        'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n' +
          ' face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22\n' +
          `${lab.hostIf}: 0000   50.  -61.  -256        0      0      0      0      0        0\n`,
      );
      const clock = new FakeClock();
      const c = collector(clock);
      const source = new ScanSource({
        gateway: 'auto',
        procRoot: root,
        iwPath: '/nonexistent/iw',
        method: 'icmp',
        // Generous: on a loaded 2-core CI machine a reply can take longer than a second.
        timeoutMs: 3000,
        neighbours: false,
      });
      await source.start(c.ctx);
      await source.runRound();
      const probes = c.of('pingResult');
      expect(probes.length).toBeGreaterThanOrEqual(1);
      for (const p of probes) {
        expect(p.data).toMatchObject({
          targetIp: lab.nsAddress,
          targetType: 'gateway',
          success: true,
          rssi: -61,
        });
      }
      expect(source.health().gatewayRttMs).toBeGreaterThanOrEqual(0);
      expect(source.health().services.signalMonitor).toBe('running');
      await source.stop();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports a probe that cannot run as PING_FAILED, once per target per 5 minutes', async () => {
    const clock = new FakeClock();
    const c = collector(clock);
    const source = new ScanSource({
      targets: [lab.hostAddress],
      gateway: 'none',
      method: 'icmp',
      pingPath: '/nonexistent/ping',
      neighbours: false,
      wifi: false,
    });
    await source.start(c.ctx);
    await source.runRound();
    await source.runRound();
    const errors = c.of('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({
      errorCode: 'PING_FAILED',
      severity: 'low',
      recoverable: true,
      context: { targetDevice: lab.hostAddress, operation: 'ping_probe', attemptNumber: 1 },
    });
    expect(c.of('pingResult')).toHaveLength(0);
    expect(source.health()).toMatchObject({ probes: 2, probeFailures: 2, services: { pingProber: 'error' } });
    clock.advance(5 * 60_000);
    await source.runRound();
    expect(c.of('error')).toHaveLength(2);
    expect(c.of('error')[1]!.data.context).toMatchObject({ attemptNumber: 3 });
    await source.stop();
  });

  it('falls back to TCP connect time when ICMP cannot run (method auto)', async () => {
    const clock = new FakeClock();
    const c = collector(clock);
    const source = new ScanSource({
      targets: ['127.0.0.1'],
      gateway: 'none',
      pingPath: '/nonexistent/ping',
      tcpPort: 9,
      neighbours: false,
      wifi: false,
    });
    await source.start(c.ctx);
    await source.runRound();
    expect(c.of('pingResult')[0]?.data).toMatchObject({ targetIp: '127.0.0.1', success: true });
    expect(c.of('pingResult')[0]?.data.packetSize).toBeUndefined();
    expect(c.of('error')).toHaveLength(0);
    await source.stop();
  });

  it('reports a discovery that cannot bind as SCAN_FAILED', async () => {
    const clock = new FakeClock();
    const c = collector(clock);
    const source = new ScanSource({
      gateway: 'none',
      neighbours: false,
      wifi: false,
      discoverOn: '203.0.113.254',
    });
    await source.start(c.ctx);
    await source.runDiscovery();
    expect(c.of('error').map((e) => e.data.errorCode)).toEqual(['SCAN_FAILED', 'SCAN_FAILED']);
    expect(source.health().services.discovery).toBe('error');
    await source.stop();
  });
});

function execIp(args: string[]): void {
  execFileSync('ip', args);
}

describe('ScanSource option checks', () => {
  it('refuses targets that are not IP addresses and discovery without an IPv4 address', () => {
    expect(() => new ScanSource({ targets: ['example.com'] })).toThrow(/IP address/);
    expect(() => new ScanSource({ discoverOn: 'eth0' })).toThrow(/IPv4 address/);
    expect(() => new ScanSource({ gateway: 'router' })).toThrow(/auto, none or an IP/);
  });
});
