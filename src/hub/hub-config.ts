import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AgentId, MAX_MESSAGE_BYTES } from '../protocol/index.js';

/**
 * The token file: `{"agents": {"<agentId>": "<token>"}, "viewers": ["<token>"]}`. A token is bound to exactly one
 * principal, so the same token twice (two agents, or an agent and a viewer) is refused at start-up.
 */
export const TokenFile = z
  .strictObject({
    agents: z.record(AgentId, z.string().min(1).max(4096)).default({}),
    viewers: z.array(z.string().min(1).max(4096)).default([]),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, string>();
    const check = (token: string, owner: string, path: (string | number)[]) => {
      const previous = seen.get(token);
      if (previous !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: `the same token is also given to ${previous}` });
      }
      seen.set(token, owner);
    };
    for (const [agentId, token] of Object.entries(file.agents))
      check(token, `agent ${agentId}`, ['agents', agentId]);
    for (const [i, token] of file.viewers.entries()) check(token, `viewer #${i}`, ['viewers', i]);
  });
export type TokenFile = z.infer<typeof TokenFile>;

/** The hub's whole configuration. Parsed once (by the CLI or a test), then frozen; every default is documented here. */
export const HubConfig = z.strictObject({
  /** Interface to listen on. @defaultValue `127.0.0.1` (loopback only; use `0.0.0.0` to serve the network) */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free port. @defaultValue 8080 */
  port: z.number().int().min(0).max(65_535).default(8080),
  /** Who may connect. Never logged. @defaultValue no agents, no viewers (everyone is refused) */
  tokens: TokenFile.default({ agents: {}, viewers: [] }),
  /** Identifies this hub process in ingest records (several hubs may share one queue). @defaultValue `hub-<random>` */
  hubId: z
    .string()
    .min(1)
    .max(128)
    .default(() => `hub-${randomBytes(4).toString('hex')}`),
  rateLimit: z
    .strictObject({
      /** Messages per minute per agent (all of the agent's connections to this hub together). @defaultValue 100 (spec) */
      messagesPerMinute: z.number().positive().default(100),
      /** Bucket size: how many messages may arrive at once. @defaultValue `messagesPerMinute` */
      burst: z.number().int().positive().optional(),
    })
    .default({ messagesPerMinute: 100 }),
  /** An agent connection that sends nothing for this long gets CONN_TIMEOUT and close 4408. @defaultValue 90 000 (spec) */
  heartbeatTimeoutMs: z.number().int().positive().default(90_000),
  /** WebSocket ping interval; a peer that has not answered the previous ping is terminated. @defaultValue 30 000 */
  pingIntervalMs: z.number().int().positive().default(30_000),
  /** Largest frame the socket layer accepts; bigger frames close that connection with 1009. @defaultValue 1 MiB (spec) */
  maxPayload: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024)
    .default(MAX_MESSAGE_BYTES),
  /** A viewer whose unsent backlog exceeds this many bytes misses live messages until it catches up. @defaultValue 4 MiB */
  maxViewerBacklogBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** Device-registry writes waiting at once; beyond this they are skipped and counted. @defaultValue 10 000 */
  maxPendingRegistryWrites: z.number().int().positive().default(10_000),
  /** Append every accepted message to a JSON-lines file. @defaultValue off */
  capture: z
    .strictObject({
      file: z.string().min(1),
      /** Rotate (FILE → FILE.1 → FILE.2 …) before the file would exceed this size; 0 = never. @defaultValue 256 MiB */
      maxBytes: z
        .number()
        .int()
        .min(0)
        .default(256 * 1024 * 1024),
      /** Rotated files kept (older ones are deleted); 0 = keep all. @defaultValue 0 */
      maxFiles: z.number().int().min(0).default(0),
      /** Buffered lines are written at least this often. @defaultValue 200 */
      flushIntervalMs: z.number().int().positive().default(200),
    })
    .optional(),
  /** Serve wss:// and https:// with this certificate and key (PEM file paths). @defaultValue off */
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  /** pino level. @defaultValue `info` */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type HubConfig = z.infer<typeof HubConfig>;
export type HubConfigInput = z.input<typeof HubConfig>;

/** Parses and freezes a configuration; a wrong value throws a ZodError naming the option. */
export function parseHubConfig(input: HubConfigInput): Readonly<HubConfig> {
  return Object.freeze(HubConfig.parse(input));
}
