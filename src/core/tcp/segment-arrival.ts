/**
 * Segment arrival: RFC 9293 3.10.7 ("SEGMENT ARRIVES"), step by step and in the RFC's order,
 * with RFC 5961's hardening where RFC 9293 points to it.
 *
 * Contract: `handleSegmentArrival` takes any `TcpRepr` — the host has verified the checksum
 * and matched the socket pair, but every field is still untrusted — and never throws: fields
 * are first reduced to their wire ranges (`Incoming.load`), and every later step works with
 * sequence-number helpers on those. It changes the TCB and leaves what to send as flags and
 * queued replies for `send.ts`; it never builds data segments itself.
 *
 * The order: CLOSED (3.10.7.1); LISTEN belongs to the host's listener (3.10.7.2, see
 * `TcpConnection.accept`); SYN-SENT (3.10.7.3); then, for the other states (3.10.7.4): PAWS
 * (RFC 7323 5.3, before the sequence number check), check the sequence number (and record
 * the peer's timestamp, RFC 7323 4.3), the RST bit, (security: not implemented), the SYN
 * bit, the ACK field, the URG bit, the segment text, the FIN bit.
 *
 * RFC 7323 3.2 adds: "If a non-<RST> segment is received without a TSopt, a TCP SHOULD
 * silently drop the segment." l4 does not: such a segment is processed without timestamp
 * checks, as Linux and FreeBSD (its default since 2021) do — a middlebox that strips options
 * from some segments would otherwise stall the connection, and RFC 5961's checks guard
 * against blind injection either way.
 */
import type { Instant } from '../../time/instant.js';
import { seqAdd, seqDiff, seqGt, seqInWindow, seqLe, seqLt, seqMax } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { TcpFlags } from '../../wire/tcp.js';
import type { TcpOption, TcpRepr } from '../../wire/tcp.js';
import { acknowledgeSyn, processAck } from './ack.js';
import { PAWS_IDLE_LIMIT, findTimestamps, tsBefore, windowUnit } from './options.js';
import { receiveFin, receiveText } from './receive.js';
import { duplicateText } from './sack-report.js';
import type { Tcb } from './tcb.js';

/** Why the connection dropped a segment, for the host's counters (most drops are the RFC's ordinary answers and not counted). */
export type SegmentDrop = 'paws';

/** What `handleSegmentArrival` says: a drop the host counts, 'predicted' when header prediction took the segment, else undefined. */
export type ArrivalResult = SegmentDrop | 'predicted' | undefined;

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);

/**
 * An incoming segment with every field reduced to its wire range, plus where its text starts
 * (`dataSeq`) and whether its FIN still counts once trimmed to the window. One record is
 * reused for every arriving segment: reading a segment allocates nothing.
 */
export class Incoming {
  seq: SeqNumber = 0;
  ack: SeqNumber = 0;
  flags = 0;
  window = 0;
  urgentPointer = 0;
  options: readonly TcpOption[] = NO_OPTIONS;
  payload: Uint8Array = EMPTY;
  /** Sequence number of the first payload byte (SEG.SEQ, plus one with SYN). */
  dataSeq: SeqNumber = 0;
  /** The FIN bit, as trimming to the window leaves it. */
  fin = false;
  /** SEG.LEN as it arrived (data plus SYN plus FIN), before any trimming. */
  wireLength = 0;
  /** The segment carried a Timestamps option (RFC 7323 3.2); its values follow. */
  hasTimestamps = false;
  /** SEG.TSval and SEG.TSecr (0 without the option). */
  tsVal = 0;
  tsEcr = 0;

  /** Fills the record from `repr` as the wire would have carried it: 32-bit numbers, 16-bit window, 8 flag bits. */
  load(repr: TcpRepr): this {
    this.seq = Number(repr.seqNumber) >>> 0;
    this.ack = Number(repr.ackNumber) >>> 0;
    this.flags = Number(repr.flags) & 0xff;
    this.window = Number(repr.window) & 0xffff;
    this.urgentPointer = Number(repr.urgentPointer) & 0xffff;
    this.options = Array.isArray(repr.options) ? repr.options : NO_OPTIONS;
    this.payload = repr.payload instanceof Uint8Array ? repr.payload : EMPTY;
    this.fin = (this.flags & TcpFlags.FIN) !== 0;
    this.dataSeq = (this.flags & TcpFlags.SYN) !== 0 ? seqAdd(this.seq, 1) : this.seq;
    this.wireLength = segLen(this);
    this.tsVal = 0;
    this.tsEcr = 0;
    this.hasTimestamps = findTimestamps(this.options, this);
    return this;
  }
}

