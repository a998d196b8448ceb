/**
 * A token bucket for the ICMP errors a host sends (RFC 1812 4.3.2.8, RFC 4443 2.4(f): "an
 * IPv6 node MUST limit the rate of ICMPv6 error messages it originates"). l4 uses Linux's
 * host-wide figures, net.ipv4.icmp_msgs_per_sec = 1000 and icmp_msgs_burst = 50, for both
 * families together; Linux also has a per-destination limit, l4 does not.
 *
 * Contract: time comes in as `now` (integer microseconds); the bucket holds credit in
 * microseconds, so everything stays integral and deterministic. `take(now)` spends one token
 * if there is one. An instant earlier than the latest seen adds nothing.
 */
import type { Instant } from '../../time/instant.js';

/** Linux's net.ipv4.icmp_msgs_per_sec. */
export const ICMP_ERRORS_PER_SECOND = 1000;
/** Linux's net.ipv4.icmp_msgs_burst. */
export const ICMP_ERROR_BURST = 50;

/** `rate` tokens per second, at most `burst` saved up; full at the start. */
export class TokenBucket {
  /** Microseconds of credit one token costs. */
  readonly #cost: number;
  readonly #capacity: number;
  #credit: number;
  #last: Instant | undefined;

  constructor(rate: number = ICMP_ERRORS_PER_SECOND, burst: number = ICMP_ERROR_BURST) {
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) throw new RangeError(`token bucket: rate ${rate} and burst ${burst} must be positive`);
    this.#cost = Math.max(1, Math.round(1_000_000 / rate));
    this.#capacity = this.#cost * burst;
    this.#credit = this.#capacity;
  }

  /** Spends a token at `now`: false when none is left. */
  take(now: Instant): boolean {
    if (this.#last === undefined || now > this.#last) {
      if (this.#last !== undefined) this.#credit = Math.min(this.#capacity, this.#credit + (now - this.#last));
      this.#last = now;
    }
    if (this.#credit < this.#cost) return false;
    this.#credit -= this.#cost;
    return true;
  }
}
