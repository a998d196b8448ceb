/**
 * One TCP connection as RFC 9293 defines it, as a sans-IO object (quinn-proto's `Connection`
 * is the model): it never reads a clock, starts a timer or touches the network. Its owner (the
 * host) feeds it segments and time and takes segments and events out.
 *
 * Call order, repeatedly (the same as `NetworkNode`'s):
 * 1. `handleSegment(now, seg)` for each segment that arrived for this socket pair;
 * 2. `handleTimeout(now)` once `now` has reached `pollTimeout()`;
 * 3. `pollTransmit(now)` until it returns `undefined`, sending each segment;
 * 4. `pollEvent()` until it returns `undefined`;
 * 5. `pollTimeout()` to learn when to call `handleTimeout` next.
 * Application calls (`send`, `recv`, `close`, `abort`, the setters) may make segments ready:
 * run steps 3 to 5 after them too. After `{ type: 'closed' }` the connection can be forgotten;
 * that event comes only once a final RST (from `abort`, say) has been taken by `pollTransmit`.
 *
 * The parts: `tcb.ts` (the state), `segment-arrival.ts` (RFC 9293 3.10.7 in order), `ack.ts`
 * (acknowledgments, loss recovery), `receive.ts` (text, FIN, reads, window), `send.ts` (what to
 * transmit, sender timers), `timeouts.ts` (expired timers), `rtt.ts` (RFC 6298),
 * `congestion/` (RFC 5681, RFC 6582, RFC 9438, RFC 9406).
 */
import type { Duration, Instant } from '../../time/instant.js';
import { seqAdd, seqGt, seqLt } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';
import type { TcpRepr } from '../../wire/tcp.js';
import { copyEndpoint } from '../endpoint.js';
import type { Endpoint } from '../endpoint.js';
import type { IcmpError, IcmpErrorKind } from '../icmp/errors.js';
import { readReceived } from './receive.js';
import { handleSegmentArrival, sanitize } from './segment-arrival.js';
import type { SegmentDrop } from './segment-arrival.js';
import { nextSegment, updateSenderTimers } from './send.js';
import { Tcb, type TcbParams } from './tcb.js';
import { TimeWait } from './time-wait.js';
import { runExpiredTimers } from './timeouts.js';
import type { TimerKind } from './timers.js';
import type { TcpConnectionInfo, TcpEvent, TcpState } from './types.js';

export { CHALLENGE_ACK_LIMIT, MAX_DELAYED_ACK, MAX_WINDOW, MIN_PEER_MSS } from './tcb.js';
export type { TimerKind } from './timers.js';
export type { SegmentDrop } from './segment-arrival.js';

/** What a connection is made from. */
export interface TcpConnectionParams extends TcbParams {
  /**
   * Called after every application call (`send`, `recv`, `close`, `abort`, `setNoDelay`,
   * `setKeepAlive`): the call may have made a segment ready or moved a timer, so the owner
   * (the host) polls this connection again. The owner is told, rather than asking every
   * connection at every poll, which would cost O(connections) per packet.
   */
  readonly onApplicationCall?: () => void;
}

/**
 * A TCP connection: every state of RFC 9293 but LISTEN (the host's listener). Drive it in the
 * order of the module doc: `handleSegment` for arrivals, `handleTimeout` at `pollTimeout()`,
 * then `pollTransmit` until undefined, `pollEvent` until undefined, and `pollTimeout` again;
 * repeat steps 3 to 5 after any application call. Nothing here throws on network input.
 */
export class TcpConnection {
  readonly #tcb: Tcb;
  readonly #onApplicationCall: () => void;

  private constructor(tcb: Tcb, onApplicationCall: (() => void) | undefined) {
    this.#tcb = tcb;
    this.#onApplicationCall = onApplicationCall ?? noop;
  }

  /**
   * Active open (RFC 9293 3.10.1 OPEN: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent.
   * Set SND.UNA to ISS, SND.NXT to ISS+1, enter SYN-SENT state"): the SYN is ready in
   * `pollTransmit`.
   */
  static connect(p: TcpConnectionParams): TcpConnection {
    const tcb = new Tcb(p);
    tcb.state = 'SYN-SENT';
    tcb.synNeeded = true;
    const connection = new TcpConnection(tcb, p.onApplicationCall);
    updateSenderTimers(tcb, p.now);
    return connection;
  }

