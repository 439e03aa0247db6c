import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import dnsPacket from 'dns-packet';

/** A host that answered mDNS or SSDP discovery. */
export interface DiscoveredHost {
  address: string;
  protocols: ('mDNS' | 'SSDP')[];
  /** mDNS service types (`_googlecast._tcp`) and SSDP search targets (`urn:schemas-upnp-org:device:…`). */
  services: string[];
  /** From an mDNS SRV target or A record name, without `.local`. */
  hostname?: string;
  /** SSDP SERVER header (OS, UPnP version, product). */
  server?: string;
}

export interface DiscoveryOptions {
  /**
   * Local IPv4 address to send from; it selects the interface (IP_MULTICAST_IF), so discovery only ever goes out on
   * the interface the user chose. Required: there is no default interface.
   */
  interfaceAddress: string;
  /** Where the query goes. @defaultValue the protocol's multicast group; tests point it at a loopback responder */
  destination?: { address: string; port: number };
  /** How long to listen for answers, ms. @defaultValue 2000 */
  durationMs?: number;
}

export const MDNS_GROUP = { address: '224.0.0.251', port: 5353 } as const;
export const SSDP_GROUP = { address: '239.255.255.250', port: 1900 } as const;

async function openSocket(interfaceAddress: string, destination: { address: string }): Promise<Socket> {
  if (!isIPv4(interfaceAddress)) {
    throw new Error(`discovery needs an IPv4 interface address, got "${interfaceAddress}"`);
  }
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    // An ephemeral port: mDNS responders then answer by unicast to it (RFC 6762 §6.7, "legacy unicast"), so the
    // agent needs no membership in the multicast group and never competes with a local mDNS daemon for port 5353.
    socket.bind({ address: interfaceAddress, port: 0, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (isMulticast(destination.address)) {
    socket.setMulticastInterface(interfaceAddress);
    socket.setMulticastLoopback(false);
  }
  return socket;
}

function isMulticast(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return isIPv4(address) && first >= 224 && first <= 239;
}

function send(socket: Socket, payload: Buffer, to: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, to.port, to.address, (error) => (error ? reject(error) : resolve())),
  );
}

const SERVICE_ENUMERATION = '_services._dns-sd._udp.local';

function stripLocal(name: string): string {
  return name.replace(/\.local\.?$/i, '');
}

/**
 * DNS-SD over mDNS in two one-shot queries: which service types are there (`_services._dns-sd._udp.local`), then who
 * offers each (PTR → SRV → A). Answers arrive by unicast from each responder's own address.
 */
export async function discoverMdns(options: DiscoveryOptions): Promise<DiscoveredHost[]> {
  const destination = options.destination ?? MDNS_GROUP;
  const duration = options.durationMs ?? 2000;
  const socket = await openSocket(options.interfaceAddress, destination);
  if (isMulticast(destination.address)) socket.setMulticastTTL(255);
  const hosts = new Map<string, DiscoveredHost>();
  const serviceTypes = new Set<string>();
  const hostnameByTarget = new Map<string, string>();
  const host = (address: string) => {
    let h = hosts.get(address);
    if (h === undefined) {
      h = { address, protocols: ['mDNS'], services: [] };
      hosts.set(address, h);
    }
    return h;
  };
  socket.on('message', (buf, rinfo) => {
    let packet: dnsPacket.Packet;
    try {
      packet = dnsPacket.decode(buf);
    } catch {
      return;
    }
    if (packet.type !== 'response') return;
    const h = host(rinfo.address);
    for (const record of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (record.type === 'PTR' && record.name === SERVICE_ENUMERATION) {
        const type = stripLocal(record.data);
        serviceTypes.add(record.data);
        if (!h.services.includes(type)) h.services.push(type);
      } else if (record.type === 'PTR') {
        const type = stripLocal(record.name);
        if (!h.services.includes(type)) h.services.push(type);
      } else if (record.type === 'SRV') {
        h.hostname ??= stripLocal(record.data.target);
      } else if (record.type === 'A' && record.data === rinfo.address) {
        hostnameByTarget.set(rinfo.address, stripLocal(record.name));
      }
    }
  });
  try {
    await send(socket, query([SERVICE_ENUMERATION]), destination);
    await delay(duration / 2);
    if (serviceTypes.size > 0) {
      await send(socket, query([...serviceTypes].slice(0, 32)), destination);
      await delay(duration / 2);
    }
  } finally {
    socket.close();
  }
  for (const [address, name] of hostnameByTarget) {
    const h = hosts.get(address);
    if (h !== undefined) h.hostname ??= name;
  }
  return [...hosts.values()];
}

