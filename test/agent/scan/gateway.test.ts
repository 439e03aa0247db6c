import { describe, expect, it } from 'vitest';
import { parseProcRoute } from '../../../src/agent/scan/gateway.js';

describe('parseProcRoute', () => {
  it('finds the default route with the lowest metric; addresses are little-endian hex', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
      'eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t0000000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0',
    ].join('\n');
    expect(parseProcRoute(text)).toEqual({ gateway: '10.0.0.1', dev: 'eth0' });
  });

  it('has no gateway without a default route', () => {
    const text =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nlo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF';
    expect(parseProcRoute(text)).toBeUndefined();
  });
});
