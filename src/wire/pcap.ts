/**
 * Classic libpcap capture files (draft-ietf-opsawg-pcap; the format tcpdump writes): a
 * 24-byte global header, then records of a 16-byte header and the captured bytes.
 *
 * Contract: `readPcap` takes the whole file as one `Uint8Array` and never throws. A file
 * that is not a pcap at all (empty, unknown magic, global header cut short, unsupported
 * version) is a failed parse. A file that goes bad part way (a record header or body past
 * the end of the file, an absurd captured length) still returns every record before the
 * damage, plus an `error` saying which record failed and at which byte offset: a capture
 * cut short by a killed tcpdump is still worth reading. Record data are `subarray` views of
 * the input (zero copy); timestamps are normalised to integer nanoseconds since the Unix
 * epoch as a `bigint`, so microsecond, nanosecond and pcapng files compare directly.
 *
 * The writer (`pcapHeader`, `pcapRecord`, `pcapRecordHeader`) emits little-endian files,
 * byte for byte what tcpdump writes on x86; l4 itself writes LINKTYPE_RAW (101).
 *
 * The types shared with pcapng (`CaptureRecord`, `CaptureError`, `CaptureResult`) live
 * here, the first of the two formats; `capture.ts` re-exports them as the one entry point.
 */
import type { WireReason } from './result.js';

/** Magic of a microsecond pcap, as read in the file's own byte order. */
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
/** Magic of a nanosecond pcap (libpcap 1.5+, `tcpdump --time-stamp-precision=nano`). */
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
/** Bytes in the global (file) header. */
export const PCAP_HEADER_LENGTH = 24;
/** Bytes in each record header: seconds, fraction, captured length, original length. */
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** The snapshot length tcpdump uses by default, and the writer's default. */
export const DEFAULT_SNAPLEN = 262_144;
/**
 * Largest captured length we accept in a record (256 KiB, libpcap's MAXIMUM_SNAPLEN and
 * Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD). Anything larger is a corrupt length field,
 * and refusing it keeps a flipped bit from being read as "the rest of the file is one packet".
 */
export const MAX_CAPTURED_LENGTH = 262_144;

const NANOS_PER_SECOND = 1_000_000_000n;

/** One captured packet, from either file format. */
export interface CaptureRecord {
  /** Frame number, 1-based, counted as tshark counts (`frame.number`). */
  readonly index: number;
  /** Capture time in nanoseconds since the Unix epoch (0n when the format has none, e.g. a pcapng Simple Packet Block). */
  readonly timestamp: bigint;
  /** Bytes present in `data` (`frame.cap_len`). */
  readonly capturedLength: number;
  /** Length of the packet on the wire (`frame.len`); larger than `capturedLength` when the capture was snapped. */
  readonly originalLength: number;
  /** LINKTYPE_* of the frame (see `link.ts`); per interface in pcapng, per file in pcap. */
  readonly linkType: number;
  /** The captured bytes, a view into the file (not a copy). */
  readonly data: Uint8Array;
  /** Byte offset in the file of the record header (pcap) or block (pcapng). */
  readonly offset: number;
  /** pcapng only: the interface the packet was captured on, within its section. */
  readonly interfaceId?: number;
  /** pcapng only: the first `opt_comment` of the packet, if any. */
  readonly comment?: string;
}

/** Why reading stopped part way through a file. */
export interface CaptureError {
  /** Always a capture-file reason today ('bad-capture-file'); typed as any wire reason for callers that count drops. */
  readonly reason: WireReason;
  /** One line for humans, naming the record and the byte offset. */
  readonly message: string;
  /** Byte offset in the file where the damage starts. */
  readonly offset: number;
  /** 1-based frame number of the record that could not be read, when it is a record. */
  readonly record?: number;
}

/**
 * A `ParseResult` whose failure also carries a message and the byte offset, so that a CLI
 * can print one useful line. Assignable to `ParseResult<T>`.
 */
export type CaptureResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: WireReason; readonly message: string; readonly offset: number };

/** A failed `CaptureResult`. */
export function captureFail<T = never>(reason: WireReason, message: string, offset: number): CaptureResult<T> {
  return { ok: false, reason, message, offset };
}

/** A classic pcap file, read. */
export interface PcapCapture {
  readonly format: 'pcap';
  /** True when the file was written little-endian (magic d4 c3 b2 a1 or 4d 3c b2 a1 on disk). */
  readonly littleEndian: boolean;
  /** True for the nanosecond variant (magic 0xa1b23c4d). */
  readonly nanosecond: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Snapshot length from the global header. Informational: records are bounded by MAX_CAPTURED_LENGTH. */
  readonly snapLen: number;
  /**
   * LINKTYPE_* of every record: the low 16 bits of the header's network field. The bits
   * above carry the FCS length (bits 28-31, draft-ietf-opsawg-pcap 4) and are ignored, as
   * libpcap's LT_LINKTYPE() does.
   */
  readonly linkType: number;
  /** Records read, in file order. */
  readonly records: CaptureRecord[];
  /** Set when reading stopped before the end of the file; `records` holds what came before. */
  readonly error?: CaptureError;
}

