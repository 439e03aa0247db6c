import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icmpPing, parsePingOutput, tcpPing } from '../../../src/agent/scan/ping.js';
import { createNetnsLab, haveNetns, havePing, type NetnsLab } from '../helpers/netns.js';

// Probes go only to 127.0.0.1 and to hosts inside a network namespace this file creates.

describe('parsePingOutput', () => {
  it('reads bytes, ttl and time from iputils output', () => {
    const out =
      'PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.297 ms\n';
    expect(parsePingOutput(out)).toEqual({ bytes: 64, ttl: 64, rttMs: 0.297 });
  });
  it('reads BusyBox output (seq instead of icmp_seq)', () => {
    expect(parsePingOutput('64 bytes from 10.0.0.1: seq=0 ttl=63 time=1.234 ms')).toEqual({
      bytes: 64,
      ttl: 63,
      rttMs: 1.234,
    });
  });
  it('finds nothing in a lost probe', () => {
    expect(parsePingOutput('1 packets transmitted, 0 received, 100% packet loss')).toBeUndefined();
  });
});

describe('tcpPing on loopback', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('times the connect to an open port', async () => {
    const out = await tcpPing('127.0.0.1', { port });
    expect(out.status).toBe('reply');
    if (out.status === 'reply') expect(out.rttMs).toBeGreaterThan(0);
  });

  it('counts the RST of a closed port as a reply: it is a full round trip', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const out = await tcpPing('127.0.0.1', { port: closedPort });
    expect(out).toMatchObject({ status: 'reply', method: 'tcp' });
  });
});

const pingOk = havePing();
describe.runIf(pingOk)('icmpPing through the system ping', () => {
  it('gets a reply with ttl from 127.0.0.1', async () => {
    const out = await icmpPing('127.0.0.1', { timeoutMs: 1000, packetSize: 32 });
    expect(out).toMatchObject({ status: 'reply', method: 'icmp', bytes: 40 });
    if (out.status === 'reply') {
      expect(out.ttl).toBeGreaterThan(0);
      expect(out.rttMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('reports a missing ping binary as a failure that could not run', async () => {
    const out = await icmpPing('127.0.0.1', { pingPath: '/nonexistent/ping' });
    expect(out).toMatchObject({ status: 'failed', code: 'ENOENT' });
  });
});

const netnsOk = pingOk && haveNetns();
describe.runIf(netnsOk)('probes to a host in a test network namespace', () => {
  let lab: NetnsLab;
  beforeAll(() => {
    lab = createNetnsLab();
  });
  afterAll(() => lab?.destroy());

  it('ICMP: the namespace host replies; an absent address on the veth subnet is lost', async () => {
    const reply = await icmpPing(lab.nsAddress, { timeoutMs: 1000 });
    expect(reply).toMatchObject({ status: 'reply', ttl: 64 });
    const lost = await icmpPing(lab.absentAddress, { timeoutMs: 1000 });
    expect(lost.status).toBe('lost');
  });

  it('TCP: a closed port in the namespace answers with RST (a round trip)', async () => {
    const out = await tcpPing(lab.nsAddress, { port: 9, timeoutMs: 1000 });
    expect(out).toMatchObject({ status: 'reply', method: 'tcp' });
  });
});
