/**
 * The sender's side of an arriving acknowledgment (RFC 9293 3.10.7.4, fifth step, once the
 * ACK has been found acceptable): SND.UNA moves and the send buffer releases what it covers,
 * the RTT is sampled (RFC 6298 with Karn's rule, or from the echoed timestamp, RFC 7323 4.1
 * and Appendix G), the retransmission timer restarts, duplicate
 * ACKs are counted and drive fast retransmit and NewReno recovery (RFC 5681 3.2, RFC 6582),
 * the send window follows the SND.WL1/SND.WL2 rule, and the FIN-related state changes of
 * FIN-WAIT-1, CLOSING and LAST-ACK happen.
 *
 * Contract: loss recovery (duplicate ACK counting, `recover`, what to retransmit) is decided
 * here and reported to the `CongestionController`, which only does window arithmetic. When
 * SACK is permitted, `sack-recovery.ts` takes that part over (RACK-TLP, RFC 6675 with PRR);
 * NewReno below is the fallback for peers without SACK. Nothing is transmitted here;
 * `retransmitNow` asks `send.ts` for the segment at SND.UNA.
 */
import type { Instant } from '../../time/instant.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from '../../wire/seq.js';
import { TS_CLOCK_TICK, expectedSamples, tsElapsed } from './options.js';
import { beginSackAck, sackAckArrived } from './sack-recovery.js';
import type { Incoming } from './segment-arrival.js';
import type { Tcb } from './tcb.js';

/** In SYN-SENT, an acceptable ACK of our SYN: "SND.UNA should be advanced to equal SEG.ACK". */
export function acknowledgeSyn(tcb: Tcb, now: Instant, seg: Incoming): void {
  const flight = tcb.flightSize;
  tcb.advanceUna(seg.ack);
  if (seqLt(tcb.sndNxt, seg.ack)) tcb.sndNxt = seg.ack;
  takeRttSample(tcb, now, seg, flight);
  tcb.timeouts = 0;
  tcb.probesUnanswered = 0;
}

/**
 * The RTT sample of an ACK that advanced SND.UNA (`flight` bytes were outstanding before it),
 * fed to the RFC 6298 estimator.
 *
 * With timestamps (RFC 7323 4.1): "RTT = Snd.TSclock - SEG.TSecr", from every such ACK (4.2:
 * "RTTM ... using only those segments that advance the left edge"), each one of
 * ExpectedSamples in the round trip (Appendix G). The echo names the transmission the peer
 * acknowledged, so a retransmitted segment's ACK gives a good sample: Karn's problem does
 * not arise. Without timestamps (or for an ACK that lacks them): RFC 6298, a sample only when
 * the ACK covers the one timed segment, a first transmission (Karn's rule, RFC 6298 3).
 */
function takeRttSample(tcb: Tcb, now: Instant, seg: Incoming, flight: number): number | undefined {
  const timed = tcb.rttSeq !== undefined && seqGe(seg.ack, tcb.rttSeq);
  if (timed) tcb.rttSeq = undefined;
  if (tcb.tsEnabled && seg.hasTimestamps) {
    const ticks = tsElapsed(tcb.tsClock(now), seg.tsEcr, tcb.tsAge(now));
    if (ticks !== undefined) {
      const sample = ticks * TS_CLOCK_TICK;
      tcb.rtt.onSample(sample, expectedSamples(flight, tcb.sendMss));
      return sample;
    }
  }
  if (!timed) return undefined;
  const sample = now - tcb.rttStart;
  tcb.rtt.onSample(sample);
  return sample;
}

/**
 * An acceptable ACK in a synchronized state. Returns false when the rest of the segment must
 * be ignored (CLOSING without our FIN acknowledged; LAST-ACK once it is).
 */
