import { WebSocket } from 'ws';
import type { Connection, ConnectionRegistry } from './connection-registry.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * Sends frames to sockets, never throwing: a socket that is not open is skipped, and one whose unsent backlog is over
 * the limit (a viewer that stopped reading) misses live frames — counted — instead of growing the hub's memory.
 */
export class FanOut {
  readonly #connections: ConnectionRegistry;
  readonly #maxBacklog: number;
  readonly #metrics: HubMetrics;

  constructor(connections: ConnectionRegistry, maxBacklogBytes: number, metrics: HubMetrics) {
    this.#connections = connections;
    this.#maxBacklog = maxBacklogBytes;
    this.#metrics = metrics;
  }

  /** Sends one text frame; false when the socket was closed or backlogged. */
  send(conn: Connection, frame: string | Buffer): boolean {
    const socket = conn.socket;
    if (socket.readyState !== WebSocket.OPEN) return false;
    if (socket.bufferedAmount > this.#maxBacklog) {
      this.#metrics.viewerSkipped.inc();
      return false;
    }
    socket.send(frame, { binary: false });
    return true;
  }

  toViewers(text: string): void {
    const viewers = this.#connections.viewers;
    if (viewers.size === 0) return;
    // Encode once for every viewer rather than once per socket.
    const frame = viewers.size > 1 ? Buffer.from(text, 'utf8') : text;
    for (const viewer of viewers) this.send(viewer, frame);
  }

  /** To every socket of one agent on this hub and to every viewer (results, user trust decisions). */
  toAgentAndViewers(agentId: string, text: string): void {
    const agents = this.#connections.agentConnections(agentId);
    const frame = agents.size + this.#connections.viewers.size > 1 ? Buffer.from(text, 'utf8') : text;
    for (const conn of agents) this.send(conn, frame);
    for (const viewer of this.#connections.viewers) this.send(viewer, frame);
  }
}
