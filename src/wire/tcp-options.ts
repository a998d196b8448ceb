/**
 * TCP options (RFC 9293 3.1, RFC 7323, RFC 2018): the walk over the option area of a TCP
 * header, its inverse, and tcpdump's text for it.
 *
 * Contract: `walkTcpOptions` reads untrusted bytes and never throws; it returns the options
 * as an ordered list exactly as they appear on the wire (NOPs and the EOL included) plus
 * the number of bytes after an EOL, so that `emitTcpOptions` reproduces the real bytes
 * byte for byte. Known kinds (EOL, NOP, MSS, window scale, SACK-permitted, SACK,
 * timestamps) are decoded; any other kind is kept as `unknown` with a copy of its data
 * (TCP Fast Open 34, MD5 19, MPTCP 30 appear in real traffic). Values are kept raw: a
 * window-scale shift above 14 is reported as sent, because clamping it is the stack's
 * decision (RFC 7323 2.3), not the parser's. Emitting an impossible option (a value out of
 * range, an EOL that is not last) is a programmer error and throws `RangeError`.
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { fail, ok } from './result.js';
import type { ParseResult, WireReason } from './result.js';

/** Option kind numbers (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  /** End of option list (RFC 9293 3.1). */
  Eol: 0,
  /** No-operation, used to align later options (RFC 9293 3.1). */
  Nop: 1,
  /** Maximum segment size (RFC 9293 3.7.1). */
  Mss: 2,
  /** Window scale (RFC 7323 2). */
  WindowScale: 3,
  /** SACK permitted (RFC 2018 2). */
  SackPermitted: 4,
  /** SACK blocks (RFC 2018 3). */
  Sack: 5,
  /** Timestamps (RFC 7323 3). */
  Timestamps: 8,
  /** MD5 signature (RFC 2385). */
  Md5: 19,
  /** User timeout (RFC 5482). */
  UserTimeout: 28,
  /** TCP authentication option (RFC 5925). */
  TcpAo: 29,
  /** Multipath TCP (RFC 8684). */
  Mptcp: 30,
  /** TCP Fast Open cookie (RFC 7413). */
  FastOpen: 34,
  /** Experimental, with a 16-bit magic number (RFC 6994). */
  Experimental2: 254,
} as const;

/** One SACK block (RFC 2018 3): the sequence numbers of its first byte and of the byte after its last. */
export interface SackBlock {
  readonly left: number;
  readonly right: number;
}

/**
 * One TCP option as it appears on the wire. `unknown` carries every kind this module does
 * not decode (its data is a copy, not a view into the packet).
 */
export type TcpOption =
  | { readonly kind: 'eol' }
  | { readonly kind: 'nop' }
  | { readonly kind: 'mss'; readonly value: number }
  | { readonly kind: 'window-scale'; readonly shift: number }
  | { readonly kind: 'sack-permitted' }
  | { readonly kind: 'sack'; readonly blocks: readonly SackBlock[] }
  | { readonly kind: 'timestamps'; readonly tsVal: number; readonly tsEcr: number }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/** The largest option area: a data offset of 15 words minus the 20-byte fixed header. */
export const TCP_MAX_OPTIONS_LEN = 40;

// The option kinds without data are shared, frozen objects: the walk allocates nothing for
// the NOPs that fill nearly every segment.
const EOL: TcpOption = Object.freeze({ kind: 'eol' });
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
const SACK_PERMITTED: TcpOption = Object.freeze({ kind: 'sack-permitted' });

/**
 * NOP, NOP, TSopt (RFC 7323 Appendix A): the option list nearly every segment carries once
 * timestamps are on, made at its exact size (a list grown by a walk is several times larger).
 */
export function timestampsOptionList(tsVal: number, tsEcr: number): TcpOption[] {
  return [NOP, NOP, { kind: 'timestamps', tsVal: tsVal >>> 0, tsEcr: tsEcr >>> 0 }];
}

/**
 * True when `bytes[start, start + 12)` is exactly NOP, NOP, TSopt (kind 8, length 10): the
 * option area of nearly every segment once timestamps are on, which a parser may then read
 * with {@link timestampsOptionList} instead of walking it (the walk would give the same list).
 */
export function isTimestampsOnlyLayout(bytes: Uint8Array, start: number): boolean {
  return bytes[start] === 1 && bytes[start + 1] === 1 && bytes[start + 2] === 8 && bytes[start + 3] === 10;
}

