/**
 * A host: the node that owns interfaces, addresses and routes, and the TCP socket table; it
 * validates and demultiplexes every IP packet it is handed, runs listeners, allocates ports,
 * chooses initial sequence numbers, wraps its connections' segments into IP datagrams, and
 * counts everything (`stats`, `sockets()`: its `netstat -s` and `netstat -an`).
 *
 * Call order (the `NetworkNode` contract of node.ts, plus events): a driver calls
 * `handle(now, packet, iface)` for each packet that arrived, `handleTimeout(now)` once `now`
 * reaches `pollTimeout()`, then `pollTransmit(now)` until it returns undefined, then
 * `pollTimeout()` to learn when to wake the host next. After each of those steps the owner of
 * the sockets (the API layer) drains `pollEvent()`. Application calls on a connection (`send`,
 * `recv`, `close`, `abort`, `setNoDelay`, `setKeepAlive`) are seen by the host as they happen,
 * so the driver only has to run `pollTransmit` and `pollTimeout` again after them.
 *
 * Input, in order: IP version, IPv4 header checksum or IPv6 chain, destination one of ours
 * ('not-for-us'), a source that is one of ours on a packet that did not come from ourselves
 * (a martian, 'bad-source-address': Linux drops those too), fragments ('fragment': no reassembly yet), the protocol (TCP; ICMP echo is
 * answered; UDP and other ICMP are issue 4: 'unhandled-protocol'; the rest
 * 'unknown-protocol'), then TCP with its checksum, then the socket table: the connection with
 * that exact socket pair, else a listener on (address, port), else one on the wildcard of the
 * family, else the reset of RFC 9293 3.10.7.1. Malformed input is dropped and counted under
 * its `WireReason`; no input makes `handle` throw.
 *
 * Output: control packets (resets, echo replies) first, then the connections that may have
 * something to send, round-robin, one segment per turn. A host keeps a queue of those
 * connections (marked on every segment, timer or application call) instead of asking every
 * connection each time. Packets to one of the host's own addresses are looped back: queued
 * and handled within the same `pollTransmit` call (or the next `handleTimeout`), never shown
 * to the driver. Timers of all connections sit in one min-heap (`DeadlineHeap`).
 */
import type { Instant } from '../time/instant.js';
import { earliest } from '../time/instant.js';
import { Rng } from '../time/rng.js';
import { formatIp } from '../wire/address.js';
import { parseIcmpv4 } from '../wire/icmpv4.js';
import { parseIcmpv6 } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6.js';
import { TcpFlags, parseTcp } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { DeadlineHeap } from './deadlines.js';
import { socketPairKey } from './endpoint.js';
import type { Endpoint } from './endpoint.js';
import { Fifo } from './fifo.js';
import {
  DEFAULT_MTU, InterfaceTable, isMulticastOrBroadcast, isUnspecified,
} from './interfaces.js';
import type { InterfaceConfig, NetworkInterface, Route, RouteConfig, RouteResult } from './interfaces.js';
import { icmpv4EchoReply, icmpv6EchoReply, resetFor, tcpDatagram } from './packets.js';
import { DEFAULT_EPHEMERAL_PORTS, EphemeralPortAllocator } from './ports.js';
import type { PortRange } from './ports.js';
import { IsnGenerator } from './isn.js';
import { SocketTable } from './socket-table.js';
import type { ConnectionEntry } from './socket-table.js';
import { copyHostStats, countDrop, createHostStats } from './stats.js';
import type { DropReason, HostStats } from './stats.js';
import type { NetworkNode, Transmit } from './node.js';
import { TcpConnection } from './tcp/connection.js';
import { DEFAULT_BACKLOG, TcpListener, listenAction } from './tcp/listener.js';
import type { TcpListenerInfo, TcpListenerOwner } from './tcp/listener.js';
import { TCP_DEFAULTS } from './tcp/types.js';
import type { TcpConfig, TcpConnectionInfo, TcpEvent } from './tcp/types.js';