/** The byte order and precision a 4-byte magic announces, or undefined if it is not a pcap magic. */
function pcapMagic(bytes: Uint8Array): { littleEndian: boolean; nanosecond: boolean } | undefined {
  const be = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const le = ((bytes[3]! << 24) | (bytes[2]! << 16) | (bytes[1]! << 8) | bytes[0]!) >>> 0;
  if (be === PCAP_MAGIC_MICROS) return { littleEndian: false, nanosecond: false };
  if (be === PCAP_MAGIC_NANOS) return { littleEndian: false, nanosecond: true };
  if (le === PCAP_MAGIC_MICROS) return { littleEndian: true, nanosecond: false };
  if (le === PCAP_MAGIC_NANOS) return { littleEndian: true, nanosecond: true };
  return undefined;
}

/** True when the first four bytes are one of the four pcap magics. */
export function isPcapMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && pcapMagic(bytes) !== undefined;
}

function hex32(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = at; i < at + 4 && i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

/**
 * Reads a classic pcap file. Never throws. See the module comment for what fails the whole
 * parse and what stops part way with `error`.
 */
export function readPcap(bytes: Uint8Array): CaptureResult<PcapCapture> {
  if (bytes.length === 0) return captureFail('truncated', 'empty file (0 bytes)', 0);
  if (bytes.length < 4) return captureFail('truncated', `file too short for a pcap header (${bytes.length} bytes, 24 needed)`, 0);
  const magic = pcapMagic(bytes);
  if (magic === undefined) return captureFail('bad-capture-file', `not a pcap file (magic ${hex32(bytes, 0)})`, 0);
  if (bytes.length < PCAP_HEADER_LENGTH) {
    return captureFail('truncated', `pcap global header cut short (${bytes.length} bytes, 24 needed)`, 0);
  }
  const { littleEndian, nanosecond } = magic;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const versionMajor = view.getUint16(4, littleEndian);
  const versionMinor = view.getUint16(6, littleEndian);
  // draft-ietf-opsawg-pcap 4: "the current version is 2.4"; libpcap also reads 2.x with
  // other minors. Major 1 predates 1990s libpcap and is not something we can trust.
  if (versionMajor !== 2) {
    return captureFail('bad-capture-file', `unsupported pcap version ${versionMajor}.${versionMinor}`, 4);
  }
  const snapLen = view.getUint32(16, littleEndian);
  const linkType = view.getUint32(20, littleEndian) & 0xffff;
  const fractionToNanos = nanosecond ? 1 : 1000;

  const records: CaptureRecord[] = [];
  let error: CaptureError | undefined;
  let offset = PCAP_HEADER_LENGTH;
  let index = 1;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < PCAP_RECORD_HEADER_LENGTH) {
      error = {
        reason: 'bad-capture-file', offset, record: index,
        message: `record ${index} at byte ${offset}: header cut short (${left} of 16 bytes)`,
      };
      break;
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    if (capturedLength > MAX_CAPTURED_LENGTH) {
      error = {
        reason: 'bad-capture-file', offset, record: index,
        message: `record ${index} at byte ${offset}: captured length ${capturedLength} exceeds ${MAX_CAPTURED_LENGTH} (corrupt file)`,
      };
      break;
    }
    const start = offset + PCAP_RECORD_HEADER_LENGTH;
    if (capturedLength > bytes.length - start) {
      error = {
        reason: 'bad-capture-file', offset, record: index,
        message: `record ${index} at byte ${offset}: data cut short (${bytes.length - start} of ${capturedLength} bytes)`,
      };
      break;
    }
    // A fraction >= 1 s is out of spec but libpcap and Wireshark carry it over; so do we.
    const timestamp = BigInt(seconds) * NANOS_PER_SECOND + BigInt(fraction * fractionToNanos);
    records.push({
      index, timestamp, capturedLength, originalLength, linkType,
      data: bytes.subarray(start, start + capturedLength), offset,
    });
    offset = start + capturedLength;
    index++;
  }
  const capture: PcapCapture = error === undefined
    ? { format: 'pcap', littleEndian, nanosecond, versionMajor, versionMinor, snapLen, linkType, records }
    : { format: 'pcap', littleEndian, nanosecond, versionMajor, versionMinor, snapLen, linkType, records, error };
  return { ok: true, value: capture };
}

