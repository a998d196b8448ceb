/**
 * The bookkeeping of out-of-order reception: which byte ranges beyond the in-order front of
 * a stream have arrived (the idea of smoltcp's `storage/assembler.rs`; the data itself lives
 * in the receive ring, so it is copied once).
 *
 * Contract: positions are absolute stream offsets (plain numbers, not modular sequence
 * numbers: the caller converts). The assembler keeps a sorted list of disjoint, non-adjacent
 * half-open ranges `[start, end)`; `add` merges a new range with every range it overlaps or
 * touches, so a byte received twice is counted once (duplicates trimmed). Two bounds keep a
 * hostile peer from growing it: `limit` (bytes held) and `maxRanges` (holes tracked); a range
 * that would break either is refused whole and nothing changes. `advance(front)` is called
 * when the in-order front moves: it forgets what lies behind it and hands back the range that
 * now continues the front, if any. Nothing here throws on odd input.
 */

/** A half-open range of stream offsets. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The default bound on separate ranges. A long fat path that overflows a router's queue in
 * slow start can lose every other segment of a window of thousands: each hole is a range, and
 * a receiver that refused ranges beyond a few dozen would discard data it had received (and
 * its peer would send it again). 4,096 ranges cost 64 KiB at most, and every lookup is a
 * binary search.
 */
export const DEFAULT_MAX_RANGES = 4096;

/** Out-of-order ranges of one stream, bounded in bytes and in count. */
export class Assembler {
  /** Most bytes held at once. */
  readonly limit: number;
  /** Most separate ranges held at once. */
  readonly maxRanges: number;
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #held = 0;

  /** An empty assembler holding at most `limit` bytes in at most `maxRanges` ranges. */
  constructor(limit: number, maxRanges = DEFAULT_MAX_RANGES) {
    this.limit = Math.max(0, limit);
    this.maxRanges = Math.max(1, maxRanges);
  }

  /** Bytes held. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Ranges held. */
  get rangeCount(): number {
    return this.#starts.length;
  }

  /** True when nothing is held. */
  get isEmpty(): boolean {
    return this.#starts.length === 0;
  }

  /** The ranges held, in order (a copy). */
  ranges(): ByteRange[] {
    return this.#starts.map((start, i) => ({ start, end: this.#ends[i]! }));
  }

  /** The index of the first range that ends after `offset` (the number of ranges when none does). */
  #firstEndingAfter(offset: number): number {
    const ends = this.#ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The held range that contains `offset`, or undefined (read-only; SACK blocks are built from it). */
  rangeContaining(offset: number): ByteRange | undefined {
    const i = this.#firstEndingAfter(offset);
    if (i < this.#starts.length && this.#starts[i]! <= offset) return { start: this.#starts[i]!, end: this.#ends[i]! };
    return undefined;
  }

  /** The part of `[start, end)` already held in the first held range it overlaps, or undefined (a duplicate, for DSACK). */
  overlap(start: number, end: number): ByteRange | undefined {
    for (let i = this.#firstEndingAfter(start); i < this.#starts.length; i++) {
      const s = Math.max(start, this.#starts[i]!);
      const e = Math.min(end, this.#ends[i]!);
      if (s < e) return { start: s, end: e };
      if (this.#starts[i]! >= end) return undefined;
    }
    return undefined;
  }

  /** End of the highest range held, or undefined when empty. */
  get highestEnd(): number | undefined {
    return this.#ends.length === 0 ? undefined : this.#ends[this.#ends.length - 1];
  }

  /**
   * Records that `[start, end)` arrived. Returns false (and changes nothing) when the result
   * would hold more than `limit` bytes or more than `maxRanges` ranges; true otherwise,
   * including for an empty or already-held range.
   */
  add(start: number, end: number): boolean {
    if (!(end > start)) return true;
    const starts = this.#starts;
    const ends = this.#ends;
    // First range that ends at or after `start` (it may touch or overlap); ranges before it stay.
    const first = start > 0 ? this.#firstEndingAfter(start - 1) : 0;
    // Ranges [first, last) overlap or touch [start, end).
    let last = first;
    let mergedStart = start;
    let mergedEnd = end;
    let absorbed = 0;
    while (last < starts.length && starts[last]! <= end) {
      mergedStart = Math.min(mergedStart, starts[last]!);
      mergedEnd = Math.max(mergedEnd, ends[last]!);
      absorbed += ends[last]! - starts[last]!;
      last++;
    }
    const held = this.#held - absorbed + (mergedEnd - mergedStart);
    const count = starts.length - (last - first) + 1;
    if (held > this.limit || count > this.maxRanges) return false;
    starts.splice(first, last - first, mergedStart);
    ends.splice(first, last - first, mergedEnd);
    this.#held = held;
    return true;
  }

  /**
   * The in-order front of the stream moved to `front`: forgets every byte before it, and if a
   * held range covers `front`, removes it and returns its end (the bytes `[front, end)` are now
   * in order). Returns `front` when nothing continues it.
   */
  advance(front: number): number {
    const starts = this.#starts;
    const ends = this.#ends;
    let drop = 0;
    while (drop < starts.length && ends[drop]! <= front) {
      this.#held -= ends[drop]! - starts[drop]!;
      drop++;
    }
    let result = front;
    if (drop < starts.length && starts[drop]! <= front) {
      result = ends[drop]!;
      this.#held -= ends[drop]! - starts[drop]!;
      drop++;
    }
    if (drop > 0) {
      starts.splice(0, drop);
      ends.splice(0, drop);
    }
    return result;
  }

  /** Forgets everything. */
  clear(): void {
    this.#starts.length = 0;
    this.#ends.length = 0;
    this.#held = 0;
  }
}
