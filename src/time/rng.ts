/**
 * The seeded pseudo-random generator behind every random choice l4 makes (ephemeral ports,
 * the ISN key, link faults): xoshiro128** (Blackman and Vigna), seeded through splitmix32 so
 * that any 32-bit seed gives a well-mixed state. Same seed, same sequence, on every
 * platform: that is what makes a scenario replayable. Not for cryptography.
 */

/** splitmix32: expands a seed into well-distributed 32-bit words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A deterministic random source. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator from a seed (any integer; only the low 32 bits and the sign matter). */
  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.#a = splitmix32(st);
    this.#b = splitmix32(st);
    this.#c = splitmix32(st);
    this.#d = splitmix32(st);
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1; // the all-zero state is a fixed point
  }

  /** The next unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** An integer in [0, n) without modulo bias (n ≤ 2^32). */
  nextBelow(n: number): number {
    if (n <= 0) throw new RangeError(`nextBelow(${n})`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** An integer in [lo, hi], inclusive. */
  nextInt(lo: number, hi: number): number {
    return lo + this.nextBelow(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.nextFloat() < p;
  }

  /** A new generator whose sequence is independent of this one's continuation (for sub-systems). */
  fork(): Rng {
    return new Rng(this.nextU32() ^ 0x5bd1e995);
  }

  /** Fills `out` with random bytes. */
  fill(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i += 4) {
      let x = this.nextU32();
      for (let j = 0; j < 4 && i + j < out.length; j++) { out[i + j] = x & 0xff; x >>>= 8; }
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) | 0;
}
