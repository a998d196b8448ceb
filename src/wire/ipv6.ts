/**
 * IPv6 packets (RFC 8200): the fixed header and the extension-header chain, as a checked
 * view, a plain record, parse and emit.
 *
 * Contract: `Ipv6Packet.checked` validates the fixed header (buffer, version, payload
 * length) and walks the extension-header chain (RFC 8200 4) to the upper-layer protocol,
 * checking every header's length and the TLV options inside hop-by-hop and destination
 * options; after that no accessor can read out of bounds. The walk passes over hop-by-hop
 * (first only), routing, fragment, destination options and AH; it ends at any other next
 * header, ESP and No Next Header included (reported as the upper protocol, with the rest
 * as payload), and at a fragment header with a non-zero offset, because the upper-layer
 * header of a non-first fragment is in another fragment (RFC 8200 4.5). Bytes past the
 * payload length are ignored; a payload length of 0 means no payload (jumbograms,
 * RFC 2675, are not supported). `payload` always means the upper-layer bytes, after the
 * extension headers. `parseIpv6` never throws on any input. `emitIpv6` writes the fixed
 * header, the extension headers as given (only their next-header bytes rewritten so the
 * chain ends in `upperProtocol`) and the payload; it throws a `RangeError` on a record the
 * parser would refuse (a programmer error, never untrusted input).
 */
import { fail, ok } from './result.js';
import type { ParseResult, WireReason } from './result.js';

/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;
/** Length of a fragment header (RFC 8200 4.5). */
export const IPV6_FRAGMENT_HEADER_LEN = 8;
/** The longest extension-header chain we walk: a bound on work per packet, well above real use. */
export const IPV6_MAX_EXTENSION_HEADERS = 16;
/** Largest payload length the 16-bit field can hold. */
export const IPV6_MAX_PAYLOAD_LEN = 65535;

// Next-header values of the headers the walk passes over (IpProtocol's numbers, kept as
// literals here so the hot loop compares against constants).
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTHENTICATION = 51;
const DESTINATION_OPTIONS = 60;

/** RFC 8200 4.2: the one option that is a single byte. */
const OPTION_PAD1 = 0;

/**
 * Walks the TLV options `bytes[start, end)` of a hop-by-hop or destination options header
 * (RFC 8200 4.2): Pad1 is one byte, every other option is type, data length, data.
 * Returns 'option-overrun' when one runs past the header, else null.
 */
function checkTlvOptions(bytes: Uint8Array, start: number, end: number): WireReason | null {
  let i = start;
  while (i < end) {
    if (bytes[i] === OPTION_PAD1) { i += 1; continue; }
    if (i + 1 >= end) return 'option-overrun'; // the data length byte lies past the header
    i += 2 + bytes[i + 1]!;
    if (i > end) return 'option-overrun';
  }
  return null;
}

/** Whether the walk passes over this next-header value (else it is the upper layer). */
function isWalkedExtension(type: number): boolean {
  return type === HOP_BY_HOP || type === ROUTING || type === FRAGMENT || type === AUTHENTICATION || type === DESTINATION_OPTIONS;
}

/**
 * Length in bytes of the extension header of `type` whose length byte is `lengthField`:
 * RFC 8200 4.3/4.4/4.6 count 8-octet units beyond the first 8; AH (RFC 4302 2.2) counts
 * 4-octet units minus 2; the fragment header is always 8.
 */
function extensionHeaderLength(type: number, lengthField: number): number {
  if (type === FRAGMENT) return IPV6_FRAGMENT_HEADER_LEN;
  if (type === AUTHENTICATION) return (lengthField + 2) * 4;
  return (lengthField + 1) * 8;
}

/**
 * A checked view of an IPv6 packet. Build it with {@link Ipv6Packet.checked}; the getters
 * then read fields big-endian from the underlying bytes without copying.
 */
