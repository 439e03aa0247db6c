import { z } from 'zod';
import { AgentId, Timestamp } from './primitives.js';

/**
 * The envelope every message shares: `{type, agentId, timestamp, data}`. Unknown top-level keys are rejected
 * (strict), so a typo never silently drops a field.
 */
export function envelope<const T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.strictObject({
    type: z.literal(type),
    agentId: AgentId,
    timestamp: Timestamp,
    data,
  });
}

/** The shape shared by every message, before its type is known. */
export const Envelope = z.strictObject({
  type: z.string().min(1).max(64),
  agentId: AgentId,
  timestamp: Timestamp,
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof Envelope>;
