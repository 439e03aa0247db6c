/**
 * Token buckets keyed by agent (or by connection for viewers): `burst` tokens, refilled continuously at
 * `perMinute / 60 000` tokens per millisecond. One bucket per agent is shared by all of that agent's connections to
 * this hub process, so opening more sockets does not raise an agent's allowance.
 */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number, burst: number = Math.max(1, Math.ceil(perMinute))) {
    this.#ratePerMs = perMinute / 60_000;
    this.#burst = burst;
  }

  /** Takes one token; false when the bucket is empty (the message must be refused). */
  take(key: string, now: number = performance.now()): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#ratePerMs);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets a key (a closed viewer connection); agents keep their bucket so reconnecting does not refill it. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
