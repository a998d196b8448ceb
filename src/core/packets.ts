/**
 * The packets a host builds itself: IP encapsulation of a transport payload, the reset that
 * answers a segment for no socket (RFC 9293 3.10.7.1), the ICMP echo reply, ICMP errors,
 * and UDP datagrams, fragmented when they do not fit the path.
 *
 * Contract: every function returns fresh buffers, each holding one whole IP datagram, sized
 * exactly (header and payload emitted into the same buffer). By default IPv4 datagrams carry
 * TTL 64 and DF (TCP segments are sized to the path, and RFC 6864 lets the identification of
 * an atomic datagram be anything; the host numbers them); IPv6 ones hop limit 64, no
 * extension headers and a zero flow label. UDP is the exception: IPv4 datagrams go with DF
 * clear, so that a router may fragment them further, and a datagram larger than the MTU is
 * fragmented here (RFC 791 3.2; RFC 8200 4.5 for IPv6, where only the source fragments).
 */
import { emitIcmpv4, icmpv4BufferLen } from '../wire/icmpv4.js';
import type { Icmpv4Repr } from '../wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen } from '../wire/icmpv6.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV4_HEADER_LEN, emitIpv4Header } from '../wire/ipv4.js';
import { IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, emitIpv6, ipv6FragmentHeader } from '../wire/ipv6.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlags, emitTcp, tcpBufferLen, tcpRepr, tcpSegmentLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { emitUdp, udpBufferLen } from '../wire/udp.js';

/** TTL / hop limit of every datagram l4 sends (Linux's default, net.ipv4.ip_default_ttl). */
export const DEFAULT_TTL = 64;

const EMPTY = new Uint8Array(0);

/** Header fields `ipDatagram` lets the caller choose. */
export interface IpDatagramOptions {
  /** TTL or hop limit; default {@link DEFAULT_TTL}. */
  readonly ttl?: number;
  /** IPv4 DF flag; default true. */
  readonly dontFragment?: boolean;
}

/**
 * One datagram from `src` to `dst` (4 or 16 bytes each, the same family) carrying
 * `payloadLength` bytes of `protocol` that `writePayload` puts at the offset it is given.
 */
export function ipDatagram(
  src: Uint8Array, dst: Uint8Array, protocol: number, identification: number, payloadLength: number,
  writePayload: (buf: Uint8Array, offset: number) => void, options: IpDatagramOptions = {},
): Uint8Array {
  const ttl = options.ttl ?? DEFAULT_TTL;
  if (src.length === 4) {
    const buf = new Uint8Array(IPV4_HEADER_LEN + payloadLength);
    emitIpv4Header({
      src, dst, protocol, ttl, dscp: 0, ecn: 0, identification: identification & 0xffff,
      dontFragment: options.dontFragment ?? true, moreFragments: false, fragmentOffset: 0, options: EMPTY, payload: EMPTY,
    }, payloadLength, buf, 0);
    writePayload(buf, IPV4_HEADER_LEN);
    return buf;
  }
  const buf = new Uint8Array(IPV6_HEADER_LEN + payloadLength);
  writePayload(buf, IPV6_HEADER_LEN);
  // emitIpv6 copies its payload into place; handing it the very bytes already in place
  // makes that copy a no-op and keeps one buffer.
  emitIpv6({
    src, dst, trafficClass: 0, flowLabel: 0, hopLimit: ttl, extensionHeaders: [],
    upperProtocol: protocol, payload: buf.subarray(IPV6_HEADER_LEN),
  }, buf, 0);
  return buf;
}

/**
 * `transport` (a whole transport-layer message) from `src` to `dst` as IP packets of at most
 * `mtu` bytes: one packet when it fits, else fragments. IPv4 (RFC 791 3.2): DF clear, every
 * fragment but the last carries a multiple of 8 bytes and MF; `identification` is 16 bits.
 * IPv6 (RFC 8200 4.5): a fragment header in each fragment (the unfragmentable part is the
 * fixed header alone), `identification` 32 bits. `mtu` must leave room for 8 bytes of data
 * after the headers (at least 36 for IPv4, 56 for IPv6).
 */
