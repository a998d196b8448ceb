/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed
 * hash behind l4's initial sequence numbers (RFC 6528) and ephemeral port offsets (RFC 6056).
 * Both RFCs ask for a pseudo-random function of a few header fields and a secret; SipHash is
 * what Linux uses for the same job, and it is short enough to own.
 *
 * Contract: a 16-byte key, any message, a 64-bit output. The 64-bit words of the algorithm are
 * held as pairs of 32-bit halves (high, low) so that no BigInt is needed; the output
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

/** SipHash-2-4 under one key; the key is read once, the object can hash any number of messages. */
export class SipHash24 {
  readonly #k0hi: number;
  readonly #k0lo: number;
  readonly #k1hi: number;
  readonly #k1lo: number;
  /** The output of the last run, (high, low), as unsigned 32-bit halves. */
  readonly #v = new Uint32Array(2);

  /** A hasher for `key`, which must be exactly 16 bytes (throws RangeError otherwise). */
  constructor(key: Uint8Array) {
    if (key.length !== SIPHASH_KEY_LEN) throw new RangeError(`a SipHash key is ${SIPHASH_KEY_LEN} bytes, not ${key.length}`);
    // k0 and k1 are the key's two halves read little-endian.
    this.#k0lo = le32(key, 0);
    this.#k0hi = le32(key, 4);
    this.#k1lo = le32(key, 8);
    this.#k1hi = le32(key, 12);
  }

  /**
   * Runs the hash; the 64-bit result is left in (#v[0], #v[1]) as (high, low). The state is
   * eight local 32-bit halves rather than an array (one hash per connection opened: ISN,
   * timestamp offset, port), and the one SipRound below serves compression (c = 2 rounds per
   * message word) and finalization (d = 4 rounds) alike.
   */
  #run(message: Uint8Array): void {
    // Initialization: the constants are "somepseudorandomlygeneratedbytes" in ASCII.
    let v0h = this.#k0hi ^ 0x736f6d65; let v0l = this.#k0lo ^ 0x70736575;
    let v1h = this.#k1hi ^ 0x646f7261; let v1l = this.#k1lo ^ 0x6e646f6d;
    let v2h = this.#k0hi ^ 0x6c796765; let v2l = this.#k0lo ^ 0x6e657261;
    let v3h = this.#k1hi ^ 0x74656462; let v3l = this.#k1lo ^ 0x79746573;
    const n = message.length;
    const whole = n - (n % 8);
    // Message words, little-endian: each whole 8 bytes, then a last word holding the 0-7
    // remaining bytes and, in its top byte, the length mod 256. Step `words` is finalization.
    const words = whole / 8 + 1;
    for (let w = 0; w <= words; w++) {
      let mh = 0;
      let ml = 0;
      if (w < words - 1) {
        ml = le32(message, 8 * w);
        mh = le32(message, 8 * w + 4);
      } else if (w === words - 1) {
        mh = (n & 0xff) << 24;
        for (let i = whole; i < n; i++) {
          const shift = (i - whole) * 8;
          if (shift < 32) ml |= message[i]! << shift;
          else mh |= message[i]! << (shift - 32);
        }
      }
      if (w < words) {
        v3h ^= mh; v3l ^= ml; // v3 ^= m
      } else {
        v2l ^= 0xff; // finalization: v2 ^= 0xff
      }
      for (let r = w < words ? 2 : 4; r > 0; r--) {
        // One SipRound (the paper, section 2, figure 2.1) on (high, low) halves.
        let lo = (v0l >>> 0) + (v1l >>> 0); // v0 += v1
        v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) | 0; v0l = lo | 0;
        let t = v1h; v1h = (v1h << 13) | (v1l >>> 19); v1l = (v1l << 13) | (t >>> 19); // v1 <<<= 13
        v1h ^= v0h; v1l ^= v0l; // v1 ^= v0
        t = v0h; v0h = v0l; v0l = t; // v0 <<<= 32
        lo = (v2l >>> 0) + (v3l >>> 0); // v2 += v3
        v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) | 0; v2l = lo | 0;
        t = v3h; v3h = (v3h << 16) | (v3l >>> 16); v3l = (v3l << 16) | (t >>> 16); // v3 <<<= 16
        v3h ^= v2h; v3l ^= v2l; // v3 ^= v2
        lo = (v0l >>> 0) + (v3l >>> 0); // v0 += v3
        v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) | 0; v0l = lo | 0;
        t = v3h; v3h = (v3h << 21) | (v3l >>> 11); v3l = (v3l << 21) | (t >>> 11); // v3 <<<= 21
        v3h ^= v0h; v3l ^= v0l; // v3 ^= v0
        lo = (v2l >>> 0) + (v1l >>> 0); // v2 += v1
        v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) | 0; v2l = lo | 0;
        t = v1h; v1h = (v1h << 17) | (v1l >>> 15); v1l = (v1l << 17) | (t >>> 15); // v1 <<<= 17
        v1h ^= v2h; v1l ^= v2l; // v1 ^= v2
        t = v2h; v2h = v2l; v2l = t; // v2 <<<= 32
      }
      if (w < words) {
        v0h ^= mh; v0l ^= ml; // v0 ^= m
      }
    }
    // The output is v0 ^ v1 ^ v2 ^ v3.
    this.#v[0] = v0h ^ v1h ^ v2h ^ v3h;
    this.#v[1] = v0l ^ v1l ^ v2l ^ v3l;
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
