/**
 * ICMP for IPv6 (RFC 4443). Like ICMPv4, every message has type, code, checksum and a
 * 4-byte type-specific field, so `Icmpv6Packet.checked` needs 8 bytes. Unlike ICMPv4, the
 * checksum includes the IPv6 pseudo-header (RFC 4443 2.3, RFC 8200 8.1, next header 58),
 * so parsing and emitting take the source and destination addresses. Error messages have
 * types 0-127 and informational ones 128-255 (RFC 4443 2.1). `Icmpv6Repr` has variants for
 * echo and the four errors (RFC 4443 3.1-3.4) and an `other` variant that keeps type,
 * code, the 4 type-specific bytes and the body (Neighbor Discovery, MLD, …), so nothing is
 * lost. Error variants carry the quoted original packet as `invoking` (as much of it as
 * fits in the minimum MTU, RFC 4443 2.4(c)); `parseQuotedDatagram` reads it. Unused
 * 32-bit fields of Destination Unreachable and Time Exceeded are not kept and are emitted
 * as zero. `icmpv6Summary` prints a message in tcpdump's words.
 */
import { readU16 } from './bytes.js';
import type { ParseResult } from './result.js';
import { fail, ok } from './result.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { formatIpv6 } from './address.js';
import { parseQuotedDatagram } from './icmp-quote.js';

/** Bytes of the fixed ICMPv6 header: type, code, checksum and the 4 type-specific bytes. */
export const ICMPV6_HEADER_LEN = 8;

const ICMPV6_PROTOCOL = 58;

/** ICMPv6 message types (RFC 4443, RFC 4861 Neighbor Discovery, RFC 2710/3810 MLD). */
export const Icmpv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MulticastListenerQuery: 130,
  MulticastListenerReport: 131,
  MulticastListenerDone: 132,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
  MulticastListenerReportV2: 143,
} as const;

/** Destination Unreachable codes (RFC 4443 3.1). */
export const Icmpv6UnreachableCode = {
  NoRoute: 0,
  /** Communication with destination administratively prohibited (a firewall). */
  AdminProhibited: 1,
  BeyondScopeOfSource: 2,
  AddressUnreachable: 3,
  PortUnreachable: 4,
  SourcePolicyFailed: 5,
  RejectRoute: 6,
} as const;

/** Time Exceeded codes (RFC 4443 3.3). */
export const Icmpv6TimeExceededCode = { HopLimitExceeded: 0, FragmentReassembly: 1 } as const;

/** Parameter Problem codes (RFC 4443 3.4, RFC 7112 for 3). */
export const Icmpv6ParameterProblemCode = {
  ErroneousHeaderField: 0,
  UnrecognizedNextHeader: 1,
  UnrecognizedOption: 2,
  IncompleteHeaderChain: 3,
} as const;

/** A checked ICMPv6 message: at least the 8-byte header, so every accessor is in bounds. */
export class Icmpv6Packet {
  /** The whole message (the upper-layer payload of the IPv6 packet). */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Validates `bytes`: `truncated` below 8 bytes. */
  static checked(bytes: Uint8Array): ParseResult<Icmpv6Packet> {
    if (bytes.length < ICMPV6_HEADER_LEN) return fail('truncated');
    return ok(new Icmpv6Packet(bytes));
  }

  /** Bytes of the fixed header (8); the payload follows. */
  get headerLength(): number { return 8; }
  /** Message type. */
  get type(): number { return this.view.getUint8(0); }
  /** Message code. */
  get code(): number { return this.view.getUint8(1); }
  /** The checksum field. */
  get checksum(): number { return this.view.getUint16(2); }
  /** The 4 type-specific bytes as an unsigned 32-bit number. */
  get rest(): number { return this.view.getUint32(4); }
  /** Echo identifier. */
  get identifier(): number { return this.view.getUint16(4); }
  /** Echo sequence number. */
  get sequence(): number { return this.view.getUint16(6); }
  /** Packet Too Big MTU (RFC 4443 3.2). */
  get mtu(): number { return this.view.getUint32(4); }
  /** Parameter Problem pointer: octet offset of the error in the invoking packet (RFC 4443 3.4). */
  get pointer(): number { return this.view.getUint32(4); }
  /** Everything after the 8-byte header (a view). */
  get payload(): Uint8Array { return this.bytes.subarray(ICMPV6_HEADER_LEN); }
}

