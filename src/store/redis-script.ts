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
 * Reads without side effects, ARGV[1] = JSON list of ops: ["b", key, [offsets]] one BITFIELD_RO per bitmap block,
 * ["h", key, field] HEXISTS, ["e", key] EXISTS, ["d", key] HMGET trustLevel userDecision. Replies in order.
 */
const PREPARE = `
local out = {}
for _, op in ipairs(cjson.decode(ARGV[1])) do
  local kind = op[1]
  if kind == 'b' then
    local cmd = {'BITFIELD_RO', op[2]}
    for _, offset in ipairs(op[3]) do
      cmd[#cmd + 1] = 'GET'
      cmd[#cmd + 1] = 'u1'
      cmd[#cmd + 1] = offset
    end
    local bits = redis.call(unpack(cmd))
    for j = 1, #op[3] do out[#out + 1] = bits[j] end
  elseif kind == 'h' then
    out[#out + 1] = redis.call('HEXISTS', op[2], op[3])
  elseif kind == 'e' then
    out[#out + 1] = redis.call('EXISTS', op[2])
  else
    local v = redis.call('HMGET', op[2], 'trustLevel', 'userDecision')
    out[#out + 1] = v[1] or ''
    out[#out + 1] = v[2] or ''
  end
end
return out
`;

type ScriptName = 'sbpFencedExec' | 'sbpPrepare';
/** A command argument: text, or bytes (serialised device states). */
export type RedisArg = string | Buffer;
const SOURCES = { fencedExec: FENCED_EXEC, prepare: PREPARE };

type ScriptClient = Redis & Record<ScriptName, (...args: Array<RedisArg | number>) => Promise<unknown>>;

function withScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.sbpFencedExec !== 'function') {
    // defineCommand caches the script by SHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    client.defineCommand('sbpFencedExec', { lua: SOURCES.fencedExec });
    client.defineCommand('sbpPrepare', { numberOfKeys: 0, lua: SOURCES.prepare });
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
  const encoded = commands.map((cmd) =>
    cmd.map((arg) => {
      if (typeof arg === 'string' && arg.length <= INLINE_MAX) return arg;
      blobs.push(arg);
      // ARGV[1] is the token, ARGV[2] the JSON: blobs start at 3.
      return blobs.length + 2;
    }),
  );
  const client = withScripts(redis);
  const args: RedisArg[] = [fence?.token ?? '', JSON.stringify(encoded), ...blobs];
  const reply = (await (fence === null
    ? client.sbpFencedExec(0, ...args)
    : client.sbpFencedExec(1, fence.leaseKey, ...args))) as [number, unknown?];
  return { ok: reply[0] === 1, last: reply[1] };
}

export type PrepareOp =
  /** Bits of one bitmap block (one reply per offset). */
  | { op: 'b'; key: string; offsets: readonly number[] }
  | { op: 'h'; key: string; field: string }
  | { op: 'e'; key: string }
  | { op: 'd'; key: string };

/** Runs the read-only prepare script: one reply per offset of a b op, one per h/e op, two (trustLevel, userDecision JSON or '') per d op. */
export async function prepareReads(redis: Redis, ops: readonly PrepareOp[]): Promise<Array<number | string>> {
  if (ops.length === 0) return [];
  const encoded = ops.map((o) => {
    if (o.op === 'b') return ['b', o.key, o.offsets];
    if (o.op === 'h') return ['h', o.key, o.field];
    return [o.op, o.key];
  });
  return (await withScripts(redis).sbpPrepare(JSON.stringify(encoded))) as Array<number | string>;
}
