/**
 * IPv4 datagrams (RFC 791): a checked view, a plain record, parse and emit.
 *
 * Contract: `Ipv4Packet.checked` validates, once and in a fixed order, every length the
 * header claims (buffer, IHL, total length), walks the options with length checks and
 * checks that a fragment stays within 65,535 bytes; after that no accessor can read out
 * of bounds. Bytes past the total length (Ethernet padding of short frames) belong to no
 * one and are ignored: `bytes` and `payload` end at the total length. `parseIpv4` never
 * throws on any input; by default it also verifies the header checksum. `emitIpv4` writes
 * a header (options padded to a 32-bit boundary with zeros, RFC 791 3.1 "Padding"), the
 * payload, and computes the header checksum; it derives header length, total length and
 * checksum itself, and throws a `RangeError` on a record no parser would accept (a
 * programmer error, never untrusted input). Fragments are described, not reassembled.
 */
import { internetChecksum } from './checksum.js';
import { fail, ok } from './result.js';
import type { ParseResult, WireReason } from './result.js';

/** Length of an IPv4 header without options (IHL = 5). */
export const IPV4_HEADER_LEN = 20;
/** The most option bytes a header can carry (IHL = 15 gives 60 bytes, minus the fixed 20). */
export const IPV4_MAX_OPTIONS_LEN = 40;
/** Largest total length the 16-bit field can hold. */
export const IPV4_MAX_TOTAL_LEN = 65535;

/** RFC 791 3.1 option kinds that occupy a single byte. */
const OPTION_END_OF_LIST = 0;
const OPTION_NO_OPERATION = 1;

/**
 * Walks the options area `bytes[start, end)` (RFC 791 3.1 "Options"): End of Option List
 * stops the walk (what follows is padding), No Operation is one byte, every other option
 * is kind, length (counting both), data. Returns the fault, or null when the area is
 * well formed.
 */
function checkOptions(bytes: Uint8Array, start: number, end: number): WireReason | null {
  let i = start;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === OPTION_END_OF_LIST) return null;
    if (kind === OPTION_NO_OPERATION) { i += 1; continue; }
    if (i + 1 >= end) return 'option-overrun'; // the length byte itself lies past the header
    const length = bytes[i + 1]!;
    if (length < 2) return 'option-length-invalid'; // would not even cover kind and length
    if (i + length > end) return 'option-overrun';
    i += length;
  }
  return null;
}

/**
 * The checks of {@link Ipv4Packet.checked}, in the same order, without allocating anything:
 * null when `bytes` is a well-formed IPv4 datagram (whose header length and total length the
 * caller may then read from bytes 0 and 2-3), else the reason. For a receive path that reads
 * the few fields it needs straight from the bytes. Never throws.
 */
export function ipv4Fault(bytes: Uint8Array): WireReason | null {
  if (bytes.length < IPV4_HEADER_LEN) return 'truncated';
  const b0 = bytes[0]!;
  if (b0 >>> 4 !== 4) return 'bad-version';
  const headerLength = (b0 & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN) return 'header-length-too-small';
  if (headerLength > bytes.length) return 'header-length-past-end';
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (totalLength < headerLength) return 'total-length-too-small';
  if (totalLength > bytes.length) return 'total-length-past-end';
  if (headerLength > IPV4_HEADER_LEN) {
    const fault = checkOptions(bytes, IPV4_HEADER_LEN, headerLength);
    if (fault !== null) return fault;
  }
  // RFC 791 3.2: a fragment's data lands at offset*8 in a datagram of at most 65,535
  // bytes; one reaching past that can never be reassembled (the "ping of death").
  const fragmentOffset = (((bytes[6]! << 8) | bytes[7]!) & 0x1fff) * 8;
  if (fragmentOffset + (totalLength - headerLength) > IPV4_MAX_TOTAL_LEN) return 'bad-fragment';
  return null;
}