/** Echo Request (128) or Echo Reply (129), RFC 4443 4. */
export interface Icmpv6Echo {
  readonly type: 'echo-request' | 'echo-reply';
  /** 0 by RFC 4443; kept so that nothing is lost. */
  readonly code: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly data: Uint8Array;
}

/** Destination Unreachable (1), RFC 4443 3.1. */
export interface Icmpv6DestinationUnreachable {
  readonly type: 'destination-unreachable';
  /** One of `Icmpv6UnreachableCode`. */
  readonly code: number;
  readonly invoking: Uint8Array;
}

/** Packet Too Big (2), RFC 4443 3.2: the MTU of the next-hop link, for path MTU discovery (RFC 8201). */
export interface Icmpv6PacketTooBig {
  readonly type: 'packet-too-big';
  /** 0 by RFC 4443 (ignored by receivers); kept so that nothing is lost. */
  readonly code: number;
  readonly mtu: number;
  readonly invoking: Uint8Array;
}

/** Time Exceeded (3), RFC 4443 3.3. */
export interface Icmpv6TimeExceeded {
  readonly type: 'time-exceeded';
  /** One of `Icmpv6TimeExceededCode`. */
  readonly code: number;
  readonly invoking: Uint8Array;
}

/** Parameter Problem (4), RFC 4443 3.4. */
export interface Icmpv6ParameterProblem {
  readonly type: 'parameter-problem';
  /** One of `Icmpv6ParameterProblemCode`. */
  readonly code: number;
  /** Octet offset in the invoking packet where the error was found (32 bits). */
  readonly pointer: number;
  readonly invoking: Uint8Array;
}

/** Any other message (Neighbor Discovery, MLD, unknown types), kept whole. */
export interface Icmpv6Other {
  readonly type: 'other';
  /** The ICMPv6 type; never 1-4, 128 or 129, which have their own variants. */
  readonly icmpType: number;
  readonly code: number;
  /** The 4 type-specific bytes as an unsigned 32-bit number (e.g. Neighbor Advertisement flags). */
  readonly rest: number;
  /** Everything after the 8-byte header (a view on parse). */
  readonly data: Uint8Array;
}

/** An ICMPv6 message as a record. */
export type Icmpv6Repr =
  | Icmpv6Echo | Icmpv6DestinationUnreachable | Icmpv6PacketTooBig | Icmpv6TimeExceeded | Icmpv6ParameterProblem
  | Icmpv6Other;

/** Options of `parseIcmpv6`. */
export interface Icmpv6ParseOptions {
  /** Verify the checksum (default true). */
  readonly verifyChecksum?: boolean;
}

function sumsToZero(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  return checksumFinish(pseudoHeaderSum(src, dst, ICMPV6_PROTOCOL, bytes.length) + checksumAdd(0, bytes)) === 0;
}

/** Whether the checksum of the ICMPv6 message `bytes` from `src` to `dst` verifies (false below 8 bytes). */
export function icmpv6ChecksumValid(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  return bytes.length >= ICMPV6_HEADER_LEN && sumsToZero(bytes, src, dst);
}

/**
 * Parses `bytes` (the upper-layer payload of an IPv6 packet from `src` to `dst`) as an
 * ICMPv6 message: `truncated` below 8 bytes, `bad-checksum` when the checksum does not
 * verify (unless `verifyChecksum` is false).
 */
