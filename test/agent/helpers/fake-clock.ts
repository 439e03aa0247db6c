import type { Clock, TimerHandle } from '../../../src/agent/clock.js';

interface Timer {
  id: number;
  at: number;
  every: number | undefined;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when the test says so. Timers due at the same instant run in creation order. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: Timer[] = [];
  /** Every delay passed to `schedule`, in order (what backoff tests read). */
  readonly scheduled: number[] = [];

  constructor(start = Date.UTC(2025, 5, 16, 18, 45, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(ms: number, fn: () => void): TimerHandle {
    this.scheduled.push(ms);
    return this.add(ms, undefined, fn);
  }

  every(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, ms, fn);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in time order. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.current = Math.max(this.current, due.at);
      if (due.every === undefined) due.cancelled = true;
      else due.at += due.every;
      due.fn();
    }
    this.current = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  /** Pending one-shot and repeating timers. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private add(ms: number, every: number | undefined, fn: () => void): TimerHandle {
    const timer: Timer = {
      id: this.nextId++,
      at: this.current + Math.max(0, ms),
      every,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}
