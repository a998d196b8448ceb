/**
 * Every Internet checksum of an IP datagram, computed afresh into a copy: the IPv4 header
 * checksum, then the checksum of a TCP segment, UDP datagram, ICMPv4 or ICMPv6 message it
 * carries whole (RFC 1071 sums, with the pseudo-headers of RFC 9293 3.1, RFC 768 and RFC
 * 8200 8.1). A host on a trusted link leaves these fields 0 (see `core/interfaces.ts`); a
 * capture of that link fills them here so that tshark and tcpdump find valid packets.
 *
 * Contract: never throws and never writes into its input. What it cannot read (a malformed
 * header, an unknown protocol, a fragment, whose transport checksum spans datagrams it does
 * not have) is copied unchanged beyond what it could fill. A UDP checksum that computes to
 * zero is written as all ones (RFC 768: zero means "none").
 */
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { IpProtocol } from './ip-protocol.js';
import { ipv4Fault } from './ipv4.js';
import { parseIpv6 } from './ipv6.js';

/** A copy of `packet` (a whole IPv4 or IPv6 datagram) with its checksums filled (see the module doc). */
export function withChecksums(packet: Uint8Array): Uint8Array {
  const copy = packet.slice();
  const version = copy.length > 0 ? copy[0]! >>> 4 : 0;
  if (version === 4) {
    if (ipv4Fault(copy) !== null) return copy;
    const headerLength = (copy[0]! & 0x0f) * 4;
    copy[10] = 0;
    copy[11] = 0;
    const header = internetChecksum(copy, 0, headerLength);
    copy[10] = header >>> 8;
    copy[11] = header & 0xff;
    if ((((copy[6]! << 8) | copy[7]!) & 0x3fff) !== 0) return copy; // a fragment
    const totalLength = (copy[2]! << 8) | copy[3]!;
    fillTransport(copy[9]!, copy.subarray(headerLength, totalLength), copy.subarray(12, 16), copy.subarray(16, 20));
    return copy;
  }
  if (version === 6) {
    const parsed = parseIpv6(copy);
    if (!parsed.ok || parsed.value.fragment !== undefined) return copy;
    const ip = parsed.value;
    fillTransport(ip.upperProtocol, ip.payload, copy.subarray(8, 24), copy.subarray(24, 40));
  }
  return copy;
}

/** Fills the checksum of the transport message `m` (a view into the copy) sent from `src` to `dst`. */
function fillTransport(protocol: number, m: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  const v4 = src.length === 4;
  let at: number;
  let sum: number;
  switch (protocol) {
    case IpProtocol.Tcp:
      if (m.length < 20) return;
      at = 16;
      m[at] = 0;
      m[at + 1] = 0;
      sum = pseudoHeaderSum(src, dst, IpProtocol.Tcp, m.length) + checksumAdd(0, m);
      break;
    case IpProtocol.Udp: {
      if (m.length < 8) return;
      const length = (m[4]! << 8) | m[5]!;
      const d = length >= 8 && length <= m.length ? m.subarray(0, length) : m;
      at = 6;
      m[at] = 0;
      m[at + 1] = 0;
      sum = pseudoHeaderSum(src, dst, IpProtocol.Udp, d.length) + checksumAdd(0, d);
      let c = checksumFinish(sum);
      if (c === 0) c = 0xffff;
      m[at] = c >>> 8;
      m[at + 1] = c & 0xff;
      return;
    }
    case IpProtocol.Icmp:
      if (!v4 || m.length < 4) return;
      at = 2;
      m[at] = 0;
      m[at + 1] = 0;
      sum = checksumAdd(0, m);
      break;
    case IpProtocol.Icmpv6:
      if (v4 || m.length < 4) return;
      at = 2;
      m[at] = 0;
      m[at + 1] = 0;
      sum = pseudoHeaderSum(src, dst, IpProtocol.Icmpv6, m.length) + checksumAdd(0, m);
      break;
    default:
      return;
  }
  const c = checksumFinish(sum);
  m[at] = c >>> 8;
  m[at + 1] = c & 0xff;
}