export function parseIcmpv6(
  bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, options?: Icmpv6ParseOptions,
): ParseResult<Icmpv6Repr> {
  if (bytes.length < ICMPV6_HEADER_LEN) return fail('truncated');
  if (options?.verifyChecksum !== false && !sumsToZero(bytes, src, dst)) return fail('bad-checksum');
  const type = bytes[0]!;
  const code = bytes[1]!;
  const body = bytes.subarray(ICMPV6_HEADER_LEN);
  const rest = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
  switch (type) {
    case Icmpv6Type.EchoRequest:
    case Icmpv6Type.EchoReply:
      return ok({
        type: type === Icmpv6Type.EchoRequest ? 'echo-request' : 'echo-reply',
        code, identifier: rest >>> 16, sequence: rest & 0xffff, data: body,
      });
    case Icmpv6Type.DestinationUnreachable:
      return ok({ type: 'destination-unreachable', code, invoking: body });
    case Icmpv6Type.PacketTooBig:
      return ok({ type: 'packet-too-big', code, mtu: rest, invoking: body });
    case Icmpv6Type.TimeExceeded:
      return ok({ type: 'time-exceeded', code, invoking: body });
    case Icmpv6Type.ParameterProblem:
      return ok({ type: 'parameter-problem', code, pointer: rest, invoking: body });
    default:
      return ok({ type: 'other', icmpType: type, code, rest, data: body });
  }
}

function bodyOf(repr: Icmpv6Repr): Uint8Array {
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
    case 'other':
      return repr.data;
    default:
      return repr.invoking;
  }
}

/** Bytes `emitIcmpv6` writes: the 8-byte header plus the data or quoted packet. */
export function icmpv6BufferLen(repr: Icmpv6Repr): number {
  return ICMPV6_HEADER_LEN + bodyOf(repr).length;
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`ICMPv6 ${what} out of range: ${value}`);
  return value;
}

function hasOwnVariant(type: number): boolean {
  return (type >= 1 && type <= 4) || type === 128 || type === 129;
}

function typeAndRest(repr: Icmpv6Repr): [number, number] {
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
      return [repr.type === 'echo-request' ? Icmpv6Type.EchoRequest : Icmpv6Type.EchoReply,
        checkRange(repr.identifier, 0xffff, 'identifier') * 0x10000 + checkRange(repr.sequence, 0xffff, 'sequence')];
    case 'destination-unreachable': return [Icmpv6Type.DestinationUnreachable, 0];
    case 'packet-too-big': return [Icmpv6Type.PacketTooBig, checkRange(repr.mtu, 0xffffffff, 'MTU')];
    case 'time-exceeded': return [Icmpv6Type.TimeExceeded, 0];
    case 'parameter-problem': return [Icmpv6Type.ParameterProblem, checkRange(repr.pointer, 0xffffffff, 'pointer')];
    case 'other': {
      const type = checkRange(repr.icmpType, 0xff, 'type');
      if (hasOwnVariant(type)) throw new RangeError(`ICMPv6 type ${type} has its own variant; do not emit it as 'other'`);
      return [type, checkRange(repr.rest, 0xffffffff, 'rest of header')];
    }
  }
}

/**
 * Writes `repr` at `buf[offset]` as a message from `src` to `dst`, fills the checksum
 * (with the pseudo-header) and returns the bytes written. Throws RangeError for a field
 * out of range, an `other` record whose type has its own variant, or a buffer too small.
 */
export function emitIcmpv6(repr: Icmpv6Repr, buf: Uint8Array, offset: number, src: Uint8Array, dst: Uint8Array): number {
  const body = bodyOf(repr);
  const length = ICMPV6_HEADER_LEN + body.length;
  if (offset < 0 || offset + length > buf.length) throw new RangeError('buffer too small for the ICMPv6 message');
  const [type, rest] = typeAndRest(repr);
  buf[offset] = type;
  buf[offset + 1] = checkRange(repr.code, 0xff, 'code');
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = rest >>> 24;
  buf[offset + 5] = (rest >>> 16) & 0xff;
  buf[offset + 6] = (rest >>> 8) & 0xff;
  buf[offset + 7] = rest & 0xff;
  buf.set(body, offset + ICMPV6_HEADER_LEN);
  const c = checksumFinish(pseudoHeaderSum(src, dst, ICMPV6_PROTOCOL, length) + checksumAdd(0, buf, offset, offset + length));
  buf[offset + 2] = c >>> 8;
  buf[offset + 3] = c & 0xff;
  return length;
}

