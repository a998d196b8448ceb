/**
 * pcapng capture files (draft-ietf-opsawg-pcapng), the format dumpcap, tshark and
 * Wireshark write by default: a sequence of blocks `type, total length, body, total length`.
 *
 * Contract: `readPcapng` takes the whole file as one `Uint8Array` and never throws. It
 * understands the Section Header Block (either byte order; each new section resets the
 * interfaces, as section 4.1 requires), the Interface Description Block (link type,
 * snaplen, if_tsresol, if_tsoffset, name), and the three packet blocks: Enhanced (EPB),
 * Simple (SPB: interface 0, no timestamp) and the obsolete Packet Block (type 2). Every
 * other block (name resolution, statistics, decryption secrets, custom, ...) is skipped by
 * its length (Wireshark shows a systemd Journal Export Block, type 9, as a frame: in a file
 * holding some, our frame numbers run behind tshark's). A file whose first block is not a readable Section Header Block is a failed
 * parse; damage after that (a block length that is not a multiple of 4, below 12, past the
 * end of the file or not repeated at the end, a packet that overruns its block, a packet on
 * an undeclared interface) stops reading with `error`, keeping the records before it.
 * Options are read leniently: an option that overruns its block ends the options, not the
 * file, since the packet itself is intact.
 *
 * Timestamps become nanoseconds since the epoch (`bigint`), as in `pcap.ts`: raw units of
 * 10^-n or 2^-n seconds (if_tsresol, default 10^-6) scaled, plus if_tsoffset seconds.
 * Scaling a finer unit than nanoseconds truncates.
 */
import { readU32 } from './bytes.js';
import type { CaptureError, CaptureRecord, CaptureResult } from './pcap.js';
import { captureFail, MAX_CAPTURED_LENGTH } from './pcap.js';

/** Block types this reader names (draft-ietf-opsawg-pcapng 11.1). */
export const PcapngBlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 0x00000001,
  /** Obsolete Packet Block (appendix A). */
  Packet: 0x00000002,
  SimplePacket: 0x00000003,
  NameResolution: 0x00000004,
  InterfaceStatistics: 0x00000005,
  EnhancedPacket: 0x00000006,
  DecryptionSecrets: 0x0000000a,
  Custom: 0x00000bad,
  CustomNoCopy: 0x40000bad,
} as const;

/** The byte-order magic of a Section Header Block, read in the section's own order. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes used here (draft-ietf-opsawg-pcapng 3.5, 4.1, 4.2). */
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/** Smallest legal total length per block type: header, fixed fields, trailing length. */
const MIN_BLOCK = 12;
const MIN_SHB = 28;
const MIN_IDB = 20;
const MIN_EPB = 32;
const MIN_SPB = 16;
const MIN_PB = 32;

const NANOS_PER_SECOND = 1_000_000_000n;
const utf8 = new TextDecoder('utf-8');

/** One section of the file (each starts with a Section Header Block). */
export interface PcapngSection {
  /** Byte offset of the Section Header Block. */
  readonly offset: number;
  readonly littleEndian: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** shb_hardware, shb_os, shb_userappl and opt_comment when present. */
  readonly hardware?: string;
  readonly os?: string;
  readonly application?: string;
  readonly comment?: string;
}

/** An interface declared by an Interface Description Block. */
export interface PcapngInterface {
  /** Index of the section (0-based) that declared it. */
  readonly section: number;
  /** Interface ID within its section, as EPBs refer to it. */
  readonly id: number;
  /** LINKTYPE_* of its packets. */
  readonly linkType: number;
  /** Snapshot length; 0 means no limit. */
  readonly snapLen: number;
  /** The if_tsresol byte: 10^-n seconds, or 2^-(n & 0x7f) when the top bit is set. 6 when absent. */
  readonly tsResolution: number;
  /** if_tsoffset, seconds added to every timestamp. 0n when absent. */
  readonly tsOffset: bigint;
  readonly name?: string;
  readonly description?: string;
}

/** A pcapng file, read. */
export interface PcapngCapture {
  readonly format: 'pcapng';
  /** Byte order of the first section (later sections may differ). */
  readonly littleEndian: boolean;
  readonly sections: PcapngSection[];
  /** Every interface of every section, in file order. */
  readonly interfaces: PcapngInterface[];
  /** Packets in file order, numbered as tshark numbers frames. */
  readonly records: CaptureRecord[];
  /** Set when reading stopped before the end of the file; `records` holds what came before. */
  readonly error?: CaptureError;
}