/**
 * The record every arrival reuses. Segment processing never re-enters (nothing in it calls back
 * into another connection), so one shared record is enough.
 */
const INCOMING = new Incoming();

/** `repr` reduced to its wire ranges (a new record; the arrival path reuses one instead). */
export function sanitize(repr: TcpRepr): Incoming {
  return new Incoming().load(repr);
}

function has(seg: Pick<Incoming, 'flags'>, flag: number): boolean {
  return (seg.flags & flag) !== 0;
}

/** SEG.LEN (RFC 9293 3.4): "the number of octets occupied by the data in the segment (counting SYN and FIN)". */
function segLen(seg: Pick<Incoming, 'flags' | 'payload'>): number {
  return seg.payload.length + (has(seg, TcpFlags.SYN) ? 1 : 0) + (has(seg, TcpFlags.FIN) ? 1 : 0);
}

/**
 * Processes one arriving segment (RFC 9293 3.10.7). Returns why it was dropped when the host
 * counts that reason (PAWS), else undefined.
 */
export function handleSegmentArrival(tcb: Tcb, now: Instant, repr: TcpRepr): ArrivalResult {
  const seg = INCOMING.load(repr);
  tcb.counters.segmentsReceived++;
  // RFC 7323 2.2: "The window field (SEG.WND) of every outgoing segment, with the exception of
  // <SYN> segments, MUST be right-shifted by Rcv.Wind.Shift bits" — so the peer's, on every
  // segment without SYN, is shifted left by Snd.Wind.Shift: "SND.WND = SEG.WND << Snd.Wind.Shift".
  if (tcb.sndWindShift !== undefined && !has(seg, TcpFlags.SYN)) seg.window *= windowUnit(tcb.sndWindShift);
  switch (tcb.state) {
    case 'CLOSED':
      closedState(tcb, seg);
      return undefined;
    case 'LISTEN':
      return undefined;
    case 'SYN-SENT':
      synSentState(tcb, now, seg);
      return undefined;
    default:
      if (tcb.headerPrediction && predictedText(tcb, now, seg)) return 'predicted';
      return otherStates(tcb, now, seg);
  }
}

/**
 * Header prediction (Van Jacobson's, as in BSD's tcp_input and Linux's tcp_rcv_established):
 * the commonest segment of a transfer, text at RCV.NXT with a plain ACK that acknowledges
 * nothing new, arriving at an ESTABLISHED connection that has nothing of its own in flight or
 * waiting, goes straight to the receive buffer. For such a segment every check of
 * `otherStates` is known to pass (PAWS, acceptability, no trimming, no RST or SYN, the ACK
 * inside RFC 5961's range), and this does exactly what it would: TS.Recent (RFC 7323 4.3),
 * the window update and its WL1/WL2 (RFC 9293 3.10.7.4), the keepalive restart, then the text.
 * With nothing in flight or waiting, the sender's timers do not depend on what this changes
 * (SND.WND among it): `updateSenderTimers` would leave them as they are, and the caller skips it.
 * Returns false, having changed nothing, for any other segment.
 */
function predictedText(tcb: Tcb, now: Instant, seg: Incoming): boolean {
  const len = seg.payload.length;
  if (tcb.state !== 'ESTABLISHED' || (seg.flags & ~TcpFlags.PSH) !== TcpFlags.ACK || len === 0) return false;
  if (seg.seq !== tcb.rcvNxt || seg.ack !== tcb.sndUna || len > tcb.rcvWnd) return false;
  if (tcb.flightSize !== 0 || tcb.hasUnsent || tcb.sndWnd === 0 || tcb.holdsOutOfOrder || tcb.peerFinOffset !== undefined) return false;
  if (tcb.tsEnabled && (!seg.hasTimestamps || tsBefore(seg.tsVal, tcb.tsRecent))) return false;
  // RFC 7323 4.3 (2): SEG.TSval >= TS.Recent (checked) and SEG.SEQ <= Last.ACK.sent.
  if (tcb.tsEnabled && seqLe(seg.seq, tcb.lastAckSent)) {
    tcb.tsRecent = seg.tsVal;
    tcb.tsRecentAge = now;
  }
  // processAck, for an ACK of SND.UNA with nothing in flight: the window update alone.
  tcb.probesUnanswered = 0;
  if (seqLt(tcb.sndWl1, seg.seq) || (tcb.sndWl1 === seg.seq && seqLe(tcb.sndWl2, seg.ack))) {
    tcb.sndWnd = seg.window;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = seg.ack;
    tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  }
  tcb.keepaliveProbes = 0;
  if (tcb.keepalive.enabled && tcb.timers.isSet('keepalive')) tcb.timers.set('keepalive', now + tcb.keepalive.idle);
  tcb.noteTextArrival(now, seg);
  receiveText(tcb, now, seg.seq, seg.payload);
  return true;
}

