// What the page knows: devices, their trails and trust, the anomaly feed and the agents, folded from the hub's
// messages and REST snapshots. Pure data, no DOM, so it can be tested without a browser.
import type {
  Location,
  Message,
  MessageOf,
  MessageType,
  Severity,
  TrustFactor,
  TrustLevel,
} from '../../src/protocol/index.js';
import { parseTime } from './format.js';

export interface TrailPoint {
  x: number;
  y: number;
  /** Epoch ms, page clock. */
  t: number;
}

export interface Scores {
  anomalyScore?: number;
  trustScore?: number;
  performanceScore?: number;
  locationConfidence?: number;
}

export interface DeviceView {
  deviceId: string;
  agentId?: string;
  hostname?: string;
  ipAddress?: string;
  macAddress?: string;
  vendor?: string;
  deviceType?: string;
  online: boolean;
  /** Epoch ms of the last message about the device. */
  lastSeen: number;
  rssi?: number;
  location?: Location;
  trail: TrailPoint[];
  trustLevel: TrustLevel;
  /** 0..100 from the last trustUpdate. */
  behaviorScore?: number;
  trustReason?: string;
  trustFactors?: TrustFactor[];
  userDecision?: 'approved' | 'blocked';
  scores: Scores;
  /** Epoch ms (page clock) of the last anomaly or alert about it. */
  lastAnomalyAt?: number;
  /** Epoch ms (page clock) of the last live message, to let live data win over an older REST snapshot. */
  touchedAt: number;
  /** Bumped on every change, so views redraw only what changed. */
  rev: number;
}

export interface FeedItem {
  id: string;
  kind: 'anomaly' | 'alert';
  deviceId: string;
  agentId: string;
  severity: Severity;
  /** anomalyType or alertType. */
  category: string;
  confidence?: number;
  features: Record<string, number | boolean | string>;
  recommendedAction: string;
  description?: string;
  mlModel?: string;
  score?: number;
  threshold?: number;
  autoBlocked?: boolean;
  /** Epoch ms from the message's timestamp. */
  at: number;
}

export interface AgentView {
  agentId: string;
  lastSeen: number;
  /** Connected to the hub (from GET /api/agents; any message from it also says so). */
  online: boolean;
  version?: string;
  status?: string;
  health?: string;
}

export type Dirty = 'devices' | 'feed' | 'agents';

export const TRAIL_LENGTH = 24;
export const TRAIL_MAX_AGE_MS = 120_000;
export const FEED_LENGTH = 200;
/** A new trail point only when the device moved this far (metres), so jitter does not eat the trail. */
const TRAIL_MIN_STEP_M = 0.05;
const ANOMALY_SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function severityRank(s: Severity): number {
  return ANOMALY_SEVERITY_RANK[s];
}

type Handlers = { [T in MessageType]?: (m: MessageOf<T>, now: number) => void };

/**
 * The hub validates every message it sends; the page still checks the fields it relies on, so a message that does
 * not fit (a newer hub, a bug) is counted and skipped instead of corrupting what is shown.
 */
