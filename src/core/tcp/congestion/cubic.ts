/**
 * CUBIC (RFC 9438): after a congestion event the window grows as a cubic function of the time
 * since congestion avoidance began — concave up to W_max, the window where the last loss
 * happened, then convex beyond it — never slower than Reno would (the Reno-friendly region),
 * and decreases by β_cubic = 0.7 rather than 1/2.
 *
 * Contract: see `CongestionController` in `./index.ts`. The connection decides when recovery
 * starts and ends; this class does the arithmetic. Fast retransmit and fast recovery are
 * RFC 6582's, unchanged (RFC 9438 4.2: "It does not make any changes to the TCP Fast Recovery
 * and Fast Retransmit algorithms [RFC6582] [RFC6675]"), with CUBIC's ssthresh. Slow start is
 * RFC 5681's, or HyStart++ (RFC 9406) in the initial slow start. Windows are kept in bytes
 * (RFC 9438 4.1: "Implementations can use bytes to express window sizes, which would require
 * factoring in the maximum segment size wherever necessary and replacing segments_acked with
 * the number of bytes acknowledged"): cwnd as a real number, reported rounded down. Time comes
 * in as `now` (µs) and is used in seconds, as the RFC's C (segments/second³) requires.
 *
 * Not implemented: the spurious-congestion undo of RFC 9438 4.9 (l4 has neither timestamps,
 * F-RTO nor DSACK to detect a spurious loss), and the application-limited rule of 4.2 and 5.8
 * ("The elapsed time t ... MUST NOT include periods during which cwnd has not been updated due
 * to application-limited behavior"): the controller is not told when the sender is limited by
 * the application or the peer's window. ssthresh follows flight_size as 4.6 asks, so a loss
 * still cuts from what was actually in flight.
 */
import type { Duration, Instant } from '../../../time/instant.js';
import { deflateOnPartialAck, inflateOnDuplicateAck, windowAtRecoveryEnd } from './fast-recovery.js';
import type { SeqNumber } from '../../../wire/seq.js';
import { HyStart, type HyStartPhase } from './hystart.js';
import type { CongestionController } from './index.js';
import { INITIAL_SSTHRESH } from './newreno.js';

/** RFC 9438 5.1: "Therefore, C SHOULD be set to 0.4." (segments / second³) */
export const CUBIC_C = 0.4;
/** RFC 9438 4.6: "The parameter β_cubic SHOULD be set to 0.7". */
export const BETA_CUBIC = 0.7;
/** RFC 9438 4.3: "α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic)". */
export const ALPHA_CUBIC = (3 * (1 - BETA_CUBIC)) / (1 + BETA_CUBIC);

/** Options of {@link Cubic}. */
export interface CubicOptions {
  /** Start with this ssthresh (bytes) instead of the initial "arbitrarily high" one. */
  readonly ssthresh?: number;
  /** HyStart++ in the initial slow start (only while ssthresh is still the initial one). Default false. */
  readonly hystart?: boolean;
  /** The connection paces its transmissions: HyStart++'s L is infinity (RFC 9406 4.3). Default false. */
  readonly paced?: boolean;
  /**
   * Fast convergence (RFC 9438 4.7). Default true: "the following 'Fast Convergence' mechanism
   * SHOULD be implemented" (and "In network environments with only a single CUBIC flow and
   * without any other traffic, Fast Convergence SHOULD be disabled" — a host cannot know that).
   */
  readonly fastConvergence?: boolean;
}

/** The CUBIC controller of one connection (RFC 9438). */
export class Cubic implements CongestionController {
  readonly algorithm = 'cubic' as const;
  #mss: number;
  /** cwnd in bytes, a real number. */
  #cwnd: number;
  #ssthresh: number;
  #recovering = false;
  readonly #fastConvergence: boolean;
  readonly #hystart: HyStart | undefined;

  /**
   * W_max in bytes: "Size of cwnd in segments just before cwnd was reduced in the last
   * congestion event" (possibly lowered by fast convergence). Undefined when the next
   * congestion avoidance stage starts without one (first slow start ended by HyStart++, after
   * a timeout): then W_max = cwnd_epoch and K = 0 (RFC 9438 4.8, 4.10).
   */
  #wMax: number | undefined;
  /** cwnd_prior in bytes: "Size of cwnd in segments at the time of setting ssthresh most recently". */
  #cwndPrior: number | undefined;
  /** t_epoch: when the current congestion avoidance stage started; undefined outside one. */
  #epochStart: Instant | undefined;
  /** cwnd_epoch in bytes: "The cwnd at the beginning of the current congestion avoidance stage". */
  #cwndEpoch = 0;
  /** K in seconds (RFC 9438 equation 2). */
  #k = 0;
  /** W_est in bytes (RFC 9438 4.3). */
  #wEst = 0;
  /** The smallest RTT sample seen, µs. */
  #minRtt: Duration | undefined;

