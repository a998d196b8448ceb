/**
 * The TCP header (RFC 9293 3.1) with its options (RFC 7323, RFC 2018) and checksum.
 *
 * Contract: one validation (fixed header present, data offset at least 5 and within the
 * buffer, every option well formed) stands behind `tcpFault`, `TcpPacket.checked` and
 * `parseTcp`, so the three refuse the same segments for the same reasons. `TcpPacket.checked`
 * makes it once so that its getters never read out of bounds; `parseTcp` reads the bytes
 * straight into a `TcpRepr` (no view and no `DataView`: it runs for every segment a host
 * receives) and, by default, verifies the checksum over the pseudo-header. None throws on any
 * input: a malformed segment is refused with a `WireReason`. The caller passes exactly the
 * IP payload (the TCP length of the pseudo-header is `bytes.length`). Fields are kept raw
 * and faithful: the acknowledgment number even without ACK, the window unscaled, the four
 * reserved bits (whose lowest is the AE/NS bit of RFC 3540 and AccECN) and the options in
 * wire order with their NOPs, so that `emitTcp(parseTcp(b))` reproduces `b` byte for byte. Emitting an impossible record (a field
 * out of range, options beyond 40 bytes, a buffer too small) throws `RangeError`.
 */
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { readU16, readU32 } from './bytes.js';
import { IpProtocol } from './ip-protocol.js';
import { fail, ok } from './result.js';
import type { ParseResult, WireReason } from './result.js';
import {
  TCP_MAX_OPTIONS_LEN, isTimestampsOnlyLayout, tcpOptionsLen, timestampsOptionList, walkTcpOptions, writeTcpOptions,
} from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';

export {
  TCP_MAX_OPTIONS_LEN, TcpOptionKind, emitTcpOptions, formatTcpOption, formatTcpOptions, parseTcpOptions,
  tcpOptionLen, tcpOptionsLen, tcpOptionsSummary, walkTcpOptions,
} from './tcp-options.js';
export type { SackBlock, TcpOption, TcpOptionList, TcpOptionsSummary } from './tcp-options.js';

/** The control bits of byte 13 of the header (RFC 9293 3.1; ECE and CWR from RFC 3168 6.1). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** The fixed header: 20 bytes, a data offset of 5 words. */
export const TCP_HEADER_LEN = 20;

/** The largest header: a data offset of 15 words. */
export const TCP_MAX_HEADER_LEN = 60;

/** A header with NOP, NOP, TSopt and nothing else: 32 bytes. */
const TIMESTAMPS_HEADER_LEN = 32;

/** The lowest reserved bit (bit 8 of the 16-bit word at offset 12): NS of RFC 3540, AE of AccECN. */
export const TCP_RESERVED_AE = 0x1;

/**
 * The checks of {@link TcpPacket.checked} and {@link parseTcp}, in the same order, without
 * allocating anything: null when `bytes` is a well-formed TCP segment (whose header length
 * the caller may then read from byte 12), else the reason. The checksum is not looked at (it
 * needs the addresses: see {@link tcpChecksumValid}). For a receive path that reads the few
 * fields it needs straight from the bytes. Never throws.
 */
export function tcpFault(bytes: Uint8Array): WireReason | null {
  const r = checkTcpHeader(bytes, null);
  return typeof r === 'number' ? null : r;
}

/**
 * The one validation of a TCP header, behind {@link tcpFault}, {@link TcpPacket.checked} and
 * {@link parseTcp}: 'truncated' below 20 bytes, 'data-offset-too-small' for a data offset
 * below 5, 'data-offset-past-end' when the header would run past the buffer, then the option
 * walk's 'option-length-invalid' or 'option-overrun'. Appends the options to `options` unless
 * it is null (then nothing is allocated). Returns the bytes after an EOL option (0 without
 * one), or the reason.
 */
