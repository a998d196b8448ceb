/**
 * Loss recovery of a sender whose peer reports SACK blocks: the scoreboard (RFC 6675) fed by
 * the blocks, RACK-TLP (RFC 8985) deciding what is lost, RFC 6675 recovery paced by
 * Proportional Rate Reduction (RFC 6937). Without SACK, `ack.ts` keeps NewReno (RFC 5681,
 * RFC 6582) as the fallback.
 *
 * Contract: `ack.ts` calls `sackAckArrived` for every acceptable ACK of a SACK connection,
 * after SND.UNA has moved and the scoreboard has dropped what the ACK covers; `timeouts.ts`
 * calls `reorderTimeout`, `probeTimeout` and `sackRetransmitTimeout`; `send.ts` calls
 * `updateProbeTimer` with the other timers. What to transmit (lost segments first, then new
 * data, within the PRR budget or cwnd - pipe) is `send.ts`'s business; this module only marks
 * the scoreboard, moves the recovery state and sets the budget.
 *
 * States, as Linux names them: open (nothing lost), fast recovery (`congestion.inRecovery`,
 * from the ACK on which RACK first finds a loss until SND.UNA reaches `recover`, RFC 6675's
 * RecoveryPoint) and RTO recovery (`rtoRecovery`, from a retransmission timeout until SND.UNA
 * reaches `recover` again).
 */
import type { Instant } from '../../time/instant.js';
import { seqGe, seqGt, seqLe, seqLt } from '../../wire/seq.js';
import type { SackBlock } from '../../wire/tcp.js';
import { sackBlocksOf } from './options.js';
import type { Incoming } from './segment-arrival.js';
import type { Tcb } from './tcb.js';

/** Before SND.UNA moves: what `sackAckArrived` compares against. */
export function beginSackAck(tcb: Tcb, now: Instant, seg: Incoming): number {
  tcb.rack.beginAck(now, tcb.tsEnabled && seg.hasTimestamps ? seg.tsEcr : undefined, tcb.tsOffset);
  return tcb.scoreboard.sackedBytes;
}

/**
 * The rest of an acceptable ACK for a SACK sender. `acked` is how far SND.UNA moved (bytes),
 * `sackedBefore` the SACKed bytes before it moved, `duplicate` whether RFC 5681 calls the ACK
 * a duplicate.
 */
export function sackAckArrived(tcb: Tcb, now: Instant, seg: Incoming, acked: number, sackedBefore: number, duplicate: boolean): void {
  const board = tcb.scoreboard;
  const rack = tcb.rack;
  const blocks = sackBlocksOf(seg.options);
  const dsack = blocks !== undefined && markSacked(tcb, seg.ack, blocks);
  // RFC 6937: "DeliveredData = change_in(snd.una) + change_in(SACKd)".
  const delivered = acked + board.sackedBytes - sackedBefore;

  processProbeAck(tcb, now, seg, acked, dsack, duplicate, blocks !== undefined);

  let exiting = false;
  if (tcb.congestion.inRecovery && seqGe(tcb.sndUna, tcb.recover)) {
    // RFC 6675 5: "An incoming cumulative ACK for a sequence number greater than
    // RecoveryPoint signals the end of loss recovery".
    tcb.congestion.onRecoveryEnd(now, tcb.flightSize, true);
    tcb.recoveryBudget = 0;
    exiting = true;
  }
  if (tcb.rtoRecovery && seqGe(tcb.sndUna, tcb.recover)) {
    tcb.rtoRecovery = false;
    exiting = true;
  }
  rack.updateReorderingWindow(tcb.sndUna, tcb.sndMax, dsack, exiting);

  let lost = detectLosses(tcb, now);
  // The DupThresh rule (RFC 5681 3.2, RFC 6675 IsLost) for a peer that permitted SACK and yet
  // sends no blocks: the third duplicate ACK with nothing SACKed marks the first segment lost.
  if (acked > 0) tcb.dupAcks = 0;
  else if (duplicate && blocks === undefined && board.sackedBytes === 0) {
    tcb.dupAcks++;
    if (tcb.dupAcks === 3 && board.count > 0 && !tcb.congestion.inRecovery && !tcb.rtoRecovery) {
      board.markLost(0);
      lost = true;
    }
  }
  if (lost && !tcb.congestion.inRecovery && !tcb.rtoRecovery) enterFastRecovery(tcb, now);
  if (tcb.congestion.inRecovery) tcb.recoveryBudget = tcb.prr.onAck(delivered, tcb.pipe, tcb.congestion.ssthresh, tcb.sendMss);
  if (acked > 0) tcb.armProbe = true;
}

