/**
 * A UDP socket (RFC 768) as the sans-IO core sees it: a binding (local address and port), an
 * optional remote end (a "connected" socket), a few options, and the figures `sockets()`
 * shows. It holds no packets: what the application sends is built and queued by the host at
 * once, and what arrives is handed to the application as host events (`{ type: 'udp',
 * socket, event }`), in the same "host tells the owner" pattern as TCP.
 *
 * Contract: sockets are made by `Host.udpBind` and belong to that host; every call on a
 * socket goes to the host (the {@link UdpSocketOwner}), which answers at once, so the driver
 * only needs to run `pollTransmit` after an application call, as for TCP. Application
 * mistakes (a bad port, a TTL out of range) are RangeErrors; everything the network or the
 * socket table decides is a result value. Nothing here throws on network input.
 *
 * Errors and their errnos (Linux's, for the API): send — 'message-too-big' EMSGSIZE,
 * 'no-route' ENETUNREACH, 'broadcast-not-allowed' EACCES, 'destination-required'
 * EDESTADDRREQ, 'family-mismatch' EINVAL (EAFNOSUPPORT), 'no-buffer-space' ENOBUFS (the
 * socket's send buffer is full of datagrams not yet transmitted), 'closed' EBADF; socket
 * errors from ICMP (connected sockets only, as Linux without IP_RECVERR) — 'refused'
 * ECONNREFUSED and the other {@link UdpSocketError}s.
 */
import type { Instant } from '../../time/instant.js';
import type { Endpoint } from '../endpoint.js';
import type { IcmpErrorKind } from '../icmp/errors.js';
import { DEFAULT_TTL } from '../packets.js';

/** Linux's net.core.rmem_default and wmem_default: the default receive and send buffers. */
export const UDP_DEFAULT_BUFFER_SIZE = 212_992;
/**
 * Bytes a datagram costs in a buffer besides its data, as the kernel charges an skb's
 * bookkeeping (so a flood of empty datagrams fills the buffer too).
 */
export const UDP_DATAGRAM_OVERHEAD = 256;
/** Largest payload over IPv4: 65,535 - 20 (IPv4 header) - 8 (UDP header). */
export const UDP_MAX_PAYLOAD_IPV4 = 65_507;
/** Largest payload over IPv6: 65,535 (payload length) - 8 (UDP header). */
export const UDP_MAX_PAYLOAD_IPV6 = 65_527;

/** Why `send` failed (see the module doc for the errnos). */
export type UdpSendError =
  | 'message-too-big' | 'no-route' | 'broadcast-not-allowed' | 'destination-required' | 'family-mismatch'
  | 'no-buffer-space' | 'closed';

/** Result of `send`. */
export type UdpSendResult = { readonly ok: true } | { readonly ok: false; readonly error: UdpSendError };

/** Why `connect` failed: ENETUNREACH, EACCES, EINVAL, EBADF. */
export type UdpConnectError = 'no-route' | 'broadcast-not-allowed' | 'family-mismatch' | 'closed';

/** Result of `connect`. */
export type UdpConnectResult = { readonly ok: true } | { readonly ok: false; readonly error: UdpConnectError };

/**
 * An error an ICMP message reported for a connected socket: 'refused' for port unreachable
 * (ECONNREFUSED, as Linux), else the ICMP error kind ('net-unreachable' ENETUNREACH,
 * 'host-unreachable' and 'time-exceeded' EHOSTUNREACH, 'protocol-unreachable' ENOPROTOOPT,
 * 'admin-prohibited' EACCES, 'source-route-failed' EOPNOTSUPP, 'parameter-problem' EPROTO).
 * Packet too big is not reported: l4 fragments UDP itself and only lowers the path MTU.
 */
export type UdpSocketError = 'refused' | Exclude<IcmpErrorKind, 'port-unreachable' | 'packet-too-big'>;

/** What a socket tells its owner (inside a host event). */
export type UdpEvent =
  /** A datagram arrived: its data (a copy), who sent it, and the address it was sent to (ours, or a broadcast address). */
  | { readonly type: 'message'; readonly data: Uint8Array; readonly remote: Endpoint; readonly local: Endpoint }
  /** An ICMP error about a datagram this connected socket sent (to `remote`). */
  | { readonly type: 'error'; readonly error: UdpSocketError; readonly remote: Endpoint };