function checkTcpHeader(bytes: Uint8Array, options: TcpOption[] | null): number | WireReason {
  if (bytes.length < TCP_HEADER_LEN) return 'truncated';
  const dataOffset = bytes[12]! >>> 4;
  // RFC 9293 3.1: "Data Offset (DOffset): 4 bits. The number of 32-bit words in the TCP header."
  if (dataOffset < 5) return 'data-offset-too-small';
  const headerLength = dataOffset * 4;
  if (headerLength > bytes.length) return 'data-offset-past-end';
  return headerLength > TCP_HEADER_LEN ? walkTcpOptions(bytes, TCP_HEADER_LEN, headerLength, options) : 0;
}

/** A checked view of a TCP segment: every getter reads within bounds validated once. */
export class TcpPacket {
  /** The whole segment (header and data), as passed to `checked`. */
  readonly bytes: Uint8Array;
  /** The options in wire order, NOPs and EOL included (walked and validated by `checked`). */
  readonly options: readonly TcpOption[];
  /** Bytes after an EOL option up to the data offset (padding); 0 without an EOL. */
  readonly optionsPadding: number;
  private readonly view: DataView;

  private constructor(bytes: Uint8Array, view: DataView, options: readonly TcpOption[], optionsPadding: number) {
    this.bytes = bytes;
    this.view = view;
    this.options = options;
    this.optionsPadding = optionsPadding;
  }

  /**
   * Validates `bytes` as a TCP segment: 'truncated' below 20 bytes, 'data-offset-too-small'
   * for a data offset below 5, 'data-offset-past-end' when the header would run past the
   * buffer, and the option walk's 'option-length-invalid' or 'option-overrun' (the checks of
   * {@link tcpFault}). The checksum is not looked at here (it needs the addresses): see
   * `parseTcp` and `tcpChecksumValid`.
   */
  static checked(bytes: Uint8Array): ParseResult<TcpPacket> {
    const options: TcpOption[] = [];
    const padding = checkTcpHeader(bytes, options);
    if (typeof padding !== 'number') return fail(padding);
    return ok(new TcpPacket(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), options, padding));
  }

  /** Source port. */
  get srcPort(): number { return this.view.getUint16(0); }
  /** Destination port. */
  get dstPort(): number { return this.view.getUint16(2); }
  /** Sequence number. */
  get seqNumber(): number { return this.view.getUint32(4); }
  /** Acknowledgment number, raw: meaningful only with ACK, but kept as sent. */
  get ackNumber(): number { return this.view.getUint32(8); }
  /** Data offset in 32-bit words (5 to 15). */
  get dataOffset(): number { return this.bytes[12]! >>> 4; }
  /** Header length in bytes (data offset times 4). */
  get headerLength(): number { return (this.bytes[12]! >>> 4) * 4; }
  /**
   * The four reserved bits (0-15). RFC 9293 3.1: "must be zero in generated segments and must
   * be ignored in received segments"; we keep them for a faithful decode. Bit 0 is AE/NS.
   */
  get reserved(): number { return this.bytes[12]! & 0x0f; }
  /** The eight control bits as a bitfield of `TcpFlags`. */
  get flags(): number { return this.bytes[13]!; }
  /** FIN: no more data from sender. */
  get fin(): boolean { return (this.bytes[13]! & TcpFlags.FIN) !== 0; }
  /** SYN: synchronize sequence numbers. */
  get syn(): boolean { return (this.bytes[13]! & TcpFlags.SYN) !== 0; }
  /** RST: reset the connection. */
  get rst(): boolean { return (this.bytes[13]! & TcpFlags.RST) !== 0; }
  /** PSH: push function. */
  get psh(): boolean { return (this.bytes[13]! & TcpFlags.PSH) !== 0; }
  /** ACK: the acknowledgment field is significant. */
  get ack(): boolean { return (this.bytes[13]! & TcpFlags.ACK) !== 0; }
  /** URG: the urgent pointer field is significant. */
  get urg(): boolean { return (this.bytes[13]! & TcpFlags.URG) !== 0; }
  /** ECE: ECN-Echo (RFC 3168 6.1). */
  get ece(): boolean { return (this.bytes[13]! & TcpFlags.ECE) !== 0; }
  /** CWR: congestion window reduced (RFC 3168 6.1). */
  get cwr(): boolean { return (this.bytes[13]! & TcpFlags.CWR) !== 0; }
  /** Window, raw 16 bits: scaling (RFC 7323 2.3) is the stack's business. */
  get window(): number { return this.view.getUint16(14); }
  /** Checksum field as sent. */
  get checksum(): number { return this.view.getUint16(16); }
  /** Urgent pointer, raw (meaningful only with URG). */
  get urgentPointer(): number { return this.view.getUint16(18); }
  /** The option area, a view (zero copy). */
  get optionsBytes(): Uint8Array { return this.bytes.subarray(TCP_HEADER_LEN, this.headerLength); }
  /** The data after the header, a view (zero copy). */
  get payload(): Uint8Array { return this.bytes.subarray(this.headerLength); }
}

