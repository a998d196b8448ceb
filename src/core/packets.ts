/**
 * The packets a host builds itself: IP encapsulation of a transport payload, the reset that
 * answers a segment for no socket (RFC 9293 3.10.7.1), and the ICMP echo reply.
 *
 * Contract: every function returns a fresh buffer holding one whole IP datagram, sized
 * exactly (header and payload emitted into the same buffer, no copy of the payload through
 * an intermediate). IPv4 datagrams carry TTL 64 and DF (l4 does not fragment; RFC 6864 lets
 * the identification of an atomic datagram be anything, the host numbers them); IPv6 ones
 * hop limit 64, no extension headers and a zero flow label.
 */
import { emitIcmpv4, icmpv4BufferLen } from '../wire/icmpv4.js';
import type { Icmpv4Repr } from '../wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen } from '../wire/icmpv6.js';
import type { Icmpv6Repr } from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ip-protocol.js';
import { IPV4_HEADER_LEN, emitIpv4Header } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN, emitIpv6 } from '../wire/ipv6.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlags, emitTcp, tcpBufferLen, tcpRepr, tcpSegmentLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';

/** TTL / hop limit of every datagram l4 sends (Linux's default, net.ipv4.ip_default_ttl). */
export const DEFAULT_TTL = 64;

const EMPTY = new Uint8Array(0);

/**
 * One datagram from `src` to `dst` (4 or 16 bytes each, the same family) carrying
 * `payloadLength` bytes of `protocol` that `writePayload` puts at the offset it is given.
 */
export function ipDatagram(
  src: Uint8Array, dst: Uint8Array, protocol: number, identification: number, payloadLength: number,
  writePayload: (buf: Uint8Array, offset: number) => void,
): Uint8Array {
  if (src.length === 4) {
    const buf = new Uint8Array(IPV4_HEADER_LEN + payloadLength);
    emitIpv4Header({
      src, dst, protocol, ttl: DEFAULT_TTL, dscp: 0, ecn: 0, identification: identification & 0xffff,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, options: EMPTY, payload: EMPTY,
    }, payloadLength, buf, 0);
    writePayload(buf, IPV4_HEADER_LEN);
    return buf;
  }
  const buf = new Uint8Array(IPV6_HEADER_LEN + payloadLength);
  writePayload(buf, IPV6_HEADER_LEN);
  // emitIpv6 copies its payload into place; handing it the very bytes already in place
  // makes that copy a no-op and keeps one buffer.
  emitIpv6({
    src, dst, trafficClass: 0, flowLabel: 0, hopLimit: DEFAULT_TTL, extensionHeaders: [],
    upperProtocol: protocol, payload: buf.subarray(IPV6_HEADER_LEN),
  }, buf, 0);
  return buf;
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
