import type { Redis } from 'ioredis';

/**
 * One Lua script that runs a list of commands atomically, optionally fenced: when a lease key and token are given,
 * nothing runs unless the lease still holds that token (a worker that lost its partition cannot write).
 *
 * KEYS[1] lease key (or none); ARGV[1] token ('' = unfenced); ARGV[2] the commands as one JSON array of arrays,
 * where a number n stands for ARGV[n] (large or binary arguments travel as their own ARGV entries, unescaped).
 * Sending one JSON string instead of thousands of arguments keeps the client's per-argument cost out of the way.
 * Returns {1, result of the last command} or {0} when fenced out.
 */
const FENCED_EXEC = `
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
end
local cmds = cjson.decode(ARGV[2])
local last = false
for _, c in ipairs(cmds) do
  for j = 1, #c do
    if type(c[j]) == 'number' then c[j] = ARGV[c[j]] end
  end
  last = redis.call(unpack(c))
end
return {1, last}
`;

/**
 * Reads without side effects, ARGV[1] = JSON list of ops, replies in order: ["B", key] a whole probe bitmap block
 * (its bytes, '' when absent); ["h", key, field] HEXISTS; ["e", key] EXISTS; ["E", key, expected] the control epoch
 * (its value; when it differs from `expected`, every following "d" op reads); ["d", key, cached] HMGET trustLevel
 * userDecision — two replies, or '~' '~' when `cached` is 1 and the epoch did not change.
 */
const PREPARE = `
local out = {}
local changed = true
for _, op in ipairs(cjson.decode(ARGV[1])) do
  local kind = op[1]
  if kind == 'B' then
    out[#out + 1] = redis.call('GET', op[2]) or ''
  elseif kind == 'h' then
    out[#out + 1] = redis.call('HEXISTS', op[2], op[3])
  elseif kind == 'e' then
    out[#out + 1] = redis.call('EXISTS', op[2])
  elseif kind == 'E' then
    local epoch = redis.call('GET', op[2]) or '0'
    changed = epoch ~= op[3]
    out[#out + 1] = epoch
  elseif op[3] == 1 and not changed then
    out[#out + 1] = '~'
    out[#out + 1] = '~'
  else
    local v = redis.call('HMGET', op[2], 'trustLevel', 'userDecision')
    out[#out + 1] = v[1] or ''
    out[#out + 1] = v[2] or ''
  end
end
return out
`;

/**
 * A batch's commit, atomically and fenced like FENCED_EXEC. ARGV[2] is one JSON object:
 * - `b`: [[key, [offsets]]] probe bits of the batch, per bitmap block. All must still be clear — a record of
 *   another partition can have taken the same agentId + sequenceNumber since this worker read the block — or nothing
 *   is written and the reply is {2, key, offset}. Then they are set, and each block's TTL (`t`, ms) renewed.
 * - `g`: [[deviceKey, trustLevelJSON, decisionJSON]] a computed trust level is written only when the device's
 *   userDecision is still the one the worker saw ('' = none): a user's decision is never overwritten by a worker
 *   that had not seen it yet.
 * - `x`: commands, encoded as for FENCED_EXEC (a number n stands for ARGV[n]).
 * - `e`: the control-epoch key, whose value is returned (the worker's cue to re-read device controls).
 * - `k`: [[key, field]] the batch's calibration keys (HEXISTS key field) and device-event keys (field '': EXISTS
 *   key): likewise all must still be absent, or nothing is written and the reply is {2, key, field}. Besides a key
 *   reused across partitions, this catches the commit itself run twice: ioredis resends a command whose reply was
 *   lost to a reconnect, and the effects other than these keys (counters, calibration samples, changelog) are not
 *   idempotent.
 * Returns {1, result of the last command of x, epoch}, {0} when fenced out, or {2, key, offset or field} on a taken
 * key.
 */
const COMMIT = `
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
end
local spec = cjson.decode(ARGV[2])
local function bits(cmdName, key, offsets, set)
  local replies = {}
  for from = 1, #offsets, 2000 do
    local cmd = {cmdName, key}
    for j = from, math.min(#offsets, from + 1999) do
      cmd[#cmd + 1] = set and 'SET' or 'GET'
      cmd[#cmd + 1] = 'u1'
      cmd[#cmd + 1] = offsets[j]
      if set then cmd[#cmd + 1] = 1 end
    end
    local r = redis.call(unpack(cmd))
    for j = 1, #r do replies[#replies + 1] = r[j] end
  end
  return replies
end
for _, b in ipairs(spec.b) do
  local got = bits('BITFIELD_RO', b[1], b[2], false)
  for j = 1, #got do
    if got[j] == 1 then return {2, b[1], b[2][j]} end
  end
end
for _, k in ipairs(spec.k) do
  if k[2] == '' then
    if redis.call('EXISTS', k[1]) == 1 then return {2, k[1], ''} end
  elseif redis.call('HEXISTS', k[1], k[2]) == 1 then
    return {2, k[1], k[2]}
  end
end
for _, b in ipairs(spec.b) do
  bits('BITFIELD', b[1], b[2], true)
  redis.call('PEXPIRE', b[1], spec.t)
end
for _, g in ipairs(spec.g) do
  if (redis.call('HGET', g[1], 'userDecision') or '') == g[3] then
    redis.call('HSET', g[1], 'trustLevel', g[2])
  end
end
local last = false
for _, c in ipairs(spec.x) do
  for j = 1, #c do
    if type(c[j]) == 'number' then c[j] = ARGV[c[j]] end
  end
  last = redis.call(unpack(c))
end
return {1, last, redis.call('GET', spec.e) or '0'}
`;

