/*
 * The one table of IEEE OUIs (the first three bytes of a universally administered MAC) in the code base, for vendors
 * common on home and office networks, with the device types each plausibly makes. The trust score compares it with
 * what a device claims, the behaviour simulator draws its MACs from it, and the agent's --scan source names the
 * vendor of what it finds. It lives in models (pure data, no I/O), the bottom layer the simulator and the agent
 * already build on, so that none of them imports another's code for it. Incomplete on purpose — no registry
 * download: an OUI not listed is "unknown", which the trust score treats as neutral, never as a mismatch.
 */

export interface OuiVendor {
  /** Canonical key, lower case. */
  key: string;
  name: string;
  /** Words that identify the vendor in a claimed vendor string (lower case). */
  aliases: readonly string[];
  prefixes: readonly string[];
  /** snake_case device types this vendor makes. */
  types: readonly string[];
}

export const OUI_VENDORS: readonly OuiVendor[] = [
  {
    key: 'apple',
    name: 'Apple',
    aliases: ['apple'],
    prefixes: [
      '00:03:93',
      '00:1B:63',
      '00:1C:B3',
      '00:25:00',
      '28:CF:E9',
      '3C:07:54',
      '40:6C:8F',
      '7C:D1:C3',
      'A4:5E:60',
      'AC:BC:32',
      'D0:25:98',
      'F0:18:98',
    ],
    types: ['phone', 'tablet', 'laptop', 'computer', 'watch', 'tv', 'streaming', 'speaker'],
  },
  {
    key: 'samsung',
    name: 'Samsung',
    aliases: ['samsung'],
    prefixes: ['00:12:FB', '00:16:32', '5C:0A:5B', '8C:77:12', 'BC:14:85', 'F0:25:B7', 'F4:7B:5E'],
    types: ['phone', 'tablet', 'tv', 'laptop', 'appliance', 'watch'],
  },
  {
    key: 'google',
    name: 'Google',
    aliases: ['google', 'nest'],
    prefixes: [
      '18:B4:30',
      '3C:5A:B4',
      '48:D6:D5',
      '54:60:09',
      '64:16:66',
      'F4:F5:D8',
      'F4:F5:E8',
      'F8:8F:CA',
    ],
    types: ['phone', 'speaker', 'streaming', 'tv', 'thermostat', 'camera', 'smoke_detector', 'router'],
  },
  {
    key: 'amazon',
    name: 'Amazon',
    aliases: ['amazon'],
    prefixes: [
      '0C:47:C9',
      '44:65:0D',
      '68:37:E9',
      '68:54:FD',
      '74:C2:46',
      '84:D6:D0',
      'A0:02:DC',
      'F0:27:2D',
      'F0:D2:F1',
      'FC:65:DE',
      'FC:A1:83',
    ],
    types: ['speaker', 'streaming', 'tv', 'tablet', 'camera', 'iot'],
  },
  {
    key: 'espressif',
    name: 'Espressif',
    aliases: ['espressif'],
    prefixes: [
      '18:FE:34',
      '24:0A:C4',
      '24:6F:28',
      '30:AE:A4',
      '3C:71:BF',
      '5C:CF:7F',
      '60:01:94',
      '7C:9E:BD',
      '84:F3:EB',
      '8C:AA:B5',
      'A4:CF:12',
      'BC:DD:C2',
      'CC:50:E3',
      'EC:FA:BC',
    ],
    types: ['iot', 'smart_plug', 'light', 'sensor', 'switch', 'camera'],
  },
  {
    key: 'raspberry',
    name: 'Raspberry Pi',
    aliases: ['raspberry'],
    prefixes: ['28:CD:C1', '2C:CF:67', 'B8:27:EB', 'D8:3A:DD', 'DC:A6:32', 'E4:5F:01'],
    types: ['computer', 'server', 'iot', 'sensor', 'media_server'],
  },
  {
    key: 'sonos',
    name: 'Sonos',
    aliases: ['sonos'],
    prefixes: ['00:0E:58', '48:A6:B8', '5C:AA:FD', '78:28:CA', '94:9F:3E', 'B8:E9:37'],
    types: ['speaker'],
  },
  {
    key: 'signify',
    name: 'Philips Hue (Signify)',
    aliases: ['philips', 'signify', 'hue'],
    prefixes: ['00:17:88', 'EC:B5:FA'],
    types: ['light', 'bridge', 'iot'],
  },
  {
    key: 'tp-link',
    name: 'TP-Link',
    aliases: ['tp-link', 'tplink', 'tp link', 'kasa', 'tapo'],
    prefixes: [
      '14:CC:20',
      '50:C7:BF',
      '60:E3:27',
      '98:DA:C4',
      'B0:4E:26',
      'C0:4A:00',
      'EC:08:6B',
      'F4:F2:6D',
    ],
    types: ['router', 'access_point', 'switch', 'smart_plug', 'camera', 'light', 'iot'],
  },
  {
    key: 'ubiquiti',
    name: 'Ubiquiti',
    aliases: ['ubiquiti', 'unifi'],
    prefixes: [
      '04:18:D6',
      '24:A4:3C',
      '68:72:51',
      '74:83:C2',
      '78:8A:20',
      '80:2A:A8',
      'B4:FB:E4',
      'DC:9F:DB',
      'F0:9F:C2',
      'FC:EC:DA',
    ],
    types: ['access_point', 'router', 'switch', 'camera'],
  },
  {
    key: 'netgear',
    name: 'Netgear',
    aliases: ['netgear'],
    prefixes: [
      '00:14:6C',
      '00:1B:2F',
      '20:4E:7F',
      '20:E5:2A',
      '30:46:9A',
      '9C:3D:CF',
      'A0:40:A0',
      'C0:3F:0E',
      'C4:04:15',
    ],
    types: ['router', 'access_point', 'switch', 'camera'],
  },
  {
    key: 'roku',
    name: 'Roku',
    aliases: ['roku'],
    prefixes: ['AC:3A:7A', 'B0:A7:37', 'CC:6D:A0', 'D8:31:34', 'DC:3A:5E'],
    types: ['streaming', 'tv'],
  },
  {
    key: 'nintendo',
    name: 'Nintendo',
    aliases: ['nintendo'],
    prefixes: ['00:09:BF', '7C:BB:8A', '98:B6:E9'],
    types: ['game_console'],
  },
  {
    key: 'sony',
    name: 'Sony',
    aliases: ['sony', 'playstation'],
    prefixes: ['00:04:1F', 'FC:0F:E6'],
    types: ['game_console', 'tv', 'phone', 'speaker'],
  },
  {
    key: 'microsoft',
    name: 'Microsoft',
    aliases: ['microsoft', 'xbox', 'surface'],
    prefixes: ['00:15:5D', '00:50:F2', '28:18:78', '7C:1E:52'],
    types: ['laptop', 'computer', 'tablet', 'game_console'],
  },
  {
    key: 'intel',
    name: 'Intel',
    aliases: ['intel'],
    prefixes: ['00:1B:21', '3C:A9:F4', 'A4:4E:31'],
    types: ['laptop', 'computer', 'server'],
  },
  {
    key: 'dell',
    name: 'Dell',
    aliases: ['dell'],
    prefixes: ['00:14:22', 'B8:CA:3A', 'F8:B1:56'],
    types: ['laptop', 'computer', 'server'],
  },
  {
    key: 'hp',
    name: 'HP',
    aliases: ['hewlett', 'hp', 'hp inc'],
    prefixes: ['00:1E:0B', '3C:D9:2B'],
    types: ['printer', 'laptop', 'computer', 'server'],
  },
  {
    key: 'cisco',
    name: 'Cisco',
    aliases: ['cisco', 'meraki'],
    prefixes: ['00:00:0C', '00:18:0A'],
    types: ['router', 'switch', 'access_point', 'phone', 'camera'],
  },
  {
    key: 'xiaomi',
    name: 'Xiaomi',
    aliases: ['xiaomi', 'redmi'],
    prefixes: ['28:6C:07', '34:CE:00', '50:8F:4C', '64:09:80', '78:11:DC', 'F8:A4:5F'],
    types: ['phone', 'tablet', 'tv', 'router', 'iot', 'smart_plug', 'light', 'sensor', 'camera'],
  },
  {
    key: 'huawei',
    name: 'Huawei',
    aliases: ['huawei', 'honor'],
    prefixes: ['00:18:82', '00:E0:FC', '28:6E:D4', '48:46:FB', '70:72:3C'],
    types: ['phone', 'tablet', 'laptop', 'watch', 'router', 'access_point'],
  },
  {
    key: 'avm',
    name: 'AVM (FRITZ!)',
    aliases: ['avm', 'fritz'],
    prefixes: [
      '00:04:0E',
      '2C:91:AB',
      '38:10:D5',
      '3C:A6:2F',
      '44:4E:6D',
      '7C:FF:4D',
      'C0:25:06',
      'E0:28:6D',
    ],
    types: ['router', 'access_point', 'repeater', 'smart_plug'],
  },
  // Virtual machines' NICs: a VM on the network is an ordinary finding, not a spoof.
  {
    key: 'vmware',
    name: 'VMware',
    aliases: ['vmware'],
    prefixes: ['00:05:69', '00:0C:29', '00:50:56'],
    types: ['virtual_machine', 'server', 'computer'],
  },
  {
    key: 'xen',
    name: 'Xen',
    aliases: ['xen', 'xensource'],
    prefixes: ['00:16:3E'],
    types: ['virtual_machine', 'server', 'computer'],
  },
  {
    key: 'virtualbox',
    name: 'VirtualBox',
    aliases: ['virtualbox', 'oracle'],
    prefixes: ['08:00:27'],
    types: ['virtual_machine', 'server', 'computer'],
  },
];