/**
 * RFC 9293 3.10.7.1, CLOSED: "An incoming segment containing a RST is discarded. An incoming
 * segment not containing a RST causes a RST to be sent in response. ... If the ACK bit is off,
 * sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK bit is
 * on, <SEQ=SEG.ACK><CTL=RST>."
 */
function closedState(tcb: Tcb, seg: Incoming): void {
  if (has(seg, TcpFlags.RST)) return;
  if (has(seg, TcpFlags.ACK)) tcb.queueReset(seg.ack);
  else tcb.queueReset(0, seqAdd(seg.seq, segLen(seg)));
}

/** RFC 9293 3.10.7.3, SYN-SENT. */
function synSentState(tcb: Tcb, now: Instant, seg: Incoming): void {
  const ackPresent = has(seg, TcpFlags.ACK);
  // "First, check the ACK bit. If the ACK bit is set, If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
  // send a reset (unless the RST bit is set, if so drop the segment and return)
  // <SEQ=SEG.ACK><CTL=RST> and discard the segment. Return. If SND.UNA < SEG.ACK =< SND.NXT,
  // then the ACK is acceptable."
  if (ackPresent && (seqLe(seg.ack, tcb.iss) || seqGt(seg.ack, tcb.sndMax))) {
    if (!has(seg, TcpFlags.RST)) tcb.queueReset(seg.ack);
    return;
  }
  // "Second, check the RST bit. If the RST bit is set, ... If the ACK was acceptable, then
  // signal to the user "error: connection reset", drop the segment, enter CLOSED state, delete
  // TCB, and return. Otherwise (no ACK), drop the segment and return." A reset that answers our
  // SYN is a refusal (ECONNREFUSED).
  if (has(seg, TcpFlags.RST)) {
    if (ackPresent) tcb.fail('refused');
    return;
  }
  // "Fifth, if neither of the SYN or RST bits is set, then drop the segment and return."
  if (!has(seg, TcpFlags.SYN)) return;
  // "Fourth, check the SYN bit: ... RCV.NXT is set to SEG.SEQ+1, IRS is set to SEG.SEQ. SND.UNA
  // should be advanced to equal SEG.ACK (if there is an ACK), and any segments on the
  // retransmission queue that are thereby acknowledged should be removed."
  tcb.synchronizeReceive(seg.seq, seg.options, now);
  if (ackPresent) acknowledgeSyn(tcb, now, seg);
  if (tcb.synAcked) {
    // "If SND.UNA > ISS (our SYN has been ACKed), change the connection state to ESTABLISHED,
    // form an ACK segment <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and send it."
    establish(tcb, now, seg, 'ESTABLISHED');
    tcb.ackNow = true;
    // "If there are other controls or text in the segment, then continue processing at the
    // sixth step under Section 3.10.7.4 where the URG bit is checked; otherwise, return."
    trimToWindow(tcb, seg);
    urgTextFin(tcb, now, seg);
    return;
  }
  // "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
  // and send it. Set the variables: SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK.
  // If there are other controls or text in the segment, queue them for processing after the
  // ESTABLISHED state has been reached, return." (Simultaneous open.) We drop such text
  // instead of queueing it: our ACK will not cover it, so the peer sends it again.
  tcb.state = 'SYN-RECEIVED';
  tcb.sndWnd = seg.window;
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  tcb.synNeeded = true;
}

/**
 * The handshake is complete: the window variables of RFC 9293 3.10.7.4 fifth step (SYN-RECEIVED:
 * "SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK"), congestion control from its
 * initial window, the RTO of RFC 6298 5.7, keepalive, and the 'connected' event.
 */
