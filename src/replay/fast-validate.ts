import {
  AgentId,
  DeviceUpdate,
  IpAddress,
  Location,
  type Message,
  type MessageOf,
  type ParseResult,
  PingResult,
  parseMessage,
  Timestamp,
} from '../protocol/index.js';
import { Activity, Performance } from '../protocol/messages/device-update.js';

// A fast path for the two message types that make up nearly all of a capture (pingResult, deviceUpdate): a
// hand-written check of exactly what their zod schemas (src/protocol/messages/) accept, building the same output
// (same keys, same order, copied objects and arrays). It only ever says "valid, here is zod's output" or "not sure":
// anything unusual (another type, an IPv6 target, an unknown key, a bound crossed, a wrong type) goes to zod, which
// decides and words the error. test/replay/fast-validate.test.ts proves with fast-check that whenever the fast path
// accepts, zod accepts with identical output, on valid and mutated messages. zod's own regexes are read from the
// schemas, so a protocol change to a pattern reaches this file by itself; a change of shape shows up in that test.

/** The regex a zod string schema checks (its format pattern or its `.regex()` check), if it has one. */
function patternOf(schema: unknown): RegExp | null {
  const def = (schema as { _zod?: { def?: { pattern?: unknown; checks?: unknown[] } } })._zod?.def;
  if (def?.pattern instanceof RegExp) return def.pattern;
  for (const check of def?.checks ?? []) {
    const p = (check as { _zod?: { def?: { pattern?: unknown } } })._zod?.def?.pattern;
    if (p instanceof RegExp) return p;
  }
  return null;
}

function ipv4Pattern(): RegExp | null {
  const options = (IpAddress as unknown as { _zod?: { def?: { options?: unknown[] } } })._zod?.def?.options;
  const first = options?.[0] as { _zod?: { def?: { format?: unknown } } } | undefined;
  return first?._zod?.def?.format === 'ipv4' ? patternOf(first) : null;
}

/** A pattern that matches nothing: the fast path then defers every message to zod. */
const NEVER = /(?!)/;
const TIMESTAMP_RE = patternOf(Timestamp) ?? NEVER;
const AGENT_ID_RE = patternOf(AgentId) ?? NEVER;
const IPV4_RE = ipv4Pattern() ?? NEVER;

const TARGET_TYPES: ReadonlySet<unknown> = new Set([
  'gateway',
  'anchor',
  'access_point',
  'device',
  'external',
]);

type Obj = Record<string, unknown>;

/** A plain object as JSON.parse makes them (anything else is left to zod). */
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function num(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && v >= lo && v <= hi && Number.isFinite(v);
}

function int(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && v >= lo && v <= hi && Number.isSafeInteger(v);
}

/** Code points, counted as zod counts them (a surrogate pair is one; a lone surrogate is one). */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/**
 * zod's `.min()`/`.max()` on a string: bounds in Unicode code points, not UTF-16 units (zod 4's checks.js). A code
 * point is one or two units, so the count is needed only near a bound.
 */
function str(v: unknown, min: number, max: number): v is string {
  if (typeof v !== 'string') return false;
  const units = v.length;
  if ((units >= min && units < 2 * min ? codePoints(v) : units) < min) return false;
  return (units > max ? codePoints(v) : units) <= max;
}

/**
 * Validates strings that repeat from message to message (timestamps of one round, an agent's id, anchors' IPs) once:
 * a bounded set of strings already matched against the pattern.
 */
