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
 * timer is harmless.
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

/** Deadlines by timer kind. */
export class TimerTable {
  readonly #deadlines = new Map<TimerKind, Instant>();

  /** Arms `kind` to expire at `at` (replacing any earlier deadline). */
  set(kind: TimerKind, at: Instant): void {
    this.#deadlines.set(kind, at);
  }

  /** Arms `kind` at `at` only if it is not armed already. */
  setIfUnset(kind: TimerKind, at: Instant): void {
    if (!this.#deadlines.has(kind)) this.#deadlines.set(kind, at);
  }

  /** Disarms `kind`. */
  clear(kind: TimerKind): void {
    this.#deadlines.delete(kind);
  }

  /** Disarms every timer. */
  clearAll(): void {
    this.#deadlines.clear();
  }

  /** The deadline of `kind`, or undefined when it is not armed. */
  get(kind: TimerKind): Instant | undefined {
    return this.#deadlines.get(kind);
  }

  /** True when `kind` is armed. */
  isSet(kind: TimerKind): boolean {
    return this.#deadlines.has(kind);
  }

  /** True when `kind` is armed and due at `now`. */
  isDue(kind: TimerKind, now: Instant): boolean {
    const at = this.#deadlines.get(kind);
    return at !== undefined && at <= now;
  }

  /** The earliest deadline, or undefined when no timer is armed. */
  next(): Instant | undefined {
    let earliest: Instant | undefined;
    for (const at of this.#deadlines.values()) if (earliest === undefined || at < earliest) earliest = at;
    return earliest;
  }

  /** The armed timers and their deadlines (for tests and tracing). */
  entries(): Array<[TimerKind, Instant]> {
    return TIMER_KINDS.filter((k) => this.#deadlines.has(k)).map((k) => [k, this.#deadlines.get(k)!]);
  }
}
