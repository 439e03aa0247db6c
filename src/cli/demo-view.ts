import type { Message, MessageOf } from '../protocol/index.js';

/** What the demo's live view shows about one device, folded from the results the hub sends back. */
export interface DeviceView {
  deviceId: string;
  x?: number;
  y?: number;
  uncertainty?: number;
  room?: string;
  confidence?: number;
  anomalyScore?: number;
  trustScore?: number;
  performanceScore?: number;
  trust?: string;
  lastUpdate: number;
}

export interface AnomalyView {
  at: number;
  deviceId: string;
  type: string;
  severity: string;
  explanation: string;
}

/** The live view's state: pure folding of result messages, so it is testable without a terminal. */
export class LiveView {
  readonly devices = new Map<string, DeviceView>();
  readonly anomalies: AnomalyView[] = [];
  results = 0;

  constructor(private readonly maxAnomalies = 8) {}

  private device(id: string, now: number): DeviceView {
    let d = this.devices.get(id);
    if (!d) {
      d = { deviceId: id, lastUpdate: now };
      this.devices.set(id, d);
    }
    d.lastUpdate = now;
    return d;
  }

  /** Folds one message the agent received; returns a line worth printing at once (anomalies), if any. */
  apply(m: Message, now: number = Date.now()): string | null {
    switch (m.type) {
      case 'deviceUpdate': {
        this.results++;
        const d = this.device(m.data.deviceId, now);
        const l = m.data.location;
        if (l) {
          d.x = l.x;
          d.y = l.y;
          d.confidence = l.confidence;
          if (l.uncertainty !== undefined) d.uncertainty = l.uncertainty;
          if (l.room !== undefined) d.room = l.room;
        }
        return null;
      }
      case 'mlScoreUpdate': {
        this.results++;
        const d = this.device(m.data.deviceId, now);
        const s = m.data.scores;
        if (s.anomalyScore !== undefined) d.anomalyScore = s.anomalyScore;
        if (s.trustScore !== undefined) d.trustScore = s.trustScore;
        if (s.performanceScore !== undefined) d.performanceScore = s.performanceScore;
        return null;
      }
      case 'trustUpdate': {
        this.results++;
        this.device(m.data.deviceId, now).trust = m.data.newTrust;
        return `trust   ${m.data.deviceId}: ${m.data.previousTrust} → ${m.data.newTrust} (${m.data.reason})`;
      }
      case 'trustAlert':
        this.results++;
        return `ALERT   ${m.data.deviceId}: ${m.data.severity} ${m.data.alertType} — ${m.data.description}`;
      case 'anomalyDetected': {
        this.results++;
        const a = this.anomalyOf(m, now);
        this.anomalies.unshift(a);
        this.anomalies.length = Math.min(this.anomalies.length, this.maxAnomalies);
        return `ANOMALY ${a.deviceId}: ${a.severity} ${a.type} — ${a.explanation}`;
      }
      default:
        return null;
    }
  }

  private anomalyOf(m: MessageOf<'anomalyDetected'>, now: number): AnomalyView {
    const features = Object.entries(m.data.features)
      .slice(0, 3)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : String(v)}`)
      .join(', ');
    return {
      at: now,
      deviceId: m.data.deviceId,
      type: m.data.anomalyType,
      severity: m.data.severity,
      explanation: `${features}; ${m.data.recommendedAction}`,
    };
  }

  /** The table printed every refresh. */
  render(header: string, now: number = Date.now()): string {
    const f = (v: number | undefined, digits = 2) => (v === undefined ? '—' : v.toFixed(digits));
    const rows = [...this.devices.values()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    const lines = [
      header,
      '',
      `${'device'.padEnd(20)} ${'position (m)'.padEnd(20)} ${'room'.padEnd(12)} ${'conf'.padStart(5)} ${'anomaly'.padStart(7)} ${'trust'.padStart(6)} ${'perf'.padStart(5)}  level`,
    ];
    for (const d of rows) {
      const pos =
        d.x === undefined || d.y === undefined
          ? 'locating…'
          : `(${f(d.x, 1)}, ${f(d.y, 1)}) ±${f(d.uncertainty, 1)}`;
      lines.push(
        `${d.deviceId.slice(0, 20).padEnd(20)} ${pos.padEnd(20)} ${(d.room ?? '—').slice(0, 12).padEnd(12)} ${f(d.confidence).padStart(5)} ${f(d.anomalyScore).padStart(7)} ${f(d.trustScore).padStart(6)} ${f(d.performanceScore).padStart(5)}  ${d.trust ?? '—'}`,
      );
    }
    if (rows.length === 0) lines.push('(waiting for the first results…)');
    lines.push('', 'recent anomalies:');
    if (this.anomalies.length === 0)
      lines.push('  none yet (the simulator injects the first ones after a few minutes)');
    for (const a of this.anomalies) {
      const ago = Math.round((now - a.at) / 1000);
      lines.push(`  ${ago}s ago  ${a.deviceId}  ${a.severity} ${a.type}: ${a.explanation}`.slice(0, 160));
    }
    return lines.join('\n');
  }
}
