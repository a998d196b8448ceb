/**
 * The transmission control block (RFC 9293 3.3.1): every variable of one connection, with the
 * small helpers its parts share. `TcpConnection` (connection.ts) owns one and offers the
 * public surface; the parts work on it: `segment-arrival.ts` (RFC 9293 3.10.7, in order),
 * `ack.ts` (the sender's view of incoming ACKs: SND.UNA, RTT samples, NewReno recovery, the
 * send window), `sack-recovery.ts` (with SACK: the scoreboard, RACK-TLP and PRR, from
 * `scoreboard.ts`, `rack.ts` and `prr.ts`), `receive.ts` (segment text, the receive window,
 * FIN), `sack-report.ts` (the SACK blocks we send), `autotune.ts` (how far the receive window
 * may grow), `send.ts` (what to transmit next, pacing and the sender's timers) and
 * `timeouts.ts` (what each expired timer does).
 *
 * Contract: fields keep the RFC's names in camel case (`sndUna` is SND.UNA). Sequence numbers
 * are compared only with the helpers of `wire/seq.ts`. Two variables are not in the RFC:
 * SND.MAX (`sndMax`), the highest sequence number ever sent — SND.NXT goes back to SND.UNA
 * after a retransmission timeout, so "sent" means "before SND.MAX" — and the stream offset
 * (`rcvStreamOffset`), a plain count of bytes received in order, which places out-of-order
 * data in the assembler and the receive ring.
 */
import { Assembler } from '../../storage/assembler.js';
import { RingBuffer } from '../../storage/ring-buffer.js';
import type { Duration, Instant } from '../../time/instant.js';
import { seqAdd, seqDiff, seqGt, seqLe, seqMax } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import { TcpFlags } from '../../wire/tcp.js';
import { timestampsOptionList } from '../../wire/tcp-options.js';
import type { SackBlock, TcpOption, TcpRepr } from '../../wire/tcp.js';
import type { Endpoint } from '../endpoint.js';
import type { IcmpErrorKind } from '../icmp/errors.js';
import { ChallengeAckBudget } from './challenge-ack.js';
import { createCongestionController, initialWindow } from './congestion/index.js';
import type { CongestionController } from './congestion/index.js';
import {
  MAX_WINDOW_FIELD, MAX_WINDOW_SHIFT, TIMESTAMPS_OPTION_SPACE, TS_CLOCK_TICK, findTimestamps, findWindowScale, hasSackPermitted,
  sackBlocksThatFit, timestampsOptions, tsClock, tsElapsed, windowShiftFor, windowUnit,
} from './options.js';
import type { TimestampValues } from './options.js';
import { ReceiveAutotuner } from './autotune.js';
import { Prr } from './prr.js';
import { Rack } from './rack.js';
import { RttEstimator } from './rtt.js';
import { MAX_SACK_RECENT, sackBlocks } from './sack-report.js';

export { MAX_SACK_RECENT };
import { Scoreboard } from './scoreboard.js';
import { TimerTable } from './timers.js';
import { AUTOTUNE_INITIAL_WINDOW, DEFAULT_MSS_IPV4, DEFAULT_MSS_IPV6 } from './types.js';
import type { CongestionAlgorithm, KeepaliveConfig, TcpConfig, TcpError, TcpEvent, TcpState } from './types.js';

/** The largest window the 16-bit window field can carry without window scaling (RFC 9293 3.1). */
export const MAX_WINDOW = MAX_WINDOW_FIELD;

/**
 * The share of the receive buffer kept out of the offered window while window scaling is in
 * use, for rounding (see `Tcb.windowField`): a scaled window is announced in units of
 * 2^shift bytes, and rounding up so that the right edge the peer saw never moves left lets
 * the edge creep forward by less than a unit per ACK.
 */
export const ROUNDING_RESERVE_FRACTION = 1 / 16;

/**
 * The smallest MSS we accept from a peer. A peer announcing a tiny MSS would make us cut the
 * stream into tiny segments (CVE-2019-11479 against Linux); Linux floors it at 48 bytes.
 */
export const MIN_PEER_MSS = 64;

/**
 * RFC 5961 7: "An implementation SHOULD include an ACK throttling mechanism to be
 * conservative." Challenge ACKs per connection per second (Linux counts 1000 per second for
 * the whole host; a per-connection budget keeps one connection's attacker from learning
 * anything about another, the side channel of CVE-2016-5696).
 */
export const CHALLENGE_ACK_LIMIT = 10;

/** Duplicate ACKs (for out-of-order segments) queued at most before transmission drains them. */
export const MAX_OWED_DUPLICATE_ACKS = 16;

/** RFC 9293 3.8.6.3 / RFC 1122 allow 500 ms; l4 delays an ACK by at most this (`TcpConfig.delayedAck` doc). */
export const MAX_DELAYED_ACK: Duration = 200_000;

/** The events without fields, shared (emitting one allocates nothing). */
const READABLE: TcpEvent = Object.freeze({ type: 'readable' });
const WRITABLE: TcpEvent = Object.freeze({ type: 'writable' });

/**
 * The window field for `wnd` bytes under a scale `shift` above 0 (see `Tcb.windowField`):
 * rounded up to the unit, so that the window never shrinks (RFC 9293 3.8.6, RFC 7323 2.4),
 * unless the `room` the buffer has cannot hold the rounded-up edge; then rounded down.
 */
export function scaledWindowField(wnd: number, shift: number, room: number): number {
  const unit = windowUnit(shift);
  let field = Math.ceil(wnd / unit);
  if (field * unit > room) field = Math.floor(wnd / unit);
  return Math.min(field, MAX_WINDOW);
}

/** Separate "every second segment" ACKs remembered at most between two transmissions. */
export const MAX_ACK_POINTS = 16;