/**
 * A checked view of an IPv4 datagram. Build it with {@link Ipv4Packet.checked}; the
 * getters then read header fields big-endian from the underlying bytes without copying.
 */
export class Ipv4Packet {
  /** The datagram: the input trimmed to its total length. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Validates `bytes` as one IPv4 datagram. Reasons, in the order checked: fewer than 20
   * bytes 'truncated'; version not 4 'bad-version'; IHL < 5 'header-length-too-small';
   * IHL*4 beyond the buffer 'header-length-past-end'; total length below the header
   * 'total-length-too-small'; total length beyond the buffer 'total-length-past-end';
   * a malformed option 'option-length-invalid' or 'option-overrun'; a fragment whose
   * offset plus payload passes 65,535 bytes 'bad-fragment'. The checksum is not checked
   * here (see {@link Ipv4Packet.verifyChecksum}).
   */
  static checked(bytes: Uint8Array): ParseResult<Ipv4Packet> {
    const fault = ipv4Fault(bytes);
    if (fault !== null) return fail(fault);
    const totalLength = (bytes[2]! << 8) | bytes[3]!;
    return ok(new Ipv4Packet(totalLength === bytes.length ? bytes : bytes.subarray(0, totalLength)));
  }

  /** The version nibble (always 4 on a checked packet). */
  get version(): number { return this.bytes[0]! >>> 4; }
  /** Header length in bytes (IHL * 4), options included. */
  get headerLength(): number { return (this.bytes[0]! & 0x0f) * 4; }
  /** Differentiated services code point (RFC 2474): the high six bits of the old TOS byte. */
  get dscp(): number { return this.bytes[1]! >>> 2; }
  /** Explicit congestion notification (RFC 3168): the low two bits of the old TOS byte. */
  get ecn(): number { return this.bytes[1]! & 0x03; }
  /** Total length: header plus payload, in bytes. */
  get totalLength(): number { return this.view.getUint16(2); }
  /** Identification, shared by the fragments of one datagram. */
  get identification(): number { return this.view.getUint16(4); }
  /** The DF flag: routers must not fragment this datagram. */
  get dontFragment(): boolean { return (this.bytes[6]! & 0x40) !== 0; }
  /** The MF flag: more fragments of this datagram follow. */
  get moreFragments(): boolean { return (this.bytes[6]! & 0x20) !== 0; }
  /** Where this fragment's data sits in the original datagram, in bytes (the field is in 8-byte units). */
  get fragmentOffset(): number { return (this.view.getUint16(6) & 0x1fff) * 8; }
  /** True when this datagram is one fragment of a larger one (MF set or a non-zero offset). */
  get isFragment(): boolean { return (this.view.getUint16(6) & 0x3fff) !== 0; }
  /** Time to live. */
  get ttl(): number { return this.bytes[8]!; }
  /** The upper-layer protocol number (see `IpProtocol`). */
  get protocol(): number { return this.bytes[9]!; }
  /** The header checksum as found on the wire. */
  get checksum(): number { return this.view.getUint16(10); }
  /** Source address (a view into the packet, not a copy). */
  get src(): Uint8Array { return this.bytes.subarray(12, 16); }
  /** Destination address (a view into the packet, not a copy). */
  get dst(): Uint8Array { return this.bytes.subarray(16, 20); }
  /** The raw options area, padding included (a view; empty when IHL = 5). */
  get options(): Uint8Array { return this.bytes.subarray(IPV4_HEADER_LEN, this.headerLength); }
  /** The payload: from the end of the header to the total length (a view). */
  get payload(): Uint8Array { return this.bytes.subarray(this.headerLength); }

  /** True when the header checksum verifies (the ones' complement sum of the header is zero). */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes, 0, this.headerLength) === 0;
  }
}

