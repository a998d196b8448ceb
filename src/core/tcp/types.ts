/**
 * The vocabulary of l4's TCP, shared by the connection, the host and the API: states named
 * as RFC 9293 3.3.2 spells them, configuration with its defaults, the events a connection
 * reports to its owner, the errors (small string unions, DESIGN.md "errors by layer"), and
 * the observable figures every connection exposes (netstat, the lab and the benchmarks read
 * these, never private fields).
 */
import type { Duration } from '../../time/instant.js';
import { millis, seconds } from '../../time/instant.js';
import type { Endpoint } from '../endpoint.js';

/** The eleven states of RFC 9293 3.3.2 (LISTEN belongs to listeners, the rest to connections). */
export type TcpState =
  | 'LISTEN' | 'SYN-SENT' | 'SYN-RECEIVED' | 'ESTABLISHED' | 'FIN-WAIT-1' | 'FIN-WAIT-2'
  | 'CLOSE-WAIT' | 'CLOSING' | 'LAST-ACK' | 'TIME-WAIT' | 'CLOSED';

/** Why a connection ended badly. */
export type TcpError =
  /** A RST answered our SYN (ECONNREFUSED), or an ICMP hard error during the handshake. */
  | 'refused'
  /** The peer reset an established connection (ECONNRESET). */
  | 'reset'
  /** Retransmissions or the user timeout ran out, or keepalive probes went unanswered (ETIMEDOUT). */
  | 'timed-out'
  /** The application aborted the connection (it sent RST). */
  | 'aborted';

/** What a connection tells its owner; drained with `pollEvent()`. */
export type TcpEvent =
  /** The handshake completed (SYN-SENT or SYN-RECEIVED -> ESTABLISHED). */
  | { readonly type: 'connected' }
  /** New in-order bytes can be read with `recv()`. */
  | { readonly type: 'readable' }
  /** Send-buffer space became free after the buffer had been full (backpressure 'drain'). */
  | { readonly type: 'writable' }
  /** The peer's FIN arrived and every byte before it has been queued for reading: end of stream. */
  | { readonly type: 'peer-closed' }
  /** The connection failed; it is now CLOSED. */
  | { readonly type: 'error'; readonly error: TcpError }
  /**
   * The connection reached CLOSED (after TIME-WAIT, LAST-ACK, an error or an abort, or when
   * its owner retired it in TIME-WAIT: `TcpConnection.retire`, which the host does as soon
   * as nothing is left to read); it can be forgotten.
   */
  | { readonly type: 'closed' };

/** Keepalive settings (RFC 1122 4.2.3.6: off by default, idle at least two hours by default). */
export interface KeepaliveConfig {
  readonly enabled: boolean;
  /** Idle time before the first probe. */
  readonly idle: Duration;
  /** Time between unanswered probes. */
  readonly interval: Duration;
  /** Unanswered probes after which the connection is dropped with 'timed-out'. */
  readonly count: number;
}

/**
 * The congestion-control algorithms l4 offers: CUBIC (RFC 9438), the default, and NewReno
 * (RFC 5681 + RFC 6582). Issue 6: "CUBIC as the default, NewReno selectable per host and per
 * socket" — per host with `TcpConfig.congestionControl`, per socket with
 * `TcpConnection.setCongestionControl`.
 */
export type CongestionAlgorithm = 'newreno' | 'cubic';

/** Every {@link CongestionAlgorithm}, for validating a name given as text. */
export const CONGESTION_ALGORITHMS: readonly CongestionAlgorithm[] = Object.freeze(['cubic', 'newreno']);

