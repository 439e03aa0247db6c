import { setTimeout as sleep } from 'node:timers/promises';

/** `max`: as fast as possible; otherwise the capture's own timing divided by `factor` (1 = real time). */
export type ReplaySpeed = { kind: 'max' } | { kind: 'scaled'; factor: number };

/** Parses `max`, `realtime`, `10x`, `0.5x` (or a bare number). */
export function parseSpeed(text: string): ReplaySpeed {
  const t = text.trim().toLowerCase();
  if (t === 'max') return { kind: 'max' };
  if (t === 'realtime' || t === 'real-time' || t === '1x') return { kind: 'scaled', factor: 1 };
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(t);
  const factor = m ? Number(m[1]) : Number.NaN;
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new Error(`speed must be max, realtime or a factor like 10x (got ${JSON.stringify(text)})`);
  }
  return { kind: 'scaled', factor };
}

export function formatSpeed(speed: ReplaySpeed): string {
  return speed.kind === 'max' ? 'max' : speed.factor === 1 ? 'realtime' : `${speed.factor}x`;
}

/**
 * Holds messages back until their time has come: capture time t is due at wall time start + (t − t0) / factor. Only
 * the waiting depends on the wall clock — what is processed, in which batches, never does, so every speed gives the
 * same results.
 */
export class Pacer {
  readonly #speed: ReplaySpeed;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;
  #t0: number | undefined;
  #wall0 = 0;

  constructor(
    speed: ReplaySpeed,
    now: () => number = () => performance.now(),
    wait = (ms: number) => sleep(ms),
  ) {
    this.#speed = speed;
    this.#now = now;
    this.#sleep = wait;
  }

  /** Resolves when a message stamped `t` (epoch ms) is due. */
  async waitFor(t: number): Promise<void> {
    if (this.#speed.kind === 'max' || !Number.isFinite(t)) return;
    if (this.#t0 === undefined) {
      this.#t0 = t;
      this.#wall0 = this.#now();
      return;
    }
    const due = this.#wall0 + (t - this.#t0) / this.#speed.factor;
    const ahead = due - this.#now();
    if (ahead > 1) await this.#sleep(ahead);
  }
}
