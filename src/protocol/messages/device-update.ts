import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, Metres, NonNegative, Percent, Rssi, ShortText, Unit } from '../primitives.js';

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

export const DeviceUpdate = envelope(
  'deviceUpdate',
  z
    .strictObject({
      deviceId: DeviceId,
      rssi: Rssi.optional(),
      location: Location.optional(),
      performance: Performance.optional(),
    })
    .refine((d) => d.rssi !== undefined || d.location !== undefined || d.performance !== undefined, {
      message: 'a deviceUpdate must carry at least one of rssi, location, performance',
    }),
);
export type DeviceUpdate = z.infer<typeof DeviceUpdate>;