/** Replies (resets) queued at most; more are dropped, a cheap rate limit. */
export const MAX_QUEUED_REPLIES = 8;

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
const SACK_PERMITTED: TcpOption = Object.freeze({ kind: 'sack-permitted' });
/** Where `#negotiateOptions` reads the peer's SYN timestamps (negotiation never re-enters). */
const PEER_TIMESTAMPS: TimestampValues = { tsVal: 0, tsEcr: 0 };

/** What a connection's state is made from (`TcpConnectionParams` adds the owner's hook). */
export interface TcbParams {
  readonly config: TcpConfig;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Initial send sequence number, chosen by the host (RFC 6528). */
  readonly iss: SeqNumber;
  /** The MSS we advertise: interface MTU minus 40 (IPv4) or 60 (IPv6). Also caps what we send. */
  readonly mss: number;
  readonly now: Instant;
  /** Challenge ACKs per second (RFC 5961 7); default {@link CHALLENGE_ACK_LIMIT}. */
  readonly challengeAckLimit?: number;
  /**
   * The offset of this connection's timestamp clock (RFC 7323 5.4), chosen by the host from
   * the socket pair and a secret, as the ISN is; default 0.
   */
  readonly tsOffset?: number;
}

/** Counters `info()` reports. */
export interface TcbCounters {
  retransmissions: number;
  bytesSent: number;
  bytesReceived: number;
  segmentsSent: number;
  segmentsReceived: number;
  /** Out-of-order bytes dropped because the assembler was full. */
  outOfOrderDropped: number;
  /** Challenge ACKs not sent because of the RFC 5961 7 limit. */
  challengeAcksSuppressed: number;
  /** Segments dropped by PAWS (RFC 7323 5.3 R1): a timestamp older than TS.Recent. */
  pawsDropped: number;
  /** Retransmission timeouts after the handshake (RFC 6298 5.4). */
  retransmitTimeouts: number;
  /** Fast recoveries entered (three duplicate ACKs, or RACK finding a loss). */
  fastRecoveries: number;
  /** Tail loss probes sent (RFC 8985 7.3). */
  tlpProbes: number;
  /** Losses a tail loss probe repaired (RFC 8985 7.4): each got a congestion response. */
  tlpRecoveries: number;
}

/** The state of one connection. */
export class Tcb {
  readonly config: TcpConfig;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** True when the connection came from a listener (RFC 9293 "passive OPEN"). */
  passive = false;
  state: TcpState = 'CLOSED';

  /** Nagle's algorithm (RFC 9293 3.7.4), `setNoDelay` turns it off. */
  nagle: boolean;
  /** `config.delayedAck`, at most {@link MAX_DELAYED_ACK}; 0 acknowledges at once. */
  readonly delayedAck: Duration;
  keepalive: KeepaliveConfig;

  // --- Send sequence variables (RFC 9293 3.3.1) ---
  readonly iss: SeqNumber;
  sndUna: SeqNumber;
  sndNxt: SeqNumber;
  /** The highest sequence number sent so far, plus one (see the module doc). */
  sndMax: SeqNumber;
  sndWnd = 0;
  sndWl1: SeqNumber = 0;
  sndWl2: SeqNumber = 0;
  /** MAX.SND.WND of RFC 5961 5.2: the largest window the peer has offered. */
  maxSndWnd = 0;
  /** Sequence number of the first byte held in the send buffer. */
  sendBufferSeq: SeqNumber;
  /** Sequence number of our FIN, fixed when the application closes (all data is before it). */
  finSeq: SeqNumber | undefined;

  /** The MSS we announce (interface MTU minus headers); it also caps what we send. */
  readonly localMss: number;
  /** The MSS option of the peer's SYN, if any. */
  peerMss: number | undefined;
  /** The effective send MSS (RFC 9293 3.7.1): min(peer MSS or the default, our MSS, the path's). */
  sendMss: number;
  /** The largest segment the path takes, as the host's path MTU says (RFC 1191, RFC 8201); starts at `localMss`. */
  pathMss: number;
  /**
   * The last soft ICMP error (RFC 1122 4.2.3.9, RFC 5461): not acted on, but the reason to
   * give if the connection times out. Cleared when the peer acknowledges new data.
   */
  softError: IcmpErrorKind | undefined;
  /** The largest segment seen from the peer (its sending MSS, for the every-second-segment ACK rule). */
  rcvMss: number;

  // --- RFC 7323: window scale and timestamps ---
  /** The shift our SYN offers in its Window Scale option; undefined when window scaling is off. */
  readonly offeredWindowShift: number | undefined;
  /**
   * Snd.Wind.Shift (RFC 7323 2.2): the peer's shift, applied to SEG.WND of every segment
   * without SYN. Undefined until both SYNs have carried the option (then no scaling at all).
   */
  sndWindShift: number | undefined;
  /** Rcv.Wind.Shift: our shift, applied to the windows we send (never on a SYN). Undefined: no scaling. */
  rcvWindShift: number | undefined;
  /**
   * The largest window the field can announce: 65,535 bytes, or 65,535 << Rcv.Wind.Shift once
   * window scaling is in use (RFC 7323 2.2). Kept, not computed: every segment asks.
   */
  maxFieldWindow = MAX_WINDOW;
  /** The peer's SYN asked for a shift above 14: RFC 7323 2.3 "use 14 instead", and the situation is noted here. */
  peerWindowShiftClamped = false;
  /** Snd.TS.OK (RFC 7323 Appendix D): both SYNs carried the Timestamps option. */
  tsEnabled = false;
  /** The offset of our timestamp clock (see {@link TcbParams.tsOffset}). */
  readonly tsOffset: number;
  /** When the connection began: no echo can be older than our clock then. */
  readonly startedAt: Instant;
  /** TS.Recent (RFC 7323 4.3): the peer's timestamp we echo in TSecr. */
  tsRecent = 0;
  /** When TS.Recent was last set (RFC 7323 5.5: it is invalid after 24 days without an update). */
  tsRecentAge: Instant = 0;
  /** Last.ACK.sent (RFC 7323 4.3): the acknowledgment number of the last ACK we sent. */
  lastAckSent: SeqNumber = 0;
  /** Option bytes on every non-SYN segment (12 with timestamps), taken from the MSS (RFC 9293 3.7.1). */
  optionSpace = 0;
  /** Receive-buffer bytes kept out of the offered window for rounding (see {@link ROUNDING_RESERVE_FRACTION}). */
  rcvReserve = 0;

