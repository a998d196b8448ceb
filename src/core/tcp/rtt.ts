/**
 * The retransmission timeout of RFC 6298: a smoothed round-trip time (SRTT), its variation
 * (RTTVAR), and the RTO derived from them, with exponential backoff.
 *
 * Contract: the estimator only does arithmetic; the connection decides which samples are
 * valid (Karn's rule: never a segment that was retransmitted, RFC 6298 3) and when to back
 * off. Durations are integer microseconds; the RTO is always within [minRto, maxRto].
 */
import type { Duration } from '../../time/instant.js';
import { seconds } from '../../time/instant.js';

/**
 * G, the clock granularity of RFC 6298 2.3. Instants are microseconds, but a driver's real
 * clock ticks no finer than about a millisecond, so a millisecond is the honest floor for
 * K*RTTVAR.
 */
export const CLOCK_GRANULARITY: Duration = 1_000;

/** RFC 6298 2.3: alpha = 1/8, beta = 1/4, K = 4. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/** The RTO bounds of a connection (from `TcpConfig`). */
export interface RtoBounds {
  readonly initialRto: Duration;
  readonly minRto: Duration;
  readonly maxRto: Duration;
}

/** SRTT, RTTVAR and RTO of one connection (RFC 6298 2). */
export class RttEstimator {
  readonly #bounds: RtoBounds;
  #srtt: Duration | undefined;
  #rttvar: Duration | undefined;
  #rto: Duration;
  #backoffs = 0;

  constructor(bounds: RtoBounds) {
    this.#bounds = bounds;
    // RFC 6298 2.1: "Until a round-trip time (RTT) measurement has been made for a segment
    // sent between the sender and receiver, the sender SHOULD set RTO <- 1 second".
    this.#rto = this.#clamp(bounds.initialRto);
  }

  /** Smoothed RTT, undefined before the first sample. */
  get srtt(): Duration | undefined {
    return this.#srtt;
  }

  /** RTT variation, undefined before the first sample. */
  get rttvar(): Duration | undefined {
    return this.#rttvar;
  }

  /** The current RTO, backoff included. */
  get rto(): Duration {
    return this.#rto;
  }

  /** Times the RTO has been doubled since the last sample. */
  get backoffs(): number {
    return this.#backoffs;
  }

  #clamp(rto: Duration): Duration {
    // RFC 6298 2.4: "Whenever RTO is computed, if it is less than 1 second, then the RTO SHOULD
    // be rounded up to 1 second" (l4 makes the floor configurable, as Linux does with 200 ms).
    // RFC 6298 2.5: "A maximum value MAY be placed on RTO provided it is at least 60 seconds."
    return Math.min(this.#bounds.maxRto, Math.max(this.#bounds.minRto, Math.round(rto)));
  }

  /** A valid RTT measurement `r` (RFC 6298 2.2 and 2.3). */
  onSample(r: Duration): void {
    const rtt = Math.max(0, r);
    if (this.#srtt === undefined || this.#rttvar === undefined) {
      // RFC 6298 2.2: "When the first RTT measurement R is made, the host MUST set
      //   SRTT <- R
      //   RTTVAR <- R/2
      //   RTO <- SRTT + max (G, K*RTTVAR)"
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      // RFC 6298 2.3: "When a subsequent RTT measurement R' is made, a host MUST set
      //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
      //   SRTT <- (1 - alpha) * SRTT + alpha * R'
      // The value of SRTT used in the update to RTTVAR is its value before updating SRTT".
      this.#rttvar = (1 - BETA) * this.#rttvar + BETA * Math.abs(this.#srtt - rtt);
      this.#srtt = (1 - ALPHA) * this.#srtt + ALPHA * rtt;
    }
    this.#srtt = Math.round(this.#srtt);
    this.#rttvar = Math.round(this.#rttvar);
    this.#rto = this.#clamp(this.#srtt + Math.max(CLOCK_GRANULARITY, K * this.#rttvar));
    // A fresh sample ends the backoff: the RTO is recomputed from it (Karn's algorithm keeps the
    // backed-off RTO only until a valid sample arrives).
    this.#backoffs = 0;
  }

  /** The retransmission timer expired (RFC 6298 5.5): "The host MUST set RTO <- RTO * 2". */
  backoff(): void {
    this.#rto = this.#clamp(this.#rto * 2);
    this.#backoffs++;
  }

  /**
   * RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN segment and the TCP
   * implementation is using an RTO less than 3 seconds, the RTO MUST be re-initialized to 3
   * seconds when data transmission begins (i.e., after the three-way handshake completes)."
   * Only without a sample: a sample (there is none when the SYN was retransmitted, by Karn's
   * rule) would be better information.
   */
  onHandshakeTimedOut(): void {
    if (this.#srtt !== undefined) return;
    this.#rto = this.#clamp(Math.max(this.#bounds.initialRto, seconds(3)));
    this.#backoffs = 0;
  }
}