let queryId = 1;
function query(names: string[]): Buffer {
  queryId = (queryId % 0xfffe) + 1;
  return dnsPacket.encode({
    type: 'query',
    id: queryId,
    flags: 0,
    questions: names.map((name) => ({ type: 'PTR' as const, name, class: 'IN' as const })),
  });
}

/** Parses one SSDP (HTTP over UDP) response's headers, lower-cased. */
export function parseSsdpResponse(text: string): Record<string, string> | undefined {
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200/i.test(lines[0] ?? '') && !/^NOTIFY \* HTTP\/1\.[01]/i.test(lines[0] ?? '')) {
    return undefined;
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/**
 * SSDP M-SEARCH for `ssdp:all` with TTL 1 (never routed beyond the link). Devices answer by unicast with their
 * search targets and SERVER header; the LOCATION descriptions are not fetched (no extra traffic to devices).
 */
export async function discoverSsdp(options: DiscoveryOptions): Promise<DiscoveredHost[]> {
  const destination = options.destination ?? SSDP_GROUP;
  const duration = options.durationMs ?? 2000;
  const socket = await openSocket(options.interfaceAddress, destination);
  if (isMulticast(destination.address)) socket.setMulticastTTL(1);
  const hosts = new Map<string, DiscoveredHost>();
  socket.on('message', (buf, rinfo) => {
    const headers = parseSsdpResponse(buf.toString('utf8'));
    if (headers === undefined) return;
    let h = hosts.get(rinfo.address);
    if (h === undefined) {
      h = { address: rinfo.address, protocols: ['SSDP'], services: [] };
      hosts.set(rinfo.address, h);
    }
    const st = headers.st ?? headers.nt;
    if (st !== undefined && st !== '' && !h.services.includes(st) && h.services.length < 64) {
      h.services.push(st.slice(0, 256));
    }
    if (headers.server !== undefined) h.server ??= headers.server.slice(0, 256);
  });
  const mx = Math.max(1, Math.min(5, Math.floor(duration / 1000)));
  const search = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${SSDP_GROUP.address}:${SSDP_GROUP.port}`,
    'MAN: "ssdp:discover"',
    `MX: ${mx}`,
    'ST: ssdp:all',
    '',
    '',
  ].join('\r\n');
  try {
    await send(socket, Buffer.from(search), destination);
    await delay(duration);
  } finally {
    socket.close();
  }
  return [...hosts.values()];
}

export interface DiscoverAllOptions {
  interfaceAddress: string;
  durationMs?: number;
  /** false = skip; a destination = query it instead of the multicast group (tests). @defaultValue true */
  mdns?: boolean | { address: string; port: number };
  ssdp?: boolean | { address: string; port: number };
}

/** Both discoveries at once, merged by address. */
export async function discoverAll(options: DiscoverAllOptions): Promise<{
  hosts: DiscoveredHost[];
  failures: { protocol: 'mDNS' | 'SSDP'; error: string }[];
}> {
  const common = {
    interfaceAddress: options.interfaceAddress,
    ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
  };
  const run = (
    which: boolean | { address: string; port: number } | undefined,
    fn: (o: DiscoveryOptions) => Promise<DiscoveredHost[]>,
  ) =>
    which === false
      ? Promise.resolve([])
      : fn(typeof which === 'object' ? { ...common, destination: which } : common);
  const runs = await Promise.allSettled([run(options.mdns, discoverMdns), run(options.ssdp, discoverSsdp)]);
  const failures: { protocol: 'mDNS' | 'SSDP'; error: string }[] = [];
  const merged = new Map<string, DiscoveredHost>();
  runs.forEach((run, i) => {
    const protocol = i === 0 ? 'mDNS' : 'SSDP';
    if (run.status === 'rejected') {
      failures.push({ protocol, error: (run.reason as Error).message });
      return;
    }
    for (const h of run.value) {
      const m = merged.get(h.address);
      if (m === undefined) {
        merged.set(h.address, { ...h, protocols: [...h.protocols], services: [...h.services] });
        continue;
      }
      for (const p of h.protocols) if (!m.protocols.includes(p)) m.protocols.push(p);
      for (const s of h.services) if (!m.services.includes(s)) m.services.push(s);
      if (h.hostname !== undefined) m.hostname ??= h.hostname;
      if (h.server !== undefined) m.server ??= h.server;
    }
  });
  return { hosts: [...merged.values()], failures };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
