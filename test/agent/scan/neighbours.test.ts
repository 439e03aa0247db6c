import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpNeighJson, parseProcArp, readNeighbours } from '../../../src/agent/scan/neighbours.js';
import { icmpPing } from '../../../src/agent/scan/ping.js';
import { createNetnsLab, haveNetns, havePing, type NetnsLab } from '../helpers/netns.js';

describe('neighbour table parsers', () => {
  it('reads complete /proc/net/arp entries and skips incomplete ones', () => {
    const text = [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '10.0.0.1         0x1         0x2         B8:27:EB:01:02:03     *        eth0',
      '10.0.0.9         0x1         0x0         00:00:00:00:00:00     *        eth0',
    ].join('\n');
    expect(parseProcArp(text)).toEqual([
      { ip: '10.0.0.1', mac: 'b8:27:eb:01:02:03', dev: 'eth0', state: 'COMPLETE' },
    ]);
  });

  it('reads `ip -j neigh` and skips FAILED / address-less entries', () => {
    const json = JSON.stringify([
      { dst: '10.0.0.1', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:ff', state: ['REACHABLE'] },
      { dst: 'fe80::1', dev: 'eth0', lladdr: '00:17:88:01:02:03', state: ['STALE'] },
      { dst: 'fd00::1', dev: 'eth0', state: ['FAILED'] },
      { dst: '10.0.0.7', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:01', state: ['FAILED'] },
    ]);
    expect(parseIpNeighJson(json)).toEqual([
      { ip: '10.0.0.1', mac: 'aa:bb:cc:dd:ee:ff', dev: 'eth0', state: 'REACHABLE' },
      { ip: 'fe80::1', mac: '00:17:88:01:02:03', dev: 'eth0', state: 'STALE' },
    ]);
  });
});

const netnsOk = havePing() && haveNetns();
describe.runIf(netnsOk)('readNeighbours with a namespace host', () => {
  let lab: NetnsLab;
  beforeAll(() => {
    lab = createNetnsLab();
  });
  afterAll(() => lab?.destroy());

  it('finds the namespace host with its MAC once it has been pinged, filtered to the veth', async () => {
    await icmpPing(lab.nsAddress);
    const rows = await readNeighbours({ interfaces: [lab.hostIf] });
    expect(rows).toContainEqual(
      expect.objectContaining({ ip: lab.nsAddress, mac: lab.nsMac, dev: lab.hostIf }),
    );
    expect(rows.every((r) => r.dev === lab.hostIf)).toBe(true);
    // The /proc fallback sees it too.
    const viaProc = await readNeighbours({ interfaces: [lab.hostIf], ipPath: '/nonexistent/ip' });
    expect(viaProc).toContainEqual(expect.objectContaining({ ip: lab.nsAddress, mac: lab.nsMac }));
  });
});
