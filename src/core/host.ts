/**
 * A host: the node that owns interfaces, addresses and routes, and the TCP and UDP socket
 * tables; it validates and demultiplexes every IP packet it is handed, reassembles
 * fragments, runs listeners, allocates ports, chooses initial sequence numbers, wraps its
 * sockets' data into IP datagrams (fragmenting UDP when needed), answers and routes ICMP,
 * and counts everything (`stats`, `sockets()`: its `netstat -s` and `netstat -an`).
 *
 * Call order (the `NetworkNode` contract of node.ts, plus events): a driver calls
 * `handle(now, packet, iface)` for each packet that arrived, `handleTimeout(now)` once `now`
 * reaches `pollTimeout()`, then `pollTransmit(now)` until it returns undefined, then
 * `pollTimeout()` to learn when to wake the host next. After each of those steps the owner of
 * the sockets (the API layer) drains `pollEvent()`. Application calls on a connection (`send`,
 * `recv`, `close`, `abort`, `setNoDelay`, `setKeepAlive`) or a UDP socket (`send`,
 * `connect`, `close`, ...) are seen by the host as they happen, so the driver only has to run
 * `pollTransmit` and `pollTimeout` again after them.
 *
 * Input, in order: IP version, IPv4 header checksum or IPv6 chain, destination one of ours
 * ('not-for-us'; an IPv4 broadcast address — 255.255.255.255 or a subnet's — is ours for UDP
 * only), a source that is one of ours on a packet that did not come from ourselves (a martian,
 * 'bad-source-address': Linux drops those too), fragments (held by the `Reassembler` until
 * their datagram is whole, which is then handled like any packet; IPv6 atomic fragments are
 * whole packets, RFC 6946), then the protocol: TCP (checksum, then the socket table: the
 * connection with that exact socket pair, else a listener on (address, port), else one on
 * the wildcard of the family, else the reset of RFC 9293 3.10.7.1); UDP (checksum, then the
 * UDP table, else ICMP port unreachable); ICMP (echo answered; errors matched to the socket
 * whose datagram they quote, see `#icmpErrorInput`); anything else 'unknown-protocol'.
 * Malformed input is dropped and counted under its reason; no input makes `handle` throw.
 * On an interface its driver declared trusted (`setInterfaceChecksums`, see interfaces.ts)
 * no checksum is verified on input, and the segments and datagrams of sockets go out without
 * them; everywhere else every checksum is computed and verified.
 *
 * Output: control packets (resets, echo replies, ICMP errors) first, then UDP datagrams in
 * the order they were sent, then the connections that may have something to send,
 * round-robin, one segment per turn. A host keeps a queue of those connections (marked on
 * every segment, timer or application call) instead of asking every connection each time.
 * Packets to one of the host's own addresses are looped back: queued and handled within the
 * same `pollTransmit` call (or the next `handleTimeout`), never shown to the driver. Timers
 * of all connections sit in one min-heap (`DeadlineHeap`); reassembly has its own deadlines.
 *
 * TIME-WAIT: once a connection in TIME-WAIT has nothing left for its application (no unread
 * bytes, nothing to send), the host retires it (`TcpConnection.retire`, which reports
 * 'closed') and keeps a compact `TimeWait` record for the rest of the 2 MSL, as Linux keeps a
 * `tcp_timewait_sock`: it answers the peer as the connection would, holds the socket pair,
 * and is listed by `sockets()`, at a few hundred bytes instead of a whole TCB. A server that
 * closes first holds one per connection it served in the last minute. A SYN that opens a
 * new incarnation of the pair (RFC 6191: a newer timestamp, or a sequence number beyond the
 * old one) ends the record at once and goes to the listener, with an ISS beyond the old
 * SND.NXT, as Linux does: a client that reuses its port is not made to wait out 2 MSL.
 *
 * ICMP errors the host sends (port unreachable, reassembly time exceeded) obey RFC 1122
 * 3.2.2 / RFC 4443 2.4(e) (`mayAnswerWithIcmpError`) and a host-wide token bucket of 1000
 * per second with a burst of 50 (Linux's icmp_msgs_per_sec and icmp_msgs_burst).
 */
import type { Instant } from '../time/instant.js';
import { earliest } from '../time/instant.js';
import { Rng } from '../time/rng.js';
import { formatIp, ipEquals, ipv4Number } from '../wire/address.js';
import { parseQuotedDatagram } from '../wire/icmp-quote.js';
import { Icmpv4TimeExceededCode, Icmpv4UnreachableCode, parseIcmpv4 } from '../wire/icmpv4.js';
import { Icmpv6TimeExceededCode, Icmpv6UnreachableCode, parseIcmpv6 } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { internetChecksum } from '../wire/checksum.js';
import { ipv4Fault, parseIpv4 } from '../wire/ipv4.js';
import { Ipv6Packet, parseIpv6 } from '../wire/ipv6.js';
import { TcpFlags, parseTcp } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import type { SeqNumber } from '../wire/seq.js';
import { parseUdp } from '../wire/udp.js';
import { DeadlineHeap } from './deadlines.js';
import type { Endpoint } from './endpoint.js';
import { Fifo } from './fifo.js';
import {
  DEFAULT_MTU, InterfaceTable, isMulticastOrBroadcast, isMulticastOrBroadcastIpv4, isUnspecified,
} from './interfaces.js';
import type { InterfaceChecksums, InterfaceConfig, NetworkInterface, Route, RouteConfig, RouteResult } from './interfaces.js';
import { icmpv4ErrorOf, icmpv6ErrorOf, mayAnswerWithIcmpError } from './icmp/errors.js';
import type { IcmpError } from './icmp/errors.js';
import { PathMtuCache, plateauBelow } from './icmp/pmtu.js';
import { TokenBucket } from './icmp/rate-limit.js';
import {
  icmpv4EchoReply, icmpv4ErrorDatagram, icmpv6EchoReply, icmpv6ErrorDatagram, resetFor, tcpDatagram, udpDatagrams,
} from './packets.js';
import { DEFAULT_EPHEMERAL_PORTS, EphemeralPortAllocator, isPrivilegedPort } from './ports.js';
import { REASSEMBLY_DEFAULTS, Reassembler } from './reassembly.js';
import type { ReassemblyLimits, ReassemblyResult } from './reassembly.js';
import type { PortRange } from './ports.js';
import { IsnGenerator } from './isn.js';
import { SocketTable } from './socket-table.js';
import { LevelEvent, type ConnectionEntry } from './socket-table.js';
import { copyHostStats, countDrop, createHostStats } from './stats.js';
import type { DropReason, HostStats, IcmpCountedType } from './stats.js';
import type { NetworkNode, Transmit } from './node.js';
import { TcpConnection } from './tcp/connection.js';
import type { TimeWait } from './tcp/time-wait.js';
import { DEFAULT_BACKLOG, TcpListener, listenAction } from './tcp/listener.js';
import type { TcpListenerInfo, TcpListenerOwner } from './tcp/listener.js';
import { TCP_DEFAULTS } from './tcp/types.js';
import type { TcpConfig, TcpConnectionInfo, TcpEvent } from './tcp/types.js';
import {
  UDP_DATAGRAM_OVERHEAD, UDP_DEFAULT_BUFFER_SIZE, UDP_MAX_PAYLOAD_IPV4, UDP_MAX_PAYLOAD_IPV6, UdpSocket,
} from './udp/socket.js';
import type { UdpConnectResult, UdpEvent, UdpSendResult, UdpSocketError, UdpSocketInfo, UdpSocketOwner } from './udp/socket.js';
import { UdpSocketTable } from './udp/table.js';

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
  /** Bounds and timeouts of IP reassembly, over `REASSEMBLY_DEFAULTS`. */
  readonly reassembly?: Partial<ReassemblyLimits>;
  /** ICMP errors the host may send per second, and the burst (default 1000 and 50, as Linux). */
  readonly icmpErrorRate?: { readonly perSecond: number; readonly burst: number };
}