export class Ipv6Packet {
  /** The packet: the input trimmed to 40 + payload length. */
  readonly bytes: Uint8Array;
  /** Offset of the upper-layer bytes (40 plus the extension headers walked over). */
  readonly upperLayerOffset: number;
  /** The upper-layer protocol: the last next-header value of the walk (50 for ESP, 59 for none). */
  readonly upperProtocol: number;
  /** How many extension headers the walk passed over. */
  readonly extensionHeaderCount: number;
  /** True when the walk stopped at a fragment header with a non-zero offset: `payload` is not an upper-layer header. */
  readonly isNonFirstFragment: boolean;
  /** Offset of the first fragment header, or -1 when there is none. */
  readonly fragmentHeaderOffset: number;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array, upperLayerOffset: number, upperProtocol: number, extensionHeaderCount: number,
    isNonFirstFragment: boolean, fragmentHeaderOffset: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.upperLayerOffset = upperLayerOffset;
    this.upperProtocol = upperProtocol;
    this.extensionHeaderCount = extensionHeaderCount;
    this.isNonFirstFragment = isNonFirstFragment;
    this.fragmentHeaderOffset = fragmentHeaderOffset;
  }

  /**
   * Validates `bytes` as one IPv6 packet. Reasons, in the order checked: fewer than 40
   * bytes 'truncated'; version not 6 'bad-version'; 40 + payload length beyond the buffer
   * 'total-length-past-end'; then, header by header along the chain: hop-by-hop anywhere
   * but first, or more than {@link IPV6_MAX_EXTENSION_HEADERS} headers,
   * 'extension-header-invalid'; a header running past the payload
   * 'extension-header-truncated'; an option running past its header 'option-overrun'.
   */
  static checked(bytes: Uint8Array): ParseResult<Ipv6Packet> {
    if (bytes.length < IPV6_HEADER_LEN) return fail('truncated');
    if (bytes[0]! >>> 4 !== 6) return fail('bad-version');
    const end = IPV6_HEADER_LEN + ((bytes[4]! << 8) | bytes[5]!);
    if (end > bytes.length) return fail('total-length-past-end');

    let next = bytes[6]!;
    let off = IPV6_HEADER_LEN;
    let count = 0;
    let fragmentAt = -1;
    let nonFirstFragment = false;
    while (isWalkedExtension(next)) {
      // RFC 8200 4.1: "The Hop-by-Hop Options header, when present, must immediately
      // follow the IPv6 header"; one anywhere else is an error (4: parameter problem).
      if (next === HOP_BY_HOP && count > 0) return fail('extension-header-invalid');
      if (count === IPV6_MAX_EXTENSION_HEADERS) return fail('extension-header-invalid');
      if (off + 2 > end) return fail('extension-header-truncated');
      const length = extensionHeaderLength(next, bytes[off + 1]!);
      if (off + length > end) return fail('extension-header-truncated');
      if (next === HOP_BY_HOP || next === DESTINATION_OPTIONS) {
        const fault = checkTlvOptions(bytes, off + 2, off + length);
        if (fault !== null) return fail(fault);
      }
      count++;
      const type = next;
      next = bytes[off]!;
      if (type === FRAGMENT) {
        if (fragmentAt < 0) fragmentAt = off;
        // RFC 8200 4.5: a fragment with a non-zero offset carries part of the fragmentable
        // part; the headers that follow (and the upper-layer header) are in the first one.
        if ((((bytes[off + 2]! << 8) | bytes[off + 3]!) & 0xfff8) !== 0) {
          nonFirstFragment = true;
          off += length;
          break;
        }
      }
      off += length;
    }
    return ok(new Ipv6Packet(end === bytes.length ? bytes : bytes.subarray(0, end), off, next, count, nonFirstFragment, fragmentAt));
  }

  /** The version nibble (always 6 on a checked packet). */
  get version(): number { return this.bytes[0]! >>> 4; }
  /** Traffic class (RFC 8200 7): DSCP in the high six bits, ECN in the low two. */
  get trafficClass(): number { return (this.view.getUint16(0) >>> 4) & 0xff; }
  /** Flow label (RFC 6437), 20 bits. */
  get flowLabel(): number { return this.view.getUint32(0) & 0xfffff; }
  /** Payload length: everything after the fixed header, extension headers included. */
  get payloadLength(): number { return this.view.getUint16(4); }
  /** The fixed header's next header: the first extension header or the upper layer. */
  get nextHeader(): number { return this.bytes[6]!; }
  /** Hop limit. */
  get hopLimit(): number { return this.bytes[7]!; }
  /** Source address (a view into the packet, not a copy). */
  get src(): Uint8Array { return this.bytes.subarray(8, 24); }
  /** Destination address (a view into the packet, not a copy). */
  get dst(): Uint8Array { return this.bytes.subarray(24, 40); }
  /** The extension headers walked over, as one view. */
  get extensionHeaderBytes(): Uint8Array { return this.bytes.subarray(IPV6_HEADER_LEN, this.upperLayerOffset); }
  /** The upper-layer bytes after the extension headers (a view). */
  get payload(): Uint8Array { return this.bytes.subarray(this.upperLayerOffset); }
  /** The first fragment header's fields, or undefined when the chain has none. */
  get fragment(): Ipv6Fragment | undefined {
    return this.fragmentHeaderOffset < 0 ? undefined : readFragment(this.bytes, this.fragmentHeaderOffset);
  }
}

