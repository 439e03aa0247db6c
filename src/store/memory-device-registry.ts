import type { DevicePatch, DeviceRecord, DeviceRegistry } from './device-registry.js';

/**
 * A device registry in a Map: nothing survives a restart. For tests and for a hub run without a pipeline; the
 * pipeline's embedded and Redis registries are the durable ones. Records are copied in and out, so callers cannot
 * change the stored state by mutating what they got.
 */
export class MemoryDeviceRegistry implements DeviceRegistry {
  readonly #records = new Map<string, DeviceRecord>();

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const record = this.#records.get(deviceId);
    return record === undefined ? undefined : structuredClone(record);
  }

  async list(): Promise<DeviceRecord[]> {
    return [...this.#records.values()].map((r) => structuredClone(r));
  }

  async upsert(
    deviceId: string,
    agentId: string,
    patch: DevicePatch,
    now: Date = new Date(),
  ): Promise<DeviceRecord> {
    const at = now.toISOString();
    const previous: DeviceRecord = this.#records.get(deviceId) ?? {
      deviceId,
      agentId,
      firstSeen: at,
      lastSeen: at,
      online: true,
      trustLevel: 'unknown',
    };
    const { userDecision, ...rest } = structuredClone(patch);
    const next: DeviceRecord = { ...previous, ...rest, deviceId, agentId };
    if (userDecision === null) delete next.userDecision;
    else if (userDecision !== undefined) next.userDecision = userDecision;
    this.#records.set(deviceId, next);
    return structuredClone(next);
  }

  async close(): Promise<void> {}
}
