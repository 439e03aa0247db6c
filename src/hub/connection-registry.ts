import type { WebSocket } from 'ws';
import type { MessageOf } from '../protocol/index.js';
import type { Principal } from './auth.js';

/** One open WebSocket and what the hub knows about it. */
export interface Connection {
  readonly id: number;
  readonly principal: Principal;
  readonly socket: WebSocket;
  readonly remoteAddress: string;
  /** Epoch milliseconds. */
  readonly connectedAt: number;
  /** Rate-limit bucket: `agent:<agentId>` (shared by the agent's sockets) or `conn:<id>` for a viewer. */
  readonly bucket: string;
  /** agentId put on error replies: the bound agent, or `hub` for viewers. */
  readonly replyAgentId: string;
  /** Answered the last ws ping. */
  alive: boolean;
  accepted: number;
  rejected: number;
}

/** What the hub knows about one agent, kept while the hub runs (bounded by the token file). */
export interface AgentState {
  agentId: string;
  connections: Set<Connection>;
  /** Epoch milliseconds of the last accepted message. */
  lastMessageAt?: number;
  accepted: number;
  rejected: number;
  registration?: MessageOf<'agent_register'>['data'];
  heartbeat?: MessageOf<'agent_heartbeat'>['data'] & { receivedAt: string };
  health?: MessageOf<'systemHealth'>['data']['status'];
}

/** What `GET /api/agents` returns per agent. */
export interface AgentSummary {
  agentId: string;
  online: boolean;
  connections: number;
  accepted: number;
  rejected: number;
  /** ISO 8601, absent when nothing was accepted yet. */
  lastMessageAt?: string;
  version?: string;
  capabilities?: string[];
  networkInterface?: string;
  systemInfo?: MessageOf<'agent_register'>['data']['systemInfo'];
  heartbeat?: AgentState['heartbeat'];
  health?: AgentState['health'];
}

/** Open connections by role, and per-agent state. */
export class ConnectionRegistry {
  readonly viewers = new Set<Connection>();
  readonly all = new Set<Connection>();
  readonly #agents = new Map<string, AgentState>();
  #nextId = 1;

  nextId(): number {
    return this.#nextId++;
  }

  agent(agentId: string): AgentState {
    let state = this.#agents.get(agentId);
    if (state === undefined) {
      state = { agentId, connections: new Set(), accepted: 0, rejected: 0 };
      this.#agents.set(agentId, state);
    }
    return state;
  }

  add(conn: Connection): void {
    this.all.add(conn);
    if (conn.principal.role === 'viewer') this.viewers.add(conn);
    else this.agent(conn.principal.agentId).connections.add(conn);
  }

  remove(conn: Connection): boolean {
    if (!this.all.delete(conn)) return false;
    if (conn.principal.role === 'viewer') this.viewers.delete(conn);
    else this.#agents.get(conn.principal.agentId)?.connections.delete(conn);
    return true;
  }

  /** Open sockets of an agent (empty when it is connected to another hub process, or not at all). */
  agentConnections(agentId: string): ReadonlySet<Connection> {
    return this.#agents.get(agentId)?.connections ?? EMPTY;
  }

  get agentConnectionCount(): number {
    return this.all.size - this.viewers.size;
  }

  /** Every agent of the token file and every agent seen, sorted by id. */
  summaries(knownAgentIds: readonly string[]): AgentSummary[] {
    const ids = new Set([...knownAgentIds, ...this.#agents.keys()]);
    return [...ids].sort().map((agentId) => summarise(this.#agents.get(agentId), agentId));
  }
}

const EMPTY: ReadonlySet<Connection> = new Set();

function summarise(state: AgentState | undefined, agentId: string): AgentSummary {
  const summary: AgentSummary = {
    agentId,
    online: (state?.connections.size ?? 0) > 0,
    connections: state?.connections.size ?? 0,
    accepted: state?.accepted ?? 0,
    rejected: state?.rejected ?? 0,
  };
  if (state === undefined) return summary;
  if (state.lastMessageAt !== undefined) summary.lastMessageAt = new Date(state.lastMessageAt).toISOString();
  if (state.registration !== undefined) {
    summary.version = state.registration.version;
    summary.capabilities = state.registration.capabilities;
    summary.networkInterface = state.registration.networkInterface;
    summary.systemInfo = state.registration.systemInfo;
  }
  if (state.heartbeat !== undefined) summary.heartbeat = state.heartbeat;
  if (state.health !== undefined) summary.health = state.health;
  return summary;
}
