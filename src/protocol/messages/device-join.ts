import { z } from 'zod';
import { envelope } from '../envelope.js';
import {
  DeviceId,
  IpAddress,
  MacAddress,
  Rssi,
  ShortText,
  StringList,
  Timestamp,
  TrustLevel,
} from '../primitives.js';

/** A device discovered on the network. Only `deviceId` is required: BLE or passive sightings may lack IP/MAC. */
export const DeviceJoin = envelope(
  'deviceJoin',
  z.strictObject({
    deviceId: DeviceId,
    hostname: ShortText.optional(),
    ipAddress: IpAddress.optional(),
    macAddress: MacAddress.optional(),
    vendor: ShortText.optional(),
    deviceType: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'must be a snake_case device type')
      .max(64)
      .optional(),
    rssi: Rssi.optional(),
    firstSeen: Timestamp.optional(),
    protocols: StringList.optional(),
    services: StringList.optional(),
    trustLevel: TrustLevel.optional(),
  }),
);
export type DeviceJoin = z.infer<typeof DeviceJoin>;