function establish(tcb: Tcb, now: Instant, seg: Incoming, state: 'ESTABLISHED' | 'keep'): void {
  if (state === 'ESTABLISHED') tcb.state = 'ESTABLISHED';
  tcb.sndWnd = seg.window;
  tcb.sndWl1 = seg.seq;
  tcb.sndWl2 = seg.ack;
  tcb.maxSndWnd = Math.max(tcb.maxSndWnd, seg.window);
  if (tcb.handshakeRetransmitted) tcb.rtt.onHandshakeTimedOut();
  tcb.startCongestionControl();
  tcb.timeouts = 0;
  if (tcb.keepalive.enabled) tcb.timers.set('keepalive', now + tcb.keepalive.idle);
  if (state === 'ESTABLISHED') tcb.emit({ type: 'connected' });
}

/**
 * RFC 9293 3.10.7.4, first step, the acceptability test:
 *   Segment Length  Receive Window  Test
 *   0               0               SEG.SEQ = RCV.NXT
 *   0               >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *   >0              0               not acceptable
 *   >0              >0              RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND
 *                                or RCV.NXT =< SEG.SEQ+SEG.LEN-1 < RCV.NXT+RCV.WND
 */
export function isAcceptable(seq: SeqNumber, len: number, rcvNxt: SeqNumber, rcvWnd: number): boolean {
  const end = seqAdd(rcvNxt, rcvWnd);
  if (len === 0) return rcvWnd === 0 ? seq === rcvNxt : seqInWindow(seq, rcvNxt, end);
  if (rcvWnd === 0) return false;
  return seqInWindow(seq, rcvNxt, end) || seqInWindow(seqAdd(seq, len - 1), rcvNxt, end);
}

/**
 * RFC 9293 3.10.7.4: "In the following it is assumed that the segment is the idealized segment
 * that begins at RCV.NXT and does not exceed the window. One could tailor actual segments to fit
 * this assumption by trimming off any portions that lie outside the window (including SYN and
 * FIN) and only processing further if the segment then begins at RCV.NXT. Segments with higher
 * beginning sequence numbers may be held for later processing." We trim both ends; text that
 * begins beyond RCV.NXT is kept (the assembler holds it).
 */
function trimToWindow(tcb: Tcb, seg: Incoming): void {
  noteDuplicateText(tcb, seg);
  const old = seqDiff(tcb.rcvNxt, seg.dataSeq);
  if (old > 0) {
    // A FIN exactly at RCV.NXT survives; a FIN before it was received already.
    if (old >= seg.payload.length) {
      seg.fin = seg.fin && old === seg.payload.length;
      seg.payload = EMPTY;
    } else {
      seg.payload = seg.payload.subarray(old);
    }
    seg.dataSeq = tcb.rcvNxt;
  }
  const room = Math.max(0, seqDiff(tcb.rcvRightEdge, seg.dataSeq));
  if (seg.payload.length > room) {
    seg.payload = seg.payload.subarray(0, room);
    seg.fin = false;
  } else if (seg.fin && seg.payload.length === room) {
    // The FIN's own sequence number lies just past the window.
    seg.fin = false;
  }
}