/**
 * A TCP segment as a plain record. The checksum and data offset are not in it: emit computes
 * them. The payload is a view into the parsed buffer.
 */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seqNumber: number;
  /** Raw acknowledgment number; segments without ACK usually carry 0. */
  ackNumber: number;
  /** Control bits, a bitfield of `TcpFlags`. */
  flags: number;
  /** The four reserved bits (0-15); bit 0 is AE/NS. RFC 9293 3.1: zero when generated. */
  reserved: number;
  /** Window, unscaled. */
  window: number;
  urgentPointer: number;
  /** Options in wire order; emit pads them with zeros (EOL) to a multiple of 4 bytes. */
  options: readonly TcpOption[];
  /**
   * Zero bytes written after the options before the rounding to 4 bytes: the bytes parse
   * found after an EOL, so that a header with more padding than alignment needs round-trips.
   * 0 for segments a stack builds.
   */
  optionsPadding: number;
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * A record with every field defaulted to zero or empty (no flags, a zero window, no options,
 * no data) but the ports; any field may be given.
 */
export function tcpRepr(fields: Pick<TcpRepr, 'srcPort' | 'dstPort'> & Partial<TcpRepr>): TcpRepr {
  return {
    srcPort: fields.srcPort,
    dstPort: fields.dstPort,
    seqNumber: fields.seqNumber ?? 0,
    ackNumber: fields.ackNumber ?? 0,
    flags: fields.flags ?? 0,
    reserved: fields.reserved ?? 0,
    window: fields.window ?? 0,
    urgentPointer: fields.urgentPointer ?? 0,
    options: fields.options ?? [],
    optionsPadding: fields.optionsPadding ?? 0,
    payload: fields.payload ?? EMPTY,
  };
}

/** Sequence space the segment occupies (RFC 9293 3.4 SEG.LEN): data plus one for SYN and one for FIN. */
export function tcpSegmentLength(repr: Pick<TcpRepr, 'flags' | 'payload'>): number {
  return repr.payload.length + (repr.flags & TcpFlags.SYN ? 1 : 0) + (repr.flags & TcpFlags.FIN ? 1 : 0);
}

/** True when the checksum of `bytes` (a whole TCP segment) verifies with the pseudo-header of `src` and `dst`. */
export function tcpChecksumValid(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array): boolean {
  // RFC 9293 3.1: the checksum covers the pseudo-header, the header and the data; a segment
  // that verifies sums, checksum field included, to all ones (a finished value of zero).
  return checksumFinish(pseudoHeaderSum(src, dst, IpProtocol.Tcp, bytes.length) + checksumAdd(0, bytes)) === 0;
}

/** Options of `parseTcp`. */
export interface TcpParseOptions {
  /** Verify the checksum (default true); off for a trusted virtual link or a capture with offloaded checksums. */
  verifyChecksum?: boolean;
}

