import { z } from 'zod';
import { envelope } from '../envelope.js';
import { NonNegative, Percent } from '../primitives.js';

/** Agent → hub every 30 s. Usage figures are percentages of the machine. */
export const AgentHeartbeat = envelope(
  'agent_heartbeat',
  z.strictObject({
    status: z.enum(['active', 'idle', 'degraded', 'shutting_down']),
    /** Seconds since the agent started. */
    uptime: NonNegative,
    memoryUsage: Percent,
    cpuUsage: Percent,
    /** Messages waiting in the agent's offline buffer (extension). */
    bufferedMessages: z.number().int().min(0).optional(),
    /** Messages the agent dropped from a full offline buffer since it started (extension). */
    droppedMessages: z.number().int().min(0).optional(),
  }),
);
export type AgentHeartbeat = z.infer<typeof AgentHeartbeat>;
