import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discoverAll,
  discoverMdns,
  discoverSsdp,
  parseSsdpResponse,
} from '../../../src/agent/scan/discovery.js';
// @ts-expect-error: a plain JS fixture (it also runs as a program inside a test namespace)
import { startResponder } from '../fixtures/discovery-responder.mjs';
import { createNetnsLab, haveNetns, type NetnsLab } from '../helpers/netns.js';

interface Responder {
  mdnsPort: number;
  ssdpPort: number;
  queries: { mdns: number; ssdp: number };
  close(): void;
}

// Discovery is only ever sent to a responder on 127.0.0.1 (unicast) or, as real multicast, on the veth of a network
// namespace this file creates. Nothing goes to the machine's real network.

describe('parseSsdpResponse', () => {
  it('reads headers case-insensitively; refuses what is not a 200 or NOTIFY', () => {
    expect(parseSsdpResponse('HTTP/1.1 200 OK\r\nSt: upnp:rootdevice\r\nSERVER: x\r\n\r\n')).toEqual({
      st: 'upnp:rootdevice',
      server: 'x',
    });
    expect(parseSsdpResponse('M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n')).toBeUndefined();
  });
});

describe('discovery against a responder on 127.0.0.1', () => {
  let responder: Responder;
  beforeAll(async () => {
    responder = (await startResponder({ address: '127.0.0.1', name: 'loopdevice' })) as Responder;
  });
  afterAll(() => responder?.close());

  it('mDNS: service types, then instances, hostname from SRV', async () => {
    const hosts = await discoverMdns({
      interfaceAddress: '127.0.0.1',
      destination: { address: '127.0.0.1', port: responder.mdnsPort },
      durationMs: 400,
    });
    expect(hosts).toEqual([
      {
        address: '127.0.0.1',
        protocols: ['mDNS'],
        services: ['_http._tcp', '_googlecast._tcp'],
        hostname: 'loopdevice',
      },
    ]);
    expect(responder.queries.mdns).toBeGreaterThanOrEqual(2);
  });

  it('SSDP: search targets and SERVER header', async () => {
    const hosts = await discoverSsdp({
      interfaceAddress: '127.0.0.1',
      destination: { address: '127.0.0.1', port: responder.ssdpPort },
      durationMs: 300,
    });
    expect(hosts).toEqual([
      {
        address: '127.0.0.1',
        protocols: ['SSDP'],
        services: ['upnp:rootdevice', 'urn:schemas-upnp-org:device:MediaRenderer:1'],
        server: 'Linux/6.1 UPnP/1.0 SBPTest/1.0',
      },
    ]);
  });

  it('merges both by address and reports a failing protocol instead of throwing', async () => {
    const { hosts, failures } = await discoverAll({
      interfaceAddress: '127.0.0.1',
      durationMs: 300,
      mdns: { address: '127.0.0.1', port: responder.mdnsPort },
      ssdp: { address: '127.0.0.1', port: responder.ssdpPort },
    });
    expect(failures).toEqual([]);
    expect(hosts).toHaveLength(1);
    expect(hosts[0]!.protocols).toEqual(['mDNS', 'SSDP']);
    expect(hosts[0]!.services).toHaveLength(4);
    // Binding to an address this machine does not have fails before anything is sent (checked: it is not ours).
    const notOurs = '203.0.113.254';
    const local = Object.values(networkInterfaces()).flatMap((a) => a ?? []);
    expect(local.some((a) => a.address === notOurs)).toBe(false);
    const bad = await discoverAll({ interfaceAddress: notOurs, durationMs: 100 });
    expect(bad.failures.map((f) => f.protocol).sort()).toEqual(['SSDP', 'mDNS']);
  });
});

const netnsOk = haveNetns();
describe.runIf(netnsOk)('real multicast discovery inside a test network namespace', () => {
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
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toMatch(/^ready 5353 1900/);
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    lab?.destroy();
  });

  it('finds the namespace host through 224.0.0.251 and 239.255.255.250 sent out of the veth only', async () => {
    const { hosts, failures } = await discoverAll({ interfaceAddress: lab.hostAddress, durationMs: 800 });
    expect(failures).toEqual([]);
    expect(hosts).toEqual([
      expect.objectContaining({
        address: lab.nsAddress,
        protocols: ['mDNS', 'SSDP'],
        hostname: 'nsdevice',
        services: expect.arrayContaining(['_googlecast._tcp', 'upnp:rootdevice']),
      }),
    ]);
  });
});