/**
 * Parses a TCP segment (exactly the IP payload) from `src` to `dst` into a record. Reasons:
 * those of `TcpPacket.checked`, then 'bad-checksum' unless `verifyChecksum: false`. The
 * structure is checked first because it is cheaper than summing the segment. Never throws.
 */
export function parseTcp(bytes: Uint8Array, src: Uint8Array, dst: Uint8Array, options?: TcpParseOptions): ParseResult<TcpRepr> {
  // TcpPacket.checked's validation straight into the record: this runs for every segment a
  // host receives, and the view (with its DataView) would be thrown away at once.
  // The common header, 20 bytes and NOP, NOP, TSopt, skips the walk: its list is
  // `timestampsOptionList`'s, equal to what the walk would build.
  if (bytes.length >= TIMESTAMPS_HEADER_LEN && bytes[12]! >>> 4 === TIMESTAMPS_HEADER_LEN / 4 && isTimestampsOnlyLayout(bytes, TCP_HEADER_LEN)) {
    if (options?.verifyChecksum !== false && !tcpChecksumValid(bytes, src, dst)) return fail('bad-checksum');
    return ok(tcpReprOf(bytes, timestampsOptionList(readU32(bytes, 24), readU32(bytes, 28)), 0));
  }
  const list: TcpOption[] = [];
  const padding = checkTcpHeader(bytes, list);
  if (typeof padding !== 'number') return fail(padding);
  if (options?.verifyChecksum !== false && !tcpChecksumValid(bytes, src, dst)) return fail('bad-checksum');
  return ok(tcpReprOf(bytes, list, padding));
}

/** Reads a checked view into a record (no checksum check). */
export function tcpReprFromPacket(p: TcpPacket): TcpRepr {
  return tcpReprOf(p.bytes, p.options, p.optionsPadding);
}

/**
 * The record of a segment `checkTcpHeader` accepted, with the options and padding its walk
 * found: the field reads `parseTcp` and `tcpReprFromPacket` share.
 */
function tcpReprOf(b: Uint8Array, options: readonly TcpOption[], optionsPadding: number): TcpRepr {
  return {
    srcPort: readU16(b, 0),
    dstPort: readU16(b, 2),
    seqNumber: readU32(b, 4),
    ackNumber: readU32(b, 8),
    flags: b[13]!,
    reserved: b[12]! & 0x0f,
    window: readU16(b, 14),
    urgentPointer: readU16(b, 18),
    options,
    optionsPadding,
    payload: b.subarray((b[12]! >>> 4) * 4),
  };
}

/** Header length `emitTcp` writes for `repr`: options plus padding, rounded up to 4 bytes. */
export function tcpHeaderLen(repr: Pick<TcpRepr, 'options' | 'optionsPadding'>): number {
  const optionsLen = tcpOptionsLen(repr.options) + repr.optionsPadding;
  return TCP_HEADER_LEN + ((optionsLen + 3) & ~3);
}

/** Bytes `emitTcp` writes for `repr`: header (with options and padding) plus payload. */
export function tcpBufferLen(repr: TcpRepr): number {
  return tcpHeaderLen(repr) + repr.payload.length;
}

/** Options of `emitTcp`. */
export interface TcpEmitOptions {
  /** Compute the checksum (default true); off writes 0, for a trusted virtual link. */
  fillChecksum?: boolean;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`TCP ${name} ${value} is not an integer in [0, ${max}]`);
}

