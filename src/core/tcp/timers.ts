/**
 * The timers of one TCP connection as a small table: one deadline per kind, the earliest of
 * them is the connection's `pollTimeout()`. DESIGN.md: "Timers are a small table
 * (retransmit, persist, keepalive, delayed ACK, TIME-WAIT, user timeout) with one
 * `pollTimeout()`." RACK-TLP (RFC 8985) adds two: the reorder timer and the probe timeout;
 * pacing one more, the instant the next paced segment may leave.
 *
 * Contract: the table only stores instants; what each timer does when it expires is the
 * connection's business (`handleTimeout` in `connection.ts` runs the expired ones in the
 * order of {@link TIMER_KINDS}). Setting a timer replaces its deadline; clearing an unset
 * timer is harmless. The deadlines are one small array of numbers indexed by kind (Infinity
 * when unset): the sender touches several timers per segment, and an array costs neither a
 * hash lookup nor an allocation.
 */
import type { Instant } from '../../time/instant.js';

/**
 * The timer kinds, in the order expired timers run: the ones that end the connection first
 * (so that a connection timed out by its user timeout does not also retransmit), then the
 * sender's (the retransmission timeout before RACK's reorder timer and the loss probe, which
 * it makes moot), then the ACK.
 */
export const TIMER_KINDS = ['time-wait', 'user-timeout', 'retransmit', 'reorder', 'loss-probe', 'pacing', 'persist', 'keepalive', 'delayed-ack'] as const;

/** One of the connection's timers. */
export type TimerKind = (typeof TIMER_KINDS)[number];

/**
 * The index of `kind` in the table. A switch, not an object lookup: callers pass literals,
 * which V8 compares as pointers, where a keyed load over nine keys goes megamorphic.
 */
function index(kind: TimerKind): number {
  switch (kind) {
    case 'time-wait': return 0;
    case 'user-timeout': return 1;
    case 'retransmit': return 2;
    case 'reorder': return 3;
    case 'loss-probe': return 4;
    case 'pacing': return 5;
    case 'persist': return 6;
    case 'keepalive': return 7;
    case 'delayed-ack': return 8;
  }
}

const UNSET = Infinity;

/** Deadlines by timer kind. */
export class TimerTable {
  readonly #deadlines: number[] = TIMER_KINDS.map(() => UNSET);

  /** Arms `kind` to expire at `at` (replacing any earlier deadline). */
  set(kind: TimerKind, at: Instant): void {
    this.#deadlines[index(kind)] = at;
  }

  /** Arms `kind` at `at` only if it is not armed already. */
  setIfUnset(kind: TimerKind, at: Instant): void {
    const i = index(kind);
    if (this.#deadlines[i] === UNSET) this.#deadlines[i] = at;
  }

  /** Disarms `kind`. */
  clear(kind: TimerKind): void {
    this.#deadlines[index(kind)] = UNSET;
  }

  /** Disarms every timer. */
  clearAll(): void {
    this.#deadlines.fill(UNSET);
  }

  /** The deadline of `kind`, or undefined when it is not armed. */
  get(kind: TimerKind): Instant | undefined {
    const at = this.#deadlines[index(kind)]!;
    return at === UNSET ? undefined : at;
  }

  /** True when `kind` is armed. */
  isSet(kind: TimerKind): boolean {
    return this.#deadlines[index(kind)] !== UNSET;
  }

  /** True when `kind` is armed and due at `now`. */
  isDue(kind: TimerKind, now: Instant): boolean {
    return this.#deadlines[index(kind)]! <= now;
  }

  /** The earliest deadline, or undefined when no timer is armed. */
  next(): Instant | undefined {
    // An indexed loop: `for...of` made an iterator and a result object per slot each call
    // (this runs after every segment, the connection-rate bench's largest allocation).
    const deadlines = this.#deadlines;
    let earliest = UNSET;
    for (let i = 0; i < deadlines.length; i++) {
      const at = deadlines[i]!;
      if (at < earliest) earliest = at;
    }
    return earliest === UNSET ? undefined : earliest;
  }

  /** The armed timers and their deadlines (for tests and tracing). */
  entries(): Array<[TimerKind, Instant]> {
    const out: Array<[TimerKind, Instant]> = [];
    TIMER_KINDS.forEach((kind, i) => { if (this.#deadlines[i] !== UNSET) out.push([kind, this.#deadlines[i]!]); });
    return out;
  }
}
