import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Connection, ConnectionRegistry } from './connection-registry.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * Sends frames to sockets, never throwing: a socket that is not open is skipped, and one whose unsent backlog is over
 * the limit (a viewer that stopped reading) misses live frames — counted — instead of growing the hub's memory.
 *
 * A socket written to is corked until the end of the current tick, so every frame it gets from one batch of results
 * (or from one read of an agent's frames) leaves in one write: a result per write was the hub's largest cost at load
 * (a syscall each), and the reader's too.
 */
export class FanOut {
  readonly #connections: ConnectionRegistry;
  readonly #maxBacklog: number;
  readonly #metrics: HubMetrics;
  readonly #corked = new Set<Socket>();
  readonly #uncork = (): void => {
    for (const raw of this.#corked) raw.uncork();
    this.#corked.clear();
  };

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
    this.#cork(socket);
    socket.send(frame, { binary: false });
    return true;
  }

  #cork(socket: WebSocket): void {
    // ws keeps its net.Socket as `_socket` (stable through ws 8); without it, frames simply go one write each.
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (raw === undefined || this.#corked.has(raw)) return;
    if (this.#corked.size === 0) process.nextTick(this.#uncork);
    raw.cork();
    this.#corked.add(raw);
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
