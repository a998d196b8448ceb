/**
 * The datagram quoted in an ICMP error message ("invoking packet"): enough of it to tell
 * which socket the error concerns. An ICMP error carries the start of the packet that
 * caused it — RFC 792 the IP header plus the first 64 bits of data, RFC 1812 4.3.2.3 and
 * RFC 4443 2.4(c) as much as fits — so the quote is truncated by design: the inner IP
 * length fields describe a packet longer than the bytes we have, and that is accepted.
 * What must be present is the inner IP header itself (and, for IPv6, the extension headers
 * up to the transport header) and, for TCP and UDP, the two port numbers. Everything else
 * is read leniently: the inner IPv4 header checksum and total length are not checked, and
 * IPv6 extension headers are walked in any order. This module deliberately does not use
 * the IPv4/IPv6 parsers, whose checks are for packets we receive whole.
 */
import type { ParseResult } from './result.js';
import { fail, ok } from './result.js';

/** What the quote tells about the packet that provoked an ICMP error. */
export interface QuotedDatagram {
  /** Source address of the original packet: our own address when we sent it (a copy). */
  readonly src: Uint8Array;
  /** Destination address of the original packet: the peer (a copy). */
  readonly dst: Uint8Array;
  /**
   * The upper-layer protocol: the IPv4 protocol field, or for IPv6 the next-header value
   * reached after the extension headers (the fragment header's when the quote is a
   * non-first fragment, 50 for ESP, whose payload cannot be read).
   */
  readonly protocol: number;
  /** Bytes from the start of the quote to the upper-layer header (IPv4 IHL * 4, IPv6 40 + extension headers). */
  readonly ipHeaderLength: number;
  /** TCP or UDP source port of the original packet (our port), when the quote holds a first fragment of TCP or UDP. */
  readonly srcPort?: number;
  /** TCP or UDP destination port (the peer's port). */
  readonly dstPort?: number;
  /**
   * The TCP sequence number of the quoted segment, when its 8 first TCP bytes are quoted:
   * RFC 5927 4.1 asks that it be checked against the send window before acting on the error.
   */
  readonly tcpSeq?: number;
}

const TCP = 6;
const UDP = 17;

/**
 * Reads the quoted datagram of an ICMPv4 (`family` 4) or ICMPv6 (`family` 6) error.
 * Fails with `truncated` when the inner IP header or the ports are cut off, `bad-version`
 * when the inner version is not `family`, `header-length-too-small` for an inner IHL below
 * 5, `header-length-past-end` when the IHL reaches past the quote, and
 * `extension-header-truncated` when an IPv6 extension header on the way to the transport
 * header is cut off.
 */
export function parseQuotedDatagram(invoking: Uint8Array, family: 4 | 6): ParseResult<QuotedDatagram> {
  return family === 4 ? parseQuotedV4(invoking) : parseQuotedV6(invoking);
}

function parseQuotedV4(b: Uint8Array): ParseResult<QuotedDatagram> {
  if (b.length < 20) return fail('truncated');
  if (b[0]! >>> 4 !== 4) return fail('bad-version');
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20) return fail('header-length-too-small');
  if (ihl > b.length) return fail('header-length-past-end');
  const protocol = b[9]!;
  const out: { -readonly [K in keyof QuotedDatagram]: QuotedDatagram[K] } = {
    src: b.slice(12, 16), dst: b.slice(16, 20), protocol, ipHeaderLength: ihl,
  };
  // Only a first fragment (offset 0) starts with the transport header (RFC 791 3.2).
  const firstFragment = (((b[6]! << 8) | b[7]!) & 0x1fff) === 0;
  if (firstFragment) {
    const r = readPorts(b, ihl, protocol, out);
    if (r !== null) return r;
  }
  return ok(out);
}

function parseQuotedV6(b: Uint8Array): ParseResult<QuotedDatagram> {
  if (b.length < 40) return fail('truncated');
  if (b[0]! >>> 4 !== 6) return fail('bad-version');
  let nh = b[6]!;
  let off = 40;
  let firstFragment = true;
  // Walk the chain as far as the transport header (RFC 8200 4); lenient on order, since the
  // packet was ours or a router's and we only want the ports. Each header is at least 8
  // bytes, so the walk ends within the quote.
  walk: for (;;) {
    switch (nh) {
      case 0: // Hop-by-Hop Options
      case 43: // Routing
      case 60: { // Destination Options: (Hdr Ext Len + 1) * 8 bytes
        if (off + 2 > b.length) return fail('extension-header-truncated');
        const len = (b[off + 1]! + 1) * 8;
        if (off + len > b.length) return fail('extension-header-truncated');
        nh = b[off]!;
        off += len;
        break;
      }
      case 44: { // Fragment: 8 bytes; a non-first fragment carries no transport header
        if (off + 8 > b.length) return fail('extension-header-truncated');
        nh = b[off]!;
        firstFragment = (((b[off + 2]! << 8) | b[off + 3]!) & 0xfff8) === 0;
        off += 8;
        if (!firstFragment) break walk;
        break;
      }
      case 51: { // Authentication Header: (Payload Len + 2) * 4 bytes (RFC 4302 2.2)
        if (off + 2 > b.length) return fail('extension-header-truncated');
        const len = (b[off + 1]! + 2) * 4;
        if (off + len > b.length) return fail('extension-header-truncated');
        nh = b[off]!;
        off += len;
        break;
      }
      default: // the upper layer, ESP, No Next Header, or something we cannot walk
        break walk;
    }
  }
  const out: { -readonly [K in keyof QuotedDatagram]: QuotedDatagram[K] } = {
    src: b.slice(8, 24), dst: b.slice(24, 40), protocol: nh, ipHeaderLength: off,
  };
  if (firstFragment) {
    const r = readPorts(b, off, nh, out);
    if (r !== null) return r;
  }
  return ok(out);
}

/** Fills ports (and the TCP sequence number if quoted); a failure result if the ports are cut off. */
function readPorts(
  b: Uint8Array, off: number, protocol: number,
  out: { srcPort?: number; dstPort?: number; tcpSeq?: number },
): ParseResult<QuotedDatagram> | null {
  if (protocol !== TCP && protocol !== UDP) return null;
  if (off + 4 > b.length) return fail('truncated');
  out.srcPort = (b[off]! << 8) | b[off + 1]!;
  out.dstPort = (b[off + 2]! << 8) | b[off + 3]!;
  if (protocol === TCP && off + 8 <= b.length) {
    out.tcpSeq = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  }
  return null;
}
