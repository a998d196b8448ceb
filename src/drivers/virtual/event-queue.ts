/**
 * The virtual network's agenda: a binary min-heap of events keyed by (time, sequence).
 *
 * Contract: `pop` returns events in ascending time; events at the same instant come out in
 * the order they were pushed (the sequence number, drawn from one counter per queue, breaks
 * ties), so a run never depends on the heap's internal layout. Push and pop are O(log n).
 * An event is two payload slots (`a`, `b`) held in parallel arrays next to the keys: pushing
 * allocates no object and no closure per event, which matters when a benchmark moves
 * millions of packets.
 */
import type { Instant } from '../../time/instant.js';

/** A min-heap of (time, a, b) events, FIFO among equal times. */
export class EventQueue<A, B> {
  #times: number[] = [];
  #seqs: number[] = [];
  #as: A[] = [];
  #bs: B[] = [];
  #nextSeq = 0;

  /** Events waiting. */
  get size(): number {
    return this.#times.length;
  }

  /** The time of the earliest event, or `undefined` when the queue is empty. */
  peekTime(): Instant | undefined {
    return this.#times.length > 0 ? this.#times[0] : undefined;
  }

  /** First payload of the earliest event (undefined when empty). */
  peekA(): A | undefined {
    return this.#as[0];
  }

  /** Adds an event due at `time`. */
  push(time: Instant, a: A, b: B): void {
    const times = this.#times;
    const seqs = this.#seqs;
    const as = this.#as;
    const bs = this.#bs;
    const seq = this.#nextSeq++;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    as.push(a);
    bs.push(b);
    // Sift up: move parents down until the new key's place is found, then write it once.
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      as[i] = as[parent]!;
      bs[i] = bs[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    as[i] = a;
    bs[i] = b;
  }

  /**
   * Removes the earliest event and hands its payloads to `visit` — no tuple is allocated.
   * Returns false (and calls nothing) when the queue is empty.
   */
  pop(visit: (a: A, b: B, time: Instant) => void): boolean {
    const times = this.#times;
    const n = times.length;
    if (n === 0) return false;
    const seqs = this.#seqs;
    const as = this.#as;
    const bs = this.#bs;
    const time = times[0]!;
    const a = as[0]!;
    const b = bs[0]!;
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastA = as.pop()!;
    const lastB = bs.pop()!;
    const size = n - 1;
    if (size > 0) {
      // Sift the last element down from the root.
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        let child = left;
        if (right < size) {
          const lt = times[left]!;
          const rt = times[right]!;
          if (rt < lt || (rt === lt && seqs[right]! < seqs[left]!)) child = right;
        }
        const ct = times[child]!;
        if (lastTime < ct || (lastTime === ct && lastSeq < seqs[child]!)) break;
        times[i] = ct;
        seqs[i] = seqs[child]!;
        as[i] = as[child]!;
        bs[i] = bs[child]!;
        i = child;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      as[i] = lastA;
      bs[i] = lastB;
    }
    visit(a, b, time);
    return true;
  }

  /** Removes every event (payload references included, so packets can be collected). */
  clear(): void {
    this.#times = [];
    this.#seqs = [];
    this.#as = [];
    this.#bs = [];
  }
}
