import { z } from 'zod';
import { envelope } from '../envelope.js';
import { DeviceId, Timestamp } from '../primitives.js';

export const DeviceLeave = envelope(
  'deviceLeave',
  z.strictObject({
    deviceId: DeviceId,
    reason: z.enum(['timeout', 'disconnected', 'removed', 'blocked', 'unknown']),
    lastSeen: Timestamp.optional(),
  }),
);
export type DeviceLeave = z.infer<typeof DeviceLeave>;
