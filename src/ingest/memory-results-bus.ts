import { type Logger, pino } from 'pino';
import type { Message } from '../protocol/index.js';
import type { ResultsBus } from './results-bus.js';

/** Results in process (embedded): delivered synchronously to every subscriber. */
export class MemoryResultsBus implements ResultsBus {
  private readonly listeners = new Set<(message: Message) => void>();

  /** @param logger where a throwing listener is reported; @defaultValue silent */
  constructor(private readonly logger: Logger = pino({ level: 'silent' })) {}

  async publish(messages: readonly Message[]): Promise<void> {
    this.deliver(messages);
  }

  deliver(messages: readonly Message[]): void {
    for (const listener of this.listeners) {
      for (const message of messages) {
        try {
          listener(message);
        } catch (err) {
          this.logger.error({ err }, 'results listener threw');
        }
      }
    }
  }

  subscribe(listener: (message: Message) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
