/**
 * RACK-TLP (RFC 8985): time-based loss detection for a sender whose peer reports SACK blocks.
 * RACK ("Recent ACKnowledgment") deems a segment lost once a segment sent after it has been
 * delivered and a reordering window has passed; TLP ("Tail Loss Probe") sends one probe when
 * the ACKs stop, so that a loss at the tail of a flight is found by RACK rather than by the
 * retransmission timer.
 *
 * Contract: `Rack` keeps the RACK and TLP variables of RFC 8985 6.1 and 7 and is the
 * scoreboard's {@link DeliveryObserver}: between `beginAck` and the detection, the scoreboard
 * reports each segment an ACK newly delivers (RFC 8985 6.2 steps 1 to 3 happen there).
 * `updateReorderingWindow` is step 4 and `detectLoss` step 5, which marks entries lost on the
 * scoreboard and says how long until the next one could be (the RACK reorder timer). The
 * connection decides what to do with losses (RFC 6675 recovery with PRR, in `ack.ts`) and
 * owns the timers. Nothing here transmits.
 */
import type { Duration, Instant } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import { seqGe, seqGt, seqLt } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { tsBefore, tsClock } from './options.js';
import { LOST, RETRANSMITTED, RETRANS_IN_FLIGHT, SACKED } from './scoreboard.js';
import type { DeliveryObserver, Scoreboard } from './scoreboard.js';

/** RFC 6675's DupThresh: three segments SACKed above a hole make it a loss without waiting. */
export const DUP_THRESH = 3;

/** RFC 8985 6.2 step 4: a D-SACK keeps the reordering window widened for 16 recoveries. */
export const REO_WND_PERSIST = 16;

/**
 * RFC 8985 7.2, WCDelAckT: "the worst-case delayed ACK timer. When FlightSize is 1 ... the
 * PTO ... should be at least ... SRTT + WCDelAckT" — 200 ms, the most an RFC 5681 receiver
 * may delay.
 */
export const WORST_CASE_DELAYED_ACK: Duration = millis(200);

/** RFC 8985 7.2: "If SRTT is not available ... PTO = 1 second". */
export const PTO_WITHOUT_SRTT: Duration = seconds(1);

/**
 * RFC 8985 6.2, RACK_sent_after: "return t1 > t2 or (t1 == t2 and seq1 > seq2)" — segment 1
 * was sent after segment 2 (two segments sent in the same microsecond are ordered by sequence).
 */
export function sentAfter(t1: Instant, seq1: SeqNumber, t2: Instant, seq2: SeqNumber): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));
}

/** What one run of the detection found. */
export interface LossDetection {
  /** At least one entry was newly marked lost. */
  lost: boolean;
  /** How long until the next entry could be deemed lost (the reorder timer), 0 for none. */
  timeout: Duration;
}

/** RACK-TLP's state for one connection. */
export class Rack implements DeliveryObserver {
  /** RACK.xmit_ts and RACK.end_seq: the most recently sent segment that has been delivered. Undefined until one is. */
  xmitTs: Instant | undefined;
  endSeq: SeqNumber = 0;
  /** RACK.rtt: the RTT of that segment. */
  rtt: Duration = 0;
  /** RACK.min_RTT (infinite until a first unambiguous sample). */
  minRtt: Duration = Infinity;
  /** RACK.fack: the highest end sequence delivered so far. */
  fack: SeqNumber | undefined;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** RACK.reo_wnd_mult and RACK.reo_wnd_persist (6.2 step 4). */
  reoWndMult = 1;
  reoWndPersist = 0;
  /** RACK.dsack_round: SND.NXT when the last D-SACK widened the window (one widening a round). */
  dsackRound: SeqNumber | undefined;
  /** TLP.end_seq: SND.NXT after the outstanding loss probe; undefined when no probe is outstanding. */
  tlpEndSeq: SeqNumber | undefined;
  /** TLP.is_retrans: the outstanding probe was a retransmission (not new data). */
  tlpIsRetrans = false;

  #now: Instant = 0;
  #tsEcr: number | undefined;
  #tsOffset = 0;
  /** The result `detectLoss` returns, reused (it runs on every ACK while anything is in flight). */
  readonly #detection: LossDetection = { lost: false, timeout: 0 };