/** The fields of a fragment header (RFC 8200 4.5). */
export interface Ipv6Fragment {
  /** Fragment offset in BYTES (the 13-bit field times 8). */
  readonly offset: number;
  /** The M flag: more fragments follow. */
  readonly moreFragments: boolean;
  /** Identification, 32 bits, shared by the fragments of one packet. */
  readonly identification: number;
}

/** A fragment header: its bytes and, for convenience, its parsed fields. */
export interface Ipv6FragmentHeader extends Ipv6Fragment {
  readonly type: 44;
  /** The whole 8-byte header (a copy). Emit writes these bytes; the fields above describe them. */
  readonly bytes: Uint8Array;
}

/** Hop-by-hop options (0), routing (43), authentication (51) or destination options (60). */
export interface Ipv6OtherExtensionHeader {
  readonly type: 0 | 43 | 51 | 60;
  /** The whole header, next-header and length bytes included (a copy). */
  readonly bytes: Uint8Array;
}

/** One extension header of the chain, in wire order. */
export type Ipv6ExtensionHeader = Ipv6FragmentHeader | Ipv6OtherExtensionHeader;

function readFragment(b: Uint8Array, at: number): Ipv6Fragment {
  const word = (b[at + 2]! << 8) | b[at + 3]!;
  return {
    offset: word & 0xfff8, // 13 bits in 8-octet units: the field times 8 is the field's own bit position
    moreFragments: (word & 0x0001) !== 0,
    identification: ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0,
  };
}

/** Every field of an IPv6 packet, its extension headers, and the upper-layer payload. */
export interface Ipv6Repr {
  /** Source address: a 16-byte copy. */
  readonly src: Uint8Array;
  /** Destination address: a 16-byte copy. */
  readonly dst: Uint8Array;
  /** Traffic class, 0-255. */
  readonly trafficClass: number;
  /** Flow label, 0-0xfffff. */
  readonly flowLabel: number;
  /** Hop limit, 0-255. */
  readonly hopLimit: number;
  /** Payload length from the wire: extension headers plus payload (derived on emit). */
  readonly payloadLength: number;
  /** The fixed header's next header (derived on emit). */
  readonly nextHeader: number;
  /** The extension headers walked over, in order. */
  readonly extensionHeaders: readonly Ipv6ExtensionHeader[];
  /** The first fragment header's fields, or undefined (derived on emit). Always present as a key. */
  readonly fragment: Ipv6Fragment | undefined;
  /** True when the payload is the middle or end of a fragmented packet, not an upper-layer header (derived on emit). */
  readonly isNonFirstFragment: boolean;
  /** The protocol of `payload`: the last next-header of the chain (50 ESP and 59 No Next Header included). */
  readonly upperProtocol: number;
  /** The upper-layer bytes: a view into the parsed bytes. */
  readonly payload: Uint8Array;
}

/**
 * What {@link emitIpv6} reads: an {@link Ipv6Repr} without the fields it derives. A parsed
 * record is one too.
 */