class Seen {
  readonly #ok = new Set<string>();
  constructor(
    private readonly re: RegExp,
    private readonly capacity: number,
  ) {}
  test(v: string): boolean {
    if (this.#ok.has(v)) return true;
    if (!this.re.test(v)) return false;
    if (this.#ok.size >= this.capacity) this.#ok.clear();
    this.#ok.add(v);
    return true;
  }
}

/** The fast path's state: caches of validated strings. One per reader (not shared across threads). */
export class FastValidator {
  readonly #timestamps = new Seen(TIMESTAMP_RE, 64);
  readonly #agents = new Seen(AGENT_ID_RE, 256);
  readonly #ips = new Seen(IPV4_RE, 1024);
  /** Messages the fast path accepted / deferred to zod (for the bench and tests). */
  fast = 0;
  slow = 0;

  /** `parseMessage` (src/protocol/parse.ts), same result, faster on the common messages. */
  parse(value: unknown): ParseResult {
    const message = this.tryFast(value);
    if (message !== undefined) {
      this.fast += 1;
      return { ok: true, message };
    }
    this.slow += 1;
    return parseMessage(value);
  }

  /** zod's output for a pingResult or deviceUpdate the fast path can vouch for; undefined = ask zod. */
  tryFast(value: unknown): Message | undefined {
    if (!isObj(value)) return undefined;
    let type: unknown;
    let agentId: unknown;
    let timestamp: unknown;
    let data: unknown;
    let keys = 0;
    for (const k in value) {
      keys += 1;
      if (k === 'type') type = value[k];
      else if (k === 'agentId') agentId = value[k];
      else if (k === 'timestamp') timestamp = value[k];
      else if (k === 'data') data = value[k];
      else return undefined;
    }
    if (keys !== 4 || !isObj(data)) return undefined;
    if (!str(agentId, 1, 128) || !this.#agents.test(agentId)) return undefined;
    if (typeof timestamp !== 'string' || !this.#timestamps.test(timestamp)) return undefined;
    if (type === 'pingResult') {
      const d = this.pingResultData(data);
      return d === undefined ? undefined : { type, agentId, timestamp, data: d };
    }
    if (type === 'deviceUpdate') {
      const d = deviceUpdateData(data);
      return d === undefined ? undefined : { type, agentId, timestamp, data: d };
    }
    return undefined;
  }

  private pingResultData(d: Obj): MessageOf<'pingResult'>['data'] | undefined {
    for (const k in d) if (!PING_KEYS.has(k)) return undefined;
    const { targetIp, targetType, rtt, packetSize, ttl, sequenceNumber, success } = d;
    const { estimatedDistance, processingOffset, qualityScore, deviceId, rssi } = d;
    if (typeof targetIp !== 'string' || !this.#ips.test(targetIp)) return undefined;
    if (!TARGET_TYPES.has(targetType)) return undefined;
    if (rtt !== undefined && !num(rtt, 0, 600_000)) return undefined;
    if (packetSize !== undefined && !int(packetSize, 0, 65_535)) return undefined;
    if (ttl !== undefined && !int(ttl, 0, 255)) return undefined;
    if (!int(sequenceNumber, 0, Number.MAX_SAFE_INTEGER)) return undefined;
    if (typeof success !== 'boolean') return undefined;
    if (estimatedDistance !== undefined && !num(estimatedDistance, 0, Number.POSITIVE_INFINITY))
      return undefined;
    if (processingOffset !== undefined && !num(processingOffset, 0, Number.POSITIVE_INFINITY))
      return undefined;
    if (qualityScore !== undefined && !num(qualityScore, 0, 1)) return undefined;
    if (deviceId !== undefined && !str(deviceId, 1, 256)) return undefined;
    if (rssi !== undefined && !num(rssi, -120, 0)) return undefined;
    // The schema's refine: a successful probe carries its round-trip time.
    if (success && rtt === undefined) return undefined;
    // Keys in schema order, as zod builds its output.
    const out = { targetIp, targetType } as MessageOf<'pingResult'>['data'];
    if (rtt !== undefined) out.rtt = rtt;
    if (packetSize !== undefined) out.packetSize = packetSize;
    if (ttl !== undefined) out.ttl = ttl;
    out.sequenceNumber = sequenceNumber;
    out.success = success;
    if (estimatedDistance !== undefined) out.estimatedDistance = estimatedDistance;
    if (processingOffset !== undefined) out.processingOffset = processingOffset;
    if (qualityScore !== undefined) out.qualityScore = qualityScore;
    if (deviceId !== undefined) out.deviceId = deviceId;
    if (rssi !== undefined) out.rssi = rssi;
    return out;
  }
}

const PING_KEYS: ReadonlySet<string> = new Set(Object.keys(PingResult.shape.data.shape));
const UPDATE_KEYS: ReadonlySet<string> = new Set(Object.keys(DeviceUpdate.shape.data.shape));
const LOCATION_KEYS: ReadonlySet<string> = new Set(Object.keys(Location.shape));
const PERFORMANCE_KEYS: ReadonlySet<string> = new Set(Object.keys(Performance.shape));
const ACTIVITY_KEYS: ReadonlySet<string> = new Set(Object.keys(Activity.shape));

type UpdateData = MessageOf<'deviceUpdate'>['data'];

function deviceUpdateData(d: Obj): UpdateData | undefined {
  for (const k in d) if (!UPDATE_KEYS.has(k)) return undefined;
  const { deviceId, rssi, location, performance, activity } = d;
  if (!str(deviceId, 1, 256)) return undefined;
  if (rssi !== undefined && !num(rssi, -120, 0)) return undefined;
  // The schema's refine: at least one of them.
  if (rssi === undefined && location === undefined && performance === undefined && activity === undefined)
    return undefined;
  const out: UpdateData = { deviceId };
  if (rssi !== undefined) out.rssi = rssi;
  if (location !== undefined) {
    const l = locationOf(location);
    if (l === undefined) return undefined;
    out.location = l;
  }
  if (performance !== undefined) {
    const p = performanceOf(performance);
    if (p === undefined) return undefined;
    out.performance = p;
  }
  if (activity !== undefined) {
    const a = activityOf(activity);
    if (a === undefined) return undefined;
    out.activity = a;
  }
  return out;
}

function locationOf(v: unknown): UpdateData['location'] {
  if (!isObj(v)) return undefined;
  for (const k in v) if (!LOCATION_KEYS.has(k)) return undefined;
  const { x, y, confidence, uncertainty, room, roomProbability, floor, model, modelVersion } = v;
  if (!num(x, -100_000, 100_000) || !num(y, -100_000, 100_000) || !num(confidence, 0, 1)) return undefined;
  const out: NonNullable<UpdateData['location']> = { x, y, confidence };
  if (uncertainty !== undefined) {
    if (!num(uncertainty, 0, Number.POSITIVE_INFINITY)) return undefined;
    out.uncertainty = uncertainty;
  }
  if (room !== undefined) {
    if (!str(room, 0, 256)) return undefined;
    out.room = room;
  }
  if (roomProbability !== undefined) {
    if (!num(roomProbability, 0, 1)) return undefined;
    out.roomProbability = roomProbability;
  }
  if (floor !== undefined) {
    if (!int(floor, -100, 1000)) return undefined;
    out.floor = floor;
  }
  if (model !== undefined) {
    if (!str(model, 0, 256)) return undefined;
    out.model = model;
  }
  if (modelVersion !== undefined) {
    if (!str(modelVersion, 0, 256)) return undefined;
    out.modelVersion = modelVersion;
  }
  return out;
}

function performanceOf(v: unknown): UpdateData['performance'] {
  if (!isObj(v)) return undefined;
  for (const k in v) if (!PERFORMANCE_KEYS.has(k)) return undefined;
  const { latency, packetLoss, bandwidth } = v;
  const out: NonNullable<UpdateData['performance']> = {};
  if (latency !== undefined) {
    if (!num(latency, 0, Number.POSITIVE_INFINITY)) return undefined;
    out.latency = latency;
  }
  if (packetLoss !== undefined) {
    if (!num(packetLoss, 0, 100)) return undefined;
    out.packetLoss = packetLoss;
  }
  if (bandwidth !== undefined) {
    if (!num(bandwidth, 0, Number.POSITIVE_INFINITY)) return undefined;
    out.bandwidth = bandwidth;
  }
  return out;
}

function activityOf(v: unknown): UpdateData['activity'] {
  if (!isObj(v)) return undefined;
  for (const k in v) if (!ACTIVITY_KEYS.has(k)) return undefined;
  const { portScans, connectionAttempts, dataVolume, services, intervalSeconds } = v;
  const out: NonNullable<UpdateData['activity']> = {};
  if (portScans !== undefined) {
    if (!int(portScans, 0, Number.MAX_SAFE_INTEGER)) return undefined;
    out.portScans = portScans;
  }
  if (connectionAttempts !== undefined) {
    if (!int(connectionAttempts, 0, Number.MAX_SAFE_INTEGER)) return undefined;
    out.connectionAttempts = connectionAttempts;
  }
  if (dataVolume !== undefined) {
    if (!num(dataVolume, 0, Number.POSITIVE_INFINITY)) return undefined;
    out.dataVolume = dataVolume;
  }
  if (services !== undefined) {
    if (!Array.isArray(services) || services.length > 256) return undefined;
    const copy: string[] = [];
    for (const s of services) {
      if (!str(s, 0, 256)) return undefined;
      copy.push(s);
    }
    out.services = copy;
  }
  if (intervalSeconds !== undefined) {
    if (!num(intervalSeconds, 0, Number.POSITIVE_INFINITY)) return undefined;
    out.intervalSeconds = intervalSeconds;
  }
  return out;
}
