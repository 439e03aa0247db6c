import type { Message, MessageType } from '../protocol/index.js';

/** A message waiting to be written to the hub, with its frame already serialised (validated once, sent as is). */
export interface OutboxEntry {
  message: Message;
  frame: string;
  /** Epoch ms when the agent produced it. */
  producedAt: number;
  /** Only worth sending on the current connection (register, heartbeats, health): never re-queued nor buffered. */
  ephemeral: boolean;
  /** How many times it was written to a socket before (re-queued after a disconnect, QUEUE_FULL, RATE_LIMITED). */
  sends: number;
}

export interface OutboxStats {
  /** Entries waiting now. */
  size: number;
  capacity: number;
  /** Entries dropped (oldest first) because the outbox was full, since the agent started. */
  dropped: number;
  droppedByType: Partial<Record<MessageType, number>>;
  /** The most entries ever waiting at once. */
  highWater: number;
}

/**
 * The agent's bounded offline buffer (the spec: "buffer up to 1000 messages during disconnection"). A ring buffer:
 * O(1) at both ends. When full, the OLDEST entry is dropped, counted and handed to `onDrop` — fresh probes are worth
 * more than stale ones, and the count is reported in every heartbeat (`droppedMessages`).
 */
export class Outbox {
  private slots: (OutboxEntry | undefined)[];
  private head = 0;
  private count = 0;
  private droppedTotal = 0;
  private readonly droppedByType: Partial<Record<MessageType, number>> = {};
  private highWater = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop: (entry: OutboxEntry) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.slots = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends at the back (newest); drops the oldest when full. */
  push(entry: OutboxEntry): void {
    if (this.count === this.capacity) this.drop(this.shiftUnchecked());
    this.slots[(this.head + this.count) % this.capacity] = entry;
    this.count++;
    this.highWater = Math.max(this.highWater, this.count);
  }

  /**
   * Puts entries back at the front, keeping their order (they were sent before everything waiting now). When that
   * overflows, the oldest — which are these re-queued entries themselves — are dropped.
   */
  requeueFront(entries: readonly OutboxEntry[]): void {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (this.count === this.capacity) {
        // Full: the entry being re-queued is older than everything inside, so it is the one to drop.
        this.drop(entry);
        continue;
      }
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.slots[this.head] = entry;
      this.count++;
    }
    this.highWater = Math.max(this.highWater, this.count);
  }

  peek(): OutboxEntry | undefined {
    return this.count === 0 ? undefined : this.slots[this.head];
  }

  shift(): OutboxEntry | undefined {
    return this.count === 0 ? undefined : this.shiftUnchecked();
  }

  /** Removes (without counting them as dropped) the entries matching `predicate`; returns how many. */
  removeWhere(predicate: (entry: OutboxEntry) => boolean): number {
    const keep = this.drain();
    let removed = 0;
    for (const entry of keep) {
      if (predicate(entry)) removed++;
      else this.push(entry);
    }
    return removed;
  }

  /** Removes and returns everything, oldest first. */
  drain(): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (let e = this.shift(); e !== undefined; e = this.shift()) out.push(e);
    return out;
  }

  stats(): OutboxStats {
    return {
      size: this.count,
      capacity: this.capacity,
      dropped: this.droppedTotal,
      droppedByType: { ...this.droppedByType },
      highWater: this.highWater,
    };
  }

  private shiftUnchecked(): OutboxEntry {
    const entry = this.slots[this.head]!;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return entry;
  }

  private drop(entry: OutboxEntry): void {
    this.droppedTotal++;
    const type = entry.message.type;
    this.droppedByType[type] = (this.droppedByType[type] ?? 0) + 1;
    this.onDrop(entry);
  }
}
