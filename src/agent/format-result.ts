import type { Message, MessageOf } from '../protocol/index.js';

/** The results the hub sends back to an agent (the ingestion worker's output). */
export const RESULT_TYPES = [
  'deviceUpdate',
  'mlScoreUpdate',
  'anomalyDetected',
  'trustAlert',
  'trustUpdate',
] as const satisfies readonly Message['type'][];
export type ResultType = (typeof RESULT_TYPES)[number];
export type ResultMessage = MessageOf<ResultType>;

const RESULT_SET: ReadonlySet<string> = new Set(RESULT_TYPES);
export function isResultMessage(m: Message): m is ResultMessage {
  return RESULT_SET.has(m.type);
}

const n = (v: number, digits = 1) => v.toFixed(digits);
const flat = (record: Record<string, string | number | boolean>) =>
  Object.entries(record)
    .slice(0, 6)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
    .join(' ');

/** One readable line per result, for the terminal. */
export function formatResult(m: ResultMessage): string {
  switch (m.type) {
    case 'deviceUpdate': {
      const d = m.data;
      const parts = [`device ${d.deviceId}`];
      if (d.location) {
        const l = d.location;
        let at = `at (${n(l.x)}, ${n(l.y)}) m`;
        if (l.uncertainty !== undefined) at += ` ±${n(l.uncertainty)} m`;
        if (l.room !== undefined) at += ` in ${l.room}`;
        at += ` conf ${n(l.confidence, 2)}`;
        parts.push(at);
      }
      if (d.rssi !== undefined) parts.push(`rssi ${d.rssi} dBm`);
      if (d.performance?.latency !== undefined) parts.push(`latency ${n(d.performance.latency)} ms`);
      if (d.performance?.packetLoss !== undefined) parts.push(`loss ${n(d.performance.packetLoss)}%`);
      return parts.join(' | ');
    }
    case 'mlScoreUpdate': {
      const s = m.data.scores;
      const parts: string[] = [];
      if (s.anomalyScore !== undefined) parts.push(`anomaly ${n(s.anomalyScore, 2)}`);
      if (s.trustScore !== undefined) parts.push(`trust ${n(s.trustScore, 2)}`);
      if (s.performanceScore !== undefined) parts.push(`performance ${n(s.performanceScore, 2)}`);
      if (s.locationConfidence !== undefined) parts.push(`location ${n(s.locationConfidence, 2)}`);
      return `scores ${m.data.deviceId}: ${parts.join(' ')}`;
    }
    case 'anomalyDetected': {
      const d = m.data;
      return (
        `ANOMALY [${d.severity}] ${d.anomalyType} on ${d.deviceId} (confidence ${n(d.confidence, 2)}, ${d.mlModel})` +
        `${Object.keys(d.features).length > 0 ? `: ${flat(d.features)}` : ''} → ${d.recommendedAction}`
      );
    }
    case 'trustAlert': {
      const d = m.data;
      return (
        `TRUST ALERT [${d.severity}] ${d.alertType} on ${d.deviceId}: ${d.description}` +
        ` → ${d.recommendedAction}${d.autoBlocked ? ' (auto-blocked)' : ''}`
      );
    }
    case 'trustUpdate': {
      const d = m.data;
      return `trust ${d.deviceId}: ${d.previousTrust} → ${d.newTrust} (${d.reason}, behaviour ${n(d.behaviorScore)}/100)`;
    }
  }
}