/** RFC 9293 3.10.7.4, for SYN-RECEIVED and the synchronized states. */
function otherStates(tcb: Tcb, now: Instant, seg: Incoming): SegmentDrop | undefined {
  // Simultaneous open, RFC 9293 Figure 8 line 6: in SYN-RECEIVED, the peer's SYN,ACK (its SYN
  // again, now acknowledging ours) moves us to ESTABLISHED. Its SYN lies before RCV.NXT; trimmed
  // off as the paragraph above allows, what remains is an ACK at RCV.NXT. (Linux accepts this
  // segment the same way in tcp_validate_incoming.)
  if (tcb.state === 'SYN-RECEIVED' && has(seg, TcpFlags.SYN) && has(seg, TcpFlags.ACK) && !has(seg, TcpFlags.RST)
      && seg.seq === tcb.irs && seqGt(seg.ack, tcb.iss) && seqLe(seg.ack, tcb.sndMax)) {
    seg.seq = seqAdd(seg.seq, 1);
    seg.flags &= ~TcpFlags.SYN;
  }

  // --- PAWS (RFC 7323 5.3), before the sequence number check. ---
  // "R1) If there is a Timestamps option in the arriving segment, SEG.TSval < TS.Recent,
  // TS.Recent is valid (see later discussion), and the RST bit is not set, then treat the
  // arriving segment as not acceptable: Send an acknowledgment in reply as specified in
  // [RFC793], page 69 and drop the segment."
  if (tcb.tsEnabled && seg.hasTimestamps && !has(seg, TcpFlags.RST) && tsBefore(seg.tsVal, tcb.tsRecent)) {
    if (now - tcb.tsRecentAge > PAWS_IDLE_LIMIT) {
      // 5.5: TS.Recent is no longer valid after 24 days without an update (the peer's clock
      // may have wrapped since): Appendix D, "If the connection has been idle more than 24
      // days, save SEG.TSval in variable TS.Recent".
      tcb.tsRecent = seg.tsVal;
      tcb.tsRecentAge = now;
    } else {
      tcb.counters.pawsDropped++;
      unacceptable(tcb, now, seg);
      return 'paws';
    }
  }

  // RFC 7323 4.3 (2): "If: SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent then SEG.TSval
  // is copied to TS.Recent; otherwise, it is ignored" (RFC 1323 asked for SEG.SEQ <=
  // Last.ACK.sent < SEG.SEQ + SEG.LEN, which never takes a pure ACK's timestamp). With
  // delayed ACKs, the segment that began the unacknowledged data keeps its TSval (4.3 (A));
  // an out-of-order segment lies beyond Last.ACK.sent and does not count (B); the one that
  // fills the hole starts at Last.ACK.sent and does (C). Where: before the acceptability test,
  // as Appendix D places it ("If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, then save
  // SEG.TSval in variable TS.Recent" comes before "If an incoming segment is not acceptable,
  // an acknowledgment should be sent"): a retransmission of data we already hold (our ACK was
  // lost) then gets an ACK echoing the retransmission's TSval, not the original's — otherwise
  // the peer's RTT sample would span its whole retransmission timeout, inflate its RTO, and
  // the next lost ACK would inflate it more. Segments that far behind RCV.NXT no window of
  // ours could have covered them are not taken (a blind attacker would otherwise move TS.Recent
  // ahead and have PAWS drop the real segments), nor are resets.
  if (tcb.tsEnabled && seg.hasTimestamps && !has(seg, TcpFlags.RST) && !tsBefore(seg.tsVal, tcb.tsRecent)
      && seqLe(seg.seq, tcb.lastAckSent) && seqDiff(tcb.rcvNxt, seg.seq) <= tcb.receiveBuffer.capacity) {
    tcb.tsRecent = seg.tsVal;
    tcb.tsRecentAge = now;
  }

  // --- First, check the sequence number. ---
  const rcvWnd = tcb.rcvWnd;
  let zeroWindowRefusal = false;
  if (!isAcceptable(seg.seq, segLen(seg), tcb.rcvNxt, rcvWnd)) {
    // "If the RCV.WND is zero, no segments will be acceptable, but special allowance should be
    // made to accept valid ACKs, URGs, and RSTs." A segment at RCV.NXT that only fails because
    // our window is closed (a zero-window probe) still carries a valid ACK: keep its controls,
    // drop its text and FIN, and answer with our window (RFC 9293 3.8.6.1: "When the receiving
    // TCP peer has a zero window and a segment arrives, it must still send an acknowledgment
    // showing its next expected sequence number and current window (zero)").
    if (rcvWnd === 0 && seg.seq === tcb.rcvNxt && !has(seg, TcpFlags.SYN)) {
      seg.flags &= ~TcpFlags.FIN;
      seg.fin = false;
      seg.payload = EMPTY;
      zeroWindowRefusal = true;
    } else {
      unacceptable(tcb, now, seg);
      return undefined;
    }
  }
  trimToWindow(tcb, seg);

  // --- Second, check the RST bit. ---
  if (has(seg, TcpFlags.RST)) {
    // RFC 5961 3.2: "If the RST bit is set and the sequence number exactly matches the next
    // expected sequence number (RCV.NXT), then TCP MUST reset the connection." ... "If the RST
    // bit is set and the sequence number does not exactly match the next expected sequence
    // value, yet is within the current receive window, TCP MUST send an acknowledgment
    // (challenge ACK): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the challenge ACK,
    // TCP MUST drop the unacceptable segment and stop processing the incoming packet further."
    if (seg.seq === tcb.rcvNxt) resetByPeer(tcb);
    else tcb.challengeAck(now);
    return undefined;
  }

  // (Third, security and compartment: not implemented.)

  // --- Fourth, check the SYN bit. ---
  if (has(seg, TcpFlags.SYN)) {
    // "SYN-RECEIVED STATE: If the connection was initiated with a passive OPEN, then return this
    // connection to the LISTEN state and return." The listener is the host's: this connection
    // simply ends, quietly ("the user need not be informed").
    if (tcb.state === 'SYN-RECEIVED' && tcb.passive) {
      tcb.enterClosed();
      return undefined;
    }
    // "RFC 5961 recommends that in these synchronized states, if the SYN bit is set,
    // irrespective of the sequence number, TCP endpoints MUST send a "challenge ACK" to the
    // remote peer: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the acknowledgment, TCP
    // implementations MUST drop the unacceptable segment and stop processing further."
    tcb.challengeAck(now);
    return undefined;
  }

  // --- Fifth, check the ACK field. ---
  // "if the ACK bit is off, drop the segment and return"
  if (!has(seg, TcpFlags.ACK)) {
    if (zeroWindowRefusal) tcb.ackNow = true;
    return undefined;
  }
  if (!tcb.synAcked) {
    // SYN-RECEIVED (or FIN-WAIT-1 after a CLOSE in SYN-RECEIVED): "If SND.UNA < SEG.ACK =<
    // SND.NXT, then enter ESTABLISHED state and continue processing ... If the segment
    // acknowledgment is not acceptable, form a reset segment <SEQ=SEG.ACK><CTL=RST> and send
    // it." (RFC 9293 3.5.2: a non-synchronized state answers an unacceptable ACK with a reset;
    // RFC 5961's ACK check below is for the synchronized states.)
    if (!(seqLt(tcb.sndUna, seg.ack) && seqLe(seg.ack, tcb.sndMax))) {
      tcb.queueReset(seg.ack);
      return undefined;
    }
    establish(tcb, now, seg, tcb.state === 'SYN-RECEIVED' ? 'ESTABLISHED' : 'keep');
  }
  // RFC 5961 5.2: "the ACK value is acceptable only if it is in the range of ((SND.UNA -
  // MAX.SND.WND) =< SEG.ACK =< SND.NXT). All incoming segments whose ACK value doesn't satisfy
  // the above condition MUST be discarded and an ACK sent back." RFC 9293 adds for ESTABLISHED:
  // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the
  // segment, and return." SND.MAX stands for SND.NXT: it is what has been sent. That ACK is
  // throttled like every challenge ACK (RFC 5961 7: "implementations SHOULD include an ACK
  // throttling mechanism"): two ends that each believe the other acknowledged unsent data
  // (after an injected segment, say) would otherwise answer each other's ACKs forever.
  if (seqLt(seg.ack, seqAdd(tcb.sndUna, -tcb.maxSndWnd)) || seqGt(seg.ack, tcb.sndMax)) {
    tcb.challengeAck(now);
    return undefined;
  }
  if (!processAck(tcb, now, seg)) return undefined;
  if (zeroWindowRefusal) tcb.ackNow = true;
  // The peer is alive: keepalive starts over (RFC 1122 4.2.3.6 probes only an idle connection).
  tcb.keepaliveProbes = 0;
  if (tcb.keepalive.enabled && tcb.timers.isSet('keepalive')) tcb.timers.set('keepalive', now + tcb.keepalive.idle);

  urgTextFin(tcb, now, seg);
  return undefined;
}