  // --- RFC 2018 / RFC 2883: SACK and D-SACK, receiver side ---
  /** Both SYNs carried SACK-permitted (RFC 2018 2): our pure ACKs carry SACK blocks. */
  sackPermitted = false;
  /**
   * Stream offsets of the latest out-of-order arrivals, most recent first (at most
   * {@link MAX_SACK_RECENT}): each names the held range that contains it, so ranges that
   * merged or were delivered since are found (or dropped) when an ACK is built.
   */
  readonly sackRecent: number[] = [];
  /** A duplicate range to report in the first block of the next ACK (RFC 2883 4), once. */
  dsack: SackBlock | undefined;

  // --- Receive sequence variables ---
  irs: SeqNumber = 0;
  /** False until the peer's SYN has been seen (RCV.NXT is meaningless before). */
  rcvSynchronized = false;
  rcvNxt: SeqNumber = 0;
  /** RCV.NXT + RCV.WND as last advertised: the right edge never moves left (RFC 9293 3.8.6.2.2). */
  rcvRightEdge: SeqNumber = 0;
  /** RCV.UP (RFC 9293 3.10.7.4 sixth step): the sequence number just after the urgent data. */
  rcvUp: SeqNumber | undefined;
  /** Bytes received in order so far (not counting SYN and FIN). */
  rcvStreamOffset = 0;
  /** Stream offset of a FIN that arrived ahead of some data, waiting for the gap to fill. */
  peerFinOffset: number | undefined;
  /** Bytes received in order since we last sent an ACK (delayed ACK, RFC 9293 3.8.6.3). */
  bytesSinceAck = 0;
  /** RCV.NXT when the ACK now owed for "every second full-sized segment" became due. */
  ackDueAt: SeqNumber | undefined;
  /**
   * Earlier such ACK points not yet transmitted, oldest first: when several segments arrive
   * before the next `pollTransmit`, each pair still gets its own ACK (with the acknowledgment
   * number it had), so the peer's slow start, which grows by at most one SMSS per ACK
   * (RFC 5681 3.1), is not slowed by batching.
   */
  readonly ackPoints: SeqNumber[] = [];

  /**
   * The most the receive window may cover now, unread bytes included (RCV.BUFF as receive
   * autotuning sets it, `autotune.ts`); the ring's capacity when autotuning is off.
   */
  rcvSpace: number;
  #autotuner: ReceiveAutotuner | undefined;

  readonly sendBuffer: RingBuffer;
  readonly receiveBuffer: RingBuffer;
  #assembler: Assembler | undefined;
  /** Where a segment that wraps around the send ring is copied (grown on demand, then reused). */
  scratch: Uint8Array;
  /**
   * Segmentation offload: the most payload bytes `pollTransmit` may return in one record of
   * several full-sized segments, for the caller to cut at the send MSS (`send.ts`,
   * `offloadBurst`); 0 (the default) sends one segment per record.
   */
  segmentationOffload = 0;
  /** Header prediction (`segment-arrival.ts`, `predictedText`): on unless a test compares the full path. */
  headerPrediction = true;
  /** The timestamps option list of the last segment sent (`#timestampsOptions`). */
  #lastTimestamps: readonly TcpOption[] | undefined;

  // --- Retransmission, RTT and congestion ---
  readonly rtt: RttEstimator;
  congestion: CongestionController;
  /** The algorithm of `congestion`: `config.congestionControl` until `setCongestionAlgorithm`. */
  congestionAlgorithm: CongestionAlgorithm;
  /** Every segment in flight: SACK marks, loss marks, transmit times (RFC 6675's scoreboard, RFC 8985's xmit_ts). */
  readonly scoreboard = new Scoreboard();
  #rack: Rack | undefined;
  #prr: Prr | undefined;
  /** Bytes PRR lets us send before the next ACK (SACK-based fast recovery only). */
  recoveryBudget = 0;
  /** RTO recovery of a SACK sender: after a timeout until SND.UNA reaches `recover` (RFC 8985 6.3, RFC 6675 5.1). */
  rtoRecovery = false;
  /** When the next paced segment may leave (`send.ts`, pacing): fractional microseconds; timers round it up. */
  pacingNext: Instant = 0;
  /** The last transmission attempt found data ready but held back by pacing. */
  pacingBlocked = false;
  /** Send a tail loss probe now (RFC 8985 7.3). */
  tlpNow = false;
  /** (Re)start the probe timeout at the next timer update: new data went out, or an ACK acknowledged new data (RFC 8985 7.2). */
  armProbe = false;
  /** The segment being timed for an RTT sample: its end sequence number and when it was sent. */
  rttSeq: SeqNumber | undefined;
  rttStart: Instant = 0;
  /** Retransmission timeouts in a row without an ACK of new data. */
  timeouts = 0;
  /** True once our SYN or SYN-ACK had to be retransmitted. */
  handshakeRetransmitted = false;
  /** True once the SYN (or SYN-ACK) has been handed out by pollTransmit. */
  synTransmitted = false;
  /** Duplicate ACKs in a row (RFC 5681 2). */
  dupAcks = 0;
  /** RFC 6582 `recover`: SND.MAX when the last recovery began. */
  recover: SeqNumber;
  /** RFC 6582: whether the retransmission timer was reset for a partial ACK in this recovery. */
  partialAckSeen = false;
  /** Current persist (zero-window probe) interval; undefined when not probing. */
  persistInterval: Duration | undefined;
  /** Window probes sent without an ACK coming back. */
  probesUnanswered = 0;
  /** Keepalive probes sent without anything coming back. */
  keepaliveProbes = 0;