/** What `sockets()` shows for a UDP socket. */
export interface UdpSocketInfo {
  readonly kind: 'udp';
  /** As `ss` shows UDP sockets: 'UNCONN', or 'ESTAB' once connected. */
  readonly state: 'UNCONN' | 'ESTAB';
  /** The local address (all zeros for a wildcard; set to the route's source by `connect`) and port. */
  readonly local: Endpoint;
  /** The remote end of a connected socket. */
  readonly remote: Endpoint | undefined;
  /** Bound to no address at all: takes IPv4 and IPv6 (shown as `::`). */
  readonly dualStack: boolean;
  readonly broadcast: boolean;
  readonly reuseAddress: boolean;
  readonly ttl: number;
  /** Bytes of received datagrams not yet taken by the owner (Recv-Q), and of datagrams not yet transmitted (Send-Q). */
  readonly receiveQueue: number;
  readonly sendQueue: number;
  readonly receiveBufferSize: number;
  readonly sendBufferSize: number;
  readonly datagramsReceived: number;
  readonly datagramsSent: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Datagrams dropped because the receive buffer was full. */
  readonly receiveDrops: number;
}

/** What a socket needs of the host that owns it. */
export interface UdpSocketOwner {
  udpSend(socket: UdpSocket, now: Instant, payload: Uint8Array, remote: Endpoint | undefined): UdpSendResult;
  udpConnect(socket: UdpSocket, remote: Endpoint): UdpConnectResult;
  udpDisconnect(socket: UdpSocket): void;
  udpClose(socket: UdpSocket): void;
}

/** How a socket is made (by the host). */
export interface UdpSocketParams {
  /** The address as bound: undefined for the dual-stack wildcard. */
  readonly address: Uint8Array | undefined;
  readonly port: number;
  readonly reuseAddress: boolean;
  readonly broadcast: boolean;
  readonly receiveBufferSize: number;
  readonly sendBufferSize: number;
}

function checkBufferSize(size: number): number {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`buffer size ${String(size)} is not a positive integer`);
  return size;
}

function checkEndpoint(remote: Endpoint): void {
  if (remote === null || typeof remote !== 'object' || !(remote.address instanceof Uint8Array)) throw new RangeError('a remote endpoint is { address, port }');
  if (remote.address.length !== 4 && remote.address.length !== 16) throw new RangeError('an address is 4 or 16 bytes');
  if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 65535) throw new RangeError(`remote port ${String(remote.port)} is not an integer in 1..65535`);
}

/** A UDP socket, bound from birth (`Host.udpBind`). */
export class UdpSocket {
  /** The address given at bind (undefined: dual-stack wildcard); `connect` may fix a wildcard for a while. */
  readonly boundAddress: Uint8Array | undefined;
  readonly port: number;
  readonly reuseAddress: boolean;
  readonly #owner: UdpSocketOwner;
  #local: Endpoint;
  #remote: Endpoint | undefined;
  #broadcast: boolean;
  #ttl = DEFAULT_TTL;
  #closed = false;
  #receiveBufferSize: number;
  #sendBufferSize: number;
  /** @internal Bytes (with overheads) of messages waiting in the host's event queue. */
  receiveQueued = 0;
  /** @internal Bytes of packets waiting in the host's output queue. */
  sendQueued = 0;
  /** @internal Counters the host keeps. */
  readonly counters = { datagramsReceived: 0, datagramsSent: 0, bytesReceived: 0, bytesSent: 0, receiveDrops: 0 };

  /** Made by the host (`Host.udpBind`). */
  constructor(owner: UdpSocketOwner, p: UdpSocketParams) {
    this.#owner = owner;
    this.boundAddress = p.address?.slice();
    this.port = p.port;
    this.reuseAddress = p.reuseAddress;
    this.#broadcast = p.broadcast;
    this.#receiveBufferSize = checkBufferSize(p.receiveBufferSize);
    this.#sendBufferSize = checkBufferSize(p.sendBufferSize);
    this.#local = { address: p.address?.slice() ?? new Uint8Array(16), port: p.port };
  }

