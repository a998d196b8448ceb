/**
 * ICMP for IPv4 (RFC 792). Every message starts with type, code, checksum and four bytes
 * whose meaning depends on the type ("rest of header"), so `Icmpv4Packet.checked` needs 8
 * bytes and nothing more: the body is the IP payload after those 8 bytes, whatever its
 * length. The checksum covers the message alone (no pseudo-header) and is verified by
 * default. `Icmpv4Repr` is a union with one variant per message l4 acts on (echo, the
 * three errors a transport cares about) and an `other` variant that keeps type, code, the
 * 4 rest-of-header bytes and the body, so nothing another tool may want is lost. Error
 * variants carry the quoted original datagram as `invoking`; `parseQuotedDatagram`
 * (icmp-quote.ts) reads its addresses and ports. Unused rest-of-header bytes of error
 * messages are not kept and are emitted as zero (RFC 792: "unused"; the RFC 4884 length
 * byte, when present, is therefore not reproduced). `icmpv4Summary` prints a message in
 * tcpdump's words.
 */
import { readU16, readU32 } from './bytes.js';
import type { ParseResult } from './result.js';
import { fail, ok } from './result.js';
import { internetChecksum } from './checksum.js';
import { formatIpv4 } from './address.js';

/** Bytes of the fixed ICMP header: type, code, checksum and the 4-byte rest of header. */
export const ICMPV4_HEADER_LEN = 8;

/** ICMPv4 message types (IANA "ICMP Type Numbers"). */
export const Icmpv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSolicitation: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
  InformationRequest: 15,
  InformationReply: 16,
  AddressMaskRequest: 17,
  AddressMaskReply: 18,
} as const;

/** Destination Unreachable codes: RFC 792 (0-5), RFC 1122 3.2.2.1 (6-12), RFC 1812 5.2.7.1 (13-15). */
export const Icmpv4UnreachableCode = {
  NetUnreachable: 0,
  HostUnreachable: 1,
  ProtocolUnreachable: 2,
  PortUnreachable: 3,
  /** Fragmentation needed and DF set; the next-hop MTU is in the header (RFC 1191 4). */
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  NetUnknown: 6,
  HostUnknown: 7,
  SourceHostIsolated: 8,
  NetAdminProhibited: 9,
  HostAdminProhibited: 10,
  NetUnreachableForTos: 11,
  HostUnreachableForTos: 12,
  /** Communication administratively prohibited (RFC 1812), what a filtering router sends. */
  AdminProhibited: 13,
  HostPrecedenceViolation: 14,
  PrecedenceCutoff: 15,
} as const;

/** Time Exceeded codes (RFC 792). */
export const Icmpv4TimeExceededCode = { TtlExceeded: 0, FragmentReassembly: 1 } as const;

/** Parameter Problem codes (RFC 792, RFC 1108). */
export const Icmpv4ParameterProblemCode = { PointerIndicatesError: 0, MissingRequiredOption: 1, BadLength: 2 } as const;

/** Redirect codes (RFC 792). */
export const Icmpv4RedirectCode = { Network: 0, Host: 1, TosNetwork: 2, TosHost: 3 } as const;

/** A checked ICMPv4 message: at least the 8-byte header, so every accessor is in bounds. */
export class Icmpv4Packet {
  /** The whole message (the IP payload). */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Validates `bytes` (the IP payload): `truncated` below 8 bytes. */
  static checked(bytes: Uint8Array): ParseResult<Icmpv4Packet> {
    if (bytes.length < ICMPV4_HEADER_LEN) return fail('truncated');
    return ok(new Icmpv4Packet(bytes));
  }