class Unreadable extends Error {}
function need(condition: boolean): void {
  if (!condition) throw new Unreadable();
}
const SEVERITIES: readonly string[] = ['low', 'medium', 'high', 'critical'];
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export class DashboardStore {
  readonly devices = new Map<string, DeviceView>();
  readonly agents = new Map<string, AgentView>();
  /** Newest first. */
  feed: FeedItem[] = [];
  readonly dirty = new Set<Dirty>();
  /** Messages folded in, and ones that could not be read. */
  received = 0;
  unreadable = 0;
  lastMessageAt: number | undefined;
  private readonly feedIds = new Set<string>();

  private device(deviceId: string, now: number): DeviceView {
    let d = this.devices.get(deviceId);
    if (!d) {
      d = {
        deviceId,
        online: true,
        lastSeen: now,
        trail: [],
        trustLevel: 'unknown',
        scores: {},
        touchedAt: now,
        rev: 0,
      };
      this.devices.set(deviceId, d);
    }
    return d;
  }

  private readonly handlers: Handlers = {
    deviceJoin: (m, now) => {
      need(isId(m.data.deviceId));
      const d = this.device(m.data.deviceId, now);
      const x = m.data;
      d.agentId = m.agentId;
      if (x.hostname !== undefined) d.hostname = x.hostname;
      if (x.ipAddress !== undefined) d.ipAddress = x.ipAddress;
      if (x.macAddress !== undefined) d.macAddress = x.macAddress;
      if (x.vendor !== undefined) d.vendor = x.vendor;
      if (x.deviceType !== undefined) d.deviceType = x.deviceType;
      if (x.rssi !== undefined) d.rssi = x.rssi;
      // An agent's guess never overrides the user's decision or the hub's trust result.
      if (x.trustLevel !== undefined && d.userDecision === undefined && d.behaviorScore === undefined) {
        d.trustLevel = x.trustLevel;
      }
      d.online = true;
      this.touch(d, m.timestamp, now);
      this.dirty.add('devices');
    },
    deviceLeave: (m, now) => {
      need(isId(m.data.deviceId));
      const d = this.device(m.data.deviceId, now);
      d.online = false;
      d.touchedAt = now;
      d.rev++;
      this.dirty.add('devices');
    },
    deviceUpdate: (m, now) => {
      const loc = m.data.location;
      need(isId(m.data.deviceId));
      need(loc === undefined || (isFiniteNumber(loc.x) && isFiniteNumber(loc.y)));
      const d = this.device(m.data.deviceId, now);
      d.agentId = m.agentId;
      d.online = true;
      if (m.data.rssi !== undefined) d.rssi = m.data.rssi;
      if (m.data.location) this.moveTo(d, m.data.location, now);
      this.touch(d, m.timestamp, now);
      this.dirty.add('devices');
    },
    mlScoreUpdate: (m, now) => {
      need(isId(m.data.deviceId) && isRecord(m.data.scores));
      const d = this.device(m.data.deviceId, now);
      Object.assign(d.scores, m.data.scores);
      this.touch(d, m.timestamp, now);
      this.dirty.add('devices');
    },
    trustUpdate: (m, now) => {
      need(isId(m.data.deviceId) && isTrustLevel(m.data.newTrust));
      const d = this.device(m.data.deviceId, now);
      d.trustLevel = m.data.newTrust;
      d.behaviorScore = m.data.behaviorScore;
      d.trustReason = m.data.reason;
      if (m.data.factors) d.trustFactors = m.data.factors;
      if (m.data.reason === 'user_approved') d.userDecision = 'approved';
      else if (m.data.reason === 'user_blocked') d.userDecision = 'blocked';
      else if (m.data.reason === 'user_reset') delete d.userDecision;
      this.touch(d, m.timestamp, now);
      this.dirty.add('devices');
    },
    anomalyDetected: (m, now) => {
      const x = m.data;
      need(isId(x.deviceId) && isId(x.anomalyId) && SEVERITIES.includes(x.severity) && isRecord(x.features));
      const item: FeedItem = {
        id: `anomaly:${x.anomalyId}`,
        kind: 'anomaly',
        deviceId: x.deviceId,
        agentId: m.agentId,
        severity: x.severity,
        category: x.anomalyType,
        confidence: x.confidence,
        features: x.features,
        recommendedAction: x.recommendedAction,
        mlModel: x.mlModel,
        at: parseTime(m.timestamp) ?? now,
      };
      if (x.score !== undefined) item.score = x.score;
      if (x.threshold !== undefined) item.threshold = x.threshold;
      this.addFeed(item, now);
    },
    trustAlert: (m, now) => {
      const x = m.data;
      need(isId(x.deviceId) && isId(x.alertId) && SEVERITIES.includes(x.severity) && isRecord(x.evidence));
      this.addFeed(
        {
          id: `alert:${x.alertId}`,
          kind: 'alert',
          deviceId: x.deviceId,
          agentId: m.agentId,
          severity: x.severity,
          category: x.alertType,
          features: x.evidence,
          recommendedAction: x.recommendedAction,
          description: x.description,
          autoBlocked: x.autoBlocked,
          at: parseTime(m.timestamp) ?? now,
        },
        now,
      );
    },
    agent_register: (m, now) => {
      const a = this.agent(m.agentId, now);
      a.version = m.data.version;
    },
    agent_heartbeat: (m, now) => {
      this.agent(m.agentId, now).status = m.data.status;
    },
    systemHealth: (m, now) => {
      this.agent(m.agentId, now).health = m.data.status;
    },
  };

  private agent(agentId: string, now: number): AgentView {
    let a = this.agents.get(agentId);
    if (!a) {
      a = { agentId, lastSeen: now, online: true };
      this.agents.set(agentId, a);
    }
    a.lastSeen = now;
    a.online = true;
    this.dirty.add('agents');
    return a;
  }

  private touch(d: DeviceView, _timestamp: string, now: number): void {
    d.lastSeen = now;
    d.touchedAt = now;
    d.rev++;
  }

  private moveTo(d: DeviceView, loc: Location, now: number): void {
    d.location = loc;
    const last = d.trail[d.trail.length - 1];
    if (!last || Math.hypot(last.x - loc.x, last.y - loc.y) >= TRAIL_MIN_STEP_M) {
      d.trail.push({ x: loc.x, y: loc.y, t: now });
    } else {
      last.t = now;
    }
    pruneTrail(d, now);
  }

  private addFeed(item: FeedItem, now: number): void {
    if (this.feedIds.has(item.id)) return;
    this.feedIds.add(item.id);
    this.feed.unshift(item);
    for (const old of this.feed.splice(FEED_LENGTH)) this.feedIds.delete(old.id);
    const d = this.device(item.deviceId, now);
    d.lastAnomalyAt = now;
    d.rev++;
    if (item.autoBlocked) d.trustLevel = 'blocked';
    this.dirty.add('feed');
    this.dirty.add('devices');
  }

  /** Folds one message in. Returns false for a message it could not read (counted, never thrown). */
  apply(raw: unknown, now: number = Date.now()): boolean {
    if (!isMessageLike(raw)) {
      this.unreadable++;
      return false;
    }
    const message = raw as Message;
    const handler = this.handlers[message.type] as ((m: Message, now: number) => void) | undefined;
    this.received++;
    this.lastMessageAt = now;
    if (!handler) return true;
    try {
      handler(message, now);
      return true;
    } catch (error) {
      if (!(error instanceof Unreadable) && !(error instanceof TypeError)) throw error;
      this.unreadable++;
      return false;
    }
  }

  /**
   * Merges a REST snapshot of the device registry (GET /api/devices). Live messages newer than the moment the
   * snapshot was requested win, so a slow response never rolls a device back.
   */
  loadDevices(records: readonly unknown[], requestedAt: number, now: number = Date.now()): void {
    for (const r of records) {
      if (!isRecord(r) || typeof r.deviceId !== 'string' || r.deviceId.length === 0) continue;
      const known = this.devices.get(r.deviceId);
      if (known && known.touchedAt > requestedAt) continue;
      const d = this.device(r.deviceId, now);
      for (const key of ['agentId', 'hostname', 'ipAddress', 'macAddress', 'vendor', 'deviceType'] as const) {
        const v = r[key];
        if (typeof v === 'string') d[key] = v;
      }
      if (typeof r.online === 'boolean') d.online = r.online;
      if (typeof r.rssi === 'number') d.rssi = r.rssi;
      if (isTrustLevel(r.trustLevel)) d.trustLevel = r.trustLevel;
      if (r.userDecision === 'approved' || r.userDecision === 'blocked') d.userDecision = r.userDecision;
      else delete d.userDecision;
      if (Array.isArray(r.trustFactors)) d.trustFactors = r.trustFactors as TrustFactor[];
      if (typeof r.trustScore === 'number' && d.scores.trustScore === undefined)
        d.scores.trustScore = r.trustScore;
      if (isRecord(r.scores)) {
        for (const key of ['anomalyScore', 'trustScore', 'performanceScore', 'locationConfidence'] as const) {
          const v = r.scores[key];
          if (typeof v === 'number') d.scores[key] = v;
        }
      }
      const lastSeen = typeof r.lastSeen === 'string' ? parseTime(r.lastSeen) : undefined;
      if (lastSeen !== undefined) d.lastSeen = lastSeen;
      if (isRecord(r.location) && typeof r.location.x === 'number' && typeof r.location.y === 'number') {
        const loc = r.location as unknown as Location;
        if (!d.location || d.location.x !== loc.x || d.location.y !== loc.y) this.moveTo(d, loc, now);
      }
      const lastAnomaly = typeof r.lastAnomalyAt === 'string' ? parseTime(r.lastAnomalyAt) : undefined;
      if (lastAnomaly !== undefined && d.lastAnomalyAt === undefined) d.lastAnomalyAt = lastAnomaly;
      d.rev++;
    }
    this.dirty.add('devices');
  }

  /** Replaces the agents with the hub's list (GET /api/agents). */
  loadAgents(records: readonly unknown[], now: number = Date.now()): void {
    this.agents.clear();
    for (const r of records) {
      if (!isRecord(r) || !isId(r.agentId)) continue;
      const a: AgentView = {
        agentId: r.agentId,
        lastSeen: parseTime(String(r.lastMessageAt)) ?? now,
        online: r.online === true,
      };
      if (typeof r.version === 'string') a.version = r.version;
      if (isRecord(r.heartbeat) && typeof r.heartbeat.status === 'string') a.status = r.heartbeat.status;
      if (isRecord(r.health) && typeof r.health.status === 'string') a.health = r.health.status;
      this.agents.set(a.agentId, a);
    }
    this.dirty.add('agents');
  }

  /** Drops trail points older than TRAIL_MAX_AGE_MS; returns true when something changed. */
  ageTrails(now: number): boolean {
    let changed = false;
    for (const d of this.devices.values()) {
      const before = d.trail.length;
      pruneTrail(d, now);
      if (d.trail.length !== before) {
        d.rev++;
        changed = true;
      }
    }
    if (changed) this.dirty.add('devices');
    return changed;
  }

  /** Takes the set of changed areas and clears it. */
  takeDirty(): Set<Dirty> {
    const out = new Set(this.dirty);
    this.dirty.clear();
    return out;
  }
}