export function processAck(tcb: Tcb, now: Instant, seg: Incoming): boolean {
  const ack = seg.ack;
  const windowBefore = tcb.sndWnd;
  const unaBefore = tcb.sndUna;
  tcb.probesUnanswered = 0;
  // A SACK sender's recovery has work only when something was in flight.
  const sack = tcb.sackPermitted;
  const sackWork = sack && tcb.scoreboard.count > 0;
  const sackedBefore = sackWork ? beginSackAck(tcb, now, seg) : 0;
  const duplicate = !seqGt(ack, tcb.sndUna) && isDuplicateAck(tcb, seg);

  if (seqGt(ack, tcb.sndUna)) {
    // "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any segments on the
    // retransmission queue that are thereby entirely acknowledged are removed."
    newAck(tcb, now, seg);
  } else if (duplicate && !sack) {
    // "If the ACK is a duplicate (SEG.ACK =< SND.UNA), it can be ignored" — by the state
    // machine; loss recovery counts it.
    duplicateAck(tcb, now);
  }
  if (sackWork) sackAckArrived(tcb, now, seg, seqDiff(tcb.sndUna, unaBefore), sackedBefore, duplicate);

  // "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated. If (SND.WL1 < SEG.SEQ
  // or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <-
  // SEG.SEQ, and set SND.WL2 <- SEG.ACK." ... "The check here prevents using old segments to
  // update the window."
  if (seqLe(tcb.sndUna, ack) && seqLe(ack, tcb.sndMax)
      && (seqLt(tcb.sndWl1, seg.seq) || (tcb.sndWl1 === seg.seq && seqLe(tcb.sndWl2, ack)))) {
    tcb.sndWnd = seg.window;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = ack;
    tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  }
  if (windowBefore === 0 && tcb.sndWnd > 0) windowReopened(tcb);

  switch (tcb.state) {
    case 'FIN-WAIT-1':
      // "In addition to the processing for the ESTABLISHED state, if the FIN segment is now
      // acknowledged, then enter FIN-WAIT-2 and continue processing in that state."
      if (tcb.finAcked) tcb.state = 'FIN-WAIT-2';
      return true;
    case 'CLOSING':
      // "In addition to the processing for the ESTABLISHED state, if the ACK acknowledges our
      // FIN, then enter the TIME-WAIT state; otherwise, ignore the segment."
      if (!tcb.finAcked) return false;
      tcb.enterTimeWait(now);
      return true;
    case 'LAST-ACK':
      // "The only thing that can arrive in this state is an acknowledgment of our FIN. If our
      // FIN is now acknowledged, delete the TCB, enter the CLOSED state, and return."
      if (!tcb.finAcked) return true;
      tcb.enterClosed();
      return false;
    default:
      return true;
  }
}

/**
 * RFC 5681 2, DUPLICATE ACKNOWLEDGMENT: "(a) the receiver of the ACK has outstanding data,
 * (b) the incoming acknowledgment carries no data, (c) the SYN and FIN bits are both off, (d)
 * the acknowledgment number is equal to the greatest acknowledgment received on the given
 * connection (TCP.UNA from [RFC793]) and (e) the advertised window in the incoming
 * acknowledgment equals the advertised window in the last incoming acknowledgment."
 * Also not while the window is zero: those ACKs answer our window probes, not losses.
 */
function isDuplicateAck(tcb: Tcb, seg: Incoming): boolean {
  return tcb.flightSize > 0
    && seg.wireLength === 0 // (b) and (c): no data, no SYN, no FIN (as sent, before any trimming)
    && seg.ack === tcb.sndUna
    && seg.window === tcb.sndWnd
    && tcb.sndWnd > 0;
}

/** An ACK that acknowledges new sequence space. */
function newAck(tcb: Tcb, now: Instant, seg: Incoming): void {
  const ack = seg.ack;
  const flight = tcb.flightSize;
  const dataAcked = Math.max(0, Math.min(tcb.sendBuffer.length, seqDiff(ack, tcb.sendBufferSeq)));
  if (dataAcked > 0) {
    tcb.sendBuffer.dequeue(dataAcked);
    tcb.sendBufferSeq = seqAdd(tcb.sendBufferSeq, dataAcked);
  }
  tcb.advanceUna(ack);
  if (seqLt(tcb.sndNxt, ack)) tcb.sndNxt = ack;
  // The scoreboard lets go of what is acknowledged (telling RACK what was delivered).
  tcb.scoreboard.acknowledge(ack, tcb.sackPermitted && tcb.scoreboard.count > 0 ? tcb.rack : undefined);
  const rtt = takeRttSample(tcb, now, seg, flight);
  // Congestion control's own sample, one per ACK of segments sent once (HyStart++ wants
  // N_RTT_SAMPLE a round; RFC 6298's estimator above times one segment per round trip).
  const sentAt = tcb.scoreboard.ackedSentAt;
  const ackRtt = sentAt !== undefined ? Math.max(0, now - sentAt) : rtt;
  tcb.timeouts = 0;

  let restartTimer = true;
  if (tcb.sackPermitted) {
    // SACK recovery (sack-recovery.ts) runs after this; outside recovery, the window grows.
    if (!tcb.congestion.inRecovery) tcb.congestion.onAck(cwndLimited(tcb, flight) ? dataAcked : 0, now, ackRtt, tcb.sndUna, tcb.sndMax);
  } else if (tcb.congestion.inRecovery) {
    if (seqGe(ack, tcb.recover)) {
      // RFC 6582 3.2 step 3, "Full acknowledgments: If this ACK acknowledges all of the data up
      // to and including recover ... Exit the fast recovery procedure."
      tcb.congestion.onRecoveryEnd(now, tcb.flightSize);
      tcb.dupAcks = 0;
    } else {
      // "Partial acknowledgments: ... retransmit the first unacknowledged segment. Deflate the
      // congestion window ... Do not exit the fast recovery procedure ... For the first partial
      // ACK that arrives during fast recovery, also reset the retransmit timer." (The
      // "Impatient" variant of RFC 6582 4: later partial ACKs leave the timer running.)
      tcb.congestion.onPartialAck(dataAcked, now);
      tcb.retransmitNow = true;
      restartTimer = !tcb.partialAckSeen;
      tcb.partialAckSeen = true;
    }
  } else {
    tcb.dupAcks = 0;
    // RFC 6582's test "the Cumulative Acknowledgment field covers more than recover" holds from
    // here until the next loss; recover follows SND.UNA so that it stays true on a connection
    // that sends more than 2^31 bytes without a loss (modular comparison would turn it false).
    if (seqGt(tcb.sndUna, tcb.recover)) tcb.recover = seqAdd(tcb.sndUna, -1);
    // SND.UNA and SND.MAX let HyStart++ (RFC 9406 4.2) see where its rounds end.
    tcb.congestion.onAck(cwndLimited(tcb, flight) ? dataAcked : 0, now, ackRtt, tcb.sndUna, tcb.sndMax);
  }

  // RFC 6298 5.2: "When all outstanding data has been acknowledged, turn off the retransmission
  // timer." 5.3: "When an ACK is received that acknowledges new data, restart the
  // retransmission timer so that it will expire after RTO seconds (for the current value of
  // RTO)."
  if (tcb.flightSize === 0) tcb.timers.clear('retransmit');
  else if (restartTimer) tcb.timers.set('retransmit', now + tcb.rtt.rto);
  // The user timeout measures how long data goes unacknowledged: progress restarts it.
  if (tcb.config.userTimeout > 0) {
    if (tcb.flightSize === 0 && !tcb.hasUnsent) tcb.timers.clear('user-timeout');
    else tcb.timers.set('user-timeout', now + tcb.config.userTimeout);
  }
  if (tcb.sendBlocked && tcb.sendBuffer.free > 0 && dataAcked > 0) {
    tcb.sendBlocked = false;
    tcb.emit({ type: 'writable' });
  }
}

