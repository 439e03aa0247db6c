/**
 * Client-side token bucket that keeps the agent under the hub's per-agent rate limit (the spec: 100 messages per
 * minute per agent) instead of discovering it through RATE_LIMITED refusals. Messages that must wait stay in the
 * outbox, where the buffer bound applies.
 *
 * The default paces at 95 % of the limit with a small burst, so clock skew and network jitter between the agent's
 * bucket and the hub's do not produce refusals. When the hub refuses anyway, `penalise()` lowers the rate by 20 %
 * (down to 10 % of the configured rate); every quiet minute recovers 10 %.
 */
export class SendPacer {
  private tokens: number;
  private at: number;
  private currentPerMinute: number;
  private lastPenaltyAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = 0;

  /**
   * @param perMinute messages per minute; `Infinity` (or 0) disables pacing
   * @param burst messages that may leave at once after a quiet period
   */
  constructor(
    readonly perMinute: number,
    private readonly burst: number,
    now: number,
  ) {
    this.currentPerMinute = this.unlimited ? Number.POSITIVE_INFINITY : perMinute;
    this.tokens = burst;
    this.at = now;
  }

  get unlimited(): boolean {
    return this.perMinute === 0 || !Number.isFinite(this.perMinute);
  }

  /** The pacing rate in force now (after penalties), messages per minute. */
  get rate(): number {
    return this.currentPerMinute;
  }

  /** Takes a token if one is available now. */
  tryTake(now: number): boolean {
    if (now < this.pausedUntil) return false;
    if (this.unlimited) return true;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token even when none is left (greeting messages that must go first); later sends wait longer. */
  consume(now: number): void {
    if (this.unlimited) return;
    this.refill(now);
    this.tokens -= 1;
  }

  /** Milliseconds until `tryTake` can succeed (0 = now). */
  waitMs(now: number): number {
    const pause = Math.max(0, this.pausedUntil - now);
    if (this.unlimited) return pause;
    this.refill(now);
    const missing = Math.max(0, 1 - this.tokens);
    return Math.max(pause, Math.ceil(missing / (this.currentPerMinute / 60_000)));
  }

  /** Nothing leaves before `now + ms` (RATE_LIMITED, QUEUE_FULL). */
  pause(now: number, ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
  }

  /** The hub refused a message for its rate: slow down. */
  penalise(now: number): void {
    this.refill(now);
    this.lastPenaltyAt = now;
    if (this.unlimited) return;
    this.currentPerMinute = Math.max(this.perMinute * 0.1, this.currentPerMinute * 0.8);
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(now: number): void {
    if (!this.unlimited && now - this.lastPenaltyAt >= 60_000 && this.currentPerMinute < this.perMinute) {
      const quietMinutes = Math.floor((now - this.lastPenaltyAt) / 60_000);
      this.currentPerMinute = Math.min(this.perMinute, this.currentPerMinute * 1.1 ** quietMinutes);
      this.lastPenaltyAt = now;
    }
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.currentPerMinute) / 60_000);
      this.at = now;
    }
  }
}
