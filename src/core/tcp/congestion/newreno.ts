/**
 * NewReno: the congestion control of RFC 5681 (slow start, congestion avoidance, fast
 * retransmit and fast recovery) with RFC 6582's handling of partial acknowledgments.
 *
 * Contract: see `CongestionController` in `./index.ts`. The connection decides when recovery
 * starts and ends (it holds `recover`); this class does the arithmetic each RFC step asks for.
 */
import type { Duration, Instant } from '../../../time/instant.js';
import { deflateOnPartialAck, inflateOnDuplicateAck, windowAtRecoveryEnd } from './fast-recovery.js';
import type { SeqNumber } from '../../../wire/seq.js';
import { HyStart, type HyStartPhase } from './hystart.js';
import type { CongestionController } from './index.js';

/**
 * The initial ssthresh. RFC 5681 3.1: "The initial value of ssthresh SHOULD be set arbitrarily
 * high (e.g., to the size of the largest possible advertised window)". Linux's
 * TCP_INFINITE_SSTHRESH; it stays right when window scaling (issue 6) raises the window.
 */
export const INITIAL_SSTHRESH = 0x7fff_ffff;

/** Options of {@link NewReno}. */
export interface NewRenoOptions {
  /** Start with this ssthresh (bytes) instead of {@link INITIAL_SSTHRESH}. */
  readonly ssthresh?: number;
  /** HyStart++ (RFC 9406) in the initial slow start (only while ssthresh is still the initial one). Default false. */
  readonly hystart?: boolean;
  /** The connection paces its transmissions: HyStart++'s L is infinity (RFC 9406 4.3). Default false. */
  readonly paced?: boolean;
}

/** RFC 5681 + RFC 6582 NewReno. */
export class NewReno implements CongestionController {
  readonly algorithm = 'newreno' as const;
  #mss: number;
  #cwnd: number;
  #ssthresh: number;
  #recovering = false;
  /** Bytes acknowledged in congestion avoidance since cwnd last grew (RFC 5681 3.1, byte counting). */
  #bytesAcked = 0;
  readonly #hystart: HyStart | undefined;

  constructor(mss: number, initialWindow: number, options: NewRenoOptions = {}) {
    this.#mss = Math.max(1, mss);
    this.#cwnd = Math.max(this.#mss, initialWindow);
    this.#ssthresh = options.ssthresh ?? INITIAL_SSTHRESH;
    // RFC 9406 4.3: "An implementation SHOULD use HyStart++ only for the initial slow start
    // (when the ssthresh is at its initial value of arbitrarily high per [RFC5681])".
    this.#hystart = options.hystart === true && this.#ssthresh >= INITIAL_SSTHRESH ? new HyStart(options.paced === true) : undefined;
  }

  /** The HyStart++ phase, or undefined when HyStart++ is not used. */
  get hystartPhase(): HyStartPhase | undefined {
    return this.#hystart?.phase;
  }

  get window(): number {
    return this.#cwnd;
  }

  get ssthresh(): number {
    return this.#ssthresh;
  }

  get inRecovery(): boolean {
    return this.#recovering;
  }

  setMss(mss: number): void {
    this.#mss = Math.max(1, mss);
    this.#cwnd = Math.max(this.#cwnd, this.#mss);
  }

  /** RFC 5681 3.1 equation 4: ssthresh = max (FlightSize / 2, 2*SMSS). */
  #halvedFlight(flightSize: number): number {
    return Math.max(Math.floor(flightSize / 2), 2 * this.#mss);
  }

  onAck(bytesAcked: number, _now: Instant, rtt: Duration | undefined, sndUna?: SeqNumber, sndMax?: SeqNumber): void {
    if (bytesAcked <= 0 || this.#recovering) return;
    if (this.#cwnd < this.#ssthresh) {
      if (this.#hystart?.active) {
        // HyStart++ (RFC 9406 4.2) grows cwnd in the initial slow start and may end it:
        // "enter congestion avoidance by setting the ssthresh to the current cwnd".
        const step = this.#hystart.onAck(bytesAcked, this.#mss, rtt, sndUna, sndMax);
        this.#cwnd += Math.floor(step.increase);
        if (step.exitSlowStart) this.#ssthresh = this.#cwnd;
        return;
      }
      // RFC 5681 3.1, slow start: "cwnd += min (N, SMSS)" (equation 2), N being the bytes
      // newly acknowledged: appropriate byte counting with a limit of one SMSS (RFC 3465).
      this.#cwnd += Math.min(bytesAcked, this.#mss);
      return;
    }
    // RFC 5681 3.1, congestion avoidance, the byte-counting variant: "the number of bytes that
    // have been acknowledged by ACKs for new data ... when the number of bytes acknowledged
    // reaches cwnd, then cwnd can be incremented by up to SMSS bytes".
    this.#bytesAcked += bytesAcked;
    if (this.#bytesAcked >= this.#cwnd) {
      this.#bytesAcked -= this.#cwnd;
      this.#cwnd += this.#mss;
    }
  }

  onLoss(_now: Instant, flightSize: number): void {
    // RFC 9406 4.2: a loss in slow start or CSS ends HyStart++.
    this.#hystart?.end();
    // RFC 5681 3.2 step 2: "When the third duplicate ACK is received, a TCP MUST set ssthresh
    // to no more than the value given in equation (4)".
    this.#ssthresh = this.#halvedFlight(flightSize);
    // Step 3: "cwnd set to ssthresh plus 3*SMSS. This artificially "inflates" the congestion
    // window by the number of segments (three) that have left the network".
    this.#cwnd = this.#ssthresh + 3 * this.#mss;
    this.#bytesAcked = 0;
    this.#recovering = true;
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
    this.#bytesAcked = 0;
  }

  onRetransmitTimeout(_now: Instant, flightSize: number, repeated: boolean): void {
    this.#hystart?.end();
    // RFC 5681 3.1: "When a TCP sender detects segment loss using the retransmission timer and
    // the given segment has not yet been resent by way of the retransmission timer, the value
    // of ssthresh MUST be set to no more than the value given in equation (4)".
    if (!repeated) this.#ssthresh = this.#halvedFlight(flightSize);
    // "Furthermore, upon a timeout cwnd MUST be set to no more than the loss window, LW, which
    // equals 1 full-sized segment (regardless of the value of IW)."
    this.#cwnd = this.#mss;
    this.#bytesAcked = 0;
    // RFC 6582 3.2 step 4: "exit the fast recovery procedure if applicable".
    this.#recovering = false;
  }
}
