/**
 * The virtual network's agenda: a binary min-heap of events keyed by (time, sequence), beside
 * a sorted run for the events that come in order.
 *
 * Contract: `pop` returns events in ascending time; events at the same instant come out in
 * the order they were pushed (the sequence number, drawn from one counter per queue, breaks
 * ties), so a run never depends on the queue's internal layout. An event is two payload
 * slots (`a`, `b`) held in parallel arrays next to the keys: pushing allocates no object and
 * no closure per event, which matters when a benchmark moves millions of packets.
 *
 * Most events arrive in order: a link with a fixed delay schedules each packet no earlier
 * than the one before. Such an event (its time at or after the last event of the run) is
 * appended to the run, a FIFO, in O(1); only an event that would go before the run's tail
 * (jitter, reordering, a shorter link) goes into the heap, O(log n). `pop` takes the smaller
 * of the run's head and the heap's top. Both hold their events sorted by (time, sequence), so
 * the merged order is exactly the heap-only order: a bulk transfer with thousands of packets
 * in flight pays O(1) per event instead of a sift through the whole heap.
 */
import type { Instant } from '../../time/instant.js';

/** Popped slots at the front of the run before it is compacted (when they are also half of it). */
const RUN_COMPACT_AT = 1024;

/** A min-heap of (time, a, b) events plus a sorted run, FIFO among equal times. */
export class EventQueue<A, B> {
  #times: number[] = [];
  #seqs: number[] = [];
  #as: A[] = [];
  #bs: B[] = [];
  /** The run: events in (time, sequence) order, from `#runHead` on (slots before it are spent). */
  #runTimes: number[] = [];
  #runSeqs: number[] = [];
  #runAs: (A | undefined)[] = [];
  #runBs: (B | undefined)[] = [];
  #runHead = 0;
  #nextSeq = 0;

  /** Events waiting. */
  get size(): number {
    return this.#times.length + this.#runTimes.length - this.#runHead;
  }

  /** True when the next event is the run's head rather than the heap's top (the queue is not empty). */
  #runFirst(): boolean {
    const head = this.#runHead;
    if (head === this.#runTimes.length) return false;
    if (this.#times.length === 0) return true;
    const rt = this.#runTimes[head]!;
    const ht = this.#times[0]!;
    return rt < ht || (rt === ht && this.#runSeqs[head]! < this.#seqs[0]!);
  }

  /** The time of the earliest event, or `undefined` when the queue is empty. */
  peekTime(): Instant | undefined {
    if (this.#runFirst()) return this.#runTimes[this.#runHead];
    return this.#times.length > 0 ? this.#times[0] : undefined;
  }

  /** First payload of the earliest event (undefined when empty). */
  peekA(): A | undefined {
    if (this.#runFirst()) return this.#runAs[this.#runHead];
    return this.#as[0];
  }

  /** Adds an event due at `time`. */
  push(time: Instant, a: A, b: B): void {
    const seq = this.#nextSeq++;
    const runTimes = this.#runTimes;
    // In order (at or after the run's last event, whose sequence is smaller): onto the run.
    if (this.#runHead === runTimes.length || time >= runTimes[runTimes.length - 1]!) {
      runTimes.push(time);
      this.#runSeqs.push(seq);
      this.#runAs.push(a);
      this.#runBs.push(b);
      return;
    }
    const times = this.#times;
    const seqs = this.#seqs;
    const as = this.#as;
    const bs = this.#bs;
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
    if (this.#runFirst()) {
      const head = this.#runHead;
      const time = this.#runTimes[head]!;
      const a = this.#runAs[head] as A;
      const b = this.#runBs[head] as B;
      // Let go of the payloads now: a delivered packet must not wait for the compaction.
      this.#runAs[head] = undefined;
      this.#runBs[head] = undefined;
      this.#advanceRun(head + 1);
      visit(a, b, time);
      return true;
    }
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

  /** Moves the run's head to `head`: empties the arrays once all is spent, compacts them when mostly spent. */
  #advanceRun(head: number): void {
    const length = this.#runTimes.length;
    if (head === length) {
      this.#runTimes.length = 0;
      this.#runSeqs.length = 0;
      this.#runAs.length = 0;
      this.#runBs.length = 0;
      this.#runHead = 0;
    } else if (head >= RUN_COMPACT_AT && head * 2 >= length) {
      this.#runTimes.splice(0, head);
      this.#runSeqs.splice(0, head);
      this.#runAs.splice(0, head);
      this.#runBs.splice(0, head);
      this.#runHead = 0;
    } else {
      this.#runHead = head;
    }
  }

  /** Removes every event (payload references included, so packets can be collected). */
  clear(): void {
    this.#times = [];
    this.#seqs = [];
    this.#as = [];
    this.#bs = [];
    this.#runTimes = [];
    this.#runSeqs = [];
    this.#runAs = [];
    this.#runBs = [];
    this.#runHead = 0;
  }
}
