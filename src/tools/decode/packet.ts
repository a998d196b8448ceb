/**
 * Decoding one captured frame layer by layer: link, network (IPv4, IPv6, ARP), transport
 * (TCP, UDP, ICMP, ICMPv6). This is the wire layer applied to someone else's bytes, so it
 * never refuses a packet outright: each layer that parses is kept, the first layer that
 * does not is recorded with its reason, and checksums are *reported* rather than enforced
 * (a capture taken on a sending host shows bad TCP checksums whenever the NIC fills them
 * in: offload, not corruption).
 */
import { IpProtocol } from '../../wire/ip-protocol.js';
import { decapsulate, type LinkFrame } from '../../wire/link.js';
import type { CaptureRecord } from '../../wire/pcap.js';
import type { WireReason } from '../../wire/result.js';
import { ipv4HeaderChecksumValid, parseIpv4, type Ipv4Repr } from '../../wire/ipv4.js';
import { parseIpv6, type Ipv6Repr } from '../../wire/ipv6.js';
import { parseTcp, tcpChecksumValid, type TcpRepr } from '../../wire/tcp.js';
import { parseUdp, udpChecksumValid, type UdpRepr } from '../../wire/udp.js';
import { icmpv4ChecksumValid, parseIcmpv4, type Icmpv4Repr } from '../../wire/icmpv4.js';
import { icmpv6ChecksumValid, parseIcmpv6, type Icmpv6Repr } from '../../wire/icmpv6.js';
import { parseQuotedDatagram, type QuotedDatagram } from '../../wire/icmp-quote.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../../wire/checksum.js';

/** The layer a decoding problem belongs to. */
export type DecodeLayer = 'link' | 'arp' | 'ipv4' | 'ipv6' | 'tcp' | 'udp' | 'icmp' | 'icmpv6';

/** Why a layer of a frame could not be decoded. */
export interface DecodeProblem {
  readonly layer: DecodeLayer;
  readonly reason: WireReason;
}

/** An ARP packet over Ethernet and IPv4 (RFC 826), enough to print it. */
export interface ArpRepr {
  readonly operation: number;
  readonly senderMac: Uint8Array;
  readonly senderIp: Uint8Array;
  readonly targetMac: Uint8Array;
  readonly targetIp: Uint8Array;
}

/** The network layer of a frame. */
export type DecodedNetwork =
  | { readonly kind: 'ipv4'; readonly repr: Ipv4Repr; readonly checksumValid: boolean }
  | { readonly kind: 'ipv6'; readonly repr: Ipv6Repr }
  | { readonly kind: 'arp'; readonly repr: ArpRepr };

/**
 * Whether a checksum verified: true, false, or 'none' when the sender sent none (a zero
 * UDP checksum over IPv4), or 'unknown' when the segment was cut by the snap length.
 */
export type ChecksumStatus = boolean | 'none' | 'unknown';

/** The transport layer of a frame. */
export type DecodedTransport =
  /** `computedChecksum` is what the field should hold; computed only when the checksum is bad, else equal to `wireChecksum`. */
  | { readonly kind: 'tcp'; readonly repr: TcpRepr; readonly checksum: ChecksumStatus; readonly wireChecksum: number; readonly computedChecksum: number }
  | { readonly kind: 'udp'; readonly repr: UdpRepr; readonly checksum: ChecksumStatus; readonly wireChecksum: number; readonly computedChecksum: number }
  | { readonly kind: 'icmp'; readonly repr: Icmpv4Repr; readonly checksum: ChecksumStatus; readonly quoted?: QuotedDatagram }
  | { readonly kind: 'icmpv6'; readonly repr: Icmpv6Repr; readonly checksum: ChecksumStatus; readonly quoted?: QuotedDatagram };