  /**
   * Passive open from a listener's SYN (RFC 9293 3.10.7.2, LISTEN, third check: "Set RCV.NXT to
   * SEG.SEQ+1, IRS is set to SEG.SEQ ... a SYN segment sent of the form
   * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. SND.NXT is set to ISS+1 and SND.UNA to ISS. The
   * connection state should be changed to SYN-RECEIVED."): the SYN,ACK is ready in
   * `pollTransmit`. Text or FIN on the SYN is not taken: our ACK will not cover it, so the peer
   * sends it again.
   */
  static accept(p: TcpConnectionParams, syn: TcpRepr): TcpConnection {
    const tcb = new Tcb(p);
    const seg = sanitize(syn);
    tcb.passive = true;
    tcb.state = 'SYN-RECEIVED';
    tcb.counters.segmentsReceived++;
    tcb.synchronizeReceive(seg.seq, seg.options, p.now);
    // RFC 7323 2.2: "The Window field in a segment where the SYN bit is set (i.e., a <SYN> or
    // <SYN,ACK>) MUST NOT be scaled."
    tcb.sndWnd = seg.window;
    tcb.sndWl1 = seg.seq;
    tcb.sndWl2 = tcb.iss;
    tcb.maxSndWnd = seg.window;
    tcb.synNeeded = true;
    const connection = new TcpConnection(tcb, p.onApplicationCall);
    updateSenderTimers(tcb, p.now);
    return connection;
  }

  /** Our end of the socket pair. */
  get local(): Endpoint {
    return this.#tcb.local;
  }

  /** The peer's end of the socket pair. */
  get remote(): Endpoint {
    return this.#tcb.remote;
  }

  /** The RFC 9293 state. */
  get state(): TcpState {
    return this.#tcb.state;
  }