  constructor(mss: number, initialWindow: number, options: CubicOptions = {}) {
    this.#mss = Math.max(1, mss);
    this.#cwnd = Math.max(this.#mss, initialWindow);
    this.#ssthresh = options.ssthresh ?? INITIAL_SSTHRESH;
    this.#fastConvergence = options.fastConvergence ?? true;
    // RFC 9406 4.3: "An implementation SHOULD use HyStart++ only for the initial slow start
    // (when the ssthresh is at its initial value of arbitrarily high per [RFC5681])".
    this.#hystart = options.hystart === true && this.#ssthresh >= INITIAL_SSTHRESH ? new HyStart(options.paced === true) : undefined;
  }

  get window(): number {
    return Math.floor(this.#cwnd);
  }

  get ssthresh(): number {
    return this.#ssthresh;
  }

  get inRecovery(): boolean {
    return this.#recovering;
  }

  /** W_max in bytes, undefined before the first congestion event (for tests and tracing). */
  get wMax(): number | undefined {
    return this.#wMax;
  }

  /** K in seconds of the current congestion avoidance stage (for tests and tracing). */
  get k(): number {
    return this.#k;
  }

  /** The smallest RTT sample seen, µs (for tests and tracing). */
  get minRtt(): Duration | undefined {
    return this.#minRtt;
  }

  /** The HyStart++ phase, or undefined when HyStart++ is not used. */
  get hystartPhase(): HyStartPhase | undefined {
    return this.#hystart?.phase;
  }

  setMss(mss: number): void {
    this.#mss = Math.max(1, mss);
    this.#cwnd = Math.max(this.#cwnd, this.#mss);
  }

  /**
   * W_cubic(t) in bytes. RFC 9438 equation 1: "W_cubic(t) = C * (t - K)^3 + W_max", in
   * segments; times SMSS for bytes.
   */
  #wCubic(t: number, wMax: number): number {
    const d = t - this.#k;
    return CUBIC_C * d * d * d * this.#mss + wMax;
  }

  onAck(bytesAcked: number, now: Instant, rtt: Duration | undefined, sndUna?: SeqNumber, sndMax?: SeqNumber): void {
    if (rtt !== undefined && rtt >= 0) this.#minRtt = this.#minRtt === undefined ? rtt : Math.min(this.#minRtt, rtt);
    if (bytesAcked <= 0 || this.#recovering) return;

    // RFC 9438 4.10: "CUBIC MUST employ a slow-start algorithm, when cwnd is no more than
    // ssthresh." RFC 5681 3.1 lets either run when cwnd = ssthresh; congestion avoidance does
    // here, so that HyStart++'s exit (ssthresh = cwnd) leaves slow start.
    if (this.#cwnd < this.#ssthresh) {
      if (this.#hystart?.active) {
        // RFC 9438 4.10: "In general, CUBIC SHOULD use the HyStart++ slow start algorithm".
        const step = this.#hystart.onAck(bytesAcked, this.#mss, rtt, sndUna, sndMax);
        this.#cwnd += step.increase;
        if (step.exitSlowStart) this.#exitSlowStart();
        return;
      }
      // RFC 5681 3.1 equation 2: "cwnd += min (N, SMSS)".
      this.#cwnd += Math.min(bytesAcked, this.#mss);
      return;
    }
    this.#congestionAvoidance(bytesAcked, now);
  }

  /**
   * HyStart++ ended slow start without a loss. RFC 9438 4.10: "When CUBIC uses HyStart++
   * [RFC9406], it may exit the first slow start without incurring any packet loss and thus
   * W_max is undefined. In this special case, CUBIC sets cwnd_prior = cwnd and switches to
   * congestion avoidance. It then increases its congestion window size using Figure 1, where
   * t is the elapsed time since the beginning of the current congestion avoidance stage, K is
   * set to 0, and W_max is set to the congestion window size at the beginning of the current
   * congestion avoidance stage." RFC 9406 4.2: "enter congestion avoidance by setting the
   * ssthresh to the current cwnd".
   */
  #exitSlowStart(): void {
    this.#ssthresh = Math.floor(this.#cwnd);
    this.#cwndPrior = this.#cwnd;
    this.#wMax = undefined;
    this.#epochStart = undefined;
  }