/**
 * Walks the option area `bytes[start, end)` and appends each option to `out`. Returns the
 * number of bytes after an EOL (0 without one), or the reason the area is malformed; on
 * failure `out` holds the options read so far. With `out` null the area is only checked,
 * by the same rules, and nothing is allocated. Fields are read byte by byte (no `DataView`
 * is made per segment).
 */
export function walkTcpOptions(bytes: Uint8Array, start: number, end: number, out: TcpOption[] | null): number | WireReason {
  let i = start;
  while (i < end) {
    const kind = bytes[i]!;
    // RFC 9293 3.1: "End of Option List ... used at the end of all options, not the end of
    // each option". What follows is padding; we count it so that emit can reproduce it.
    if (kind === 0) {
      out?.push(EOL);
      return end - i - 1;
    }
    if (kind === 1) {
      out?.push(NOP);
      i++;
      continue;
    }
    // Every other kind is kind, length, data (RFC 9293 3.1 "Case 2").
    if (i + 1 >= end) return 'option-overrun';
    const len = bytes[i + 1]!;
    // RFC 9293 3.1: the length counts the kind and length octets, so it is at least 2; "a
    // TCP implementation MUST be prepared to handle an illegal option length (e.g., zero)".
    if (len < 2) return 'option-length-invalid';
    if (i + len > end) return 'option-overrun';
    switch (kind) {
      case 2: // MSS: kind 2, length 4 (RFC 9293 3.2)
        if (len !== 4) return 'option-length-invalid';
        out?.push({ kind: 'mss', value: readU16(bytes, i + 2) });
        break;
      case 3: // Window scale: kind 3, length 3 (RFC 7323 2.2)
        if (len !== 3) return 'option-length-invalid';
        out?.push({ kind: 'window-scale', shift: bytes[i + 2]! });
        break;
      case 4: // SACK-permitted: kind 4, length 2 (RFC 2018 2)
        if (len !== 2) return 'option-length-invalid';
        out?.push(SACK_PERMITTED);
        break;
      case 5: { // SACK: kind 5, length 2 + 8n (RFC 2018 3); the 40-byte area bounds n at 4
        if (len < 10 || (len - 2) % 8 !== 0) return 'option-length-invalid';
        if (out === null) break;
        const blocks: SackBlock[] = [];
        for (let p = i + 2; p < i + len; p += 8) blocks.push({ left: readU32(bytes, p), right: readU32(bytes, p + 4) });
        out.push({ kind: 'sack', blocks });
        break;
      }
      case 8: // Timestamps: kind 8, length 10 (RFC 7323 3.2)
        if (len !== 10) return 'option-length-invalid';
        out?.push({ kind: 'timestamps', tsVal: readU32(bytes, i + 2), tsEcr: readU32(bytes, i + 6) });
        break;
      default:
        // RFC 9293 3.1: a TCP implementation MUST ignore options it does not implement,
        // skipping them by their length. We keep them for faithful decoding and re-emission.
        out?.push({ kind: 'unknown', type: kind, data: bytes.slice(i + 2, i + len) });
    }
    i += len;
  }
  return 0;
}

/** The options of a standalone option area and the bytes after its EOL. */
export interface TcpOptionList {
  readonly options: TcpOption[];
  /** Bytes after an EOL option (padding), 0 without an EOL. */
  readonly padding: number;
}

/** Parses a standalone option area (the bytes between the fixed header and the data). Never throws. */
export function parseTcpOptions(bytes: Uint8Array): ParseResult<TcpOptionList> {
  const options: TcpOption[] = [];
  const r = walkTcpOptions(bytes, 0, bytes.length, options);
  return typeof r === 'number' ? ok({ options, padding: r }) : fail(r);
}

/** The number of bytes one option takes on the wire. */
export function tcpOptionLen(option: TcpOption): number {
  switch (option.kind) {
    case 'eol':
    case 'nop': return 1;
    case 'mss': return 4;
    case 'window-scale': return 3;
    case 'sack-permitted': return 2;
    case 'sack': return 2 + 8 * option.blocks.length;
    case 'timestamps': return 10;
    case 'unknown': return 2 + option.data.length;
  }
}

/** The number of bytes a list of options takes on the wire, before any padding. */
export function tcpOptionsLen(options: readonly TcpOption[]): number {
  let n = 0;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    n += tcpOptionLen(o);
  }
  return n;
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`TCP option ${what} ${value} is not an integer in [0, ${max}]`);
}

