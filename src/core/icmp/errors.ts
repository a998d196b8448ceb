/**
 * ICMP errors as the transport layer sees them: what an arriving error means for a socket
 * (a small vocabulary of kinds, hard or soft), and whether the host may send one.
 *
 * Contract: `icmpv4ErrorOf` and `icmpv6ErrorOf` turn a parsed message into an
 * {@link IcmpError} (undefined for messages that are not errors a socket cares about: echo,
 * redirects, source quench — deprecated by RFC 6633 —, Neighbor Discovery, unknown codes).
 * The mapping follows RFC 1122 3.2.2.1 / 4.2.3.9, RFC 4443 3 and RFC 5461 (which ICMPv6
 * messages correspond to which ICMPv4 ones); the errno a kind stands for is Linux's
 * (icmp_err_convert, icmpv6_err_convert), for the API to use. `mayAnswerWithIcmpError`
 * holds the rules of RFC 1122 3.2.2, RFC 1812 4.3.2.7 and RFC 4443 2.4(e) on when an error
 * must not be sent.
 */
import type { Icmpv4Repr } from '../../wire/icmpv4.js';
import type { Icmpv6Repr } from '../../wire/icmpv6.js';
import { IpProtocol } from '../../wire/ip-protocol.js';

/** What an ICMP error says happened to a datagram we sent. */
export type IcmpErrorKind =
  /** ICMPv4 unreachable 0, 6, 11; ICMPv6 unreachable 0 (no route). ENETUNREACH. */
  | 'net-unreachable'
  /** ICMPv4 unreachable 1, 7, 8, 12, 14, 15; ICMPv6 unreachable 2 and 3. EHOSTUNREACH. */
  | 'host-unreachable'
  /** ICMPv4 unreachable 2; ICMPv6 parameter problem 1, unrecognized next header (RFC 5461 4). ENOPROTOOPT. */
  | 'protocol-unreachable'
  /** ICMPv4 unreachable 3; ICMPv6 unreachable 4. ECONNREFUSED. */
  | 'port-unreachable'
  /** ICMPv4 unreachable 9, 10, 13; ICMPv6 unreachable 1, 5, 6 (a filter said no). EACCES / EHOSTUNREACH. */
  | 'admin-prohibited'
  /** ICMPv4 unreachable 5. EOPNOTSUPP. */
  | 'source-route-failed'
  /** ICMPv4 unreachable 4 (fragmentation needed and DF set, RFC 1191); ICMPv6 packet too big (RFC 8201). EMSGSIZE. */
  | 'packet-too-big'
  /** Time exceeded (TTL / hop limit, or reassembly). EHOSTUNREACH on Linux. */
  | 'time-exceeded'
  /** Parameter problem other than an unrecognized next header. EPROTO. */
  | 'parameter-problem';

/** An arriving ICMP error, reduced to what a socket needs. */
export interface IcmpError {
  readonly kind: IcmpErrorKind;
  /**
   * A hard error (RFC 1122 4.2.3.9: unreachable protocol or port): it ends a connection
   * attempt. Everything else is soft: remembered, reported only if the connection times out.
   */
  readonly hard: boolean;
  /** For 'packet-too-big': the next-hop MTU reported (0 when an old IPv4 router left it out, RFC 1191 5). */
  readonly mtu: number;
  /** The quoted datagram. */
  readonly invoking: Uint8Array;
}

const HARD: ReadonlySet<IcmpErrorKind> = new Set(['port-unreachable', 'protocol-unreachable']);

/** True for the kinds RFC 1122 4.2.3.9 calls hard errors. */
export function isHardError(kind: IcmpErrorKind): boolean {
  return HARD.has(kind);
}

function error(kind: IcmpErrorKind, invoking: Uint8Array, mtu = 0): IcmpError {
  return { kind, hard: HARD.has(kind), mtu, invoking };
}

/** ICMPv4 destination unreachable codes 0-15 (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
const V4_UNREACHABLE: readonly IcmpErrorKind[] = [
  'net-unreachable', 'host-unreachable', 'protocol-unreachable', 'port-unreachable', 'packet-too-big',
  'source-route-failed', 'net-unreachable', 'host-unreachable', 'host-unreachable', 'admin-prohibited',
  'admin-prohibited', 'net-unreachable', 'host-unreachable', 'admin-prohibited', 'host-unreachable', 'host-unreachable',
];

/** ICMPv6 destination unreachable codes 0-6 (RFC 4443 3.1). */
const V6_UNREACHABLE: readonly IcmpErrorKind[] = [
  'net-unreachable', 'admin-prohibited', 'host-unreachable', 'host-unreachable', 'port-unreachable',
  'admin-prohibited', 'admin-prohibited',
];