type ScriptName = 'sbpFencedExec' | 'sbpPrepare' | 'sbpPrepareBuffer' | 'sbpCommit';
/** A command argument: text, or bytes (serialised device states). */
export type RedisArg = string | Buffer;
const SOURCES = { fencedExec: FENCED_EXEC, prepare: PREPARE, commit: COMMIT };

type ScriptClient = Redis & Record<ScriptName, (...args: Array<RedisArg | number>) => Promise<unknown>>;

function withScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.sbpFencedExec !== 'function') {
    // defineCommand caches the script by SHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    client.defineCommand('sbpFencedExec', { lua: SOURCES.fencedExec });
    client.defineCommand('sbpPrepare', { numberOfKeys: 0, lua: SOURCES.prepare });
    client.defineCommand('sbpCommit', { lua: SOURCES.commit });
  }
  return client;
}

/** Arguments longer than this travel as their own ARGV entry rather than inside the JSON (no escaping). */
const INLINE_MAX = 256;

/** Runs `commands` atomically; returns false when fenced out, else the last command's reply. */
export async function fencedExec(
  redis: Redis,
  commands: readonly (readonly RedisArg[])[],
  fence: { leaseKey: string; token: string } | null,
): Promise<{ ok: boolean; last: unknown }> {
  const blobs: RedisArg[] = [];
  const encoded = encodeCommands(commands, blobs);
  const client = withScripts(redis);
  const args: RedisArg[] = [fence?.token ?? '', JSON.stringify(encoded), ...blobs];
  const reply = (await (fence === null
    ? client.sbpFencedExec(0, ...args)
    : client.sbpFencedExec(1, fence.leaseKey, ...args))) as [number, unknown?];
  return { ok: reply[0] === 1, last: reply[1] };
}

/** Long arguments become references to their own ARGV entry (pushed onto `blobs`; ARGV[1..2] are taken). */
function encodeCommands(
  commands: readonly (readonly RedisArg[])[],
  blobs: RedisArg[],
): Array<Array<string | number>> {
  return commands.map((cmd) =>
    cmd.map((arg) => {
      if (typeof arg === 'string' && arg.length <= INLINE_MAX) return arg;
      blobs.push(arg);
      return blobs.length + 2;
    }),
  );
}

export interface CommitSpec {
  /** Probe bits to check clear, then set: per bitmap block key, the bit offsets. */
  bits: ReadonlyArray<readonly [string, readonly number[]]>;
  /** Bitmap blocks' TTL, ms. */
  ttlMs: number;
  /** Calibration keys [hash, field] and device-event keys [key, ''] to check absent (the commands set them). */
  keys: ReadonlyArray<readonly [string, string]>;
  /** Computed trust levels: [device key, trustLevel JSON, the userDecision JSON the worker saw or '']. */
  trust: ReadonlyArray<readonly [string, string, string]>;
  commands: readonly (readonly RedisArg[])[];
  epochKey: string;
}

export type CommitReply =
  | { outcome: 'committed'; last: unknown; epoch: string }
  | { outcome: 'fenced' }
  /** `at`: the probe's bit offset, the calibration's hash field, or '' for a device-event key. */
  | { outcome: 'taken'; key: string; at: string };

/** Runs a batch's commit script (COMMIT above). */
export async function fencedCommit(
  redis: Redis,
  spec: CommitSpec,
  fence: { leaseKey: string; token: string } | null,
): Promise<CommitReply> {
  const blobs: RedisArg[] = [];
  const json = JSON.stringify({
    b: spec.bits,
    t: spec.ttlMs,
    k: spec.keys,
    g: spec.trust,
    x: encodeCommands(spec.commands, blobs),
    e: spec.epochKey,
  });
  const client = withScripts(redis);
  const args: RedisArg[] = [fence?.token ?? '', json, ...blobs];
  const reply = (await (fence === null
    ? client.sbpCommit(0, ...args)
    : client.sbpCommit(1, fence.leaseKey, ...args))) as [number, unknown?, unknown?];
  if (reply[0] === 0) return { outcome: 'fenced' };
  if (reply[0] === 2) return { outcome: 'taken', key: String(reply[1]), at: String(reply[2]) };
  return { outcome: 'committed', last: reply[1], epoch: String(reply[2]) };
}

export type PrepareOp =
  /** A whole probe bitmap block (one reply: its bytes, empty when absent). */
  | { op: 'B'; key: string }
  | { op: 'h'; key: string; field: string }
  | { op: 'e'; key: string }
  /** The control epoch (one reply); a change makes every later d op read. */
  | { op: 'E'; key: string; expected: string }
  /** trustLevel and userDecision JSON ('' when absent), or '~' '~' when cached and the epoch did not change. */
  | { op: 'd'; key: string; cached: boolean };

/** Runs the read-only prepare script; replies as Buffers (blocks are binary) or integers. */
export async function prepareReads(redis: Redis, ops: readonly PrepareOp[]): Promise<Array<Buffer | number>> {
  if (ops.length === 0) return [];
  const encoded = ops.map((o) => {
    switch (o.op) {
      case 'B':
      case 'e':
        return [o.op, o.key];
      case 'h':
        return ['h', o.key, o.field];
      case 'E':
        return ['E', o.key, o.expected];
      case 'd':
        return ['d', o.key, o.cached ? 1 : 0];
      default:
        throw new Error(`unknown prepare op ${(o satisfies never as PrepareOp).op}`);
    }
  });
  return (await withScripts(redis).sbpPrepareBuffer(JSON.stringify(encoded))) as Array<Buffer | number>;
}
