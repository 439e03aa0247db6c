import type { DevicePatch, DeviceRecord } from './device-registry.js';
import type { RedisKeys } from './redis-keys.js';

// A device is a Redis hash whose fields are DeviceRecord's top-level keys, each holding the field's JSON. Merging
// a patch is then plain HSET (no read-modify-write, no JSON in Lua), which matches the registry's shallow merge.

/** Redis commands (name + args) that upsert one device; run inside one script so the upsert is atomic. */
export function deviceUpsertCommands(
  keys: RedisKeys,
  deviceId: string,
  agentId: string,
  patch: DevicePatch,
  now: Date,
): string[][] {
  const key = keys.device(deviceId);
  const iso = JSON.stringify(now.toISOString());
  const cmds: string[][] = [
    ['HSETNX', key, 'deviceId', JSON.stringify(deviceId)],
    ['HSETNX', key, 'firstSeen', patch.firstSeen === undefined ? iso : JSON.stringify(patch.firstSeen)],
    ['HSETNX', key, 'trustLevel', JSON.stringify('unknown')],
    ['HSETNX', key, 'online', 'true'],
    ['SADD', keys.devices, deviceId],
  ];
  const set: string[] = ['HSET', key, 'agentId', JSON.stringify(agentId), 'lastSeen', iso];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || field === 'firstSeen') continue;
    if (value === null) {
      // `userDecision: null` clears the user's decision (DevicePatch).
      cmds.push(['HDEL', key, field]);
      continue;
    }
    if (field === 'lastSeen' || field === 'agentId') {
      set[field === 'agentId' ? 3 : 5] = JSON.stringify(value);
      continue;
    }
    set.push(field, JSON.stringify(value));
  }
  cmds.push(set);
  return cmds;
}

/** Decodes HGETALL of a device hash; undefined when the hash is empty. */
export function decodeDeviceHash(fields: Record<string, string>): DeviceRecord | undefined {
  if (fields.deviceId === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(fields)) {
    try {
      out[field] = JSON.parse(text);
    } catch {
      // A field written by something else than this module: keep it as text rather than failing the read.
      out[field] = text;
    }
  }
  return out as unknown as DeviceRecord;
}

/** Decodes the flat [field, value, …] array HGETALL returns inside a script. */
export function decodeFlatHash(flat: readonly string[]): DeviceRecord | undefined {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return decodeDeviceHash(fields);
}

/** Merges a patch the way both registries do (the lmdb one in JS, the Redis one with HSETNX/HSET). */
export function mergeDevice(
  existing: DeviceRecord | undefined,
  deviceId: string,
  agentId: string,
  patch: DevicePatch,
  now: Date,
): DeviceRecord {
  const iso = now.toISOString();
  const base: DeviceRecord = existing ?? {
    deviceId,
    agentId,
    firstSeen: patch.firstSeen ?? iso,
    lastSeen: iso,
    online: true,
    trustLevel: 'unknown',
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || field === 'firstSeen') continue;
    if (value === null) delete merged[field];
    else merged[field] = value;
  }
  merged.deviceId = deviceId;
  merged.agentId = patch.agentId ?? agentId;
  merged.lastSeen = patch.lastSeen ?? iso;
  return merged as unknown as DeviceRecord;
}