/** Per-connection configuration; every field has a default in {@link TCP_DEFAULTS}. */
export interface TcpConfig {
  /** Bytes the application may queue for sending. */
  readonly sendBufferSize: number;
  /** Bytes of receive buffer; the advertised window is what is free of it. */
  readonly receiveBufferSize: number;
  /** Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 3.4.2). */
  readonly msl: Duration;
  /** RTO before any RTT sample (RFC 6298 2.1: 1 s). */
  readonly initialRto: Duration;
  /** Lower bound of the RTO (RFC 6298 2.4: 1 s; Linux uses 200 ms). */
  readonly minRto: Duration;
  /** Upper bound of the RTO (RFC 6298 2.5: at least 60 s). */
  readonly maxRto: Duration;
  /** Retransmissions of one segment before the connection is dropped with 'timed-out'. */
  readonly maxRetransmissions: number;
  /** SYN (and SYN-ACK) retransmissions before giving up (Linux tcp_syn_retries: 6). */
  readonly maxSynRetransmissions: number;
  /** Abort after data has gone unacknowledged this long (RFC 9293 3.8.3 USER TIMEOUT; 0 = off). */
  readonly userTimeout: Duration;
  /** Longest an ACK may be delayed (RFC 9293 3.8.6.3 / RFC 1122: at most 500 ms; l4 allows at most 200 ms). */
  readonly delayedAck: Duration;
  /** Nagle's algorithm (RFC 9293 3.7.4); `setNoDelay(true)` turns it off. */
  readonly nagle: boolean;
  readonly keepalive: KeepaliveConfig;
  /** Bytes of out-of-order data held for reassembly (beyond it, segments are dropped and counted). */
  readonly outOfOrderLimit: number;
  /** The congestion controller of new connections. */
  readonly congestionControl: CongestionAlgorithm;
  /** HyStart++ (RFC 9406) in the initial slow start, with either algorithm. */
  readonly hystart: boolean;
  /**
   * Offer the Window Scale option (RFC 7323 2) on our SYN, and answer it on our SYN,ACK. Off,
   * the window is at most 65,535 bytes whatever the buffers (the 16-bit field of RFC 9293).
   */
  readonly windowScaling: boolean;
  /**
   * Offer the Timestamps option (RFC 7323 3) on our SYN, and answer it on our SYN,ACK: RTT
   * measurement from every ACK (RTTM, 4) and protection against wrapped sequence numbers
   * (PAWS, 5) once both SYNs carried it.
   */
  readonly timestamps: boolean;
  /**
   * Offer SACK-permitted (RFC 2018 2) on our SYN, and answer it on our SYN,ACK. Once both SYNs
   * carried it, our ACKs report held out-of-order data in SACK blocks (RFC 2018 4) and
   * duplicates in D-SACK blocks (RFC 2883), and the sender recovers from loss with the peer's
   * blocks (RACK-TLP, RFC 8985; RFC 6675 with PRR, RFC 6937). Without, NewReno (RFC 6582).
   */
  readonly sack: boolean;
  /**
   * Receive-buffer autotuning (dynamic right-sizing, as Linux's tcp_rcv_space_adjust): the
   * window offered starts at {@link AUTOTUNE_INITIAL_WINDOW} and grows, once a round trip, to
   * twice what the application read in the last one (plus headroom), up to
   * `receiveBufferSize`. A long fat path is filled without configuration, and a slow reader
   * never invites a peer to park 16 MiB in its buffer. Off: the whole buffer is offered.
   */
  readonly receiveBufferAutotuning: boolean;
  /**
   * Pace transmissions (as Linux's internal pacing): new data and resent lost segments leave
   * at twice cwnd per smoothed RTT in slow start and 1.2 times in congestion avoidance, in
   * bursts of at most a millisecond's worth, instead of back to back as ACKs arrive. A queue
   * shallower than the path's bandwidth-delay product then overflows later in slow start,
   * and bursts do not pile up at the bottleneck. Off: ACK clocking alone.
   */
  readonly pacing: boolean;
}

/** The window a connection with autotuning offers at first (Linux offers about 64 KiB). */
export const AUTOTUNE_INITIAL_WINDOW = 128 * 1024;

/**
 * l4's defaults. Tests and tools override fields with `{ ...TCP_DEFAULTS, ... }`.
 *
 * The buffers are sized for a long fat path: 16 MiB holds the bandwidth-delay product of
 * 1 Gbit/s over 100 ms (12.5 MB) with room to spare, so window scaling (shift 9) lets one
 * connection fill such a link; autotuning offers only as much of it as the application's
 * reading rate needs. The rings allocate memory only as bytes arrive
 * (`storage/ring-buffer.ts`), so an idle connection pays nothing for the size; a busy one
 * holds at most what its peer or its application has actually queued. The out-of-order
 * bound follows the receive buffer: out-of-order bytes live in the receive ring itself, so
 * the ring's capacity is their memory bound, and the assembler adds only its range list
 * (at most 4,096 ranges).
 */
