import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** One entry of the kernel's neighbour table (ARP for IPv4, NDP for IPv6). Reading it sends nothing. */
export interface Neighbour {
  ip: string;
  mac: string;
  /** Interface name. */
  dev: string;
  /** REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP (from `ip neigh`); COMPLETE from /proc/net/arp. */
  state: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const USABLE = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP', 'COMPLETE']);

/** `/proc/net/arp`: IPv4 only; flag 0x2 = complete. */
export function parseProcArp(text: string): Neighbour[] {
  const out: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, mac, , dev] = line.trim().split(/\s+/);
    if (ip === undefined || mac === undefined || dev === undefined || flags === undefined) continue;
    const lower = mac.toLowerCase();
    if ((Number.parseInt(flags, 16) & 0x2) === 0 || !MAC_RE.test(lower) || lower === '00:00:00:00:00:00')
      continue;
    out.push({ ip, mac: lower, dev, state: 'COMPLETE' });
  }
  return out;
}

/** `ip -j neigh show` (iproute2 JSON): IPv4 and IPv6; FAILED / INCOMPLETE entries are skipped. */
export function parseIpNeighJson(text: string): Neighbour[] {
  const rows = JSON.parse(text) as { dst?: string; dev?: string; lladdr?: string; state?: string[] }[];
  const out: Neighbour[] = [];
  for (const row of rows) {
    const mac = row.lladdr?.toLowerCase();
    const state = row.state?.[0] ?? 'UNKNOWN';
    if (row.dst === undefined || row.dev === undefined || mac === undefined || !MAC_RE.test(mac)) continue;
    if (!USABLE.has(state)) continue;
    out.push({ ip: row.dst, mac, dev: row.dev, state });
  }
  return out;
}

export interface NeighbourOptions {
  /** @defaultValue `ip` on PATH */
  ipPath?: string;
  /** @defaultValue `/proc` */
  procRoot?: string;
  /** Only entries on these interfaces. @defaultValue all */
  interfaces?: readonly string[];
}

/** Reads the neighbour table with `ip -j neigh`, falling back to `/proc/net/arp` where iproute2 is missing. */
export async function readNeighbours(options: NeighbourOptions = {}): Promise<Neighbour[]> {
  let rows: Neighbour[];
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(options.ipPath ?? 'ip', ['-j', 'neigh', 'show'], { timeout: 5000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
    });
    rows = parseIpNeighJson(stdout);
  } catch {
    rows = parseProcArp(await readFile(`${options.procRoot ?? '/proc'}/net/arp`, 'utf8'));
  }
  const only = options.interfaces;
  return only === undefined ? rows : rows.filter((r) => only.includes(r.dev));
}
