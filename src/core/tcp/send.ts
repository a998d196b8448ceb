/**
 * What a connection transmits next, one segment per call, and the timers that keep the sender
 * going.
 *
 * Contract: `nextSegment` looks at what the TCB owes, in this order — replies (resets), our
 * SYN or SYN,ACK, the ACKs owed for every second full-sized segment and the duplicate ACKs owed
 * for out-of-order data (one segment each, oldest acknowledgment first), a keepalive probe, a
 * tail loss probe (RFC 8985 7.3), a retransmission (without SACK: of the segment at SND.UNA,
 * for fast retransmit or a NewReno partial ACK; with SACK: of the first segment the scoreboard
 * holds lost, RFC 6675 NextSeg rule 1), a zero-window probe, new or go-back-N data and our
 * FIN, and finally a bare ACK — and returns the first.
 * Data segments are views into the send ring (or the TCB's scratch buffer when the range wraps
 * around the ring), valid until the next call. `updateSenderTimers` restores the invariants
 * after every entry point: something unacknowledged always has a retransmission timer, a closed
 * peer window always has a persist timer, and nothing is armed without a reason.
 *
 * The decision to send data follows RFC 9293 3.8.6.2.1 (sender SWS avoidance) with Nagle's
 * algorithm (3.7.4), bounded by min(SND.WND, cwnd) (RFC 5681) and cut at the effective send
 * MSS (3.7.1). A SACK sender counts its flight as RFC 6675's pipe instead, and in fast
 * recovery spends the budget PRR (RFC 6937) gives each ACK instead of cwnd.
 */
import type { Duration, Instant } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import { seqAdd, seqDiff, seqGt, seqLt } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { TcpFlags } from '../../wire/tcp.js';
import type { TcpRepr } from '../../wire/tcp.js';
import { updateProbeTimer } from './sack-recovery.js';
import type { Tcb } from './tcb.js';

/** RFC 9293 3.8.6.2.1: "The override timeout should be in the range 0.1 - 1.0 seconds." */
const MIN_OVERRIDE: Duration = millis(100);
const MAX_OVERRIDE: Duration = seconds(1);

/** Pacing's rate over cwnd per SRTT: in slow start, and in congestion avoidance (Linux's tcp_pacing_ss_ratio and tcp_pacing_ca_ratio). */
export const PACING_SLOW_START_RATIO = 2;
export const PACING_AVOIDANCE_RATIO = 1.2;
/** The most a paced sender sends back to back: a millisecond's worth (Linux sizes its bursts so), and never less than two segments. */
export const PACING_BURST: Duration = millis(1);

/** The pacing rate in bytes per microsecond, or undefined when not pacing (off, or no RTT measured yet). */
function pacingRate(tcb: Tcb): number | undefined {
  const srtt = tcb.rtt.srtt;
  if (!tcb.config.pacing || srtt === undefined || srtt <= 0) return undefined;
  const cc = tcb.congestion;
  return (pacingRatio(cc.window, cc.ssthresh) * cc.window) / srtt;
}

/**
 * Pacing's rate over cwnd per SRTT. As Linux's tcp_update_pacing_rate: the slow-start ratio
 * only while cwnd is below half of ssthresh. Once a loss has set ssthresh, a window regrowing
 * towards it is near the path's capacity, and twice that rate would overflow a queue shallower
 * than the window (on the bench's long fat link it did, a second time after recovery).
 */
export function pacingRatio(cwnd: number, ssthresh: number): number {
  return cwnd < ssthresh / 2 ? PACING_SLOW_START_RATIO : PACING_AVOIDANCE_RATIO;
}

/** How far ahead of `now` the pacing schedule may run before a segment must wait. */
function pacingSlack(tcb: Tcb, rate: number): Duration {
  return Math.max(PACING_BURST, (2 * tcb.sendMss) / rate);
}

