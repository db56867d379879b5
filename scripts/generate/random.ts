/**
 * Seeded randomness for the demo-city generator. Math.random is never used: every value in the output
 * comes from an sfc32 stream whose state is derived from (seed, labels), so the output is a pure
 * function of the seed and independent parts (one household, one grid) can be regenerated lazily
 * without replaying everything before them.
 */

/** 32-bit string hash (FNV-1a followed by a murmur3 finaliser for avalanche). */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let k = 0; k < text.length; k++) {
    h ^= text.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** splitmix32 step, used only to spread a 32-bit seed over sfc32's 128-bit state. */
function splitmix32(state: number): [next: number, output: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): fast, passes PractRand, 32-bit integer maths only. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = seed | 0;
    let out: number;
    [state, out] = splitmix32(state);
    this.a = out;
    [state, out] = splitmix32(state);
    this.b = out;
    [, out] = splitmix32(state);
    this.c = out;
    this.d = 1;
    // Discard the first outputs: sfc32 mixes poorly for a few rounds after seeding.
    for (let k = 0; k < 12; k++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /**
   * Approximately normal (Irwin–Hall sum of four uniforms, rescaled): avoids Math.log/Math.cos so
   * the stream is obviously identical on every platform, and tails are bounded at ±3.46 sd.
   */
  normal(mean: number, sd: number): number {
    const sum = this.next() + this.next() + this.next() + this.next();
    return mean + (sum - 2) * Math.sqrt(3) * sd;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let k = items.length - 1; k > 0; k--) {
      const other = Math.floor(this.next() * (k + 1));
      const held = items[k] as T;
      items[k] = items[other] as T;
      items[other] = held;
    }
    return items;
  }
}

/** An independent stream for one named part of the city, e.g. rngFor(seed, 'household', key). */
export function rngFor(seed: number, ...labels: readonly (string | number)[]): Rng {
  return new Rng(hashString(labels.join('\u0000'), seed));
}

/** Precomputed cumulative weights, so drawing from a long weighted list (surnames) is a binary search. */
export class WeightedTable<T> {
  private readonly items: readonly T[];
  private readonly cumulative: Float64Array;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new RangeError('empty weighted table');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let total = 0;
    entries.forEach(([, weight], index) => {
      total += weight;
      this.cumulative[index] = total;
    });
  }

  draw(rng: Rng): T {
    const target = rng.next() * (this.cumulative[this.cumulative.length - 1] ?? 0);
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}