/** How a host is made. Invalid values throw RangeError at construction. */
export interface HostConfig {
  /** A name for logs, tools and error messages. */
  readonly name: string;
  /** Seed of every random choice the host makes (ISN key, port-selection key). */
  readonly seed: number;
  readonly interfaces: readonly InterfaceConfig[];
  /** Routes besides the connected ones, typically a default route `{ destination: '0.0.0.0/0', gateway, iface }`. */
  readonly routes?: readonly RouteConfig[];
  /** May bind ports below 1024 (default false: EACCES, like an unprivileged process). */
  readonly privileged?: boolean;
  /** The ephemeral port range; default 49152-65535 (RFC 6335). */
  readonly ephemeralPorts?: PortRange;
  /** TCP settings for every connection of the host, over `TCP_DEFAULTS`. */
  readonly tcp?: Partial<TcpConfig>;
  /** Add the implicit `lo` interface with 127.0.0.1/8 and ::1/128 (default true). */
  readonly loopback?: boolean;
}

/** What the host tells the owner of its sockets; drained with `pollEvent()`. */
export type HostEvent =
  /** An event of a connection the application knows (an active open, or an accepted one). */
  | { readonly type: 'connection'; readonly connection: TcpConnection; readonly event: TcpEvent }
  /** A connection reached ESTABLISHED and waits in this listener's accept queue. */
  | { readonly type: 'incoming'; readonly listener: TcpListener };

/** Arguments of `tcpListen`. */
export interface TcpListenOptions {
  /** The local address; undefined listens on every address of both families (dual stack, shown as `::`). */
  readonly address?: Uint8Array;
  /** 0 picks an unused port from the ephemeral range. */
  readonly port: number;
  /** Default 511. */
  readonly backlog?: number;
  /** Let a wildcard and a specific-address listener share the port (both must ask). */
  readonly reuseAddress?: boolean;
}

/** Why `tcpListen` failed: EADDRINUSE, EACCES, EADDRNOTAVAIL. */
export type TcpListenError = 'address-in-use' | 'access-denied' | 'address-not-available';

/** Result of `tcpListen`. */
export type TcpListenResult = { readonly ok: true; readonly listener: TcpListener } | { readonly ok: false; readonly error: TcpListenError };

/** Arguments of `tcpConnect`. */
export interface TcpConnectOptions {
  readonly remote: Endpoint;
  /** A local address and/or port to use; by default the route's source address and an ephemeral port. */
  readonly local?: Partial<Endpoint>;
}

/** Why `tcpConnect` failed: ENETUNREACH, EADDRNOTAVAIL, EADDRINUSE, EACCES. */
export type TcpConnectError = 'no-route' | 'address-not-available' | 'address-in-use' | 'access-denied';

/** Result of `tcpConnect`. */
export type TcpConnectResult = { readonly ok: true; readonly connection: TcpConnection } | { readonly ok: false; readonly error: TcpConnectError };

/** A connection as `sockets()` shows it. */
export interface TcpConnectionSocketInfo extends TcpConnectionInfo {
  readonly kind: 'connection';
  /** The interface its packets leave by. */
  readonly iface: string;
  /** Still waiting in a listener's queue (not yet accepted by the application). */
  readonly unaccepted: boolean;
}

/** One row of the socket table. */
export type SocketInfo = TcpListenerInfo | TcpConnectionSocketInfo;

/** Looped-back packets handled per `pollTransmit` or `handleTimeout` call, at most (the rest wait for the next call). */
export const LOOPBACK_BUDGET = 10_000;
/** Control packets (resets, echo replies) waiting to be sent, at most; more are dropped and counted. */
export const MAX_PENDING_REPLIES = 4096;

/** IPv4 header plus TCP header without options: what the MSS leaves out of the MTU (RFC 9293 3.7.1). */
const TCP_IPV4_OVERHEAD = 40;
/** IPv6 header plus TCP header without options. */
const TCP_IPV6_OVERHEAD = 60;

/** A packet ready to leave, and whether it stays in the host. */
interface Outgoing extends Transmit {
  readonly loopback: boolean;
}

/** The MSS to advertise on an interface of this MTU (RFC 9293 3.7.1, RFC 8200 for IPv6). */
export function mssForMtu(mtu: number, family: 4 | 16): number {
  return mtu - (family === 4 ? TCP_IPV4_OVERHEAD : TCP_IPV6_OVERHEAD);
}

