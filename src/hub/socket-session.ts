import type { RawData, WebSocket } from 'ws';
import {
  dispatch,
  type ErrorCode,
  errorMessageFrom,
  isIngestMessage,
  type Message,
  makeErrorMessage,
  ProtocolError,
  parseFrame,
} from '../protocol/index.js';
import type { Principal } from './auth.js';
import type { Connection } from './connection-registry.js';
import type { HubContext } from './hub-context.js';
import { ACCEPT_HANDLERS } from './message-handlers.js';

/**
 * Text and binary frames are both decoded as strict UTF-8 here (ws's own check is off): invalid UTF-8 gets an
 * INVALID_DATA reply like any other bad frame, instead of ws closing the connection with 1007.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Frames one socket may hand the hub in one event-loop turn; past that its reading pauses until the turn's end
 * (`setImmediate`). Node reads a readable socket up to 32 × 64 KB in one go, so 16 agents whose frames had piled up
 * (a hub that fell behind for a moment, an overload) made a single turn of ~130,000 frames — seconds — during which
 * nothing else ran: not the sink's timers, not the Redis replies its adds wait for. On Redis the sink then drained
 * ≤ 8 × 500 records per turn, less than arrived, and the hub stayed refusing everything (QUEUE_FULL) until the load
 * dropped. With the cap a turn is at most a chunk or two per socket (this many frames plus what ws had already read),
 * so queue adds, timers and results keep their turn under any load; a socket that keeps up never reaches it.
 * docs/pipeline.md, "Latency".
 */
const FRAMES_PER_TURN = 256;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * Wires one authenticated socket into the hub: frame handling, silence timeout, pong tracking, clean-up. Every
 * listener catches what it calls, so nothing thrown here can reach the process.
 */
export function openSession(
  ctx: HubContext,
  socket: WebSocket,
  principal: Principal,
  remoteAddress: string,
): Connection {
  const id = ctx.connections.nextId();
  const conn: Connection = {
    id,
    principal,
    socket,
    remoteAddress,
    connectedAt: Date.now(),
    bucket: principal.role === 'agent' ? `agent:${principal.agentId}` : `conn:${id}`,
    replyAgentId: principal.role === 'agent' ? principal.agentId : 'hub',
    alive: true,
    accepted: 0,
    rejected: 0,
  };
  ctx.connections.add(conn);
  ctx.metrics.connected(principal.role, 1);
  const log = ctx.log.child(
    principal.role === 'agent' ? { conn: id, agentId: principal.agentId } : { conn: id, role: 'viewer' },
  );
  log.info({ remoteAddress }, 'connected');

  // Viewers only listen, so silence is normal for them; ws ping/pong still catches their dead peers.
  let silence: NodeJS.Timeout | undefined;
  if (principal.role === 'agent') {
    silence = setTimeout(() => onSilence(ctx, conn), ctx.config.heartbeatTimeoutMs);
    silence.unref();
  }

  let framesThisTurn = 0;
  const endOfTurn = () => {
    framesThisTurn = 0;
    if (socket.isPaused) socket.resume();
  };
  socket.on('message', (data, isBinary) => {
    if (framesThisTurn++ === 0) setImmediate(endOfTurn);
    else if (framesThisTurn === FRAMES_PER_TURN) socket.pause();
    silence?.refresh();
    try {
      handleFrame(ctx, conn, data, isBinary);
    } catch (error) {
      log.error({ err: error }, 'frame handling failed');
    }
  });
  socket.on('pong', () => {
    conn.alive = true;
  });
  socket.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // ws has already answered with close 1009; only this connection is affected.
      ctx.metrics.rejected('INVALID_DATA');
      log.warn({ limit: ctx.config.maxPayload }, 'frame over the size limit: connection closed with 1009');
    } else {
      log.debug({ err: error }, 'socket error');
    }
  });
  socket.on('close', (code, reason) => {
    if (silence !== undefined) clearTimeout(silence);
    if (ctx.connections.remove(conn)) ctx.metrics.connected(principal.role, -1);
    if (principal.role === 'viewer') ctx.limiter.forget(conn.bucket);
    log.info({ code, reason: reason.toString('utf8').slice(0, 123) }, 'disconnected');
  });
  return conn;
}

