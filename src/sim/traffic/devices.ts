import { gaussian, type Random } from '../../models/anomaly/random.js';
import { OUI_VENDORS } from '../../models/trust/oui.js';

/** One simulated device's normal behaviour. */
export interface SimDevice {
  deviceId: string;
  macAddress: string;
  vendor: string;
  deviceType: string;
  hostname: string;
  services: string[];
  mobile: boolean;
  /** Usual position, m. */
  home: { x: number; y: number };
  /** ms */
  baseLatency: number;
  /** % */
  baseLoss: number;
  /** Mbit/s at full activity. */
  baseBandwidth: number;
  /** Mean connection attempts per update interval. */
  connectionRate: number;
  /** Local hours (0..23) of high activity. */
  activeHours: readonly [number, number];
  /** Leaves the network on weekdays during these hours (phones, laptops). */
  awayHours?: readonly [number, number];
}

interface Template {
  type: string;
  vendor: string;
  mobile: boolean;
  latency: number;
  bandwidth: number;
  connections: number;
  services: string[];
  active: readonly [number, number];
  away?: readonly [number, number];
  randomisedMac?: boolean;
}

const TEMPLATES: readonly Template[] = [
  {
    type: 'phone',
    vendor: 'apple',
    mobile: true,
    latency: 12,
    bandwidth: 20,
    connections: 1.5,
    services: ['_companion-link._tcp'],
    active: [7, 23],
    away: [8, 17],
    randomisedMac: true,
  },
  {
    type: 'laptop',
    vendor: 'dell',
    mobile: true,
    latency: 6,
    bandwidth: 40,
    connections: 2,
    services: ['_smb._tcp'],
    active: [8, 19],
    away: [9, 17],
  },
  {
    type: 'tv',
    vendor: 'samsung',
    mobile: false,
    latency: 8,
    bandwidth: 25,
    connections: 0.5,
    services: ['_airplay._tcp', '_googlecast._tcp'],
    active: [18, 23],
  },
  {
    type: 'smart_plug',
    vendor: 'espressif',
    mobile: false,
    latency: 15,
    bandwidth: 0.05,
    connections: 0.1,
    services: ['_hap._tcp'],
    active: [0, 23],
  },
  {
    type: 'camera',
    vendor: 'tp-link',
    mobile: false,
    latency: 10,
    bandwidth: 4,
    connections: 0.2,
    services: ['_rtsp._tcp'],
    active: [0, 23],
  },
  {
    type: 'printer',
    vendor: 'hp',
    mobile: false,
    latency: 5,
    bandwidth: 0.2,
    connections: 0.1,
    services: ['_ipp._tcp', '_printer._tcp'],
    active: [9, 17],
  },
  {
    type: 'speaker',
    vendor: 'sonos',
    mobile: false,
    latency: 7,
    bandwidth: 1.5,
    connections: 0.3,
    services: ['_sonos._tcp', '_spotify-connect._tcp'],
    active: [7, 22],
  },
  {
    type: 'thermostat',
    vendor: 'google',
    mobile: false,
    latency: 20,
    bandwidth: 0.02,
    connections: 0.1,
    services: ['_nest._tcp'],
    active: [0, 23],
  },
  {
    type: 'light',
    vendor: 'signify',
    mobile: false,
    latency: 9,
    bandwidth: 0.01,
    connections: 0.05,
    services: ['_hue._tcp'],
    active: [17, 23],
  },
  {
    type: 'streaming',
    vendor: 'roku',
    mobile: false,
    latency: 9,
    bandwidth: 15,
    connections: 0.4,
    services: ['_roku._tcp'],
    active: [19, 23],
  },
  {
    type: 'game_console',
    vendor: 'nintendo',
    mobile: false,
    latency: 11,
    bandwidth: 8,
    connections: 0.5,
    services: [],
    active: [16, 21],
  },
  {
    type: 'phone',
    vendor: 'samsung',
    mobile: true,
    latency: 14,
    bandwidth: 15,
    connections: 1.2,
    services: [],
    active: [7, 23],
    away: [8, 18],
    randomisedMac: true,
  },
  {
    type: 'tablet',
    vendor: 'apple',
    mobile: true,
    latency: 10,
    bandwidth: 12,
    connections: 0.8,
    services: ['_companion-link._tcp'],
    active: [17, 22],
  },
  {
    type: 'sensor',
    vendor: 'espressif',
    mobile: false,
    latency: 25,
    bandwidth: 0.005,
    connections: 0.05,
    services: [],
    active: [0, 23],
  },
  {
    type: 'computer',
    vendor: 'raspberry',
    mobile: false,
    latency: 3,
    bandwidth: 2,
    connections: 0.6,
    services: ['_ssh._tcp', '_http._tcp'],
    active: [0, 23],
  },
  {
    type: 'speaker',
    vendor: 'amazon',
    mobile: false,
    latency: 12,
    bandwidth: 0.5,
    connections: 0.3,
    services: ['_amzn-alexa._tcp'],
    active: [7, 22],
  },
];

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function randomMac(random: Random, prefix: string | null, locallyAdministered: boolean): string {
  let bytes: number[];
  if (prefix !== null && !locallyAdministered) {
    bytes = prefix.split(':').map((h) => Number.parseInt(h, 16));
  } else {
    // Locally administered, unicast: bit 1 set, bit 0 clear.
    bytes = [(random.int(256) | 0x02) & 0xfe, random.int(256), random.int(256)];
  }
  for (let i = 0; i < 3; i++) bytes.push(random.int(256));
  return bytes.map(hex).join(':');
}

/** Floor of the simulated home or office, m; the access point sits in the middle. */
export const FLOOR = { width: 20, height: 15, accessPoint: { x: 10, y: 7.5 } } as const;

/** RSSI at a position: log-distance path loss, −40 dBm at 1 m, exponent 2.8. */
export function rssiAt(x: number, y: number): number {
  const d = Math.max(1, Math.hypot(x - FLOOR.accessPoint.x, y - FLOOR.accessPoint.y));
  return -40 - 28 * Math.log10(d);
}

export function makeDevices(random: Random, count: number): SimDevice[] {
  const devices: SimDevice[] = [];
  for (let i = 0; i < count; i++) {
    const tpl = TEMPLATES[i % TEMPLATES.length]!;
    const vendor = OUI_VENDORS.find((v) => v.key === tpl.vendor)!;
    const prefix = vendor.prefixes[random.int(vendor.prefixes.length)]!;
    const randomised = tpl.randomisedMac === true && random.next() < 0.5;
    const mac = randomMac(random, prefix, randomised);
    const device: SimDevice = {
      deviceId: mac,
      macAddress: mac,
      vendor: vendor.name,
      deviceType: tpl.type,
      hostname: `${tpl.type.replace(/_/g, '-')}-${i + 1}`,
      services: [...tpl.services],
      mobile: tpl.mobile,
      home: { x: 1 + random.next() * (FLOOR.width - 2), y: 1 + random.next() * (FLOOR.height - 2) },
      baseLatency: tpl.latency * Math.exp(0.2 * gaussian(random)),
      baseLoss: 0.2 * random.next(),
      baseBandwidth: tpl.bandwidth * Math.exp(0.3 * gaussian(random)),
      connectionRate: tpl.connections,
      activeHours: tpl.active,
    };
    if (tpl.away) device.awayHours = tpl.away;
    devices.push(device);
  }
  return devices;
}