/** Runs `make`, prefixing the message of a RangeError it throws with the host's name. */
function named<T>(host: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`host '${host}': ${error.message}`, { cause: error });
    throw error;
  }
}

/** A network node with interfaces, routes, and a TCP socket table. */
export class Host implements NetworkNode, TcpListenerOwner {
  readonly name: string;
  readonly privileged: boolean;
  /** The TCP configuration of every connection of this host. */
  readonly tcpConfig: TcpConfig;
  readonly #ifaces: InterfaceTable;
  readonly #table = new SocketTable();
  readonly #ports: EphemeralPortAllocator;
  readonly #isn: IsnGenerator;
  /** For choices that need no key: where a listener on port 0 starts looking. */
  readonly #rng: Rng;
  readonly #stats = createHostStats();
  readonly #timers = new DeadlineHeap<ConnectionEntry>();
  /** Connections that may have a segment to send, in round-robin order. */
  readonly #ready = new Fifo<ConnectionEntry>();
  /** Resets and echo replies, already built. */
  readonly #replies = new Fifo<Outgoing>();
  /** Packets to ourselves, waiting to be handled. */
  readonly #loopback = new Fifo<Transmit>();
  readonly #events = new Fifo<HostEvent>();
  /** The latest instant any call brought. */
  #now: Instant = 0;
  /** IPv4 identification of the next datagram. */
  #ipId = 0;
  /** Retransmissions of connections that have left the table. */
  #retransmissionsOfClosed = 0;

  constructor(config: HostConfig) {
    if (typeof config !== 'object' || config === null) throw new RangeError('a host needs a configuration object');
    if (typeof config.name !== 'string' || config.name === '') throw new RangeError('a host needs a non-empty name');
    if (typeof config.seed !== 'number' || !Number.isInteger(config.seed)) {
      throw new RangeError(`host '${config.name}': seed ${String(config.seed)} is not an integer`);
    }
    this.name = config.name;
    this.privileged = config.privileged ?? false;
    this.#ifaces = named(config.name, () => new InterfaceTable(config.interfaces, config.routes ?? [], { loopback: config.loopback ?? true }));
    this.tcpConfig = { ...TCP_DEFAULTS, ...config.tcp };
    const rng = new Rng(config.seed);
    // The order of these draws is part of what a seed means: keep it.
    this.#isn = new IsnGenerator(rng.fill(new Uint8Array(16)));
    const portKey = rng.fill(new Uint8Array(16));
    this.#ports = named(config.name, () => new EphemeralPortAllocator(config.ephemeralPorts ?? DEFAULT_EPHEMERAL_PORTS, portKey));
    this.#rng = rng.fork();
  }

  // --- configuration, observability -------------------------------------------------

  /** The interfaces, the implicit loopback included. */
  interfaces(): readonly NetworkInterface[] {
    return this.#ifaces.interfaces();
  }

  /** The route table: connected routes first, then configured ones. */
  routes(): readonly Route[] {
    return this.#ifaces.routes();
  }

  /** Where a packet to `dst` would go: interface, source address, next hop; undefined without a route. */
  route(dst: Uint8Array): RouteResult | undefined {
    return this.#ifaces.route(dst);
  }

  /** True when `address` is one of the host's. */
  isLocalAddress(address: Uint8Array): boolean {
    return this.#ifaces.isLocal(address);
  }

  /** The ephemeral port range. */
  get ephemeralPorts(): PortRange {
    return this.#ports.range;
  }