export function fragmentedDatagram(
  src: Uint8Array, dst: Uint8Array, protocol: number, identification: number, transport: Uint8Array, mtu: number, ttl: number = DEFAULT_TTL,
): Uint8Array[] {
  const write = (buf: Uint8Array, at: number): void => { buf.set(transport, at); };
  if (src.length === 4) {
    if (IPV4_HEADER_LEN + transport.length <= mtu) {
      return [ipDatagram(src, dst, protocol, identification, transport.length, write, { ttl, dontFragment: false })];
    }
    const chunk = Math.floor((mtu - IPV4_HEADER_LEN) / 8) * 8;
    if (chunk < 8) throw new RangeError(`MTU ${mtu} leaves no room for a fragment`);
    const out: Uint8Array[] = [];
    for (let offset = 0; offset < transport.length; offset += chunk) {
      const data = transport.subarray(offset, Math.min(transport.length, offset + chunk));
      const buf = new Uint8Array(IPV4_HEADER_LEN + data.length);
      emitIpv4Header({
        src, dst, protocol, ttl, dscp: 0, ecn: 0, identification: identification & 0xffff, dontFragment: false,
        moreFragments: offset + data.length < transport.length, fragmentOffset: offset, options: EMPTY, payload: EMPTY,
      }, data.length, buf, 0);
      buf.set(data, IPV4_HEADER_LEN);
      out.push(buf);
    }
    return out;
  }
  if (IPV6_HEADER_LEN + transport.length <= mtu) {
    return [ipDatagram(src, dst, protocol, identification, transport.length, write, { ttl })];
  }
  const chunk = Math.floor((mtu - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN) / 8) * 8;
  if (chunk < 8) throw new RangeError(`MTU ${mtu} leaves no room for a fragment`);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < transport.length; offset += chunk) {
    const data = transport.subarray(offset, Math.min(transport.length, offset + chunk));
    const header = ipv6FragmentHeader({ offset, moreFragments: offset + data.length < transport.length, identification: identification >>> 0 });
    const repr = { src, dst, trafficClass: 0, flowLabel: 0, hopLimit: ttl, extensionHeaders: [header], upperProtocol: protocol, payload: data };
    const buf = new Uint8Array(IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN + data.length);
    emitIpv6(repr, buf, 0);
    out.push(buf);
  }
  return out;
}

/** A UDP datagram from `src`:`srcPort` to `dst`:`dstPort`, checksum always computed (RFC 768, RFC 8200 8.1). */
export function udpMessage(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const repr = { srcPort, dstPort, payload };
  const buf = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, buf, 0, src, dst);
  return buf;
}

/** Largest ICMPv4 error datagram: RFC 1812 4.3.2.3 "not exceed 576 bytes" (Linux quotes up to that). */
export const ICMPV4_ERROR_MAX = 576;
/** Largest ICMPv6 error packet: RFC 4443 2.4(c), "without making the error message packet exceed the minimum IPv6 MTU". */
export const ICMPV6_ERROR_MAX = 1280;

/**
 * An ICMPv4 error (destination unreachable or time exceeded) from `src` to `dst`, quoting as
 * much of `offending` (the whole IP datagram that caused it) as fits in 576 bytes: at least
 * its header and 8 bytes of data (RFC 792), as RFC 1812 4.3.2.3 asks. DF clear, as Linux
 * sends its errors.
 */
export function icmpv4ErrorDatagram(
  src: Uint8Array, dst: Uint8Array, message: { type: 'destination-unreachable'; code: number; nextHopMtu?: number } | { type: 'time-exceeded'; code: number },
  offending: Uint8Array, identification: number,
): Uint8Array {
  const invoking = offending.subarray(0, Math.min(offending.length, ICMPV4_ERROR_MAX - IPV4_HEADER_LEN - 8));
  const repr: Icmpv4Repr = message.type === 'destination-unreachable'
    ? { type: 'destination-unreachable', code: message.code, nextHopMtu: message.nextHopMtu ?? 0, invoking }
    : { type: 'time-exceeded', code: message.code, invoking };
  return ipDatagram(src, dst, IpProtocol.Icmp, identification, icmpv4BufferLen(repr), (buf, at) => {
    emitIcmpv4(repr, buf, at);
  }, { dontFragment: false });
}