/** Whether pacing lets a segment leave at `now`; when not, the pacing timer will say when. */
function pacingAllows(tcb: Tcb, now: Instant): boolean {
  const rate = pacingRate(tcb);
  if (rate === undefined || tcb.pacingNext <= now + pacingSlack(tcb, rate)) return true;
  tcb.pacingBlocked = true;
  return false;
}

/** The next segment to transmit, or undefined. */
export function nextSegment(tcb: Tcb, now: Instant): TcpRepr | undefined {
  tcb.pacingBlocked = false;
  const reply = tcb.replies.shift();
  if (reply !== undefined) return reply;
  if (tcb.state === 'CLOSED' || tcb.state === 'LISTEN') return undefined;
  if (tcb.synNeeded) return synSegment(tcb, now);
  if (tcb.state === 'SYN-SENT') return undefined;
  const ackPoint = tcb.ackPoints.shift();
  if (ackPoint !== undefined) return tcb.laggingAck(now, ackPoint);
  if (tcb.dupAcksOwed > 0) {
    tcb.dupAcksOwed--;
    return bareAck(tcb, now);
  }
  if (tcb.keepaliveNow) {
    tcb.keepaliveNow = false;
    // RFC 1122 4.2.3.6: "Such a segment generally contains SEG.SEQ = SND.NXT-1 and may or may not
    // contain one garbage octet of data." We send none: the peer finds the sequence number old
    // and answers with an ACK.
    return tcb.segment(now, TcpFlags.ACK, seqAdd(tcb.sndMax, -1));
  }
  if (tcb.canSendData) {
    if (tcb.tlpNow) {
      tcb.tlpNow = false;
      const seg = lossProbe(tcb, now);
      if (seg !== undefined) return seg;
    }
    if (tcb.sackPermitted) {
      const seg = lostRetransmission(tcb, now);
      if (seg !== undefined) return seg;
    }
    if (tcb.retransmitNow) {
      tcb.retransmitNow = false;
      const seg = retransmitFirst(tcb, now);
      if (seg !== undefined) return seg;
    }
    if (tcb.probeNow) {
      tcb.probeNow = false;
      const seg = zeroWindowProbe(tcb, now);
      if (seg !== undefined) return seg;
    }
    const seg = dataSegment(tcb, now);
    if (seg !== undefined) return seg;
  }
  if (tcb.ackNow) return bareAck(tcb, now);
  return undefined;
}

/**
 * An ACK without data. Its sequence number is SND.MAX: after a timeout SND.NXT has gone back,
 * and an ACK numbered below what the peer has received would be unacceptable to it (RFC 9293
 * 3.10.7.4) and its acknowledgment ignored.
 */
function bareAck(tcb: Tcb, now: Instant): TcpRepr {
  return tcb.segment(now, TcpFlags.ACK, tcb.sndMax);
}

/**
 * Our SYN (SYN-SENT: RFC 9293 3.10.1 "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent") or
 * SYN,ACK (<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>), with our MSS option (3.7.1: "TCP implementations
 * SHOULD send an MSS Option in every SYN segment") and, as configured and negotiated, window
 * scale, SACK-permitted and timestamps (`Tcb.synOptions`).
 */
function synSegment(tcb: Tcb, now: Instant): TcpRepr {
  tcb.synNeeded = false;
  const options = tcb.synOptions(now);
  const flags = tcb.rcvSynchronized ? TcpFlags.SYN | TcpFlags.ACK : TcpFlags.SYN;
  if (tcb.synTransmitted) {
    tcb.counters.retransmissions++;
  } else {
    tcb.synTransmitted = true;
    // The handshake gives the first RTT sample unless the SYN has to be sent again (Karn).
    if (!tcb.handshakeRetransmitted) {
      tcb.rttSeq = seqAdd(tcb.iss, 1);
      tcb.rttStart = now;
    }
  }
  if (!tcb.timers.isSet('retransmit')) tcb.timers.set('retransmit', now + tcb.rtt.rto);
  return tcb.segment(now, flags, tcb.iss, undefined, options);
}