/**
 * True when `bytes` starts with an IPv4 header whose checksum verifies. Safe on any input:
 * a buffer too short for the header its IHL claims is simply not valid. Meant for callers
 * that parsed with `verifyChecksum: false` and want to count a bad checksum themselves.
 */
export function ipv4HeaderChecksumValid(bytes: Uint8Array): boolean {
  if (bytes.length < IPV4_HEADER_LEN) return false;
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN || headerLength > bytes.length) return false;
  return internetChecksum(bytes, 0, headerLength) === 0;
}

/** Every field of an IPv4 header, plus the payload. */
export interface Ipv4Repr {
  /** Source address: a 4-byte copy. */
  readonly src: Uint8Array;
  /** Destination address: a 4-byte copy. */
  readonly dst: Uint8Array;
  /** Upper-layer protocol number (see `IpProtocol`). */
  readonly protocol: number;
  /** Time to live, 0-255. */
  readonly ttl: number;
  /** Differentiated services code point, 0-63. */
  readonly dscp: number;
  /** Explicit congestion notification, 0-3. */
  readonly ecn: number;
  /** Identification, 0-65535. */
  readonly identification: number;
  /** The DF flag. */
  readonly dontFragment: boolean;
  /** The MF flag. */
  readonly moreFragments: boolean;
  /** Fragment offset in BYTES (the wire field times 8): a multiple of 8, at most 65,528. */
  readonly fragmentOffset: number;
  /** Header length in bytes, options included (derived on emit). */
  readonly headerLength: number;
  /** Total length in bytes (derived on emit). */
  readonly totalLength: number;
  /** Header checksum as found on the wire (computed on emit). */
  readonly checksum: number;
  /** The raw options area, padding included: a copy, possibly empty. */
  readonly options: Uint8Array;
  /** The payload: a view into the parsed bytes. */
  readonly payload: Uint8Array;
}

/**
 * What {@link emitIpv4} reads: an {@link Ipv4Repr} without the fields it derives (header
 * length, total length, checksum). A parsed record is one too.
 */
export type Ipv4EmitRepr = Omit<Ipv4Repr, 'headerLength' | 'totalLength' | 'checksum'>;

/** Options for {@link parseIpv4}. */
export interface ParseIpv4Options {
  /** Refuse a header whose checksum does not verify with 'bad-checksum' (default true). */
  readonly verifyChecksum?: boolean;
}

/**
 * Parses an IPv4 datagram into a record: every reason of {@link Ipv4Packet.checked},
 * then 'bad-checksum' unless `verifyChecksum` is false. Never throws.
 */
export function parseIpv4(bytes: Uint8Array, options?: ParseIpv4Options): ParseResult<Ipv4Repr> {
  // Ipv4Packet.checked's checks, without the view (and its DataView) the record does not need.
  const fault = ipv4Fault(bytes);
  if (fault !== null) return fail(fault);
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (options?.verifyChecksum !== false && internetChecksum(bytes, 0, headerLength) !== 0) return fail('bad-checksum');
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  const b = totalLength === bytes.length ? bytes : bytes.subarray(0, totalLength);
  const flags = (b[6]! << 8) | b[7]!;
  return ok({
    src: b.slice(12, 16),
    dst: b.slice(16, 20),
    protocol: b[9]!,
    ttl: b[8]!,
    dscp: b[1]! >>> 2,
    ecn: b[1]! & 0x03,
    identification: (b[4]! << 8) | b[5]!,
    dontFragment: (flags & 0x4000) !== 0,
    moreFragments: (flags & 0x2000) !== 0,
    fragmentOffset: (flags & 0x1fff) * 8,
    headerLength,
    totalLength,
    checksum: (b[10]! << 8) | b[11]!,
    options: headerLength === IPV4_HEADER_LEN ? new Uint8Array(0) : b.slice(IPV4_HEADER_LEN, headerLength),
    payload: b.subarray(headerLength),
  });
}