/**
 * Marks the ACK's SACK blocks on the scoreboard; returns true when the first block is a D-SACK.
 * RFC 2883 4: the first block reports a duplicate when it lies below the cumulative
 * acknowledgment, or within the second block. Other blocks count only within the flight:
 * RFC 2018 gives no meaning to a block outside SND.UNA..SND.MAX, and a block beyond what was
 * sent is a lie that would deflate pipe (FreeBSD and Linux drop such blocks too).
 */
function markSacked(tcb: Tcb, ack: number, blocks: readonly SackBlock[]): boolean {
  let dsack = false;
  for (let j = 0; j < blocks.length && j < 4; j++) {
    const block = blocks[j]!;
    let left = Number(block.left) >>> 0;
    const right = Number(block.right) >>> 0;
    if (j === 0) {
      const second = blocks[1];
      const inSecond = second !== undefined && seqLe(Number(second.left) >>> 0, left) && seqLe(right, Number(second.right) >>> 0);
      if (seqLt(left, right) && (seqLe(right, ack) || inSecond)) {
        dsack = true;
        continue;
      }
    }
    if (!seqLt(left, right) || seqGt(right, tcb.sndMax) || !seqGt(right, tcb.sndUna)) continue;
    if (seqLt(left, tcb.sndUna)) left = tcb.sndUna;
    tcb.scoreboard.sack(left, right, tcb.rack);
  }
  return dsack;
}

/** RACK's detection (RFC 8985 6.2 step 5) with the reorder timer set to what it says. True when something new is lost. */
function detectLosses(tcb: Tcb, now: Instant): boolean {
  const board = tcb.scoreboard;
  if (board.count === 0) {
    tcb.timers.clear('reorder');
    return false;
  }
  const recovering = tcb.congestion.inRecovery || tcb.rtoRecovery;
  const segmentsSacked = Math.ceil(board.sackedBytes / Math.max(1, tcb.sendMss));
  const reoWnd = tcb.rack.reorderingWindow(tcb.rtt.srtt, recovering, segmentsSacked);
  const found = tcb.rack.detectLoss(board, now, reoWnd);
  // RFC 8985 6.2: "If timeout != 0 ... arm the RACK timer to call RACK_detect_loss_and_arm_timer() after timeout".
  if (found.timeout > 0) tcb.timers.set('reorder', now + found.timeout);
  else tcb.timers.clear('reorder');
  return found.lost;
}

/**
 * RFC 6675 5, on the first loss: "RecoveryPoint = HighData", ssthresh and the window from the
 * congestion controller (RFC 5681 3.2 step 2, RFC 9438 4.6), and PRR starts with RecoverFS =
 * the flight (RFC 6937 3).
 */
function enterFastRecovery(tcb: Tcb, now: Instant): void {
  tcb.recover = tcb.sndMax;
  tcb.congestion.onLoss(now, tcb.flightSize);
  tcb.prr.start(tcb.flightSize);
  tcb.recoveryBudget = 0;
  tcb.dupAcks = 0;
  tcb.timers.clear('loss-probe');
  tcb.counters.fastRecoveries++;
}

/**
 * The RACK reorder timer expired (RFC 8985 6.2: "RACK_detect_loss_and_arm_timer()"): what it
 * finds lost starts recovery (the first retransmission goes at once, as PRR allows one
 * segment on entry) or joins the recovery under way.
 */
export function reorderTimeout(tcb: Tcb, now: Instant): void {
  if (!tcb.sackPermitted || !tcb.synAcked) return;
  if (!detectLosses(tcb, now)) return;
  if (!tcb.congestion.inRecovery && !tcb.rtoRecovery) {
    enterFastRecovery(tcb, now);
    tcb.recoveryBudget = tcb.prr.onAck(0, tcb.pipe, tcb.congestion.ssthresh, tcb.sendMss);
  }
}

