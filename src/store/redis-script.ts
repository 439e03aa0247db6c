import type { Redis } from 'ioredis';

/**
 * One Lua script that runs a list of commands atomically, optionally fenced: when a lease key and token are given,
 * nothing runs unless the lease still holds that token (a worker that lost its partition cannot write).
 *
 * KEYS[1] lease key (or none); ARGV[1] token ('' = unfenced); then per command: argc, name, args…
 * Returns {1, result of the last command} or {0} when fenced out.
 */
const FENCED_EXEC = `
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
end
local i = 2
local n = #ARGV
local last = false
while i <= n do
  local argc = tonumber(ARGV[i])
  last = redis.call(unpack(ARGV, i + 1, i + argc))
  i = i + argc + 1
end
return {1, last}
`;

/** Reads without side effects: per probe key GETBIT, per calibration HEXISTS, per event EXISTS, per device HMGET. */
const PREPARE = `
local out = {}
local i = 1
local n = #ARGV
while i <= n do
  local kind = ARGV[i]
  if kind == 'b' then
    out[#out + 1] = redis.call('GETBIT', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif kind == 'h' then
    out[#out + 1] = redis.call('HEXISTS', ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  elseif kind == 'e' then
    out[#out + 1] = redis.call('EXISTS', ARGV[i + 1])
    i = i + 2
  else
    local v = redis.call('HMGET', ARGV[i + 1], 'trustLevel', 'userDecision')
    out[#out + 1] = v[1] or ''
    out[#out + 1] = v[2] or ''
    i = i + 2
  end
end
return out
`;

type ScriptName = 'fencedExec' | 'prepare';
/** A command argument: text, or bytes (serialised device states). */
export type RedisArg = string | Buffer;
const SOURCES: Record<ScriptName, string> = { fencedExec: FENCED_EXEC, prepare: PREPARE };

type ScriptClient = Redis & Record<ScriptName, (...args: Array<RedisArg | number>) => Promise<unknown>>;

function withScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.fencedExec !== 'function') {
    // defineCommand caches the script by SHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
    client.defineCommand('fencedExec', { lua: SOURCES.fencedExec });
    client.defineCommand('prepare', { numberOfKeys: 0, lua: SOURCES.prepare });
  }
  return client;
}

/** Runs `commands` atomically; returns false when fenced out, else the last command's reply. */
export async function fencedExec(
  redis: Redis,
  commands: readonly (readonly RedisArg[])[],
  fence: { leaseKey: string; token: string } | null,
): Promise<{ ok: boolean; last: unknown }> {
  const args: RedisArg[] = [fence?.token ?? ''];
  for (const cmd of commands) args.push(String(cmd.length), ...cmd);
  const keys = fence === null ? 0 : 1;
  const client = withScripts(redis);
  const reply = (await (fence === null
    ? client.fencedExec(keys, ...args)
    : client.fencedExec(keys, fence.leaseKey, ...args))) as [number, unknown?];
  return { ok: reply[0] === 1, last: reply[1] };
}

export type PrepareOp =
  | { op: 'b'; key: string; offset: number }
  | { op: 'h'; key: string; field: string }
  | { op: 'e'; key: string }
  | { op: 'd'; key: string };

/** Runs the read-only prepare script; one reply per b/h/e op, two (trustLevel, userDecision JSON or '') per d op. */
export async function prepareReads(redis: Redis, ops: readonly PrepareOp[]): Promise<Array<number | string>> {
  if (ops.length === 0) return [];
  const args: Array<string | number> = [];
  for (const o of ops) {
    if (o.op === 'b') args.push('b', o.key, o.offset);
    else if (o.op === 'h') args.push('h', o.key, o.field);
    else args.push(o.op, o.key);
  }
  return (await withScripts(redis).prepare(...args)) as Array<number | string>;
}
