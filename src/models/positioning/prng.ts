// Seeded, reproducible pseudo-random numbers (no Math.random in the simulator or in training): mulberry32 for uniform
// doubles, Box–Muller for Gaussians. `fork(label)` derives an independent stream, so adding a device does not
// change the noise another device sees.

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number | string) {
    this.state = (typeof seed === 'string' ? hashString(seed) : Math.floor(seed) >>> 0) ^ 0x9e3779b9;
    // Warm up so nearby seeds give unrelated streams.
    for (let i = 0; i < 4; i++) this.nextUint32();
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  gaussian(mean: number, sigma: number): number {
    return mean + sigma * this.normal();
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** An independent stream derived from this one's seed material and a label. */
  fork(label: string): Rng {
    return new Rng((this.nextUint32() ^ hashString(label)) >>> 0);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
