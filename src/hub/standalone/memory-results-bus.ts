import type { ResultsBus } from '../../ingest/results-bus.js';
import type { Message } from '../../protocol/index.js';

/**
 * A results bus inside one process: `publish` calls every subscriber on the next microtask, in order. A listener
 * that throws does not stop the others.
 */
export class MemoryResultsBus implements ResultsBus {
  readonly #listeners = new Set<(message: Message) => void>();
  #closed = false;

  async publish(messages: readonly Message[]): Promise<void> {
    if (this.#closed) throw new Error('results bus is closed');
    await Promise.resolve();
    for (const message of messages) {
      for (const listener of this.#listeners) {
        try {
          listener(message);
        } catch {
          // A subscriber's failure is its own; the hub's listener logs its errors itself.
        }
      }
    }
  }

  subscribe(listener: (message: Message) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }
}
