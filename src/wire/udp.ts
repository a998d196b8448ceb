/**
 * UDP (RFC 768): an 8-byte header of source port, destination port, length and checksum.
 * `UdpPacket.checked` takes exactly the IP payload and validates the length field once:
 * below 8 is `length-too-small`, beyond the IP payload is `length-past-end`, and a length
 * *shorter* than the IP payload is accepted with the datagram cut at the length field
 * (RFC 768: the length field says how long the datagram is; Linux does the same and drops
 * the surplus). The checksum covers a pseudo-header (RFC 768 for IPv4, RFC 8200 8.1 for
 * IPv6, chosen by address length). A zero checksum means "not computed" over IPv4 and is
 * accepted unverified; over IPv6 it is forbidden (RFC 8200 8.1) and refused as `bad-field`.
 * On emit, a computed checksum of zero is sent as 0xffff (RFC 768), its ones'-complement twin.
 */
import type { ParseResult, WireReason } from './result.js';
import { fail, ok } from './result.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';

/** Bytes in a UDP header. */
export const UDP_HEADER_LEN = 8;

const UDP_PROTOCOL = 17;

/** A UDP datagram whose length field has been validated: accessors never read out of bounds. */
export class UdpPacket {
  /** The datagram: header and payload, cut at the length field (a view of the IP payload). */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates `ipPayload` (the whole IP payload) as a UDP datagram: `truncated` below 8
   * bytes, `length-too-small` for a length field below 8, `length-past-end` for a length
   * field beyond the payload. A shorter length field cuts the datagram.
   */
  static checked(ipPayload: Uint8Array): ParseResult<UdpPacket> {
    const d = validate(ipPayload);
    return typeof d === 'string' ? fail(d) : ok(new UdpPacket(d));
  }

  /** Bytes of the header (8); the payload follows. */
  get headerLength(): number { return UDP_HEADER_LEN; }
  /** Source port. */
  get srcPort(): number { return this.view.getUint16(0); }
  /** Destination port. */
  get dstPort(): number { return this.view.getUint16(2); }
  /** The length field: header plus payload, equal to `bytes.length`. */
  get length(): number { return this.view.getUint16(4); }
  /** The checksum field as sent (0 = none, IPv4 only). */
  get checksum(): number { return this.view.getUint16(6); }
  /** Bytes after the header, up to the length field (a view). */
  get payload(): Uint8Array { return this.bytes.subarray(UDP_HEADER_LEN); }
}

/**
 * A UDP datagram as a record. On parse, `length` and `checksum` are the fields as found;
 * `emitUdp` ignores both and derives them (length = 8 + payload, checksum computed or 0),
 * so `parseUdp(emitUdp(r))` equals `r` once those two are what emit writes.
 */
export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Header plus payload, as in the length field (ignored by emit). */
  readonly length: number;
  /** The checksum field as found (ignored by emit). */
  readonly checksum: number;
  /** The data (a view into the packet on parse). */
  readonly payload: Uint8Array;
}

/**
 * What `emitUdp` reads: a `UdpRepr` without the fields it derives (length, checksum). A
 * parsed record is one too.
 */
export type UdpEmitRepr = Omit<UdpRepr, 'length' | 'checksum'>;

/** Options of `parseUdp`. */
export interface UdpParseOptions {
  /** Verify a non-zero checksum (default true). False when the checksum was already checked, e.g. by offload. */
  readonly verifyChecksum?: boolean;
}

/** Options of `emitUdp`. */
export interface UdpEmitOptions {
  /** Compute the checksum (default true). False writes 0: "no checksum" over IPv4, or left for offload to fill. */
  readonly fillChecksum?: boolean;
}

/** The datagram cut at its length field, or why the IP payload holds none. */
function validate(ipPayload: Uint8Array): Uint8Array | WireReason {
  if (ipPayload.length < UDP_HEADER_LEN) return 'truncated';
  const length = (ipPayload[4]! << 8) | ipPayload[5]!;
  if (length < UDP_HEADER_LEN) return 'length-too-small';
  if (length > ipPayload.length) return 'length-past-end';
  return length === ipPayload.length ? ipPayload : ipPayload.subarray(0, length);
}