function onSilence(ctx: HubContext, conn: Connection): void {
  try {
    const seconds = ctx.config.heartbeatTimeoutMs / 1000;
    reply(
      ctx,
      conn,
      makeErrorMessage('CONN_TIMEOUT', `nothing received for ${seconds} s`, conn.replyAgentId, {
        timeoutSeconds: seconds,
      }),
    );
    ctx.metrics.rejected('CONN_TIMEOUT');
    conn.socket.close(4408, 'CONN_TIMEOUT');
  } catch (error) {
    ctx.log.error({ err: error, conn: conn.id }, 'closing a silent connection failed');
    conn.socket.terminate();
  }
}

function reply(ctx: HubContext, conn: Connection, message: Message): void {
  ctx.fanOut.send(conn, JSON.stringify(message));
}

function refuse(
  ctx: HubContext,
  conn: Connection,
  message: Message & { type: 'error' },
  started: number,
): void {
  conn.rejected += 1;
  if (conn.principal.role === 'agent') ctx.connections.agent(conn.principal.agentId).rejected += 1;
  ctx.metrics.rejected(message.data.errorCode as ErrorCode);
  reply(ctx, conn, message);
  ctx.metrics.handlingSeconds.observe((performance.now() - started) / 1000);
}

function handleFrame(ctx: HubContext, conn: Connection, data: RawData, isBinary: boolean): void {
  const started = performance.now();
  if (!ctx.limiter.take(conn.bucket, started)) {
    const limit = ctx.config.rateLimit.messagesPerMinute;
    refuse(
      ctx,
      conn,
      makeErrorMessage('RATE_LIMITED', `over the limit of ${limit} messages per minute`, conn.replyAgentId, {
        limitPerMinute: limit,
      }),
      started,
    );
    return;
  }
  const principal = conn.principal;
  if (principal.role === 'viewer') {
    refuse(ctx, conn, makeErrorMessage('AUTH_FAILED', 'viewer connections are read-only'), started);
    return;
  }
  let text: string;
  try {
    text = strictUtf8.decode(toBuffer(data));
  } catch {
    const kind = isBinary ? 'binary' : 'text';
    refuse(
      ctx,
      conn,
      makeErrorMessage('INVALID_DATA', `${kind} frame is not valid UTF-8`, conn.replyAgentId, { path: '' }),
      started,
    );
    return;
  }
  const parsed = parseFrame(text);
  if (!parsed.ok) {
    refuse(ctx, conn, errorMessageFrom(parsed.error, conn.replyAgentId), started);
    return;
  }
  const message = parsed.message;
  if (message.agentId !== principal.agentId) {
    refuse(
      ctx,
      conn,
      makeErrorMessage('AUTH_FAILED', 'agentId is not the agent this token belongs to', conn.replyAgentId, {
        path: 'agentId',
      }),
      started,
    );
    return;
  }
  accept(ctx, conn, message, text, started);
}

function accept(ctx: HubContext, conn: Connection, message: Message, frame: string, started: number): void {
  const receivedAt = Date.now();
  if (isIngestMessage(message)) {
    let refused: ProtocolError | null;
    try {
      // The frame text travels with the message: it parses to exactly the accepted message (strict schemas, no
      // coercion), so the queue puts it on the wire as it is instead of serialising the message again.
      refused = ctx.sink.offer({ message, hubId: ctx.config.hubId, receivedAt, frame });
    } catch (cause) {
      // The contract says offer never throws; if one does, the message was not kept and the agent must resend.
      ctx.log.error({ err: cause }, 'ingest sink threw');
      refused = new ProtocolError('QUEUE_FULL', 'the ingestion queue failed; resend later', { cause });
    }
    if (refused !== null) {
      refuse(ctx, conn, errorMessageFrom(refused, conn.replyAgentId), started);
      return;
    }
  }
  const agent = ctx.connections.agent(message.agentId);
  agent.accepted += 1;
  agent.lastMessageAt = receivedAt;
  conn.accepted += 1;
  dispatch(ACCEPT_HANDLERS, message, { agent, devices: ctx.devices, receivedAt });
  if (ctx.capture !== undefined || ctx.connections.viewers.size > 0) {
    // The frame verbatim: it parses to exactly the accepted message (strict schemas, no coercion). Only a frame
    // spread over several lines (pretty-printed) is re-serialised, so that a capture line is one message.
    const text = frame.includes('\n') || frame.includes('\r') ? JSON.stringify(message) : frame;
    if (ctx.capture !== undefined) {
      ctx.capture.append(text);
      ctx.metrics.captureLines.inc();
    }
    ctx.fanOut.toViewers(text);
  }
  ctx.metrics.accepted(message.type);
  ctx.metrics.handlingSeconds.observe((performance.now() - started) / 1000);
}