  // --- What pollTransmit owes ---
  /** Send our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) now. */
  synNeeded = false;
  /** Send an ACK now (any segment carrying an ACK satisfies it). */
  ackNow = false;
  /** Pure duplicate ACKs owed for out-of-order segments (RFC 5681 4.2: one per segment). */
  dupAcksOwed = 0;
  /** Retransmit the segment at SND.UNA now (fast retransmit, partial ACK). */
  retransmitNow = false;
  /** Send a zero-window probe now. */
  probeNow = false;
  /** Send what the window allows now, overriding sender SWS avoidance (RFC 9293 3.8.6.2.1 (4)). */
  forceSend = false;
  /** Send a keepalive probe now. */
  keepaliveNow = false;
  /** Control segments that answer a segment (resets), sent before anything else. */
  readonly replies: TcpRepr[] = [];

  // --- Events ---
  readonly events: TcpEvent[] = [];
  /** `send` accepted less than offered: report 'writable' when space frees. */
  sendBlocked = false;
  /** CLOSED was reached; 'closed' is reported once the last reply has been transmitted. */
  closedPending = false;
  #synAcked = false;
  /** Challenge ACKs per second (RFC 5961 7). */
  readonly challengeAckLimit: number;
  /** Made at the first challenge ACK (most connections never send one). */
  #challengeBudget: ChallengeAckBudget | undefined;

  readonly timers = new TimerTable();
  readonly counters: TcbCounters = {
    retransmissions: 0, bytesSent: 0, bytesReceived: 0, segmentsSent: 0, segmentsReceived: 0,
    outOfOrderDropped: 0, challengeAcksSuppressed: 0, pawsDropped: 0, retransmitTimeouts: 0, fastRecoveries: 0, tlpProbes: 0, tlpRecoveries: 0,
  };

  constructor(p: TcbParams) {
    this.config = p.config;
    this.local = p.local;
    this.remote = p.remote;
    this.nagle = p.config.nagle;
    this.delayedAck = Math.max(0, Math.min(MAX_DELAYED_ACK, p.config.delayedAck));
    // Shared with the config until `setKeepAlive` replaces it (nothing changes it in place).
    this.keepalive = p.config.keepalive;
    this.iss = p.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.sendBufferSeq = this.sndNxt;
    this.recover = this.iss;
    this.localMss = Math.max(1, Math.min(0xffff, Math.floor(p.mss)));
    this.pathMss = this.localMss;
    this.softError = undefined;
    this.sendMss = Math.min(this.localMss, this.defaultPeerMss);
    this.rcvMss = this.sendMss;
    this.sendBuffer = new RingBuffer(Math.max(0, Math.floor(p.config.sendBufferSize)));
    this.receiveBuffer = new RingBuffer(Math.max(0, Math.floor(p.config.receiveBufferSize)));
    const capacity = this.receiveBuffer.capacity;
    this.rcvSpace = p.config.receiveBufferAutotuning ? Math.min(capacity, AUTOTUNE_INITIAL_WINDOW) : capacity;
    this.scratch = EMPTY;
    this.rtt = new RttEstimator(p.config);
    this.congestionAlgorithm = p.config.congestionControl;
    this.congestion = createCongestionController(this.congestionAlgorithm, {
      mss: this.sendMss, initialWindow: initialWindow(this.sendMss, false), hystart: p.config.hystart,
    });
    this.challengeAckLimit = p.challengeAckLimit ?? CHALLENGE_ACK_LIMIT;
    this.offeredWindowShift = p.config.windowScaling ? windowShiftFor(this.receiveBuffer.capacity) : undefined;
    this.tsOffset = (p.tsOffset ?? 0) >>> 0;
    this.startedAt = p.now;
  }