  /**
   * An ACK arrived at `now`: what the scoreboard reports until the next `beginAck` is judged
   * with its echoed timestamp `tsEcr`, when it had one, against our timestamp clock (whose
   * offset is `tsOffset`, RFC 7323 5.4) at each segment's transmission.
   */
  beginAck(now: Instant, tsEcr?: number, tsOffset = 0): void {
    this.#now = now;
    this.#tsEcr = tsEcr;
    this.#tsOffset = tsOffset;
  }

  /**
   * A segment sent at `sentAt`, ending at `end`, was newly delivered (RFC 8985 6.2 steps 1 to
   * 3). Step 2's ambiguity rule: "If Segment.retransmitted is TRUE and ACK.ts_option.echo_reply
   * < Segment.xmit_ts [or] Now() - Segment.xmit_ts < RACK.min_RTT", the ACK may be for the
   * original transmission, and the segment says nothing about timing.
   */
  delivered(sentAt: Instant, end: SeqNumber, flags: number): void {
    const retransmitted = (flags & RETRANSMITTED) !== 0;
    // Step 3, RACK_detect_reordering: "If Segment.end_seq > RACK.fack: RACK.fack =
    // Segment.end_seq; Else if Segment.end_seq < RACK.fack AND Segment.retransmitted is
    // FALSE: RACK.reordering_seen = TRUE".
    if (this.fack === undefined || seqGt(end, this.fack)) this.fack = end;
    else if (seqLt(end, this.fack) && !retransmitted) this.reorderingSeen = true;
    const rtt = this.#now - sentAt;
    if (retransmitted) {
      const echoedEarlier = this.#tsEcr !== undefined && tsBefore(this.#tsEcr, tsClock(sentAt, this.#tsOffset));
      if (echoedEarlier || rtt < this.minRtt) return;
    } else if (rtt < this.minRtt) {
      // Step 1: RACK.min_RTT from unambiguous samples.
      this.minRtt = rtt;
    }
    // Step 2: "RACK.rtt = Now() - Segment.xmit_ts; If RACK_sent_after(Segment.xmit_ts,
    // Segment.end_seq, RACK.xmit_ts, RACK.end_seq): RACK.xmit_ts = Segment.xmit_ts;
    // RACK.end_seq = Segment.end_seq" (the RTT kept is that of the segment kept, as Linux does).
    if (this.xmitTs === undefined || sentAfter(sentAt, end, this.xmitTs, this.endSeq)) {
      this.xmitTs = sentAt;
      this.endSeq = end;
      this.rtt = Math.max(0, rtt);
    }
  }

  /**
   * RFC 8985 6.2 step 4, RACK_update_reo_wnd: a D-SACK widens the reordering window by min_RTT/4
   * once a round ("If RACK.dsack_round is not None AND SND.UNA >= RACK.dsack_round:
   * RACK.dsack_round = None; If RACK.dsack_round is None AND the ACK has a D-SACK:
   * RACK.dsack_round = SND.NXT; RACK.reo_wnd_mult += 1; RACK.reo_wnd_persist = 16"), and the
   * widening wears off after 16 recoveries ("Else if exiting Fast or RTO recovery:
   * RACK.reo_wnd_persist -= 1; If RACK.reo_wnd_persist <= 0: RACK.reo_wnd_mult = 1").
   */
  updateReorderingWindow(sndUna: SeqNumber, sndNxt: SeqNumber, dsack: boolean, exitingRecovery: boolean): void {
    // A D-SACK says a retransmission was not needed: the original was late, not lost. Step 3
    // cannot see that reordering (the segment is marked retransmitted by then), so l4 takes
    // the D-SACK as seen reordering too, or the window would stay 0 whenever DupThresh
    // segments are SACKed and every reordering deeper than that would cost a retransmission
    // (Linux's RACK counts D-SACKs the same way).
    if (dsack) this.reorderingSeen = true;
    if (this.dsackRound !== undefined && seqGe(sndUna, this.dsackRound)) this.dsackRound = undefined;
    if (this.dsackRound === undefined && dsack) {
      this.dsackRound = sndNxt;
      this.reoWndMult++;
      this.reoWndPersist = REO_WND_PERSIST;
    } else if (exitingRecovery) {
      this.reoWndPersist--;
      if (this.reoWndPersist <= 0) this.reoWndMult = 1;
    }
  }

