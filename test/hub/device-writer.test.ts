import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeviceWriter } from '../../src/hub/device-writer.js';
import { HubMetrics } from '../../src/hub/hub-metrics.js';
import type { DevicePatch, DeviceRecord, DeviceRegistry } from '../../src/store/device-registry.js';
import { MemoryDeviceRegistry } from '../../src/store/memory-device-registry.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A registry whose upserts take a random time and record the order they ran in, per device. */
class SlowRegistry implements DeviceRegistry {
  readonly inner = new MemoryDeviceRegistry();
  readonly order: string[] = [];
  running = 0;
  maxRunning = 0;
  failOn: string | undefined;
  get(id: string) {
    return this.inner.get(id);
  }
  list() {
    return this.inner.list();
  }
  async upsert(id: string, agentId: string, patch: DevicePatch): Promise<DeviceRecord> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await sleep(Math.random() * 5);
    this.running--;
    if (patch.hostname === this.failOn) throw new Error('store unavailable');
    this.order.push(`${id}:${patch.hostname}`);
    return this.inner.upsert(id, agentId, patch);
  }
  async close() {}
}

describe('DeviceWriter', () => {
  it('applies the writes of one device in arrival order, and of different devices concurrently', async () => {
    const registry = new SlowRegistry();
    const writer = new DeviceWriter(registry, 1000, log, new HubMetrics(new Registry()));
    for (let i = 0; i < 20; i++) {
      for (const d of ['a', 'b', 'c'])
        writer.enqueue(d, (r) => r.upsert(d, 'agent', { hostname: String(i) }));
    }
    expect(writer.pending).toBe(60);
    await writer.idle();
    for (const d of ['a', 'b', 'c']) {
      const mine = registry.order.filter((o) => o.startsWith(`${d}:`));
      expect(mine).toEqual([...Array(20).keys()].map((i) => `${d}:${i}`));
    }
    expect(registry.maxRunning).toBeGreaterThan(1);
    expect((await registry.get('a'))?.hostname).toBe('19');
  });

  it('counts failed writes and skipped writes beyond the bound, and keeps going', async () => {
    const registry = new SlowRegistry();
    registry.failOn = 'bad';
    const metrics = new HubMetrics(new Registry());
    const writer = new DeviceWriter(registry, 3, log, metrics);
    writer.enqueue('a', (r) => r.upsert('a', 'x', { hostname: 'bad' }));
    writer.enqueue('a', (r) => r.upsert('a', 'x', { hostname: 'good' }));
    writer.enqueue('b', (r) => r.upsert('b', 'x', { hostname: 'one' }));
    expect(writer.enqueue('c', (r) => r.upsert('c', 'x', { hostname: 'skipped' }))).toBe(false);
    await writer.idle();
    expect(registry.order.sort()).toEqual(['a:good', 'b:one']);
    expect((await metrics.registryErrors.get()).values[0]?.value).toBe(1);
    expect((await metrics.registrySkipped.get()).values[0]?.value).toBe(1);
    // run() gives the caller the task's own result or error, in the device's order.
    await expect(writer.run('a', (r) => r.upsert('a', 'x', { hostname: 'bad' }))).rejects.toThrow(
      'store unavailable',
    );
    expect((await writer.run('a', (r) => r.get('a')))?.hostname).toBe('good');
  });
});