export type Ipv6EmitRepr = Omit<Ipv6Repr, 'payloadLength' | 'nextHeader' | 'fragment' | 'isNonFirstFragment'>;

/**
 * Parses an IPv6 packet into a record, with the reasons of {@link Ipv6Packet.checked}.
 * Never throws. Extension headers are copied; the payload is a view.
 */
export function parseIpv6(bytes: Uint8Array): ParseResult<Ipv6Repr> {
  const checked = Ipv6Packet.checked(bytes);
  if (!checked.ok) return checked;
  const p = checked.value;
  const b = p.bytes;
  const extensionHeaders: Ipv6ExtensionHeader[] = [];
  // The chain was validated by `checked`: walk it again only to cut it into headers.
  let type = b[6]!;
  let off = IPV6_HEADER_LEN;
  while (off < p.upperLayerOffset) {
    const length = extensionHeaderLength(type, b[off + 1]!);
    const headerBytes = b.slice(off, off + length);
    if (type === FRAGMENT) {
      const f = readFragment(b, off);
      extensionHeaders.push({ type: FRAGMENT, bytes: headerBytes, offset: f.offset, moreFragments: f.moreFragments, identification: f.identification });
    } else {
      extensionHeaders.push({ type: type as Ipv6OtherExtensionHeader['type'], bytes: headerBytes });
    }
    type = b[off]!;
    off += length;
  }
  return ok({
    src: b.slice(8, 24),
    dst: b.slice(24, 40),
    trafficClass: p.trafficClass,
    flowLabel: p.flowLabel,
    hopLimit: b[7]!,
    payloadLength: b.length - IPV6_HEADER_LEN,
    nextHeader: b[6]!,
    extensionHeaders,
    fragment: p.fragment,
    isNonFirstFragment: p.isNonFirstFragment,
    upperProtocol: p.upperProtocol,
    payload: p.payload,
  });
}

/**
 * Builds a fragment header (RFC 8200 4.5) for {@link emitIpv6}; its next-header byte is
 * left 0 because emit rewrites it. `offset` is in bytes: a multiple of 8 below 65,536.
 */
export function ipv6FragmentHeader(fragment: Ipv6Fragment): Ipv6FragmentHeader {
  const { offset, moreFragments, identification } = fragment;
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xfff8 || offset % 8 !== 0) {
    throw new RangeError(`IPv6 fragment offset ${offset} is not a multiple of 8 in 0..65528`);
  }
  if (!Number.isInteger(identification) || identification < 0 || identification > 0xffffffff) {
    throw new RangeError(`IPv6 fragment identification ${identification} is not a 32-bit unsigned integer`);
  }
  const word = offset | (moreFragments ? 1 : 0);
  const bytes = Uint8Array.of(0, 0, word >>> 8, word & 0xff,
    identification >>> 24, (identification >>> 16) & 0xff, (identification >>> 8) & 0xff, identification & 0xff);
  return { type: FRAGMENT, bytes, offset, moreFragments, identification };
}

function extensionHeadersLength(headers: readonly Ipv6ExtensionHeader[]): number {
  let n = 0;
  for (const h of headers) n += h.bytes.length;
  return n;
}

/** Bytes {@link emitIpv6} writes for `repr`: 40, the extension headers, the payload. */
export function ipv6BufferLen(repr: Ipv6EmitRepr): number {
  return IPV6_HEADER_LEN + extensionHeadersLength(repr.extensionHeaders) + repr.payload.length;
}

function checkRange(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`IPv6 ${name} ${value} is not an integer in 0..${max}`);
  }
}

