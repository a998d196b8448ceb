/**
 * The packets a host builds itself: IP encapsulation of a transport payload, the reset that
 * answers a segment for no socket (RFC 9293 3.10.7.1), the ICMP echo reply, ICMP errors,
 * and UDP datagrams, fragmented when they do not fit the path.
 *
 * Contract: every function returns fresh buffers, each holding one whole IP datagram, sized
 * exactly (header and payload emitted into the same buffer). "Fresh" means never handed out
 * before and never written again by l4: small datagrams are views carved one after another
 * out of shared 64 KiB slabs (`PacketBuffers`; allocating a typed array per packet costs
 * about a microsecond, a view on a slab a few tens of nanoseconds), so `packet.buffer` is
 * larger than the packet and a kept packet keeps its slab alive. `tcpDatagram` and
 * `udpDatagrams` take `checksums: false` for a trusted interface (see `interfaces.ts`): the
 * IPv4 header checksum and the transport checksum are then left 0 (for UDP over IPv6 the
 * checksum is computed anyway, RFC 8200 8.1). By default IPv4 datagrams carry
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
import { IPV4_HEADER_LEN, emitIpv4Header, emitPlainIpv4Header } from '../wire/ipv4.js';
import { IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, emitIpv6, ipv6FragmentHeader } from '../wire/ipv6.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlags, emitTcp, tcpBufferLen, tcpRepr, tcpSegmentLength } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp.js';
import { emitUdp, udpBufferLen } from '../wire/udp.js';

/** TTL / hop limit of every datagram l4 sends (Linux's default, net.ipv4.ip_default_ttl). */
export const DEFAULT_TTL = 64;

const EMPTY = new Uint8Array(0);

/** Bytes of one slab. */
const SLAB_SIZE = 64 * 1024;
/** A datagram longer than this gets an `ArrayBuffer` of its own (a slab would hold too few). */
const SLAB_MAX_PACKET = 16 * 1024;

/**
 * Where packet buffers come from: zeroed views carved in order out of a slab, a new slab once
 * the current one is used up (what Node's `Buffer.allocUnsafe` pool does, minus the reuse).
 * Nothing is ever handed out twice, so a packet may be kept as long as anyone likes; the
 * price is that a kept packet keeps its whole slab (64 KiB) from being collected. Offsets
 * are 8-byte aligned, so the checksum's 32-bit word loop applies to every header.
 */
export class PacketBuffers {
  #slab = new ArrayBuffer(SLAB_SIZE);
  #offset = 0;

  /** A fresh, zeroed buffer of exactly `length` bytes. */
  take(length: number): Uint8Array {
    if (length > SLAB_MAX_PACKET) return new Uint8Array(length);
    if (this.#offset + length > SLAB_SIZE) {
      this.#slab = new ArrayBuffer(SLAB_SIZE);
      this.#offset = 0;
    }
    const buf = new Uint8Array(this.#slab, this.#offset, length);
    this.#offset += (length + 7) & ~7;
    return buf;
  }
}

/** The buffers of every datagram built here (one pool per process: views never overlap, so hosts can share it). */
const buffers = new PacketBuffers();

/** Header fields `ipDatagram` lets the caller choose. */
export interface IpDatagramOptions {
  /** TTL or hop limit; default {@link DEFAULT_TTL}. */
  readonly ttl?: number;
  /** IPv4 DF flag; default true. */
  readonly dontFragment?: boolean;
  /** Compute the IPv4 header checksum (default true); false leaves it 0, for a trusted interface. */
  readonly checksum?: boolean;
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
    const buf = buffers.take(IPV4_HEADER_LEN + payloadLength);
    emitPlainIpv4Header(buf, 0, src, dst, protocol, ttl, identification & 0xffff, options.dontFragment ?? true, payloadLength, options.checksum ?? true);
    writePayload(buf, IPV4_HEADER_LEN);
    return buf;
  }
  const buf = buffers.take(IPV6_HEADER_LEN + payloadLength);
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
      const buf = buffers.take(IPV4_HEADER_LEN + data.length);
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
    const buf = buffers.take(IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN + data.length);
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

/**
 * A UDP datagram from `src`:`srcPort` to `dst`:`dstPort` as IP packets of at most `mtu`
 * bytes (see {@link fragmentedDatagram}), DF clear. When it fits in one packet it is emitted
 * in place (one copy of the payload, not two). `checksums: false` (a trusted interface)
 * leaves the IPv4 header checksum and the UDP checksum 0, which RFC 768 reads as "none";
 * over IPv6 the UDP checksum is computed whatever `checksums` says, since RFC 8200 8.1
 * makes receivers discard a zero one.
 */
export function udpDatagrams(
  src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, payload: Uint8Array,
  identification: number, mtu: number, ttl: number = DEFAULT_TTL, checksums = true,
): Uint8Array[] {
  const repr = { srcPort, dstPort, payload };
  const length = udpBufferLen(repr);
  const v4 = src.length === 4;
  if ((v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + length > mtu) {
    return fragmentedDatagram(src, dst, IpProtocol.Udp, identification, udpMessage(src, dst, srcPort, dstPort, payload), mtu, ttl);
  }
  const fill = checksums || !v4;
  return [ipDatagram(src, dst, IpProtocol.Udp, identification, length, (buf, at) => {
    emitUdp(repr, buf, at, src, dst, fill ? undefined : NO_CHECKSUM);
  }, { ttl, dontFragment: false, checksum: checksums })];
}

/** The emit options of a trusted interface. */
const NO_CHECKSUM = { fillChecksum: false } as const;

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

/**
 * A TCP segment from `src` to `dst` in one datagram (DF set, TTL 64), checksums filled unless
 * `checksums` is false (a trusted interface: the IPv4 header and TCP checksums are left 0).
 * The IPv4 case, every data segment a host sends, is written straight into one buffer with
 * no intermediate record or closure.
 */
export function tcpDatagram(src: Uint8Array, dst: Uint8Array, repr: TcpRepr, identification: number, checksums = true): Uint8Array {
  const tcpLength = tcpBufferLen(repr);
  if (src.length === 4) {
    const buf = buffers.take(IPV4_HEADER_LEN + tcpLength);
    emitPlainIpv4Header(buf, 0, src, dst, IpProtocol.Tcp, DEFAULT_TTL, identification & 0xffff, true, tcpLength, checksums);
    emitTcp(repr, buf, IPV4_HEADER_LEN, src, dst, checksums ? undefined : NO_CHECKSUM);
    return buf;
  }
  return ipDatagram(src, dst, IpProtocol.Tcp, identification, tcpLength, (buf, at) => {
    emitTcp(repr, buf, at, src, dst, checksums ? undefined : NO_CHECKSUM);
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
