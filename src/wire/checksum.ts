/**
 * The internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement
 * sum of the data taken as big-endian 16-bit words, with the IPv4 (RFC 793 3.1) and IPv6
 * (RFC 8200 8.1) pseudo-headers, and incremental update (RFC 1624).
 *
 * Sums are carried *unfolded* in a JavaScript number: `checksumAdd` returns a partial sum
 * that may exceed 16 bits, `checksumFinish` folds the carries back in and complements.
 * Partial sums of several pieces may be added with `+`, provided every piece but the last
 * has an even length (RFC 1071 2(B): the sum is independent of where it is split on a
 * word boundary).
 *
 * Speed: this runs over every byte l4 sends or receives. A body of `SIMD_MIN_BYTES` or more
 * is copied into a small WebAssembly memory and summed there with 128-bit SIMD
 * (`checksum.wat`), about three times as fast as the best JavaScript loop, copy included.
 * Where WebAssembly SIMD is missing (an old browser), and for short bodies, it is summed as
 * native 32-bit words through a `Uint32Array` view. Both use the trick of RFC 1071 2(B) and
 * 4.1 (byte order independence and deferred carries): summed as little-endian words, the
 * folded sum comes out byte-swapped, which is undone once at the end.
 */
import { CHECKSUM_WASM } from './checksum-wasm.js';

/** True when typed arrays store words little-endian (every platform Node runs on today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Folds carries until the sum fits in 16 bits (no complement). */
export function checksumFold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Words summed between folds: 2^20 words of < 2^32 each stay far below 2^53. */
const FOLD_INTERVAL_WORDS = 0x100000;

/**
 * Sums native 32-bit words [from, to) in two doubles, two independent add chains that the
 * CPU runs in parallel, and returns the folded (16-bit, native byte order) sum.
 */
function sumNativeWords(view: Uint32Array, from: number, to: number): number {
  let even = 0;
  let odd = 0;
  let w = from;
  for (; w + 3 < to; w += 4) {
    even += view[w]! + view[w + 2]!;
    odd += view[w + 1]! + view[w + 3]!;
  }
  for (; w < to; w++) even += view[w]!;
  return checksumFold(checksumFold(even) + checksumFold(odd));
}

/** Sums bytes [start, end) as big-endian 16-bit words, one pair of bytes at a time. */
function addBytewise(sum: number, b: Uint8Array, start: number, end: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8; // RFC 1071: an odd last byte is padded with a zero byte
  return sum;
}

/** The SIMD body of checksum.wat: `sum(n)` sums `memory[0, n)`, n at most `SIMD_CHUNK`. */
interface SimdSum {
  readonly memory: Uint8Array;
  readonly sum: (n: number) => number;
}

/** The most bytes one call of the SIMD body sums (checksum.wat: its bounds hold up to 64 KiB). */
const SIMD_CHUNK = 0x10000;

/**
 * Bodies shorter than this are summed in JavaScript: for them, copying into the WebAssembly
 * memory and the call cost more than the SIMD loop saves.
 */
export const SIMD_MIN_BYTES = 128;

/** The part of the WebAssembly JavaScript API used here (the ES2022 lib l4 compiles against has none). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
};

function loadSimdSum(): SimdSum | undefined {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(CHECKSUM_WASM)) return undefined;
    const exports = new WebAssembly.Instance(new WebAssembly.Module(CHECKSUM_WASM)).exports;
    const memory = exports['memory'] as { readonly buffer: ArrayBuffer };
    return { memory: new Uint8Array(memory.buffer), sum: exports['sum'] as (n: number) => number };
  } catch {
    return undefined; // no SIMD (validate says false) or WebAssembly forbidden (a browser's CSP)
  }
}

const simd = loadSimdSum();

/** Whether this runtime sums long bodies with WebAssembly SIMD (true on every Node l4 supports). */
export const CHECKSUM_SIMD = simd !== undefined;

/** `data[start, end)` summed by the SIMD body, a chunk at a time; every chunk but the last is even. */
function addSimd(sum: number, s: SimdSum, data: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i += SIMD_CHUNK) {
    const n = Math.min(SIMD_CHUNK, end - i);
    // A whole view is copied as it is: a subarray costs as much as the copy of a packet.
    s.memory.set(i === 0 && n === data.length ? data : data.subarray(i, i + n));
    sum += swap16(checksumFold(s.sum(n)));
  }
  return sum;
}

/**
 * Adds the bytes `data[start, end)` to a running sum and returns the new (unfolded) sum.
 * An odd `end - start` pads the final byte with zero.
 */
export function checksumAdd(sum: number, data: Uint8Array, start = 0, end = data.length): number {
  if (simd !== undefined && end - start >= SIMD_MIN_BYTES) return addSimd(sum, simd, data, start, end);
  return checksumAddPortable(sum, data, start, end);
}

/**
 * {@link checksumAdd} in JavaScript alone, whatever the runtime: what short bodies and
 * runtimes without WebAssembly SIMD use (exported so that tests compare the two).
 */
export function checksumAddPortable(sum: number, data: Uint8Array, start = 0, end = data.length): number {
  const len = end - start;
  const abs = data.byteOffset + start;
  if (len < 64 || !LITTLE_ENDIAN || (abs & 1) !== 0) return addBytewise(sum, data, start, end);
  let i = start;
  if ((abs & 3) === 2) { sum += (data[i]! << 8) | data[i + 1]!; i += 2; }
  const words = (end - i) >>> 2;
  const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
  // Sum native words block by block, folding between blocks so no double nears 2^53.
  let native = 0;
  for (let base = 0; base < words; base += FOLD_INTERVAL_WORDS) {
    native = checksumFold(native + sumNativeWords(view, base, Math.min(words, base + FOLD_INTERVAL_WORDS)));
  }
  sum += swap16(checksumFold(native));
  return addBytewise(sum, data, i + words * 4, end);
}

/** Folds and complements a sum: the value that goes in a checksum field. */
export function checksumFinish(sum: number): number {
  return ~checksumFold(sum) & 0xffff;
}

/** The checksum of `data[start, end)` alone. */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length): number {
  return checksumFinish(checksumAdd(0, data, start, end));
}

/**
 * The unfolded sum of the pseudo-header for an upper-layer checksum: RFC 793 3.1 for IPv4
 * (source, destination, zero, protocol, TCP/UDP length) and RFC 8200 8.1 for IPv6 (source,
 * destination, 32-bit upper-layer length, three zero bytes, next header). The family is
 * chosen by address length.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = addBytewise(0, src, 0, src.length) + addBytewise(0, dst, 0, dst.length);
  sum += protocol;
  sum += (length >>> 16) + (length & 0xffff); // IPv4 lengths fit in 16 bits, so the high half is 0
  return sum;
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changed from
 * `oldWord` to `newWord`, without re-summing: HC' = ~(~HC + ~m + m').
 */
export function checksumUpdate16(checksum: number, oldWord: number, newWord: number): number {
  return ~checksumFold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** RFC 1624 for a 32-bit field (an IPv4 address, a sequence number): two word updates. */
export function checksumUpdate32(checksum: number, oldValue: number, newValue: number): number {
  const c = checksumUpdate16(checksum, oldValue >>> 16, newValue >>> 16);
  return checksumUpdate16(c, oldValue & 0xffff, newValue & 0xffff);
}
