import { type Logger, type LoggerOptions, pino } from 'pino';
import { redactUrl } from './auth.js';

/** Where tokens could appear in a log object; pino replaces them with `[REDACTED]`. */
export const REDACT_PATHS = [
  'authorization',
  'token',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'req.query.token',
  'query.token',
  'tokens',
];

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** Requests are logged as method, URL (token query redacted) and peer; never their headers. */
function serializeRequest(req: RequestLike): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : undefined,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

const OPTIONS = {
  redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
  serializers: { req: serializeRequest, err: pino.stdSerializers.err },
} satisfies LoggerOptions;

/**
 * The hub's logger: a child of `parent` when given, else its own pino logger writing to stderr (stdout carries the
 * CLI's one `listening on …` line). Tokens are redacted either way.
 */
export function createHubLogger(level: string, parent?: Logger): Logger {
  if (parent !== undefined) return parent.child({ component: 'hub' }, { ...OPTIONS, level });
  return pino({ ...OPTIONS, level, base: { component: 'hub' } }, pino.destination(2));
}
