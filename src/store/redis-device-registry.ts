import type { Redis } from 'ioredis';
import { decodeDeviceHash, decodeFlatHash, deviceUpsertCommands } from './device-hash.js';
import type { DevicePatch, DeviceRecord, DeviceRegistry } from './device-registry.js';
import type { RedisKeys } from './redis-keys.js';
import { fencedExec } from './redis-script.js';

/** The device registry in Redis: one hash per device plus a set of ids. Shared by every hub and worker. */
export class RedisDeviceRegistry implements DeviceRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    return decodeDeviceHash(await this.redis.hgetall(this.keys.device(deviceId)));
  }

  async list(): Promise<DeviceRecord[]> {
    const ids = await this.redis.smembers(this.keys.devices);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.device(id));
    const replies = (await pipeline.exec()) ?? [];
    const out: DeviceRecord[] = [];
    for (const [error, fields] of replies) {
      if (error) throw error;
      const record = decodeDeviceHash(fields as Record<string, string>);
      if (record) out.push(record);
    }
    return out.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  async upsert(
    deviceId: string,
    agentId: string,
    patch: DevicePatch,
    now: Date = new Date(),
  ): Promise<DeviceRecord> {
    const commands = deviceUpsertCommands(this.keys, deviceId, agentId, patch, now);
    // Workers cache what they obey (trustLevel, userDecision); moving the epoch tells them to read it again.
    if (patch.trustLevel !== undefined || patch.userDecision !== undefined) {
      commands.push(['INCR', this.keys.controlEpoch]);
    }
    commands.push(['HGETALL', this.keys.device(deviceId)]);
    const { last } = await fencedExec(this.redis, commands, null);
    const record = decodeFlatHash(last as string[]);
    if (!record) throw new Error(`device ${deviceId} vanished during upsert`);
    return record;
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened the pipeline.
  }
}
