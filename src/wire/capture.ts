/**
 * One entry point for capture files: `readCapture` sniffs the first four bytes (the pcap
 * magic in either byte order and precision, or the pcapng Section Header Block type
 * 0a 0d 0d 0a) and hands the bytes to `readPcap` or `readPcapng`. Either way the caller
 * gets the same `CaptureRecord`s: 1-based frame numbers as tshark counts them, timestamps in
 * nanoseconds since the epoch (`bigint`), lengths, the link type of each record and a view
 * of its bytes. Never throws. An empty file, an unknown magic or a header cut short is a
 * failed parse with a message and offset for the CLI's one line; damage part way through is
 * `capture.error` next to the records read before it.
 */
import type { PcapCapture, CaptureResult } from './pcap.js';
import type { PcapngCapture } from './pcapng.js';
import { captureFail, isPcapMagic, readPcap, PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS } from './pcap.js';
import { isPcapngMagic, readPcapng, PcapngBlockType } from './pcapng.js';

export type { CaptureRecord, CaptureError, CaptureResult, PcapCapture } from './pcap.js';
export type { PcapngCapture, PcapngInterface, PcapngSection } from './pcapng.js';
export { formatTimestamp, MAX_CAPTURED_LENGTH } from './pcap.js';

/** A capture file of either format; `format` tells which, and both carry `records` and `error?`. */
export type Capture = PcapCapture | PcapngCapture;

/** The format the first bytes announce, or undefined when they are neither. */
export function sniffCaptureFormat(bytes: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (isPcapngMagic(bytes)) return 'pcapng';
  if (isPcapMagic(bytes)) return 'pcap';
  return undefined;
}

/** True when a file shorter than 4 bytes could still be the start of a known magic. */
function isMagicPrefix(bytes: Uint8Array): boolean {
  const magics = [PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS, PcapngBlockType.SectionHeader];
  for (const magic of magics) {
    for (const littleEndian of [false, true]) {
      let match = true;
      for (let i = 0; i < bytes.length && match; i++) {
        const shift = littleEndian ? 8 * i : 24 - 8 * i;
        match = bytes[i] === ((magic >>> shift) & 0xff);
      }
      if (match) return true;
    }
  }
  return false;
}

/**
 * Reads a pcap or pcapng file given whole. Failed parse ('truncated' for an empty file or
 * a header cut short, 'bad-capture-file' for an unknown magic or a broken first header);
 * otherwise the capture, whose `error` says where reading stopped if it did.
 */
export function readCapture(bytes: Uint8Array): CaptureResult<Capture> {
  if (bytes.length === 0) return captureFail('truncated', 'empty file (0 bytes)', 0);
  if (bytes.length < 4) {
    return isMagicPrefix(bytes)
      ? captureFail('truncated', `file cut short after ${bytes.length} bytes, inside the capture header`, 0)
      : captureFail('bad-capture-file', 'not a pcap or pcapng file (too short for a magic number)', 0);
  }
  const format = sniffCaptureFormat(bytes);
  if (format === 'pcapng') return readPcapng(bytes);
  if (format === 'pcap') return readPcap(bytes);
  let magic = '';
  for (let i = 0; i < 4; i++) magic += bytes[i]!.toString(16).padStart(2, '0');
  return captureFail('bad-capture-file', `not a pcap or pcapng file (magic ${magic})`, 0);
}
