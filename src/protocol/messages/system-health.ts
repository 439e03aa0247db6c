import { z } from 'zod';
import { envelope } from '../envelope.js';
import { NonNegative, Percent, StringList } from '../primitives.js';

export const ServiceState = z.enum(['running', 'starting', 'stopped', 'disabled', 'error']);

export const SystemHealth = envelope(
  'systemHealth',
  z.strictObject({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    metrics: z.strictObject({
      cpuUsage: Percent,
      memoryUsage: Percent,
      diskUsage: Percent.optional(),
      /** Milliseconds, e.g. RTT to the gateway. */
      networkLatency: NonNegative.optional(),
    }),
    services: z.record(z.string().min(1).max(64), ServiceState),
    errors: StringList,
    warnings: StringList,
  }),
);
export type SystemHealth = z.infer<typeof SystemHealth>;