  /** The start of a congestion avoidance stage (RFC 9438 4.1.2 t_epoch, cwnd_epoch; 4.2 equation 2; 4.3). */
  #startEpoch(now: Instant): void {
    this.#epochStart = now;
    this.#cwndEpoch = this.#cwnd;
    if (this.#wMax === undefined) {
      // After a timeout or a HyStart++ exit: "K is set to 0, and W_max is set to the
      // congestion window size at the beginning of the current congestion avoidance stage"
      // (RFC 9438 4.8, 4.10).
      this.#wMax = this.#cwndEpoch;
      this.#k = 0;
    } else {
      // Equation 2: "K = cubic_root((W_max - cwnd_epoch) / C)", in segments.
      this.#k = Math.cbrt((this.#wMax - this.#cwndEpoch) / this.#mss / CUBIC_C);
    }
    // RFC 9438 4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance
    // stage." 4.8: "for the Reno-friendly region, W_est SHOULD be set to the congestion window
    // size at the beginning of the current congestion avoidance stage."
    this.#wEst = this.#cwndEpoch;
  }

  #congestionAvoidance(bytesAcked: number, now: Instant): void {
    if (this.#epochStart === undefined) this.#startEpoch(now);
    const wMax = this.#wMax ?? this.#cwndEpoch;
    const cwnd = this.#cwnd;
    // RFC 9438 4.2: "t is the elapsed time in seconds from the beginning of the current
    // congestion avoidance stage, that is, t = t_current - t_epoch".
    const t = (now - (this.#epochStart ?? now)) / 1e6;
    // "CUBIC computes the target congestion window size after the next RTT using Figure 1 as
    // follows, where RTT is the smoothed round-trip time." l4 uses the smallest RTT seen, as
    // Linux does (bictcp_update adds delay_min to t): the smoothed RTT includes the queue that
    // CUBIC itself builds, and would make the target run further ahead the fuller the queue.
    const rtt = (this.#minRtt ?? 0) / 1e6;
    // "target = cwnd if W_cubic(t + RTT) < cwnd; 1.5 * cwnd if W_cubic(t + RTT) > 1.5 * cwnd;
    // W_cubic(t + RTT) otherwise". "The lower and upper bounds below ensure that CUBIC's
    // congestion window increase rate is non-decreasing and is less than the increase rate of
    // slow start".
    const target = Math.min(Math.max(this.#wCubic(t + rtt, wMax), cwnd), 1.5 * cwnd);

    // RFC 9438 4.3, Reno-friendly region. Equation 4: "W_est = W_est + α_cubic *
    // segments_acked / cwnd" (segments; with bytes, segments_acked is bytesAcked / SMSS and
    // the increment is times SMSS). "Once W_est has grown to reach the cwnd at the time of most
    // recently setting ssthresh, that is, W_est >= cwnd_prior, the sender SHOULD set α_cubic
    // to 1 to ensure that it can achieve the same congestion window increment rate as Reno".
    const alpha = this.#cwndPrior !== undefined && this.#wEst >= this.#cwndPrior ? 1 : ALPHA_CUBIC;
    this.#wEst += (alpha * bytesAcked * this.#mss) / cwnd;

    // "CUBIC checks whether W_cubic(t) is less than W_est. If so, CUBIC is in the Reno-friendly
    // region and cwnd SHOULD be set to W_est at each reception of a new ACK." (Never lower:
    // the region only ever speeds growth up.)
    if (this.#wCubic(t, wMax) < this.#wEst) {
      this.#cwnd = Math.max(cwnd, this.#wEst);
      return;
    }
    // RFC 9438 4.4 (concave region, cwnd < W_max) and 4.5 (convex region, cwnd >= W_max):
    // "cwnd MUST be incremented by (target - cwnd) / cwnd for each received new ACK", in
    // segments. An ACK of N bytes counts as N / SMSS ACKs of one segment (RFC 3465 byte
    // counting), so delayed ACKs do not halve the growth: in bytes, (target - cwnd) / cwnd * N.
    this.#cwnd = cwnd + ((target - cwnd) / cwnd) * bytesAcked;
  }

  /**
   * A congestion event (RFC 9438 4.6, 4.7) and what RFC 5681 3.2 asks on entering fast
   * recovery with that ssthresh.
   */
  onLoss(_now: Instant, flightSize: number): void {
    // RFC 9406 4.2: a loss in slow start or CSS ends HyStart++.
    this.#hystart?.end();
    this.#reduce(flightSize);
    // RFC 5681 3.2 step 3 (which RFC 6582 keeps, and CUBIC does not change): "cwnd set to
    // ssthresh plus 3*SMSS".
    this.#cwnd = this.#ssthresh + 3 * this.#mss;
    this.#recovering = true;
  }

  /**
   * RFC 9438 4.7 then 4.6: W_max, ssthresh and cwnd at a congestion event; the congestion
   * avoidance stage ends (the next one starts at the first ACK after recovery).
   */
  #reduce(flightSize: number): void {
    const cwnd = this.#cwnd;
    // 4.7: "With Fast Convergence, when a congestion event occurs, W_max is updated as follows,
    // before the window reduction described in Section 4.6: W_max = cwnd * (1 + β_cubic) / 2
    // if cwnd < W_max and fast convergence enabled, further reduce W_max; W_max = cwnd
    // otherwise, remember cwnd before reduction".
    this.#wMax = this.#fastConvergence && this.#wMax !== undefined && cwnd < this.#wMax
      ? (cwnd * (1 + BETA_CUBIC)) / 2
      : cwnd;
    // 4.6, Figure 5: "ssthresh = flight_size * β_cubic (new ssthresh); cwnd_prior = cwnd (save
    // cwnd); cwnd = max(ssthresh, 2) (reduction on loss, cwnd is at least 2 MSS); ssthresh =
    // max(ssthresh, 2) (ssthresh is at least 2 MSS)". flight_size, not cwnd: "Some
    // implementations of CUBIC currently use cwnd instead of flight_size when calculating a new
    // ssthresh. Implementations that use cwnd MUST use other measures to prevent cwnd from
    // growing when the volume of bytes in flight is smaller than cwnd."
    const ssthresh = Math.floor(Math.max(0, flightSize) * BETA_CUBIC);
    this.#cwndPrior = cwnd;
    this.#cwnd = Math.max(ssthresh, 2 * this.#mss);
    this.#ssthresh = Math.max(ssthresh, 2 * this.#mss);
    this.#epochStart = undefined;
  }

  onDuplicateAck(_now: Instant): void {
    if (this.#recovering) this.#cwnd = inflateOnDuplicateAck(this.#cwnd, this.#mss);
  }

  onPartialAck(bytesAcked: number, _now: Instant): void {
    if (!this.#recovering) return;
    this.#cwnd = deflateOnPartialAck(this.#cwnd, bytesAcked, this.#mss);
  }

  onRecoveryEnd(_now: Instant, flightSize: number, toSsthresh = false): void {
    if (!this.#recovering) return;
    this.#cwnd = windowAtRecoveryEnd(this.#ssthresh, flightSize, this.#mss, toSsthresh);
    this.#recovering = false;
  }

  onRetransmitTimeout(_now: Instant, flightSize: number, repeated: boolean): void {
    this.#hystart?.end();
    // RFC 9438 4.8: "In the case of a timeout, CUBIC follows Reno to reduce cwnd [RFC5681] but
    // sets ssthresh using β_cubic (same as in Section 4.6) in a way that is different from Reno
    // TCP". Reno's rule for when to set it stays (RFC 5681 3.1: only when "the given segment
    // has not yet been resent by way of the retransmission timer").
    if (!repeated) {
      this.#cwndPrior = this.#cwnd;
      this.#ssthresh = Math.max(Math.floor(Math.max(0, flightSize) * BETA_CUBIC), 2 * this.#mss);
    }
    // RFC 5681 3.1: "upon a timeout cwnd MUST be set to no more than the loss window, LW, which
    // equals 1 full-sized segment".
    this.#cwnd = this.#mss;
    // RFC 9438 4.8: "During the first congestion avoidance stage after a timeout, CUBIC
    // increases its congestion window size using Figure 1, where t is the elapsed time since
    // the beginning of the current congestion avoidance stage, K is set to 0, and W_max is set
    // to the congestion window size at the beginning of the current congestion avoidance stage."
    this.#wMax = undefined;
    this.#epochStart = undefined;
    // RFC 6582 3.2 step 4: "exit the fast recovery procedure if applicable".
    this.#recovering = false;
  }
}
