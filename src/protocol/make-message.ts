import { ERROR_CATALOGUE, type ErrorCode } from './error-codes.js';
import type { MessageOf, MessageType } from './message.js';
import type { ProtocolError } from './protocol-error.js';

/** Builds a message envelope with the current time. Does not validate: callers construct typed data. */
export function makeMessage<T extends MessageType>(
  type: T,
  agentId: string,
  data: MessageOf<T>['data'],
  now: Date = new Date(),
): MessageOf<T> {
  return { type, agentId, timestamp: now.toISOString(), data } as MessageOf<T>;
}

/** The agentId the hub uses on messages it originates when no agent is bound (viewers, pre-auth). */
export const HUB_AGENT_ID = 'hub';

export function makeErrorMessage(
  code: ErrorCode,
  errorMessage: string,
  agentId: string = HUB_AGENT_ID,
  context?: Record<string, string | number | boolean | null>,
  now: Date = new Date(),
): MessageOf<'error'> {
  const entry = ERROR_CATALOGUE[code];
  return makeMessage(
    'error',
    agentId,
    {
      errorCode: code,
      errorMessage: errorMessage.slice(0, 4096),
      ...(context === undefined ? {} : { context }),
      severity: entry.severity,
      recoverable: entry.recoverable,
    },
    now,
  );
}

export function errorMessageFrom(error: ProtocolError, agentId: string = HUB_AGENT_ID): MessageOf<'error'> {
  return makeErrorMessage(error.code, error.message, agentId, error.context);
}
