import { describe, expect, it } from 'vitest';
import type { DeviceProfile } from '../../../src/models/contracts/behaviour.js';
import { isLocallyAdministered, ouiOf, vendorOfMac } from '../../../src/models/trust/oui.js';
import {
  newProfile,
  recordAnomaly,
  updateProfile,
  withUserDecision,
} from '../../../src/models/trust/profile.js';
import { trustMessages } from '../../../src/models/trust/trust-messages.js';
import { createTrustModel, TRUST_WEIGHTS } from '../../../src/models/trust/trust-model.js';
import { makeMessage, TrustAlert, TrustUpdate } from '../../../src/protocol/index.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 20);
const trust = createTrustModel();

/** A known Sonos speaker, seen for two weeks. */
function speaker(over: Partial<DeviceProfile> = {}): DeviceProfile {
  return {
    ...newProfile('48:a6:b8:01:02:03', NOW - 14 * DAY),
    macAddress: '48:a6:b8:01:02:03',
    vendor: 'Sonos, Inc.',
    deviceType: 'speaker',
    ...over,
  };
}

let n = 0;
const nextId = () => `alert_${++n}`;

function validUpdate(data: unknown) {
  const r = TrustUpdate.safeParse(makeMessage('trustUpdate', 'hub', data as TrustUpdate['data']));
  expect(r.success, r.success ? '' : JSON.stringify(r.error.issues)).toBe(true);
}
function validAlert(data: unknown) {
  const r = TrustAlert.safeParse(makeMessage('trustAlert', 'hub', data as TrustAlert['data']));
  expect(r.success, r.success ? '' : JSON.stringify(r.error.issues)).toBe(true);
}