/**
 * A segment of `len` bytes from `seq` (which must not be before the send buffer), with our FIN
 * after them when `fin`. PSH marks the segment that empties the queue ("PSH on the last segment
 * of a write"). SND.NXT moves forward over it when `advance`; SND.MAX follows whatever was sent.
 */
function transmit(tcb: Tcb, now: Instant, seq: SeqNumber, len: number, fin: boolean, advance: boolean, probe = false): TcpRepr {
  account(tcb, now, seq, len, fin, advance, probe);
  return build(tcb, now, seq, len, fin);
}

/** The record of a transmission `transmit` or `offloadBurst` has accounted for: the data as a view of the send ring. */
function build(tcb: Tcb, now: Instant, seq: SeqNumber, len: number, fin: boolean): TcpRepr {
  const offset = seqDiff(seq, tcb.sendBufferSeq);
  // Made at the first segment (an idle connection has none), a full MSS so it is made once.
  if (len > tcb.scratch.length) tcb.scratch = new Uint8Array(Math.max(len, tcb.localMss));
  const payload = tcb.sendBuffer.peek(offset, len, tcb.scratch);
  let flags = TcpFlags.ACK;
  if (len > 0 && offset + len === tcb.sendBuffer.length) flags |= TcpFlags.PSH;
  if (fin) flags |= TcpFlags.FIN;
  return tcb.segment(now, flags, seq, payload);
}

/** What sending `len` bytes (and the FIN) from `seq` does to the TCB: counters, RTT timing, pacing, PRR, the scoreboard, SND.NXT/SND.MAX, timers. */
function account(tcb: Tcb, now: Instant, seq: SeqNumber, len: number, fin: boolean, advance: boolean, probe: boolean): void {
  const end = seqAdd(seq, len + (fin ? 1 : 0));
  if (seqLt(seq, tcb.sndMax)) {
    // A retransmission: Karn's rule (RFC 6298 3) forbids timing anything now in doubt.
    if (!probe) tcb.counters.retransmissions++;
    tcb.rttSeq = undefined;
    tcb.scoreboard.retransmitted(seq, seqLt(end, tcb.sndMax) ? end : tcb.sndMax, now);
  } else if (tcb.rttSeq === undefined && !probe) {
    tcb.rttSeq = end;
    tcb.rttStart = now;
  }
  // Pacing: the schedule moves on by this segment's time at the pacing rate.
  if (len > 0 && !probe) {
    const rate = pacingRate(tcb);
    if (rate !== undefined) tcb.pacingNext = Math.max(tcb.pacingNext, now) + len / rate;
  }
  // PRR (RFC 6937): "On any data transmission or retransmission: prr_out += (data sent)".
  if (tcb.sackPermitted && tcb.congestion.inRecovery) {
    const sent = seqDiff(end, seq);
    tcb.prr.sent(sent);
    tcb.recoveryBudget -= sent;
  }
  if (seqGt(end, tcb.sndMax)) {
    tcb.scoreboard.sent(seqGt(seq, tcb.sndMax) ? seq : tcb.sndMax, end, now);
    if (!probe) tcb.armProbe = true;
    const fresh = seqDiff(end, tcb.sndMax) - (fin ? 1 : 0);
    tcb.counters.bytesSent += Math.max(0, Math.min(len, fresh));
    if (tcb.flightSize === 0 && tcb.config.userTimeout > 0) tcb.timers.set('user-timeout', now + tcb.config.userTimeout);
    tcb.sndMax = end;
  }
  if (advance && seqGt(end, tcb.sndNxt)) tcb.sndNxt = end;
  // RFC 6298 5.1: "Every time a packet containing data is sent (including a retransmission), if
  // the timer is not running, start it running so that it will expire after RTO seconds".
  // Window probes run on the persist timer instead.
  if (!probe && !tcb.timers.isSet('retransmit')) tcb.timers.set('retransmit', now + tcb.rtt.rto);
}

