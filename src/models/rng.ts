// Seeded pseudo-random numbers for LoRA init, dropout masks and sampling. Seeds are explicit arguments, never ambient;
// the generator state is four uint32 words so a checkpoint can store and resume it exactly.
// Algorithm: xoshiro128** (Blackman & Vigna), seeded through splitmix32 from a number or a string.

export type RngState = readonly [number, number, number, number];

export class Rng {
  private s: Uint32Array;

  private constructor(state: RngState) {
    this.s = Uint32Array.from(state);
    if (this.s.every((w) => w === 0)) throw new Error('Rng: the all-zero state is invalid for xoshiro128**');
  }

  /** A generator from a seed: a number (any integer; only the low 53 bits matter) or a string (hashed). */
  static fromSeed(seed: number | string): Rng {
    let x = typeof seed === 'number' ? seedFromNumber(seed) : seedFromString(seed);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      words.push(splitmix32(x));
    }
    return new Rng(words as unknown as RngState);
  }

  static fromState(state: RngState): Rng {
    return new Rng(state);
  }

  get state(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /** Next uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function splitmix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function seedFromNumber(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`Rng: seed ${seed} must be a safe integer`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return (splitmix32(lo) ^ Math.imul(hi, 0x27d4eb2d)) >>> 0;
}

/** FNV-1a over the UTF-16 code units, then mixed: string seeds such as `${runSeed}:${tensorName}`. */
function seedFromString(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return splitmix32(h);
}