function sumsToZero(d: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  return checksumFinish(pseudoHeaderSum(src, dst, UDP_PROTOCOL, d.length) + checksumAdd(0, d)) === 0;
}

/**
 * Whether the checksum of a UDP datagram verifies against the pseudo-header of `src` and
 * `dst` (4- or 16-byte addresses): `'none'` when the field is zero (no checksum, allowed
 * over IPv4 only). `bytes` is the datagram or the IP payload carrying it; the checksum
 * covers the datagram as delimited by a valid length field. False for fewer than 8 bytes.
 */
export function udpChecksumValid(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean | 'none' {
  if (bytes.length < UDP_HEADER_LEN) return false;
  if (bytes[6] === 0 && bytes[7] === 0) return 'none';
  const length = (bytes[4]! << 8) | bytes[5]!;
  const d = length >= UDP_HEADER_LEN && length < bytes.length ? bytes.subarray(0, length) : bytes;
  return sumsToZero(d, src, dst);
}

/**
 * Parses the IP payload `bytes` as a UDP datagram sent from `src` to `dst`. Fails with the
 * reasons of `UdpPacket.checked`, `bad-field` for a zero checksum over IPv6 (RFC 8200 8.1:
 * such datagrams must be discarded, even when verification is off), and `bad-checksum`.
 */
export function parseUdp(
  bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, options?: UdpParseOptions,
): ParseResult<UdpRepr> {
  // The same validation as UdpPacket.checked, without allocating the view.
  const d = validate(bytes);
  if (typeof d === 'string') return fail(d);
  const checksum = (d[6]! << 8) | d[7]!;
  if (checksum === 0) {
    // RFC 768: zero means the sender computed none (IPv4). RFC 8200 8.1: IPv6 receivers
    // must discard a UDP packet with a zero checksum.
    if (src.length === 16) return fail('bad-field');
  } else if (options?.verifyChecksum !== false && !sumsToZero(d, src, dst)) {
    return fail('bad-checksum');
  }
  return ok({
    srcPort: (d[0]! << 8) | d[1]!,
    dstPort: (d[2]! << 8) | d[3]!,
    length: d.length,
    checksum,
    payload: d.subarray(UDP_HEADER_LEN),
  });
}

/** Bytes `emitUdp` writes: header plus payload. */
export function udpBufferLen(repr: UdpEmitRepr): number {
  return UDP_HEADER_LEN + repr.payload.length;
}

/**
 * Writes `repr` as a UDP datagram at `buf[offset]` and returns the bytes written. The
 * length field is derived (8 + payload) and the checksum computed over the pseudo-header
 * of `src` and `dst` unless `fillChecksum` is false (then 0); a full `UdpRepr` may be
 * passed, its `length` and `checksum` are ignored. Throws RangeError when the datagram exceeds 65,535 bytes,
 * a port is not a 16-bit integer, or `buf` is too small.
 */
export function emitUdp(
  repr: UdpEmitRepr, buf: Uint8Array, offset: number,
  src: Uint8Array, dst: Uint8Array, options?: UdpEmitOptions,
): number {
  const length = UDP_HEADER_LEN + repr.payload.length;
  if (length > 0xffff) throw new RangeError(`UDP datagram of ${length} bytes exceeds the 16-bit length field`);
  if (!isU16(repr.srcPort) || !isU16(repr.dstPort)) throw new RangeError('UDP port out of range');
  if (offset < 0 || offset + length > buf.length) throw new RangeError('buffer too small for the UDP datagram');
  buf[offset] = repr.srcPort >>> 8;
  buf[offset + 1] = repr.srcPort & 0xff;
  buf[offset + 2] = repr.dstPort >>> 8;
  buf[offset + 3] = repr.dstPort & 0xff;
  buf[offset + 4] = length >>> 8;
  buf[offset + 5] = length & 0xff;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  buf.set(repr.payload, offset + UDP_HEADER_LEN);
  if (options?.fillChecksum !== false) {
    let c = checksumFinish(pseudoHeaderSum(src, dst, UDP_PROTOCOL, length) + checksumAdd(0, buf, offset, offset + length));
    if (c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones; zero means "none"
    buf[offset + 6] = c >>> 8;
    buf[offset + 7] = c & 0xff;
  }
  return length;
}

function isU16(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffff;
}
