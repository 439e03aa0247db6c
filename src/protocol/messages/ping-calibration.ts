import { z } from 'zod';
import { envelope } from '../envelope.js';
import {
  CalibrationRttMs,
  DeviceId,
  IpAddress,
  Metres,
  OpaqueId,
  Rssi,
  ShortText,
  Unit,
} from '../primitives.js';

export const CalibrationMeasurement = z
  .strictObject({
    /** The anchor measured (an id in IP form; data sets use RFC 5737 addresses as names). */
    targetIp: IpAddress,
    rtt: CalibrationRttMs.optional(),
    rssi: Rssi.optional(),
  })
  .refine((m) => m.rtt !== undefined || m.rssi !== undefined, {
    message: 'a measurement needs rtt, rssi or both',
  });
export type CalibrationMeasurement = z.infer<typeof CalibrationMeasurement>;

/** A set of measurements taken at a known point of a calibration walk: the training data of the models. */
export const PingCalibration = envelope(
  'pingCalibration',
  z.strictObject({
    calibrationId: OpaqueId,
    knownLocation: z.strictObject({
      x: Metres,
      y: Metres,
      room: ShortText.optional(),
      floor: z.number().int().min(-100).max(1000).optional(),
    }),
    measurements: z.array(CalibrationMeasurement).min(1).max(1024),
    confidence: Unit.optional(),
    /** The device that was carried on the walk (extension; absent = the agent itself). */
    deviceId: DeviceId.optional(),
  }),
);
export type PingCalibration = z.infer<typeof PingCalibration>;