/**
 * Segmentation offload (Linux's GSO): when the caller has enabled it (`segmentationOffload`),
 * new data that the one-segment-at-a-time path would send as two or more full-sized segments
 * in a row goes out as one record, its payload up to `segmentationOffload` bytes, which the
 * caller cuts at the send MSS: each piece gets this record's header with its own sequence
 * number, and PSH only on the last. The TCB accounts for every piece as that path would (one
 * scoreboard entry each, the RTT timed from the first, pacing advanced per piece), so the
 * segments on the wire are the same; what is saved is the per-segment work of deciding,
 * accounting and building. Only new data, only as many pieces as the window (cwnd, pipe, or
 * in recovery PRR's budget, each spent per piece as that path spends it) and pacing allow,
 * and never the segment that would carry the FIN. Returns undefined when fewer than two
 * pieces qualify.
 */
function offloadBurst(tcb: Tcb, now: Instant, unsent: number, usable: number): TcpRepr | undefined {
  const mss = tcb.sendMss;
  let pieces = Math.floor(Math.min(unsent, usable, tcb.segmentationOffload) / mss);
  if (tcb.finUnsent && pieces * mss === unsent) pieces--;
  pieces = pacedPieces(tcb, now, pieces, mss);
  if (pieces < 2) return undefined;
  const start = tcb.sndNxt;
  for (let i = 0; i < pieces; i++) account(tcb, now, tcb.sndNxt, mss, false, true, false);
  tcb.forceSend = false;
  return build(tcb, now, start, pieces * mss, false);
}

/** How many of `pieces` segments of `mss` bytes pacing lets leave at `now`, one after another (`pacingAllows` for each). */
function pacedPieces(tcb: Tcb, now: Instant, pieces: number, mss: number): number {
  const rate = pacingRate(tcb);
  if (rate === undefined) return pieces;
  const slack = pacingSlack(tcb, rate);
  let next = tcb.pacingNext;
  let allowed = 0;
  while (allowed < pieces && next <= now + slack) {
    next = Math.max(next, now) + mss / rate;
    allowed++;
  }
  return allowed;
}

/** Data bytes sent and unacknowledged from SND.UNA, and whether the FIN follows them. */
function firstUnacknowledged(tcb: Tcb, limit: number): { len: number; fin: boolean } {
  const sentData = Math.max(0, Math.min(tcb.sendBuffer.length, seqDiff(tcb.sndMax, tcb.sendBufferSeq)));
  const start = seqDiff(tcb.sndUna, tcb.sendBufferSeq);
  const len = Math.max(0, Math.min(limit, sentData - start));
  const fin = tcb.finSent && tcb.finSeq === seqAdd(tcb.sndUna, len);
  return { len, fin };
}

/** RFC 5681 3.2 step 3 / RFC 6582 partial ACK: the segment at SND.UNA again. */
function retransmitFirst(tcb: Tcb, now: Instant): TcpRepr | undefined {
  if (tcb.flightSize === 0) return undefined;
  const { len, fin } = firstUnacknowledged(tcb, tcb.sendMss);
  if (len === 0 && !fin) return undefined;
  return transmit(tcb, now, tcb.sndUna, len, fin, true);
}

/**
 * The room a SACK sender has for `len` more bytes: in fast recovery, the PRR budget; otherwise
 * cwnd less pipe (RFC 6675 5 (C): "while (cwnd - pipe) >= 1 SMSS"), a segment at a time.
 */
function sackRoom(tcb: Tcb): number {
  if (tcb.congestion.inRecovery) return Math.max(0, tcb.recoveryBudget);
  return Math.max(0, tcb.congestion.window - tcb.pipe);
}

