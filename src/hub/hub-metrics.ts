import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ErrorCode, MessageType } from '../protocol/index.js';

type Role = 'agent' | 'viewer';

/**
 * The hub's Prometheus metrics, registered in the given registry (the pipeline adds its queue metrics to the same
 * one). Per-label counts are plain numbers copied into the counters at scrape time: prom-client hashes the label set
 * on every `inc()`, which shows at 100k messages/s.
 */
export class HubMetrics {
  readonly connections: Gauge<'role'>;
  readonly messages: Counter<'type'>;
  readonly rejections: Counter<'code'>;
  readonly handlingSeconds: Histogram;
  readonly results: Counter<'type'>;
  readonly viewerSkipped: Counter;
  readonly captureLines: Counter;
  readonly registryErrors: Counter;
  readonly registrySkipped: Counter;
  readonly #byType = new Map<string, number>();
  readonly #byCode = new Map<string, number>();
  readonly #resultsByType = new Map<string, number>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new Gauge({
      name: 'sbp_hub_connections',
      help: 'Open WebSocket connections by role',
      labelNames: ['role'],
      registers,
    });
    this.messages = new Counter({
      name: 'sbp_hub_messages_total',
      help: 'Messages accepted from agents, by type',
      labelNames: ['type'],
      registers,
      collect: copyInto(this.#byType, 'type'),
    });
    this.rejections = new Counter({
      name: 'sbp_hub_rejections_total',
      help: 'Frames and connections refused, by error code',
      labelNames: ['code'],
      registers,
      collect: copyInto(this.#byCode, 'code'),
    });
    this.handlingSeconds = new Histogram({
      name: 'sbp_hub_message_handling_seconds',
      help: 'Time from a frame arriving to the hub having accepted or answered it (seconds)',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers,
    });
    this.results = new Counter({
      name: 'sbp_hub_results_total',
      help: 'Results from the ingestion side fanned out to sockets, by type',
      labelNames: ['type'],
      registers,
      collect: copyInto(this.#resultsByType, 'type'),
    });
    this.viewerSkipped = new Counter({
      name: 'sbp_hub_viewer_messages_skipped_total',
      help: 'Live messages not sent to a viewer whose send backlog was over the limit',
      registers,
    });
    this.captureLines = new Counter({
      name: 'sbp_hub_capture_lines_total',
      help: 'Lines appended to the capture file',
      registers,
    });
    this.registryErrors = new Counter({
      name: 'sbp_hub_registry_errors_total',
      help: 'Device-registry writes that failed',
      registers,
    });
    this.registrySkipped = new Counter({
      name: 'sbp_hub_registry_writes_skipped_total',
      help: 'Device-registry writes skipped because too many were pending',
      registers,
    });
    for (const role of ['agent', 'viewer'] as const) this.connections.set({ role }, 0);
  }

  connected(role: Role, delta: 1 | -1): void {
    this.connections.inc({ role }, delta);
  }

  accepted(type: MessageType): void {
    this.#byType.set(type, (this.#byType.get(type) ?? 0) + 1);
  }

  rejected(code: ErrorCode): void {
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
  }

  result(type: MessageType): void {
    this.#resultsByType.set(type, (this.#resultsByType.get(type) ?? 0) + 1);
  }
}

/** A counter's `collect`: replaces its values with the running totals kept in `counts`. */
function copyInto<L extends string>(counts: Map<string, number>, label: L) {
  return function (this: Counter<L>): void {
    this.reset();
    for (const [value, n] of counts) this.inc({ [label]: value } as Record<L, string>, n);
  };
}