/** How to turn an interface's raw timestamp units into nanoseconds, computed once per interface. */
interface Clock {
  readonly multiply: bigint;
  readonly divide: bigint;
  readonly offsetNanos: bigint;
}

/** An interface as the reader needs it while walking a section. */
interface LiveInterface {
  readonly info: PcapngInterface;
  readonly clock: Clock;
}

/** True when the file starts with the Section Header Block type (0a 0d 0d 0a). */
export function isPcapngMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && readU32(bytes, 0) === PcapngBlockType.SectionHeader;
}

/** Units per second of an if_tsresol byte (section 4.2): 10^n, or 2^n when the top bit is set. */
function unitsPerSecond(tsresol: number): bigint {
  return (tsresol & 0x80) !== 0 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
}

function makeClock(tsResolution: number, tsOffset: bigint): Clock {
  const units = unitsPerSecond(tsResolution);
  const offsetNanos = tsOffset * NANOS_PER_SECOND;
  // Exact multiplier when the unit divides a nanosecond-second (10^0..10^9, 2^0..2^9).
  if (NANOS_PER_SECOND % units === 0n) return { multiply: NANOS_PER_SECOND / units, divide: 1n, offsetNanos };
  return { multiply: NANOS_PER_SECOND, divide: units, offsetNanos };
}

const DEFAULT_CLOCK = makeClock(6, 0n);

function toNanos(clock: Clock, high: number, low: number): bigint {
  const raw = (BigInt(high) << 32n) | BigInt(low);
  const scaled = clock.divide === 1n ? raw * clock.multiply : (raw * clock.multiply) / clock.divide;
  return scaled + clock.offsetNanos;
}

/** Rounds a length up to the 32-bit boundary that pcapng pads every field to. */
function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** One option's position: value bytes are [start, start + length). */
interface OptionSpan {
  readonly code: number;
  readonly start: number;
  readonly length: number;
}

const NO_OPTIONS: readonly OptionSpan[] = [];

/**
 * The options in [start, end), up to opt_endofopt. Lenient: an option that overruns the
 * area ends the list (the block around it has already been length-checked).
 */
function readOptions(view: DataView, start: number, end: number, le: boolean): readonly OptionSpan[] {
  if (start + 4 > end) return NO_OPTIONS;
  const spans: OptionSpan[] = [];
  let p = start;
  while (p + 4 <= end) {
    const code = view.getUint16(p, le);
    const length = view.getUint16(p + 2, le);
    if (code === OPT_ENDOFOPT) break;
    if (length > end - p - 4) break;
    spans.push({ code, start: p + 4, length });
    p += 4 + pad4(length);
  }
  return spans;
}

function optionText(bytes: Uint8Array, span: OptionSpan): string {
  return utf8.decode(bytes.subarray(span.start, span.start + span.length));
}

/** The first opt_comment among the options in [start, end), if any. */
function commentIn(bytes: Uint8Array, view: DataView, start: number, end: number, le: boolean): string | undefined {
  if (start + 4 > end) return undefined;
  for (const span of readOptions(view, start, end, le)) {
    if (span.code === OPT_COMMENT) return optionText(bytes, span);
  }
  return undefined;
}