/** tcpdump's names of ICMPv6 types (print-icmp6.c `icmp6_type_values`). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded in-transit', 4: 'parameter problem',
  128: 'echo request', 129: 'echo reply', 130: 'multicast listener query', 131: 'multicast listener report',
  132: 'multicast listener done', 133: 'router solicitation', 134: 'router advertisement',
  135: 'neighbor solicitation', 136: 'neighbor advertisement', 137: 'redirect', 138: 'router renumbering',
  139: 'who-are-you request', 140: 'who-are-you reply', 141: 'inverse neighbor solicitation',
  142: 'inverse neighbor advertisement', 143: 'multicast listener report v2', 144: 'ha discovery request',
  145: 'ha discovery reply', 146: 'mobile router solicitation', 147: 'mobile router advertisement', 155: 'RPL',
  200: 'mtrace response', 201: 'mtrace message',
};

/** tcpdump's words for Destination Unreachable codes (its leading space for code 1 trimmed). */
const UNREACH_NAMES: readonly string[] = ['unreachable route', 'unreachable prohibited', 'beyond scope', 'unreachable address', 'unreachable port'];

const PARAM_NAMES: readonly string[] = ['erroneous', 'next header', 'option', 'incomplete header chain'];

/**
 * The name of a type and code in tcpdump's words, without the addresses and numbers it
 * weaves in: `echo request`, `destination unreachable, unreachable port`,
 * `time exceeded in-transit (reassembly)`, `parameter problem, next header`,
 * `unknown icmp6 type (77)`.
 */
export function icmpv6TypeName(type: number, code: number): string {
  const name = TYPE_NAMES[type] ?? `unknown icmp6 type (${type})`;
  switch (type) {
    case 1: return `${name}, ${UNREACH_NAMES[code] ?? `unknown unreach code (${code})`}`;
    case 3: return code === 0 ? name : code === 1 ? `${name} (reassembly)` : `${name}, unknown code (${code})`;
    case 4: return `${name}, ${PARAM_NAMES[code] ?? `code-#${code}`}`;
    default: return name;
  }
}

/**
 * The text after `ICMP6, <type name>`: a string whose `length` tcpdump then appends, or
 * `{ end }` for text it prints without a length (a truncation mark, or a hex dump follows).
 */