  /** The local end: the bound address (zeros for a wildcard; the route's source once connected) and port. */
  get local(): Endpoint {
    return this.#local;
  }

  /** The remote end when connected. */
  get remote(): Endpoint | undefined {
    return this.#remote;
  }

  /** Bound to no address: takes both families. */
  get dualStack(): boolean {
    return this.boundAddress === undefined;
  }

  /** SO_BROADCAST: may send to, and receives datagrams sent to, a broadcast address. */
  get broadcast(): boolean {
    return this.#broadcast;
  }

  /** TTL / hop limit of the datagrams it sends. */
  get ttl(): number {
    return this.#ttl;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  get receiveBufferSize(): number {
    return this.#receiveBufferSize;
  }

  get sendBufferSize(): number {
    return this.#sendBufferSize;
  }

  /**
   * Sends one datagram to `remote`, or to the connected remote end when `remote` is omitted
   * (a remote given to a connected socket is used, as Linux's sendto does). The datagram is
   * built, fragmented if need be, and queued at once; `pollTransmit` hands it out.
   * RangeError for a malformed `remote` (port 0 included).
   */
  send(now: Instant, payload: Uint8Array, remote?: Endpoint): UdpSendResult {
    if (!(payload instanceof Uint8Array)) throw new RangeError('a datagram is a Uint8Array');
    if (remote !== undefined) checkEndpoint(remote);
    if (this.#closed) return { ok: false, error: 'closed' };
    return this.#owner.udpSend(this, now, payload, remote);
  }

  /**
   * Connects the socket (Linux's connect on a datagram socket): it then sends to `remote` by
   * default and receives only from it, and ICMP errors about what it sent are reported. A
   * wildcard binding takes the route's source address until `disconnect`. Connecting again
   * replaces the remote end.
   */
  connect(remote: Endpoint): UdpConnectResult {
    checkEndpoint(remote);
    if (this.#closed) return { ok: false, error: 'closed' };
    return this.#owner.udpConnect(this, remote);
  }

  /** Forgets the remote end; a wildcard binding is a wildcard again. Nothing happens on an unconnected or closed socket. */
  disconnect(): void {
    if (this.#closed || this.#remote === undefined) return;
    this.#owner.udpDisconnect(this);
  }

  /** SO_BROADCAST on or off. */
  setBroadcast(on: boolean): void {
    this.#broadcast = on;
  }

  /** TTL / hop limit of what it sends, 1..255 (RangeError otherwise, Node's EINVAL). */
  setTtl(ttl: number): void {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new RangeError(`TTL ${String(ttl)} is not an integer in 1..255`);
    this.#ttl = ttl;
  }

  /** SO_RCVBUF: bytes of received datagrams (with {@link UDP_DATAGRAM_OVERHEAD} each) held before more are dropped. */
  setReceiveBufferSize(size: number): void {
    this.#receiveBufferSize = checkBufferSize(size);
  }

  /** SO_SNDBUF: bytes of datagrams waiting for transmission before `send` answers 'no-buffer-space'. */
  setSendBufferSize(size: number): void {
    this.#sendBufferSize = checkBufferSize(size);
  }

  /** Unbinds the socket: the port is free at once; datagrams already queued still leave; events not yet taken are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner.udpClose(this);
  }

  /** The figures `sockets()` shows. */
  info(): UdpSocketInfo {
    return {
      kind: 'udp', state: this.#remote === undefined ? 'UNCONN' : 'ESTAB', local: this.#local, remote: this.#remote, dualStack: this.dualStack, broadcast: this.#broadcast,
      reuseAddress: this.reuseAddress, ttl: this.#ttl, receiveQueue: this.receiveQueued, sendQueue: this.sendQueued,
      receiveBufferSize: this.#receiveBufferSize, sendBufferSize: this.#sendBufferSize, ...this.counters,
    };
  }

  // --- for the host ------------------------------------------------------------------

  /** @internal The host connected the socket (with the local address it now uses). */
  setConnected(local: Endpoint, remote: Endpoint): void {
    this.#local = local;
    this.#remote = remote;
  }

  /** @internal The host disconnected the socket. */
  setDisconnected(): void {
    this.#remote = undefined;
    this.#local = { address: this.boundAddress?.slice() ?? new Uint8Array(16), port: this.port };
  }
}