describe('trust score', () => {
  it('reads the OUI table and the locally administered bit', () => {
    expect(ouiOf('aa-bb-cc-dd-ee-ff')).toBe('AA:BB:CC');
    expect(vendorOfMac('b8:27:eb:00:00:01')?.key).toBe('raspberry');
    expect(vendorOfMac('12:34:56:00:00:01')).toBeNull();
    expect(isLocallyAdministered('da:a1:19:00:00:01')).toBe(true);
    expect(isLocallyAdministered('f0:18:98:00:00:01')).toBe(false);
  });

  it('explains itself: seven named factors whose weights sum to 1, score = weighted mean', () => {
    const a = trust.assess(speaker(), NOW);
    expect(a.factors.map((f) => f.name)).toEqual(Object.keys(TRUST_WEIGHTS));
    expect(a.factors.reduce((s, f) => s + f.weight, 0)).toBeCloseTo(1, 12);
    expect(a.score).toBeCloseTo(
      a.factors.reduce((s, f) => s + f.weight * f.value, 0),
      12,
    );
    for (const f of a.factors) expect(f.detail?.length).toBeGreaterThan(0);
  });

  it('an owner-approved device is trusted, a blocked one blocked', () => {
    const approved = trust.assess(withUserDecision(speaker({ firstSeen: NOW - DAY / 24 }), 'approved'), NOW);
    expect(approved.level).toBe('trusted');
    expect(approved.confidence).toBeGreaterThan(0.95);
    expect(trust.assess(withUserDecision(speaker(), 'blocked'), NOW).level).toBe('blocked');
    const fresh = trust.assess(speaker({ firstSeen: NOW - DAY / 24 }), NOW);
    expect(fresh.level).toBe('unknown');
    expect(approved.score).toBeGreaterThan(fresh.score);
  });

  it('a randomised MAC lowers the score; a vendor claim the OUI contradicts lowers it more', () => {
    const base = trust.assess(speaker(), NOW).score;
    const randomised = trust.assess(speaker({ macAddress: '4a:a6:b8:01:02:03' }), NOW).score;
    expect(randomised).toBeLessThan(base);
    const liar = trust.assess(speaker({ vendor: 'Apple Inc.' }), NOW);
    expect(liar.score).toBeLessThan(base);
    expect(liar.factors.find((f) => f.name === 'vendor_consistency')?.value).toBe(0);
    const oddType = trust.assess(speaker({ deviceType: 'camera' }), NOW);
    expect(oddType.factors.find((f) => f.name === 'type_consistency')?.value).toBeLessThan(0.5);
  });

  it('anomalies weigh less as they age', () => {
    let p = speaker();
    for (let i = 0; i < 4; i++) p = recordAnomaly(p, NOW - 1000 * i);
    const recent = trust.assess(p, NOW).factors.find((f) => f.name === 'anomaly_history')!.value;
    const later = trust.assess(p, NOW + 21 * DAY).factors.find((f) => f.name === 'anomaly_history')!.value;
    expect(recent).toBeLessThan(0.3);
    expect(later).toBeGreaterThan(recent);
  });

  it('scanning lowers trust and raises a port_scan alert once, on the transition', () => {
    const before = speaker();
    const prev = trust.assess(before, NOW);
    let p = before;
    for (let i = 0; i < 3; i++)
      p = updateProfile(p, { kind: 'update', t: NOW, portScans: 5, connectionAttempts: 25 });
    expect(p.portScans).toBe(15);
    expect(p.connectionAttempts).toBe(75);
    const next = trust.assess(p, NOW);
    expect(next.score).toBeLessThan(prev.score);
    const msgs = trustMessages(prev, next, p, nextId);
    const scan = msgs.trustAlerts.find((a) => a.alertType === 'port_scan');
    expect(scan?.severity).toMatch(/high|critical/);
    expect(scan?.evidence.portScans).toBe(15);
    for (const a of msgs.trustAlerts) validAlert(a);
    // Same state again: no repeated alert.
    expect(trustMessages(next, next, p, nextId).trustAlerts).toHaveLength(0);
    // Ordinary connections without scanning do not count as scanning.
    expect(updateProfile(before, { kind: 'update', t: NOW, connectionAttempts: 30 })).toBe(before);
  });

  it('builds trustUpdate with visible factors on the first assessment and on level changes', () => {
    const p = speaker({ firstSeen: NOW - DAY / 24, macAddress: '4a:a6:b8:01:02:03' });
    const first = trust.assess(p, NOW);
    const m = trustMessages(null, first, p, nextId);
    expect(m.trustUpdate?.previousTrust).toBe('unknown');
    expect(m.trustUpdate?.factors).toHaveLength(7);
    validUpdate(m.trustUpdate);
    expect(m.trustAlerts.map((a) => a.alertType).sort()).toEqual(['mac_randomization', 'new_device']);
    for (const a of m.trustAlerts) validAlert(a);
    const approvedProfile = withUserDecision(p, 'approved');
    const approved = trustMessages(first, trust.assess(approvedProfile, NOW), approvedProfile, nextId);
    expect(approved.trustUpdate?.newTrust).toBe('trusted');
    expect(approved.trustUpdate?.reason).toBe('user_approved');
    validUpdate(approved.trustUpdate);
    expect(trustMessages(first, first, p, nextId).trustUpdate).toBeUndefined();
  });

  it('degrading to untrusted raises trust_degraded', () => {
    const good = speaker();
    let bad = good;
    for (let i = 0; i < 10; i++) bad = recordAnomaly(bad, NOW - i);
    bad = updateProfile(bad, { kind: 'update', t: NOW, portScans: 60, connectionAttempts: 300 });
    bad = { ...bad, vendor: 'Apple' };
    const next = trust.assess(bad, NOW);
    expect(['suspicious', 'untrusted']).toContain(next.level);
    const m = trustMessages(trust.assess(good, NOW), next, bad, nextId);
    expect(m.trustAlerts.map((a) => a.alertType)).toContain('trust_degraded');
    validUpdate(m.trustUpdate);
  });
});
