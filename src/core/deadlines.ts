/**
 * Timers of many connections behind one `pollTimeout()`: a binary min-heap of (deadline,
 * owner, generation) with lazy invalidation. When an owner's deadline changes, its generation
 * goes up and a new entry is pushed; the old entry stays in the heap and is thrown away when
 * it reaches the top (its generation no longer matches). Reading the earliest deadline is
 * O(1) amortized, a change O(log n); when stale entries pile up (timers re-armed far in the
 * future, say keepalive) the heap is rebuilt from the live ones.
 *
 * Contract: the owner object carries its own `deadline` and `generation` (see
 * {@link DeadlineOwner}); only `set` changes them. `due(now)` removes and returns every owner
 * whose current deadline is at or before `now`, each once; the caller runs their timers and
 * then calls `set` again with their new deadlines.
 */
import type { Instant } from '../time/instant.js';

/** What the heap needs on each owner. */
export interface DeadlineOwner {
  /** The deadline the heap knows, or undefined. Written by {@link DeadlineHeap.set} only. */
  deadline: Instant | undefined;
  /** Bumped whenever `deadline` changes, to invalidate older heap entries. */
  generation: number;
}

interface HeapEntry<T> {
  readonly at: Instant;
  readonly owner: T;
  readonly generation: number;
}

/** A min-heap of deadlines with lazy invalidation. */
export class DeadlineHeap<T extends DeadlineOwner> {
  #heap: HeapEntry<T>[] = [];
  /** Owners with a deadline right now (live entries). */
  #live = 0;

  /** Number of owners with a deadline. */
  get size(): number {
    return this.#live;
  }

  /** Entries in the heap, stale ones included (for tests: what the heap keeps alive). */
  get storedEntries(): number {
    return this.#heap.length;
  }

  /** Sets (or clears, with undefined) the deadline of `owner`. */
  set(owner: T, deadline: Instant | undefined): void {
    if (owner.deadline === deadline) return;
    if (owner.deadline !== undefined) this.#live--;
    owner.deadline = deadline;
    owner.generation++;
    if (deadline !== undefined) {
      this.#live++;
      this.#push({ at: deadline, owner, generation: owner.generation });
    }
    // Stale entries keep their owners alive (a closed connection's whole state): after a
    // clear as after a push, never more than four times the live ones (plus a few).
    if (this.#heap.length > 64 && this.#heap.length > 4 * this.#live) this.#rebuild();
  }

  /** The earliest deadline, or undefined. */
  peek(): Instant | undefined {
    this.#dropStale();
    return this.#heap[0]?.at;
  }

  /** Removes and returns every owner whose deadline is at or before `now` (their deadline becomes undefined). */
  due(now: Instant): T[] {
    const out: T[] = [];
    for (;;) {
      this.#dropStale();
      const top = this.#heap[0];
      if (top === undefined || top.at > now) return out;
      this.#pop();
      this.set(top.owner, undefined);
      out.push(top.owner);
    }
  }

  #isStale(e: HeapEntry<T>): boolean {
    return e.generation !== e.owner.generation;
  }

  #dropStale(): void {
    while (this.#heap.length > 0 && this.#isStale(this.#heap[0]!)) this.#pop();
  }

  #rebuild(): void {
    this.#heap = this.#heap.filter((e) => !this.#isStale(e));
    for (let i = (this.#heap.length >>> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #push(e: HeapEntry<T>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    this.#down(0);
  }

  #down(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    const n = h.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && h[child + 1]!.at < h[child]!.at) child++;
      if (h[child]!.at >= e.at) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = e;
  }
}
