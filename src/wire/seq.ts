/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4).
 *
 * Sequence numbers are plain `number`s in [0, 2^32). Comparisons are made on the signed
 * 32-bit difference, so they are meaningful for numbers less than 2^31 apart, which is
 * what RFC 9293 requires of any window. This is the only module allowed to compare
 * sequence numbers; every other file calls these helpers instead of `<`.
 */

/** A TCP sequence or acknowledgment number: an unsigned 32-bit integer. */
export type SeqNumber = number;

/** `a + n` modulo 2^32; `n` may be negative. */
export function seqAdd(a: SeqNumber, n: number): SeqNumber {
  return (a + n) >>> 0;
}

/** The signed distance `a - b` in (-2^31, 2^31]: positive when `a` is after `b`. */
export function seqDiff(a: SeqNumber, b: SeqNumber): number {
  return (a - b) | 0;
}

/** `a` comes before `b`. */
export function seqLt(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) < 0;
}

/** `a` comes before `b` or equals it. */
export function seqLe(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a` comes after `b`. */
export function seqGt(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) > 0;
}

/** `a` comes after `b` or equals it. */
export function seqGe(a: SeqNumber, b: SeqNumber): boolean {
  return ((a - b) | 0) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: SeqNumber, b: SeqNumber): SeqNumber {
  return seqGe(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: SeqNumber, b: SeqNumber): SeqNumber {
  return seqLe(a, b) ? a : b;
}

/** `lo <= x < hi` in sequence space: the test RFC 9293 3.10.7.4 applies to segments. */
export function seqInWindow(x: SeqNumber, lo: SeqNumber, hi: SeqNumber): boolean {
  return seqLe(lo, x) && seqLt(x, hi);
}