  /** Bytes of the fixed header (8); the payload follows. */
  get headerLength(): number { return 8; }
  /** Message type. */
  get type(): number { return this.view.getUint8(0); }
  /** Message code. */
  get code(): number { return this.view.getUint8(1); }
  /** The checksum field. */
  get checksum(): number { return this.view.getUint16(2); }
  /** The 4 rest-of-header bytes as an unsigned 32-bit number. */
  get rest(): number { return this.view.getUint32(4); }
  /** Echo identifier (first half of the rest of header). */
  get identifier(): number { return this.view.getUint16(4); }
  /** Echo sequence number (second half of the rest of header). */
  get sequence(): number { return this.view.getUint16(6); }
  /** Parameter Problem pointer: the byte of the quoted header at fault. */
  get pointer(): number { return this.view.getUint8(4); }
  /** Next-hop MTU of a Fragmentation Needed message (RFC 1191 4), 0 from older routers. */
  get nextHopMtu(): number { return this.view.getUint16(6); }
  /** Everything after the 8-byte header: echo data, or the quoted datagram of an error (a view). */
  get payload(): Uint8Array { return this.bytes.subarray(ICMPV4_HEADER_LEN); }
}

/** Echo Request (type 8) or Echo Reply (type 0), RFC 792. */
export interface Icmpv4Echo {
  readonly type: 'echo-request' | 'echo-reply';
  /** 0 by RFC 792; kept so that nothing is lost. */
  readonly code: number;
  readonly identifier: number;
  readonly sequence: number;
  /** The echo data (a view on parse). */
  readonly data: Uint8Array;
}

/** Destination Unreachable (type 3). */
export interface Icmpv4DestinationUnreachable {
  readonly type: 'destination-unreachable';
  /** One of `Icmpv4UnreachableCode`. */
  readonly code: number;
  /** Low 16 bits of the rest of header: the next-hop MTU for code 4 (RFC 1191 4), otherwise 0. */
  readonly nextHopMtu: number;
  /** The quoted original datagram (a view on parse). */
  readonly invoking: Uint8Array;
}

/** Time Exceeded (type 11). */
export interface Icmpv4TimeExceeded {
  readonly type: 'time-exceeded';
  /** One of `Icmpv4TimeExceededCode`. */
  readonly code: number;
  readonly invoking: Uint8Array;
}

/** Parameter Problem (type 12). */
export interface Icmpv4ParameterProblem {
  readonly type: 'parameter-problem';
  /** One of `Icmpv4ParameterProblemCode`. */
  readonly code: number;
  /** Byte offset in the quoted datagram where the problem was found (code 0). */
  readonly pointer: number;
  readonly invoking: Uint8Array;
}

/** Any other message (redirect, source quench, router discovery, timestamps, …), kept whole. */
export interface Icmpv4Other {
  readonly type: 'other';
  /** The ICMP type; never 0, 3, 8, 11 or 12, which have their own variants. */
  readonly icmpType: number;
  readonly code: number;
  /** The 4 rest-of-header bytes as an unsigned 32-bit number (e.g. a redirect's gateway). */
  readonly rest: number;
  /** Everything after the 8-byte header (a view on parse). */
  readonly data: Uint8Array;
}

/** An ICMPv4 message as a record. */
export type Icmpv4Repr =
  | Icmpv4Echo | Icmpv4DestinationUnreachable | Icmpv4TimeExceeded | Icmpv4ParameterProblem | Icmpv4Other;

/** Options of `parseIcmpv4`. */
export interface Icmpv4ParseOptions {
  /** Verify the checksum (default true). */
  readonly verifyChecksum?: boolean;
}

/** Whether the checksum of the ICMPv4 message `bytes` verifies (false below 8 bytes). */
export function icmpv4ChecksumValid(bytes: Uint8Array): boolean {
  return bytes.length >= ICMPV4_HEADER_LEN && internetChecksum(bytes) === 0;
}

/**
 * Parses the IP payload `bytes` as an ICMPv4 message: `truncated` below 8 bytes,
 * `bad-checksum` when the checksum does not verify (unless `verifyChecksum` is false).
 */