  /** The out-of-order ranges held (made at the first out-of-order segment: an idle connection has none). */
  get assembler(): Assembler {
    return (this.#assembler ??= new Assembler(this.config.outOfOrderLimit));
  }

  /** True when out-of-order data is held (without making an assembler to ask). */
  get holdsOutOfOrder(): boolean {
    return this.#assembler !== undefined && !this.#assembler.isEmpty;
  }

  /** RACK-TLP's variables (RFC 8985), made when a SACK sender first has data in flight (an idle connection pays nothing). */
  get rack(): Rack {
    return (this.#rack ??= new Rack());
  }

  /** Proportional Rate Reduction's variables (RFC 6937), made at the first SACK-based fast recovery. */
  get prr(): Prr {
    return (this.#prr ??= new Prr());
  }

  /** Snd.TSclock (RFC 7323 4.1) at `now`. */
  tsClock(now: Instant): number {
    return tsClock(now, this.tsOffset);
  }

  /** Ticks of the timestamp clock since the connection began (the oldest echo that can be ours). */
  tsAge(now: Instant): number {
    return Math.floor(now / TS_CLOCK_TICK) - Math.floor(this.startedAt / TS_CLOCK_TICK);
  }

  /** The MSS to assume when the peer sends no MSS option (RFC 9293 3.7.1, by address family). */
  get defaultPeerMss(): number {
    return this.remote.address.length === 16 ? DEFAULT_MSS_IPV6 : DEFAULT_MSS_IPV4;
  }

  // --- Sequence-space questions ---

  /**
   * Our SYN has been acknowledged (SND.UNA > ISS). Remembered rather than compared: after
   * 2^31 bytes SND.UNA is no longer "after" ISS in modular arithmetic, and a connection that
   * fast would believe itself back in its handshake.
   */
  get synAcked(): boolean {
    return this.#synAcked;
  }

  /** SND.UNA moved to `ack` (beyond ISS: the SYN is acknowledged from now on). */
  advanceUna(ack: SeqNumber): void {
    this.sndUna = ack;
    if (seqGt(ack, this.iss)) this.#synAcked = true;
  }

  /** Our FIN has been sent (it is before SND.MAX). */
  get finSent(): boolean {
    return this.finSeq !== undefined && seqGt(this.sndMax, this.finSeq);
  }

  /** Our FIN has been acknowledged. */
  get finAcked(): boolean {
    return this.finSeq !== undefined && seqGt(this.sndUna, this.finSeq);
  }

  /** Sequence space sent and not acknowledged (SND.MAX - SND.UNA): RFC 5681's FlightSize. */
  get flightSize(): number {
    return Math.max(0, seqDiff(this.sndMax, this.sndUna));
  }

  /**
   * RFC 6675's pipe, "the sender's estimate of the number of bytes outstanding in the
   * network": the flight less what the peer has SACKed and what is deemed lost, plus the
   * retransmissions of lost segments now in flight (Linux's packets_out - left_out + retrans_out).
   */
  get pipe(): number {
    const b = this.scoreboard;
    return Math.max(0, this.flightSize - b.sackedBytes - b.lostBytes + b.retransInFlightBytes);
  }

  /**
   * Every segment in flight that the peer has not SACKed is to be sent again, without a
   * congestion response (a smaller path MTU, or a window that reopened after the peer shrank
   * it to zero). A SACK sender marks them lost and retransmits them as its window allows;
   * without SACK, SND.NXT goes back to SND.UNA (go-back-N).
   */
  resendFlight(): void {
    if (!this.synAcked || this.flightSize === 0) return;
    this.rttSeq = undefined;
    this.retransmitNow = false;
    if (this.sackPermitted) {
      for (let i = 0; i < this.scoreboard.count; i++) this.scoreboard.markLost(i);
    } else {
      this.sndNxt = this.sndUna;
    }
  }

  /** Position of SND.NXT in the send buffer. */
  get sendOffset(): number {
    return seqDiff(this.sndNxt, this.sendBufferSeq);
  }

  /** Queued bytes not yet sent from SND.NXT on. */
  get unsentBytes(): number {
    return Math.max(0, this.sendBuffer.length - this.sendOffset);
  }

  /** The FIN is queued and SND.NXT has not passed it. */
  get finUnsent(): boolean {
    return this.finSeq !== undefined && seqLe(this.sndNxt, this.finSeq);
  }

  /** Something (data or FIN) waits to be sent at SND.NXT. */
  get hasUnsent(): boolean {
    return this.unsentBytes > 0 || this.finUnsent;
  }

  /**
   * The receive window: RCV.WND = right edge - RCV.NXT, where the right edge is the largest
   * the peer has been offered (a scaled window may announce slightly less, see `windowField`).
   */
  get rcvWnd(): number {
    return this.rcvSynchronized ? Math.max(0, seqDiff(this.rcvRightEdge, this.rcvNxt)) : Math.min(this.receiveBuffer.free, this.rcvSpace, MAX_WINDOW);
  }

  /** True in the states where our data may still flow (after our SYN is acknowledged). */
  get canSendData(): boolean {
    switch (this.state) {
      case 'ESTABLISHED': case 'CLOSE-WAIT': case 'FIN-WAIT-1': case 'CLOSING': case 'LAST-ACK':
        return this.synAcked;
      default:
        return false;
    }
  }

  // --- The receive window (RFC 9293 3.8.6.2.2) ---


  /** RCV.BUFF: the most we ever offer (the buffer less the rounding reserve, within what the field can say). */
  get receiveWindowMax(): number {
    return Math.min(this.receiveBuffer.capacity - this.rcvReserve, this.maxFieldWindow, this.rcvSpace);
  }

  /** The window the free buffer space would allow (less the rounding reserve), capped by what the field can say. */
  get potentialWindow(): number {
    const autotuned = this.rcvSpace - this.receiveBuffer.length;
    return Math.max(0, Math.min(this.receiveBuffer.free - this.rcvReserve, this.maxFieldWindow, autotuned));
  }

  /**
   * Text arrived: a round-trip sample for receive autotuning (the echoed timestamp, or the
   * time one window takes). Nothing is kept while the window is already the whole buffer.
   */
  noteTextArrival(now: Instant, seg: { readonly hasTimestamps: boolean; readonly tsEcr: number }): void {
    if (this.rcvSpace >= this.receiveBuffer.capacity) return;
    const tuner = (this.#autotuner ??= new ReceiveAutotuner(now, this.rcvMss));
    let echoRtt: Duration | undefined;
    if (this.tsEnabled && seg.hasTimestamps) {
      const ticks = tsElapsed(this.tsClock(now), seg.tsEcr, this.tsAge(now));
      if (ticks !== undefined) echoRtt = Math.max(1, ticks) * TS_CLOCK_TICK;
    }
    tuner.onText(now, echoRtt, this.rcvNxt, this.rcvWnd);
  }

  /** The application read `bytes`: autotuning may widen the window the receive buffer offers. */
  noteRead(bytes: number, now: Instant): void {
    const tuner = this.#autotuner;
    if (tuner === undefined || this.rcvSpace >= this.receiveBuffer.capacity) return;
    const window = tuner.onRead(bytes, now, this.rtt.srtt, this.rcvMss);
    if (window !== undefined && window > this.rcvSpace) this.rcvSpace = Math.min(this.receiveBuffer.capacity, window);
  }

  /**
   * How much the window must be able to grow before the right edge moves: RFC 9293 3.8.6.2.2,
   * "keep RCV.NXT+RCV.WND fixed until the reduction satisfies:
   *   RCV.BUFF - RCV.USER - RCV.WND  >=  min( Fr * RCV.BUFF, Eff.snd.MSS )
   * where Fr is a fraction whose recommended value is 1/2". RCV.BUFF is what we can advertise.
   */
  get windowUpdateThreshold(): number {
    return Math.max(1, Math.min(Math.floor(this.receiveWindowMax / 2), this.sendMss));
  }

  /**
   * The window field of a segment acknowledging `ack` (not a SYN): RCV.WND >> Rcv.Wind.Shift.
   *
   * Rounding. RFC 7323 2.4: with a scale factor the right edge can only be announced in units
   * of 2^shift bytes, so once RCV.NXT has moved by a number of bytes that is not a multiple of
   * the unit, "the TCP will have to either advertise a new window that is beyond what it
   * previously advertised (and perhaps beyond the buffer) or will have to advertise a smaller
   * window, which will cause the TCP window to shrink". RFC 9293 3.8.6 asks the receiver not
   * to shrink the window (SHLD-14), so l4 rounds up, and the right edge it accepts up to moves
   * to what the peer now sees; the rounding reserve (`rcvReserve`) keeps that inside the
   * buffer. Only when the buffer cannot hold the rounded-up edge (the reserve used up because
   * the application stopped reading) is the field rounded down, an announced edge less than
   * one unit short of the largest one offered; segments up to that largest edge are still
   * accepted ("The receiver MUST honor, as in window, any segment that would have been in
   * window for any <ACK> sent by the receiver", RFC 7323 2.4).
   */
  windowField(ack: SeqNumber): number {
    const wnd = Math.max(0, seqDiff(this.rcvRightEdge, ack));
    const shift = this.rcvWindShift ?? 0;
    if (shift === 0) return Math.min(wnd, MAX_WINDOW);
    // The bytes the ring can hold from `ack` on: what lies before RCV.NXT is in it already.
    const field = scaledWindowField(wnd, shift, Math.max(0, seqDiff(this.rcvNxt, ack)) + this.receiveBuffer.free);
    const edge = seqAdd(ack, field * windowUnit(shift));
    if (seqGt(edge, this.rcvRightEdge)) this.rcvRightEdge = edge;
    return field;
  }

  /** Moves the right edge if receiver SWS avoidance allows it (never to the left). */
  updateReceiveWindow(): void {
    if (!this.rcvSynchronized) return;
    const current = this.rcvWnd;
    const potential = this.potentialWindow;
    if (potential - current >= this.windowUpdateThreshold) {
      // "When the inequality is satisfied, RCV.WND is set to RCV.BUFF-RCV.USER."
      this.rcvRightEdge = seqAdd(this.rcvNxt, potential);
    }
  }

  /**
   * Starts the receive side at the peer's SYN (RFC 9293 3.10.7.2 and 3.10.7.3: RCV.NXT <-
   * SEG.SEQ+1, IRS <- SEG.SEQ), and settles the options both SYNs had to carry: the send MSS,
   * window scaling and timestamps (RFC 7323 2.2, 3.2).
   */
  synchronizeReceive(synSeq: SeqNumber, options: readonly TcpOption[], now: Instant): void {
    this.irs = synSeq;
    this.rcvNxt = seqAdd(synSeq, 1);
    this.rcvSynchronized = true;
    this.lastAckSent = this.rcvNxt;
    this.#negotiateOptions(options, now);
    this.rcvRightEdge = seqAdd(this.rcvNxt, this.potentialWindow);
    // RFC 9293 3.7.1: "the TCP endpoint MUST use a default MSS of 536 bytes (IPv4) or 1220 bytes
    // (IPv6) if no MSS option is received, and Eff.snd.MSS is computed from the smaller of that
    // value and the largest segment the path allows".
    let peerMss: number | undefined;
    for (let k = 0; k < options.length; k++) {
      const o = options[k]!;
      if (o !== null && typeof o === 'object' && o.kind === 'mss' && Number.isInteger(o.value) && o.value > 0 && o.value <= 0xffff) peerMss = o.value;
    }
    this.peerMss = peerMss;
    // RFC 9293 3.7.1: "Eff.snd.MSS = min(SendMSS+20, MMS_S) - TCPhdrsize - IPoptionsize",
    // TCPhdrsize counting the options every segment carries (the timestamps).
    this.sendMss = Math.max(1, Math.min(this.localMss, this.pathMss, Math.max(MIN_PEER_MSS, peerMss ?? this.defaultPeerMss)) - this.optionSpace);
    this.rcvMss = this.sendMss;
    this.congestion.setMss(this.sendMss);
  }

  /**
   * Window scaling and timestamps from the peer's SYN (or SYN,ACK). RFC 7323 2.2: "Both
   * sides must send Window Scale options in their <SYN> segments to enable window scaling in
   * either direction"; 2.3: "If a Window Scale option is received with a shift.cnt value
   * larger than 14, the TCP SHOULD log the error but MUST use 14 instead of the specified
   * value." 3.2: "Once TSopt has been successfully negotiated, that is both <SYN> and
   * <SYN,ACK> contain TSopt, the TSopt MUST be sent in every non-<RST> segment".
   */
  #negotiateOptions(options: readonly TcpOption[], now: Instant): void {
    const peerShift = findWindowScale(options);
    if (this.offeredWindowShift !== undefined && peerShift !== undefined) {
      this.peerWindowShiftClamped = peerShift > MAX_WINDOW_SHIFT;
      this.sndWindShift = Math.min(peerShift, MAX_WINDOW_SHIFT);
      this.rcvWindShift = this.offeredWindowShift;
      this.maxFieldWindow = MAX_WINDOW * 2 ** this.rcvWindShift;
      this.rcvReserve = this.rcvWindShift === 0 ? 0
        : Math.min(this.receiveBuffer.capacity, Math.max(2 ** this.rcvWindShift, Math.ceil(this.receiveBuffer.capacity * ROUNDING_RESERVE_FRACTION)));
    }
    // RFC 2018 2: "Sack-Permitted ... may be sent in a SYN by a TCP that has been extended to
    // receive (and presumably process) the SACK option once the connection has opened."
    this.sackPermitted = this.config.sack && hasSackPermitted(options);
    if (this.config.timestamps && findTimestamps(options, PEER_TIMESTAMPS)) {
      this.tsEnabled = true;
      this.tsRecent = PEER_TIMESTAMPS.tsVal;
      this.tsRecentAge = now;
      this.optionSpace = TIMESTAMPS_OPTION_SPACE;
    }
  }

  /** The options of our SYN (SYN-SENT) or SYN,ACK (after the peer's SYN): MSS, window scale, timestamps. */
  synOptions(now: Instant): TcpOption[] {
    // RFC 9293 3.7.1: "TCP implementations SHOULD send an MSS Option in every SYN segment".
    const options: TcpOption[] = [{ kind: 'mss', value: this.localMss }];
    // RFC 7323 2.2: "This option MAY be sent in an initial <SYN> segment ... It MAY also be
    // sent in a <SYN,ACK> segment, but only if a Window Scale option was received in the
    // initial <SYN> segment."
    const shift = this.rcvSynchronized ? this.rcvWindShift : this.offeredWindowShift;
    if (shift !== undefined) options.push(NOP, { kind: 'window-scale', shift });
    // RFC 2018 2: SACK-permitted "MUST NOT be sent on non-SYN segments"; on the SYN,ACK only
    // when the peer's SYN had it (as for the RFC 7323 options).
    if (this.rcvSynchronized ? this.sackPermitted : this.config.sack) options.push(NOP, NOP, SACK_PERMITTED);
    // RFC 7323 3.2: TSopt "MAY be sent in an initial <SYN> segment ... and MAY be sent in a
    // <SYN,ACK> segment only if it received a TSopt in the initial <SYN>"; "If the ACK bit is
    // not set in the outgoing TCP header, the sender of that segment SHOULD set the TSecr
    // field to zero."
    if (this.rcvSynchronized ? this.tsEnabled : this.config.timestamps) {
      options.push(...timestampsOptions(this.tsClock(now), this.rcvSynchronized ? this.tsRecent : 0));
    }
    return options;
  }

  /** A congestion controller for the established connection (RFC 5681 3.1 initial window). */
  startCongestionControl(): void {
    this.congestion = createCongestionController(this.congestionAlgorithm, {
      mss: this.sendMss,
      initialWindow: initialWindow(this.sendMss, this.handshakeRetransmitted),
      hystart: this.config.hystart,
    });
  }

  /**
   * Another congestion-control algorithm from now on, carrying cwnd and ssthresh over (during
   * fast recovery, cwnd is ssthresh: the window recovery would end with, RFC 6582 3.2 step 3
   * option 2, since the inflation belongs to the old controller's recovery, which ends here).
   * HyStart++ runs in the new controller only while ssthresh is still the initial one. Returns
   * false, changing nothing, for a name that is not an algorithm.
   */
  setCongestionAlgorithm(algorithm: string): boolean {
    const old = this.congestion;
    const next = createCongestionController(algorithm, {
      mss: this.sendMss,
      initialWindow: old.inRecovery ? old.ssthresh : old.window,
      ssthresh: old.ssthresh,
      hystart: this.config.hystart,
    });
    if (next === undefined) return false;
    this.congestion = next;
    this.congestionAlgorithm = next.algorithm;
    return true;
  }

  // --- Building segments ---

  /**
   * A segment from this connection at `now`: ACK-bearing segments carry RCV.NXT and the
   * receive window (after the receiver SWS rule had its say), and count as the ACK owed. A
   * SYN's window is never scaled (RFC 7323 2.2); other segments get the scaled field. Once
   * timestamps are on, every segment but a RST carries <TSval=Snd.TSclock, TSecr=TS.Recent>
   * (RFC 7323 3.2, Appendix D), unless `options` are given (the SYN's own).
   */
  segment(now: Instant, flags: number, seq: SeqNumber, payload: Uint8Array = EMPTY, options?: readonly TcpOption[]): TcpRepr {
    let ack = 0;
    let window = 0;
    if ((flags & TcpFlags.ACK) !== 0) ack = this.rcvNxt;
    if ((flags & TcpFlags.RST) === 0) {
      this.updateReceiveWindow();
      window = (flags & TcpFlags.SYN) !== 0 ? Math.min(this.rcvWnd, MAX_WINDOW) : this.windowField(ack);
    }
    const segmentOptions = options ?? this.segmentOptions(now, flags, payload.length);
    if ((flags & TcpFlags.ACK) !== 0) {
      this.noteAckSent(ack);
      this.dsack = undefined;
      this.ackNow = false;
      this.ackDueAt = undefined;
      this.bytesSinceAck = 0;
      this.timers.clear('delayed-ack');
    }
    return {
      srcPort: this.local.port, dstPort: this.remote.port, seqNumber: seq >>> 0, ackNumber: ack >>> 0,
      flags, reserved: 0, window, urgentPointer: 0, options: segmentOptions, optionsPadding: 0, payload,
    };
  }

  /**
   * A bare ACK of an earlier RCV.NXT (`ack`, one of `ackPoints`): the window it carries keeps
   * the right edge where it is.
   */
  laggingAck(now: Instant, ack: SeqNumber): TcpRepr {
    const window = this.windowField(ack);
    const options = this.segmentOptions(now, TcpFlags.ACK, 0);
    this.noteAckSent(ack);
    this.dsack = undefined;
    return {
      srcPort: this.local.port, dstPort: this.remote.port, seqNumber: this.sndMax, ackNumber: ack >>> 0,
      flags: TcpFlags.ACK, reserved: 0, window, urgentPointer: 0, options, optionsPadding: 0, payload: EMPTY,
    };
  }

  /**
   * The options of a segment other than a SYN: the timestamps once negotiated, never on a RST
   * (RFC 7323 3.2); and on a pure ACK (no payload, no SYN, FIN or RST) SACK blocks once SACK is
   * permitted and something is to be reported (RFC 2018 4, RFC 2883 4). Data segments carry
   * none, so the effective send MSS (RFC 9293 3.7.1) never has to make room for them: the
   * simplest correct choice, at the cost of a SACK report only on the ACKs that carry no data.
   */
  segmentOptions(now: Instant, flags: number, payloadLength: number): readonly TcpOption[] {
    if ((flags & TcpFlags.RST) !== 0) return NO_OPTIONS;
    const pureAck = payloadLength === 0 && (flags & (TcpFlags.SYN | TcpFlags.FIN)) === 0 && (flags & TcpFlags.ACK) !== 0;
    const blocks = pureAck && this.sackPermitted ? sackBlocks(this, sackBlocksThatFit(this.tsEnabled ? TIMESTAMPS_OPTION_SPACE : 0)) : undefined;
    if (blocks === undefined) return this.tsEnabled ? this.#timestampsOptions(now) : NO_OPTIONS;
    const options: TcpOption[] = this.tsEnabled ? timestampsOptions(this.tsClock(now), this.tsRecent) : [];
    if (blocks !== undefined) options.push(NOP, NOP, { kind: 'sack', blocks });
    return options;
  }

  /**
   * NOP, NOP, TSopt with Snd.TSclock and TS.Recent: the list of the last segment again while
   * the two are the same, as they are for every segment of a burst (the clock ticks in
   * milliseconds, TS.Recent moves once per ACK). The list leaves with the segment and is only
   * read (the host emits it at once).
   */
  #timestampsOptions(now: Instant): readonly TcpOption[] {
    const tsVal = this.tsClock(now);
    const last = this.#lastTimestamps;
    const option = last?.[2];
    if (option?.kind === 'timestamps' && option.tsVal === tsVal && option.tsEcr === this.tsRecent) return last!;
    const list = timestampsOptionList(tsVal, this.tsRecent);
    this.#lastTimestamps = list;
    return list;
  }

  /**
   * An ACK of `ack` is being sent: Last.ACK.sent (RFC 7323 4.3, "the ACK field from the last
   * segment sent"). An ACK point sent late acknowledges less than one already sent; keeping
   * the highest is what the rule needs ("Last.ACK.sent will equal RCV.NXT except when <ACK>s
   * have been delayed").
   */
  noteAckSent(ack: SeqNumber): void {
    this.lastAckSent = seqMax(this.lastAckSent, ack);
  }

  /** An ACK is due now for "every second full-sized segment"; one already due keeps its own. */
  ackDue(): void {
    if (this.ackDueAt !== undefined && this.ackDueAt !== this.rcvNxt && this.ackPoints.length < MAX_ACK_POINTS) {
      this.ackPoints.push(this.ackDueAt);
    }
    this.ackDueAt = this.rcvNxt;
    this.ackNow = true;
    this.bytesSinceAck = 0;
  }

  /** A reset that answers a segment: <SEQ=seq><CTL=RST>, or with ACK=ack when `ack` is given. */
  queueReset(seq: SeqNumber, ack?: SeqNumber): void {
    if (this.replies.length >= MAX_QUEUED_REPLIES) return;
    const flags = ack === undefined ? TcpFlags.RST : TcpFlags.RST | TcpFlags.ACK;
    this.replies.push({
      srcPort: this.local.port, dstPort: this.remote.port, seqNumber: seq >>> 0, ackNumber: (ack ?? 0) >>> 0,
      flags, reserved: 0, window: 0, urgentPointer: 0, options: NO_OPTIONS, optionsPadding: 0, payload: EMPTY,
    });
  }

  /** The RFC 5961 7 budget, if a challenge ACK was ever wanted: a TIME-WAIT record (`time-wait.ts`) takes it over. */
  get challengeBudget(): ChallengeAckBudget | undefined {
    return this.#challengeBudget;
  }

  /** RFC 5961 challenge ACK, within the RFC 5961 7 budget. */
  challengeAck(now: Instant): void {
    if (!(this.#challengeBudget ??= new ChallengeAckBudget(this.challengeAckLimit)).take(now)) {
      this.counters.challengeAcksSuppressed++;
      return;
    }
    this.ackNow = true;
  }

  /** One more immediate duplicate ACK owed (RFC 5681 4.2). */
  oweDuplicateAck(): void {
    if (this.dupAcksOwed < MAX_OWED_DUPLICATE_ACKS) this.dupAcksOwed++;
  }

  // --- Events and state changes ---

  /** Queues an event; 'readable' and 'writable' are not repeated while one is still queued. */
  emit(event: TcpEvent): void {
    if (event.type === 'readable' || event.type === 'writable') {
      for (const e of this.events) if (e.type === event.type) return;
      this.events.push(event.type === 'readable' ? READABLE : WRITABLE);
      return;
    }
    this.events.push(event);
  }

  /** The next event, 'closed' last, after the final reply (a RST) has been handed to the host. */
  pollEvent(): TcpEvent | undefined {
    if (this.closedPending && this.replies.length === 0) {
      this.closedPending = false;
      this.events.push({ type: 'closed' });
    }
    return this.events.shift();
  }

  /** Enters TIME-WAIT: "start the time-wait timer, turn off the other timers" (RFC 9293 3.10.7.4). */
  enterTimeWait(now: Instant): void {
    this.state = 'TIME-WAIT';
    this.timers.clearAll();
    this.timers.set('time-wait', now + 2 * this.config.msl);
    this.retransmitNow = false;
    this.tlpNow = false;
    this.probeNow = false;
    this.forceSend = false;
    this.keepaliveNow = false;
  }

  /** Enters CLOSED ("delete the TCB"): every timer stops, queued output goes, 'closed' follows. */
  enterClosed(): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    this.timers.clearAll();
    this.sendBuffer.clear();
    this.scoreboard.release();
    this.#assembler?.clear();
    this.sackRecent.length = 0;
    this.dsack = undefined;
    this.synNeeded = false;
    this.ackNow = false;
    this.ackPoints.length = 0;
    this.dupAcksOwed = 0;
    this.retransmitNow = false;
    this.probeNow = false;
    this.forceSend = false;
    this.keepaliveNow = false;
    this.tlpNow = false;
    this.closedPending = true;
  }

  /** The connection failed: 'error', then CLOSED. Bytes already received stay readable. */
  fail(error: TcpError): void {
    if (this.state === 'CLOSED') return;
    this.emit({ type: 'error', error });
    this.enterClosed();
  }
}
