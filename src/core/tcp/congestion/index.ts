/**
 * Congestion control behind one interface (quinn-proto's `congestion/` is the model): CUBIC
 * (RFC 9438, `cubic.ts`) and NewReno (RFC 5681 + RFC 6582, `newreno.ts`) are interchangeable,
 * and both may run HyStart++ (RFC 9406, `hystart.ts`) in their initial slow start.
 *
 * Contract: a controller owns only the window arithmetic — cwnd and ssthresh. The connection
 * owns loss detection and recovery (counting duplicate ACKs, the `recover` point of RFC 6582,
 * which segment to retransmit), because that is the part SACK-based recovery (RFC 6675)
 * replaces; it reports what happened through the events below, in this order of a
 * connection's life: `onAck` for every ACK of new data outside recovery, with the ACK's RTT
 * sample and the connection's SND.UNA and SND.MAX (HyStart++ delimits its rounds with them:
 * a round ends when the ACK passes the SND.MAX recorded at its start); `onLoss` when three
 * duplicate ACKs start fast retransmit, then `onDuplicateAck` for further duplicates and
 * `onPartialAck` / `onRecoveryEnd` for ACKs of new data until recovery ends;
 * `onRetransmitTimeout` when the retransmission timer expires. All sizes are bytes.
 */
import type { Duration, Instant } from '../../../time/instant.js';
import type { SeqNumber } from '../../../wire/seq.js';
import type { CongestionAlgorithm } from '../types.js';
import { Cubic } from './cubic.js';
import { NewReno } from './newreno.js';

/** The window arithmetic of one connection. */
export interface CongestionController {
  /** Which algorithm this is (for `info()` and logs). */
  readonly algorithm: CongestionAlgorithm;
  /** The congestion window, cwnd (bytes). */
  readonly window: number;
  /** The slow-start threshold, ssthresh (bytes). */
  readonly ssthresh: number;
  /** True between `onLoss` and `onRecoveryEnd` (or a retransmission timeout). */
  readonly inRecovery: boolean;
  /** The sender maximum segment size changed (it is fixed once the handshake is over). */
  setMss(mss: number): void;
  /**
   * An ACK acknowledged `bytesAcked` new bytes outside recovery. `rtt` is its RTT sample, if
   * one could be taken: the time since the newest segment it acknowledges was first sent
   * (every ACK of first transmissions gives one, as HyStart++'s N_RTT_SAMPLE per round needs;
   * RFC 6298's estimator times one segment per round trip). `sndUna` is SND.UNA after the ACK
   * and `sndMax` the highest sequence number sent (SND.MAX; RFC 9406's SND.NXT): HyStart++
   * delimits its rounds with them, and without them no round ends.
   */
  onAck(bytesAcked: number, now: Instant, rtt: Duration | undefined, sndUna?: SeqNumber, sndMax?: SeqNumber): void;
  /** Three duplicate ACKs: fast retransmit begins (RFC 5681 3.2 steps 2 and 3). `flightSize` is SND.MAX - SND.UNA. */
  onLoss(now: Instant, flightSize: number): void;
  /** Another duplicate ACK during fast recovery (RFC 5681 3.2 step 4). */
  onDuplicateAck(now: Instant): void;
  /** An ACK of new data during recovery that does not reach the recovery point (RFC 6582 3.2 step 3, partial). */
  onPartialAck(bytesAcked: number, now: Instant): void;
  /**
   * An ACK reached the recovery point (RFC 6582 3.2 step 3, full). `flightSize` is what is
   * still outstanding; `toSsthresh` ends a PRR recovery with cwnd = ssthresh (RFC 9937 4)
   * instead of RFC 6582's flight-limited window (`windowAtRecoveryEnd`).
   */
  onRecoveryEnd(now: Instant, flightSize: number, toSsthresh?: boolean): void;
  /**
   * The retransmission timer expired (RFC 5681 3.1 equation 4). `repeated` is true when the
   * segment at SND.UNA had already been retransmitted by the timer: ssthresh is then kept.
   */
  onRetransmitTimeout(now: Instant, flightSize: number, repeated: boolean): void;
}

/**
 * The initial window of RFC 5681 3.1 (equation 1): IW = min(4*SMSS, max(2*SMSS, 4380 bytes)),
 * or one segment when the SYN or SYN-ACK had to be retransmitted ("if the SYN or SYN/ACK is
 * lost, the initial window used by a sender after a correctly transmitted SYN MUST be one
 * segment consisting of at most SMSS bytes").
 *
 * Why not RFC 6928's ten segments: RFC 6928 is Experimental, and it was evaluated on stacks
 * with SACK and modern loss recovery; until l4 has SACK (issue 6), losing part of a ten-segment
 * burst costs a NewReno sender one round trip per lost segment. The standards-track window is
 * the conservative default; a later config field can raise it.
 */
export function initialWindow(mss: number, handshakeRetransmitted: boolean): number {
  if (handshakeRetransmitted) return mss;
  return Math.min(4 * mss, Math.max(2 * mss, 4380));
}

/** Options of {@link createCongestionController}. */
export interface CongestionOptions {
  /** The sender maximum segment size, SMSS. */
  readonly mss: number;
  /** The initial cwnd (see {@link initialWindow}), or the cwnd to carry over from another controller. */
  readonly initialWindow: number;
  /** The ssthresh to carry over from another controller; default the initial, arbitrarily high one. */
  readonly ssthresh?: number;
  /** HyStart++ (RFC 9406) in the initial slow start. Default false. */
  readonly hystart?: boolean;
  /** The connection paces its transmissions (HyStart++'s L is then infinity, RFC 9406 4.3). Default false. */
  readonly paced?: boolean;
}

/** A controller of the named algorithm; undefined for a name that is not one (a name from outside TypeScript). */
export function createCongestionController(algorithm: CongestionAlgorithm, options: CongestionOptions): CongestionController;
export function createCongestionController(algorithm: string, options: CongestionOptions): CongestionController | undefined;
export function createCongestionController(algorithm: string, options: CongestionOptions): CongestionController | undefined {
  const extra = { ssthresh: options.ssthresh, hystart: options.hystart, paced: options.paced };
  switch (algorithm) {
    case 'cubic':
      return new Cubic(options.mss, options.initialWindow, extra);
    case 'newreno':
      return new NewReno(options.mss, options.initialWindow, extra);
    default:
      return undefined;
  }
}