export function parseIcmpv4(bytes: Uint8Array, options?: Icmpv4ParseOptions): ParseResult<Icmpv4Repr> {
  if (bytes.length < ICMPV4_HEADER_LEN) return fail('truncated');
  if (options?.verifyChecksum !== false && internetChecksum(bytes) !== 0) return fail('bad-checksum');
  const type = bytes[0]!;
  const code = bytes[1]!;
  const body = bytes.subarray(ICMPV4_HEADER_LEN);
  switch (type) {
    case Icmpv4Type.EchoRequest:
    case Icmpv4Type.EchoReply:
      return ok({
        type: type === Icmpv4Type.EchoRequest ? 'echo-request' : 'echo-reply',
        code,
        identifier: (bytes[4]! << 8) | bytes[5]!,
        sequence: (bytes[6]! << 8) | bytes[7]!,
        data: body,
      });
    case Icmpv4Type.DestinationUnreachable:
      return ok({ type: 'destination-unreachable', code, nextHopMtu: (bytes[6]! << 8) | bytes[7]!, invoking: body });
    case Icmpv4Type.TimeExceeded:
      return ok({ type: 'time-exceeded', code, invoking: body });
    case Icmpv4Type.ParameterProblem:
      return ok({ type: 'parameter-problem', code, pointer: bytes[4]!, invoking: body });
    default:
      return ok({
        type: 'other', icmpType: type, code,
        rest: ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0,
        data: body,
      });
  }
}

function bodyOf(repr: Icmpv4Repr): Uint8Array {
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
    case 'other':
      return repr.data;
    default:
      return repr.invoking;
  }
}

/** Bytes `emitIcmpv4` writes: the 8-byte header plus the data or quoted datagram. */
export function icmpv4BufferLen(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LEN + bodyOf(repr).length;
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`ICMPv4 ${what} out of range: ${value}`);
  return value;
}

/** Types with their own variant: an `other` record must not use them (its parse would not round-trip). */
function hasOwnVariant(type: number): boolean {
  return type === 0 || type === 3 || type === 8 || type === 11 || type === 12;
}

/**
 * Writes `repr` at `buf[offset]`, fills the checksum and returns the bytes written. Throws
 * RangeError for a field out of range, an `other` record whose type has its own variant,
 * or a buffer too small.
 */
export function emitIcmpv4(repr: Icmpv4Repr, buf: Uint8Array, offset = 0): number {
  const body = bodyOf(repr);
  const length = ICMPV4_HEADER_LEN + body.length;
  if (offset < 0 || offset + length > buf.length) throw new RangeError('buffer too small for the ICMPv4 message');
  let type: number;
  let rest: number;
  switch (repr.type) {
    case 'echo-request':
    case 'echo-reply':
      type = repr.type === 'echo-request' ? Icmpv4Type.EchoRequest : Icmpv4Type.EchoReply;
      rest = checkRange(repr.identifier, 0xffff, 'identifier') * 0x10000 + checkRange(repr.sequence, 0xffff, 'sequence');
      break;
    case 'destination-unreachable':
      type = Icmpv4Type.DestinationUnreachable;
      rest = checkRange(repr.nextHopMtu, 0xffff, 'next-hop MTU');
      break;
    case 'time-exceeded':
      type = Icmpv4Type.TimeExceeded;
      rest = 0;
      break;
    case 'parameter-problem':
      type = Icmpv4Type.ParameterProblem;
      rest = checkRange(repr.pointer, 0xff, 'pointer') * 0x1000000;
      break;
    case 'other':
      type = checkRange(repr.icmpType, 0xff, 'type');
      if (hasOwnVariant(type)) throw new RangeError(`ICMPv4 type ${type} has its own variant; do not emit it as 'other'`);
      rest = checkRange(repr.rest, 0xffffffff, 'rest of header');
      break;
  }
  buf[offset] = type;
  buf[offset + 1] = checkRange(repr.code, 0xff, 'code');
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = rest >>> 24;
  buf[offset + 5] = (rest >>> 16) & 0xff;
  buf[offset + 6] = (rest >>> 8) & 0xff;
  buf[offset + 7] = rest & 0xff;
  buf.set(body, offset + ICMPV4_HEADER_LEN);
  const c = internetChecksum(buf, offset, offset + length);
  buf[offset + 2] = c >>> 8;
  buf[offset + 3] = c & 0xff;
  return length;
}

