/**
 * HyStart++ (RFC 9406): slow start that watches the round-trip time and leaves before the
 * bottleneck queue overflows, with a Conservative Slow Start (CSS) phase that undoes an exit
 * caused by jitter. Both controllers (NewReno and CUBIC) use it in their initial slow start.
 *
 * Contract: a controller in slow start hands every ACK of new data to `onAck` with the RTT
 * sample of that ACK and the connection's SND.UNA and SND.MAX (rounds are delimited by them);
 * `onAck` answers how many bytes cwnd grows by and whether slow start is over (the controller
 * then sets ssthresh = cwnd: RFC 9406 4.2 "enter congestion avoidance by setting the ssthresh
 * to the current cwnd"). `end()` is called on a loss or a timeout; HyStart++ never runs again
 * on that connection (RFC 9406 4.3: "An implementation SHOULD use HyStart++ only for the
 * initial slow start ... and fall back to using standard slow start for the remainder of the
 * connection lifetime"). Pure arithmetic: no clock, the time comes in as RTT samples.
 */
import type { Duration } from '../../../time/instant.js';
import { millis } from '../../../time/instant.js';
import { seqGt } from '../../../wire/seq.js';
import type { SeqNumber } from '../../../wire/seq.js';

/*
 * RFC 9406 4.3: "It is RECOMMENDED that a HyStart++ implementation use the following constants:
 *   MIN_RTT_THRESH = 4 msec  MAX_RTT_THRESH = 16 msec  MIN_RTT_DIVISOR = 8  N_RTT_SAMPLE = 8
 *   CSS_GROWTH_DIVISOR = 4  CSS_ROUNDS = 5  L = infinity if paced, L = 8 if non-paced"
 */
/** RFC 9406 4.3 MIN_RTT_THRESH: the smallest RTT increase that ends slow start. */
export const MIN_RTT_THRESH: Duration = millis(4);
/** RFC 9406 4.3 MAX_RTT_THRESH: the largest RTT increase needed to end slow start. */
export const MAX_RTT_THRESH: Duration = millis(16);
/** RFC 9406 4.3 MIN_RTT_DIVISOR: the threshold is lastRoundMinRTT / MIN_RTT_DIVISOR, within the bounds above. */
export const MIN_RTT_DIVISOR = 8;
/** RFC 9406 4.3 N_RTT_SAMPLE: RTT samples a round needs before it is judged. */
export const N_RTT_SAMPLE = 8;
/** RFC 9406 4.3 CSS_GROWTH_DIVISOR: CSS grows cwnd this many times slower than slow start. */
export const CSS_GROWTH_DIVISOR = 4;
/** RFC 9406 4.3 CSS_ROUNDS: rounds of CSS before congestion avoidance. */
export const CSS_ROUNDS = 5;
/**
 * RFC 9406 4.3 L, in segments: the most one ACK may add to cwnd. "A paced TCP implementation
 * SHOULD use L = infinity ... For non-paced TCP implementations, L values smaller than 8 may
 * suffer performance problems due to slow cwnd growth in high-speed networks; L values larger
 * than 8 may cause an increase in burstiness". This is the unpaced L; a paced connection
 * (`tcp.pacing`, the default) has no limit.
 */
export const HYSTART_L = 8;

/** Where HyStart++ has the connection. */
export type HyStartPhase =
  /** Standard slow start, watching the RTT of each round. */
  | 'slow-start'
  /** Conservative Slow Start: the RTT rose; growing at a quarter of the rate for up to CSS_ROUNDS rounds. */
  | 'css'
  /** Over (congestion avoidance was entered, or a loss or timeout happened): standard slow start from now on. */
  | 'done';

/** What one ACK did in slow start. */
export interface HyStartStep {
  /** Bytes to add to cwnd. */
  readonly increase: number;
  /** Slow start is over: set ssthresh = cwnd (after adding `increase`) and enter congestion avoidance. */
  readonly exitSlowStart: boolean;
}

/** The HyStart++ state of one connection (RFC 9406 4.2). */
export class HyStart {
  /** L in segments: {@link HYSTART_L} unpaced, infinity paced. */
  readonly #limit: number;
  #phase: HyStartPhase = 'slow-start';
  /**
   * RFC 9406 4.2: "lastRoundMinRTT and currentRoundMinRTT are initialized to infinity at the
   * initialization time."
   */
  #lastRoundMinRtt = Infinity;
  #currentRoundMinRtt = Infinity;
  #rttSampleCount = 0;
  #cssBaselineMinRtt = Infinity;
  /** Rounds (the partial one included) since CSS began. */
  #cssRounds = 0;
  /** "Define windowEnd as a sequence number initialized to SND.NXT": set at the first ACK seen. */
  #windowEnd: SeqNumber | undefined;

  /** `paced`: the connection paces its transmissions, so L = infinity (RFC 9406 4.3). */
  constructor(paced = false) {
    this.#limit = paced ? Infinity : HYSTART_L;
  }

  /** The phase (for tests and tracing). */
  get phase(): HyStartPhase {
    return this.#phase;
  }

  /** True while HyStart++ still runs (slow start or CSS). */
  get active(): boolean {
    return this.#phase !== 'done';
  }

  /** The minimum RTT of the current round, µs (Infinity before a sample). */
  get currentRoundMinRtt(): number {
    return this.#currentRoundMinRtt;
  }

  /** The minimum RTT of the last complete round, µs (Infinity before one). */
  get lastRoundMinRtt(): number {
    return this.#lastRoundMinRtt;
  }