/**
 * Writes `options` in order at `buf[offset]` (no padding) and returns the bytes written.
 * Throws `RangeError` on a value out of range, a SACK option without 1 to 4 blocks, an
 * `unknown` option of kind 0 or 1 (which have no length octet), or an EOL that is not the
 * last option (RFC 9293 3.1: it ends the list). An `unknown` option may carry a known kind
 * number: that is how a test crafts, say, an MSS option of the wrong length. Also throws when
 * the options do not fit in `buf` at `offset`.
 */
export function emitTcpOptions(options: readonly TcpOption[], buf: Uint8Array, offset: number): number {
  const length = tcpOptionsLen(options);
  if (!(offset >= 0 && offset + length <= buf.length)) throw new RangeError(`TCP options of ${length} bytes do not fit at offset ${offset} of a ${buf.length}-byte buffer`);
  return writeTcpOptions(options, buf, offset);
}

/**
 * {@link emitTcpOptions} for a caller that has already made sure the options fit (`emitTcp`,
 * which sized the whole header): the same checks of the values, not of the buffer.
 */
export function writeTcpOptions(options: readonly TcpOption[], buf: Uint8Array, offset: number): number {
  let p = offset;
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'eol':
        if (k !== options.length - 1) throw new RangeError('TCP option EOL must be the last option (RFC 9293 3.1)');
        buf[p++] = 0;
        break;
      case 'nop':
        buf[p++] = 1;
        break;
      case 'mss':
        checkRange('MSS', o.value, 0xffff);
        buf[p] = 2; buf[p + 1] = 4; writeU16(buf, p + 2, o.value);
        p += 4;
        break;
      case 'window-scale':
        checkRange('window-scale shift', o.shift, 0xff);
        buf[p] = 3; buf[p + 1] = 3; buf[p + 2] = o.shift;
        p += 3;
        break;
      case 'sack-permitted':
        buf[p] = 4; buf[p + 1] = 2;
        p += 2;
        break;
      case 'sack': {
        const n = o.blocks.length;
        if (n < 1 || n > 4) throw new RangeError(`TCP SACK option with ${n} blocks (RFC 2018 3: 1 to 4)`);
        buf[p] = 5; buf[p + 1] = 2 + 8 * n;
        p += 2;
        for (const b of o.blocks) {
          checkRange('SACK edge', b.left, 0xffffffff);
          checkRange('SACK edge', b.right, 0xffffffff);
          writeU32(buf, p, b.left); writeU32(buf, p + 4, b.right);
          p += 8;
        }
        break;
      }
      case 'timestamps':
        checkRange('TSval', o.tsVal, 0xffffffff);
        checkRange('TSecr', o.tsEcr, 0xffffffff);
        buf[p] = 8; buf[p + 1] = 10; writeU32(buf, p + 2, o.tsVal); writeU32(buf, p + 6, o.tsEcr);
        p += 10;
        break;
      case 'unknown':
        if (!Number.isInteger(o.type) || o.type < 2 || o.type > 0xff) throw new RangeError(`TCP option kind ${o.type} cannot be emitted with a length octet`);
        if (o.data.length > 0xff - 2) throw new RangeError(`TCP option data of ${o.data.length} bytes exceeds the length octet`);
        buf[p] = o.type; buf[p + 1] = 2 + o.data.length;
        buf.set(o.data, p + 2);
        p += 2 + o.data.length;
        break;
    }
  }
  return p - offset;
}

/** The options a TCP stack acts on, gathered from a segment's option list. */
export interface TcpOptionsSummary {
  /** Maximum segment size (RFC 9293 3.7.1). */
  mss?: number;
  /** Raw window-scale shift as sent; the stack clamps values above 14 (RFC 7323 2.3). */
  windowScale?: number;
  /** The SACK-permitted option was present (RFC 2018 2). */
  sackPermitted: boolean;
  /** Timestamps option values (RFC 7323 3). */
  timestamps?: { tsVal: number; tsEcr: number };
  /** The blocks of a SACK option (RFC 2018 3). */
  sackBlocks?: readonly SackBlock[];
}

/**
 * Gathers the options a stack acts on. Should an option appear twice, the later one wins,
 * as in Linux's `tcp_parse_options` (the RFCs do not say).
 */
export function tcpOptionsSummary(options: readonly TcpOption[]): TcpOptionsSummary {
  const s: TcpOptionsSummary = { sackPermitted: false };
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    switch (o.kind) {
      case 'mss': s.mss = o.value; break;
      case 'window-scale': s.windowScale = o.shift; break;
      case 'sack-permitted': s.sackPermitted = true; break;
      case 'timestamps': s.timestamps = { tsVal: o.tsVal, tsEcr: o.tsEcr }; break;
      case 'sack': s.sackBlocks = o.blocks; break;
      default: break;
    }
  }
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(data: Uint8Array, start = 0): string {
  let s = '';
  for (let i = start; i < data.length; i++) s += HEX[data[i]!];
  return s;
}

