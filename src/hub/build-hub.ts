import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import type { IngestSink } from '../ingest/ingest-sink.js';
import type { DeadLetter } from '../ingest/pipeline.js';
import type { ResultsBus } from '../ingest/results-bus.js';
import type { DeviceRegistry } from '../store/device-registry.js';
import { type Principal, redactUrl, TokenTable } from './auth.js';
import { CaptureWriter } from './capture-writer.js';
import { ConnectionRegistry } from './connection-registry.js';
import { DeviceWriter } from './device-writer.js';
import { FanOut } from './fan-out.js';
import { type HubConfig, type HubConfigInput, parseHubConfig } from './hub-config.js';
import type { HubContext } from './hub-context.js';
import { HubMetrics } from './hub-metrics.js';
import { createHubLogger } from './logger.js';
import { RateLimiter } from './rate-limiter.js';
import { authenticateRequest, registerRestRoutes, sendError } from './rest-routes.js';
import { openSession } from './socket-session.js';

/** What extra routes (the web dashboard) get: the hub's token check. */
export interface HubPluginContext {
  authenticate(request: FastifyRequest): Principal | undefined;
}

/** Registered after the hub's own routes, e.g. the dashboard at `/`. */
export type HubPlugin = (app: FastifyInstance, hub: HubPluginContext) => Promise<void>;

export interface HubDeps {
  /** Where accepted probe and device messages go (the ingestion queue). */
  sink: IngestSink;
  /** Results of the ingestion side, fanned out to the right agent and every viewer. */
  results: ResultsBus;
  registry: DeviceRegistry;
  /** Jobs that can never succeed, for `GET /api/dead-letters`; absent = none. */
  deadLetters?: (limit?: number) => Promise<DeadLetter[]>;
  /** Prometheus registry to register the hub's metrics in. @defaultValue a new one */
  metrics?: Registry;
  /** Parent logger. @defaultValue pino to stderr at `config.logLevel` */
  logger?: Logger;
  plugins?: readonly HubPlugin[];
}

export interface HubAddress {
  /** `ws://127.0.0.1:PORT/ws` (wss with TLS); a wildcard host is shown as loopback. */
  wsUrl: string;
  /** `http://127.0.0.1:PORT` (https with TLS). */
  httpUrl: string;
  port: number;
}