  /** A snapshot of the counters (a fresh plain object each time). */
  get stats(): HostStats {
    let established = 0;
    let retransmissions = this.#retransmissionsOfClosed;
    for (const entry of this.#table.connections()) {
      const state = entry.connection.state;
      if (state === 'ESTABLISHED' || state === 'CLOSE-WAIT') established++;
      retransmissions += entry.connection.info().retransmissions;
    }
    this.#stats.tcp.established = established;
    this.#stats.tcp.retransmissions = retransmissions;
    return copyHostStats(this.#stats);
  }

  /** The socket table: listeners, then connections in the order they were made. */
  sockets(): SocketInfo[] {
    const rows: SocketInfo[] = this.#table.listeners().map((l) => l.info());
    for (const entry of this.#table.connections()) {
      rows.push({ ...entry.connection.info(), kind: 'connection', iface: entry.iface, unaccepted: entry.listener !== undefined });
    }
    return rows;
  }

  /** The next event for the owner of the sockets, or undefined. */
  pollEvent(): HostEvent | undefined {
    return this.#events.shift();
  }

  // --- TCP: the application's side -----------------------------------------------------

  /**
   * Opens a listener (RFC 9293 3.10.1 OPEN, passive). Errors: 'access-denied' for a port below
   * 1024 without `privileged`; 'address-not-available' for an address that is not the host's;
   * 'address-in-use' when the binding conflicts with a listener (see socket-table.ts); also
   * 'address-in-use' when port 0 finds no unused port. A bad port or backlog is a RangeError.
   */
  tcpListen(options: TcpListenOptions): TcpListenResult {
    const { address, port } = options;
    const backlog = options.backlog ?? DEFAULT_BACKLOG;
    const reuseAddress = options.reuseAddress ?? false;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${String(port)} is not an integer in 0..65535`);
    if (!Number.isInteger(backlog) || backlog < 0) throw new RangeError(`backlog ${String(backlog)} is not a non-negative integer`);
    if (address !== undefined && address.length !== 4 && address.length !== 16) throw new RangeError('an address is 4 or 16 bytes');
    if (address !== undefined && !isUnspecified(address) && !this.#ifaces.isLocal(address)) return { ok: false, error: 'address-not-available' };
    if (port !== 0 && port < 1024 && !this.privileged) return { ok: false, error: 'access-denied' };
    let bound = port;
    if (bound === 0) {
      const picked = this.#ports.allocateUnused(this.#rng.nextU32(), (p) => this.#table.portUnused(p));
      if (picked === undefined) return { ok: false, error: 'address-in-use' };
      bound = picked;
    }
    if (this.#table.listenConflict(address, bound, reuseAddress)) return { ok: false, error: 'address-in-use' };
    const local: Endpoint = { address: address?.slice() ?? new Uint8Array(16), port: bound };
    const listener = new TcpListener(this, local, { backlog, dualStack: address === undefined, reuseAddress });
    this.#table.addListener(listener);
    return { ok: true, listener };
  }

  /**
   * Opens a connection (RFC 9293 3.10.1 OPEN, active): the route gives the interface and the
   * source address, RFC 6056 the port, RFC 6528 the ISN; the SYN is ready in `pollTransmit`.
   * Errors: 'no-route' (no route to the remote address, or it is not a unicast address);
   * 'address-not-available' for a local address that is not the host's or of the other
   * family, or when every ephemeral port is taken toward that remote end; 'address-in-use'
   * for a requested local port already used toward that remote end or held by a listener;
   * 'access-denied' for a requested port below 1024 without `privileged`. A bad remote
   * endpoint is a RangeError.
   */
  tcpConnect(now: Instant, options: TcpConnectOptions): TcpConnectResult {
    this.#see(now);
    const { remote } = options;
    if (remote.address.length !== 4 && remote.address.length !== 16) throw new RangeError('an address is 4 or 16 bytes');
    if (!Number.isInteger(remote.port) || remote.port < 1 || remote.port > 65535) {
      throw new RangeError(`remote port ${String(remote.port)} is not an integer in 1..65535`);
    }
    const requested = options.local ?? {};
    if (requested.port !== undefined && (!Number.isInteger(requested.port) || requested.port < 0 || requested.port > 65535)) {
      throw new RangeError(`local port ${String(requested.port)} is not an integer in 0..65535`);
    }
    if (isUnspecified(remote.address) || isMulticastOrBroadcast(remote.address)) return { ok: false, error: 'no-route' };
    const route = this.#ifaces.route(remote.address);
    if (route === undefined) return { ok: false, error: 'no-route' };

    let source = route.source;
    if (requested.address !== undefined && !isUnspecified(requested.address)) {
      if (requested.address.length !== remote.address.length || !this.#ifaces.isLocal(requested.address)) {
        return { ok: false, error: 'address-not-available' };
      }
      source = requested.address.slice();
    }
    const remoteCopy: Endpoint = { address: remote.address.slice(), port: remote.port };

    let port: number;
    if (requested.port !== undefined && requested.port !== 0) {
      port = requested.port;
      if (port < 1024 && !this.privileged) return { ok: false, error: 'access-denied' };
      if (this.#table.hasConnection({ address: source, port }, remoteCopy) || this.#table.portHeldByListener(source, port)) {
        return { ok: false, error: 'address-in-use' };
      }
    } else {
      const picked = this.#ports.allocate(source, remoteCopy, (p) =>
        !this.#table.portHasListener(p) && !this.#table.hasConnection({ address: source, port: p }, remoteCopy));
      if (picked === undefined) return { ok: false, error: 'address-not-available' };
      port = picked;
    }

    const local: Endpoint = { address: source, port };
    // The connection exists before its table entry: the hook finds the entry once registered.
    const slot: { entry?: ConnectionEntry } = {};
    const connection = TcpConnection.connect({
      config: this.tcpConfig, local, remote: remoteCopy, now,
      iss: this.#isn.isn(now, local, remoteCopy),
      mss: mssForMtu(route.mtu, remote.address.length === 4 ? 4 : 16),
      onApplicationCall: () => { if (slot.entry) this.#afterActivity(slot.entry); },
    });
    this.#stats.tcp.activeOpens++;
    slot.entry = this.#register(connection, route.iface, route.local, undefined);
    this.#afterActivity(slot.entry);
    return { ok: true, connection };
  }

  // --- TcpListenerOwner ----------------------------------------------------------------

  /** @internal Called by `TcpListener.close`. */
  closeListener(listener: TcpListener, now: Instant | undefined): void {
    this.#table.removeListener(listener);
    const at = now ?? this.#now;
    this.#see(at);
    // Linux resets the connections a closing listener still holds (inet_csk_listen_stop).
    for (const connection of listener.takeAll()) connection.abort(at);
  }

  /** @internal Called by `TcpListener.accept`. */
  connectionAccepted(_listener: TcpListener, connection: TcpConnection): void {
    const entry = this.#table.connection(connection.local, connection.remote);
    if (entry?.connection === connection) entry.listener = undefined;
  }

  // --- NetworkNode -------------------------------------------------------------------

  /** An IP datagram arrived on `iface`. Never throws on any input: bad packets are counted and dropped. */
  handle(now: Instant, packet: Uint8Array, iface: string): void {
    this.#see(now);
    this.#receive(now, packet, iface, false);
  }

  /** The next packet to send, or undefined. Packets to the host itself are handled here, not returned. */
  pollTransmit(now: Instant): Transmit | undefined {
    this.#see(now);
    let handled = 0;
    for (;;) {
      const out = this.#nextOutgoing(now);
      if (out !== undefined) {
        if (!out.loopback) return { iface: out.iface, packet: out.packet };
        this.#loopback.push({ iface: out.iface, packet: out.packet });
        continue;
      }
      if (this.#loopback.length === 0 || handled >= LOOPBACK_BUDGET) return undefined;
      const p = this.#loopback.shift()!;
      handled++;
      this.#receive(now, p.packet, p.iface, true);
    }
  }

  /** The earliest connection timer; the latest instant seen when looped-back packets are waiting. */
  pollTimeout(): Instant | undefined {
    return earliest(this.#timers.peek(), this.#loopback.length > 0 ? this.#now : undefined);
  }

  /** Runs the connection timers due at `now`, and handles waiting looped-back packets. */
  handleTimeout(now: Instant): void {
    this.#see(now);
    for (let i = 0; i < LOOPBACK_BUDGET && this.#loopback.length > 0; i++) {
      const p = this.#loopback.shift()!;
      this.#receive(now, p.packet, p.iface, true);
    }
    for (const entry of this.#timers.due(now)) {
      if (entry.removed) continue;
      entry.connection.handleTimeout(now);
      this.#afterActivity(entry);
    }
  }

  // --- input -------------------------------------------------------------------------

  #see(now: Instant): void {
    if (now > this.#now) this.#now = now;
  }

  #drop(reason: DropReason): void {
    countDrop(this.#stats, reason);
  }

  /** One IP datagram in, from the driver or `looped` back from ourselves. */
  #receive(now: Instant, packet: Uint8Array, iface: string, looped: boolean): void {
    this.#stats.ip.received++;
    const version = packet.length > 0 ? packet[0]! >>> 4 : 0;
    if (version === 4) {
      const parsed = parseIpv4(packet);
      if (!parsed.ok) return this.#drop(parsed.reason);
      const ip = parsed.value;
      if (!this.#ifaces.isLocal(ip.dst)) return this.#drop('not-for-us');
      if (!looped && this.#ifaces.isLocal(ip.src)) return this.#drop('bad-source-address');
      if (ip.moreFragments || ip.fragmentOffset !== 0) return this.#drop('fragment');
      this.#deliver(now, ip.protocol, ip.src, ip.dst, ip.payload, iface);
    } else if (version === 6) {
      const parsed = parseIpv6(packet);
      if (!parsed.ok) return this.#drop(parsed.reason);
      const ip = parsed.value;
      if (!this.#ifaces.isLocal(ip.dst)) return this.#drop('not-for-us');
      if (!looped && this.#ifaces.isLocal(ip.src)) return this.#drop('bad-source-address');
      // RFC 6946: an atomic fragment (offset 0, M clear) is processed as a whole packet.
      if (ip.fragment !== undefined && (ip.fragment.offset !== 0 || ip.fragment.moreFragments)) return this.#drop('fragment');
      this.#deliver(now, ip.upperProtocol, ip.src, ip.dst, ip.payload, iface);
    } else {
      this.#drop(packet.length === 0 ? 'truncated' : 'bad-version');
    }
  }

  /** An unfragmented datagram for us: hand it to its protocol. */
  #deliver(now: Instant, protocol: number, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string): void {
    switch (protocol) {
      case IpProtocol.Tcp:
        this.#stats.ip.delivered++;
        return this.#tcpInput(now, src, dst, payload, iface);
      case IpProtocol.Icmp:
        if (src.length !== 4) return this.#drop('unknown-protocol');
        this.#stats.ip.delivered++;
        return this.#icmpv4Input(src, dst, payload, iface);
      case IpProtocol.Icmpv6:
        if (src.length !== 16) return this.#drop('unknown-protocol');
        this.#stats.ip.delivered++;
        return this.#icmpv6Input(src, dst, payload, iface);
      case IpProtocol.Udp:
        return this.#drop('unhandled-protocol');
      default:
        return this.#drop('unknown-protocol');
    }
  }

  #tcpInput(now: Instant, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string): void {
    const parsed = parseTcp(payload, src, dst);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const seg = parsed.value;
    this.#stats.tcp.segmentsIn++;
    if (seg.flags & TcpFlags.RST) this.#stats.tcp.resetsReceived++;
    // RFC 9293 3.10.7.2 (and RFC 1122 4.2.3.10): a SYN from a broadcast or multicast address
    // must be ignored; no segment may come from those or from an unspecified address, and we
    // never answer one with a reset.
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    const local: Endpoint = { address: dst, port: seg.dstPort };
    const remote: Endpoint = { address: src, port: seg.srcPort };

    const entry = this.#table.connection(local, remote);
    if (entry !== undefined) {
      entry.connection.handleSegment(now, seg);
      this.#afterActivity(entry);
      return;
    }
    const listener = this.#table.findListener(dst, seg.dstPort);
    if (listener !== undefined) return this.#listenInput(now, listener, local, remote, seg, iface);
    // RFC 9293 3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist), then all data in
    // the incoming segment is discarded." resetFor says what, if anything, answers it.
    this.#drop('no-socket');
    this.#reset(local, remote, seg, iface);
  }

  /** A segment at a listener: RFC 9293 3.10.7.2. */
  #listenInput(now: Instant, listener: TcpListener, local: Endpoint, remote: Endpoint, seg: TcpRepr, iface: string): void {
    switch (listenAction(seg)) {
      case 'ignore':
      case 'drop':
        return this.#drop('listen-unexpected');
      case 'reset':
        this.#drop('listen-unexpected');
        return this.#reset(local, remote, seg, iface);
      case 'open':
        break;
    }
    if (!listener.hasRoom()) return this.#drop('listen-overflow');
    const route = this.#routeBack(remote.address, iface);
    // The connection exists before its table entry: the hook finds the entry once registered.
    const slot: { entry?: ConnectionEntry } = {};
    const connection = TcpConnection.accept({
      config: this.tcpConfig, local, remote, now,
      iss: this.#isn.isn(now, local, remote),
      mss: mssForMtu(route.mtu, remote.address.length === 4 ? 4 : 16),
      onApplicationCall: () => { if (slot.entry) this.#afterActivity(slot.entry); },
    }, seg);
    this.#stats.tcp.passiveOpens++;
    listener.adopt(connection);
    slot.entry = this.#register(connection, route.iface, route.loopback, listener);
    this.#afterActivity(slot.entry);
  }

  /** Answers `seg` with a reset if RFC 9293 3.10.7.1 says so. */
  #reset(local: Endpoint, remote: Endpoint, seg: TcpRepr, arrivedOn: string): void {
    const rst = resetFor(seg);
    if (rst === undefined) return; // "An incoming segment containing a RST is discarded."
    const route = this.#routeBack(remote.address, arrivedOn);
    this.#reply(route, tcpDatagram(local.address, remote.address, rst, this.#nextIpId()));
  }

  #icmpv4Input(src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string): void {
    const parsed = parseIcmpv4(payload);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const msg = parsed.value;
    if (msg.type !== 'echo-request') return this.#drop('unhandled-protocol');
    this.#stats.icmp.echoRequestsReceived++;
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    // RFC 792: "the source and destination addresses are simply reversed, the type code
    // changed to 0, and the checksum recomputed."
    if (this.#reply(this.#routeBack(src, iface), icmpv4EchoReply(dst, src, msg, this.#nextIpId()))) this.#stats.icmp.echoRepliesSent++;
  }

  #icmpv6Input(src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string): void {
    const parsed = parseIcmpv6(payload, src, dst);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const msg = parsed.value;
    if (msg.type !== 'echo-request') return this.#drop('unhandled-protocol');
    this.#stats.icmp.echoRequestsReceived++;
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    // RFC 4443 4.2: the reply carries the request's identifier, sequence number and data.
    if (this.#reply(this.#routeBack(src, iface), icmpv6EchoReply(dst, src, msg))) this.#stats.icmp.echoRepliesSent++;
  }

  /**
   * Where an answer to `remote` goes: by the route table, or else back out of the interface
   * the packet came in on (a host without a default route still answers its neighbours).
   */
  #routeBack(remote: Uint8Array, arrivedOn: string): { iface: string; mtu: number; loopback: boolean } {
    const route = this.#ifaces.route(remote);
    if (route !== undefined) return { iface: route.iface, mtu: route.mtu, loopback: route.local };
    return { iface: arrivedOn, mtu: this.#ifaces.get(arrivedOn)?.mtu ?? DEFAULT_MTU, loopback: false };
  }

  /** Queues a control packet; false when the queue is full (counted). */
  #reply(route: { iface: string; loopback: boolean }, packet: Uint8Array): boolean {
    if (this.#replies.length >= MAX_PENDING_REPLIES) {
      this.#drop('output-queue-full');
      return false;
    }
    this.#replies.push({ iface: route.iface, packet, loopback: route.loopback });
    return true;
  }

  #nextIpId(): number {
    const id = this.#ipId;
    this.#ipId = (this.#ipId + 1) & 0xffff;
    return id;
  }

  // --- connections: bookkeeping --------------------------------------------------------

  #register(connection: TcpConnection, iface: string, loopback: boolean, listener: TcpListener | undefined): ConnectionEntry {
    const entry: ConnectionEntry = {
      connection, key: socketPairKey(connection.local, connection.remote), iface, loopback, listener,
      connected: false, removed: false, ready: false, deadline: undefined, generation: 0,
    };
    this.#table.addConnection(entry);
    return entry;
  }

  /**
   * After anything that may have changed a connection (a segment, a timer, an application
   * call, a transmit): collect its events, re-file its timer, and queue it for output.
   */
  #afterActivity(entry: ConnectionEntry): void {
    this.#collectEvents(entry);
    if (!entry.removed) this.#timers.set(entry, entry.connection.pollTimeout());
    if (!entry.ready) {
      entry.ready = true;
      this.#ready.push(entry);
    }
  }

  #collectEvents(entry: ConnectionEntry): void {
    const connection = entry.connection;
    let event: TcpEvent | undefined;
    while ((event = connection.pollEvent()) !== undefined) {
      switch (event.type) {
        case 'connected':
          entry.connected = true;
          if (entry.listener !== undefined) {
            entry.listener.promote(connection);
            this.#events.push({ type: 'incoming', listener: entry.listener });
          }
          break;
        case 'error':
          if (!entry.connected) this.#stats.tcp.failedOpens++;
          break;
        case 'closed':
          this.#remove(entry);
          break;
        default:
          break;
      }
      // A connection still in its listener's queue has no owner yet: what it reports before
      // accept() is in its state and queues, where the owner finds it.
      if (entry.listener === undefined) this.#events.push({ type: 'connection', connection, event });
      else if (event.type === 'closed') entry.listener.forget(connection);
    }
    // Defensive: a connection in CLOSED leaves the table even if it said nothing.
    if (!entry.removed && connection.state === 'CLOSED') {
      this.#remove(entry);
      entry.listener?.forget(connection);
    }
  }

  /** Takes a closed connection out of the table (it stays queued for output until it has sent its last segment). */
  #remove(entry: ConnectionEntry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.#table.removeConnection(entry);
    this.#timers.set(entry, undefined);
    this.#retransmissionsOfClosed += entry.connection.info().retransmissions;
  }

  // --- output ------------------------------------------------------------------------

  /** The next packet to emit: control packets first, then one segment of the next ready connection. */
  #nextOutgoing(now: Instant): Outgoing | undefined {
    const reply = this.#replies.shift();
    if (reply !== undefined) {
      this.#countOut(reply.packet);
      return reply;
    }
    for (;;) {
      const entry = this.#ready.shift();
      if (entry === undefined) return undefined;
      const connection = entry.connection;
      const seg = connection.pollTransmit(now);
      if (seg === undefined) {
        entry.ready = false;
        this.#collectEvents(entry);
        if (!entry.removed) this.#timers.set(entry, connection.pollTimeout());
        continue;
      }
      // Round robin: one segment per turn, then to the back of the queue.
      this.#ready.push(entry);
      const packet = tcpDatagram(connection.local.address, connection.remote.address, seg, this.#nextIpId());
      this.#stats.ip.sent++;
      this.#stats.tcp.segmentsOut++;
      if (seg.flags & TcpFlags.RST) this.#stats.tcp.resetsSent++;
      this.#collectEvents(entry);
      if (!entry.removed) this.#timers.set(entry, connection.pollTimeout());
      return { iface: entry.iface, packet, loopback: entry.loopback };
    }
  }

  /** Counts a control packet on its way out. */
  #countOut(packet: Uint8Array): void {
    this.#stats.ip.sent++;
    const version = packet[0]! >>> 4;
    const protocol = version === 4 ? packet[9] : packet[6];
    if (protocol === IpProtocol.Tcp) {
      this.#stats.tcp.segmentsOut++;
      this.#stats.tcp.resetsSent++; // the only TCP control packet the host builds is a reset
    }
  }

  /** A short description for logs: `host a (eth0 10.0.0.1/24)`. */
  toString(): string {
    const ifaces = this.#ifaces.interfaces().filter((i) => !i.loopback)
      .map((i) => `${i.name} ${i.addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength}`).join(' ')}`);
    return `host ${this.name} (${ifaces.join(', ')})`;
  }
}