export const TCP_DEFAULTS: TcpConfig = {
  sendBufferSize: 16 * 1024 * 1024,
  receiveBufferSize: 16 * 1024 * 1024,
  msl: seconds(30),
  initialRto: seconds(1),
  minRto: millis(200),
  maxRto: seconds(60),
  maxRetransmissions: 15,
  maxSynRetransmissions: 6,
  userTimeout: 0,
  delayedAck: millis(40),
  nagle: true,
  keepalive: { enabled: false, idle: seconds(7200), interval: seconds(75), count: 9 },
  outOfOrderLimit: 16 * 1024 * 1024,
  congestionControl: 'cubic',
  hystart: true,
  windowScaling: true,
  timestamps: true,
  sack: true,
  receiveBufferAutotuning: true,
  pacing: true,
};

/** The MSS assumed when the peer sends no MSS option (RFC 9293 3.7.1; RFC 8200 for IPv6: 1280 - 60). */
export const DEFAULT_MSS_IPV4 = 536;
export const DEFAULT_MSS_IPV6 = 1220;

/** Everything observable about one connection at one instant. */
export interface TcpConnectionInfo {
  readonly state: TcpState;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Bytes queued to send that the peer has not acknowledged (Send-Q). */
  readonly sendQueue: number;
  /** Bytes received in order and not yet read by the application (Recv-Q). */
  readonly receiveQueue: number;
  /** Smoothed RTT and its variation (RFC 6298), in µs; undefined before the first sample. */
  readonly srtt: Duration | undefined;
  readonly rttvar: Duration | undefined;
  /** Current retransmission timeout, in µs. */
  readonly rto: Duration;
  /**
   * Congestion window and slow-start threshold, in bytes. During SACK-based fast recovery
   * the window is PRR's: pipe plus what the last ACK lets go.
   */
  readonly cwnd: number;
  readonly ssthresh: number;
  /** The congestion-control algorithm in use. */
  readonly congestionControl: CongestionAlgorithm;
  /** The effective send MSS (peer's MSS option, bounded by our path). */
  readonly mss: number;
  /** Peer's advertised window (bytes). */
  readonly sendWindow: number;
  /** Window we advertise (bytes). */
  readonly receiveWindow: number;
  /** Segments retransmitted, all causes. */
  readonly retransmissions: number;
  /** Payload bytes sent (first transmissions only) and received in order. */
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Segments sent and received. */
  readonly segmentsSent: number;
  readonly segmentsReceived: number;
  /**
   * Window scaling (RFC 7323 2) as negotiated: `send` is Snd.Wind.Shift (the peer's shift,
   * applied to the windows it sends), `receive` is Rcv.Wind.Shift (ours, applied to the
   * windows we send). Both undefined when either SYN lacked the option (or before the
   * peer's SYN has been seen).
   */
  readonly windowScaling: { readonly send: number | undefined; readonly receive: number | undefined };
  /** True when both SYNs carried the Timestamps option (RFC 7323 3.2): RTTM and PAWS are on. */
  readonly timestamps: boolean;
  /**
   * True when both SYNs carried SACK-permitted (RFC 2018 2): our ACKs carry SACK and D-SACK
   * blocks, and loss recovery uses the peer's (RACK-TLP, RFC 6675 with PRR).
   */
  readonly sackPermitted: boolean;
  /**
   * Loss recovery now: 'open' (nothing deemed lost), 'fast-recovery' (RFC 5681 / RFC 6675) or
   * 'rto-recovery' (after a retransmission timeout, a SACK sender resending what is lost).
   */
  readonly lossRecovery: 'open' | 'fast-recovery' | 'rto-recovery';
  /** Bytes in flight the peer has selectively acknowledged, and bytes deemed lost (the scoreboard). */
  readonly sackedBytes: number;
  readonly lostBytes: number;
  /** RFC 6675's pipe: the bytes estimated to be in the network. */
  readonly pipe: number;
  /** Retransmission timeouts (after the handshake), fast recoveries entered, tail loss probes sent, and losses they repaired (RFC 8985 7). */
  readonly retransmitTimeouts: number;
  readonly fastRecoveries: number;
  readonly tailLossProbes: number;
  readonly tailLossRecoveries: number;
}