/**
 * RFC 6675 NextSeg rule 1: the first segment the scoreboard holds lost and not yet resent
 * (cut to the MSS, which splits its entry), when the room allows all of it.
 */
function lostRetransmission(tcb: Tcb, now: Instant): TcpRepr | undefined {
  const board = tcb.scoreboard;
  const i = board.firstLostIndex();
  if (i < 0) return undefined;
  const start = board.start(i);
  const entryEnd = board.end(i);
  // The entry's data (its FIN, if it has it, takes the last sequence number).
  const sentData = Math.max(0, Math.min(tcb.sendBuffer.length, seqDiff(tcb.sndMax, tcb.sendBufferSeq)));
  const dataEnd = seqAdd(tcb.sendBufferSeq, sentData);
  const available = Math.max(0, seqDiff(seqLt(entryEnd, dataEnd) ? entryEnd : dataEnd, start));
  const len = Math.min(available, tcb.sendMss);
  const fin = tcb.finSent && tcb.finSeq === seqAdd(start, len) && seqLt(tcb.finSeq, entryEnd);
  if (len === 0 && !fin) return undefined;
  if (sackRoom(tcb) < len + (fin ? 1 : 0)) return undefined;
  if (!pacingAllows(tcb, now)) return undefined;
  return transmit(tcb, now, start, len, fin, false);
}

/**
 * A tail loss probe (RFC 8985 7.3): "If a previously unsent segment exists AND the receive
 * window allows, send that segment ... Else ... retransmit the highest-sequence segment sent"
 * (its last MSS), whatever cwnd says; then "TLP.end_seq = SND.NXT" and the retransmission
 * timer restarts (7.3: the RTO follows the probe).
 */
function lossProbe(tcb: Tcb, now: Instant): TcpRepr | undefined {
  if (tcb.flightSize === 0) return undefined;
  let seg: TcpRepr | undefined;
  const windowRoom = seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt);
  const len = Math.min(tcb.unsentBytes, tcb.sendMss, Math.max(0, windowRoom));
  if (len > 0) {
    const fin = tcb.finUnsent && len === tcb.unsentBytes && windowRoom > len;
    seg = transmit(tcb, now, tcb.sndNxt, len, fin, true);
    tcb.rack.tlpIsRetrans = false;
  } else {
    const board = tcb.scoreboard;
    if (board.count === 0) return undefined;
    const last = board.count - 1;
    const entryEnd = board.end(last);
    const finInEntry = tcb.finSent && tcb.finSeq !== undefined && seqLt(tcb.finSeq, entryEnd);
    const dataEnd = finInEntry ? tcb.finSeq! : entryEnd;
    const dataLen = Math.max(0, seqDiff(dataEnd, board.start(last)));
    const probeLen = Math.min(dataLen, tcb.sendMss);
    const start = seqAdd(dataEnd, -probeLen);
    if (probeLen === 0 && !finInEntry) return undefined;
    seg = transmit(tcb, now, start, probeLen, finInEntry, false);
    tcb.rack.tlpIsRetrans = true;
  }
  tcb.armProbe = false;
  tcb.rack.tlpEndSeq = tcb.sndMax;
  tcb.counters.tlpProbes++;
  tcb.timers.set('retransmit', now + tcb.rtt.rto);
  return seg;
}

/**
 * A zero-window probe (RFC 9293 3.8.6.1): "The sending TCP peer must regularly transmit at least
 * one octet of new data (if available), or retransmit to the receiving TCP peer even if the send
 * window is zero, in order to "probe" the window." One octet (or the FIN): new if nothing is
 * outstanding, else the first unacknowledged one again.
 */
function zeroWindowProbe(tcb: Tcb, now: Instant): TcpRepr | undefined {
  if (tcb.flightSize > 0) {
    const { len, fin } = firstUnacknowledged(tcb, 1);
    if (len === 0 && !fin) return undefined;
    return transmit(tcb, now, tcb.sndUna, len, fin && len === 0, false, true);
  }
  const len = Math.min(1, tcb.unsentBytes);
  const fin = len === 0 && tcb.finUnsent;
  if (len === 0 && !fin) return undefined;
  return transmit(tcb, now, tcb.sndNxt, len, fin, true, true);
}

