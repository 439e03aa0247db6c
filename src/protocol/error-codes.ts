/**
 * The catalogue of error codes: the spec's seven plus our documented extensions. `closeCode` is the WebSocket close
 * code used when the error ends the connection (4xxx = application codes, mirroring HTTP statuses).
 */
export const ERROR_CATALOGUE = {
  AUTH_FAILED: {
    description:
      'Authentication failure: missing or wrong token, agentId not bound to the token, or a viewer writing',
    severity: 'high',
    recoverable: false,
    closeCode: 4401,
    spec: true,
  },
  CONN_TIMEOUT: {
    description: 'Connection timeout: nothing received within the heartbeat timeout (90 s by default)',
    severity: 'medium',
    recoverable: true,
    closeCode: 4408,
    spec: true,
  },
  INVALID_DATA: {
    description:
      'Invalid message format: not JSON, not an object, unknown type, wrong types or out-of-range values',
    severity: 'low',
    recoverable: true,
    closeCode: 1007,
    spec: true,
  },
  CONN_FAILED: {
    description:
      "Failed to connect to a target device (used by the spec's own error example, though missing from its code list)",
    severity: 'medium',
    recoverable: true,
    closeCode: null,
    spec: true,
  },
  SCAN_FAILED: {
    description: 'Device scan failure (reported by an agent)',
    severity: 'medium',
    recoverable: true,
    closeCode: null,
    spec: true,
  },
  PING_FAILED: {
    description: 'Ping probe failure (reported by an agent)',
    severity: 'low',
    recoverable: true,
    closeCode: null,
    spec: true,
  },
  ML_ERROR: {
    description: 'ML model error: a model could not be loaded, trained or run',
    severity: 'medium',
    recoverable: true,
    closeCode: null,
    spec: true,
  },
  INTEGRITY_VIOLATION: {
    description: 'Data integrity violation',
    severity: 'high',
    recoverable: false,
    closeCode: null,
    spec: true,
  },
  RATE_LIMITED: {
    description:
      'Extension: more messages than the per-agent rate limit (100 per minute by default); message refused',
    severity: 'low',
    recoverable: true,
    closeCode: 4429,
    spec: false,
  },
  QUEUE_FULL: {
    description:
      'Extension: the ingestion queue is unreachable and the hub buffer is full; the message was not accepted, resend later',
    severity: 'high',
    recoverable: true,
    closeCode: 4503,
    spec: false,
  },
} as const satisfies Record<
  string,
  {
    description: string;
    severity: 'low' | 'medium' | 'high' | 'critical';
    recoverable: boolean;
    closeCode: number | null;
    spec: boolean;
  }
>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];
