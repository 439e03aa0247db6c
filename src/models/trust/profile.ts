import type { BehaviourEvent, DeviceProfile } from '../contracts/behaviour.js';

/** A new device's profile, first seen at `t`. */
export function newProfile(deviceId: string, t: number): DeviceProfile {
  return { deviceId, firstSeen: t, anomalyTimes: [], portScans: 0, connectionAttempts: 0 };
}

/** At most this many anomaly times are kept (older ones weigh almost nothing after the half-life decay). */
const MAX_ANOMALY_TIMES = 64;

/**
 * Pure: the profile after a behaviour event — identity from joins, scan counters from updates. The worker keeps
 * one profile per device (it is JSON-serialisable) and calls the trust model with it.
 */
export function updateProfile(profile: DeviceProfile, event: BehaviourEvent): DeviceProfile {
  switch (event.kind) {
    case 'join': {
      const next: DeviceProfile = { ...profile, firstSeen: Math.min(profile.firstSeen, event.t) };
      if (event.macAddress !== undefined) next.macAddress = event.macAddress;
      if (event.vendor !== undefined) next.vendor = event.vendor;
      if (event.deviceType !== undefined) next.deviceType = event.deviceType;
      if (event.hostname !== undefined) next.hostname = event.hostname;
      if (event.services !== undefined) next.services = [...event.services];
      return next;
    }
    case 'update': {
      const scans = event.portScans ?? 0;
      const conns = event.connectionAttempts ?? 0;
      if (scans === 0 && event.services === undefined) return profile;
      const next: DeviceProfile = {
        ...profile,
        portScans: profile.portScans + Math.max(0, scans),
        // Ordinary devices open connections all day; only what looks like probing counts (with port scans).
        connectionAttempts: profile.connectionAttempts + (scans > 0 ? Math.max(0, conns) : 0),
      };
      if (event.services !== undefined) next.services = [...event.services];
      return next;
    }
    default:
      return profile;
  }
}

/** Pure: the profile after an anomaly was raised for the device. */
export function recordAnomaly(profile: DeviceProfile, t: number): DeviceProfile {
  const times = [...profile.anomalyTimes, t];
  return {
    ...profile,
    anomalyTimes: times.length > MAX_ANOMALY_TIMES ? times.slice(-MAX_ANOMALY_TIMES) : times,
  };
}

/** Pure: the owner approved or blocked the device (a trustUpdate through the API). */
export function withUserDecision(
  profile: DeviceProfile,
  decision: 'approved' | 'blocked' | null,
): DeviceProfile {
  const { userDecision: _, ...rest } = profile;
  return decision === null ? rest : { ...rest, userDecision: decision };
}
