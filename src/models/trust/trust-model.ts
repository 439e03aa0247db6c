import type { TrustFactor, TrustLevel } from '../../protocol/index.js';
import type { DeviceProfile, TrustAssessment, TrustModel } from '../contracts/behaviour.js';
import { claimMatches, isLocallyAdministered, type OuiVendor, vendorByClaim, vendorOfMac } from './oui.js';

/*
 * An explainable trust score: a weighted mean of named factors, each in [0,1] (1 = trustworthy), every one of
 * them shown to the user (trustUpdate.data.factors). No training: the weights are a documented policy
 * (docs/anomaly.md), and a user's explicit decision overrides the level.
 *
 *   factor               weight  value
 *   owner_approval        0.25   approved 1, blocked 0, no decision 0.5
 *   first_seen_age        0.10   min(1, age / 7 days)
 *   mac_randomisation     0.10   universally administered 1, locally administered (randomised) 0.4, no MAC 0.6
 *   vendor_consistency    0.10   OUI vendor = claimed vendor 1, contradicts it 0, unknown 0.6
 *   type_consistency      0.05   claimed type one the OUI vendor makes 1, not 0.2, unknown 0.6
 *   anomaly_history       0.20   exp(−Σ 2^(−age/7 d) / 2) over anomalies raised for the device
 *   scanning_behaviour    0.20   1 / (1 + port scans / 5 + connection attempts / 50)
 *
 * Levels: blocked (user), trusted (user-approved, or score ≥ 0.8), unknown ≥ 0.55, suspicious ≥ 0.35, else
 * untrusted.
 */

const DAY_MS = 24 * 3_600_000;
export const TRUST_MODEL_VERSION = 'trust-v1';

export const TRUST_WEIGHTS = {
  owner_approval: 0.25,
  first_seen_age: 0.1,
  mac_randomisation: 0.1,
  vendor_consistency: 0.1,
  type_consistency: 0.05,
  anomaly_history: 0.2,
  scanning_behaviour: 0.2,
} as const;
export type TrustFactorName = keyof typeof TRUST_WEIGHTS;

export const TRUST_LEVEL_CUTS = { trusted: 0.8, unknown: 0.55, suspicious: 0.35 } as const;

export interface TrustOptions {
  /** Age at which a device counts as established. @defaultValue 7 days */
  establishedMs?: number;
  /** Half-life of an anomaly's weight in the history factor. @defaultValue 7 days */
  anomalyHalfLifeMs?: number;
}

function factor(name: TrustFactorName, value: number, detail: string): TrustFactor {
  return {
    name,
    value: Math.min(1, Math.max(0, value)),
    weight: TRUST_WEIGHTS[name],
    detail: detail.slice(0, 256),
  };
}

function vendorFactors(profile: DeviceProfile): { vendor: TrustFactor; type: TrustFactor } {
  const mac = profile.macAddress;
  const fromOui: OuiVendor | null = mac ? vendorOfMac(mac) : null;
  let vendor: TrustFactor;
  if (fromOui && profile.vendor) {
    vendor = claimMatches(fromOui, profile.vendor)
      ? factor('vendor_consistency', 1, `OUI ${fromOui.name} matches the claimed vendor`)
      : factor('vendor_consistency', 0, `OUI says ${fromOui.name}, the device claims ${profile.vendor}`);
  } else if (fromOui) {
    vendor = factor('vendor_consistency', 0.8, `OUI ${fromOui.name}; no vendor claimed`);
  } else {
    vendor = factor('vendor_consistency', 0.6, mac ? 'OUI not in the table' : 'no MAC address');
  }
  const maker = fromOui ?? (profile.vendor ? vendorByClaim(profile.vendor) : null);
  let type: TrustFactor;
  if (maker && profile.deviceType) {
    type = maker.types.includes(profile.deviceType)
      ? factor('type_consistency', 1, `${maker.name} makes ${profile.deviceType} devices`)
      : factor('type_consistency', 0.2, `${maker.name} is not known to make ${profile.deviceType} devices`);
  } else {
    type = factor('type_consistency', 0.6, 'vendor or type unknown');
  }
  return { vendor, type };
}