const UNREACH_WORDS: readonly string[] = [
  'net unreachable', 'host unreachable', 'protocol unreachable', 'port unreachable',
  'unreachable - need to frag', 'unreachable - source route failed', 'net unreachable - unknown',
  'host unreachable - unknown', 'unreachable - source host isolated', 'net unreachable - admin prohibited',
  'host unreachable - admin prohibited', 'net unreachable - tos prohibited', 'host unreachable - tos prohibited',
  'host unreachable - admin prohibited filter', 'host unreachable - host precedence violation',
  'host unreachable - precedence cutoff',
];

const REDIRECT_WORDS: readonly string[] = ['redirect to net', 'redirect to host', 'redirect-tos to net', 'redirect-tos to host'];

const SIMPLE_NAMES: Readonly<Record<number, string>> = {
  0: 'echo reply', 4: 'source quench', 8: 'echo request', 9: 'router advertisement', 10: 'router solicitation',
  12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply', 15: 'information request',
  16: 'information reply', 17: 'address mask request', 18: 'address mask reply',
};

/**
 * The name of a type and code in tcpdump's words, without the addresses and numbers
 * tcpdump weaves in (`echo request`, `port unreachable`, `unreachable - need to frag`,
 * `time exceeded in-transit`, `type-#42`).
 */
export function icmpv4TypeName(type: number, code: number): string {
  switch (type) {
    case 3: return UNREACH_WORDS[code] ?? `unreachable - #${code}`;
    case 5: return REDIRECT_WORDS[code] ?? `redirect-#${code}`;
    case 11: return code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
    default: return SIMPLE_NAMES[type] ?? `type-#${type}`;
  }
}

/** Unreachable formats of tcpdump (print-icmp.c `unreach2str`), `%` standing for the address. */
const UNREACH_FORMATS: Readonly<Record<number, string>> = {
  0: 'net % unreachable', 1: 'host % unreachable', 5: '% unreachable - source route failed',
  6: 'net % unreachable - unknown', 7: 'host % unreachable - unknown', 8: '% unreachable - source host isolated',
  9: 'net % unreachable - admin prohibited', 10: 'host % unreachable - admin prohibited',
  11: 'net % unreachable - tos prohibited', 12: 'host % unreachable - tos prohibited',
  13: 'host % unreachable - admin prohibited filter', 14: 'host % unreachable - host precedence violation',
  15: 'host % unreachable - precedence cutoff',
};

