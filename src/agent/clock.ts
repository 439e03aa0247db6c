/** A scheduled callback; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time as the agent sees it. Every delay the agent waits (backoff, heartbeats, timeouts, pacing, probe rounds) goes
 * through this interface so tests can drive it with a fake clock instead of waiting in real time.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  schedule(ms: number, fn: () => void): TimerHandle;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
}

/** The real clock. Timers keep the process alive (the CLI must survive a 30 s backoff with no socket open). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, Math.max(1, ms));
    return { cancel: () => clearInterval(t) };
  },
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.schedule(ms, resolve);
  });
}
