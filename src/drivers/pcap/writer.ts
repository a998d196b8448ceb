/**
 * Writing what l4 sends and receives as a classic pcap file that tcpdump, tshark and
 * Wireshark open: LINKTYPE_RAW (101) records, so IPv4 and IPv6 packets go in as they are,
 * with no invented link header.
 *
 * `PcapFileWriter` appends with synchronous writes (a record is two small writes: its
 * header and the packet, never copied), so a crash loses at most the packet being written
 * and every record on disk is whole. `PcapMemoryWriter` builds the same bytes in memory
 * for tests and for tools that hand a capture to something else. Both snap packets longer
 * than the snaplen and keep the original length, as tcpdump -s does.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { PcapTimestamp } from '../../wire/pcap.js';
import { DEFAULT_SNAPLEN, pcapHeader, pcapRecordHeader } from '../../wire/pcap.js';
import { LinkType } from '../../wire/link.js';

/** Options of a capture being written. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of the records; LINKTYPE_RAW (101) unless given. */
  readonly linkType?: number;
  /** Longest packet stored whole; longer ones are snapped. 262144 unless given. */
  readonly snapLen?: number;
  /** Nanosecond timestamps (magic 0xa1b23c4d); microseconds unless true. */
  readonly nanosecond?: boolean;
}

/** What every writer needs: the header options resolved, and counts. */
abstract class PcapWriterBase {
  readonly linkType: number;
  readonly snapLen: number;
  readonly nanosecond: boolean;
  /** Records written so far. */
  records = 0;
  /** Bytes written so far, header included. */
  bytesWritten = 0;

  constructor(options: PcapWriterOptions) {
    this.linkType = options.linkType ?? LinkType.Raw;
    this.snapLen = options.snapLen ?? DEFAULT_SNAPLEN;
    this.nanosecond = options.nanosecond ?? false;
  }

  protected header(): Uint8Array {
    return pcapHeader({ linkType: this.linkType, snapLen: this.snapLen, nanosecond: this.nanosecond });
  }

  /** Splits a packet into the record header and the bytes to store (snapped to snapLen). */
  protected record(ts: PcapTimestamp, packet: Uint8Array): { header: Uint8Array; data: Uint8Array } {
    const data = this.snapLen > 0 && packet.length > this.snapLen ? packet.subarray(0, this.snapLen) : packet;
    return { header: pcapRecordHeader(ts, data.length, packet.length, this.nanosecond), data };
  }
}

/**
 * A pcap file on disk. `open` creates (or truncates) the file and writes the header;
 * `write` appends a record; `close` closes it. Writing after close is a programmer error
 * and throws. File-system errors (ENOENT, EACCES, ENOSPC) are thrown as Node raises them.
 */
export class PcapFileWriter extends PcapWriterBase {
  readonly path: string;
  private fd: number | undefined;

  private constructor(path: string, fd: number, options: PcapWriterOptions) {
    super(options);
    this.path = path;
    this.fd = fd;
    const header = this.header();
    writeSync(fd, header);
    this.bytesWritten = header.length;
  }

  /** Creates or truncates `path` and writes the pcap header. */
  static open(path: string, options: PcapWriterOptions = {}): PcapFileWriter {
    const fd = openSync(path, 'w');
    try {
      return new PcapFileWriter(path, fd, options);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** True until `close`. */
  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Appends one packet captured at `ts` (nanoseconds since the epoch, or seconds and nanos). */
  write(ts: PcapTimestamp, packet: Uint8Array): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`pcap writer for ${this.path} is closed`);
    const { header, data } = this.record(ts, packet);
    writeSync(fd, header);
    if (data.length > 0) writeSync(fd, data);
    this.records++;
    this.bytesWritten += header.length + data.length;
  }

  /** Closes the file. Closing twice does nothing. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** The same pcap bytes as `PcapFileWriter`, kept in memory. */
export class PcapMemoryWriter extends PcapWriterBase {
  private readonly chunks: Uint8Array[] = [];

  constructor(options: PcapWriterOptions = {}) {
    super(options);
    const header = this.header();
    this.chunks.push(header);
    this.bytesWritten = header.length;
  }

  /** Appends one packet captured at `ts`. */
  write(ts: PcapTimestamp, packet: Uint8Array): void {
    const { header, data } = this.record(ts, packet);
    this.chunks.push(header, data.slice()); // a copy: the caller may reuse its buffer
    this.records++;
    this.bytesWritten += header.length + data.length;
  }

  /** The whole file so far, as one new array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.bytesWritten);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}