/**
 * New data (or go-back-N data after a timeout) and the FIN. RFC 9293 3.8.6.2.1: with U the
 * usable window and D the data queued but not yet sent, send
 *   "(1) if a maximum-sized segment can be sent, i.e., if: min(D,U) >= Eff.snd.MSS;
 *    (2) or if the data is pushed and all queued data can be sent now, i.e., if:
 *        [SND.NXT = SND.UNA and] PUSHed and D <= U (the bracketed condition is imposed by the
 *        Nagle algorithm);
 *    (3) or if at least a fraction Fs of the maximum window can be sent, i.e., if:
 *        [SND.NXT = SND.UNA and] min(D,U) >= Fs * Max(SND.WND);
 *    (4) or if the override timeout occurs."
 * Every write is pushed (PSH marks its end), Fs is 1/2, and the override is the persist timer.
 * A segment with the FIN, and go-back-N retransmissions, are sent without waiting (as Linux
 * does for the FIN: nothing after it could fill the segment).
 */
function dataSegment(tcb: Tcb, now: Instant): TcpRepr | undefined {
  const unsent = tcb.unsentBytes;
  const finUnsent = tcb.finUnsent;
  if (unsent === 0 && !finUnsent) return undefined;
  // U = SND.UNA + min(SND.WND, cwnd) - SND.NXT. Limited transmit (RFC 3042) adds up to two
  // segments of new data on the first two duplicate ACKs: "the total FlightSize would remain
  // less than or equal to cwnd plus 2*SMSS".
  let usable: number;
  if (tcb.sackPermitted) {
    // RFC 6675: the peer's window bounds where data may go, pipe (or PRR) how much may be out.
    usable = Math.max(0, Math.min(seqDiff(seqAdd(tcb.sndUna, tcb.sndWnd), tcb.sndNxt), sackRoom(tcb)));
  } else {
    const limitedTransmit = !tcb.congestion.inRecovery && tcb.dupAcks > 0 && tcb.dupAcks < 3 ? tcb.dupAcks * tcb.sendMss : 0;
    const window = Math.min(tcb.sndWnd, tcb.congestion.window + limitedTransmit);
    usable = Math.max(0, seqDiff(seqAdd(tcb.sndUna, window), tcb.sndNxt));
  }
  const len = Math.min(unsent, usable, tcb.sendMss);
  if (len === tcb.sendMss && tcb.segmentationOffload > 0 && !seqLt(tcb.sndNxt, tcb.sndMax)) {
    const burst = offloadBurst(tcb, now, unsent, usable);
    if (burst !== undefined) return burst;
  }
  // The FIN needs a sequence number inside the window too (a strict receiver trims it otherwise).
  const fin = finUnsent && len === unsent && usable > len;
  if (len === 0 && !fin) return undefined;
  const retransmission = seqLt(tcb.sndNxt, tcb.sndMax);
  if (!fin && !retransmission && !tcb.forceSend) {
    const nothingOutstanding = tcb.sndNxt === tcb.sndUna;
    const nagleAllows = !tcb.nagle || nothingOutstanding;
    const fullSized = len === tcb.sendMss;
    const allQueued = len === unsent;
    const halfMaxWindow = len * 2 >= tcb.maxSndWnd;
    if (!(fullSized || (nagleAllows && (allQueued || halfMaxWindow)))) return undefined;
  }
  if (!pacingAllows(tcb, now)) return undefined;
  tcb.forceSend = false;
  return transmit(tcb, now, tcb.sndNxt, len, fin, true);
}

