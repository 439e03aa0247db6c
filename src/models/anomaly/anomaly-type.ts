import type { AnomalyType } from '../../protocol/index.js';
import type { FeatureName, RawFeatures } from './features.js';

/*
 * The anomaly type is read off the explanation: each feature's share of the isolation votes for the types it
 * indicates (weights below), with the direction of the change where it matters (an RSSI rise is not a signal
 * drop). The type with the most votes wins; below MIN_VOTE the anomaly is a generic behavior_change.
 */

type Votes = Partial<Record<AnomalyType, number>>;

function votesFor(name: FeatureName, raw: RawFeatures): Votes {
  const dropped = raw.rssi_delta < 0;
  switch (name) {
    case 'rssi_delta':
    case 'rssi_mean':
      return dropped ? { signal_drop: 1 } : { behavior_change: 1 };
    case 'rssi_trend':
      return raw.rssi_trend < 0 ? { signal_drop: 0.7, interference: 0.3 } : { behavior_change: 1 };
    case 'rssi_std':
      // A step down inside the window also shows as spread; a drop of over 6 dB is the drop.
      return raw.rssi_delta < -6 ? { signal_drop: 0.8, interference: 0.2 } : { interference: 1 };
    case 'packet_loss':
      return raw.rtt_jitter > 10 || raw.rssi_std > 5
        ? { interference: 0.8, packet_loss: 0.2 }
        : { packet_loss: 1 };
    case 'rtt_mean':
      // Latency with loss is a degraded link (interference), latency alone a spike.
      return raw.packet_loss >= 2 ? { interference: 0.6, latency_spike: 0.4 } : { latency_spike: 1 };
    case 'rtt_jitter':
      return raw.packet_loss >= 2
        ? { interference: 0.8, latency_spike: 0.2 }
        : { latency_spike: 0.6, interference: 0.4 };
    case 'bandwidth':
    case 'bandwidth_ratio':
    case 'data_rate':
      return { bandwidth_anomaly: 1 };
    case 'flaps':
      return { connection_flapping: 1 };
    case 'new_services':
      return { new_services: 1 };
    case 'port_scans':
      return { port_scan: 0.55, rogue_scanner: 0.45 };
    case 'connection_attempts':
      return { rogue_scanner: 1 };
    case 'hour_sin':
    case 'hour_cos':
    case 'off_hours_activity':
      return { unusual_time: 1 };
    case 'zone_distance':
    case 'moved':
      return { device_moved: 1 };
  }
}

const MIN_VOTE = 0.2;

export function classifyAnomaly(
  contributions: ReadonlyArray<{ name: FeatureName; share: number }>,
  raw: RawFeatures,
): AnomalyType {
  const tally: Votes = {};
  for (const { name, share } of contributions) {
    for (const [type, w] of Object.entries(votesFor(name, raw)) as Array<[AnomalyType, number]>) {
      tally[type] = (tally[type] ?? 0) + w * share;
    }
  }
  let best: AnomalyType = 'behavior_change';
  let bestVote = MIN_VOTE;
  for (const [type, v] of Object.entries(tally) as Array<[AnomalyType, number]>) {
    if (v > bestVote) {
      best = type;
      bestVote = v;
    }
  }
  return best;
}

/** What the user should do about each type (snake_case, carried in anomalyDetected.recommendedAction). */
export const RECOMMENDED_ACTION: Record<AnomalyType, string> = {
  signal_drop: 'check_device_placement',
  interference: 'investigate_interference',
  latency_spike: 'check_network_congestion',
  packet_loss: 'check_link_quality',
  bandwidth_anomaly: 'review_bandwidth_usage',
  port_scan: 'investigate_device',
  rogue_scanner: 'isolate_device',
  device_moved: 'verify_device_location',
  connection_flapping: 'check_connectivity',
  new_services: 'review_new_services',
  unusual_time: 'review_activity_schedule',
  behavior_change: 'investigate_device',
};
