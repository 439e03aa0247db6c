import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, FlatRecord, LongText, OpaqueId, Severity, SnakeToken } from '../primitives.js';

export const TrustAlertType = z.enum([
  'suspicious_device',
  'new_device',
  'mac_randomization',
  'vendor_mismatch',
  'port_scan',
  'blacklist_match',
  'anomalous_behavior',
  'trust_degraded',
]);

export const TrustAlert = envelope(
  'trustAlert',
  z.strictObject({
    alertId: OpaqueId,
    deviceId: DeviceId,
    severity: Severity,
    alertType: TrustAlertType,
    description: LongText,
    evidence: FlatRecord,
    recommendedAction: SnakeToken,
    autoBlocked: z.boolean(),
  }),
);
export type TrustAlert = z.infer<typeof TrustAlert>;
