import { ERROR_CATALOGUE, type ErrorCode } from './error-codes.js';

export interface ProtocolErrorOptions {
  /** Where in the message the problem is (zod issue path), e.g. `data.rtt`. */
  path?: string;
  context?: Record<string, string | number | boolean | null>;
  cause?: unknown;
}

/** An error that maps onto one of the protocol's codes. Branch on `code`, never on the message text. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly context: Record<string, string | number | boolean | null>;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.context = options.context ?? {};
  }

  get recoverable(): boolean {
    return ERROR_CATALOGUE[this.code].recoverable;
  }

  get closeCode(): number | null {
    return ERROR_CATALOGUE[this.code].closeCode;
  }
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof ProtocolError;
}