/** The damage that stops reading at byte `at`; `record` when it is a packet block. */
function damage(at: number, message: string, record?: number): CaptureError {
  return record === undefined
    ? { reason: 'bad-capture-file', offset: at, message }
    : { reason: 'bad-capture-file', offset: at, message, record };
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * Reads a pcapng file. Never throws. See the module comment for what fails the whole parse
 * and what stops part way with `error`.
 */
export function readPcapng(bytes: Uint8Array): CaptureResult<PcapngCapture> {
  if (bytes.length === 0) return captureFail('truncated', 'empty file (0 bytes)', 0);
  if (bytes.length < 4) return captureFail('truncated', `file too short for a pcapng block (${bytes.length} bytes)`, 0);
  if (!isPcapngMagic(bytes)) {
    return captureFail('bad-capture-file', `not a pcapng file (first block type ${hex32(readU32(bytes, 0))}, expected a Section Header Block)`, 0);
  }
  if (bytes.length < MIN_SHB) {
    return captureFail('truncated', `pcapng Section Header Block cut short (${bytes.length} bytes, at least ${MIN_SHB} needed)`, 0);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections: PcapngSection[] = [];
  const interfaces: PcapngInterface[] = [];
  const records: CaptureRecord[] = [];
  let live: LiveInterface[] = [];
  let le = true;
  let error: CaptureError | undefined;
  let offset = 0;
  let index = 1;

  // Set when the file ends inside a block; if that block is the first SHB, the parse fails as 'truncated'.
  let cutShort = false;

  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < MIN_BLOCK) {
      error = damage(offset, `block at byte ${offset}: header cut short (${left} of ${MIN_BLOCK} bytes)`);
      cutShort = true;
      break;
    }
    // The SHB type (0a 0d 0d 0a) reads the same in both byte orders: it is found before the
    // section says which order it uses.
    const type = readU32(bytes, offset) === PcapngBlockType.SectionHeader ? PcapngBlockType.SectionHeader : view.getUint32(offset, le);
    if (type === PcapngBlockType.SectionHeader) {
      // Section 4.1: the byte-order magic sets the order of everything in the section,
      // including this block's own total length, so read it first.
      const bom = readU32(bytes, offset + 8);
      if (bom === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else if (bom === 0x4d3c2b1a) le = true;
      else {
        error = damage(offset, `block at byte ${offset}: Section Header Block with bad byte-order magic ${hex32(bom)}`);
        break;
      }
    }
    const total = view.getUint32(offset + 4, le);
    if (total < MIN_BLOCK || total % 4 !== 0) {
      error = damage(offset, `block at byte ${offset}: total length ${total} is ${total < MIN_BLOCK ? 'below 12' : 'not a multiple of 4'}`);
      break;
    }
    if (total > left) {
      error = damage(offset, `block at byte ${offset}: total length ${total} runs past the end of the file (${left} bytes left)`);
      cutShort = true;
      break;
    }
    const trailing = view.getUint32(offset + total - 4, le);
    if (trailing !== total) {
      error = damage(offset, `block at byte ${offset}: trailing total length ${trailing} differs from leading ${total}`);
      break;
    }
    const body = offset + 8;
    const end = offset + total - 4;

    if (type === PcapngBlockType.SectionHeader) {
      if (total < MIN_SHB) {
        error = damage(offset, `block at byte ${offset}: Section Header Block of ${total} bytes (at least ${MIN_SHB})`);
        break;
      }
      const versionMajor = view.getUint16(body + 4, le);
      const versionMinor = view.getUint16(body + 6, le);
      // Section 4.1: a different major version means an incompatible format.
      if (versionMajor !== 1) {
        error = damage(offset, `block at byte ${offset}: unsupported pcapng version ${versionMajor}.${versionMinor}`);
        break;
      }
      let section: PcapngSection = { offset, littleEndian: le, versionMajor, versionMinor };
      for (const span of readOptions(view, body + 16, end, le)) {
        if (span.code === SHB_HARDWARE && section.hardware === undefined) section = { ...section, hardware: optionText(bytes, span) };
        else if (span.code === SHB_OS && section.os === undefined) section = { ...section, os: optionText(bytes, span) };
        else if (span.code === SHB_USERAPPL && section.application === undefined) section = { ...section, application: optionText(bytes, span) };
        else if (span.code === OPT_COMMENT && section.comment === undefined) section = { ...section, comment: optionText(bytes, span) };
      }
      sections.push(section);
      live = []; // section 4.1: interface IDs are scoped to their section
    } else if (type === PcapngBlockType.InterfaceDescription) {
      if (total < MIN_IDB) {
        error = damage(offset, `block at byte ${offset}: Interface Description Block of ${total} bytes (at least ${MIN_IDB})`);
        break;
      }
      let tsResolution = 6;
      let tsOffset = 0n;
      let name: string | undefined;
      let description: string | undefined;
      for (const span of readOptions(view, body + 8, end, le)) {
        if (span.code === IF_TSRESOL && span.length >= 1) tsResolution = bytes[span.start]!;
        else if (span.code === IF_TSOFFSET && span.length >= 8) tsOffset = view.getBigInt64(span.start, le);
        else if (span.code === IF_NAME && name === undefined) name = optionText(bytes, span);
        else if (span.code === IF_DESCRIPTION && description === undefined) description = optionText(bytes, span);
      }
      const info: PcapngInterface = {
        section: sections.length - 1, id: live.length,
        linkType: view.getUint16(body, le), snapLen: view.getUint32(body + 4, le),
        tsResolution, tsOffset,
        ...(name === undefined ? {} : { name }),
        ...(description === undefined ? {} : { description }),
      };
      interfaces.push(info);
      live.push({ info, clock: tsResolution === 6 && tsOffset === 0n ? DEFAULT_CLOCK : makeClock(tsResolution, tsOffset) });
    } else if (type === PcapngBlockType.EnhancedPacket || type === PcapngBlockType.Packet) {
      const enhanced = type === PcapngBlockType.EnhancedPacket;
      const what = enhanced ? 'Enhanced Packet Block' : 'Packet Block';
      if (total < (enhanced ? MIN_EPB : MIN_PB)) {
        error = damage(offset, `record ${index} at byte ${offset}: ${what} of ${total} bytes (at least 32)`, index);
        break;
      }
      // EPB: interface ID is 32 bits. Obsolete PB: 16-bit interface ID, 16-bit drops count.
      const interfaceId = enhanced ? view.getUint32(body, le) : view.getUint16(body, le);
      const iface = live[interfaceId];
      if (iface === undefined) {
        error = damage(offset, `record ${index} at byte ${offset}: ${what} on interface ${interfaceId}, but the section declares ${live.length}`, index);
        break;
      }
      const capturedLength = view.getUint32(body + 12, le);
      const originalLength = view.getUint32(body + 16, le);
      const dataStart = body + 20;
      if (capturedLength > MAX_CAPTURED_LENGTH) {
        error = damage(offset, `record ${index} at byte ${offset}: captured length ${capturedLength} exceeds ${MAX_CAPTURED_LENGTH} (corrupt file)`, index);
        break;
      }
      if (pad4(capturedLength) > end - dataStart) {
        error = damage(offset, `record ${index} at byte ${offset}: captured length ${capturedLength} overruns its ${total}-byte block`, index);
        break;
      }
      const comment = commentIn(bytes, view, dataStart + pad4(capturedLength), end, le);
      const timestamp = toNanos(iface.clock, view.getUint32(body + 4, le), view.getUint32(body + 8, le));
      const data = bytes.subarray(dataStart, dataStart + capturedLength);
      const linkType = iface.info.linkType;
      records.push(comment === undefined
        ? { index, timestamp, capturedLength, originalLength, linkType, data, offset, interfaceId }
        : { index, timestamp, capturedLength, originalLength, linkType, data, offset, interfaceId, comment });
      index++;
    } else if (type === PcapngBlockType.SimplePacket) {
      if (total < MIN_SPB) {
        error = damage(offset, `record ${index} at byte ${offset}: Simple Packet Block of ${total} bytes (at least ${MIN_SPB})`, index);
        break;
      }
      const iface = live[0];
      if (iface === undefined) {
        error = damage(offset, `record ${index} at byte ${offset}: Simple Packet Block before any Interface Description Block`, index);
        break;
      }
      // Section 4.4: the captured length is not stored; it is the original length, capped
      // by the snaplen of interface 0 (0 meaning no cap). It must fit in the block.
      const originalLength = view.getUint32(body, le);
      const snap = iface.info.snapLen;
      const capturedLength = snap !== 0 && snap < originalLength ? snap : originalLength;
      const dataStart = body + 4;
      if (capturedLength > MAX_CAPTURED_LENGTH || pad4(capturedLength) > end - dataStart) {
        error = damage(offset, `record ${index} at byte ${offset}: Simple Packet Block of ${capturedLength} bytes overruns its ${total}-byte block`, index);
        break;
      }
      records.push({
        index, timestamp: 0n, capturedLength, originalLength, linkType: iface.info.linkType,
        data: bytes.subarray(dataStart, dataStart + capturedLength), offset, interfaceId: 0,
      });
      index++;
    }
    // Any other block type: skipped by its (checked) length.
    offset += total;
  }

  if (sections.length === 0) {
    // The first block was not a usable Section Header Block: not a pcapng file we can read.
    const failure = error ?? damage(0, 'no Section Header Block');
    return captureFail(cutShort ? 'truncated' : 'bad-capture-file', failure.message, failure.offset);
  }
  const littleEndian = sections[0]!.littleEndian;
  const capture: PcapngCapture = error === undefined
    ? { format: 'pcapng', littleEndian, sections, interfaces, records }
    : { format: 'pcapng', littleEndian, sections, interfaces, records, error };
  return { ok: true, value: capture };
}
