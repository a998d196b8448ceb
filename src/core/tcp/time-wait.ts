/**
 * TIME-WAIT in a few hundred bytes: what is left of a connection for its last 2 MSL once the
 * application has nothing more to do with it (Linux's `tcp_timewait_sock`, FreeBSD's `tcptw`).
 *
 * A server that closes first keeps every connection it served in TIME-WAIT for a minute (RFC
 * 9293 3.4.2: 2 × MSL). Kept as a whole TCB that is about 4 KB each: send and receive state,
 * congestion control, RACK, the scoreboard. The host hands such a connection over to a
 * `TimeWait` (`TcpConnection.retire`) and keeps only this record in its socket table.
 *
 * Contract: a `TimeWait` answers every segment exactly as the TCB it came from would have
 * in TIME-WAIT (RFC 9293 3.10.7.4 with RFC 7323's PAWS and TS.Recent, RFC 5961's challenge
 * ACKs and their budget, RFC 2883's D-SACK for text received twice), with the same ACKs —
 * sequence and acknowledgment numbers, window field, timestamps — and the same 2 MSL timer,
 * restarted by a retransmitted FIN. Differential tests drive a record and a twin TCB with the
 * same segments and compare everything they send. It drives itself in `TcpConnection`'s
 * order: `handleSegment`, `handleTimeout` at `pollTimeout()`, `pollTransmit` until undefined.
 * It never emits events: its application was told 'closed' when it was made. Never throws
 * on network input.
 */
import type { Duration, Instant } from '../../time/instant.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqLt, seqMax } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { TcpFlags } from '../../wire/tcp.js';
import type { SackBlock, TcpOption, TcpRepr } from '../../wire/tcp.js';
import type { Endpoint } from '../endpoint.js';
import { PAWS_IDLE_LIMIT, findTimestamps, timestampsOptions, tsBefore, tsClock, windowUnit } from './options.js';
import type { TimestampValues } from './options.js';
import { isAcceptable, sanitize } from './segment-arrival.js';
import type { Incoming, SegmentDrop } from './segment-arrival.js';
import { ChallengeAckBudget } from './challenge-ack.js';
import { duplicateText } from './sack-report.js';
import { MAX_WINDOW, scaledWindowField } from './tcb.js';
import type { Tcb } from './tcb.js';
import type { TcpConnectionInfo } from './types.js';

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
/** Where `reopens` reads a SYN's timestamps (it never re-enters). */
const SYN_TIMESTAMPS: TimestampValues = { tsVal: 0, tsEcr: 0 };

/** A connection in TIME-WAIT, reduced to what that state still uses. */
export class TimeWait {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** TIME-WAIT until the 2 MSL timer runs out or a reset at RCV.NXT arrives; then CLOSED, and the record can go. */
  state: 'TIME-WAIT' | 'CLOSED' = 'TIME-WAIT';
  /** The interface the connection used (the owner's note, for its socket listing). */
  iface = '';
  /** For the owner's deadline heap (`DeadlineOwner`). */
  deadline: Instant | undefined = undefined;
  generation = 0;

  /** When the 2 MSL timer runs out. */
  #expiresAt: Instant;
  readonly #twoMsl: Duration;
  /** SND.NXT = SND.MAX = SND.UNA: our FIN is acknowledged. */
  readonly #sndMax: SeqNumber;
  #sndWl1: SeqNumber;
  #sndWl2: SeqNumber;
  #sndWnd: number;
  #maxSndWnd: number;
  readonly #sndWindShift: number;
  /** RCV.NXT, past the peer's FIN. */
  readonly #rcvNxt: SeqNumber;
  /** The right edge of the receive window and what moves it (the receive buffer is empty, so these are fixed). */
  #rcvRightEdge: SeqNumber;
  readonly #rcvWindShift: number;
  readonly #rcvCapacity: number;
  readonly #potentialWindow: number;
  readonly #windowUpdateThreshold: number;
  // RFC 7323.
  readonly #tsEnabled: boolean;
  readonly #tsOffset: number;
  #tsRecent: number;
  #tsRecentAge: Instant;
  #lastAckSent: SeqNumber;
  // RFC 2018 / 2883.
  readonly #sackPermitted: boolean;
  #dsack: SackBlock | undefined = undefined;
  // RFC 5961 7: the connection's budget, carried on (made here if it never had one).
  readonly #challengeAckLimit: number;
  #challengeBudget: ChallengeAckBudget | undefined;
  #ackNow = false;

