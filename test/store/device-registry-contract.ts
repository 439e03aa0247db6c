import { expect, it } from 'vitest';
import type { DeviceRegistry } from '../../src/store/device-registry.js';

/** The DeviceRegistry contract, run against every durable implementation. */
export function registryContract(
  open: () => Promise<{ registry: DeviceRegistry; reopen: () => Promise<DeviceRegistry> }>,
) {
  it('creates a record with defaults, merges patches shallowly, and clears userDecision with null', async () => {
    const { registry, reopen } = await open();
    const t0 = new Date('2025-06-16T18:45:00.000Z');
    const created = await registry.upsert('d1', 'agent-1', { hostname: 'tv', services: [] }, t0);
    expect(created).toEqual({
      deviceId: 'd1',
      agentId: 'agent-1',
      firstSeen: t0.toISOString(),
      lastSeen: t0.toISOString(),
      online: true,
      trustLevel: 'unknown',
      hostname: 'tv',
      services: [],
    });
    const t1 = new Date('2025-06-16T18:46:00.000Z');
    const merged = await registry.upsert(
      'd1',
      'agent-2',
      { location: { x: 1.5, y: 2.25, confidence: 0.8 }, userDecision: 'approved', trustLevel: 'trusted' },
      t1,
    );
    expect(merged).toMatchObject({
      agentId: 'agent-2',
      firstSeen: t0.toISOString(),
      lastSeen: t1.toISOString(),
      hostname: 'tv',
      userDecision: 'approved',
      trustLevel: 'trusted',
      location: { x: 1.5, y: 2.25, confidence: 0.8 },
    });
    const cleared = await registry.upsert('d1', 'agent-2', { userDecision: null, trustLevel: 'unknown' }, t1);
    expect(cleared.userDecision).toBeUndefined();
    await registry.upsert('d0', 'agent-1', { online: false }, t1);
    expect((await registry.list()).map((d) => d.deviceId)).toEqual(['d0', 'd1']);
    expect(await registry.get('nope')).toBeUndefined();
    const again = await reopen();
    expect(await again.get('d1')).toEqual(cleared);
  });
}