/**
 * Whether an ACK may grow cwnd: only while cwnd is what limits the sender, judged by the
 * flight when the ACK arrived. RFC 9438 5.8: "CUBIC does not increase cwnd when a flow is
 * application limited"; RFC 7661 likewise keeps cwnd from growing past what was used. A
 * sender held back by the peer's window or its application would otherwise grow cwnd without
 * bound (64 MB against a 16 MiB window on a long fat link) and burst when the window opens.
 * In slow start, as Linux does, half of cwnd in flight is enough: the flight doubles per round.
 */
function cwndLimited(tcb: Tcb, flight: number): boolean {
  const cwnd = tcb.congestion.window;
  if (cwnd < tcb.congestion.ssthresh) return 2 * flight >= cwnd;
  return flight + tcb.sendMss >= cwnd;
}

/** A duplicate ACK (RFC 5681 3.2, RFC 6582 3.2 step 2). */
function duplicateAck(tcb: Tcb, now: Instant): void {
  if (tcb.congestion.inRecovery) {
    // RFC 5681 3.2 step 4 (and step 5: the inflated window may let new data go).
    tcb.congestion.onDuplicateAck(now);
    return;
  }
  tcb.dupAcks++;
  // On the first and second duplicate ACK, limited transmit (RFC 3042) lets `send.ts` send new
  // data beyond cwnd; the third starts fast retransmit.
  if (tcb.dupAcks !== 3) return;
  // RFC 6582 3.2 step 2: "When the third duplicate ACK is received, the TCP sender first checks
  // the value of recover to see if the Cumulative Acknowledgment field covers more than
  // recover. If so, the value of recover is incremented to the value of the highest sequence
  // number transmitted by the TCP so far. The TCP then enters fast retransmit (step 2 of
  // Section 3.2 of [RFC5681]). If not, the TCP does not enter fast retransmit and does not
  // reset ssthresh."
  if (!seqGt(tcb.sndUna, tcb.recover)) return;
  tcb.recover = tcb.sndMax;
  tcb.congestion.onLoss(now, tcb.flightSize);
  tcb.counters.fastRecoveries++;
  // RFC 5681 3.2 step 3: "The lost segment starting at SND.UNA MUST be retransmitted".
  tcb.retransmitNow = true;
  tcb.partialAckSeen = false;
}

/**
 * The peer's window opened after being zero. Whatever we sent into the closed window (window
 * probes, or data beyond a window the peer shrank) was most likely discarded: send it all
 * again (`Tcb.resendFlight`: go-back-N, or with SACK everything not SACKed marked lost), as
 * RFC 9293 3.8.6 asks after a shrink ("SHOULD retransmit normally the old unacknowledged data
 * between SND.UNA and SND.UNA+SND.WND"). Probing ends.
 */
function windowReopened(tcb: Tcb): void {
  tcb.persistInterval = undefined;
  tcb.timers.clear('persist');
  tcb.probeNow = false;
  if (seqGt(tcb.sndNxt, tcb.sndUna)) tcb.resendFlight();
}
