/**
 * A fixed-capacity byte ring: the send buffer of a TCP connection and the memory behind its
 * receive buffer.
 *
 * Contract: the ring holds `length` bytes starting at a moving head; positions are logical
 * (0 is the oldest byte held). Data goes in with `enqueue` (appends what fits) or, for
 * out-of-order reception, with `writeUnallocated` into the free space after the held bytes
 * followed later by `commit`, which makes bytes already written part of the held data
 * without copying them again (smoltcp's `RingBuffer::write_unallocated` /
 * `enqueue_unallocated`). Data leaves with `dequeue` (discard), `dequeueInto` (copy out) or
 * is looked at with `peek`, which returns a view into the ring when the range is contiguous
 * and a copy into a caller-supplied scratch buffer when it wraps. Every copy is one or two
 * `Uint8Array.set` calls: there is no per-byte loop. Counts beyond what the ring holds or
 * can hold are clipped, never thrown on.
 *
 * Memory follows use: the storage starts empty and grows (doubling, from 4 KiB) only when
 * bytes must be placed beyond it, up to the capacity. A connection that never carries data
 * (one of a SYN flood's half-open ones, an idle keep-alive) costs no buffer memory.
 */

/** The first storage a ring allocates. */
const MIN_STORAGE = 4096;
const EMPTY = new Uint8Array(0);

/** A byte ring of fixed capacity. */
export class RingBuffer {
  readonly #capacity: number;
  /** Where the bytes are; at most `#capacity` long, grown on demand by `#reserve`. */
  #storage: Uint8Array = EMPTY;
  /** Index in `#storage` of logical position 0. */
  #head = 0;
  #length = 0;

  /** A ring that holds at most `capacity` bytes (a non-negative integer). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`ring capacity ${capacity} is not a non-negative integer`);
    this.#capacity = capacity;
  }

  /** Bytes the ring can hold. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Bytes of memory allocated for the ring right now (at most `capacity`). */
  get allocated(): number {
    return this.#storage.length;
  }

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Bytes that can still be enqueued. */
  get free(): number {
    return this.#capacity - this.#length;
  }

  /** True when nothing is held. */
  get isEmpty(): boolean {
    return this.#length === 0;
  }

  /** True when nothing more can be enqueued. */
  get isFull(): boolean {
    return this.#length === this.#capacity;
  }

  /**
   * Makes the storage cover logical positions [0, end) (end <= capacity): a larger array
   * (double, at least 4 KiB, at most the capacity) with the old ring copied in from its head,
   * bytes written but not yet committed included.
   */
  #reserve(end: number): void {
    const old = this.#storage;
    if (end <= old.length) return;
    const size = Math.min(this.#capacity, Math.max(end, old.length * 2, MIN_STORAGE));
    const next = new Uint8Array(size);
    next.set(old.subarray(this.#head), 0);
    next.set(old.subarray(0, this.#head), old.length - this.#head);
    this.#storage = next;
    this.#head = 0;
  }

  /** Index in `#storage` of logical position `pos` (0 <= pos < capacity). */
  #index(pos: number): number {
    const i = this.#head + pos;
    return i >= this.#storage.length ? i - this.#storage.length : i;
  }

  /** Copies `data` to logical position `pos` (the caller made sure it fits in capacity). */
  #writeAt(pos: number, data: Uint8Array): void {
    if (data.length === 0) return;
    const start = this.#index(pos);
    const firstPart = Math.min(data.length, this.#storage.length - start);
    this.#storage.set(firstPart === data.length ? data : data.subarray(0, firstPart), start);
    if (firstPart < data.length) this.#storage.set(data.subarray(firstPart), 0);
  }

  /** Copies `target.length` bytes from logical position `pos` (the caller made sure they are held or written). */
  #readAt(pos: number, target: Uint8Array): void {
    if (target.length === 0) return;
    const start = this.#index(pos);
    const firstPart = Math.min(target.length, this.#storage.length - start);
    target.set(this.#storage.subarray(start, start + firstPart), 0);
    if (firstPart < target.length) target.set(this.#storage.subarray(0, target.length - firstPart), firstPart);
  }

  /** Appends as much of `data` as fits; returns the number of bytes taken. */
  enqueue(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    this.#reserve(this.#length + n);
    this.#writeAt(this.#length, n === data.length ? data : data.subarray(0, n));
    this.#length += n;
    return n;
  }

  /**
   * Writes `data` into the free space, `offset` bytes after the held data, without holding it
   * yet (see `commit`). Whatever would land beyond the capacity is cut off; returns the bytes
   * written.
   */
  writeUnallocated(offset: number, data: Uint8Array): number {
    if (!(offset >= 0) || offset >= this.free) return 0;
    const n = Math.min(data.length, this.free - offset);
    this.#reserve(this.#length + offset + n);
    this.#writeAt(this.#length + offset, n === data.length ? data : data.subarray(0, n));
    return n;
  }

  /** Holds the next `n` bytes of free space, as written by `writeUnallocated`; returns the bytes committed. */
  commit(n: number): number {
    const k = Math.max(0, Math.min(Math.floor(n), this.free));
    this.#reserve(this.#length + k); // committing space never written: it must exist (as zeros)
    this.#length += k;
    return k;
  }

  /** Discards up to `n` bytes from the front; returns the bytes discarded. */
  dequeue(n: number): number {
    const k = Math.max(0, Math.min(Math.floor(n), this.#length));
    if (k === 0) return 0;
    this.#head = this.#index(k === this.#storage.length ? 0 : k);
    this.#length -= k;
    return k;
  }

  /** Copies up to `target.length` bytes from the front into `target` and discards them; returns the bytes moved. */
  dequeueInto(target: Uint8Array): number {
    const n = Math.min(target.length, this.#length);
    this.#readAt(0, n === target.length ? target : target.subarray(0, n));
    this.dequeue(n);
    return n;
  }

  /** Copies held bytes from logical position `offset` into `target`; returns the bytes copied. */
  read(offset: number, target: Uint8Array): number {
    if (!(offset >= 0) || offset >= this.#length) return 0;
    const n = Math.min(target.length, this.#length - offset);
    this.#readAt(offset, n === target.length ? target : target.subarray(0, n));
    return n;
  }

  /**
   * The held bytes `[offset, offset + length)` (clipped to what is held): a view into the ring
   * when they are contiguous, else a copy into `scratch` (which must be at least that long;
   * without it a new array is allocated). The view is valid until the ring is next written.
   */
  peek(offset: number, length: number, scratch?: Uint8Array): Uint8Array {
    if (!(offset >= 0) || offset >= this.#length || !(length > 0)) return this.#storage.subarray(0, 0);
    const n = Math.min(Math.floor(length), this.#length - offset);
    const start = this.#index(offset);
    if (start + n <= this.#storage.length) return this.#storage.subarray(start, start + n);
    const target = scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n) : new Uint8Array(n);
    this.#readAt(offset, target);
    return target;
  }

  /** Discards everything held (and anything written but not committed). */
  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }
}
