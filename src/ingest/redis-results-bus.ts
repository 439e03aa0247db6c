import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Message } from '../protocol/index.js';
import type { RedisKeys } from '../store/redis-keys.js';
import type { ResultsBus } from './results-bus.js';

/**
 * Results over Redis pub/sub: every hub subscribes to one channel and receives each batch's results as one JSON
 * array (the worker PUBLISHes them inside its commit script). Pub/sub is live-only: a hub disconnected from Redis
 * misses what was published meanwhile; the registry keeps the latest state of every device.
 */
export class RedisResultsBus implements ResultsBus {
  private readonly listeners = new Set<(message: Message) => void>();
  private subscriber: Redis | null = null;
  private subscribed: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly openSubscriber: () => Redis,
    private readonly keys: RedisKeys,
    private readonly logger: Logger,
  ) {}

  async publish(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    await this.publisher.publish(this.keys.results, JSON.stringify(messages));
  }

  subscribe(listener: (message: Message) => void): () => void {
    this.listeners.add(listener);
    if (this.subscriber === null && !this.closed) {
      const sub = this.openSubscriber();
      this.subscriber = sub;
      sub.on('message', (channel: string, text: string) => {
        if (channel !== this.keys.results) return;
        let messages: Message[];
        try {
          messages = JSON.parse(text) as Message[];
        } catch (err) {
          this.logger.error({ err }, 'unreadable results batch on the bus');
          return;
        }
        for (const l of this.listeners) {
          for (const m of messages) {
            try {
              l(m);
            } catch (err) {
              this.logger.error({ err }, 'results listener threw');
            }
          }
        }
      });
      this.subscribed = sub.subscribe(this.keys.results).then(
        () => undefined,
        (err: unknown) => {
          this.logger.error({ err }, 'cannot subscribe to the results channel');
        },
      );
    }
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the subscription is active (tests: nothing published before it is missed). */
  ready(): Promise<void> {
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const sub = this.subscriber;
    this.subscriber = null;
    if (sub) sub.disconnect();
  }
}
