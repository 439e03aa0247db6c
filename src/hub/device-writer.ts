import type { Logger } from 'pino';
import type { DeviceRegistry } from '../store/device-registry.js';
import type { HubMetrics } from './hub-metrics.js';

/**
 * Applies writes to the device registry one device at a time, in arrival order: a registry `upsert` is a
 * read-modify-write in most stores, so two writes of one device must not overlap. Writes of different devices run
 * concurrently. Failures are logged and counted, never thrown into a socket handler.
 */
export class DeviceWriter {
  readonly #registry: DeviceRegistry;
  readonly #log: Logger;
  readonly #metrics: HubMetrics;
  readonly #maxPending: number;
  readonly #tails = new Map<string, Promise<unknown>>();
  #pending = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(registry: DeviceRegistry, maxPending: number, log: Logger, metrics: HubMetrics) {
    this.#registry = registry;
    this.#maxPending = maxPending;
    this.#log = log;
    this.#metrics = metrics;
  }

  get registry(): DeviceRegistry {
    return this.#registry;
  }

  get pending(): number {
    return this.#pending;
  }

  /** Queues a fire-and-forget write; false (skipped, counted) when too many are already pending. */
  enqueue(deviceId: string, task: (registry: DeviceRegistry) => Promise<unknown>): boolean {
    if (this.#pending >= this.#maxPending) {
      this.#metrics.registrySkipped.inc();
      this.#log.warn({ deviceId, pending: this.#pending }, 'device registry is too slow: write skipped');
      return false;
    }
    this.run(deviceId, task).catch((error: unknown) => {
      this.#metrics.registryErrors.inc();
      this.#log.error({ err: error, deviceId }, 'device registry write failed');
    });
    return true;
  }

  /** Runs `task` after the device's earlier writes; the caller gets its result or error. */
  run<T>(deviceId: string, task: (registry: DeviceRegistry) => Promise<T>): Promise<T> {
    this.#pending += 1;
    const previous = this.#tails.get(deviceId);
    const result = (previous === undefined ? Promise.resolve() : previous.then(noop, noop)).then(() =>
      task(this.#registry),
    );
    const tail = result.then(noop, noop).finally(() => {
      this.#pending -= 1;
      if (this.#tails.get(deviceId) === tail) this.#tails.delete(deviceId);
      if (this.#pending === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    });
    this.#tails.set(deviceId, tail);
    return result;
  }

  /** Resolves when no write is pending (shutdown, tests). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

function noop(): void {}