/** Steps six to eight of RFC 9293 3.10.7.4: URG, segment text, FIN (on the trimmed segment). */
function urgTextFin(tcb: Tcb, now: Instant, seg: Incoming): void {
  const receiving = tcb.state === 'ESTABLISHED' || tcb.state === 'FIN-WAIT-1' || tcb.state === 'FIN-WAIT-2';
  // --- Sixth, check the URG bit. ---
  // "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE: If the URG bit is set, RCV.UP <-
  // max(RCV.UP, SEG.UP), and signal the user that the remote side has urgent data if the urgent
  // pointer (RCV.UP) is in advance of the data consumed." The urgent pointer is an offset from
  // SEG.SEQ pointing just past the urgent data (RFC 6093 3); the urgent data itself is delivered
  // inline with the rest of the stream (RFC 6093 5: "applications SHOULD NOT use urgent mode";
  // l4 keeps RCV.UP for observation and never takes bytes out of band).
  // "CLOSE-WAIT ... TIME-WAIT STATE: This should not occur since a FIN has been received from the
  // remote side. Ignore the URG."
  if (receiving && has(seg, TcpFlags.URG)) {
    const up = seqAdd(seg.seq, seg.urgentPointer);
    tcb.rcvUp = tcb.rcvUp === undefined ? up : seqMax(tcb.rcvUp, up);
  }
  // --- Seventh, process the segment text. ---
  // "ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2 STATE: Once in the ESTABLISHED state, it is
  // possible to deliver segment data to user RECEIVE buffers." ... "CLOSE-WAIT STATE, CLOSING
  // STATE, LAST-ACK STATE, TIME-WAIT STATE: This should not occur since a FIN has been received
  // from the remote side. Ignore the segment text."
  const finSeq = seqAdd(seg.dataSeq, seg.payload.length);
  if (receiving && seg.payload.length > 0) {
    tcb.noteTextArrival(now, seg);
    receiveText(tcb, now, seg.dataSeq, seg.payload);
  }
  // --- Eighth, check the FIN bit. ---
  if (seg.fin) receiveFin(tcb, now, finSeq);
}

