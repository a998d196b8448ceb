/**
 * A first-in, first-out queue with O(1) push and shift: a ring of slots whose capacity
 * doubles when it is full and never shrinks. The host's event, reply and ready-connection
 * queues, which empty and refill for every segment a host sends: a ring does that without
 * allocating, where an array with a moving head had to be replaced each time it emptied.
 */

/** The first capacity (a power of two, like every later one). */
const INITIAL_CAPACITY = 16;

/** A FIFO queue. */
export class Fifo<T> {
  #slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  #head = 0;
  #length = 0;

  /** Number of queued items. */
  get length(): number {
    return this.#length;
  }

  /** Appends `item`. */
  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = item;
    this.#length++;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined; // the queue must not keep what it handed out alive
    this.#head = (this.#head + 1) & (this.#slots.length - 1);
    this.#length--;
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** Twice the slots, the items moved to the front in order. */
  #grow(): void {
    const old = this.#slots;
    const slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) slots[i] = old[(this.#head + i) & (old.length - 1)];
    this.#slots = slots;
    this.#head = 0;
  }
}