/** tcpdump's `print_tcp_fastopen_option`: a cookie request, a cookie of 4 to 16 even bytes, or invalid. */
function fastOpenText(data: Uint8Array, start: number): string {
  const n = data.length - start;
  if (n === 0) return ' cookiereq';
  if (n % 2 !== 0 || n < 4 || n > 16) return ' (invalid)';
  return ` cookie ${hex(data, start)}`;
}

/**
 * tcpdump's text for an option it decodes beyond its raw bytes, for the kinds and lengths
 * whose rendering is verified here; `null` for the generic form. Formats are those of
 * tcpdump 4.99's print-tcp.c.
 */
function namedUnknownText(type: number, d: Uint8Array): string | null {
  switch (type) {
    case 34: // TFO, RFC 7413: tcpdump prints " " and then " cookie…", hence the two spaces.
      return `tfo ${fastOpenText(d, 0)}`;
    case 254: // RFC 6994 experimental option: a 16-bit magic, 0xf989 being TFO's.
      if (d.length < 2) return null;
      if (d[0] === 0xf9 && d[1] === 0x89) return `exp-tfo${fastOpenText(d, 2)}`;
      return `exp-${hex(d.subarray(0, 2))}`;
    case 19: // MD5 signature, RFC 2385: 16 bytes of digest.
      // tcpdump built with libcrypto prefixes the digest with "shared secret not supplied
      // with -M, can't check - "; we print the digest alone, as tcpdump without libcrypto does.
      return d.length === 16 ? `md5 ${hex(d)}` : null;
    case 28: { // User timeout, RFC 5482: granularity bit (minutes) and 15-bit value.
      if (d.length !== 2) return null;
      const raw = readU16(d, 0);
      const seconds = raw & 1 ? (raw >>> 1) * 60 : raw >>> 1;
      return `uto 0x${raw.toString(16)} ${seconds}`;
    }
    case 29: // TCP-AO, RFC 5925 2.2: key id, rnext key id, MAC.
      if (d.length < 2) return 'tcp-ao (invalid)';
      return `tcp-ao keyid ${d[0]} rnextkeyid ${d[1]}${d.length > 2 ? ` mac 0x${hex(d, 2)}` : ''}`;
    default:
      return null;
  }
}

/** tcpdump's text for one option (absolute SACK edges, as with `tcpdump -S`). */
export function formatTcpOption(o: TcpOption): string {
  switch (o.kind) {
    case 'eol': return 'eol';
    case 'nop': return 'nop';
    case 'mss': return `mss ${o.value}`;
    case 'window-scale': return `wscale ${o.shift}`;
    case 'sack-permitted': return 'sackOK';
    case 'sack': {
      let s = `sack ${o.blocks.length} `;
      for (const b of o.blocks) s += `{${b.left}:${b.right}}`;
      return s;
    }
    case 'timestamps': return `TS val ${o.tsVal} ecr ${o.tsEcr}`;
    case 'unknown': {
      const named = namedUnknownText(o.type, o.data);
      if (named !== null) return named;
      return o.data.length > 0 ? `unknown-${o.type} 0x${hex(o.data)}` : `unknown-${o.type}`;
    }
  }
}

/**
 * The option list as tcpdump prints it between `options [` and `]`, e.g.
 * `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`. SACK edges are absolute, as with
 * `tcpdump -S` (tcpdump otherwise prints them relative to the initial sequence numbers,
 * which needs connection state). Kinds tcpdump decodes further than its bytes are rendered
 * as it does for TFO (34 and the 254 experimental form), MD5 (19, without the libcrypto
 * remark), user timeout (28) and TCP-AO (29); every other unknown kind, MPTCP included,
 * and those kinds at lengths tcpdump flags as bad, as `unknown-<kind> 0x<hex>`. Like
 * tcpdump, nothing after an EOL is printed.
 */
export function formatTcpOptions(options: readonly TcpOption[]): string {
  let s = '';
  for (let k = 0; k < options.length; k++) {
    const o = options[k]!;
    s += (k > 0 ? ',' : '') + formatTcpOption(o);
    if (o.kind === 'eol') break;
  }
  return s;
}