  /** The record of `tcb`, which is in TIME-WAIT with an empty receive buffer (see `TcpConnection.retire`). */
  constructor(tcb: Tcb) {
    this.local = tcb.local;
    this.remote = tcb.remote;
    this.#twoMsl = 2 * tcb.config.msl;
    this.#expiresAt = tcb.timers.get('time-wait') ?? -Infinity;
    this.#sndMax = tcb.sndMax;
    this.#sndWl1 = tcb.sndWl1;
    this.#sndWl2 = tcb.sndWl2;
    this.#sndWnd = tcb.sndWnd;
    this.#maxSndWnd = tcb.maxSndWnd;
    this.#sndWindShift = tcb.sndWindShift ?? 0;
    this.#rcvNxt = tcb.rcvNxt;
    this.#rcvRightEdge = tcb.rcvRightEdge;
    this.#rcvWindShift = tcb.rcvWindShift ?? 0;
    this.#rcvCapacity = tcb.receiveBuffer.capacity;
    this.#potentialWindow = tcb.potentialWindow;
    this.#windowUpdateThreshold = tcb.windowUpdateThreshold;
    this.#tsEnabled = tcb.tsEnabled;
    this.#tsOffset = tcb.tsOffset;
    this.#tsRecent = tcb.tsRecent;
    this.#tsRecentAge = tcb.tsRecentAge;
    this.#lastAckSent = tcb.lastAckSent;
    this.#sackPermitted = tcb.sackPermitted;
    this.#challengeAckLimit = tcb.challengeAckLimit;
    this.#challengeBudget = tcb.challengeBudget;
  }