/** Everything l4 could read of one frame. */
export interface DecodedPacket {
  readonly record: CaptureRecord;
  readonly link?: LinkFrame;
  readonly network?: DecodedNetwork;
  readonly transport?: DecodedTransport;
  /** The first layer that failed, if any (layers below it are still present). */
  readonly problem?: DecodeProblem;
  /** Bytes the snap length cut off the end of the frame. */
  readonly missingBytes: number;
}

/** Decodes one capture record. Never throws. */
export function decodePacket(record: CaptureRecord): DecodedPacket {
  const missingBytes = Math.max(0, record.originalLength - record.capturedLength);
  const base = { record, missingBytes };
  // A frame cut by the snap length still has its headers: decode it as if the missing tail
  // were zeros (as tcpdump reads lengths from the headers), and call its checksums unknown.
  const frameBytes = missingBytes > 0 && record.originalLength <= MAX_FRAME ? padded(record.data, record.originalLength) : record.data;
  const decoded = decodeFrame(base, frameBytes);
  return missingBytes > 0 ? checksumsUnknown(decoded) : decoded;
}

/** The largest frame we pad a snapped capture up to (the largest IP datagram plus a link header). */
const MAX_FRAME = 65535 + 64;

function padded(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(data);
  return out;
}

function checksumsUnknown(p: DecodedPacket): DecodedPacket {
  if (!p.transport) return p;
  return { ...p, transport: { ...p.transport, checksum: 'unknown' } as DecodedTransport };
}

function decodeFrame(base: Base, data: Uint8Array): DecodedPacket {
  const link = decapsulate(base.record.linkType, data);
  if (!link.ok) return { ...base, problem: { layer: 'link', reason: link.reason } };
  const frame = link.value;
  switch (frame.network) {
    case 'ipv4': return decodeIpv4(base, frame);
    case 'ipv6': return decodeIpv6(base, frame);
    case 'arp': {
      const arp = parseArp(frame.payload);
      return arp.ok ? { ...base, link: frame, network: { kind: 'arp', repr: arp.value } }
        : { ...base, link: frame, problem: { layer: 'arp', reason: arp.reason } };
    }
    default: return { ...base, link: frame };
  }
}

type Base = { record: CaptureRecord; missingBytes: number };

function decodeIpv4(base: Base, link: LinkFrame): DecodedPacket {
  const parsed = parseIpv4(link.payload, { verifyChecksum: false });
  if (!parsed.ok) return { ...base, link, problem: { layer: 'ipv4', reason: parsed.reason } };
  const ip = parsed.value;
  const network: DecodedNetwork = { kind: 'ipv4', repr: ip, checksumValid: ipv4HeaderChecksumValid(link.payload) };
  // A fragment other than the first carries no transport header (RFC 791 3.2).
  if (ip.fragmentOffset !== 0) return { ...base, link, network };
  const transport = decodeTransport(ip.protocol, ip.payload, ip.src, ip.dst, ip.moreFragments);
  return { ...base, link, network, ...transport };
}

function decodeIpv6(base: Base, link: LinkFrame): DecodedPacket {
  const parsed = parseIpv6(link.payload);
  if (!parsed.ok) return { ...base, link, problem: { layer: 'ipv6', reason: parsed.reason } };
  const ip = parsed.value;
  const network: DecodedNetwork = { kind: 'ipv6', repr: ip };
  if (ip.isNonFirstFragment) return { ...base, link, network };
  const transport = decodeTransport(ip.upperProtocol, ip.payload, ip.src, ip.dst, ip.fragment?.moreFragments ?? false);
  return { ...base, link, network, ...transport };
}

/**
 * Parses the transport header. Checksums are checked separately so a bad one is shown, not
 * dropped; over a first fragment the checksum covers bytes not in this packet, so it is
 * 'unknown'.
 */