/** The error an ICMPv4 message reports, or undefined when it is not one a socket hears of. */
export function icmpv4ErrorOf(msg: Icmpv4Repr): IcmpError | undefined {
  switch (msg.type) {
    case 'destination-unreachable': {
      const kind = V4_UNREACHABLE[msg.code];
      return kind === undefined ? undefined : error(kind, msg.invoking, kind === 'packet-too-big' ? msg.nextHopMtu : 0);
    }
    case 'time-exceeded':
      return error('time-exceeded', msg.invoking);
    case 'parameter-problem':
      return error('parameter-problem', msg.invoking);
    default:
      return undefined;
  }
}

/** The error an ICMPv6 message reports, or undefined when it is not one a socket hears of. */
export function icmpv6ErrorOf(msg: Icmpv6Repr): IcmpError | undefined {
  switch (msg.type) {
    case 'destination-unreachable': {
      const kind = V6_UNREACHABLE[msg.code];
      return kind === undefined ? undefined : error(kind, msg.invoking);
    }
    case 'packet-too-big':
      return error('packet-too-big', msg.invoking, msg.mtu);
    case 'time-exceeded':
      return error('time-exceeded', msg.invoking);
    case 'parameter-problem':
      // RFC 5461 4: ICMPv6 "Parameter Problem, code 1 (unrecognized Next Header type
      // encountered)" is the counterpart of ICMPv4 protocol unreachable, a hard error.
      return error(msg.code === 1 ? 'protocol-unreachable' : 'parameter-problem', msg.invoking);
    default:
      return undefined;
  }
}

/** ICMPv4 types that are queries or replies (RFC 792, RFC 950): everything else counts as an error. */
const V4_INFORMATIONAL: ReadonlySet<number> = new Set([0, 8, 9, 10, 13, 14, 15, 16, 17, 18]);

/** What `mayAnswerWithIcmpError` needs to know about the datagram that would be answered. */
export interface OffendingDatagram {
  /** Source and destination addresses. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** The destination is a broadcast address (limited or a subnet's) of ours. */
  readonly dstIsBroadcast: boolean;
  /** The source is a broadcast address of one of our subnets. */
  readonly srcIsBroadcast: boolean;
  /** The datagram is a fragment other than the first. */
  readonly nonInitialFragment: boolean;
  /** The upper-layer protocol and its bytes (to tell an ICMP error from a query). */
  readonly protocol: number;
  readonly payload: Uint8Array;
}

/**
 * Whether the host may answer `d` with an ICMP error. RFC 1122 3.2.2: "An ICMP error message
 * MUST NOT be sent as the result of receiving: an ICMP error message, or a datagram destined to
 * an IP broadcast or IP multicast address, or a datagram sent as a link-layer broadcast, or a
 * non-initial fragment, or a datagram whose source address does not define a single host --
 * e.g., a zero address, a loopback address [see isSingleHost], a broadcast address, a multicast address, or a
 * Class E address." RFC 4443 2.4(e) says the same for IPv6 (packet too big and parameter
 * problem to multicast are exceptions l4 never needs: it only sends port unreachable and
 * reassembly time exceeded).
 */
export function mayAnswerWithIcmpError(d: OffendingDatagram): boolean {
  if (d.nonInitialFragment || d.dstIsBroadcast || d.srcIsBroadcast) return false;
  if (!isSingleHost(d.src) || isMulticast(d.dst)) return false;
  if (d.dst.length === 4 && d.dst.every((b) => b === 255)) return false;
  if (d.protocol === IpProtocol.Icmp && d.src.length === 4) {
    // Too short to tell: treat as an error (answering one is the worse mistake).
    return d.payload.length > 0 && V4_INFORMATIONAL.has(d.payload[0]!);
  }
  if (d.protocol === IpProtocol.Icmpv6 && d.src.length === 16) {
    // RFC 4443 2.1: types 0-127 are errors, 128-255 informational.
    return d.payload.length > 0 && d.payload[0]! >= 128;
  }
  return true;
}

function isMulticast(a: Uint8Array): boolean {
  return a.length === 4 ? a[0]! >= 224 && a[0]! <= 239 : a[0] === 0xff;
}

/**
 * Not zero, limited broadcast, multicast or class E (IPv4); not unspecified or multicast
 * (IPv6). Loopback sources are allowed: the host drops them from outside as martians, so
 * one that reaches here was looped back by the host itself, and Linux answers those too
 * (ECONNREFUSED on a UDP socket connected to a closed port of 127.0.0.1).
 */
function isSingleHost(a: Uint8Array): boolean {
  if (a.length === 4) return a[0] !== 0 && a[0]! < 224;
  if (a[0] === 0xff) return false;
  return !a.every((b) => b === 0);
}
