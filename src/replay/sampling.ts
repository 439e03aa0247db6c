// Bounded samples of unbounded streams, deterministic so that two replays of one capture give the same report.

/** mulberry32: a tiny seeded PRNG; quality is ample for choosing sample slots. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniform sample of at most `capacity` items (Vitter's algorithm R): exact — every item kept — until the stream
 * outgrows it.
 */
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  readonly #capacity: number;
  readonly #random: () => number;

  constructor(capacity: number, seed = 1) {
    this.#capacity = capacity;
    this.#random = mulberry32(seed);
  }

  add(item: T): void {
    this.seen += 1;
    if (this.items.length < this.#capacity) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.#random() * this.seen);
    if (j < this.#capacity) this.items[j] = item;
  }

  /** True when every item seen is in the sample. */
  get exact(): boolean {
    return this.seen === this.items.length;
  }
}

/**
 * A time series thinned to at most `capacity` points as it streams: when full, neighbours are merged pairwise (the
 * one with the larger `weight` survives, so spikes are never thinned away) and the stride doubles.
 */
export class Decimator<T> {
  items: T[] = [];
  #stride = 1;
  #pending: T | undefined;
  #count = 0;
  readonly #capacity: number;
  readonly #weight: (item: T) => number;

  constructor(capacity: number, weight: (item: T) => number = () => 0) {
    this.#capacity = Math.max(2, capacity);
    this.#weight = weight;
  }

  add(item: T): void {
    if (this.#pending === undefined || this.#weight(item) > this.#weight(this.#pending)) this.#pending = item;
    this.#count += 1;
    if (this.#count < this.#stride) return;
    this.items.push(this.#pending);
    this.#pending = undefined;
    this.#count = 0;
    if (this.items.length >= this.#capacity) {
      const merged: T[] = [];
      for (let i = 0; i < this.items.length; i += 2) {
        const a = this.items[i]!;
        const b = this.items[i + 1];
        merged.push(b !== undefined && this.#weight(b) > this.#weight(a) ? b : a);
      }
      this.items = merged;
      this.#stride *= 2;
    }
  }

  /** The kept points, plus the last partial group (so the series always ends at the latest point). */
  values(): T[] {
    return this.#pending === undefined ? [...this.items] : [...this.items, this.#pending];
  }
}