function decodeTransport(protocol: number, bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, fragmented: boolean):
  { transport?: DecodedTransport; problem?: DecodeProblem } {
  switch (protocol) {
    case IpProtocol.Tcp: {
      const r = parseTcp(bytes, src, dst, { verifyChecksum: false });
      if (!r.ok) return { problem: { layer: 'tcp', reason: r.reason } };
      const checksum: ChecksumStatus = fragmented ? 'unknown' : tcpChecksumValid(bytes, src, dst);
      const wireChecksum = (bytes[16]! << 8) | bytes[17]!; // parseTcp guaranteed 20 bytes
      const computedChecksum = checksum === false ? expectedChecksum(bytes, src, dst, 6, 16) : wireChecksum;
      return { transport: { kind: 'tcp', repr: r.value, checksum, wireChecksum, computedChecksum } };
    }
    case IpProtocol.Udp: {
      const r = parseUdp(bytes, src, dst, { verifyChecksum: false });
      if (!r.ok) return { problem: { layer: 'udp', reason: r.reason } };
      const checksum: ChecksumStatus = fragmented ? 'unknown' : udpChecksumValid(bytes, src, dst);
      const wireChecksum = r.value.checksum;
      const computedChecksum = checksum === false ? expectedChecksum(bytes.subarray(0, r.value.length), src, dst, 17, 6) : wireChecksum;
      return { transport: { kind: 'udp', repr: r.value, checksum, wireChecksum, computedChecksum } };
    }
    case IpProtocol.Icmp: {
      const r = parseIcmpv4(bytes, { verifyChecksum: false });
      if (!r.ok) return { problem: { layer: 'icmp', reason: r.reason } };
      const quoted = 'invoking' in r.value ? quote(r.value.invoking, 4) : undefined;
      return { transport: { kind: 'icmp', repr: r.value, checksum: fragmented ? 'unknown' : icmpv4ChecksumValid(bytes), ...(quoted ? { quoted } : {}) } };
    }
    case IpProtocol.Icmpv6: {
      const r = parseIcmpv6(bytes, src, dst, { verifyChecksum: false });
      if (!r.ok) return { problem: { layer: 'icmpv6', reason: r.reason } };
      const quoted = 'invoking' in r.value ? quote(r.value.invoking, 6) : undefined;
      return { transport: { kind: 'icmpv6', repr: r.value, checksum: fragmented ? 'unknown' : icmpv6ChecksumValid(bytes, src, dst), ...(quoted ? { quoted } : {}) } };
    }
    default:
      return {};
  }
}

function quote(invoking: Uint8Array, family: 4 | 6): QuotedDatagram | undefined {
  const q = parseQuotedDatagram(invoking, family);
  return q.ok ? q.value : undefined;
}

/** The checksum the sender should have written (the field at `at` taken as zero). */
function expectedChecksum(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, protocol: number, at: number): number {
  if (bytes.length < at + 2) return 0;
  const field = (bytes[at]! << 8) | bytes[at + 1]!;
  const sum = pseudoHeaderSum(src, dst, protocol, bytes.length) + checksumAdd(0, bytes) - field;
  const value = checksumFinish(sum);
  return protocol === 17 && value === 0 ? 0xffff : value; // RFC 768: a computed zero is sent as all ones
}

/** RFC 826 ARP for Ethernet hardware and IPv4 protocol addresses (28 bytes). */
function parseArp(bytes: Uint8Array): { ok: true; value: ArpRepr } | { ok: false; reason: WireReason } {
  if (bytes.length < 28) return { ok: false, reason: 'truncated' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  // Only Ethernet (1) / IPv4 (0x0800) with 6- and 4-byte addresses is laid out as below.
  if (view.getUint16(0) !== 1 || view.getUint16(2) !== 0x0800 || bytes[4] !== 6 || bytes[5] !== 4) {
    return { ok: false, reason: 'bad-field' };
  }
  return {
    ok: true,
    value: {
      operation: view.getUint16(6),
      senderMac: bytes.slice(8, 14),
      senderIp: bytes.slice(14, 18),
      targetMac: bytes.slice(18, 24),
      targetIp: bytes.slice(24, 28),
    },
  };
}