/** The persist interval to start from: the RTO (RFC 9293 3.8.6.1, SHLD-29). */
function persistStart(tcb: Tcb): Duration {
  return tcb.rtt.rto;
}

/**
 * Keeps the sender's timers consistent with the TCB (called after every entry point):
 * - during the handshake, our unacknowledged SYN has the retransmission timer;
 * - a zero peer window with anything outstanding or waiting has the persist timer, and no
 *   retransmission timer (RFC 9293 3.8.6.1: probes, not retransmissions, and "a TCP
 *   implementation MUST NOT close the connection as long as the receiver continues to send
 *   ACKs in response to its probes");
 * - otherwise anything outstanding has the retransmission timer (RFC 6298 5.1);
 * - data held back by sender SWS avoidance with nothing outstanding has the override timer
 *   (the persist timer again, RFC 9293 3.8.6.2.1 (4));
 * - the user timeout runs while anything is unacknowledged or waiting on a closed window;
 * - keepalive runs in the states where a connection can sit idle.
 */
export function updateSenderTimers(tcb: Tcb, now: Instant): void {
  const timers = tcb.timers;
  switch (tcb.state) {
    case 'CLOSED': case 'LISTEN':
      timers.clearAll();
      return;
    case 'TIME-WAIT':
      for (const kind of ['retransmit', 'reorder', 'loss-probe', 'pacing', 'persist', 'user-timeout', 'keepalive'] as const) timers.clear(kind);
      return;
    default:
      break;
  }
  const outstanding = tcb.flightSize > 0;
  const waiting = tcb.canSendData && tcb.hasUnsent;
  if (!tcb.synAcked) {
    timers.clear('persist');
    if (tcb.synTransmitted || tcb.state === 'SYN-RECEIVED') timers.setIfUnset('retransmit', now + tcb.rtt.rto);
  } else if (tcb.sndWnd === 0 && (outstanding || waiting) && tcb.canSendData) {
    timers.clear('retransmit');
    if (tcb.persistInterval === undefined) tcb.persistInterval = persistStart(tcb);
    timers.setIfUnset('persist', now + tcb.persistInterval);
  } else if (outstanding) {
    timers.clear('persist');
    tcb.persistInterval = undefined;
    timers.setIfUnset('retransmit', now + tcb.rtt.rto);
  } else {
    timers.clear('retransmit');
    tcb.persistInterval = undefined;
    if (waiting && !tcb.retransmitNow && !tcb.forceSend) {
      timers.setIfUnset('persist', now + Math.min(MAX_OVERRIDE, Math.max(MIN_OVERRIDE, tcb.rtt.rto)));
    } else {
      timers.clear('persist');
    }
  }
  if (tcb.config.userTimeout > 0 && (outstanding || (waiting && tcb.sndWnd === 0) || !tcb.synAcked)) {
    timers.setIfUnset('user-timeout', now + tcb.config.userTimeout);
  } else {
    timers.clear('user-timeout');
  }
  // Pacing held data back: wake when the schedule lets it go (a segment allowed already goes
  // at the next pollTransmit, and needs no timer).
  const rate = tcb.pacingBlocked && tcb.canSendData ? pacingRate(tcb) : undefined;
  const pacedUntil = rate === undefined ? undefined : tcb.pacingNext - pacingSlack(tcb, rate);
  if (pacedUntil !== undefined && pacedUntil > now) timers.set('pacing', Math.ceil(pacedUntil));
  else timers.clear('pacing');
  if (tcb.sackPermitted) updateProbeTimer(tcb, now);
  else timers.clear('loss-probe');
  if (!outstanding) timers.clear('reorder');
  const idleStates = tcb.state === 'ESTABLISHED' || tcb.state === 'CLOSE-WAIT' || tcb.state === 'FIN-WAIT-2';
  if (tcb.keepalive.enabled && idleStates) timers.setIfUnset('keepalive', now + tcb.keepalive.idle);
  else timers.clear('keepalive');
}
