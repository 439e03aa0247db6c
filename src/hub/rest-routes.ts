import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatPath, type MessageOf, makeMessage, parseMessage, type TrustLevel } from '../protocol/index.js';
import type { DevicePatch, DeviceRecord } from '../store/device-registry.js';
import { type Principal, tokenFromRequest } from './auth.js';
import type { HubContext } from './hub-context.js';

/** `POST /api/devices/:id/trust` body. */
export const TrustDecisionBody = z.strictObject({ decision: z.enum(['approve', 'block', 'reset']) });
export type TrustDecision = z.infer<typeof TrustDecisionBody>['decision'];

const DECISIONS: Record<
  TrustDecision,
  { newTrust: TrustLevel; userDecision: 'approved' | 'blocked' | null; reason: string }
> = {
  approve: { newTrust: 'trusted', userDecision: 'approved', reason: 'user_approved' },
  block: { newTrust: 'blocked', userDecision: 'blocked', reason: 'user_blocked' },
  // Back to "no decision": the worker's computed trust applies again from its next update.
  reset: { newTrust: 'unknown', userDecision: null, reason: 'user_reset' },
};

/** REST errors share Fastify's own shape (`statusCode`, `code`, `error`, `message`). */
export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: string,
  message: string,
): FastifyReply {
  const error = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found' }[statusCode] ?? 'Error';
  if (statusCode === 401) reply.header('www-authenticate', 'Bearer realm="smartblueprint"');
  return reply.code(statusCode).send({ statusCode, code, error, message });
}

/** 400 INVALID_DATA for a request body its schema refused: the shape expected, and where the body left it. */
export function sendInvalidBody(reply: FastifyReply, error: z.ZodError, expected: string): FastifyReply {
  const issue = error.issues[0];
  const path = issue === undefined ? '' : formatPath(issue.path);
  return sendError(reply, 400, 'INVALID_DATA', `body must be ${expected}${path ? ` (at ${path})` : ''}`);
}

/** The request's principal, from `Authorization: Bearer` or `?token=`; undefined when missing or unknown. */
export function authenticateRequest(ctx: HubContext, request: FastifyRequest): Principal | undefined {
  return ctx.tokens.authenticate(tokenFromRequest(request.headers, request.url));
}

/** A neutral behaviour score when nothing has been measured yet; otherwise the device's trust score on 0..100. */
function behaviourScore(record: DeviceRecord): number {
  const score = record.trustScore ?? record.scores?.trustScore;
  return score === undefined ? 50 : Math.round(Math.min(1, Math.max(0, score)) * 1000) / 10;
}

/**
 * A user's trust decision: sets `userDecision` in the registry (in the device's write order), then emits a
 * `trustUpdate` through the results bus, so the owning agent and every viewer hear it whichever hub they are on.
 */
async function decideTrust(
  ctx: HubContext,
  deviceId: string,
  decision: TrustDecision,
): Promise<DeviceRecord | undefined> {
  const { newTrust, userDecision, reason } = DECISIONS[decision];
  const outcome = await ctx.devices.run(deviceId, async (registry) => {
    const before = await registry.get(deviceId);
    if (before === undefined) return undefined;
    const patch: DevicePatch = { trustLevel: newTrust, userDecision };
    const after = await registry.upsert(deviceId, before.agentId, patch);
    return { before, after };
  });
  if (outcome === undefined) return undefined;
  const { before, after } = outcome;
  const message: MessageOf<'trustUpdate'> = makeMessage('trustUpdate', before.agentId, {
    deviceId,
    previousTrust: before.trustLevel,
    newTrust,
    reason,
    confidence: 1,
    behaviorScore: behaviourScore(before),
  });
  const checked = parseMessage(message);
  if (!checked.ok) {
    // A registry record whose agentId the protocol refuses; the decision is stored, only the broadcast is skipped.
    ctx.log.error({ err: checked.error, deviceId }, 'trust decision stored but its trustUpdate is not valid');
    return after;
  }
  ctx.capture?.append(JSON.stringify(message));
  try {
    await ctx.results.publish([message]);
  } catch (error) {
    ctx.log.warn({ err: error, deviceId }, 'results bus unavailable: trustUpdate sent to this hub only');
    ctx.fanOut.toAgentAndViewers(before.agentId, JSON.stringify(message));
  }
  return after;
}

/** `/health` (open) and the token-protected `/api/*` and `/metrics`. */
export async function registerRestRoutes(app: FastifyInstance, ctx: HubContext): Promise<void> {
  app.get('/health', async () => ({
    status: 'ok',
    hubId: ctx.config.hubId,
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    connections: { agents: ctx.connections.agentConnectionCount, viewers: ctx.connections.viewers.size },
  }));

  await app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      if (authenticateRequest(ctx, request) === undefined) {
        ctx.metrics.rejected('AUTH_FAILED');
        return sendError(reply, 401, 'AUTH_FAILED', 'missing or unknown token');
      }
      return undefined;
    });

    api.get('/metrics', async (_request, reply) => {
      const text = await ctx.promRegistry.metrics();
      return reply.type(ctx.promRegistry.contentType).send(text);
    });

    api.get('/api/agents', async () => ({ agents: ctx.connections.summaries(ctx.tokens.agentIds) }));

    api.get('/api/devices', async () => ({ devices: await ctx.devices.registry.list() }));

    api.get<{ Params: { id: string } }>('/api/devices/:id', async (request, reply) => {
      const record = await ctx.devices.registry.get(request.params.id);
      if (record === undefined) return sendError(reply, 404, 'NOT_FOUND', `no device ${request.params.id}`);
      return record;
    });

    api.get<{ Querystring: { limit?: string } }>('/api/dead-letters', async (request, reply) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        return sendError(reply, 400, 'INVALID_DATA', 'limit must be an integer 1..10000');
      }
      return { deadLetters: ctx.deadLetters === undefined ? [] : await ctx.deadLetters(limit) };
    });

    api.post<{ Params: { id: string } }>('/api/devices/:id/trust', async (request, reply) => {
      const body = TrustDecisionBody.safeParse(request.body);
      if (!body.success)
        return sendInvalidBody(reply, body.error, '{"decision": "approve" | "block" | "reset"}');
      const record = await decideTrust(ctx, request.params.id, body.data.decision);
      if (record === undefined) return sendError(reply, 404, 'NOT_FOUND', `no device ${request.params.id}`);
      return record;
    });
  });
}
