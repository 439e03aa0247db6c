/**
 * Vendor from a MAC address's OUI (first three octets): a small built-in table of vendors common on home and office
 * networks — no download, so unknown prefixes simply have no vendor. Locally administered addresses (bit 0x02 of the
 * first octet: randomised phone MACs, containers, VMs) have no vendor by definition; `isRandomisedMac` says so.
 */
const VENDORS: Record<string, readonly string[]> = {
  'Raspberry Pi': ['b8:27:eb', 'dc:a6:32', 'e4:5f:01', 'd8:3a:dd', '28:cd:c1', '2c:cf:67'],
  Espressif: [
    '24:0a:c4',
    '30:ae:a4',
    '24:6f:28',
    'a4:cf:12',
    '84:f3:eb',
    '5c:cf:7f',
    '18:fe:34',
    'ec:fa:bc',
    'bc:dd:c2',
    'cc:50:e3',
    '3c:71:bf',
    '7c:9e:bd',
    '8c:aa:b5',
  ],
  Apple: [
    '00:03:93',
    '00:1b:63',
    '00:25:00',
    '28:cf:e9',
    '3c:07:54',
    '40:6c:8f',
    '7c:d1:c3',
    'a4:5e:60',
    'ac:bc:32',
    'f0:18:98',
    'd0:25:98',
  ],
  Google: ['f4:f5:d8', '54:60:09', '3c:5a:b4', 'f8:8f:ca', '48:d6:d5'],
  Amazon: ['44:65:0d', '74:c2:46', 'f0:d2:f1', '68:37:e9', 'fc:65:de', '0c:47:c9', '84:d6:d0', 'a0:02:dc'],
  'Samsung Electronics': ['5c:0a:5b', '8c:77:12', 'f4:7b:5e', '00:16:32', 'bc:14:85'],
  'TP-Link': ['50:c7:bf', '98:da:c4', 'ec:08:6b', 'f4:f2:6d', '14:cc:20', '60:e3:27', 'c0:4a:00', 'b0:4e:26'],
  Netgear: ['a0:40:a0', '20:4e:7f', 'c4:04:15', '9c:3d:cf', '00:14:6c', '00:1b:2f'],
  Sonos: ['00:0e:58', '5c:aa:fd', '94:9f:3e', 'b8:e9:37', '48:a6:b8', '78:28:ca'],
  'Signify (Philips Hue)': ['00:17:88', 'ec:b5:fa'],
  Ubiquiti: [
    '24:a4:3c',
    '04:18:d6',
    '68:72:51',
    '80:2a:a8',
    'dc:9f:db',
    'f0:9f:c2',
    '78:8a:20',
    'fc:ec:da',
    '74:83:c2',
    'b4:fb:e4',
  ],
  Cisco: ['00:00:0c'],
  'Cisco Meraki': ['00:18:0a'],
  Microsoft: ['00:15:5d', '00:50:f2', '28:18:78', '7c:1e:52'],
  Roku: ['b0:a7:37', 'dc:3a:5e', 'cc:6d:a0', 'd8:31:34', 'ac:3a:7a'],
  'Nest Labs': ['18:b4:30', '64:16:66'],
  Xiaomi: ['28:6c:07', '64:09:80', '78:11:dc', '34:ce:00', '50:8f:4c', 'f8:a4:5f'],
  Huawei: ['00:e0:fc', '00:18:82', '28:6e:d4', '48:46:fb', '70:72:3c'],
  AVM: ['00:04:0e', '3c:a6:2f', '7c:ff:4d', 'c0:25:06', '44:4e:6d', '2c:91:ab', 'e0:28:6d', '38:10:d5'],
  Intel: ['00:1b:21', 'a4:4e:31', '3c:a9:f4'],
  VMware: ['00:50:56', '00:0c:29', '00:05:69'],
  Xen: ['00:16:3e'],
  VirtualBox: ['08:00:27'],
};

const BY_PREFIX: ReadonlyMap<string, string> = new Map(
  Object.entries(VENDORS).flatMap(([vendor, prefixes]) => prefixes.map((p) => [p, vendor] as const)),
);

/** `aa:bb:cc:dd:ee:ff` or `AA-BB-…` → `aa:bb:cc:dd:ee:ff`; undefined when it is not an EUI-48. */
export function normaliseMac(mac: string): string | undefined {
  const m = mac.trim().toLowerCase().replaceAll('-', ':');
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m) ? m : undefined;
}

/** Locally administered (randomised, virtual) addresses carry no vendor. */
export function isRandomisedMac(mac: string): boolean {
  const first = Number.parseInt(mac.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x02) !== 0;
}

export function vendorOf(mac: string): string | undefined {
  const m = normaliseMac(mac);
  if (m === undefined || isRandomisedMac(m)) return undefined;
  return BY_PREFIX.get(m.slice(0, 8));
}

export const OUI_TABLE_SIZE = BY_PREFIX.size;
