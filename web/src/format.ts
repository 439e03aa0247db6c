// Formatting for people: units stated, snake_case turned into words, times relative.

export function humanize(token: string): string {
  const words = token.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A number with at most `digits` decimals, trailing zeros dropped; `–` when absent. */
export function num(value: number | undefined | null, digits = 2): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return '–';
  return String(Number(value.toFixed(digits)));
}

export function metres(value: number | undefined | null, digits = 2): string {
  return value === undefined || value === null || !Number.isFinite(value) ? '–' : `${num(value, digits)} m`;
}

/** A value in [0,1] as a whole percentage. */
export function pct(value: number | undefined | null): string {
  return value === undefined || value === null || !Number.isFinite(value)
    ? '–'
    : `${Math.round(value * 100)}%`;
}

export function ago(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hours = Math.round(m / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Feature values as they read best: booleans as yes/no, numbers to 3 significant digits. */
export function featureValue(value: number | boolean | string): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value);
    if (value !== 0 && Math.abs(value) < 0.01) return value.toExponential(1);
    return String(Number(value.toPrecision(3)));
  }
  return value;
}

export function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
