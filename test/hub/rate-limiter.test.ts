import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/hub/rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst of N per minute, then refills continuously', () => {
    const limiter = new RateLimiter(60); // one per second, bucket of 60
    let t = 0;
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (limiter.take('a', t)) allowed++;
    expect(allowed).toBe(60);
    t += 500;
    expect(limiter.take('a', t)).toBe(false); // half a token
    t += 500;
    expect(limiter.take('a', t)).toBe(true);
    expect(limiter.take('a', t)).toBe(false);
    t += 10 * 60_000; // long idle: refills to the bucket size, not beyond
    allowed = 0;
    for (let i = 0; i < 100; i++) if (limiter.take('a', t)) allowed++;
    expect(allowed).toBe(60);
  });

  it('keeps one bucket per key, honours an explicit burst, and forgets keys', () => {
    const limiter = new RateLimiter(100, 2);
    expect([limiter.take('a', 0), limiter.take('a', 0), limiter.take('a', 0)]).toEqual([true, true, false]);
    expect(limiter.take('b', 0)).toBe(true);
    expect(limiter.size).toBe(2);
    limiter.forget('b');
    expect(limiter.size).toBe(1);
  });
});