/**
 * Writes `repr` at `buf[offset]` as a segment from `src` to `dst` and returns the bytes
 * written (`tcpBufferLen(repr)`). The options are written as listed, then `optionsPadding`
 * zeros, then zeros (EOL, RFC 9293 3.1 "the padding is composed of zeros") up to a multiple
 * of 4; the data offset follows. Throws `RangeError` if a field is out of range, the options
 * exceed 40 bytes, or `buf` is too small.
 */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, offset: number, src: Uint8Array, dst: Uint8Array, options?: TcpEmitOptions): number {
  checkField('source port', repr.srcPort, 0xffff);
  checkField('destination port', repr.dstPort, 0xffff);
  checkField('sequence number', repr.seqNumber, 0xffffffff);
  checkField('acknowledgment number', repr.ackNumber, 0xffffffff);
  checkField('flags', repr.flags, 0xff);
  checkField('reserved bits', repr.reserved, 0x0f);
  checkField('window', repr.window, 0xffff);
  checkField('urgent pointer', repr.urgentPointer, 0xffff);
  checkField('options padding', repr.optionsPadding, TCP_MAX_OPTIONS_LEN);
  const headerLength = tcpHeaderLen(repr);
  if (headerLength > TCP_MAX_HEADER_LEN) {
    throw new RangeError(`TCP options take ${headerLength - TCP_HEADER_LEN} bytes, more than ${TCP_MAX_OPTIONS_LEN}`);
  }
  const total = headerLength + repr.payload.length;
  if (!Number.isInteger(offset) || offset < 0 || offset + total > buf.length) {
    throw new RangeError(`TCP segment of ${total} bytes does not fit at offset ${offset} of a ${buf.length}-byte buffer`);
  }
  const o = offset;
  const { srcPort, dstPort, seqNumber, ackNumber, window, urgentPointer } = repr;
  buf[o] = srcPort >>> 8;
  buf[o + 1] = srcPort & 0xff;
  buf[o + 2] = dstPort >>> 8;
  buf[o + 3] = dstPort & 0xff;
  buf[o + 4] = seqNumber >>> 24;
  buf[o + 5] = (seqNumber >>> 16) & 0xff;
  buf[o + 6] = (seqNumber >>> 8) & 0xff;
  buf[o + 7] = seqNumber & 0xff;
  buf[o + 8] = ackNumber >>> 24;
  buf[o + 9] = (ackNumber >>> 16) & 0xff;
  buf[o + 10] = (ackNumber >>> 8) & 0xff;
  buf[o + 11] = ackNumber & 0xff;
  buf[o + 12] = ((headerLength / 4) << 4) | repr.reserved;
  buf[o + 13] = repr.flags;
  buf[o + 14] = window >>> 8;
  buf[o + 15] = window & 0xff;
  buf[o + 16] = 0;
  buf[o + 17] = 0;
  buf[o + 18] = urgentPointer >>> 8;
  buf[o + 19] = urgentPointer & 0xff;
  const written = writeTcpOptions(repr.options, buf, offset + TCP_HEADER_LEN);
  buf.fill(0, offset + TCP_HEADER_LEN + written, offset + headerLength);
  buf.set(repr.payload, offset + headerLength);
  if (options?.fillChecksum !== false) {
    // The header (a multiple of 4 bytes) and the payload summed apart (RFC 1071 2(B)): the
    // payload is summed as the view it came in, with no view of `buf` made for it.
    const sum = pseudoHeaderSum(src, dst, IpProtocol.Tcp, total) + checksumAdd(0, buf, offset, offset + headerLength) + checksumAdd(0, repr.payload);
    const checksum = checksumFinish(sum);
    buf[o + 16] = checksum >>> 8;
    buf[o + 17] = checksum & 0xff;
  }
  return total;
}

/** tcpdump's letters for a flag bitfield, in its order (F S R P . U E W), or 'none' (print-tcp.c). */
export function formatTcpFlags(flags: number): string {
  if ((flags & 0xff) === 0) return 'none';
  let s = '';
  if (flags & TcpFlags.FIN) s += 'F';
  if (flags & TcpFlags.SYN) s += 'S';
  if (flags & TcpFlags.RST) s += 'R';
  if (flags & TcpFlags.PSH) s += 'P';
  if (flags & TcpFlags.ACK) s += '.';
  if (flags & TcpFlags.URG) s += 'U';
  if (flags & TcpFlags.ECE) s += 'E';
  if (flags & TcpFlags.CWR) s += 'W';
  return s;
}