  /**
   * An ACK of `bytesAcked` new bytes in slow start. `rtt` is its RTT sample (currRTT), if one
   * was taken; `sndUna` and `sndMax` are SND.UNA after the ACK and the highest sequence number
   * sent (RFC 9406's SND.NXT: l4's SND.NXT only differs from it while go-back-N retransmits
   * after a timeout, and HyStart++ is over by then). Without them no round ever ends.
   */
  onAck(bytesAcked: number, mss: number, rtt: Duration | undefined, sndUna: SeqNumber | undefined, sndMax: SeqNumber | undefined): HyStartStep {
    const limit = this.#limit * mss;
    if (this.#phase === 'done') return { increase: Math.min(bytesAcked, mss), exitSlowStart: false };
    let exitSlowStart = false;

    // "HyStart++ measures rounds using sequence numbers, as follows: Define windowEnd as a
    // sequence number initialized to SND.NXT. When windowEnd is ACKed, the current round ends
    // and windowEnd is set to SND.NXT." windowEnd is ACKed once SND.UNA has passed it.
    if (sndUna !== undefined && sndMax !== undefined) {
      if (this.#windowEnd === undefined) {
        this.#windowEnd = sndMax;
      } else if (seqGt(sndUna, this.#windowEnd)) {
        this.#windowEnd = sndMax;
        // "At the start of each round during standard slow start [RFC5681] and CSS, initialize
        // the variables used to compute the last round's and current round's minimum RTT:
        // lastRoundMinRTT = currentRoundMinRTT; currentRoundMinRTT = infinity; rttSampleCount = 0"
        this.#lastRoundMinRtt = this.#currentRoundMinRtt;
        this.#currentRoundMinRtt = Infinity;
        this.#rttSampleCount = 0;
        if (this.#phase === 'css') {
          // "CSS lasts at most CSS_ROUNDS rounds. If the transition into CSS happens in the
          // middle of a round, that partial round counts towards the limit. If CSS_ROUNDS
          // rounds are complete, enter congestion avoidance by setting the ssthresh to the
          // current cwnd."
          this.#cssRounds++;
          if (this.#cssRounds >= CSS_ROUNDS) {
            this.#phase = 'done';
            exitSlowStart = true;
          }
        }
      }
    }

    // "Keep track of the minimum observed RTT: currentRoundMinRTT = min(currentRoundMinRTT,
    // currRTT); rttSampleCount += 1" (currRTT: "the RTT sampled from the latest incoming ACK").
    if (rtt !== undefined && rtt >= 0) {
      this.#currentRoundMinRtt = Math.min(this.#currentRoundMinRtt, rtt);
      this.#rttSampleCount++;
    }

    if (exitSlowStart) {
      // The ACK that completed the last CSS round still grows cwnd as CSS does.
      return { increase: Math.min(bytesAcked, limit) / CSS_GROWTH_DIVISOR, exitSlowStart };
    }

    if (this.#phase === 'slow-start') {
      // "For each arriving ACK in slow start, where N is the number of previously
      // unacknowledged bytes acknowledged in the arriving ACK: Update the cwnd: cwnd = cwnd +
      // min(N, L * SMSS)"
      const increase = Math.min(bytesAcked, limit);
      // "For rounds where at least N_RTT_SAMPLE RTT samples have been obtained and
      // currentRoundMinRTT and lastRoundMinRTT are valid, check to see if delay increase
      // triggers slow start exit: ... RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT /
      // MIN_RTT_DIVISOR, MAX_RTT_THRESH)); if (currentRoundMinRTT >= (lastRoundMinRTT +
      // RttThresh)) cssBaselineMinRtt = currentRoundMinRTT; exit slow start and enter CSS"
      if (this.#rttSampleCount >= N_RTT_SAMPLE && this.#currentRoundMinRtt !== Infinity && this.#lastRoundMinRtt !== Infinity) {
        const rttThresh = Math.max(MIN_RTT_THRESH, Math.min(this.#lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH));
        if (this.#currentRoundMinRtt >= this.#lastRoundMinRtt + rttThresh) {
          this.#cssBaselineMinRtt = this.#currentRoundMinRtt;
          this.#phase = 'css';
          this.#cssRounds = 0;
        }
      }
      return { increase, exitSlowStart: false };
    }

    // CSS. "For each arriving ACK in CSS ...: cwnd = cwnd + (min(N, L * SMSS) / CSS_GROWTH_DIVISOR)"
    const increase = Math.min(bytesAcked, limit) / CSS_GROWTH_DIVISOR;
    // "For CSS rounds where at least N_RTT_SAMPLE RTT samples have been obtained, check to see
    // if the current round's minRTT drops below baseline (cssBaselineMinRtt) indicating that
    // slow start exit was spurious: if (currentRoundMinRTT < cssBaselineMinRtt)
    // cssBaselineMinRtt = infinity; resume slow start including HyStart++"
    if (this.#rttSampleCount >= N_RTT_SAMPLE && this.#currentRoundMinRtt < this.#cssBaselineMinRtt) {
      this.#cssBaselineMinRtt = Infinity;
      this.#phase = 'slow-start';
      this.#cssRounds = 0;
    }
    return { increase, exitSlowStart: false };
  }

  /**
   * A loss or a retransmission timeout: HyStart++ is over. RFC 9406 4.2: "If loss or Explicit
   * Congestion Notification (ECN) marking is observed at any time during standard slow start
   * or CSS, enter congestion avoidance by setting the ssthresh to the current cwnd." The
   * controller's own loss response then sets ssthresh (lower) as its RFC asks.
   */
  end(): void {
    this.#phase = 'done';
  }
}
