import { z } from 'zod';
import { envelope } from '../envelope.js';
import {
  DeviceId,
  Metres,
  NonNegative,
  NonNegativeInt,
  Percent,
  Rssi,
  ShortText,
  StringList,
  Unit,
} from '../primitives.js';

/**
 * A location estimate. `x`, `y`, `confidence` are the spec's; the rest are extensions the positioning models fill:
 * `uncertainty` is a radius in metres meant to hold the truth 95% of the time, `room` the most probable room.
 */
export const Location = z.strictObject({
  x: Metres,
  y: Metres,
  confidence: Unit,
  uncertainty: NonNegative.optional(),
  room: ShortText.optional(),
  roomProbability: Unit.optional(),
  floor: z.number().int().min(-100).max(1000).optional(),
  /** Which estimator produced it (multilateration, fingerprint, knn, fusion). */
  model: ShortText.optional(),
  modelVersion: ShortText.optional(),
});
export type Location = z.infer<typeof Location>;

export const Performance = z.strictObject({
  /** Milliseconds. */
  latency: NonNegative.optional(),
  /** Percent of probes lost, 0..100. */
  packetLoss: Percent.optional(),
  /** Mbit/s. */
  bandwidth: NonNegative.optional(),
});

/**
 * Extension: what the agent observed of the device since its previous update — the inputs of the scanning and
 * new-service features of the anomaly models. Counters are per interval, not cumulative.
 */
export const Activity = z.strictObject({
  portScans: NonNegativeInt.optional(),
  connectionAttempts: NonNegativeInt.optional(),
  /** Bytes transferred in the interval. */
  dataVolume: NonNegative.optional(),
  /** Services the device currently advertises (mDNS/SSDP names). */
  services: StringList.optional(),
  /** Seconds covered by the counters. */
  intervalSeconds: NonNegative.optional(),
});
export type Activity = z.infer<typeof Activity>;

export const DeviceUpdate = envelope(
  'deviceUpdate',
  z
    .strictObject({
      deviceId: DeviceId,
      rssi: Rssi.optional(),
      location: Location.optional(),
      performance: Performance.optional(),
      activity: Activity.optional(),
    })
    .refine(
      (d) =>
        d.rssi !== undefined ||
        d.location !== undefined ||
        d.performance !== undefined ||
        d.activity !== undefined,
      {
        message: 'a deviceUpdate must carry at least one of rssi, location, performance, activity',
      },
    ),
);
export type DeviceUpdate = z.infer<typeof DeviceUpdate>;
