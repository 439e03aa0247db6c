import { z } from 'zod';
import { envelope } from '../envelope.js';
import { ERROR_CODES } from '../error-codes.js';
import { LongText, Severity } from '../primitives.js';

export const ErrorCode = z.enum(ERROR_CODES);

export const ErrorMessage = envelope(
  'error',
  z.strictObject({
    errorCode: ErrorCode,
    errorMessage: LongText,
    /** Flat context; the hub puts the offending `path` here for INVALID_DATA. */
    context: z
      .record(
        z.string().min(1).max(64),
        z.union([
          z.number(),
          z.boolean(),
          z.string().max(4096),
          z.null(),
          z.array(z.union([z.string(), z.number()])),
        ]),
      )
      .optional(),
    severity: Severity,
    recoverable: z.boolean(),
  }),
);
export type ErrorMessage = z.infer<typeof ErrorMessage>;
