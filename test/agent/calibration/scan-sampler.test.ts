import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCalibrationSampler } from '../../../src/agent/calibration/scan-sampler.js';
import { havePing } from '../helpers/netns.js';

// `sbp agent calibrate --source scan`: real probes of the site's anchors, here only loopback addresses.

describe('ScanCalibrationSampler', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('takes N samples of every anchor by TCP connect time, reporting progress', async () => {
    const sampler = new ScanCalibrationSampler({ anchors: ['127.0.0.1'], method: 'tcp', tcpPort: port });
    const progress: number[] = [];
    const sets = await sampler.sample({ x: 1, y: 2 }, 3, (done) => progress.push(done));
    expect(progress).toEqual([1, 2, 3]);
    expect(sets).toHaveLength(3);
    for (const set of sets) {
      expect(set).toHaveLength(1);
      expect(set[0]!.targetIp).toBe('127.0.0.1');
      expect(set[0]!.rtt).toBeGreaterThanOrEqual(0);
      expect(set[0]!.rtt).toBeLessThan(1000);
    }
  });

  it.runIf(havePing())('probes by ICMP through the system ping', async () => {
    const sampler = new ScanCalibrationSampler({ anchors: ['127.0.0.1', '127.0.0.2'] });
    const sets = await sampler.sample({ x: 0, y: 0 }, 2);
    expect(sets.map((s) => s.map((r) => r.targetIp))).toEqual([
      ['127.0.0.1', '127.0.0.2'],
      ['127.0.0.1', '127.0.0.2'],
    ]);
  });

  it('leaves out an anchor whose probe cannot run, and refuses anchors that are not IPs', async () => {
    const sampler = new ScanCalibrationSampler({ anchors: ['127.0.0.1'], pingPath: '/nonexistent/ping' });
    expect(await sampler.sample({ x: 0, y: 0 }, 2)).toEqual([[], []]);
    expect(() => new ScanCalibrationSampler({ anchors: ['AP1', '127.0.0.1'] })).toThrow(/not IPs: AP1/);
  });
});