const BY_PREFIX: ReadonlyMap<string, OuiVendor> = new Map(
  OUI_VENDORS.flatMap((v) => v.prefixes.map((p) => [p, v] as const)),
);

/** How many prefixes the table knows. */
export const OUI_TABLE_SIZE = BY_PREFIX.size;

/** `aa-bb-cc-…` or `AA:BB:CC:…` → `AA:BB:CC`; null when not an EUI-48. */
export function ouiOf(mac: string): string | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})(?:[:-][0-9a-f]{2}){3}$/i.exec(mac.trim());
  return m ? `${m[1]}:${m[2]}:${m[3]}`.toUpperCase() : null;
}

/**
 * The locally administered bit (bit 1 of the first byte): set on randomised ("private") MACs, which phones and
 * laptops use per network, on containers' and some VMs' addresses, and on addresses a user or a spoofer chose.
 */
export function isLocallyAdministered(mac: string): boolean {
  const oui = ouiOf(mac);
  if (oui === null) return false;
  return (Number.parseInt(oui.slice(0, 2), 16) & 0x02) !== 0;
}

/**
 * The vendor a MAC's OUI names; null for an unknown prefix, for what is not a MAC, and for a locally administered
 * address (it carries no vendor by definition, whatever its first bytes look like).
 */
export function vendorOfMac(mac: string): OuiVendor | null {
  const oui = ouiOf(mac);
  if (oui === null || isLocallyAdministered(mac)) return null;
  return BY_PREFIX.get(oui) ?? null;
}

/** Does a free-text vendor claim ("Apple, Inc.", "Philips Lighting BV") name this OUI vendor? */
export function claimMatches(vendor: OuiVendor, claimed: string): boolean {
  const text = claimed.toLowerCase();
  return vendor.aliases.some((a) =>
    new RegExp(`(^|[^a-z])${a.replace(/[-\s]/g, '[-\\s]?')}([^a-z]|$)`).test(text),
  );
}

/** The OUI vendor a free-text claim names, if any of the table's. */
export function vendorByClaim(claimed: string): OuiVendor | null {
  return OUI_VENDORS.find((v) => claimMatches(v, claimed)) ?? null;
}
