/**
 * Helpers for the UDP, ICMP and reassembly tests: UDP datagrams, ICMP errors and IP fragments
 * built with the wire emitters, and the host's UDP events read back.
 */
import assert from 'node:assert/strict';
import { emitIcmpv4, icmpv4BufferLen, parseIcmpv4 } from '../../src/wire/icmpv4.js';
import type { Icmpv4Repr } from '../../src/wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import type { Icmpv6Repr } from '../../src/wire/icmpv6.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { emitIpv4, ipv4BufferLen } from '../../src/wire/ipv4.js';
import { emitIpv6, ipv6BufferLen, ipv6FragmentHeader } from '../../src/wire/ipv6.js';
import { emitUdp, parseUdp, udpBufferLen } from '../../src/wire/udp.js';
import type { UdpRepr } from '../../src/wire/udp.js';
import type { Host, HostEvent } from '../../src/core/host.js';
import type { UdpSocket } from '../../src/core/udp/socket.js';
import { ip, ipPacket, readPacket } from './support.js';

/** The UDP datagram (header and payload) from `src`:`srcPort` to `dst`:`dstPort`; checksum computed unless `checksum` is given. */
export function udpBytes(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array, checksum?: number): Uint8Array {
  const repr = { srcPort, dstPort, payload };
  const buf = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, buf, 0, ip(src), ip(dst), { fillChecksum: checksum === undefined });
  if (checksum !== undefined) {
    buf[6] = checksum >>> 8;
    buf[7] = checksum & 0xff;
  }
  return buf;
}

/** A UDP datagram in one IP packet. */
export function udpPacket(src: string, dst: string, srcPort: number, dstPort: number, payload: Uint8Array, checksum?: number): Uint8Array {
  return ipPacket(src, dst, IpProtocol.Udp, udpBytes(src, dst, srcPort, dstPort, payload, checksum));
}

/** One IPv4 fragment of `transport` (bytes [offset, end)) with identification `id`. */
export function ipv4Fragment(src: string, dst: string, protocol: number, id: number, transport: Uint8Array, offset: number, end: number, more: boolean): Uint8Array {
  const repr = {
    src: ip(src), dst: ip(dst), protocol, ttl: 64, dscp: 0, ecn: 0, identification: id, dontFragment: false,
    moreFragments: more, fragmentOffset: offset, options: new Uint8Array(0), payload: transport.subarray(offset, end),
  };
  const buf = new Uint8Array(ipv4BufferLen(repr));
  emitIpv4(repr, buf);
  return buf;
}

/** One IPv6 fragment of `transport` (bytes [offset, end)) with identification `id`. */
export function ipv6Fragment(src: string, dst: string, protocol: number, id: number, transport: Uint8Array, offset: number, end: number, more: boolean): Uint8Array {
  const repr = {
    src: ip(src), dst: ip(dst), trafficClass: 0, flowLabel: 0, hopLimit: 64,
    extensionHeaders: [ipv6FragmentHeader({ offset, moreFragments: more, identification: id })],
    upperProtocol: protocol, payload: transport.subarray(offset, end),
  };
  const buf = new Uint8Array(ipv6BufferLen(repr));
  emitIpv6(repr, buf);
  return buf;
}

/** A fragment of either family. */
export function fragment(src: string, dst: string, protocol: number, id: number, transport: Uint8Array, offset: number, end: number, more: boolean): Uint8Array {
  return src.includes(':') ? ipv6Fragment(src, dst, protocol, id, transport, offset, end, more) : ipv4Fragment(src, dst, protocol, id, transport, offset, end, more);
}

/** An ICMPv4 message in an IPv4 packet. */
export function icmpv4Packet(src: string, dst: string, repr: Icmpv4Repr): Uint8Array {
  const b = new Uint8Array(icmpv4BufferLen(repr));
  emitIcmpv4(repr, b);
  return ipPacket(src, dst, IpProtocol.Icmp, b);
}

/** An ICMPv6 message in an IPv6 packet. */
export function icmpv6Packet(src: string, dst: string, repr: Icmpv6Repr): Uint8Array {
  const b = new Uint8Array(icmpv6BufferLen(repr));
  emitIcmpv6(repr, b, 0, ip(src), ip(dst));
  return ipPacket(src, dst, IpProtocol.Icmpv6, b);
}

/** An ICMP destination unreachable (v4 code / v6 code) from `router` to `to`, quoting `quoted`. */
export function unreachable(router: string, to: string, code: number, quoted: Uint8Array): Uint8Array {
  return router.includes(':')
    ? icmpv6Packet(router, to, { type: 'destination-unreachable', code, invoking: quoted })
    : icmpv4Packet(router, to, { type: 'destination-unreachable', code, nextHopMtu: 0, invoking: quoted });
}

/** A UDP datagram the host sent, read back (checksums verified). */
export function readUdp(packet: Uint8Array): { src: Uint8Array; dst: Uint8Array; udp: UdpRepr; ttl: number; dontFragment: boolean } {
  const p = readPacket(packet);
  assert.equal(p.protocol, IpProtocol.Udp);
  const u = parseUdp(p.payload, p.src, p.dst);
  assert.ok(u.ok, u.ok ? '' : u.reason);
  return { src: p.src, dst: p.dst, udp: u.value, ttl: p.ttl, dontFragment: p.dontFragment };
}

/** An ICMP message the host sent, read back. */
export function readIcmp(packet: Uint8Array): { src: Uint8Array; dst: Uint8Array; v4?: Icmpv4Repr; v6?: Icmpv6Repr; length: number } {
  const p = readPacket(packet);
  if (p.protocol === IpProtocol.Icmp) {
    const m = parseIcmpv4(p.payload);
    assert.ok(m.ok, m.ok ? '' : m.reason);
    return { src: p.src, dst: p.dst, v4: m.value, length: packet.length };
  }
  assert.equal(p.protocol, IpProtocol.Icmpv6);
  const m = parseIcmpv6(p.payload, p.src, p.dst);
  assert.ok(m.ok, m.ok ? '' : m.reason);
  return { src: p.src, dst: p.dst, v6: m.value, length: packet.length };
}

/** UDP events of `socket` among `list`. */
export function udpEvents(list: HostEvent[], socket?: UdpSocket): Array<Extract<HostEvent, { type: 'udp' }>['event']> {
  return list.flatMap((e) => (e.type === 'udp' && (socket === undefined || e.socket === socket) ? [e.event] : []));
}

/** Binds or fails the test. */
export function bind(host: Host, options: Parameters<Host['udpBind']>[0]): UdpSocket {
  const r = host.udpBind(options);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.socket;
}

/** Deterministic bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