/**
 * The retransmission timer expired on a SACK sender (RFC 8985 6.3): the first segment and
 * everything sent longer than RACK's RTT plus the reordering window ago is lost; the flight is
 * not resent from SND.UNA (go-back-N would resend what the peer SACKed), the scoreboard's lost
 * segments are, in slow start, until SND.UNA reaches `recover` (set by the caller).
 */
export function sackRetransmitTimeout(tcb: Tcb, now: Instant): void {
  const reoWnd = tcb.rack.reorderingWindow(tcb.rtt.srtt, true, 0);
  tcb.rack.markLossesOnTimeout(tcb.scoreboard, now, reoWnd);
  tcb.rtoRecovery = true;
  tcb.recoveryBudget = 0;
  tcb.tlpNow = false;
  tcb.timers.clear('reorder');
  tcb.timers.clear('loss-probe');
}

/** The probe timeout expired (RFC 8985 7.3): a tail loss probe is owed, if one still makes sense. */
export function probeTimeout(tcb: Tcb, _now: Instant): void {
  if (probeAllowed(tcb)) tcb.tlpNow = true;
}

/**
 * RFC 8985 7.2: a probe is scheduled only in the open state ("not in fast recovery or RTO
 * recovery", and with nothing SACKed: then RACK's reorder timer is the one that watches),
 * with data in flight, an open peer window and no probe already outstanding.
 */
function probeAllowed(tcb: Tcb): boolean {
  return tcb.sackPermitted && tcb.canSendData && tcb.flightSize > 0 && tcb.sndWnd > 0
    && !tcb.congestion.inRecovery && !tcb.rtoRecovery && tcb.rack.tlpEndSeq === undefined
    && tcb.scoreboard.sackedBytes === 0 && tcb.scoreboard.lostBytes === 0;
}

/**
 * Keeps the probe timeout consistent (called with the sender's other timers): "The sender
 * SHOULD start or restart a loss probe PTO timer after transmitting new data (that was not
 * itself a loss probe) or upon receiving an ACK that cumulatively acknowledges new data"
 * (RFC 8985 7.2), when the state allows a probe; otherwise it is off.
 */
export function updateProbeTimer(tcb: Tcb, now: Instant): void {
  if (!probeAllowed(tcb) || tcb.tlpNow) {
    tcb.timers.clear('loss-probe');
    tcb.armProbe = false;
    return;
  }
  if (!tcb.armProbe && tcb.timers.isSet('loss-probe')) return;
  tcb.armProbe = false;
  const oneSegment = tcb.flightSize <= tcb.sendMss;
  tcb.timers.set('loss-probe', tcb.rack.probeDeadline(now, tcb.rtt.srtt, oneSegment, tcb.timers.get('retransmit')));
}

/**
 * RFC 8985 7.4, detecting losses repaired by the probe: once the ACK reaches TLP.end_seq, a
 * probe of new data needs nothing (RACK sees its losses); a retransmitted probe reported as a
 * duplicate (D-SACK), or a pure duplicate ACK of it, means nothing was lost; an ACK beyond it
 * means the probe repaired a loss, which gets the congestion response of a fast recovery
 * ("invoke the congestion control response equivalent to a fast recovery", entered and left
 * at once, as Linux's CWR state).
 */
function processProbeAck(tcb: Tcb, now: Instant, seg: Incoming, acked: number, dsack: boolean, duplicate: boolean, hasBlocks: boolean): void {
  const rack = tcb.rack;
  const end = rack.tlpEndSeq;
  if (end === undefined || seqLt(seg.ack, end)) return;
  if (!rack.tlpIsRetrans || dsack) {
    rack.tlpEndSeq = undefined;
    return;
  }
  if (seqGt(seg.ack, end)) {
    rack.tlpEndSeq = undefined;
    if (!tcb.congestion.inRecovery && !tcb.rtoRecovery) {
      tcb.congestion.onLoss(now, tcb.flightSize + acked);
      tcb.congestion.onRecoveryEnd(now, tcb.flightSize, true);
      tcb.counters.tlpRecoveries++;
    }
    return;
  }
  if (acked === 0 && duplicate && !hasBlocks) rack.tlpEndSeq = undefined;
}