/** Header length `emitIpv4` writes for these options: 20 plus the options rounded up to 4. */
function emittedHeaderLength(options: Uint8Array): number {
  return IPV4_HEADER_LEN + ((options.length + 3) & ~3);
}

/** Bytes {@link emitIpv4} writes for `repr`: header (options padded to 4) plus payload. */
export function ipv4BufferLen(repr: Ipv4EmitRepr): number {
  return emittedHeaderLength(repr.options) + repr.payload.length;
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`IPv4 ${name} ${value} is not an integer in 0..${max}`);
  }
}

/**
 * Writes only the header for a datagram whose payload of `payloadLength` bytes the
 * caller places (or has placed) right after it; computes the header checksum. Returns the
 * header length. Throws a `RangeError` for a field out of range, malformed or oversized
 * options, a total length above 65,535, a fragment reaching past 65,535, or a short buffer.
 */
export function emitIpv4Header(repr: Ipv4EmitRepr, payloadLength: number, buf: Uint8Array, offset = 0): number {
  const { src, dst, options } = repr;
  if (src.length !== 4 || dst.length !== 4) throw new RangeError('IPv4 addresses must be 4 bytes');
  checkRange('dscp', repr.dscp, 63);
  checkRange('ecn', repr.ecn, 3);
  checkRange('ttl', repr.ttl, 255);
  checkRange('protocol', repr.protocol, 255);
  checkRange('identification', repr.identification, 0xffff);
  checkRange('fragment offset', repr.fragmentOffset, 0x1fff * 8);
  checkRange('payload length', payloadLength, IPV4_MAX_TOTAL_LEN);
  if (repr.fragmentOffset % 8 !== 0) throw new RangeError(`IPv4 fragment offset ${repr.fragmentOffset} is not a multiple of 8`);
  if (options.length > IPV4_MAX_OPTIONS_LEN) throw new RangeError(`IPv4 options of ${options.length} bytes exceed ${IPV4_MAX_OPTIONS_LEN}`);
  if (options.length > 0) {
    const fault = checkOptions(options, 0, options.length);
    if (fault !== null) throw new RangeError(`IPv4 options are malformed: ${fault}`);
  }
  const headerLength = emittedHeaderLength(options);
  const totalLength = headerLength + payloadLength;
  if (totalLength > IPV4_MAX_TOTAL_LEN) throw new RangeError(`IPv4 total length ${totalLength} exceeds ${IPV4_MAX_TOTAL_LEN}`);
  if (repr.fragmentOffset + payloadLength > IPV4_MAX_TOTAL_LEN) throw new RangeError('IPv4 fragment reaches past 65535 bytes');
  if (offset < 0 || offset + headerLength > buf.length) throw new RangeError('buffer too small for the IPv4 header');

  const o = offset;
  buf[o] = 0x40 | (headerLength >>> 2);
  buf[o + 1] = (repr.dscp << 2) | repr.ecn;
  buf[o + 2] = totalLength >>> 8;
  buf[o + 3] = totalLength & 0xff;
  buf[o + 4] = repr.identification >>> 8;
  buf[o + 5] = repr.identification & 0xff;
  // RFC 791 3.1 "Flags": bit 0 reserved (zero), bit 1 DF, bit 2 MF; then 13 bits of offset.
  const flags = (repr.dontFragment ? 0x4000 : 0) | (repr.moreFragments ? 0x2000 : 0) | (repr.fragmentOffset >>> 3);
  buf[o + 6] = flags >>> 8;
  buf[o + 7] = flags & 0xff;
  buf[o + 8] = repr.ttl;
  buf[o + 9] = repr.protocol;
  buf[o + 10] = 0; // the checksum is computed with its own field taken as zero (RFC 791 3.1)
  buf[o + 11] = 0;
  buf.set(src, o + 12);
  buf.set(dst, o + 16);
  if (options.length > 0) {
    buf.set(options, o + IPV4_HEADER_LEN);
    buf.fill(0, o + IPV4_HEADER_LEN + options.length, o + headerLength); // "The padding is zero."
  }
  const checksum = internetChecksum(buf, o, o + headerLength);
  buf[o + 10] = checksum >>> 8;
  buf[o + 11] = checksum & 0xff;
  return headerLength;
}