/** What the host tells the owner of its sockets; drained with `pollEvent()`. */
export type HostEvent =
  /** An event of a connection the application knows (an active open, or an accepted one). */
  | { readonly type: 'connection'; readonly connection: TcpConnection; readonly event: TcpEvent }
  /** A connection reached ESTABLISHED and waits in this listener's accept queue. */
  | { readonly type: 'incoming'; readonly listener: TcpListener }
  /** A datagram or an error for a UDP socket. */
  | { readonly type: 'udp'; readonly socket: UdpSocket; readonly event: UdpEvent };

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
export type SocketInfo = TcpListenerInfo | TcpConnectionSocketInfo | UdpSocketInfo;

/** Arguments of `udpBind`. */
export interface UdpBindOptions {
  /**
   * The local address: one of the host's, a wildcard (0.0.0.0 takes IPv4 only, :: IPv6 only),
   * or undefined for every address of both families (dual stack, shown as `::`). A broadcast
   * address of the host's (255.255.255.255 or a subnet's) may be bound too.
   */
  readonly address?: Uint8Array;
  /** 0 picks a port no UDP socket uses from the ephemeral range. */
  readonly port: number;
  /** SO_REUSEADDR: share the port with other sockets that asked for it too. */
  readonly reuseAddress?: boolean;
  /** SO_BROADCAST (default false). */
  readonly broadcast?: boolean;
  /** SO_RCVBUF and SO_SNDBUF in bytes; default 212,992 each (Linux's rmem_default, wmem_default). */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
}

/** Why `udpBind` failed: EADDRINUSE, EACCES, EADDRNOTAVAIL. */
export type UdpBindError = 'address-in-use' | 'access-denied' | 'address-not-available';

/** Result of `udpBind`. */
export type UdpBindResult = { readonly ok: true; readonly socket: UdpSocket } | { readonly ok: false; readonly error: UdpBindError };

/**
 * Segmentation offload: the most payload a connection hands the host in one record, which the
 * host cuts into segments (Linux's GSO, whose largest is 64 KiB).
 */
export const SEGMENTATION_OFFLOAD_BYTES = 65536;

/** Looped-back packets handled per `pollTransmit` or `handleTimeout` call, at most (the rest wait for the next call). */
export const LOOPBACK_BUDGET = 10_000;
/** Control packets (resets, echo replies, ICMP errors) waiting to be sent, at most; more are dropped and counted. */
export const MAX_PENDING_REPLIES = 4096;

/** IPv4 and UDP headers: what a UDP payload adds to an IPv4 datagram. */
const UDP_IPV4_OVERHEAD = 28;

/** IPv4 header plus TCP header without options: what the MSS leaves out of the MTU (RFC 9293 3.7.1). */
const TCP_IPV4_OVERHEAD = 40;
/** IPv6 header plus TCP header without options. */
const TCP_IPV6_OVERHEAD = 60;

/** A packet ready to leave, and whether it stays in the host. */
interface Outgoing extends Transmit {
  readonly loopback: boolean;
}

/** A UDP packet (a datagram or one fragment of it) waiting to leave, charged to its socket. */
interface UdpOutgoing extends Outgoing {
  readonly socket: UdpSocket;
}

/** Where an outgoing packet goes. */
interface PathChoice {
  readonly iface: string;
  readonly source: Uint8Array;
  readonly mtu: number;
  readonly loopback: boolean;
}

/** A datagram for us, whole (never a fragment), as `#deliver` hands it to its protocol. */
interface Inbound {
  readonly protocol: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly payload: Uint8Array;
  /** The whole IP datagram (what an ICMP error quotes). */
  readonly packet: Uint8Array;
  readonly iface: string;
  /** The destination is an IPv4 broadcast address (UDP only). */
  readonly broadcast: boolean;
  /** It came in on a trusted interface: no checksum is verified (see interfaces.ts). */
  readonly trusted: boolean;
}

/** Parse options of a trusted interface (one object, not one per packet). */
const SKIP_CHECKSUM = { verifyChecksum: false } as const;

const ICMP_COUNTED: ReadonlySet<string> = new Set(['echo-request', 'echo-reply', 'destination-unreachable', 'packet-too-big', 'time-exceeded', 'parameter-problem']);

/** The counter an ICMP message of this parsed type goes under. */
function countedType(type: string): IcmpCountedType {
  return ICMP_COUNTED.has(type) ? type as IcmpCountedType : 'other';
}

/** The counter of a raw ICMPv4 (`family` 4) or ICMPv6 type number. */
function countedTypeNumber(family: 4 | 6, type: number): IcmpCountedType {
  if (family === 4) {
    switch (type) {
      case 0: return 'echo-reply';
      case 3: return 'destination-unreachable';
      case 8: return 'echo-request';
      case 11: return 'time-exceeded';
      case 12: return 'parameter-problem';
      default: return 'other';
    }
  }
  switch (type) {
    case 1: return 'destination-unreachable';
    case 2: return 'packet-too-big';
    case 3: return 'time-exceeded';
    case 4: return 'parameter-problem';
    case 128: return 'echo-request';
    case 129: return 'echo-reply';
    default: return 'other';
  }
}

/**
 * IPv4 addresses seen in packets, shared: every packet from a peer, and every connection with
 * it, holds the same 4-byte array instead of a copy of its own (two allocations a packet
 * saved, and about 200 bytes a connection). Bounded: when full it starts over (arrays already
 * handed out stay valid, only no longer shared). Nothing in l4 writes into an endpoint's
 * address, and what observers get (`info()`, `sockets()`) are copies.
 */
const ADDRESS_CACHE_LIMIT = 4096;