/** Options of a pcap file to write. */
export interface PcapHeaderOptions {
  /** LINKTYPE_* of every record (l4 writes LINKTYPE_RAW, 101). */
  readonly linkType: number;
  /** Snapshot length announced in the header; 262144 (tcpdump's default) unless given. */
  readonly snapLen?: number;
  /** Write nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  readonly nanosecond?: boolean;
}

/**
 * The 24-byte global header of a little-endian pcap, version 2.4, thiszone 0, sigfigs 0,
 * as tcpdump writes it. Throws RangeError for a link type or snaplen that does not fit.
 */
export function pcapHeader(options: PcapHeaderOptions): Uint8Array {
  const { linkType, snapLen = DEFAULT_SNAPLEN, nanosecond = false } = options;
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) throw new RangeError(`link type ${linkType} not in 0..65535`);
  if (!Number.isInteger(snapLen) || snapLen < 0 || snapLen > 0xffffffff) throw new RangeError(`snaplen ${snapLen} not a 32-bit unsigned integer`);
  const out = new Uint8Array(PCAP_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint32(0, nanosecond ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  // thiszone and sigfigs stay 0: draft-ietf-opsawg-pcap 4 says both SHOULD be zero.
  view.setUint32(16, snapLen, true);
  view.setUint32(20, linkType, true);
  return out;
}

/** A timestamp to write: nanoseconds since the epoch, or seconds and nanoseconds. */
export type PcapTimestamp = bigint | { readonly seconds: number; readonly nanos: number };

/** Splits a timestamp into whole seconds and the fraction in nanoseconds; RangeError when it cannot be written. */
function splitTimestamp(ts: PcapTimestamp): { seconds: number; nanos: number } {
  let seconds: number;
  let nanos: number;
  if (typeof ts === 'bigint') {
    if (ts < 0n) throw new RangeError(`timestamp ${ts} ns is before the epoch`);
    seconds = Number(ts / NANOS_PER_SECOND);
    nanos = Number(ts % NANOS_PER_SECOND);
  } else {
    ({ seconds, nanos } = ts);
    if (!Number.isInteger(nanos) || nanos < 0 || nanos >= 1e9) throw new RangeError(`nanos ${nanos} not in 0..999999999`);
  }
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 0xffffffff) {
    throw new RangeError(`timestamp seconds ${seconds} do not fit the 32-bit pcap field`);
  }
  return { seconds, nanos };
}

/**
 * The 16-byte header of one record, little-endian. `nanosecond` must match the file header:
 * with microseconds the fraction is truncated to whole microseconds. Lets a file writer put
 * the header and the packet on disk without copying the packet.
 */
export function pcapRecordHeader(ts: PcapTimestamp, capturedLength: number, originalLength: number, nanosecond = false): Uint8Array {
  const { seconds, nanos } = splitTimestamp(ts);
  if (!Number.isInteger(capturedLength) || capturedLength < 0 || capturedLength > MAX_CAPTURED_LENGTH) {
    throw new RangeError(`captured length ${capturedLength} not in 0..${MAX_CAPTURED_LENGTH}`);
  }
  if (!Number.isInteger(originalLength) || originalLength < capturedLength || originalLength > 0xffffffff) {
    throw new RangeError(`original length ${originalLength} smaller than captured length ${capturedLength} or not 32-bit`);
  }
  const out = new Uint8Array(PCAP_RECORD_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint32(0, seconds, true);
  view.setUint32(4, nanosecond ? nanos : Math.floor(nanos / 1000), true);
  view.setUint32(8, capturedLength, true);
  view.setUint32(12, originalLength, true);
  return out;
}

/**
 * One record (header and data) as a new array. `originalLength` defaults to `data.length`;
 * `nanosecond` must match the file header. The data are written whole: snap them before if
 * the file's snaplen is smaller.
 */
export function pcapRecord(ts: PcapTimestamp, data: Uint8Array, originalLength = data.length, nanosecond = false): Uint8Array {
  const header = pcapRecordHeader(ts, data.length, originalLength, nanosecond);
  const out = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + data.length);
  out.set(header, 0);
  out.set(data, PCAP_RECORD_HEADER_LENGTH);
  return out;
}

/**
 * A timestamp as tshark prints `frame.time_epoch`: seconds, a dot and nine digits
 * ("1795297433.801179000"). Negative values (a pcapng if_tsoffset before 1970) get a sign.
 */
export function formatTimestamp(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / NANOS_PER_SECOND}.${(abs % NANOS_PER_SECOND).toString().padStart(9, '0')}`;
}
