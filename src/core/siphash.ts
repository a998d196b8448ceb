/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed
 * hash behind l4's initial sequence numbers (RFC 6528) and ephemeral port offsets (RFC 6056).
 * Both RFCs ask for a pseudo-random function of a few header fields and a secret; SipHash is
 * what Linux uses for the same job, and it is short enough to own.
 *
 * Contract: a 16-byte key, any message, a 64-bit output. The 64-bit words of the algorithm are
 * held as pairs of unsigned 32-bit halves (high, low) so that no BigInt is needed; the output
 * is offered as the eight bytes the reference implementation prints (least significant
 * first), as a `bigint`, or truncated to its low 32 bits. Checked against the 64 vectors of
 * the reference implementation (`vectors_sip64`) in test/core/siphash.test.ts.
 */

/** Bytes in a SipHash key. */
export const SIPHASH_KEY_LEN = 16;

/** Reads the little-endian 32-bit word at `bytes[at]`. */
function le32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * The four 64-bit state words v0..v3 as (high, low) pairs: v[0], v[1] = v0; v[2], v[3] = v1;
 * v[4], v[5] = v2; v[6], v[7] = v3. A Uint32Array stores every result modulo 2^32.
 */
type State = Uint32Array;

/** `v[a] += v[b]` on 64-bit words (indices of the high halves). */
function add(v: State, a: number, b: number): void {
  const lo = v[a + 1]! + v[b + 1]!;
  v[a] = v[a]! + v[b]! + (lo > 0xffffffff ? 1 : 0);
  v[a + 1] = lo;
}

/** `v[a] ^= v[b]` on 64-bit words. */
function xor(v: State, a: number, b: number): void {
  v[a] = v[a]! ^ v[b]!;
  v[a + 1] = v[a + 1]! ^ v[b + 1]!;
}

/** Rotates the 64-bit word at `a` left by `n` bits, 0 < n < 64. */
function rotl(v: State, a: number, n: number): void {
  let hi = v[a]!;
  let lo = v[a + 1]!;
  if (n >= 32) { const t = hi; hi = lo; lo = t; n -= 32; }
  if (n > 0) {
    const h = (hi << n) | (lo >>> (32 - n));
    lo = (lo << n) | (hi >>> (32 - n));
    hi = h;
  }
  v[a] = hi;
  v[a + 1] = lo;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

/** One SipRound (the paper, section 2, figure 2.1). */
function sipRound(v: State): void {
  add(v, V0, V1); rotl(v, V1, 13); xor(v, V1, V0); rotl(v, V0, 32);
  add(v, V2, V3); rotl(v, V3, 16); xor(v, V3, V2);
  add(v, V0, V3); rotl(v, V3, 21); xor(v, V3, V0);
  add(v, V2, V1); rotl(v, V1, 17); xor(v, V1, V2); rotl(v, V2, 32);
}

/** SipHash-2-4 under one key; the key is read once, the object can hash any number of messages. */
export class SipHash24 {
  readonly #k0hi: number;
  readonly #k0lo: number;
  readonly #k1hi: number;
  readonly #k1lo: number;
  /** State words plus one message word (indices 8, 9), reused across calls. */
  readonly #v = new Uint32Array(10);

  /** A hasher for `key`, which must be exactly 16 bytes (throws RangeError otherwise). */
  constructor(key: Uint8Array) {
    if (key.length !== SIPHASH_KEY_LEN) throw new RangeError(`a SipHash key is ${SIPHASH_KEY_LEN} bytes, not ${key.length}`);
    // k0 and k1 are the key's two halves read little-endian.
    this.#k0lo = le32(key, 0);
    this.#k0hi = le32(key, 4);
    this.#k1lo = le32(key, 8);
    this.#k1hi = le32(key, 12);
  }

  /** Runs the hash; the result is left in v0..v3 folded into (#v[0], #v[1]). */
  #run(message: Uint8Array): void {
    const v = this.#v;
    const M = 8; // the message word m lives at #v[8], #v[9]
    // Initialization: the constants are "somepseudorandomlygeneratedbytes" in ASCII.
    v[0] = this.#k0hi ^ 0x736f6d65; v[1] = this.#k0lo ^ 0x70736575;
    v[2] = this.#k1hi ^ 0x646f7261; v[3] = this.#k1lo ^ 0x6e646f6d;
    v[4] = this.#k0hi ^ 0x6c796765; v[5] = this.#k0lo ^ 0x6e657261;
    v[6] = this.#k1hi ^ 0x74656462; v[7] = this.#k1lo ^ 0x79746573;
    // Compression: each whole 8-byte word m, little-endian: v3 ^= m; two rounds; v0 ^= m.
    const n = message.length;
    const whole = n - (n % 8);
    for (let i = 0; i < whole; i += 8) {
      v[M + 1] = le32(message, i);
      v[M] = le32(message, i + 4);
      xor(v, V3, M); sipRound(v); sipRound(v); xor(v, V0, M);
    }
    // The last word holds the remaining 0-7 bytes and, in its top byte, the length mod 256.
    let lo = 0;
    let hi = (n & 0xff) << 24;
    for (let i = whole; i < n; i++) {
      const shift = (i - whole) * 8;
      if (shift < 32) lo |= message[i]! << shift;
      else hi |= message[i]! << (shift - 32);
    }
    v[M] = hi;
    v[M + 1] = lo;
    xor(v, V3, M); sipRound(v); sipRound(v); xor(v, V0, M);
    // Finalization: v2 ^= 0xff; four rounds; the output is v0 ^ v1 ^ v2 ^ v3.
    v[5] = v[5]! ^ 0xff;
    sipRound(v); sipRound(v); sipRound(v); sipRound(v);
    v[0] = v[0]! ^ v[2]! ^ v[4]! ^ v[6]!;
    v[1] = v[1]! ^ v[3]! ^ v[5]! ^ v[7]!;
  }

  /** The low 32 bits of the 64-bit output, as an unsigned number (the "truncated" PRF of RFC 6528 and RFC 6056). */
  hash32(message: Uint8Array): number {
    this.#run(message);
    return this.#v[1]!;
  }

  /** The 64-bit output as a bigint. */
  hash64(message: Uint8Array): bigint {
    this.#run(message);
    return (BigInt(this.#v[0]!) << 32n) | BigInt(this.#v[1]!);
  }

  /** The 64-bit output as eight bytes, least significant first: the reference implementation's format. */
  digest(message: Uint8Array): Uint8Array {
    this.#run(message);
    const out = new Uint8Array(8);
    const lo = this.#v[1]!;
    const hi = this.#v[0]!;
    for (let i = 0; i < 4; i++) {
      out[i] = (lo >>> (8 * i)) & 0xff;
      out[i + 4] = (hi >>> (8 * i)) & 0xff;
    }
    return out;
  }
}

/** SipHash-2-4 of `message` under `key` (16 bytes), as eight bytes least significant first. */
export function siphash24(key: Uint8Array, message: Uint8Array): Uint8Array {
  return new SipHash24(key).digest(message);
}
