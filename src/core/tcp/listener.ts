/**
 * The LISTEN state (RFC 9293 3.10.7.2) as its own object: a listener is not a connection but a
 * place where SYNs become connections. It holds the connections it spawned until the
 * application takes them: those still in SYN-RECEIVED, and those that reached ESTABLISHED and
 * wait in the accept queue. Both count against the backlog (Linux counts them in two queues;
 * l4 keeps one simple bound, documented here): a SYN that finds `synReceived + pending` at the
 * backlog is dropped, and the peer's retransmission tries again later.
 *
 * Contract: the host creates listeners (`Host.tcpListen`), routes segments to them, creates
 * the child connections and tells the listener about them (`adopt`, `promote`, `forget`);
 * the application calls `accept()` and `close()`. A connection's events start to flow to the
 * application once it is accepted: what happened before (data, even the peer's FIN) is in its
 * state and queues. A connection that dies before it is accepted leaves the queue unseen.
 */
import type { Instant } from '../../time/instant.js';
import { TcpFlags } from '../../wire/tcp.js';
import type { TcpRepr } from '../../wire/tcp.js';
import type { Endpoint } from '../endpoint.js';
import type { TcpConnection } from './connection.js';

/** Node's default listen backlog (and Linux's historic SOMAXCONN bound on it was 128, now 4096). */
export const DEFAULT_BACKLOG = 511;

/** What a listener needs of the host that owns it. */
export interface TcpListenerOwner {
  /** Unbinds `listener` and resets every connection it still holds (at `now`, or the host's latest instant). */
  closeListener(listener: TcpListener, now: Instant | undefined): void;
  /** `connection` left the accept queue for the application: its events flow from now on. */
  connectionAccepted(listener: TcpListener, connection: TcpConnection): void;
}

/** What `sockets()` shows for a listener. */
export interface TcpListenerInfo {
  readonly kind: 'listener';
  readonly state: 'LISTEN';
  /** The bound address (all zeros for a wildcard) and port. */
  readonly local: Endpoint;
  /** True for the wildcard listener that takes both IPv4 and IPv6 (an unspecified address at `tcpListen`). */
  readonly dualStack: boolean;
  readonly backlog: number;
  /** Connections in the accept queue (ESTABLISHED, not yet accepted): the Recv-Q of `ss -l`. */
  readonly pending: number;
  /** Connections still in SYN-RECEIVED. */
  readonly synReceived: number;
}

/** What RFC 9293 3.10.7.2 says to do with a segment that reached a listener. */
export type ListenAction =
  /** "An incoming RST should be ignored." */
  | 'ignore'
  /** An ACK: "An acceptable reset segment should be formed for any arriving ACK-bearing segment." */
  | 'reset'
  /** A SYN: open a connection in SYN-RECEIVED. */
  | 'open'
  /** "Any other control or text-bearing segment (not containing SYN) must have an ACK and thus would be discarded". */
  | 'drop';

/** The checks of RFC 9293 3.10.7.2, in the RFC's order. */
export function listenAction(seg: Pick<TcpRepr, 'flags'>): ListenAction {
  // "First, check for a RST: An incoming RST should be ignored. Return."
  if (seg.flags & TcpFlags.RST) return 'ignore';
  // "Second, check for an ACK: Any acknowledgment is bad if it arrives on a connection still in
  // the LISTEN state. An acceptable reset segment should be formed for any arriving ACK-bearing
  // segment. The RST should be formatted as follows: <SEQ=SEG.ACK><CTL=RST>"
  if (seg.flags & TcpFlags.ACK) return 'reset';
  // "Third, check for a SYN: If the SYN bit is set, check the security. [...] Set RCV.NXT to
  // SEG.SEQ+1, IRS is set to SEG.SEQ, and any other control or text should be queued for
  // processing later. ISS should be selected and a SYN segment sent of the form:
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>" (TcpConnection.accept does that).
  if (seg.flags & TcpFlags.SYN) return 'open';
  // "Fourth, other data or control: [...] drop the segment and return."
  return 'drop';
}

/** A socket in LISTEN. */
export class TcpListener {
  /** The bound address (all zeros for a wildcard; 16 zero bytes for the dual-stack one) and port. */
  readonly local: Endpoint;
  /** True when it takes connections of both families (bound to no address at all). */
  readonly dualStack: boolean;
  /** Bound on SYN-RECEIVED plus not-yet-accepted connections (at least 1, as Linux makes a backlog of 0). */
  readonly backlog: number;
  readonly reuseAddress: boolean;
  readonly #owner: TcpListenerOwner;
  /** ESTABLISHED connections waiting for accept(), oldest first. */
  readonly #acceptQueue = new Set<TcpConnection>();
  readonly #synReceived = new Set<TcpConnection>();
  #closed = false;

  /** Made by the host (`Host.tcpListen`). */
  constructor(owner: TcpListenerOwner, local: Endpoint, options: { backlog: number; dualStack: boolean; reuseAddress: boolean }) {
    this.#owner = owner;
    this.local = local;
    this.dualStack = options.dualStack;
    this.backlog = Math.max(1, options.backlog);
    this.reuseAddress = options.reuseAddress;
  }

  /** Connections ready to accept. */
  get pending(): number {
    return this.#acceptQueue.size;
  }

  /** Connections still completing their handshake. */
  get synReceived(): number {
    return this.#synReceived.size;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The oldest established connection not yet accepted, or undefined. */
  accept(): TcpConnection | undefined {
    for (const connection of this.#acceptQueue) {
      this.#acceptQueue.delete(connection);
      this.#owner.connectionAccepted(this, connection);
      return connection;
    }
    return undefined;
  }

  /**
   * Stops listening: the port is free again at once, and the connections not yet accepted
   * (in SYN-RECEIVED or in the accept queue) are reset, as Linux does. Accepted connections
   * live on. `now` defaults to the latest instant the host has seen.
   */
  close(now?: Instant): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner.closeListener(this, now);
  }

  /** The figures `sockets()` shows. */
  info(): TcpListenerInfo {
    return {
      kind: 'listener', state: 'LISTEN', local: this.local, dualStack: this.dualStack, backlog: this.backlog,
      pending: this.#acceptQueue.size, synReceived: this.#synReceived.size,
    };
  }

  // --- for the host ------------------------------------------------------------------

  /** True when one more SYN may be taken (the backlog is not full). */
  hasRoom(): boolean {
    return !this.#closed && this.#synReceived.size + this.#acceptQueue.size < this.backlog;
  }

  /** The host opened `connection` from a SYN to this listener (it is in SYN-RECEIVED). */
  adopt(connection: TcpConnection): void {
    this.#synReceived.add(connection);
  }

  /** `connection` reached ESTABLISHED: it moves to the accept queue. */
  promote(connection: TcpConnection): void {
    this.#synReceived.delete(connection);
    this.#acceptQueue.add(connection);
  }

  /** `connection` died before it was accepted: it leaves whichever queue held it. */
  forget(connection: TcpConnection): void {
    this.#synReceived.delete(connection);
    this.#acceptQueue.delete(connection);
  }

  /** Empties both queues and returns what they held (for close). */
  takeAll(): TcpConnection[] {
    const all = [...this.#synReceived, ...this.#acceptQueue];
    this.#synReceived.clear();
    this.#acceptQueue.clear();
    return all;
  }
}
