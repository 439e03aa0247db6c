import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIwLink, parseProcWireless, readWirelessLinks } from '../../../src/agent/scan/wireless.js';

const PROC_WIRELESS = [
  'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE',
  ' face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22',
  'wlan0: 0000   54.  -56.  -256        0      0      0      0     12        0',
  'wlan1: 0000   30.  200.  -256        0      0      0      0      0        0',
].join('\n');

describe('WiFi RSSI', () => {
  it('reads the level column of /proc/net/wireless as dBm (old unsigned values converted)', () => {
    expect(parseProcWireless(PROC_WIRELESS)).toEqual([
      { dev: 'wlan0', rssi: -56 },
      { dev: 'wlan1', rssi: -56 },
    ]);
  });

  it('reads BSSID, SSID and signal from `iw dev X link`', () => {
    const text =
      'Connected to 00:17:88:aa:bb:cc (on wlan0)\n\tSSID: home-net\n\tfreq: 5180\n\tsignal: -61 dBm\n';
    expect(parseIwLink(text)).toEqual({ bssid: '00:17:88:aa:bb:cc', ssid: 'home-net', rssi: -61 });
    expect(parseIwLink('Not connected.')).toEqual({});
  });

  it('reads links from a /proc root; without iw the level from /proc is used', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sbp-proc-'));
    mkdirSync(join(root, 'net'));
    writeFileSync(join(root, 'net', 'wireless'), PROC_WIRELESS);
    const links = await readWirelessLinks({ procRoot: root, iwPath: '/nonexistent/iw' });
    expect(links).toEqual([
      { dev: 'wlan0', rssi: -56 },
      { dev: 'wlan1', rssi: -56 },
    ]);
    expect(await readWirelessLinks({ procRoot: join(root, 'missing') })).toEqual([]);
  });
});
