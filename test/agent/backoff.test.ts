import { describe, expect, it } from 'vitest';
import { backoffDelayMs, backoffSchedule, SPEC_BACKOFF } from '../../src/agent/backoff.js';

describe('backoff', () => {
  it("is the spec's schedule: 1, 2, 4, 8, 16 s, capped at 30 s, 10 attempts", () => {
    expect(backoffSchedule()).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
    expect(SPEC_BACKOFF.maxAttempts).toBe(10);
  });

  it('stays capped for huge attempt numbers', () => {
    expect(backoffDelayMs(5000)).toBe(30_000);
  });

  it('spreads delays within ±jitter when asked', () => {
    const policy = { ...SPEC_BACKOFF, jitter: 0.2 };
    expect(backoffDelayMs(3, policy, 0)).toBe(3200);
    expect(backoffDelayMs(3, policy, 0.999999)).toBe(4800);
  });

  it('refuses attempt numbers below 1', () => {
    expect(() => backoffDelayMs(0)).toThrow(RangeError);
  });
});
