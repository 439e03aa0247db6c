import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export interface WirelessLink {
  dev: string;
  /** dBm. */
  rssi: number;
  /** The access point's MAC, when `iw` tells it. */
  bssid?: string;
  ssid?: string;
}

/**
 * `/proc/net/wireless`: "wlan0: 0000   60.  -50.  -256 …" — the level column is dBm on modern drivers (a value
 * above 0 is the old unsigned 8-bit form, converted by subtracting 256).
 */
export function parseProcWireless(text: string): { dev: string; rssi: number }[] {
  const out: { dev: string; rssi: number }[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s+\S+\s+(-?[\d.]+)\.?\s+(-?[\d.]+)\.?/.exec(line);
    if (!m) continue;
    let level = Number(m[3]);
    if (!Number.isFinite(level)) continue;
    if (level > 0) level -= 256;
    if (level < -120 || level > 0) continue;
    out.push({ dev: m[1]!, rssi: level });
  }
  return out;
}

/** `iw dev IFACE link`: "Connected to aa:bb:cc:dd:ee:ff (on wlan0)", "SSID: home", "signal: -52 dBm". */
export function parseIwLink(text: string): { bssid?: string; ssid?: string; rssi?: number } {
  const bssid = /Connected to ([0-9a-f:]{17})/i.exec(text)?.[1]?.toLowerCase();
  const ssid = /^\s*SSID: (.*)$/m.exec(text)?.[1]?.trim();
  const signal = /signal: (-?\d+) dBm/.exec(text)?.[1];
  return {
    ...(bssid === undefined ? {} : { bssid }),
    ...(ssid === undefined ? {} : { ssid }),
    ...(signal === undefined ? {} : { rssi: Number(signal) }),
  };
}

/** The agent's own WiFi links, where the OS exposes them. Passive: reads kernel state, never scans. */
export async function readWirelessLinks(
  options: { procRoot?: string; iwPath?: string } = {},
): Promise<WirelessLink[]> {
  let text: string;
  try {
    text = await readFile(`${options.procRoot ?? '/proc'}/net/wireless`, 'utf8');
  } catch {
    return [];
  }
  const links: WirelessLink[] = [];
  for (const { dev, rssi } of parseProcWireless(text)) {
    const iw = await new Promise<string>((resolve) => {
      execFile(options.iwPath ?? 'iw', ['dev', dev, 'link'], { timeout: 3000 }, (error, out) =>
        resolve(error ? '' : out),
      );
    });
    const link = parseIwLink(iw);
    links.push({
      dev,
      rssi: link.rssi ?? rssi,
      ...(link.bssid ? { bssid: link.bssid } : {}),
      ...(link.ssid ? { ssid: link.ssid } : {}),
    });
  }
  return links;
}