  /**
   * A segment for this socket pair (checksum already verified by the host). RFC 9293 3.10.7
   * order. Returns the reason when the segment was dropped for one the host counts ('paws':
   * RFC 7323 5.3), else undefined. Never throws.
   */
  handleSegment(now: Instant, seg: TcpRepr): SegmentDrop | undefined {
    const una = this.#tcb.sndUna;
    const dropped = handleSegmentArrival(this.#tcb, now, seg);
    // Header prediction changed nothing the sender's timers depend on.
    if (dropped === 'predicted') return undefined;
    // New data acknowledged: the path works, an earlier soft error no longer explains anything.
    if (this.#tcb.sndUna !== una) this.#tcb.softError = undefined;
    updateSenderTimers(this.#tcb, now);
    return dropped;
  }

  /**
   * An ICMP error quoting a segment of this connection whose sequence number was `seq`.
   * Returns false, and does nothing, when `seq` is outside SND.UNA..SND.MAX (RFC 5927 4.1:
   * "TCP SHOULD check that the TCP sequence number contained in the payload of the ICMP
   * error message is within the range SND.UNA =< SEG.SEQ < SND.NXT"; l4 takes SND.MAX, what
   * was ever sent, and includes it, as Linux's between() does, so an error about a bare ACK
   * counts), or when the connection is CLOSED or in TIME-WAIT.
   *
   * Otherwise: a hard error (protocol or port unreachable) in SYN-SENT aborts the attempt
   * with 'refused' (RFC 1122 4.2.3.9 "TCP SHOULD abort the connection"; RFC 5461 4); every
   * other error — soft ones anywhere, hard ones in a synchronized state (RFC 5461 4.1 advises
   * treating them as soft) — is remembered in `softError` and never aborts. 'packet-too-big'
   * is only validated here: the host lowers the path MTU and calls `setPathMss`.
   */
  handleIcmpError(now: Instant, error: Pick<IcmpError, 'kind' | 'hard'>, seq: SeqNumber): boolean {
    const tcb = this.#tcb;
    if (tcb.state === 'CLOSED' || tcb.state === 'TIME-WAIT') return false;
    if (seqLt(seq, tcb.sndUna) || seqGt(seq, tcb.sndMax)) return false;
    if (error.kind === 'packet-too-big') return true;
    if (tcb.state === 'SYN-SENT' && error.hard) {
      tcb.fail('refused');
      updateSenderTimers(tcb, now);
      return true;
    }
    tcb.softError = error.kind;
    return true;
  }

  /**
   * The last soft ICMP error (net or host unreachable, prohibited, time exceeded, or a hard
   * error in a synchronized state), until new data is acknowledged. When the connection
   * fails with 'timed-out', this is the better reason to give (Linux reports sk_err_soft,
   * e.g. EHOSTUNREACH, instead of ETIMEDOUT).
   */
  get softError(): IcmpErrorKind | undefined {
    return this.#tcb.softError;
  }

  /**
   * The path takes segments of at most `mss` bytes (the host learned a smaller path MTU,
   * RFC 1191 / RFC 8201); the payload is that less the options every segment carries (the
   * timestamps, RFC 9293 3.7.1). The send MSS only ever goes down; when it does, whatever is in
   * flight is sent again in segments of the new size, from SND.UNA (RFC 1191 6.5: "TCP
   * should ... retransmit", as Linux's tcp_simple_retransmit, without a congestion
   * response: the loss said nothing about congestion). Returns true when the path MSS went down.
   */
  setPathMss(now: Instant, mss: number): boolean {
    const tcb = this.#tcb;
    const m = Math.max(1, Math.floor(mss));
    if (!(m < tcb.pathMss) || tcb.state === 'CLOSED') return false;
    tcb.pathMss = m;
    const payload = Math.max(1, m - tcb.optionSpace);
    if (payload < tcb.sendMss) {
      tcb.sendMss = payload;
      tcb.congestion.setMss(payload);
      tcb.resendFlight();
    }
    updateSenderTimers(tcb, now);
    return true;
  }

  /**
   * Segmentation offload (Linux's GSO), for the code that drives this connection (the host
   * turns it on for every connection): with `maxBytes` above 0, `pollTransmit` may return new
   * data of several full-sized segments as one record of up to `maxBytes` payload bytes. The
   * caller must then cut it into segments of `segmentSize` bytes, each with the record's
   * header but its own sequence number, PSH only on the last (see `send.ts`,
   * `offloadBurst`). 0 turns it off, the default: one segment per record.
   */
  setSegmentationOffload(maxBytes: number): void {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`segmentation offload of ${String(maxBytes)} bytes is not a non-negative integer`);
    this.#tcb.segmentationOffload = maxBytes;
  }

  /**
   * Header prediction (the fast path for in-order text, `segment-arrival.ts`) is on by
   * default; off, every segment takes the full RFC 9293 3.10.7 path. For tests that compare
   * the two: they must behave the same.
   */
  setHeaderPrediction(on: boolean): void {
    this.#tcb.headerPrediction = on;
  }

  /** The payload of one segment at most: the effective send MSS (RFC 9293 3.7.1), where an offloaded record is cut. */
  get segmentSize(): number {
    return this.#tcb.sendMss;
  }

  /**
   * The next segment to send (with segmentation offload on, possibly a record of several, see
   * `setSegmentationOffload`), or undefined. The payload may be a view into the send buffer:
   * valid until the next call.
   */
  pollTransmit(now: Instant): TcpRepr | undefined {
    const tcb = this.#tcb;
    const seg = nextSegment(tcb, now);
    if (seg !== undefined) {
      const mss = tcb.sendMss;
      tcb.counters.segmentsSent += seg.payload.length > mss ? Math.ceil(seg.payload.length / mss) : 1;
    }
    updateSenderTimers(tcb, now);
    return seg;
  }

  /** When `handleTimeout` must next be called, or undefined when no timer is armed. */
  pollTimeout(): Instant | undefined {
    return this.#tcb.timers.next();
  }

  /** Runs the timers due at `now`. */
  handleTimeout(now: Instant): void {
    runExpiredTimers(this.#tcb, now);
    updateSenderTimers(this.#tcb, now);
  }

  /** The next event for the owner, or undefined. */
  pollEvent(): TcpEvent | undefined {
    return this.#tcb.pollEvent();
  }

  /**
   * Queue bytes to send (RFC 9293 3.10.2 SEND); returns how many were accepted (0 when the
   * buffer is full; throws nothing). Refused (0) after `close()` and in the closing states.
   * When less than offered is taken, 'writable' follows once space frees.
   */
  send(now: Instant, data: Uint8Array): number {
    const tcb = this.#tcb;
    switch (tcb.state) {
      case 'SYN-SENT': case 'SYN-RECEIVED': case 'ESTABLISHED': case 'CLOSE-WAIT':
        break;
      default:
        return 0;
    }
    if (tcb.finSeq !== undefined || data.length === 0) return 0;
    const accepted = tcb.sendBuffer.enqueue(data);
    if (accepted < data.length) tcb.sendBlocked = true;
    updateSenderTimers(tcb, now);
    this.#onApplicationCall();
    return accepted;
  }

  /** In-order received bytes (a copy), at most `max`; undefined if none. May queue a window update. */
  recv(now: Instant, max?: number): Uint8Array | undefined {
    const data = readReceived(this.#tcb, max, now);
    updateSenderTimers(this.#tcb, now);
    if (data !== undefined) this.#onApplicationCall();
    return data;
  }

  /**
   * RFC 9293 3.10.4 CLOSE: FIN after the queued data (half-close: we may still receive).
   * SYN-SENT: "Delete the TCB". ESTABLISHED: "Queue this until all preceding SENDs have been
   * segmentized, then form a FIN segment and send it. In any case, enter FIN-WAIT-1 state."
   * SYN-RECEIVED: the same at once (the diagram's SYN-RECEIVED -> FIN-WAIT-1); like data, the
   * FIN waits until our SYN is acknowledged. CLOSE-WAIT: the FIN after the queued data, state
   * LAST-ACK. Elsewhere the connection is already closing: nothing to do.
   */
  close(now: Instant): void {
    const tcb = this.#tcb;
    switch (tcb.state) {
      case 'SYN-SENT':
        tcb.enterClosed();
        break;
      case 'SYN-RECEIVED': case 'ESTABLISHED':
        tcb.finSeq = seqAdd(tcb.sendBufferSeq, tcb.sendBuffer.length);
        tcb.state = 'FIN-WAIT-1';
        break;
      case 'CLOSE-WAIT':
        tcb.finSeq = seqAdd(tcb.sendBufferSeq, tcb.sendBuffer.length);
        tcb.state = 'LAST-ACK';
        break;
      default:
        return;
    }
    updateSenderTimers(tcb, now);
    this.#onApplicationCall();
  }

  /**
   * RFC 9293 3.10.5 ABORT. "SYN-RECEIVED STATE, ESTABLISHED STATE, FIN-WAIT-1 STATE, FIN-WAIT-2
   * STATE, CLOSE-WAIT STATE: Send a reset segment: <SEQ=SND.NXT><CTL=RST>". In SYN-SENT,
   * CLOSING, LAST-ACK and TIME-WAIT the TCB is just deleted. State CLOSED; 'closed' follows (no
   * 'error': the owner asked).
   */
  abort(now: Instant): void {
    const tcb = this.#tcb;
    switch (tcb.state) {
      case 'CLOSED':
        return;
      case 'SYN-RECEIVED': case 'ESTABLISHED': case 'FIN-WAIT-1': case 'FIN-WAIT-2': case 'CLOSE-WAIT':
        // SND.MAX: what the peer may have received (SND.NXT may have gone back after a timeout).
        tcb.queueReset(tcb.sndMax);
        break;
      default:
        break;
    }
    tcb.enterClosed();
    tcb.receiveBuffer.clear();
    updateSenderTimers(tcb, now);
    this.#onApplicationCall();
  }

  /**
   * Hands TIME-WAIT over to a compact record, as Linux does with its `tcp_timewait_sock`: the
   * returned {@link TimeWait} answers the peer for the rest of the 2 MSL exactly as this
   * connection would, in a few hundred bytes instead of a whole TCB. Only when nothing is left
   * for the owner: TIME-WAIT, no unread bytes, no event not yet polled, nothing to send.
   * Otherwise returns undefined and changes nothing. The connection itself is then over: it is
   * CLOSED, its buffers are released, and 'closed' follows.
   */
  retire(): TimeWait | undefined {
    const tcb = this.#tcb;
    if (tcb.state !== 'TIME-WAIT' || tcb.receiveBuffer.length > 0 || tcb.events.length > 0
        || tcb.ackNow || tcb.replies.length > 0 || tcb.ackPoints.length > 0 || tcb.dupAcksOwed > 0) return undefined;
    const record = new TimeWait(tcb);
    tcb.enterClosed();
    return record;
  }

  /** Nagle's algorithm off (true) or on (false) (RFC 9293 3.7.4). */
  setNoDelay(noDelay: boolean): void {
    this.#tcb.nagle = !noDelay;
    this.#onApplicationCall();
  }

  /**
   * Keepalive on or off (RFC 1122 4.2.3.6), with an optional idle time before the first probe.
   * The timer is armed at the next call that carries `now` (normally the `pollTransmit` that
   * follows any application call).
   */
  setKeepAlive(enabled: boolean, idle?: Duration): void {
    const tcb = this.#tcb;
    tcb.keepalive = { ...tcb.keepalive, enabled, idle: idle !== undefined && idle > 0 ? idle : tcb.keepalive.idle };
    tcb.timers.clear('keepalive');
    tcb.keepaliveProbes = 0;
    this.#onApplicationCall();
  }

  /**
   * The congestion-control algorithm from now on ('cubic' or 'newreno'; l4's analogue of
   * Linux's TCP_CONGESTION socket option). The new controller takes over cwnd and ssthresh
   * (see `Tcb.setCongestionAlgorithm`); before the handshake completes it is simply the one the
   * connection starts with. Returns false, changing nothing, for a name that is not an
   * algorithm l4 has. Never throws.
   */
  setCongestionControl(algorithm: string): boolean {
    const changed = this.#tcb.setCongestionAlgorithm(algorithm);
    if (changed) this.#onApplicationCall();
    return changed;
  }

  /** Free bytes in the send buffer. */
  get sendBufferFree(): number {
    const tcb = this.#tcb;
    return tcb.finSeq !== undefined || tcb.state === 'CLOSED' ? 0 : tcb.sendBuffer.free;
  }

  /** Bytes ready to read. */
  get receiveAvailable(): number {
    return this.#tcb.receiveBuffer.length;
  }

  /** Segments retransmitted so far (`info().retransmissions`, without building the whole record). */
  get retransmissions(): number {
    return this.#tcb.counters.retransmissions;
  }

  /** Everything observable about the connection now. */
  info(): TcpConnectionInfo {
    const tcb = this.#tcb;
    return {
      state: tcb.state,
      local: copyEndpoint(tcb.local),
      remote: copyEndpoint(tcb.remote),
      sendQueue: tcb.sendBuffer.length,
      receiveQueue: tcb.receiveBuffer.length,
      srtt: tcb.rtt.srtt,
      rttvar: tcb.rtt.rttvar,
      rto: tcb.rtt.rto,
      // In SACK-based fast recovery PRR, not the controller's window, says what may be in
      // flight: pipe plus what this ACK lets go (Linux reports cwnd the same way).
      cwnd: tcb.sackPermitted && tcb.congestion.inRecovery ? tcb.pipe + Math.max(0, tcb.recoveryBudget) : tcb.congestion.window,
      ssthresh: tcb.congestion.ssthresh,
      congestionControl: tcb.congestion.algorithm,
      mss: tcb.sendMss,
      sendWindow: tcb.sndWnd,
      receiveWindow: tcb.rcvWnd,
      retransmissions: tcb.counters.retransmissions,
      bytesSent: tcb.counters.bytesSent,
      bytesReceived: tcb.counters.bytesReceived,
      segmentsSent: tcb.counters.segmentsSent,
      segmentsReceived: tcb.counters.segmentsReceived,
      windowScaling: { send: tcb.sndWindShift, receive: tcb.rcvWindShift },
      timestamps: tcb.tsEnabled,
      sackPermitted: tcb.sackPermitted,
      lossRecovery: tcb.congestion.inRecovery ? 'fast-recovery' : tcb.rtoRecovery ? 'rto-recovery' : 'open',
      sackedBytes: tcb.scoreboard.sackedBytes,
      lostBytes: tcb.scoreboard.lostBytes,
      pipe: tcb.pipe,
      retransmitTimeouts: tcb.counters.retransmitTimeouts,
      fastRecoveries: tcb.counters.fastRecoveries,
      tailLossProbes: tcb.counters.tlpProbes,
      tailLossRecoveries: tcb.counters.tlpRecoveries,
    };
  }

  /** The armed timers and their deadlines, in the order they run (for tests and tracing). */
  timers(): Array<[TimerKind, Instant]> {
    return this.#tcb.timers.entries();
  }
}

function noop(): void {}
