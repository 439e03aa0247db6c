import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface DefaultRoute {
  gateway: string;
  /** Interface name. */
  dev: string;
}

/** `/proc/net/route`: the IPv4 default route (destination 0.0.0.0, flag RTF_GATEWAY); addresses are little-endian hex. */
export function parseProcRoute(text: string): DefaultRoute | undefined {
  let best: { route: DefaultRoute; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    const [dev, destination, gateway, flags, , , metric, mask] = cols;
    if (destination !== '00000000' || mask !== '00000000') continue;
    if ((Number.parseInt(flags!, 16) & 0x2) === 0) continue;
    const route = { gateway: hexToIpv4(gateway!), dev: dev! };
    const m = Number(metric);
    if (best === undefined || m < best.metric) best = { route, metric: m };
  }
  return best?.route;
}

function hexToIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

export async function readDefaultRoute(procRoot = '/proc'): Promise<DefaultRoute | undefined> {
  try {
    return parseProcRoute(await readFile(`${procRoot}/net/route`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The first IPv4 address of an interface, or the interface holding `address`. */
export function interfaceAddress(dev: string): string | undefined {
  return os.networkInterfaces()[dev]?.find((a) => a.family === 'IPv4')?.address;
}

export function interfaceOf(address: string): string | undefined {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (addrs?.some((a) => a.address === address)) return name;
  }
  return undefined;
}
