import type { Severity, TrustAlert, TrustLevel, TrustUpdate } from '../../protocol/index.js';
import type { DeviceProfile, TrustAssessment } from '../contracts/behaviour.js';
import { isLocallyAdministered } from './oui.js';

/*
 * What the worker sends when a device's trust assessment changes: a trustUpdate when the level changes (or on the
 * first assessment), with every factor, and trustAlerts on transitions only — a factor crossing into "bad", never
 * the same alert on every assessment.
 *
 *   alert              when (compared with the previous assessment)                 severity
 *   port_scan          scanning_behaviour falls below 0.5                            high (critical < 0.2)
 *   vendor_mismatch    vendor_consistency becomes 0                                  medium
 *   mac_randomization  first assessment of an unapproved device with a randomised MAC low
 *   new_device         first assessment of a device the owner has not approved       low
 *   anomalous_behavior anomaly_history falls below 0.5                               medium
 *   trust_degraded     level falls to suspicious or untrusted                        medium / high
 */

export type TrustUpdateData = TrustUpdate['data'];
export type TrustAlertData = TrustAlert['data'];

export interface TrustMessages {
  trustUpdate?: TrustUpdateData;
  trustAlerts: TrustAlertData[];
}

const RANK: Record<TrustLevel, number> = { trusted: 4, unknown: 3, suspicious: 2, untrusted: 1, blocked: 0 };

function value(a: TrustAssessment | null, name: string): number | undefined {
  return a?.factors.find((f) => f.name === name)?.value;
}

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** Why the level moved: the user's decision, else the factor whose weighted value changed most. */
function reasonFor(prev: TrustAssessment | null, next: TrustAssessment, profile: DeviceProfile): string {
  if (profile.userDecision === 'approved') return 'user_approved';
  if (profile.userDecision === 'blocked') return 'user_blocked';
  if (prev === null) return 'first_assessment';
  let best = 'behavior_analysis';
  let delta = 0;
  for (const f of next.factors) {
    const before = value(prev, f.name);
    if (before === undefined) continue;
    const d = Math.abs((f.value - before) * f.weight);
    if (d > delta) {
      delta = d;
      best = f.name;
    }
  }
  return best;
}

/**
 * The protocol `data` of the messages a trust change calls for (validated by the zod schemas in the tests).
 * `prev` is null on a device's first assessment; `newId` names each alert (`alertId`).
 */
export function trustMessages(
  prev: TrustAssessment | null,
  next: TrustAssessment,
  profile: DeviceProfile,
  newId: () => string,
): TrustMessages {
  const out: TrustMessages = { trustAlerts: [] };
  const previousTrust: TrustLevel = prev?.level ?? 'unknown';
  if (prev === null || prev.level !== next.level) {
    out.trustUpdate = {
      deviceId: profile.deviceId,
      previousTrust,
      newTrust: next.level,
      reason: reasonFor(prev, next, profile),
      confidence: round(next.confidence),
      behaviorScore: Math.round(next.score * 1000) / 10,
      factors: next.factors.map((f) => ({ ...f, value: round(f.value), weight: round(f.weight) })),
    };
  }
  if (profile.userDecision !== undefined) return out;
  const alert = (
    alertType: TrustAlertData['alertType'],
    severity: Severity,
    description: string,
    recommendedAction: string,
    evidence: TrustAlertData['evidence'],
  ) =>
    out.trustAlerts.push({
      alertId: newId(),
      deviceId: profile.deviceId,
      severity,
      alertType,
      description,
      evidence: { ...evidence, trustScore: round(next.score) },
      recommendedAction,
      autoBlocked: false,
    });
  const crossed = (name: string, below: number) => {
    const now = value(next, name);
    const before = value(prev, name);
    return now !== undefined && now < below && (before === undefined || before >= below);
  };
  if (crossed('scanning_behaviour', 0.5)) {
    const v = value(next, 'scanning_behaviour')!;
    alert(
      'port_scan',
      v < 0.2 ? 'critical' : 'high',
      'The device is scanning ports and opening connections to other hosts',
      'block_device',
      { portScans: profile.portScans, connectionAttempts: profile.connectionAttempts },
    );
  }
  if (crossed('vendor_consistency', 0.01)) {
    alert(
      'vendor_mismatch',
      'medium',
      `The MAC address vendor does not match the claimed vendor ${profile.vendor ?? ''}`.trim(),
      'verify_device_identity',
      { claimedVendor: profile.vendor ?? '', macAddress: profile.macAddress ?? '' },
    );
  }
  if (prev === null) {
    const mac = profile.macAddress;
    if (mac !== undefined && isLocallyAdministered(mac)) {
      alert(
        'mac_randomization',
        'low',
        'New device with a randomised (locally administered) MAC address',
        'review_device',
        { macAddress: mac },
      );
    }
    alert('new_device', 'low', 'A device the owner has not approved joined the network', 'review_device', {
      vendor: profile.vendor ?? 'unknown',
      deviceType: profile.deviceType ?? 'unknown',
    });
  }
  if (crossed('anomaly_history', 0.5)) {
    alert(
      'anomalous_behavior',
      'medium',
      'The device has raised several anomalies recently',
      'investigate_device',
      { anomalies: profile.anomalyTimes.length },
    );
  }
  if (prev !== null && RANK[next.level] < RANK[prev.level] && RANK[next.level] <= RANK.suspicious) {
    alert(
      'trust_degraded',
      next.level === 'untrusted' ? 'high' : 'medium',
      `Trust fell from ${prev.level} to ${next.level}`,
      next.level === 'untrusted' ? 'block_device' : 'investigate_device',
      { previousScore: round(prev.score), previousTrust: prev.level },
    );
  }
  return out;
}
