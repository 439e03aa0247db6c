import type { z } from 'zod';
import { MESSAGE_TYPES, Message, type MessageType } from './message.js';
import { ProtocolError } from './protocol-error.js';

/** The spec's message size limit: 1 MB per message. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export type ParseResult = { ok: true; message: Message } | { ok: false; error: ProtocolError };

const KNOWN_TYPES: ReadonlySet<string> = new Set(MESSAGE_TYPES);

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && KNOWN_TYPES.has(value);
}

/** `data.measurements.0.rtt` — the form used in error replies and docs. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/**
 * String(value) for an error message, for any value: an object without a prototype (`Object.create(null)`, or one
 * whose `__proto__` was set to null) has no toString, and String() would throw on it. JSON.parse never builds one, but
 * parseMessage takes already-decoded values and promises not to throw.
 */
function describeValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function invalid(message: string, path: string, extra: Record<string, string | number> = {}): ParseResult {
  return {
    ok: false,
    error: new ProtocolError('INVALID_DATA', message, { path, context: { path, ...extra } }),
  };
}

/** Validates an already-decoded value. Never throws. */
export function parseMessage(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('message must be a JSON object', '');
  }
  const type = (value as { type?: unknown }).type;
  if (type === undefined) return invalid('message has no "type"', 'type');
  if (!isMessageType(type)) {
    return invalid(`unknown message type ${JSON.stringify(describeValue(type)).slice(0, 80)}`, 'type');
  }
  const result = Message.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  return fromZodError(result.error);
}

function fromZodError(error: z.ZodError): ParseResult {
  const first = error.issues[0];
  const path = first ? formatPath(first.path) : '';
  const detail = first ? first.message : 'invalid message';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return invalid(`${path || 'message'}: ${detail}${more}`, path, { issues: error.issues.length });
}

/** Decodes and validates one frame's text. Never throws. */
export function parseFrame(frame: string | Buffer): ParseResult {
  const length = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  if (length > MAX_MESSAGE_BYTES) {
    return invalid(`message of ${length} bytes exceeds the 1 MB limit`, '', { bytes: length });
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof frame === 'string' ? frame : frame.toString('utf8'));
  } catch (cause) {
    return {
      ok: false,
      error: new ProtocolError('INVALID_DATA', `frame is not valid JSON: ${(cause as Error).message}`, {
        path: '',
        context: { path: '' },
      }),
    };
  }
  return parseMessage(value);
}
