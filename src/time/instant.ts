/**
 * Time as the sans-IO core sees it: an `Instant` is an integer count of microseconds on
 * some clock the driver owns (virtual or real), and a `Duration` is a difference of two.
 * Both are plain numbers (exact up to 2^53 µs, about 285 years) so that timer arithmetic
 * costs nothing; these helpers give them names. The core never reads a clock: every
 * entry point takes `now: Instant` from its driver.
 */

/** A point in time, in integer microseconds since the driver's epoch. */
export type Instant = number;

/** A span of time, in integer microseconds. */
export type Duration = number;

/** Microseconds in one millisecond and in one second. */
export const MICROS_PER_MILLI = 1_000;
export const MICROS_PER_SECOND = 1_000_000;

/** A duration of `n` microseconds. */
export function micros(n: number): Duration {
  return Math.round(n);
}

/** A duration of `n` milliseconds. */
export function millis(n: number): Duration {
  return Math.round(n * MICROS_PER_MILLI);
}

/** A duration of `n` seconds. */
export function seconds(n: number): Duration {
  return Math.round(n * MICROS_PER_SECOND);
}

/** A duration in (fractional) seconds, for reports. */
export function toSeconds(d: Duration): number {
  return d / MICROS_PER_SECOND;
}

/** A duration in (fractional) milliseconds, for reports. */
export function toMillis(d: Duration): number {
  return d / MICROS_PER_MILLI;
}

/** The earlier of two optional deadlines (`undefined` means "none"). */
export function earliest(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/** Human text for a duration: `250ms`, `1.5s`, `90µs`. */
export function formatDuration(d: Duration): string {
  if (Math.abs(d) < MICROS_PER_MILLI) return `${d}µs`;
  if (Math.abs(d) < MICROS_PER_SECOND) return `${+(d / MICROS_PER_MILLI).toFixed(3)}ms`;
  return `${+(d / MICROS_PER_SECOND).toFixed(3)}s`;
}
