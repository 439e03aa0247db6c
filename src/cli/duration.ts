import { UsageError } from './command.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `24h`, `7d`, `1500ms` → ms; `0` or `off` → 0. A bad value is a UsageError naming the flag. */
export function parseDuration(flag: string, value: string): number {
  const text = value.trim().toLowerCase();
  if (text === 'off' || text === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (m === null) {
    throw new UsageError(`--${flag}: a duration such as 90s, 30m, 24h or 7d (or off), got "${value}"`);
  }
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}