/** A copy of the IPv4 address at `packet[at, at + 4)`, made byte by byte (cheaper than `slice` for four bytes). */
function copyIpv4(packet: Uint8Array, at: number): Uint8Array {
  const a = new Uint8Array(4);
  a[0] = packet[at]!;
  a[1] = packet[at + 1]!;
  a[2] = packet[at + 2]!;
  a[3] = packet[at + 3]!;
  return a;
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

/** A network node with interfaces, routes, and TCP and UDP socket tables. */
export class Host implements NetworkNode, TcpListenerOwner, UdpSocketOwner {
  readonly name: string;
  readonly privileged: boolean;
  /** The TCP configuration of every connection of this host. */
  readonly tcpConfig: TcpConfig;
  readonly #ifaces: InterfaceTable;
  readonly #table: SocketTable;
  readonly #ports: EphemeralPortAllocator;
  readonly #isn: IsnGenerator;
  /** The keyed hash behind each connection's timestamp-clock offset (RFC 7323 5.4), keyed apart from the ISN's. */
  readonly #tsOffsets: IsnGenerator;
  /** For choices that need no key: where a listener on port 0 starts looking. */
  readonly #rng: Rng;
  readonly #stats = createHostStats();
  readonly #timers = new DeadlineHeap<ConnectionEntry>();
  /** The 2 MSL timers of the TIME-WAIT records. */
  readonly #timeWaitTimers = new DeadlineHeap<TimeWait>();
  /** Connections that may have a segment to send, in round-robin order. */
  readonly #ready = new Fifo<ConnectionEntry>();
  /** Resets and echo replies, already built. */
  readonly #replies = new Fifo<Outgoing>();
  /** The rest of an offloaded record cut into segments (`#cut`), sent before anything else. */
  readonly #offloaded = new Fifo<Outgoing>();
  /** Packets to ourselves, waiting to be handled. */
  readonly #loopback = new Fifo<Transmit>();
  readonly #events = new Fifo<HostEvent>();
  /** The latest instant any call brought. */
  #now: Instant = 0;
  /** IPv4 identification of the next datagram. */
  #ipId = 0;
  /** Retransmissions of connections that have left the table. */
  #retransmissionsOfClosed = 0;
  readonly #udp = new UdpSocketTable();
  readonly #udpPorts: EphemeralPortAllocator;
  /** Where a UDP socket on port 0 starts looking, and the IPv6 fragment identifications. */
  readonly #udpRng: Rng;
  /** Identification of the next IPv6 fragmented packet (RFC 8200 4.5: 32 bits). */
  #ipv6FragmentId: number;
  /** UDP datagrams (and fragments) waiting to leave, in send order. */
  readonly #udpOut = new Fifo<UdpOutgoing>();
  readonly #reassembly: Reassembler;
  readonly #ipv4Addresses = new Map<number, Uint8Array>();
  readonly #pmtu = new PathMtuCache();
  readonly #icmpErrors: TokenBucket;
  /** The IPv4 subnet broadcast addresses of the host's interfaces, as numbers (`ipv4Number`). */
  readonly #broadcasts = new Set<number>();
  /**
   * The interfaces whose checksums are skipped: a copy of the interface table's 'trusted'
   * marks, kept by `setInterfaceChecksums` (its only writer) so that every packet asks one Set,
   * and a host that trusts nothing asks nothing.
   */
  readonly #trusted = new Set<string>();

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
    // The socket table's bucket salt comes from those bytes, not from a draw of its own, so
    // that a seed keeps meaning the same ISNs, ports and timestamps.
    this.#table = new SocketTable(ipv4Number(portKey, 0) ^ ipv4Number(portKey, 12));
    this.#ports = named(config.name, () => new EphemeralPortAllocator(config.ephemeralPorts ?? DEFAULT_EPHEMERAL_PORTS, portKey));
    this.#rng = rng.fork();
    // Draws for UDP come after the TCP ones, so a seed still means the same TCP choices.
    this.#udpPorts = new EphemeralPortAllocator(this.#ports.range, rng.fill(new Uint8Array(16)));
    this.#udpRng = rng.fork();
    this.#ipv6FragmentId = this.#udpRng.nextU32();
    // Drawn last, so that a seed still means the same ISNs, ports and UDP choices as before.
    // RFC 7323 5.4: "a random offset ... [e.g.] TSval = Timestamp clock + F(localip,
    // localport, remoteip, remoteport, secretkey)": the ISN's function with its own key (one
    // key for both would let a peer learn the ISN's offset from the timestamps).
    this.#tsOffsets = new IsnGenerator(rng.fill(new Uint8Array(16)));
    this.#reassembly = new Reassembler({ ...REASSEMBLY_DEFAULTS, ...config.reassembly });
    this.#icmpErrors = named(config.name, () => new TokenBucket(config.icmpErrorRate?.perSecond, config.icmpErrorRate?.burst));
    for (const iface of this.#ifaces.interfaces()) {
      for (const a of iface.addresses) {
        if (a.address.length !== 4 || a.prefixLength > 30) continue;
        const b = a.address.slice();
        for (let bit = a.prefixLength; bit < 32; bit++) b[bit >>> 3]! |= 0x80 >>> (bit & 7);
        this.#broadcasts.add(ipv4Number(b));
      }
    }
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
      retransmissions += entry.connection.retransmissions;
    }
    this.#stats.tcp.established = established;
    this.#stats.tcp.retransmissions = retransmissions;
    return copyHostStats(this.#stats);
  }

  /** The socket table: listeners, then connections in the order they were made, then UDP sockets by port. */
  sockets(): SocketInfo[] {
    const rows: SocketInfo[] = this.#table.listeners().map((l) => l.info());
    for (const entry of this.#table.connections()) {
      rows.push({ ...entry.connection.info(), kind: 'connection', iface: entry.iface, unaccepted: entry.listener !== undefined });
    }
    for (const record of this.#table.timeWaits()) rows.push({ ...record.info(), kind: 'connection', iface: record.iface, unaccepted: false });
    for (const socket of this.#udp.sockets()) rows.push(socket.info());
    return rows;
  }

  /** Datagrams being reassembled right now (abandoned ones waiting for their timeout included) and the memory they hold. */
  reassemblyInfo(): { readonly pending: number; readonly bytes: number } {
    return { pending: this.#reassembly.pendingCount, bytes: this.#reassembly.bytesHeld };
  }

  /** The path MTU toward `dst` at `now`: the route's MTU, lowered by what ICMP taught (aged after 10 minutes); undefined without a route. */
  pathMtu(now: Instant, dst: Uint8Array): number | undefined {
    const route = this.#ifaces.route(dst);
    if (route === undefined) return undefined;
    return Math.min(route.mtu, this.#pmtu.get(now, dst) ?? route.mtu);
  }

  /** True for 255.255.255.255 and the subnet broadcast addresses of the host's IPv4 prefixes (up to /30). */
  isBroadcastAddress(address: Uint8Array): boolean {
    if (address.length !== 4) return false;
    return this.#isBroadcastIpv4(ipv4Number(address));
  }

  /** {@link isBroadcastAddress} for an IPv4 address given as a number. */
  #isBroadcastIpv4(address: number): boolean {
    return address === 0xffffffff || this.#broadcasts.has(address);
  }

  /**
   * How the host treats checksums on interface `iface` (see `core/interfaces.ts`): 'trusted'
   * skips computing and verifying the IPv4 header, TCP, UDP and ICMP checksums of every
   * packet that crosses it (no 'bad-checksum' drop is then ever counted there); 'verified',
   * the default, computes and verifies them all. For the driver of a link that cannot corrupt
   * a packet, which must declare both of its ends alike (`VirtualLink.trust` does). Control
   * packets the host builds itself (resets, ICMP) keep their checksums either way: they are
   * rare, and a capture then shows them valid. Throws a RangeError for an unknown interface
   * or one pinned by `requireChecksums`.
   */
  setInterfaceChecksums(iface: string, checksums: InterfaceChecksums): void {
    named(this.name, () => this.#ifaces.setChecksums(iface, checksums));
    if (checksums === 'trusted') this.#trusted.add(iface);
    else this.#trusted.delete(iface);
  }

  /**
   * Pins `iface` to verified checksums for good: the TUN driver calls this for its device,
   * so that nothing can trust a real link afterwards. Throws a RangeError for an unknown
   * interface or one already trusted.
   */
  requireChecksums(iface: string): void {
    named(this.name, () => this.#ifaces.requireChecksums(iface));
  }

  /** True when checksums are skipped on `iface` (one Set lookup, and none on a host that trusts nothing). */
  #isTrusted(iface: string): boolean {
    return this.#trusted.size > 0 && this.#trusted.has(iface);
  }

  /**
   * The next event for the owner of the sockets, or undefined. Events of a UDP socket closed
   * since they were queued are skipped; a datagram's bytes leave its socket's receive buffer
   * when its event is taken. A connection's 'readable' or 'writable' is queued once until it
   * is taken here, however many segments renew it meanwhile.
   */
  pollEvent(): HostEvent | undefined {
    for (;;) {
      const event = this.#events.shift();
      if (event instanceof LevelEvent) event.queued = false;
      if (event === undefined || event.type !== 'udp') return event;
      if (event.event.type === 'message') event.socket.receiveQueued -= event.event.data.length + UDP_DATAGRAM_OVERHEAD;
      if (!event.socket.closed) return event;
    }
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
      tsOffset: this.#tsOffsets.hash(local, remoteCopy),
      mss: mssForMtu(route.mtu, remote.address.length === 4 ? 4 : 16),
      onApplicationCall: () => { if (slot.entry) this.#afterActivity(slot.entry); },
    });
    this.#applyPathMtu(now, connection, route.mtu);
    this.#stats.tcp.activeOpens++;
    slot.entry = this.#register(connection, route.iface, route.local, undefined);
    this.#afterActivity(slot.entry);
    return { ok: true, connection };
  }

  // --- UDP: the application's side ---------------------------------------------------

  /**
   * Binds a UDP socket. Errors: 'access-denied' for a port below 1024 without `privileged`;
   * 'address-not-available' for an address that is neither the host's, a wildcard, nor one of
   * its broadcast addresses; 'address-in-use' when the binding conflicts with another UDP
   * socket (udp/table.ts), or when port 0 finds no unused port. The TCP port space is
   * separate. Bad arguments (a port outside 0..65535, an address of the wrong length, a
   * buffer size that is not a positive integer) are RangeErrors.
   */
  udpBind(options: UdpBindOptions): UdpBindResult {
    const { address, port } = options;
    const reuseAddress = options.reuseAddress ?? false;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${String(port)} is not an integer in 0..65535`);
    if (address !== undefined && (!(address instanceof Uint8Array) || (address.length !== 4 && address.length !== 16))) {
      throw new RangeError('an address is 4 or 16 bytes');
    }
    const receiveBufferSize = options.receiveBufferSize ?? UDP_DEFAULT_BUFFER_SIZE;
    const sendBufferSize = options.sendBufferSize ?? UDP_DEFAULT_BUFFER_SIZE;
    if (address !== undefined && !isUnspecified(address) && !this.#ifaces.isLocal(address) && !this.isBroadcastAddress(address)) {
      return { ok: false, error: 'address-not-available' };
    }
    if (isPrivilegedPort(port) && !this.privileged) return { ok: false, error: 'access-denied' };
    let bound = port;
    if (bound === 0) {
      // Linux's udp_lib_get_port: a random start, then the first port no UDP socket uses.
      const picked = this.#udpPorts.allocateUnused(this.#udpRng.nextU32(), (p) => this.#udp.portUnused(p));
      if (picked === undefined) return { ok: false, error: 'address-in-use' };
      bound = picked;
    } else if (this.#udp.bindConflict(address, bound, reuseAddress)) {
      return { ok: false, error: 'address-in-use' };
    }
    const socket = new UdpSocket(this, {
      address, port: bound, reuseAddress, broadcast: options.broadcast ?? false, receiveBufferSize, sendBufferSize,
    });
    this.#udp.add(socket);
    return { ok: true, socket };
  }

  /** @internal Called by `UdpSocket.send`. */
  udpSend(socket: UdpSocket, now: Instant, payload: Uint8Array, remote: Endpoint | undefined): UdpSendResult {
    this.#see(now);
    const to = remote ?? socket.remote;
    if (to === undefined) return { ok: false, error: 'destination-required' };
    const v4 = to.address.length === 4;
    // RFC 768 / RFC 8200: the length fields bound a datagram; EMSGSIZE beyond them.
    if (payload.length > (v4 ? UDP_MAX_PAYLOAD_IPV4 : UDP_MAX_PAYLOAD_IPV6)) return { ok: false, error: 'message-too-big' };
    const path = this.#udpPath(socket, to.address);
    if (typeof path === 'string') return { ok: false, error: path };
    // SO_SNDBUF: one datagram always fits an empty buffer.
    const size = payload.length + UDP_IPV4_OVERHEAD;
    if (socket.sendQueued > 0 && socket.sendQueued + size > socket.sendBufferSize) return { ok: false, error: 'no-buffer-space' };
    let identification: number;
    if (v4) {
      identification = this.#nextIpId();
    } else {
      identification = this.#ipv6FragmentId;
      this.#ipv6FragmentId = (this.#ipv6FragmentId + 1) >>> 0;
    }
    const packets = udpDatagrams(path.source, to.address, socket.port, to.port, payload, identification, path.mtu, socket.ttl, !this.#isTrusted(path.iface));
    if (packets.length > 1) {
      this.#stats.ip.datagramsFragmented++;
      this.#stats.ip.fragmentsCreated += packets.length;
    }
    for (const packet of packets) {
      socket.sendQueued += packet.length;
      this.#udpOut.push({ iface: path.iface, packet, loopback: path.loopback, socket });
    }
    this.#stats.udp.datagramsOut++;
    socket.counters.datagramsSent++;
    socket.counters.bytesSent += payload.length;
    return { ok: true };
  }

  /** @internal Called by `UdpSocket.connect`. */
  udpConnect(socket: UdpSocket, remote: Endpoint): UdpConnectResult {
    // From the binding, not from an earlier connect's choice: connecting again starts afresh.
    const path = this.#udpPath(socket, remote.address, socket.boundAddress ?? new Uint8Array(16));
    if (typeof path === 'string') return { ok: false, error: path };
    // Linux's ip4_datagram_connect: a wildcard binding takes the route's source address.
    const local: Endpoint = { address: path.source.slice(), port: socket.port };
    socket.setConnected(local, { address: remote.address.slice(), port: remote.port });
    return { ok: true };
  }

  /** @internal Called by `UdpSocket.disconnect`. */
  udpDisconnect(socket: UdpSocket): void {
    socket.setDisconnected();
  }

  /** @internal Called by `UdpSocket.close`. */
  udpClose(socket: UdpSocket): void {
    this.#udp.remove(socket);
  }

  /**
   * How a datagram from `socket` to `dst` leaves: the interface, the source address (the
   * bound one, or the route's), the path MTU and whether it loops back; or why it cannot.
   * The limited broadcast 255.255.255.255 goes out of the interface of a specific binding, or
   * else the first non-loopback interface with an IPv4 address (Linux needs a route or
   * SO_BINDTODEVICE; l4 spares the configuration).
   */
  #udpPath(socket: UdpSocket, dst: Uint8Array, bound: Uint8Array = socket.local.address): PathChoice | 'no-route' | 'broadcast-not-allowed' | 'family-mismatch' {
    const specific = !isUnspecified(bound) && !this.isBroadcastAddress(bound);
    if (!socket.dualStack && bound.length !== dst.length) return 'family-mismatch';
    if (specific && bound.length !== dst.length) return 'family-mismatch';
    if (isUnspecified(dst)) return 'no-route';
    const broadcast = this.isBroadcastAddress(dst);
    if (broadcast && !socket.broadcast) return 'broadcast-not-allowed';
    if (!broadcast && isMulticastOrBroadcast(dst)) return 'no-route'; // no multicast (yet)
    const route = this.#ifaces.route(dst);
    if (route === undefined && dst.length === 4 && dst.every((b) => b === 255)) {
      const owner = specific ? this.#ifaces.ownerOf(bound) : undefined;
      const iface = this.#ifaces.interfaces().find((i) => (owner === undefined ? !i.loopback : i.name === owner) && i.addresses.some((a) => a.address.length === 4));
      if (iface !== undefined) {
        const source = specific ? bound : iface.addresses.find((a) => a.address.length === 4)!.address;
        return { iface: iface.name, source: source.slice(), mtu: iface.mtu, loopback: false };
      }
    }
    if (route === undefined) return 'no-route';
    const mtu = Math.min(route.mtu, this.#pmtu.get(this.#now, dst) ?? route.mtu);
    return { iface: route.iface, source: specific ? bound : route.source, mtu, loopback: route.local };
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

  /** The earliest connection timer or reassembly deadline; the latest instant seen when looped-back packets are waiting. */
  pollTimeout(): Instant | undefined {
    const connections = earliest(this.#timers.peek(), this.#timeWaitTimers.peek());
    return earliest(earliest(connections, this.#reassembly.pollTimeout()), this.#loopback.length > 0 ? this.#now : undefined);
  }

  /** Runs the connection timers and reassembly deadlines due at `now`, and handles waiting looped-back packets. */
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
    for (const record of this.#timeWaitTimers.due(now)) {
      record.handleTimeout(now);
      this.#timeWaitActivity(record);
    }
    this.#expireReassembly(now);
  }

  // --- input -------------------------------------------------------------------------

  #see(now: Instant): void {
    if (now > this.#now) this.#now = now;
  }

  #drop(reason: DropReason, count = 1): void {
    countDrop(this.#stats, reason);
    if (count > 1) this.#stats.drops[reason]! += count - 1;
  }

  /** One IP packet in, from the driver or `looped` back from ourselves. */
  #receive(now: Instant, packet: Uint8Array, iface: string, looped: boolean): void {
    this.#stats.ip.received++;
    this.#receiveDatagram(now, packet, iface, looped);
  }

  /** An IP packet, as received or as rebuilt by reassembly. */
  #receiveDatagram(now: Instant, packet: Uint8Array, iface: string, looped: boolean): void {
    const version = packet.length > 0 ? packet[0]! >>> 4 : 0;
    const trusted = this.#isTrusted(iface);
    if (version === 4) {
      // Every packet comes this way: the header is checked in place and its few fields read
      // from the bytes (no record is built), the addresses compared as numbers.
      const fault = ipv4Fault(packet);
      if (fault !== null) return this.#drop(fault);
      const headerLength = (packet[0]! & 0x0f) * 4;
      if (!trusted && internetChecksum(packet, 0, headerLength) !== 0) return this.#drop('bad-checksum');
      const protocol = packet[9]!;
      const src = ipv4Number(packet, 12);
      const dst = ipv4Number(packet, 16);
      // A broadcast destination is ours for UDP only (Linux ignores broadcast echo requests
      // by default, icmp_echo_ignore_broadcasts, and TCP has no business there).
      const broadcast = this.#isBroadcastIpv4(dst);
      if (broadcast ? protocol !== IpProtocol.Udp : !this.#ifaces.isLocalIpv4(dst)) return this.#drop('not-for-us');
      if (!looped && this.#ifaces.isLocalIpv4(src)) return this.#drop('bad-source-address');
      if (isMulticastOrBroadcastIpv4(src) || this.#isBroadcastIpv4(src)) return this.#drop('bad-source-address');
      const totalLength = (packet[2]! << 8) | packet[3]!;
      if ((((packet[6]! << 8) | packet[7]!) & 0x3fff) !== 0) {
        // A fragment (MF or an offset): the reassembler wants the whole record.
        const parsed = parseIpv4(packet, trusted ? SKIP_CHECKSUM : undefined);
        if (!parsed.ok) return this.#drop(parsed.reason); // cannot happen: the checks above passed
        return this.#fragment(now, this.#reassembly.ipv4(this.#now, packet, parsed.value), iface, looped);
      }
      const whole = packet.length === totalLength ? packet : packet.subarray(0, totalLength);
      // The addresses are copies: whatever keeps them (a new connection's endpoints) must not
      // keep the packet's buffer alive.
      const srcAddress = this.#ipv4Address(src, packet, 12);
      const dstAddress = this.#ipv4Address(dst, packet, 16);
      if (protocol === IpProtocol.Tcp) {
        // The data path: straight to TCP, without the record the other protocols get.
        this.#stats.ip.delivered++;
        return this.#tcpInput(now, srcAddress, dstAddress, whole.subarray(headerLength), iface, trusted);
      }
      this.#deliver(now, {
        protocol, src: srcAddress, dst: dstAddress, payload: whole.subarray(headerLength), iface, broadcast, trusted, packet: whole,
      });
    } else if (version === 6) {
      const parsed = parseIpv6(packet);
      if (!parsed.ok) return this.#drop(parsed.reason);
      const ip = parsed.value;
      if (!this.#ifaces.isLocal(ip.dst)) return this.#drop('not-for-us');
      if (!looped && this.#ifaces.isLocal(ip.src)) return this.#drop('bad-source-address');
      if (isMulticastOrBroadcast(ip.src)) return this.#drop('bad-source-address');
      // RFC 6946: an atomic fragment (offset 0, M clear) is processed as a whole packet.
      if (ip.fragment !== undefined && (ip.fragment.offset !== 0 || ip.fragment.moreFragments)) {
        const checked = Ipv6Packet.checked(packet);
        if (!checked.ok) return this.#drop(checked.reason); // cannot happen: parseIpv6 passed
        return this.#fragment(now, this.#reassembly.ipv6(this.#now, checked.value), iface, looped);
      }
      const length = 40 + ip.payloadLength;
      this.#deliver(now, {
        protocol: ip.upperProtocol, src: ip.src, dst: ip.dst, payload: ip.payload, iface, broadcast: false, trusted,
        packet: packet.length === length ? packet : packet.subarray(0, length),
      });
    } else {
      this.#drop(packet.length === 0 ? 'truncated' : 'bad-version');
    }
  }

  /** What reassembly made of a fragment. */
  #fragment(now: Instant, result: ReassemblyResult, iface: string, looped: boolean): void {
    this.#stats.ip.fragmentsReceived++;
    switch (result.status) {
      case 'held':
        return;
      case 'dropped':
        if (result.abandoned) this.#stats.ip.reassemblyFailures++;
        return this.#drop(result.reason, result.fragments);
      case 'complete':
        this.#stats.ip.reassembled++;
        return this.#receiveDatagram(now, result.packet, iface, looped);
    }
  }

  /**
   * Datagrams not reassembled in time: freed, counted, and answered with ICMP time exceeded,
   * fragment reassembly time exceeded, when their first fragment had arrived (RFC 792: "If a
   * host reassembling a fragmented datagram cannot complete the reassembly due to missing
   * fragments within its time limit it discards the datagram, and it may send a time exceeded
   * message"; RFC 1122 3.3.2: only if fragment zero is available; RFC 8200 4.5).
   */
  #expireReassembly(now: Instant): void {
    for (const d of this.#reassembly.expire(now)) {
      if (!d.live) continue;
      this.#stats.ip.reassemblyFailures++;
      this.#stats.ip.reassemblyTimeouts++;
      if (d.fragments > 0) this.#drop('reassembly-timeout', d.fragments);
      const first = d.firstFragment;
      if (first === undefined) continue;
      // What it was (an ICMP error is not answered): the first fragment parsed as it came.
      const v4 = d.family === 4;
      let protocol: number;
      let payload: Uint8Array;
      if (v4) {
        const p = parseIpv4(first);
        if (!p.ok) continue;
        protocol = p.value.protocol;
        payload = p.value.payload;
      } else {
        const p = Ipv6Packet.checked(first);
        if (!p.ok) continue;
        protocol = p.value.upperProtocol;
        payload = p.value.payload;
      }
      const src = v4 ? first.subarray(12, 16) : first.subarray(8, 24);
      const dst = v4 ? first.subarray(16, 20) : first.subarray(24, 40);
      const route = this.#ifaces.route(src);
      if (route === undefined) continue;
      this.#sendIcmpError(now, v4 ? 4 : 6, {
        src, dst, dstIsBroadcast: this.isBroadcastAddress(dst), srcIsBroadcast: this.isBroadcastAddress(src),
        nonInitialFragment: false, protocol, payload,
      }, first, 'reassembly', { iface: route.iface, loopback: route.local });
    }
  }

  /** A whole datagram for us: hand it to its protocol. */
  #deliver(now: Instant, d: Inbound): void {
    switch (d.protocol) {
      case IpProtocol.Tcp:
        this.#stats.ip.delivered++;
        return this.#tcpInput(now, d.src, d.dst, d.payload, d.iface, d.trusted);
      case IpProtocol.Udp:
        this.#stats.ip.delivered++;
        return this.#udpInput(now, d);
      case IpProtocol.Icmp:
        if (d.src.length !== 4) return this.#drop('unknown-protocol');
        this.#stats.ip.delivered++;
        return this.#icmpv4Input(now, d.src, d.dst, d.payload, d.iface, d.trusted);
      case IpProtocol.Icmpv6:
        if (d.src.length !== 16) return this.#drop('unknown-protocol');
        this.#stats.ip.delivered++;
        return this.#icmpv6Input(now, d.src, d.dst, d.payload, d.iface, d.trusted);
      default:
        return this.#drop('unknown-protocol');
    }
  }

  /** The shared array for IPv4 address `value` (bytes at `packet[at..at+4]`); see {@link ADDRESS_CACHE_LIMIT}. */
  #ipv4Address(value: number, packet: Uint8Array, at: number): Uint8Array {
    let address = this.#ipv4Addresses.get(value);
    if (address === undefined) {
      if (this.#ipv4Addresses.size >= ADDRESS_CACHE_LIMIT) this.#ipv4Addresses.clear();
      address = copyIpv4(packet, at);
      this.#ipv4Addresses.set(value, address);
    }
    return address;
  }

  #tcpInput(now: Instant, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string, trusted: boolean): void {
    const parsed = parseTcp(payload, src, dst, trusted ? SKIP_CHECKSUM : undefined);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const seg = parsed.value;
    this.#stats.tcp.segmentsIn++;
    if (seg.flags & TcpFlags.RST) this.#stats.tcp.resetsReceived++;
    // RFC 9293 3.10.7.2 (and RFC 1122 4.2.3.10): a SYN from a broadcast or multicast address
    // must be ignored; no segment may come from those or from an unspecified address, and we
    // never answer one with a reset.
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    const entry = this.#table.connectionTo(dst, seg.dstPort, src, seg.srcPort);
    if (entry !== undefined) {
      const dropped = entry.connection.handleSegment(now, seg);
      if (dropped !== undefined) this.#drop(dropped);
      this.#afterActivity(entry);
      return;
    }
    const record = this.#table.timeWaitTo(dst, seg.dstPort, src, seg.srcPort);
    const local: Endpoint = { address: dst, port: seg.dstPort };
    const remote: Endpoint = { address: src, port: seg.srcPort };
    const listener = this.#table.findListener(dst, seg.dstPort);
    if (record !== undefined) {
      // RFC 6191: a new incarnation's SYN ends TIME-WAIT at once, if a listener takes it.
      if (!(listener !== undefined && listener.hasRoom() && record.reopens(seg))) return this.#timeWaitInput(now, record, seg, iface, trusted);
      this.#table.removeTimeWait(record);
      this.#timeWaitTimers.set(record, undefined);
      return this.#listenInput(now, listener, local, remote, seg, iface, record.reopenIss);
    }
    if (listener !== undefined) return this.#listenInput(now, listener, local, remote, seg, iface);
    // RFC 9293 3.10.7.1: "If the state is CLOSED (i.e., TCB does not exist), then all data in
    // the incoming segment is discarded." resetFor says what, if anything, answers it.
    this.#drop('no-socket');
    this.#reset(local, remote, seg, iface);
  }

  /** A segment for a socket pair in TIME-WAIT: the record answers it (an ACK goes out with the control packets). */
  #timeWaitInput(now: Instant, record: TimeWait, seg: TcpRepr, iface: string, trusted: boolean): void {
    const dropped = record.handleSegment(now, seg);
    if (dropped !== undefined) this.#drop(dropped);
    const ack = record.pollTransmit(now);
    if (ack !== undefined) {
      const packet = tcpDatagram(record.local.address, record.remote.address, ack, this.#nextIpId(), !trusted);
      this.#reply(this.#routeBack(record.remote.address, iface), packet);
    }
    this.#timeWaitActivity(record);
  }

  /** Re-files a TIME-WAIT record's timer, or forgets the record once it is CLOSED. */
  #timeWaitActivity(record: TimeWait): void {
    if (record.state === 'CLOSED') {
      this.#table.removeTimeWait(record);
      this.#timeWaitTimers.set(record, undefined);
    } else {
      this.#timeWaitTimers.set(record, record.pollTimeout());
    }
  }

  /**
   * A connection in TIME-WAIT that has sent its last segment: if its application has nothing
   * left to read, it hands the socket pair over to a compact record (see the module doc).
   */
  #retire(entry: ConnectionEntry): void {
    if (entry.listener !== undefined) return;
    const record = entry.connection.retire();
    if (record === undefined) return;
    this.#collectEvents(entry);
    record.iface = entry.iface;
    this.#table.addTimeWait(record);
    this.#timeWaitActivity(record);
  }

  /** A segment at a listener: RFC 9293 3.10.7.2. */
  #listenInput(now: Instant, listener: TcpListener, local: Endpoint, remote: Endpoint, seg: TcpRepr, iface: string, iss?: SeqNumber): void {
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
      iss: iss ?? this.#isn.isn(now, local, remote),
      tsOffset: this.#tsOffsets.hash(local, remote),
      mss: mssForMtu(route.mtu, remote.address.length === 4 ? 4 : 16),
      onApplicationCall: () => { if (slot.entry) this.#afterActivity(slot.entry); },
    }, seg);
    this.#applyPathMtu(now, connection, route.mtu);
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

  // --- UDP input ---------------------------------------------------------------------

  /**
   * A UDP datagram (RFC 768): checksum (always verified; zero means none over IPv4 only,
   * RFC 8200 8.1), then the socket table. Unicast goes to the most specific socket
   * (udp/table.ts) or draws ICMP port unreachable; broadcast goes to every socket that allows
   * it and draws nothing.
   */
  #udpInput(now: Instant, d: Inbound): void {
    const parsed = parseUdp(d.payload, d.src, d.dst, d.trusted ? SKIP_CHECKSUM : undefined);
    if (!parsed.ok) {
      if (parsed.reason === 'bad-checksum' || parsed.reason === 'bad-field') this.#stats.udp.checksumErrors++;
      return this.#drop(parsed.reason);
    }
    const udp = parsed.value;
    // Linux takes an unspecified source only toward a broadcast (a DHCP client has no address yet).
    if (isUnspecified(d.src) && !d.broadcast) return this.#drop('bad-source-address');
    const remote: Endpoint = { address: d.src, port: udp.srcPort };
    const local: Endpoint = { address: d.dst, port: udp.dstPort };
    if (d.broadcast) {
      const targets = this.#udp.broadcastTargets(d.dst, udp.dstPort, d.src, udp.srcPort);
      if (targets.length === 0) return this.#drop('broadcast-not-wanted');
      for (const socket of targets) this.#udpDeliver(socket, udp.payload, remote, local);
      return;
    }
    const socket = this.#udp.lookup(d.dst, udp.dstPort, d.src, udp.srcPort);
    if (socket !== undefined) return this.#udpDeliver(socket, udp.payload, remote, local);
    // RFC 1122 4.1.3.1: "If a datagram arrives addressed to a UDP port for which there is no
    // pending LISTEN call, UDP SHOULD send an ICMP Port Unreachable message."
    this.#stats.udp.noPort++;
    this.#drop('no-port');
    this.#sendIcmpError(now, d.src.length === 4 ? 4 : 6, {
      src: d.src, dst: d.dst, dstIsBroadcast: d.broadcast, srcIsBroadcast: false, nonInitialFragment: false,
      protocol: d.protocol, payload: d.payload,
    }, d.packet, 'port-unreachable', this.#routeBack(d.src, d.iface));
  }

  /** A datagram for `socket`, unless its receive buffer is full (then dropped and counted, as a kernel does). */
  #udpDeliver(socket: UdpSocket, payload: Uint8Array, remote: Endpoint, local: Endpoint): void {
    const cost = payload.length + UDP_DATAGRAM_OVERHEAD;
    if (socket.receiveQueued + cost > socket.receiveBufferSize) {
      this.#stats.udp.receiveBufferErrors++;
      socket.counters.receiveDrops++;
      return this.#drop('receive-buffer-full');
    }
    socket.receiveQueued += cost;
    socket.counters.datagramsReceived++;
    socket.counters.bytesReceived += payload.length;
    this.#stats.udp.datagramsIn++;
    this.#events.push({
      type: 'udp', socket,
      event: { type: 'message', data: payload.slice(), remote: { address: remote.address.slice(), port: remote.port }, local: { address: local.address.slice(), port: local.port } },
    });
  }

  // --- ICMP input --------------------------------------------------------------------

  #icmpv4Input(now: Instant, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string, trusted: boolean): void {
    const parsed = parseIcmpv4(payload, trusted ? SKIP_CHECKSUM : undefined);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const msg = parsed.value;
    this.#stats.icmp.in[countedType(msg.type)]++;
    if (msg.type !== 'echo-request') {
      const error = icmpv4ErrorOf(msg);
      if (error === undefined) return this.#drop('unhandled-protocol');
      return this.#icmpErrorInput(now, 4, error);
    }
    this.#stats.icmp.echoRequestsReceived++;
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    // RFC 792: "the source and destination addresses are simply reversed, the type code
    // changed to 0, and the checksum recomputed."
    if (this.#reply(this.#routeBack(src, iface), icmpv4EchoReply(dst, src, msg, this.#nextIpId()))) this.#stats.icmp.echoRepliesSent++;
  }

  #icmpv6Input(now: Instant, src: Uint8Array, dst: Uint8Array, payload: Uint8Array, iface: string, trusted: boolean): void {
    const parsed = parseIcmpv6(payload, src, dst, trusted ? SKIP_CHECKSUM : undefined);
    if (!parsed.ok) return this.#drop(parsed.reason);
    const msg = parsed.value;
    this.#stats.icmp.in[countedType(msg.type)]++;
    if (msg.type !== 'echo-request') {
      const error = icmpv6ErrorOf(msg);
      if (error === undefined) return this.#drop('unhandled-protocol');
      return this.#icmpErrorInput(now, 6, error);
    }
    this.#stats.icmp.echoRequestsReceived++;
    if (isUnspecified(src) || isMulticastOrBroadcast(src)) return this.#drop('bad-source-address');
    // RFC 4443 4.2: the reply carries the request's identifier, sequence number and data.
    if (this.#reply(this.#routeBack(src, iface), icmpv6EchoReply(dst, src, msg))) this.#stats.icmp.echoRepliesSent++;
  }

  /**
   * An ICMP error: to the socket whose datagram it quotes (`parseQuotedDatagram`), whose
   * source must be one of our addresses. TCP: the connection with that socket pair, which
   * checks the quoted sequence number (RFC 5927) and acts as RFC 9293 3.9.2.2 / RFC 5461 say
   * (`TcpConnection.handleIcmpError`). UDP: a connected socket with that exact pair is told
   * ('refused' for port unreachable, as Linux's ECONNREFUSED); an unconnected one is not
   * (Linux tells it only with IP_RECVERR). Fragmentation needed / packet too big lowers the
   * path MTU toward the quoted destination (RFC 1191, RFC 8201) — believed only when it
   * quotes what a socket of ours sent — and the MSS of every TCP connection to it.
   */
  #icmpErrorInput(now: Instant, family: 4 | 6, error: IcmpError): void {
    const quoted = parseQuotedDatagram(error.invoking, family);
    if (!quoted.ok) return this.#drop(quoted.reason);
    const q = quoted.value;
    if (!this.#ifaces.isLocal(q.src) || q.srcPort === undefined || q.dstPort === undefined) return this.#drop('icmp-unmatched');
    if (q.protocol === IpProtocol.Tcp) {
      const entry = this.#table.connection({ address: q.src, port: q.srcPort }, { address: q.dst, port: q.dstPort });
      if (entry === undefined || entry.removed) return this.#drop('icmp-unmatched');
      if (q.tcpSeq === undefined || !entry.connection.handleIcmpError(now, error, q.tcpSeq)) return this.#drop('icmp-stale');
      this.#stats.icmp.errorsDelivered++;
      if (error.kind === 'packet-too-big') this.#lowerPathMtu(now, q.dst, this.#reportedMtu(family, error));
      this.#afterActivity(entry);
      return;
    }
    if (q.protocol === IpProtocol.Udp) {
      if (error.kind === 'packet-too-big') {
        if (!this.#udp.couldHaveSent(q.src, q.srcPort)) return this.#drop('icmp-unmatched');
        this.#stats.icmp.errorsDelivered++;
        this.#lowerPathMtu(now, q.dst, this.#reportedMtu(family, error));
        return;
      }
      const socket = this.#udp.connected(q.src, q.srcPort, q.dst, q.dstPort);
      if (socket === undefined) return this.#drop('icmp-unmatched');
      this.#stats.icmp.errorsDelivered++;
      const reported: UdpSocketError = error.kind === 'port-unreachable' ? 'refused' : error.kind;
      this.#events.push({ type: 'udp', socket, event: { type: 'error', error: reported, remote: { address: q.dst.slice(), port: q.dstPort } } });
      return;
    }
    this.#drop('icmp-unmatched');
  }

  /** The MTU a fragmentation-needed / packet-too-big reports; an old IPv4 router's 0 means the plateau below the quoted length (RFC 1191 5). */
  #reportedMtu(family: 4 | 6, error: IcmpError): number {
    if (family === 6 || error.mtu > 0) return error.mtu;
    const inv = error.invoking;
    return plateauBelow(inv.length >= 4 ? (inv[2]! << 8) | inv[3]! : 0);
  }

  /** A smaller path MTU toward `dst`: cached, and the MSS of every connection to it lowered. */
  #lowerPathMtu(now: Instant, dst: Uint8Array, reported: number): void {
    const current = this.pathMtu(now, dst);
    if (current === undefined) return;
    const mtu = this.#pmtu.lower(now, dst, reported, current);
    if (mtu === undefined) return;
    this.#stats.icmp.pathMtuUpdates++;
    const mss = mssForMtu(mtu, dst.length === 4 ? 4 : 16);
    for (const entry of this.#table.connections()) {
      if (!ipEquals(entry.connection.remote.address, dst)) continue;
      if (entry.connection.setPathMss(now, mss)) this.#afterActivity(entry);
    }
  }

  /** A new connection to `remote` starts with what the path MTU cache knows. */
  #applyPathMtu(now: Instant, connection: TcpConnection, routeMtu: number): void {
    const remote = connection.remote.address;
    const known = this.#pmtu.get(now, remote);
    if (known !== undefined && known < routeMtu) connection.setPathMss(now, mssForMtu(known, remote.length === 4 ? 4 : 16));
  }

  // --- ICMP output -------------------------------------------------------------------

  /**
   * Answers the datagram `packet` (described by `d`) with an ICMP error, when RFC 1122 3.2.2 /
   * RFC 4443 2.4(e) allow it and the rate limit has a token: port unreachable (ICMPv4 type 3
   * code 3, ICMPv6 type 1 code 4) or fragment reassembly time exceeded (ICMPv4 type 11 code
   * 1, ICMPv6 type 3 code 1), quoting as much of the datagram as fits (576 / 1280 bytes).
   */
  #sendIcmpError(
    now: Instant, family: 4 | 6, d: Parameters<typeof mayAnswerWithIcmpError>[0], packet: Uint8Array,
    what: 'port-unreachable' | 'reassembly', route: { iface: string; loopback: boolean },
  ): void {
    if (!mayAnswerWithIcmpError(d)) return;
    if (!this.#icmpErrors.take(now)) {
      this.#stats.icmp.rateLimited++;
      return;
    }
    const reply = family === 4
      ? icmpv4ErrorDatagram(d.dst, d.src, what === 'port-unreachable'
        ? { type: 'destination-unreachable', code: Icmpv4UnreachableCode.PortUnreachable }
        : { type: 'time-exceeded', code: Icmpv4TimeExceededCode.FragmentReassembly }, packet, this.#nextIpId())
      : icmpv6ErrorDatagram(d.dst, d.src, what === 'port-unreachable'
        ? { type: 'destination-unreachable', code: Icmpv6UnreachableCode.PortUnreachable }
        : { type: 'time-exceeded', code: Icmpv6TimeExceededCode.FragmentReassembly }, packet);
    if (this.#reply(route, reply)) this.#stats.icmp.errorsSent++;
  }

  /**
   * Where an answer to `remote` goes: by the route table, or else back out of the interface
   * the packet came in on (a host without a default route still answers its neighbours).
   */
  #routeBack(remote: Uint8Array, arrivedOn: string): { iface: string; mtu: number; loopback: boolean } {
    const route = this.#ifaces.egress(remote);
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
      connection, iface, loopback, listener,
      connected: false, removed: false, ready: false, readableEvent: undefined, writableEvent: undefined, deadline: undefined, generation: 0,
    };
    this.#table.addConnection(entry);
    connection.setSegmentationOffload(SEGMENTATION_OFFLOAD_BYTES);
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
      if (entry.listener === undefined) this.#queueConnectionEvent(entry, event);
      else if (event.type === 'closed') entry.listener.forget(connection);
    }
    // Defensive: a connection in CLOSED leaves the table even if it said nothing.
    if (!entry.removed && connection.state === 'CLOSED') {
      this.#remove(entry);
      entry.listener?.forget(connection);
    }
  }

  /**
   * Queues a connection's event for the application. 'readable' and 'writable' are not queued
   * again while the same one still waits in the queue, as the TCB does in its own: a bulk
   * receiver would otherwise queue one per segment, since the host drains the TCB's queue
   * after every segment. Each is one object per connection, made at its first use.
   */
  #queueConnectionEvent(entry: ConnectionEntry, event: TcpEvent): void {
    if (event.type === 'readable' || event.type === 'writable') {
      const readable = event.type === 'readable';
      let queued = readable ? entry.readableEvent : entry.writableEvent;
      if (queued === undefined) {
        queued = new LevelEvent(entry.connection, event);
        if (readable) entry.readableEvent = queued;
        else entry.writableEvent = queued;
      } else if (queued.queued) {
        return;
      }
      queued.queued = true;
      this.#events.push(queued);
      return;
    }
    this.#events.push({ type: 'connection', connection: entry.connection, event });
  }

  /** Takes a closed connection out of the table (it stays queued for output until it has sent its last segment). */
  #remove(entry: ConnectionEntry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.#table.removeConnection(entry);
    this.#timers.set(entry, undefined);
    this.#retransmissionsOfClosed += entry.connection.retransmissions;
  }

  // --- output ------------------------------------------------------------------------

  /** The next packet to emit: the rest of an offloaded record first, then control packets, then UDP datagrams, then one record (or the first segment of one, `#cut`) of the next ready connection. */
  #nextOutgoing(now: Instant): Outgoing | undefined {
    const piece = this.#offloaded.shift();
    if (piece !== undefined) return piece;
    const reply = this.#replies.shift();
    if (reply !== undefined) {
      this.#countOut(reply.packet);
      return reply;
    }
    const datagram = this.#udpOut.shift();
    if (datagram !== undefined) {
      datagram.socket.sendQueued -= datagram.packet.length;
      this.#stats.ip.sent++;
      return datagram;
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
        if (connection.state === 'TIME-WAIT') this.#retire(entry);
        continue;
      }
      // Round robin: one record per turn, then to the back of the queue.
      this.#ready.push(entry);
      const mss = connection.segmentSize;
      const packet = seg.payload.length > mss ? this.#cut(entry, seg, mss)
        : tcpDatagram(connection.local.address, connection.remote.address, seg, this.#nextIpId(), !this.#isTrusted(entry.iface));
      this.#stats.ip.sent++;
      this.#stats.tcp.segmentsOut++;
      if (seg.flags & TcpFlags.RST) this.#stats.tcp.resetsSent++;
      this.#collectEvents(entry);
      if (!entry.removed) this.#timers.set(entry, connection.pollTimeout());
      return { iface: entry.iface, packet, loopback: entry.loopback };
    }
  }

  /**
   * Segmentation offload (Linux's GSO): a record of several full-sized segments
   * (`TcpConnection.setSegmentationOffload`) cut into datagrams of `mss` payload bytes, each
   * with the record's header and its own sequence number, PSH (and FIN, which an offloaded
   * record never has) only on the last. Returns the first datagram; the others wait in
   * `#offloaded`, counted as sent.
   */
  #cut(entry: ConnectionEntry, seg: TcpRepr, mss: number): Uint8Array {
    const { local, remote } = entry.connection;
    const checksums = !this.#isTrusted(entry.iface);
    const lastFlags = seg.flags;
    const otherFlags = seg.flags & ~(TcpFlags.PSH | TcpFlags.FIN);
    const payload = seg.payload;
    let first: Uint8Array | undefined;
    for (let at = 0; at < payload.length; at += mss) {
      const end = Math.min(payload.length, at + mss);
      const piece: TcpRepr = {
        srcPort: seg.srcPort, dstPort: seg.dstPort, seqNumber: (seg.seqNumber + at) >>> 0, ackNumber: seg.ackNumber,
        flags: end === payload.length ? lastFlags : otherFlags, reserved: seg.reserved, window: seg.window,
        urgentPointer: seg.urgentPointer, options: seg.options, optionsPadding: seg.optionsPadding, payload: payload.subarray(at, end),
      };
      const packet = tcpDatagram(local.address, remote.address, piece, this.#nextIpId(), checksums);
      if (first === undefined) {
        first = packet;
        continue;
      }
      this.#stats.ip.sent++;
      this.#stats.tcp.segmentsOut++;
      this.#offloaded.push({ iface: entry.iface, packet, loopback: entry.loopback });
    }
    return first!;
  }

  /** Counts a control packet on its way out. */
  #countOut(packet: Uint8Array): void {
    this.#stats.ip.sent++;
    const version = packet[0]! >>> 4;
    const protocol = version === 4 ? packet[9] : packet[6];
    if (protocol === IpProtocol.Tcp) {
      // The host's TCP control packets: resets, and the ACKs of TIME-WAIT records.
      this.#stats.tcp.segmentsOut++;
      const flags = packet[(version === 4 ? (packet[0]! & 0x0f) * 4 : 40) + 13]!;
      if (flags & TcpFlags.RST) this.#stats.tcp.resetsSent++;
    } else if (protocol === IpProtocol.Icmp && version === 4) {
      // The host's own packets: no IPv4 options, no IPv6 extension headers.
      this.#stats.icmp.out[countedTypeNumber(4, packet[20]!)]++;
    } else if (protocol === IpProtocol.Icmpv6 && version === 6) {
      this.#stats.icmp.out[countedTypeNumber(6, packet[40]!)]++;
    }
  }

  /** A short description for logs: `host a (eth0 10.0.0.1/24)`. */
  toString(): string {
    const ifaces = this.#ifaces.interfaces().filter((i) => !i.loopback)
      .map((i) => `${i.name} ${i.addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength}`).join(' ')}`);
    return `host ${this.name} (${ifaces.join(', ')})`;
  }
}