export interface Hub {
  readonly app: FastifyInstance;
  readonly config: Readonly<HubConfig>;
  readonly context: HubContext;
  listen(): Promise<HubAddress>;
  /** Idempotent; runs every step (sockets, HTTP server, pending registry writes, capture flush) even if one fails. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Builds the hub (Fastify + ws at `/ws`, REST, metrics) without listening: tests use `app.inject()` or `listen()`. */
export async function buildHub(configInput: HubConfigInput, deps: HubDeps): Promise<Hub> {
  const config = parseHubConfig(configInput);
  const log = createHubLogger(config.logLevel, deps.logger);
  const promRegistry = deps.metrics ?? new Registry();
  const metrics = new HubMetrics(promRegistry);
  const connections = new ConnectionRegistry();
  const capture = config.capture === undefined ? undefined : await CaptureWriter.open(config.capture, log);

  const https =
    config.tls === undefined
      ? undefined
      : { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) };
  // The https variant has a different server type parameter; routes and hooks are the same, hence the cast.
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    ...(https === undefined ? {} : { https }),
  }) as unknown as FastifyInstance;

  const ctx: HubContext = {
    config,
    log,
    metrics,
    promRegistry,
    tokens: new TokenTable(config.tokens),
    limiter: new RateLimiter(config.rateLimit.messagesPerMinute, config.rateLimit.burst),
    connections,
    devices: new DeviceWriter(deps.registry, config.maxPendingRegistryWrites, log, metrics),
    fanOut: new FanOut(connections, config.maxViewerBacklogBytes, metrics),
    capture,
    sink: deps.sink,
    results: deps.results,
    deadLetters: deps.deadLetters,
    startedAt: Date.now(),
  };

  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: redactUrl(request.url), statusCode: reply.statusCode },
      'request completed',
    );
  });

  await app.register(websocket, {
    // UTF-8 is checked per frame by the session, which answers INVALID_DATA and keeps the connection.
    options: { maxPayload: config.maxPayload, skipUTF8Validation: true },
    // ws has already closed the socket (1009 for oversize frames); terminating here would cut that close frame off.
    errorHandler: (error, socket) => {
      log.debug({ err: error }, 'websocket error');
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, 'internal error');
    },
  });

  const principals = new WeakMap<object, Principal>();
  app.get(
    '/ws',
    {
      websocket: true,
      // Auth before the upgrade: a missing or unknown token gets HTTP 401 and never becomes a WebSocket.
      preValidation: async (request, reply) => {
        const principal = authenticateRequest(ctx, request);
        if (principal === undefined) {
          metrics.rejected('AUTH_FAILED');
          log.info({ remoteAddress: request.ip }, 'upgrade refused: missing or unknown token');
          return sendError(reply, 401, 'AUTH_FAILED', 'missing or unknown token');
        }
        principals.set(request.raw, principal);
        return undefined;
      },
    },
    (socket, request) => {
      const principal = principals.get(request.raw);
      if (principal === undefined) {
        socket.close(4401, 'AUTH_FAILED');
        return;
      }
      openSession(ctx, socket, principal, request.ip);
    },
  );

  await registerRestRoutes(app, ctx);
  for (const plugin of deps.plugins ?? []) {
    await app.register(async (instance) =>
      plugin(instance, { authenticate: (r) => authenticateRequest(ctx, r) }),
    );
  }

  const unsubscribe = deps.results.subscribe((message) => {
    try {
      ctx.fanOut.toAgentAndViewers(message.agentId, JSON.stringify(message));
      metrics.result(message.type);
    } catch (error) {
      log.error({ err: error }, 'result fan-out failed');
    }
  });

  // A peer that did not answer the previous ping is gone (cable pulled, process frozen): terminate it.
  const pinger = setInterval(() => {
    for (const conn of connections.all) {
      try {
        if (!conn.alive) {
          conn.socket.terminate();
          continue;
        }
        conn.alive = false;
        conn.socket.ping();
      } catch (error) {
        log.debug({ err: error, conn: conn.id }, 'ping failed');
      }
    }
  }, config.pingIntervalMs);
  pinger.unref();

  let closing: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (name: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (error) {
        failures.push(error);
        log.error({ err: error, step: name }, 'hub shutdown step failed');
      }
    };
    await step('timers', () => clearInterval(pinger));
    await step('results', () => unsubscribe());
    await step('sockets', () => closeSockets(connections));
    await step('http', () => app.close());
    await step('registry writes', () => ctx.devices.idle());
    await step('capture', () => capture?.close());
    if (failures.length > 0) throw new AggregateError(failures, 'hub shutdown had failures');
  }

  return {
    app,
    config,
    context: ctx,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const { port } = app.server.address() as AddressInfo;
      const host = urlHost(config.host);
      const secure = config.tls !== undefined;
      const address = {
        wsUrl: `${secure ? 'wss' : 'ws'}://${host}:${port}/ws`,
        httpUrl: `${secure ? 'https' : 'http'}://${host}:${port}`,
        port,
      };
      log.info({ url: address.wsUrl, hubId: config.hubId }, 'hub listening');
      return address;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Going-away close for every socket; peers that do not complete the handshake within a second are cut. */
async function closeSockets(connections: ConnectionRegistry): Promise<void> {
  const open = [...connections.all];
  await Promise.all(
    open.map(
      (conn) =>
        new Promise<void>((resolve) => {
          const socket = conn.socket;
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            socket.terminate();
            resolve();
          }, 1000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(1001, 'hub shutting down');
        }),
    ),
  );
}