function pruneTrail(d: DeviceView, now: number): void {
  const keepFrom = d.trail.findIndex((p) => now - p.t <= TRAIL_MAX_AGE_MS);
  if (keepFrom === -1) {
    // Keep the current position as the trail's head even when it is old.
    d.trail.splice(0, d.trail.length - 1);
  } else if (keepFrom > 0) {
    d.trail.splice(0, keepFrom);
  }
  if (d.trail.length > TRAIL_LENGTH) d.trail.splice(0, d.trail.length - TRAIL_LENGTH);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TRUST_LEVELS: readonly string[] = ['trusted', 'unknown', 'suspicious', 'untrusted', 'blocked'];
export function isTrustLevel(v: unknown): v is TrustLevel {
  return typeof v === 'string' && TRUST_LEVELS.includes(v);
}

function isMessageLike(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v.type === 'string' &&
    typeof v.agentId === 'string' &&
    typeof v.timestamp === 'string' &&
    isRecord(v.data)
  );
}

/** The name people know a device by. */
export function deviceName(d: DeviceView): string {
  return d.hostname || d.ipAddress || d.deviceId;
}

/** Trust score in [0,1]: the model's when it sent one, else the trust update's behaviour score. */
export function trustScoreOf(d: DeviceView): number | undefined {
  if (d.scores.trustScore !== undefined) return d.scores.trustScore;
  return d.behaviorScore !== undefined ? d.behaviorScore / 100 : undefined;
}
