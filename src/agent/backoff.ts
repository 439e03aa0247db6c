/**
 * The spec's reconnection strategy: exponential backoff 1 s, 2 s, 4 s, 8 s, 16 s, capped at 30 s, and 10 attempts
 * before manual intervention is needed.
 */
export interface BackoffPolicy {
  /** Delay before the first retry, ms. @defaultValue 1000 */
  initialDelayMs: number;
  /** Growth factor between retries. @defaultValue 2 */
  factor: number;
  /** Cap on any single delay, ms. @defaultValue 30000 */
  maxDelayMs: number;
  /** Retries after a failure before giving up. @defaultValue 10 */
  maxAttempts: number;
  /**
   * Fraction of each delay randomised (0 = exactly the spec's schedule). A fleet restarted at once can set e.g. 0.2
   * so its agents do not reconnect in lockstep. @defaultValue 0
   */
  jitter: number;
}

export const SPEC_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 30_000,
  maxAttempts: 10,
  jitter: 0,
});

/**
 * Delay before retry number `attempt` (1-based): 1000, 2000, 4000, 8000, 16000, 30000, 30000, … with the defaults.
 * `random` in [0, 1) is only used when jitter > 0.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = SPEC_BACKOFF, random = 0.5): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be ≥ 1, got ${attempt}`);
  // Computed in log space so a large attempt number cannot overflow to Infinity before the cap applies.
  const exponent = attempt - 1;
  const uncapped =
    exponent * Math.log(policy.factor) > Math.log(policy.maxDelayMs / policy.initialDelayMs)
      ? policy.maxDelayMs
      : policy.initialDelayMs * policy.factor ** exponent;
  const base = Math.min(policy.maxDelayMs, uncapped);
  if (policy.jitter <= 0) return base;
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random));
}

/** The whole schedule, for docs and tests: `[1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]`. */
export function backoffSchedule(policy: BackoffPolicy = SPEC_BACKOFF): number[] {
  return Array.from({ length: policy.maxAttempts }, (_, i) =>
    backoffDelayMs(i + 1, { ...policy, jitter: 0 }),
  );
}