  /**
   * RACK_calc_reo_wnd: "If RACK.reordering_seen is FALSE: If in Fast or RTO recovery: return 0;
   * Else if RACK.segs_sacked >= DupThresh: return 0. return min(RACK.reo_wnd_mult *
   * RACK.min_RTT / 4, SRTT)".
   */
  reorderingWindow(srtt: Duration | undefined, inRecovery: boolean, segmentsSacked: number): Duration {
    if (!this.reorderingSeen && (inRecovery || segmentsSacked >= DUP_THRESH)) return 0;
    const quarter = Number.isFinite(this.minRtt) ? Math.floor((this.reoWndMult * this.minRtt) / 4) : (srtt ?? 0);
    return Math.min(quarter, srtt ?? quarter);
  }

  /**
   * RFC 8985 6.2 step 5, RACK_detect_loss: "For each segment, Segment, not acknowledged yet: If
   * RACK_sent_after(RACK.xmit_ts, RACK.end_seq, Segment.xmit_ts, Segment.end_seq): remaining =
   * Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now(); If remaining <= 0: Segment.lost = TRUE
   * ... Else: timeout = max(remaining, timeout)". A segment already lost and not yet
   * retransmitted is skipped (the RFC sets its xmit_ts to infinity). The walk stops at the
   * first entry sent once, after RACK's segment, beyond every retransmitted one: entries sent
   * once go out in sequence order, so no later one can qualify. The result is reused: read it
   * before the next call.
   */
  detectLoss(board: Scoreboard, now: Instant, reoWnd: Duration): LossDetection {
    const result = this.#detection;
    result.lost = false;
    result.timeout = 0;
    if (this.xmitTs === undefined) return result;
    for (let i = 0; i < board.count; i++) {
      const f = board.flags(i);
      if ((f & SACKED) !== 0) continue;
      if ((f & LOST) !== 0 && (f & RETRANS_IN_FLIGHT) === 0) continue;
      const sentAt = board.sentAt(i);
      const end = board.end(i);
      if (!sentAfter(this.xmitTs, this.endSeq, sentAt, end)) {
        if ((f & RETRANSMITTED) === 0 && (board.retransHigh === undefined || seqGe(board.start(i), board.retransHigh))) break;
        continue;
      }
      const remaining = sentAt + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        board.markLost(i);
        result.lost = true;
      } else {
        result.timeout = Math.max(result.timeout, remaining);
      }
    }
    return result;
  }

  /**
   * RFC 8985 6.3, RACK_mark_losses_on_RTO: "For each segment, Segment, not acknowledged yet: If
   * SEG.seq == SND.UNA OR Segment.xmit_ts + RACK.rtt + RACK.reo_wnd - Now() <= 0:
   * Segment.lost = TRUE".
   */
  markLossesOnTimeout(board: Scoreboard, now: Instant, reoWnd: Duration): void {
    for (let i = 0; i < board.count; i++) {
      if ((board.flags(i) & SACKED) !== 0) continue;
      if (i === 0 || board.sentAt(i) + this.rtt + reoWnd - now <= 0) board.markLost(i);
    }
    this.tlpEndSeq = undefined;
  }

  /**
   * TLP_calc_PTO (RFC 8985 7.2): "If SRTT is available: PTO = 2 * SRTT; If FlightSize is equal
   * to one segment: PTO += WCDelAckT; Else: PTO = 1 second. If Now() + PTO > TCP_RTO_expire():
   * PTO = TCP_RTO_expire() - Now()". Returns the instant the probe is due.
   */
  probeDeadline(now: Instant, srtt: Duration | undefined, oneSegmentInFlight: boolean, rtoExpires: Instant | undefined): Instant {
    let pto = srtt === undefined ? PTO_WITHOUT_SRTT : 2 * srtt + (oneSegmentInFlight ? WORST_CASE_DELAYED_ACK : 0);
    if (rtoExpires !== undefined && now + pto > rtoExpires) pto = Math.max(0, rtoExpires - now);
    return now + pto;
  }
}