/** tcpdump's milliseconds-since-midnight format: `hh:mm:ss.mmm`. */
function msTime(t: number): string {
  const ms = t % 1000;
  let sec = Math.floor(t / 1000);
  let min = Math.floor(sec / 60); sec -= min * 60;
  const hrs = Math.floor(min / 60); min -= hrs * 60;
  return `${String(hrs).padStart(2, '0')}:${String(min).padStart(2, '0')}:${String(sec).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
}

/** The text between `ICMP ` and `, length N`, or null where tcpdump reports a truncated packet. */
function describe(type: number, code: number, rest: number, body: Uint8Array): string | null {
  const quotedDst = body.length >= 20 ? formatIpv4(body.subarray(16, 20)) : null;
  switch (type) {
    case 0:
    case 8:
      return `echo ${type === 8 ? 'request' : 'reply'}, id ${rest >>> 16}, seq ${rest & 0xffff}`;
    case 3: {
      if (quotedDst === null) return null;
      if (code === 2) return `${quotedDst} protocol ${body[9]} unreachable`;
      if (code === 3) {
        const hlen = (body[0]! & 0x0f) * 4;
        if (hlen + 4 > body.length) return null;
        const dport = readU16(body, hlen + 2);
        const proto = body[9]!;
        if (proto === 6) return `${quotedDst} tcp port ${dport} unreachable`;
        if (proto === 17) return `${quotedDst} udp port ${dport} unreachable`;
        return `${quotedDst} protocol ${proto} port ${dport} unreachable`;
      }
      if (code === 4) {
        const mtu = rest & 0xffff;
        return mtu !== 0 ? `${quotedDst} unreachable - need to frag (mtu ${mtu})` : `${quotedDst} unreachable - need to frag`;
      }
      const fmt = UNREACH_FORMATS[code];
      return fmt !== undefined ? fmt.replace('%', quotedDst) : `${quotedDst} unreachable - #${code}`;
    }
    case 5: {
      if (quotedDst === null) return null;
      const gw = `${rest >>> 24}.${(rest >>> 16) & 0xff}.${(rest >>> 8) & 0xff}.${rest & 0xff}`;
      switch (code) {
        case 0: return `redirect ${quotedDst} to net ${gw}`;
        case 1: return `redirect ${quotedDst} to host ${gw}`;
        case 2: return `redirect-tos ${quotedDst} to net ${gw}`;
        case 3: return `redirect-tos ${quotedDst} to host ${gw}`;
        default: return `redirect-#${code} ${quotedDst} to ${gw}`;
      }
    }
    case 9: { // RFC 1256 router advertisement
      const num = rest >>> 24;
      const size = (rest >>> 16) & 0xff;
      const life = rest & 0xffff;
      const lifetime = life < 60 ? `${life}`
        : life < 3600 ? `${Math.floor(life / 60)}:${String(life % 60).padStart(2, '0')}`
          : `${Math.floor(life / 3600)}:${String(Math.floor((life % 3600) / 60)).padStart(2, '0')}:${String(life % 60).padStart(2, '0')}`;
      let s = `router advertisement lifetime ${lifetime} ${num}:`;
      if (size !== 2) return `${s} [size ${size}]`;
      for (let i = 0; i < num; i++) {
        if (8 * i + 8 > body.length) return null;
        s += ` {${formatIpv4(body.subarray(8 * i, 8 * i + 4))} ${readU32(body, 8 * i + 4)}}`;
      }
      return s;
    }
    case 11:
      if (quotedDst === null) return null;
      return icmpv4TypeName(type, code);
    case 12:
      return code !== 0 ? `parameter problem - code ${code}` : `parameter problem - octet ${rest >>> 24}`;
    case 13:
      return `time stamp query id ${rest >>> 16} seq ${rest & 0xffff}`;
    case 14:
      if (body.length < 12) return null;
      return `time stamp reply id ${rest >>> 16} seq ${rest & 0xffff}: org ${msTime(readU32(body, 0))}, recv ${msTime(readU32(body, 4))}, xmit ${msTime(readU32(body, 8))}`;
    case 18:
      if (body.length < 4) return null;
      return `address mask is 0x${readU32(body, 0).toString(16).padStart(8, '0')}`;
    default:
      return icmpv4TypeName(type, code);
  }
}

/**
 * The text tcpdump (4.99, `-n`, not verbose) prints for this message after `src > dst: `,
 * e.g. `ICMP echo request, id 1, seq 1, length 64` or
 * `ICMP 10.0.0.2 udp port 9999 unreachable, length 36`. Messages whose quote or body is
 * too short for what tcpdump reads print as tcpdump does, `[|icmp]`. The length is the
 * message length (tcpdump prints the IP payload length, the same thing for a whole packet).
 */
export function icmpv4Summary(repr: Icmpv4Repr): string {
  let type: number;
  let rest = 0;
  switch (repr.type) {
    case 'echo-request': type = 8; rest = repr.identifier * 0x10000 + repr.sequence; break;
    case 'echo-reply': type = 0; rest = repr.identifier * 0x10000 + repr.sequence; break;
    case 'destination-unreachable': type = 3; rest = repr.nextHopMtu; break;
    case 'time-exceeded': type = 11; break;
    case 'parameter-problem': type = 12; rest = repr.pointer * 0x1000000; break;
    case 'other': type = repr.icmpType; rest = repr.rest; break;
  }
  const body = bodyOf(repr);
  const text = describe(type, repr.code, rest >>> 0, body);
  return text === null ? '[|icmp]' : `ICMP ${text}, length ${ICMPV4_HEADER_LEN + body.length}`;
}