function describe(type: number, code: number, rest: number, body: Uint8Array, length: number): string | { end: string } {
  const TRUNC = { end: ' [|icmp6]' };
  const innerDst = body.length >= 40 ? formatIpv6(body.subarray(24, 40)) : null;
  switch (type) {
    case 1: {
      const codeText = code === 1 ? ',  unreachable prohibited' : `, ${UNREACH_NAMES[code] ?? `unknown unreach code (${code})`}`;
      if (code > 4) return { end: codeText }; // tcpdump dumps the message in hex instead of a length
      if (innerDst === null) return { end: codeText + TRUNC.end };
      if (code === 2) return `${codeText} ${innerDst}, source address ${formatIpv6(body.subarray(8, 24))}`;
      if (code !== 4) return `${codeText} ${innerDst}`;
      // tcpdump's get_upperlayer: walk to a TCP or UDP header with its ports in the quote.
      // tcpdump does not look at the inner version; neither does its text here.
      let quote = body;
      if (body[0]! >>> 4 !== 6) { quote = body.slice(); quote[0] = 0x60 | (body[0]! & 0x0f); }
      const q = parseQuotedDatagram(quote, 6);
      if (!q.ok || q.value.dstPort === undefined) return { end: codeText + TRUNC.end };
      return `${codeText}, ${innerDst} ${q.value.protocol === 6 ? 'tcp' : 'udp'} port ${q.value.dstPort}`;
    }
    case 2:
      return `, mtu ${rest}`;
    case 3:
      if (code === 0) return innerDst === null ? TRUNC : ` for ${innerDst}`;
      return code === 1 ? ' (reassembly)' : `, unknown code (${code})`;
    case 4:
      if (innerDst === null) return TRUNC;
      return code < PARAM_NAMES.length ? `, ${PARAM_NAMES[code]} - octet ${rest}` : `, code-#${code}`;
    case 128:
    case 129:
      return `, id ${rest >>> 16}, seq ${rest & 0xffff}`;
    case 130: // MLD query: MLDv1 is 24 bytes, MLDv2 at least 28 (RFC 3810 5.1)
      if (length === 24) return mld(rest, body);
      if (length >= 28) {
        const nsrcs = readU16(body, 18);
        const srcs = nsrcs === 0 ? '' : length < 28 + nsrcs * 16 ? ' [invalid number of sources]' : `, ${nsrcs} source(s)`;
        return ` v2 [gaddr ${formatIpv6(body.subarray(0, 16))}${srcs}]`;
      }
      return ` unknown-version (len ${length}) `;
    case 131:
    case 132:
      return mld(rest, body);
    case 135:
      return body.length < 16 ? TRUNC : `, who has ${formatIpv6(body.subarray(0, 16))}`;
    case 136:
      return body.length < 16 ? TRUNC : `, tgt is ${formatIpv6(body.subarray(0, 16))}`;
    case 137:
      return body.length < 32 ? TRUNC : `, ${formatIpv6(body.subarray(16, 32))} to ${formatIpv6(body.subarray(0, 16))}`;
    case 143:
      return `, ${rest & 0xffff} group record(s)`;
    case 144:
    case 146:
      return `, id 0x${(rest >>> 16).toString(16).padStart(4, '0')}`;
    default:
      return '';
  }
}

/** tcpdump's MLDv1 text, glued to the type name as tcpdump prints it. */
function mld(rest: number, body: Uint8Array): string {
  if (body.length < 16) return ''; // tcpdump prints nothing when the multicast address is missing
  return `max resp delay: ${rest >>> 16} addr: ${formatIpv6(body.subarray(0, 16))}`;
}

/**
 * The text tcpdump (4.99, `-n`, not verbose) prints for this message after `src > dst: `,
 * e.g. `ICMP6, echo request, id 1, seq 1, length 64` or
 * `ICMP6, destination unreachable, unreachable port, ::1 udp port 9999, length 61`.
 * Where tcpdump reports truncation it ends in `[|icmp6]` without a length; where it follows
 * the line with a hex dump (unknown codes and types) only the first line is returned.
 * Node information, router renumbering and RPL messages get the type name only, where
 * tcpdump decodes further.
 */
export function icmpv6Summary(repr: Icmpv6Repr): string {
  let type: number;
  let rest = 0;
  switch (repr.type) {
    case 'echo-request': type = 128; rest = repr.identifier * 0x10000 + repr.sequence; break;
    case 'echo-reply': type = 129; rest = repr.identifier * 0x10000 + repr.sequence; break;
    case 'destination-unreachable': type = 1; break;
    case 'packet-too-big': type = 2; rest = repr.mtu; break;
    case 'time-exceeded': type = 3; break;
    case 'parameter-problem': type = 4; rest = repr.pointer; break;
    case 'other': type = repr.icmpType; rest = repr.rest; break;
  }
  const body = bodyOf(repr);
  const length = ICMPV6_HEADER_LEN + body.length;
  const head = `ICMP6, ${TYPE_NAMES[type] ?? `unknown icmp6 type (${type})`}`;
  const tail = describe(type, repr.code, rest >>> 0, body, length);
  return typeof tail === 'string' ? `${head}${tail}, length ${length}` : `${head}${tail.end}`;
}