/** An ICMPv6 error (destination unreachable or time exceeded) quoting as much of `offending` as fits in 1280 bytes. */
export function icmpv6ErrorDatagram(
  src: Uint8Array, dst: Uint8Array, message: { type: 'destination-unreachable' | 'time-exceeded'; code: number }, offending: Uint8Array,
): Uint8Array {
  const invoking = offending.subarray(0, Math.min(offending.length, ICMPV6_ERROR_MAX - IPV6_HEADER_LEN - 8));
  const repr: Icmpv6Repr = { type: message.type, code: message.code, invoking };
  return ipDatagram(src, dst, IpProtocol.Icmpv6, 0, icmpv6BufferLen(repr), (buf, at) => {
    emitIcmpv6(repr, buf, at, src, dst);
  });
}

/** A TCP segment from `src` to `dst` in one datagram, checksum filled. */
export function tcpDatagram(src: Uint8Array, dst: Uint8Array, repr: TcpRepr, identification: number): Uint8Array {
  return ipDatagram(src, dst, IpProtocol.Tcp, identification, tcpBufferLen(repr), (buf, at) => {
    emitTcp(repr, buf, at, src, dst);
  });
}

/**
 * The reset that answers `seg` when no connection exists, or undefined for a segment that
 * must not be answered. RFC 9293 3.10.7.1 (CLOSED): "An incoming segment containing a RST is
 * discarded. An incoming segment not containing a RST causes a RST to be sent in response.
 * The acknowledgment and sequence field values are selected to make the reset sequence
 * acceptable to the TCP endpoint that sent the offending segment. If the ACK bit is off,
 * sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK bit is
 * on, <SEQ=SEG.ACK><CTL=RST>." The same reset answers an ACK at a listener (3.10.7.2).
 */
export function resetFor(seg: TcpRepr): TcpRepr | undefined {
  if (seg.flags & TcpFlags.RST) return undefined;
  if (seg.flags & TcpFlags.ACK) {
    return tcpRepr({ srcPort: seg.dstPort, dstPort: seg.srcPort, seqNumber: seg.ackNumber, flags: TcpFlags.RST });
  }
  return tcpRepr({
    srcPort: seg.dstPort, dstPort: seg.srcPort, seqNumber: 0,
    ackNumber: seqAdd(seg.seqNumber, tcpSegmentLength(seg)), flags: TcpFlags.RST | TcpFlags.ACK,
  });
}

/** An ICMPv4 echo reply to `request` (RFC 792: same identifier, sequence and data). */
export function icmpv4EchoReply(src: Uint8Array, dst: Uint8Array, request: { identifier: number; sequence: number; data: Uint8Array }, identification: number): Uint8Array {
  const reply: Icmpv4Repr = { type: 'echo-reply', code: 0, identifier: request.identifier, sequence: request.sequence, data: request.data };
  return ipDatagram(src, dst, IpProtocol.Icmp, identification, icmpv4BufferLen(reply), (buf, at) => {
    emitIcmpv4(reply, buf, at);
  });
}

/** An ICMPv6 echo reply to `request` (RFC 4443 4.2). */
export function icmpv6EchoReply(src: Uint8Array, dst: Uint8Array, request: { identifier: number; sequence: number; data: Uint8Array }): Uint8Array {
  const reply: Icmpv6Repr = { type: 'echo-reply', code: 0, identifier: request.identifier, sequence: request.sequence, data: request.data };
  return ipDatagram(src, dst, IpProtocol.Icmpv6, 0, icmpv6BufferLen(reply), (buf, at) => {
    emitIcmpv6(reply, buf, at, src, dst);
  });
}