/**
 * The header a host puts on what it sends, written field by field with no record: no
 * options, DSCP and ECN zero, not a fragment (offset 0, MF clear), DF as asked. The same
 * bytes as {@link emitIpv4Header} for those fields. `fillChecksum: false` leaves the
 * checksum 0 (a trusted interface: see `core/interfaces.ts`). Returns 20. Throws a
 * `RangeError` as `emitIpv4Header` would: an address that is not 4 bytes, a TTL, protocol
 * or identification out of range, a total length above 65,535, or a buffer too small.
 */
export function emitPlainIpv4Header(
  buf: Uint8Array, offset: number, src: Uint8Array, dst: Uint8Array, protocol: number, ttl: number,
  identification: number, dontFragment: boolean, payloadLength: number, fillChecksum: boolean,
): number {
  const totalLength = IPV4_HEADER_LEN + payloadLength;
  if (src.length !== 4 || dst.length !== 4) throw new RangeError('IPv4 addresses must be 4 bytes');
  checkRange('ttl', ttl, 255);
  checkRange('protocol', protocol, 255);
  checkRange('identification', identification, 0xffff);
  if (!(payloadLength >= 0 && totalLength <= IPV4_MAX_TOTAL_LEN)) throw new RangeError(`IPv4 total length ${totalLength} is not in 20..${IPV4_MAX_TOTAL_LEN}`);
  if (!(offset >= 0 && offset + IPV4_HEADER_LEN <= buf.length)) throw new RangeError('buffer too small for the IPv4 header');
  const o = offset;
  buf[o] = 0x45;
  buf[o + 1] = 0;
  buf[o + 2] = totalLength >>> 8;
  buf[o + 3] = totalLength & 0xff;
  buf[o + 4] = identification >>> 8;
  buf[o + 5] = identification & 0xff;
  buf[o + 6] = dontFragment ? 0x40 : 0;
  buf[o + 7] = 0;
  buf[o + 8] = ttl;
  buf[o + 9] = protocol;
  buf[o + 10] = 0;
  buf[o + 11] = 0;
  buf[o + 12] = src[0]!; buf[o + 13] = src[1]!; buf[o + 14] = src[2]!; buf[o + 15] = src[3]!;
  buf[o + 16] = dst[0]!; buf[o + 17] = dst[1]!; buf[o + 18] = dst[2]!; buf[o + 19] = dst[3]!;
  if (fillChecksum) {
    // The checksum field is zero while it is summed (RFC 791).
    const checksum = internetChecksum(buf, o, o + IPV4_HEADER_LEN);
    buf[o + 10] = checksum >>> 8;
    buf[o + 11] = checksum & 0xff;
  }
  return IPV4_HEADER_LEN;
}

/**
 * Writes `repr` (header, options padded to a multiple of 4 bytes, payload) into `buf` at
 * `offset`, with header length, total length and checksum computed; returns the bytes
 * written, {@link ipv4BufferLen}. The record's own `headerLength`, `totalLength` and
 * `checksum`, if any, are ignored. Throws a `RangeError` as {@link emitIpv4Header} does.
 */
export function emitIpv4(repr: Ipv4EmitRepr, buf: Uint8Array, offset = 0): number {
  const payload = repr.payload;
  const headerLength = emittedHeaderLength(repr.options);
  if (offset < 0 || offset + headerLength + payload.length > buf.length) throw new RangeError('buffer too small for the IPv4 datagram');
  emitIpv4Header(repr, payload.length, buf, offset);
  buf.set(payload, offset + headerLength);
  return headerLength + payload.length;
}
