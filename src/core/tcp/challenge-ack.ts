/**
 * RFC 5961 7's budget for challenge ACKs: "An implementation SHOULD include an ACK throttling
 * mechanism to be conservative." At most `limit` per second of virtual time.
 *
 * Contract: made when a connection first wants a challenge ACK (most never do), and handed
 * on with the socket pair when the connection's TIME-WAIT goes to a compact record
 * (`time-wait.ts`), so that retiring a connection does not refill its budget.
 */
import type { Instant } from '../../time/instant.js';
import { seconds } from '../../time/instant.js';

/** One connection's challenge ACKs in the current one-second window. */
export class ChallengeAckBudget {
  readonly limit: number;
  #windowStart: Instant = -Infinity;
  #spent = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** True, and counted, when one more challenge ACK fits the budget at `now`. */
  take(now: Instant): boolean {
    if (now - this.#windowStart >= seconds(1)) {
      this.#windowStart = now;
      this.#spent = 0;
    }
    if (this.#spent >= this.limit) return false;
    this.#spent++;
    return true;
  }
}