export function trustFactors(
  profile: DeviceProfile,
  nowMs: number,
  options: TrustOptions = {},
): TrustFactor[] {
  const established = options.establishedMs ?? 7 * DAY_MS;
  const halfLife = options.anomalyHalfLifeMs ?? 7 * DAY_MS;
  const decision = profile.userDecision;
  const owner =
    decision === 'approved'
      ? factor('owner_approval', 1, 'approved by the owner')
      : decision === 'blocked'
        ? factor('owner_approval', 0, 'blocked by the owner')
        : factor('owner_approval', 0.5, 'no decision by the owner yet');
  const ageMs = Math.max(0, nowMs - profile.firstSeen);
  const age = factor(
    'first_seen_age',
    ageMs / established,
    `first seen ${(ageMs / DAY_MS).toFixed(1)} days ago`,
  );
  const mac = profile.macAddress;
  const randomised = mac !== undefined && isLocallyAdministered(mac);
  const macFactor =
    mac === undefined
      ? factor('mac_randomisation', 0.6, 'no MAC address')
      : randomised
        ? factor('mac_randomisation', 0.4, 'locally administered (randomised or chosen) MAC address')
        : factor('mac_randomisation', 1, 'globally unique MAC address');
  const { vendor, type } = vendorFactors(profile);
  let weight = 0;
  for (const t of profile.anomalyTimes) if (t <= nowMs) weight += 2 ** (-(nowMs - t) / halfLife);
  const history = factor(
    'anomaly_history',
    Math.exp(-weight / 2),
    `${profile.anomalyTimes.length} anomalies, ${weight.toFixed(2)} after ${(halfLife / DAY_MS).toFixed(0)}-day half-life decay`,
  );
  const scanning = factor(
    'scanning_behaviour',
    1 / (1 + profile.portScans / 5 + profile.connectionAttempts / 50),
    `${profile.portScans} port scans, ${profile.connectionAttempts} connection attempts`,
  );
  return [owner, age, macFactor, vendor, type, history, scanning];
}

export function trustLevelFor(score: number, decision: DeviceProfile['userDecision']): TrustLevel {
  if (decision === 'blocked') return 'blocked';
  if (decision === 'approved') return 'trusted';
  if (score >= TRUST_LEVEL_CUTS.trusted) return 'trusted';
  if (score >= TRUST_LEVEL_CUTS.unknown) return 'unknown';
  if (score >= TRUST_LEVEL_CUTS.suspicious) return 'suspicious';
  return 'untrusted';
}

export function assessTrust(
  profile: DeviceProfile,
  nowMs: number,
  options: TrustOptions = {},
): TrustAssessment {
  const factors = trustFactors(profile, nowMs, options);
  const totalWeight = factors.reduce((s, f) => s + f.weight, 0);
  const score = factors.reduce((s, f) => s + f.weight * f.value, 0) / totalWeight;
  // Confidence grows with what we have seen: an owner's decision is near-certain; otherwise age and evidence.
  const established = options.establishedMs ?? 7 * DAY_MS;
  const evidence = Math.min(1, Math.max(0, nowMs - profile.firstSeen) / established);
  const confidence = profile.userDecision ? 0.98 : 0.5 + 0.45 * evidence;
  return { score, level: trustLevelFor(score, profile.userDecision), confidence, factors };
}

/** The trust model the worker calls (`TrustModel` of src/models/contracts/behaviour.ts). */
export function createTrustModel(options: TrustOptions = {}): TrustModel {
  return { version: TRUST_MODEL_VERSION, assess: (profile, nowMs) => assessTrust(profile, nowMs, options) };
}