/**
 * A segment that failed the acceptability test. "If an incoming segment is not acceptable, an
 * acknowledgment should be sent in reply (unless the RST bit is set, if so drop the segment and
 * return): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. After sending the acknowledgment, drop the
 * unacceptable segment and return."
 */
function unacceptable(tcb: Tcb, now: Instant, seg: Incoming): void {
  if (has(seg, TcpFlags.RST)) return;
  noteDuplicateText(tcb, seg);
  // TIME-WAIT: "The only thing that can arrive in this state is a retransmission of the remote
  // FIN. Acknowledge it, and restart the 2 MSL timeout." That FIN lies just before RCV.NXT.
  if (tcb.state === 'TIME-WAIT' && has(seg, TcpFlags.FIN) && seqAdd(seg.seq, segLen(seg)) === tcb.rcvNxt) {
    tcb.timers.set('time-wait', now + 2 * tcb.config.msl);
  }
  // SYN-RECEIVED: the peer's SYN again means our SYN,ACK was lost. While our SYN is
  // unacknowledged the acknowledgment we owe is the SYN,ACK itself (as 3.10.7.3 sends it).
  if (tcb.state === 'SYN-RECEIVED' && has(seg, TcpFlags.SYN) && !has(seg, TcpFlags.ACK) && seg.seq === tcb.irs) {
    tcb.synNeeded = true;
    return;
  }
  tcb.ackNow = true;
}

/** Text before RCV.NXT arrived again: the next ACK reports it in a D-SACK block (`duplicateText`). */
function noteDuplicateText(tcb: Tcb, seg: Incoming): void {
  if (!tcb.sackPermitted) return;
  const block = duplicateText(seg.dataSeq, seg.payload.length, tcb.rcvNxt);
  if (block !== undefined) tcb.dsack = block;
}

/** A reset at exactly RCV.NXT (RFC 9293 3.10.7.4, second step, by state). */
function resetByPeer(tcb: Tcb): void {
  switch (tcb.state) {
    case 'SYN-RECEIVED':
      // "If this connection was initiated with a passive OPEN (i.e., came from the LISTEN state),
      // then return this connection to LISTEN state and return. The user need not be informed.
      // If this connection was initiated with an active OPEN (i.e., came from SYN-SENT state),
      // then the connection was refused; signal the user "connection refused"."
      if (tcb.passive) tcb.enterClosed();
      else tcb.fail('refused');
      return;
    case 'ESTABLISHED': case 'FIN-WAIT-1': case 'FIN-WAIT-2': case 'CLOSE-WAIT':
      // "If the RST bit is set, then any outstanding RECEIVEs and SEND should receive "reset"
      // responses. All segment queues should be flushed. Users should also receive an
      // unsolicited general "connection reset" signal. Enter the CLOSED state, delete the TCB,
      // and return."
      tcb.fail('reset');
      return;
    default:
      // "CLOSING STATE, LAST-ACK STATE, TIME-WAIT STATE: If the RST bit is set, then enter the
      // CLOSED state, delete the TCB, and return."
      tcb.enterClosed();
  }
}
