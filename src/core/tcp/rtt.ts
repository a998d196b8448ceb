/**
 * The retransmission timeout of RFC 6298: a smoothed round-trip time (SRTT), its variation
 * (RTTVAR), and the RTO derived from them, with exponential backoff.
 *
 * Contract: the estimator only does arithmetic; the connection decides which samples are
 * valid (Karn's rule: never a segment that was retransmitted, RFC 6298 3 — unless the
 * sample comes from an echoed timestamp, RFC 7323 4.1, which names the transmission it
 * times) and when to back off. Durations are integer microseconds; the RTO is always within
 * [minRto, maxRto].
 *
 * Many samples per round trip (RFC 7323 Appendix G). With timestamps every ACK of new data
 * gives a sample, where RFC 6298 assumed one per round trip; fed with the usual gains, SRTT
 * and RTTVAR would forget their history within a fraction of a round trip. Appendix G: "use
 * alpha' and beta' instead ... alpha' = alpha / ExpectedSamples, beta' = beta /
 * ExpectedSamples", with "ExpectedSamples = ceiling(FlightSize / (SMSS * 2))". l4 does that:
 * the connection passes ExpectedSamples with each timestamp sample (1 for the one timed
 * segment per round trip without timestamps), so a round trip's samples together move SRTT
 * and RTTVAR about as much as one sample did.
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

  /** Smoothed RTT (whole µs), undefined before the first sample. */
  get srtt(): Duration | undefined {
    return this.#srtt === undefined ? undefined : Math.round(this.#srtt);
  }

  /** RTT variation (whole µs), undefined before the first sample. */
  get rttvar(): Duration | undefined {
    return this.#rttvar === undefined ? undefined : Math.round(this.#rttvar);
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

  /**
   * A valid RTT measurement `r` (RFC 6298 2.2 and 2.3), one of about `expectedSamples` this
   * round trip (RFC 7323 Appendix G: the gains are divided by it; default 1).
   */
  onSample(r: Duration, expectedSamples = 1): void {
    const rtt = Math.max(0, r);
    const n = Number.isFinite(expectedSamples) ? Math.max(1, expectedSamples) : 1;
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
      // RFC 7323 Appendix G: alpha' = alpha / ExpectedSamples, beta' = beta / ExpectedSamples.
      const alpha = ALPHA / n;
      const beta = BETA / n;
      this.#rttvar = (1 - beta) * this.#rttvar + beta * Math.abs(this.#srtt - rtt);
      this.#srtt = (1 - alpha) * this.#srtt + alpha * rtt;
    }
    // Kept unrounded: with Appendix G's small gains one sample may move SRTT by less than a
    // microsecond, and rounding at every step would lose those moves altogether.
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
