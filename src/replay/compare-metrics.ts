import { quantileSorted } from '../models/positioning/stats.js';
import type { Alert } from './detection-metrics.js';
import { Reservoir } from './sampling.js';

export interface AlertChange {
  /** `anomaly` (anomalyDetected) or `trust` (trustAlert). */
  kind: 'anomaly' | 'trust';
  deviceId: string;
  /** The anomaly type, or the trust alert's type. */
  anomalyType: string;
  /** ISO 8601. */
  time: string;
}

/** A trustAlert as the comparison sees it. */
export interface TrustAlertMark {
  deviceId: string;
  /** Epoch ms. */
  t: number;
  alertType: string;
}

export interface ComparisonSummary {
  /** Fixes located by both versions at the same moment. */
  pairs: number;
  /** Metres between the two versions' positions for the same device and moment. */
  displacement: { mean: number; median: number; p90: number; max: number } | null;
  /** Pairs that moved more than 1 m. */
  movedOverOneMetre: number;
  /** Pairs whose room changed. */
  roomChanged: number;
  locatedOnlyByA: number;
  locatedOnlyByB: number;
  alertsA: number;
  alertsB: number;
  /** Alerts B raises that A does not (same device and type within the match window). */
  gained: number;
  lost: number;
  /** trustAlert messages of each version, and those gained and lost (matched the same way). */
  trustAlertsA: number;
  trustAlertsB: number;
  trustGained: number;
  trustLost: number;
  /** The first few gained and lost alerts of both kinds, by time. */
  gainedExamples: AlertChange[];
  lostExamples: AlertChange[];
}

/** What changed between two model versions replayed over the same capture. */
export class CompareMetrics {
  #pairs = 0;
  #sum = 0;
  #max = 0;
  #moved = 0;
  #roomChanged = 0;
  onlyA = 0;
  onlyB = 0;
  readonly #displacements = new Reservoir<number>(200_000, 31);
  readonly #matchMs: number;

  /** @param matchMs two alerts of the same device and type this close in time are the same alert. */
  constructor(matchMs = 60_000) {
    this.#matchMs = matchMs;
  }

  addPair(
    a: { x: number; y: number; room?: string | undefined },
    b: { x: number; y: number; room?: string | undefined },
  ): void {
    const d = Math.hypot(a.x - b.x, a.y - b.y);
    this.#pairs += 1;
    this.#sum += d;
    if (d > this.#max) this.#max = d;
    if (d > 1) this.#moved += 1;
    if (a.room !== b.room) this.#roomChanged += 1;
    this.#displacements.add(d);
  }

  displacements(): readonly number[] {
    return this.#displacements.items;
  }

  summary(
    alertsA: readonly Alert[],
    alertsB: readonly Alert[],
    trustA: readonly TrustAlertMark[] = [],
    trustB: readonly TrustAlertMark[] = [],
  ): ComparisonSummary {
    const { gained, lost } = diffAlerts(alertsA, alertsB, this.#matchMs);
    const asAlert = (x: TrustAlertMark) => ({ deviceId: x.deviceId, t: x.t, anomalyType: x.alertType });
    const trust = diffAlerts(trustA.map(asAlert), trustB.map(asAlert), this.#matchMs);
    const sorted = [...this.#displacements.items].sort((x, y) => x - y);
    const change =
      (kind: AlertChange['kind']) =>
      (a: { deviceId: string; t: number; anomalyType: string }): AlertChange & { t: number } => ({
        kind,
        deviceId: a.deviceId,
        anomalyType: a.anomalyType,
        time: new Date(a.t).toISOString(),
        t: a.t,
      });
    const examples = (
      anomalies: readonly Alert[],
      trustAlerts: ReadonlyArray<{ deviceId: string; t: number; anomalyType: string }>,
    ) =>
      [...anomalies.map(change('anomaly')), ...trustAlerts.map(change('trust'))]
        .sort((x, y) => x.t - y.t)
        .slice(0, 20)
        .map(({ t: _t, ...rest }) => rest);
    return {
      pairs: this.#pairs,
      displacement:
        this.#pairs > 0
          ? {
              mean: this.#sum / this.#pairs,
              median: quantileSorted(sorted, 0.5),
              p90: quantileSorted(sorted, 0.9),
              max: this.#max,
            }
          : null,
      movedOverOneMetre: this.#moved,
      roomChanged: this.#roomChanged,
      locatedOnlyByA: this.onlyA,
      locatedOnlyByB: this.onlyB,
      alertsA: alertsA.length,
      alertsB: alertsB.length,
      gained: gained.length,
      lost: lost.length,
      trustAlertsA: trustA.length,
      trustAlertsB: trustB.length,
      trustGained: trust.gained.length,
      trustLost: trust.lost.length,
      gainedExamples: examples(gained, trust.gained),
      lostExamples: examples(lost, trust.lost),
    };
  }
}

/**
 * Alerts of B with no counterpart in A (gained) and of A with none in B (lost). A counterpart is an alert of the same
 * device and type within `matchMs`; each alert is matched at most once, nearest first.
 */
export function diffAlerts<T extends { deviceId: string; t: number; anomalyType: string }>(
  a: readonly T[],
  b: readonly T[],
  matchMs: number,
): { gained: T[]; lost: T[] } {
  const key = (x: T) => `${x.deviceId}\u0000${x.anomalyType}`;
  const pool = new Map<string, T[]>();
  for (const x of a) {
    const list = pool.get(key(x));
    if (list) list.push(x);
    else pool.set(key(x), [x]);
  }
  const matched = new Set<T>();
  const gained: T[] = [];
  for (const y of [...b].sort((p, q) => p.t - q.t)) {
    let best: T | undefined;
    for (const x of pool.get(key(y)) ?? []) {
      if (matched.has(x) || Math.abs(x.t - y.t) > matchMs) continue;
      if (!best || Math.abs(x.t - y.t) < Math.abs(best.t - y.t)) best = x;
    }
    if (best) matched.add(best);
    else gained.push(y);
  }
  const lost = a.filter((x) => !matched.has(x)).sort((p, q) => p.t - q.t);
  return { gained, lost };
}
