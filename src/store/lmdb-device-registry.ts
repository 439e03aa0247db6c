import type { Database } from 'lmdb';
import { mergeDevice } from './device-hash.js';
import type { DevicePatch, DeviceRecord, DeviceRegistry } from './device-registry.js';

/**
 * The embedded device registry: one lmdb record per device. The database must be opened with `cache: true` so a
 * read sees writes not yet flushed (lmdb-js batches writes asynchronously).
 */
export class LmdbDeviceRegistry implements DeviceRegistry {
  private lastWrite: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database<DeviceRecord, string>) {}

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.getSync(deviceId);
  }

  getSync(deviceId: string): DeviceRecord | undefined {
    return this.db.get(deviceId);
  }

  async list(): Promise<DeviceRecord[]> {
    // A range read sees only committed writes (the cache serves point reads); wait for ours.
    await this.lastWrite;
    return [...this.db.getRange({}).map(({ value }) => value)];
  }

  async upsert(
    deviceId: string,
    agentId: string,
    patch: DevicePatch,
    now: Date = new Date(),
  ): Promise<DeviceRecord> {
    return this.upsertSync(deviceId, agentId, patch, now);
  }

  /** Merges and queues the write; the returned record is what every later read sees. */
  upsertSync(deviceId: string, agentId: string, patch: DevicePatch, now: Date = new Date()): DeviceRecord {
    const record = mergeDevice(this.db.get(deviceId), deviceId, agentId, patch, now);
    this.lastWrite = this.db.put(deviceId, record);
    return record;
  }

  async close(): Promise<void> {
    // The environment belongs to the store that opened it.
  }
}
