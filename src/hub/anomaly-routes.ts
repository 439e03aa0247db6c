import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AnomalyFeedbackStore, StoredAnomaly, StoredVerdict } from '../store/anomaly-feedback-store.js';
import type { HubPlugin } from './build-hub.js';
import { sendError, sendInvalidBody } from './rest-routes.js';

/** `POST /api/anomalies/:anomalyId/feedback` body. */
export const AnomalyVerdictBody = z.strictObject({ verdict: z.enum(['fine', 'real']) });

export interface AnomalyApiOptions {
  /** The deployment's alerts and verdicts (`OpenedPipeline.anomalies`). */
  store: AnomalyFeedbackStore;
  /** @defaultValue Date.now */
  clock?: () => number;
}

/** An alert as the API shows it, with its latest verdict. */
export interface AnomalyView {
  anomalyId: string;
  deviceId: string;
  agentId: string;
  /** ISO 8601. */
  at: string;
  anomalyType: StoredAnomaly['anomalyType'];
  severity: StoredAnomaly['severity'];
  confidence: number;
  score?: number;
  threshold?: number;
  modelVersion?: string;
  mlModel: string;
  recommendedAction: string;
  features: StoredAnomaly['features'];
  feedback: FeedbackView | null;
}

export interface FeedbackView {
  verdict: 'fine' | 'real';
  /** ISO 8601. */
  receivedAt: string;
  /** Position in the deployment's feedback log. */
  seq: number;
  replaces?: 'fine' | 'real';
}

function feedbackView(v: StoredVerdict): FeedbackView {
  const out: FeedbackView = {
    verdict: v.verdict,
    receivedAt: new Date(v.receivedAt).toISOString(),
    seq: v.seq,
  };
  if (v.replaces !== undefined) out.replaces = v.replaces;
  return out;
}

function view(a: StoredAnomaly, verdict: StoredVerdict | undefined): AnomalyView {
  const { vector: _internal, at, ...rest } = a;
  return {
    ...rest,
    at: new Date(at).toISOString(),
    feedback: verdict === undefined ? null : feedbackView(verdict),
  };
}

function unavailable(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  request.log.warn({ err: error }, 'anomaly store unavailable');
  return reply.code(503).send({
    statusCode: 503,
    code: 'STORE_UNAVAILABLE',
    error: 'Service Unavailable',
    message: 'the anomaly store cannot be reached; try again shortly',
  });
}

/**
 * The anomaly API (issue #5): the alerts the workers raised, and the users' verdicts on them, which move every
 * worker's thresholds within about a second and feed the next retraining (docs/anomaly.md).
 *
 *   GET  /api/anomalies?limit=N                 newest first, each with its latest verdict
 *   GET  /api/anomalies/:anomalyId
 *   POST /api/anomalies/:anomalyId/feedback     {"verdict": "fine" | "real"}
 *
 * Viewer or agent token, like every `/api/*`. Register with `plugins: [anomalyPlugin({ store })]`.
 */
export function anomalyPlugin(options: AnomalyApiOptions): HubPlugin {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  return async (app, hub) => {
    app.addHook('onRequest', async (request, reply) => {
      if (hub.authenticate(request) === undefined) {
        return sendError(reply, 401, 'AUTH_FAILED', 'missing or unknown token');
      }
      return undefined;
    });

    app.get<{ Querystring: { limit?: string } }>('/api/anomalies', async (request, reply) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return sendError(reply, 400, 'INVALID_DATA', 'limit must be an integer 1..1000');
      }
      try {
        const anomalies = await store.recentAnomalies(limit);
        const verdicts = await store.verdictsOf(anomalies.map((a) => a.anomalyId));
        return { anomalies: anomalies.map((a) => view(a, verdicts.get(a.anomalyId))) };
      } catch (error) {
        return unavailable(reply, request, error);
      }
    });

    app.get<{ Params: { anomalyId: string } }>('/api/anomalies/:anomalyId', async (request, reply) => {
      const id = request.params.anomalyId;
      try {
        const a = await store.anomaly(id);
        if (a === undefined) return sendError(reply, 404, 'NOT_FOUND', `no anomaly ${id}`);
        return view(a, (await store.verdictsOf([id])).get(id));
      } catch (error) {
        return unavailable(reply, request, error);
      }
    });

    app.post<{ Params: { anomalyId: string } }>(
      '/api/anomalies/:anomalyId/feedback',
      async (request, reply) => {
        const body = AnomalyVerdictBody.safeParse(request.body);
        if (!body.success) return sendInvalidBody(reply, body.error, '{"verdict": "fine" | "real"}');
        const id = request.params.anomalyId;
        try {
          const a = await store.anomaly(id);
          if (a === undefined) return sendError(reply, 404, 'NOT_FOUND', `no anomaly ${id}`);
          const input: Parameters<AnomalyFeedbackStore['submitVerdict']>[0] = {
            anomalyId: id,
            deviceId: a.deviceId,
            verdict: body.data.verdict,
            anomalyType: a.anomalyType,
            at: a.at,
            receivedAt: clock(),
          };
          if (a.score !== undefined) input.score = a.score;
          if (a.vector !== undefined) input.vector = a.vector;
          const { record, changed } = await store.submitVerdict(input);
          request.log.info(
            { anomalyId: id, verdict: record.verdict, changed, seq: record.seq },
            'anomaly verdict',
          );
          return { anomaly: view(a, record), changed };
        } catch (error) {
          return unavailable(reply, request, error);
        }
      },
    );
  };
}
