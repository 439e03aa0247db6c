import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, IpAddress, NonNegative, NonNegativeInt, Rssi, RttMs, Unit } from '../primitives.js';

/**
 * One probe. `targetIp` is the far end of the measured link: for positioning, an anchor of the site. The
 * extensions `deviceId` (the device whose link was measured; absent = the agent itself, as in a calibration walk)
 * and `rssi` let an agent that hears several devices report per-device, per-anchor measurements.
 */
export const PingResult = envelope(
  'pingResult',
  z
    .strictObject({
      targetIp: IpAddress,
      targetType: z.enum(['gateway', 'anchor', 'access_point', 'device', 'external']),
      /** Milliseconds. Required when `success` is true. */
      rtt: RttMs.optional(),
      /** Bytes. */
      packetSize: z.number().int().min(0).max(65_535).optional(),
      ttl: z.number().int().min(0).max(255).optional(),
      /** Per-agent, increasing; with agentId it is the idempotency key of the probe. */
      sequenceNumber: NonNegativeInt,
      success: z.boolean(),
      /** Metres, as the agent estimated it. */
      estimatedDistance: NonNegative.optional(),
      /** Milliseconds of processing delay to subtract from rtt before ranging. */
      processingOffset: NonNegative.optional(),
      qualityScore: Unit.optional(),
      deviceId: DeviceId.optional(),
      rssi: Rssi.optional(),
    })
    .refine((d) => !d.success || d.rtt !== undefined, {
      message: 'rtt is required when success is true',
      path: ['rtt'],
    }),
);
export type PingResult = z.infer<typeof PingResult>;

/**
 * Whether a probe was lost: it failed and nothing was heard. A BLE sighting (`success: false` with an `rssi`: a
 * beacon has no round trip to time) is a reading, not a lost ping (docs/agent.md).
 */
export function isLostProbe(probe: { success: boolean; rssi?: number | undefined }): boolean {
  return !probe.success && probe.rssi === undefined;
}
