/*
 * A small table of IEEE OUIs (the first three bytes of a universally administered MAC) for vendors common on home
 * and office networks, with the device types each plausibly makes. Incomplete on purpose — no registry download:
 * an OUI not listed is "unknown", which the trust score treats as neutral, never as a mismatch.
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
    prefixes: ['00:03:93', '00:1C:B3', '28:CF:E9', '3C:07:54', 'A4:5E:60', 'AC:BC:32', 'F0:18:98'],
    types: ['phone', 'tablet', 'laptop', 'computer', 'watch', 'tv', 'streaming', 'speaker'],
  },
  {
    key: 'samsung',
    name: 'Samsung',
    aliases: ['samsung'],
    prefixes: ['00:12:FB', '5C:0A:5B', '8C:77:12', 'F0:25:B7'],
    types: ['phone', 'tablet', 'tv', 'laptop', 'appliance', 'watch'],
  },
  {
    key: 'google',
    name: 'Google',
    aliases: ['google', 'nest'],
    prefixes: ['3C:5A:B4', '54:60:09', 'F4:F5:D8', 'F4:F5:E8', '18:B4:30'],
    types: ['phone', 'speaker', 'streaming', 'tv', 'thermostat', 'camera', 'smoke_detector', 'router'],
  },
  {
    key: 'amazon',
    name: 'Amazon',
    aliases: ['amazon'],
    prefixes: ['44:65:0D', '68:54:FD', '74:C2:46', 'F0:27:2D', 'FC:A1:83'],
    types: ['speaker', 'streaming', 'tv', 'tablet', 'camera', 'iot'],
  },
  {
    key: 'espressif',
    name: 'Espressif',
    aliases: ['espressif'],
    prefixes: [
      '24:0A:C4',
      '30:AE:A4',
      '5C:CF:7F',
      '60:01:94',
      '84:F3:EB',
      'A4:CF:12',
      'CC:50:E3',
      'EC:FA:BC',
    ],
    types: ['iot', 'smart_plug', 'light', 'sensor', 'switch', 'camera'],
  },
  {
    key: 'raspberry',
    name: 'Raspberry Pi',
    aliases: ['raspberry'],
    prefixes: ['B8:27:EB', 'DC:A6:32', 'E4:5F:01', '28:CD:C1', 'D8:3A:DD'],
    types: ['computer', 'server', 'iot', 'sensor', 'media_server'],
  },
  {
    key: 'sonos',
    name: 'Sonos',
    aliases: ['sonos'],
    prefixes: ['00:0E:58', '48:A6:B8', '5C:AA:FD', '94:9F:3E', 'B8:E9:37'],
    types: ['speaker'],
  },
  {
    key: 'signify',
    name: 'Philips Hue (Signify)',
    aliases: ['philips', 'signify', 'hue'],
    prefixes: ['00:17:88'],
    types: ['light', 'bridge', 'iot'],
  },
  {
    key: 'tp-link',
    name: 'TP-Link',
    aliases: ['tp-link', 'tplink', 'tp link', 'kasa', 'tapo'],
    prefixes: ['14:CC:20', '50:C7:BF', 'C0:4A:00', 'EC:08:6B', 'F4:F2:6D'],
    types: ['router', 'access_point', 'switch', 'smart_plug', 'camera', 'light', 'iot'],
  },
  {
    key: 'ubiquiti',
    name: 'Ubiquiti',
    aliases: ['ubiquiti', 'unifi'],
    prefixes: ['04:18:D6', '24:A4:3C', '78:8A:20', 'F0:9F:C2', 'FC:EC:DA'],
    types: ['access_point', 'router', 'switch', 'camera'],
  },
  {
    key: 'netgear',
    name: 'Netgear',
    aliases: ['netgear'],
    prefixes: ['20:E5:2A', '30:46:9A', 'A0:40:A0', 'C0:3F:0E'],
    types: ['router', 'access_point', 'switch', 'camera'],
  },
  {
    key: 'roku',
    name: 'Roku',
    aliases: ['roku'],
    prefixes: ['B0:A7:37', 'CC:6D:A0', 'DC:3A:5E'],
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
    prefixes: ['00:50:F2', '28:18:78', '7C:1E:52'],
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
];

const BY_PREFIX: ReadonlyMap<string, OuiVendor> = new Map(
  OUI_VENDORS.flatMap((v) => v.prefixes.map((p) => [p, v] as const)),
);

/** `aa-bb-cc-…` or `AA:BB:CC:…` → `AA:BB:CC`; null when not a MAC. */
export function ouiOf(mac: string): string | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})(?:[:-][0-9a-f]{2}){3}$/i.exec(mac.trim());
  return m ? `${m[1]}:${m[2]}:${m[3]}`.toUpperCase() : null;
}

/**
 * The locally administered bit (bit 1 of the first byte): set on randomised ("private") MACs, which phones and
 * laptops use per network, and on addresses a user or a spoofer chose.
 */
export function isLocallyAdministered(mac: string): boolean {
  const oui = ouiOf(mac);
  if (oui === null) return false;
  return (Number.parseInt(oui.slice(0, 2), 16) & 0x02) !== 0;
}

export function vendorOfMac(mac: string): OuiVendor | null {
  const oui = ouiOf(mac);
  return oui === null ? null : (BY_PREFIX.get(oui) ?? null);
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