/** Throws a RangeError when the chain is one `Ipv6Packet.checked` would refuse or cut elsewhere. */
function checkExtensionHeaders(headers: readonly Ipv6ExtensionHeader[], upperProtocol: number): void {
  if (headers.length > IPV6_MAX_EXTENSION_HEADERS) {
    throw new RangeError(`${headers.length} IPv6 extension headers exceed ${IPV6_MAX_EXTENSION_HEADERS}`);
  }
  let endsInNonFirstFragment = false;
  for (let i = 0; i < headers.length; i++) {
    const { type, bytes } = headers[i]!;
    if (!isWalkedExtension(type)) throw new RangeError(`IPv6 extension header type ${type} is not one emit writes`);
    if (type === HOP_BY_HOP && i > 0) throw new RangeError('the IPv6 hop-by-hop header must come first (RFC 8200 4.1)');
    if (endsInNonFirstFragment) throw new RangeError('no IPv6 extension header may follow a non-first fragment header');
    if (bytes.length < 2 || bytes.length !== extensionHeaderLength(type, bytes[1]!)) {
      throw new RangeError(`IPv6 extension header ${type}: ${bytes.length} bytes disagree with its length field`);
    }
    if (type === HOP_BY_HOP || type === DESTINATION_OPTIONS) {
      const fault = checkTlvOptions(bytes, 2, bytes.length);
      if (fault !== null) throw new RangeError(`IPv6 extension header ${type} has malformed options: ${fault}`);
    }
    if (type === FRAGMENT && (((bytes[2]! << 8) | bytes[3]!) & 0xfff8) !== 0) endsInNonFirstFragment = true;
  }
  // A parser would walk into a payload labelled as an extension header; a non-first
  // fragment is the exception, whose payload may start with any header of the chain.
  if (!endsInNonFirstFragment && isWalkedExtension(upperProtocol)) {
    throw new RangeError(`IPv6 upper protocol ${upperProtocol} is an extension header: list it in extensionHeaders`);
  }
}

/**
 * Writes `repr` into `buf` at `offset`: the fixed header (payload length and next header
 * computed), each extension header's bytes with its next-header byte rewritten to the
 * following header's type (the last one's to `upperProtocol`), then the payload. Returns
 * the bytes written, {@link ipv6BufferLen}. Throws a `RangeError` for a field out of
 * range, a chain the parser would refuse, a payload length above 65,535 or a short buffer.
 */
export function emitIpv6(repr: Ipv6EmitRepr, buf: Uint8Array, offset = 0): number {
  const { src, dst, extensionHeaders, payload, upperProtocol } = repr;
  if (src.length !== 16 || dst.length !== 16) throw new RangeError('IPv6 addresses must be 16 bytes');
  checkRange('traffic class', repr.trafficClass, 0xff);
  checkRange('flow label', repr.flowLabel, 0xfffff);
  checkRange('hop limit', repr.hopLimit, 0xff);
  checkRange('upper protocol', upperProtocol, 0xff);
  checkExtensionHeaders(extensionHeaders, upperProtocol);
  const payloadLength = extensionHeadersLength(extensionHeaders) + payload.length;
  if (payloadLength > IPV6_MAX_PAYLOAD_LEN) throw new RangeError(`IPv6 payload length ${payloadLength} exceeds ${IPV6_MAX_PAYLOAD_LEN}`);
  if (offset < 0 || offset + IPV6_HEADER_LEN + payloadLength > buf.length) throw new RangeError('buffer too small for the IPv6 packet');

  const o = offset;
  const first = (6 << 28) | (repr.trafficClass << 20) | repr.flowLabel;
  buf[o] = first >>> 24;
  buf[o + 1] = (first >>> 16) & 0xff;
  buf[o + 2] = (first >>> 8) & 0xff;
  buf[o + 3] = first & 0xff;
  buf[o + 4] = payloadLength >>> 8;
  buf[o + 5] = payloadLength & 0xff;
  buf[o + 6] = extensionHeaders.length > 0 ? extensionHeaders[0]!.type : upperProtocol;
  buf[o + 7] = repr.hopLimit;
  buf.set(src, o + 8);
  buf.set(dst, o + 24);
  let at = o + IPV6_HEADER_LEN;
  for (let i = 0; i < extensionHeaders.length; i++) {
    const bytes = extensionHeaders[i]!.bytes;
    buf.set(bytes, at);
    buf[at] = i + 1 < extensionHeaders.length ? extensionHeaders[i + 1]!.type : upperProtocol;
    at += bytes.length;
  }
  buf.set(payload, at);
  return IPV6_HEADER_LEN + payloadLength;
}