  /**
   * A segment for this socket pair: RFC 9293 3.10.7.4 as it goes in TIME-WAIT. Returns 'paws'
   * when PAWS dropped it (the host counts that), else undefined.
   */
  handleSegment(now: Instant, repr: TcpRepr): SegmentDrop | undefined {
    if (this.state === 'CLOSED') return undefined;
    const seg = sanitize(repr);
    const rst = (seg.flags & TcpFlags.RST) !== 0;
    if ((seg.flags & TcpFlags.SYN) === 0) seg.window *= windowUnit(this.#sndWindShift);
    // PAWS (RFC 7323 5.3 R1), then TS.Recent (4.3), as `otherStates` orders them.
    if (this.#tsEnabled && seg.hasTimestamps && !rst && tsBefore(seg.tsVal, this.#tsRecent)) {
      if (now - this.#tsRecentAge > PAWS_IDLE_LIMIT) {
        this.#tsRecent = seg.tsVal;
        this.#tsRecentAge = now;
      } else {
        this.#unacceptable(now, seg);
        return 'paws';
      }
    }
    if (this.#tsEnabled && seg.hasTimestamps && !rst && !tsBefore(seg.tsVal, this.#tsRecent)
        && seqLe(seg.seq, this.#lastAckSent) && seqDiff(this.#rcvNxt, seg.seq) <= this.#rcvCapacity) {
      this.#tsRecent = seg.tsVal;
      this.#tsRecentAge = now;
    }
    // First, the sequence number. The receive window is what the last ACK offered; a segment
    // at RCV.NXT refused only by a zero window keeps its controls.
    const rcvWnd = this.#rcvWnd;
    let zeroWindowRefusal = false;
    if (!isAcceptable(seg.seq, seg.wireLength, this.#rcvNxt, rcvWnd)) {
      if (rcvWnd === 0 && seg.seq === this.#rcvNxt && (seg.flags & TcpFlags.SYN) === 0) {
        seg.payload = EMPTY;
        zeroWindowRefusal = true;
      } else {
        this.#unacceptable(now, seg);
        return undefined;
      }
    }
    this.#noteDuplicateText(seg);
    // Second, RST: "CLOSING STATE, LAST-ACK STATE, TIME-WAIT STATE: If the RST bit is set, then
    // enter the CLOSED state, delete the TCB, and return" — at exactly RCV.NXT (RFC 5961 3.2);
    // elsewhere in the window, a challenge ACK.
    if (rst) {
      if (seg.seq === this.#rcvNxt) this.state = 'CLOSED';
      else this.#challengeAck(now);
      return undefined;
    }
    // Fourth, SYN: a challenge ACK (RFC 5961 4).
    if ((seg.flags & TcpFlags.SYN) !== 0) {
      this.#challengeAck(now);
      return undefined;
    }
    // Fifth, ACK: "if the ACK bit is off, drop the segment and return".
    if ((seg.flags & TcpFlags.ACK) === 0) {
      if (zeroWindowRefusal) this.#ackNow = true;
      return undefined;
    }
    // RFC 5961 5.2: an acknowledgment outside (SND.UNA - MAX.SND.WND) .. SND.NXT draws a challenge ACK.
    if (seqLt(seg.ack, seqAdd(this.#sndMax, -this.#maxSndWnd)) || seqGt(seg.ack, this.#sndMax)) {
      this.#challengeAck(now);
      return undefined;
    }
    // The window update of the ESTABLISHED processing still applies (MAX.SND.WND above follows it).
    if (seqLe(this.#sndMax, seg.ack) && (seqLt(this.#sndWl1, seg.seq) || (this.#sndWl1 === seg.seq && seqLe(this.#sndWl2, seg.ack)))) {
      this.#sndWnd = seg.window;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = seg.ack;
      this.#maxSndWnd = Math.max(this.#maxSndWnd, seg.window);
    }
    if (zeroWindowRefusal) this.#ackNow = true;
    // Text and FIN: "This should not occur since a FIN has been received from the remote side.
    // Ignore" (a retransmitted FIN lies before RCV.NXT and was answered above).
    return undefined;
  }

  /**
   * True when `repr` is a connection request that may reopen the socket pair now (RFC 6191,
   * which RFC 9293 3.10.7.4 points to for TIME-WAIT; RFC 1122 4.2.2.13): a SYN (no ACK, no
   * RST) whose timestamp is newer than TS.Recent — or as new with a higher sequence number —
   * when the connection used timestamps and the SYN carries one; else whose sequence number is
   * beyond RCV.NXT. Such a SYN cannot be an old duplicate of the connection that ended. The
   * owner then forgets this record and hands the SYN to its listener, with an initial sequence
   * number from {@link reopenIss}. Any other SYN gets the TIME-WAIT answer (`handleSegment`:
   * RFC 5961's challenge ACK).
   */
  reopens(repr: TcpRepr): boolean {
    if (this.state === 'CLOSED') return false;
    const flags = Number(repr.flags) & 0xff;
    if ((flags & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.RST)) !== TcpFlags.SYN) return false;
    const seq = Number(repr.seqNumber) >>> 0;
    if (this.#tsEnabled && Array.isArray(repr.options) && findTimestamps(repr.options, SYN_TIMESTAMPS)) {
      if (tsBefore(this.#tsRecent, SYN_TIMESTAMPS.tsVal)) return true;
      return SYN_TIMESTAMPS.tsVal === this.#tsRecent >>> 0 && seqGt(seq, this.#rcvNxt);
    }
    return seqGt(seq, this.#rcvNxt);
  }

  /**
   * The initial sequence number of the incarnation that reopens the pair: beyond anything this
   * one sent, by more than any window it could have offered (RFC 1122 4.2.2.13 (1): "larger
   * than the largest sequence number it used on the previous connection incarnation"; Linux
   * takes SND.NXT + 65535 + 2 as well), so no old segment of ours is taken for a new one.
   */
  get reopenIss(): SeqNumber {
    return seqAdd(this.#sndMax, 65535 + 2);
  }

  /** The ACK owed, if any. */
  pollTransmit(now: Instant): TcpRepr | undefined {
    if (!this.#ackNow || this.state === 'CLOSED') return undefined;
    this.#ackNow = false;
    // Tcb.segment: the receiver SWS rule, then the window field of RCV.NXT.
    if (this.#potentialWindow - this.#rcvWnd >= this.#windowUpdateThreshold) this.#rcvRightEdge = seqAdd(this.#rcvNxt, this.#potentialWindow);
    const window = this.#windowField();
    let options = NO_OPTIONS;
    if (this.#tsEnabled || (this.#sackPermitted && this.#dsack !== undefined)) {
      const list: TcpOption[] = this.#tsEnabled ? timestampsOptions(tsClock(now, this.#tsOffset), this.#tsRecent) : [];
      if (this.#sackPermitted && this.#dsack !== undefined) list.push(NOP, NOP, { kind: 'sack', blocks: [this.#dsack] });
      options = list;
    }
    this.#lastAckSent = seqMax(this.#lastAckSent, this.#rcvNxt);
    this.#dsack = undefined;
    return {
      srcPort: this.local.port, dstPort: this.remote.port, seqNumber: this.#sndMax >>> 0, ackNumber: this.#rcvNxt >>> 0,
      flags: TcpFlags.ACK, reserved: 0, window, urgentPointer: 0, options, optionsPadding: 0, payload: EMPTY,
    };
  }

  /** When the 2 MSL timer runs out; undefined once CLOSED. */
  pollTimeout(): Instant | undefined {
    return this.state === 'CLOSED' ? undefined : this.#expiresAt;
  }

  /** RFC 9293 3.10.8: "If the time-wait timeout expires on a connection, delete the TCB, enter the CLOSED state and return." */
  handleTimeout(now: Instant): void {
    if (now >= this.#expiresAt) this.state = 'CLOSED';
  }

  /**
   * What `ss` shows of a TIME-WAIT socket: the pair, the state, the windows, the options in
   * use. Like Linux's, the record keeps no counters, queues or congestion state: those are zero.
   */
  info(): TcpConnectionInfo {
    return {
      state: this.state,
      local: { address: this.local.address.slice(), port: this.local.port },
      remote: { address: this.remote.address.slice(), port: this.remote.port },
      sendQueue: 0, receiveQueue: 0, srtt: undefined, rttvar: undefined, rto: 0, cwnd: 0, ssthresh: 0,
      congestionControl: 'cubic', mss: 0, sendWindow: this.#sndWnd, receiveWindow: this.#rcvWnd,
      retransmissions: 0, bytesSent: 0, bytesReceived: 0, segmentsSent: 0, segmentsReceived: 0,
      windowScaling: { send: undefined, receive: undefined }, timestamps: this.#tsEnabled, sackPermitted: this.#sackPermitted,
      lossRecovery: 'open', sackedBytes: 0, lostBytes: 0, pipe: 0,
      retransmitTimeouts: 0, fastRecoveries: 0, tailLossProbes: 0, tailLossRecoveries: 0,
    };
  }

  get #rcvWnd(): number {
    return Math.max(0, seqDiff(this.#rcvRightEdge, this.#rcvNxt));
  }

  /** `Tcb.windowField(RCV.NXT)` with the receive buffer empty (so its free space is its capacity). */
  #windowField(): number {
    const wnd = this.#rcvWnd;
    const shift = this.#rcvWindShift;
    if (shift === 0) return Math.min(wnd, MAX_WINDOW);
    const field = scaledWindowField(wnd, shift, this.#rcvCapacity);
    const edge = seqAdd(this.#rcvNxt, field * windowUnit(shift));
    if (seqGt(edge, this.#rcvRightEdge)) this.#rcvRightEdge = edge;
    return field;
  }

  /**
   * An unacceptable segment: "an acknowledgment should be sent in reply (unless the RST bit is
   * set ...)". "TIME-WAIT STATE: The only thing that can arrive in this state is a
   * retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
   */
  #unacceptable(now: Instant, seg: Incoming): void {
    if ((seg.flags & TcpFlags.RST) !== 0) return;
    this.#noteDuplicateText(seg);
    if ((seg.flags & TcpFlags.FIN) !== 0 && seqAdd(seg.seq, seg.wireLength) === this.#rcvNxt) this.#expiresAt = now + this.#twoMsl;
    this.#ackNow = true;
  }

  /** RFC 2883 4: text before RCV.NXT arrived again; the next ACK reports it in a D-SACK block. */
  #noteDuplicateText(seg: Incoming): void {
    if (!this.#sackPermitted) return;
    const block = duplicateText(seg.dataSeq, seg.payload.length, this.#rcvNxt);
    if (block !== undefined) this.#dsack = block;
  }

  /** RFC 5961 challenge ACK, within the budget of RFC 5961 7 the connection had. */
  #challengeAck(now: Instant): void {
    if ((this.#challengeBudget ??= new ChallengeAckBudget(this.#challengeAckLimit)).take(now)) this.#ackNow = true;
  }
}
