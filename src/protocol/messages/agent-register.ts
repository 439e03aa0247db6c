import { z } from 'zod';
import { envelope } from '../envelope.js';
import { IpAddress, ShortText } from '../primitives.js';

/** Agent → hub, first message after connecting. */
export const AgentRegister = envelope(
  'agent_register',
  z.strictObject({
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version like 1.0.0'),
    /** Open list: the spec names device_scan, ping_probe, signal_monitor; agents may add more. */
    capabilities: z
      .array(
        z
          .string()
          .regex(/^[a-z][a-z0-9_]*$/)
          .max(64),
      )
      .max(64),
    /** IP address of the interface the agent probes from. */
    networkInterface: IpAddress,
    systemInfo: z.strictObject({
      os: ShortText,
      arch: ShortText,
      nodeVersion: ShortText,
      hostname: ShortText.optional(),
      cpus: z.number().int().min(1).max(4096).optional(),
      totalMemoryMb: z.number().min(0).optional(),
    }),
  }),
);
export type AgentRegister = z.infer<typeof AgentRegister>;
