/**
 * Pcap taps: a capture point on a link direction or a node, writing every packet that
 * passes it to a pcap writer (smoltcp's `phy::PcapWriter` wrapping a device is the model).
 * Packets are written as LINKTYPE_RAW IP datagrams; the timestamp is the network's
 * instant at the capture point, in nanoseconds, plus the tap's epoch.
 *
 * Where a tap sits:
 * - `'tx'`, the sender side: the packet as the sending node offered it to the link, at the
 *   instant it was sent, before the MTU check, the queue and every fault. A packet later
 *   dropped still appears (as tcpdump on the sending host would show it).
 * - `'rx'`, the receiver side: the packet as delivered to the receiving node, at its arrival
 *   instant, after every fault: lost and dropped packets are absent, corrupted ones appear
 *   corrupted, duplicates appear twice, reordered ones at their late place.
 * - `'both'`: both points (a delivered packet then appears twice, at send and arrival time).
 *
 * A link tap defaults to `'rx'` ("what crossed the link"); a node tap to `'both'`, which is
 * what tcpdump on that host shows: what it sent and what it received.
 *
 * On a trusted link (`VirtualLink.trust`) the hosts skip checksums; a tap writes each packet
 * of such a link with its checksums filled in (see `captureAll`), so a capture reads as if
 * they had been computed.
 */
import type { Instant } from '../../time/instant.js';
import { withChecksums } from '../../wire/fill-checksums.js';
import type { PcapTimestamp } from '../../wire/pcap.js';

/** Anything a tap can write to: `PcapMemoryWriter` and `PcapFileWriter` both are. */
export interface PacketWriter {
  write(ts: PcapTimestamp, packet: Uint8Array): void;
}

/** Which capture point(s) of a link direction or node a tap uses. */
export type TapSide = 'tx' | 'rx' | 'both';

/** Options of `VirtualNetwork.tap`. */
export interface TapOptions {
  /** Capture point(s); `'rx'` for a link, `'both'` for a node unless given. */
  readonly side?: TapSide;
  /** Added to every timestamp, ns since the Unix epoch; the network's `epochNanos` unless given. */
  readonly epochNanos?: bigint;
}

/** One capture, attached to one or more capture points. */
export class Tap {
  readonly writer: PacketWriter;
  readonly side: TapSide;
  readonly epochNanos: bigint;
  /** Packets written so far. */
  packets = 0;
  #lists: Tap[][] = [];

  /** Made by `VirtualNetwork.tap`. */
  constructor(writer: PacketWriter, side: TapSide, epochNanos: bigint) {
    this.writer = writer;
    this.side = side;
    this.epochNanos = epochNanos;
  }

  /** Writes one packet seen at `now`. */
  capture(now: Instant, packet: Uint8Array): void {
    this.writer.write(this.epochNanos + BigInt(now) * 1000n, packet);
    this.packets++;
  }

  /** Registers this tap in a capture point's list (done by the network). */
  attachTo(list: Tap[]): void {
    list.push(this);
    this.#lists.push(list);
  }

  /** Stops capturing (the writer is not closed: it belongs to the caller). */
  remove(): void {
    for (const list of this.#lists) {
      const at = list.indexOf(this);
      if (at >= 0) list.splice(at, 1);
    }
    this.#lists = [];
  }
}

/**
 * Writes `packet` to every tap of a capture point. A packet crossing a `trusted` link has
 * its checksums left 0 by the hosts; the taps get a copy with them filled (`withChecksums`,
 * made once for all of them), so a capture stays valid for tshark. Nothing is hidden that
 * way: a trusted link never corrupts, so the fields were simply not computed.
 */
export function captureAll(taps: readonly Tap[], now: Instant, packet: Uint8Array, trusted = false): void {
  const captured = trusted ? withChecksums(packet) : packet;
  for (let i = 0; i < taps.length; i++) taps[i]!.capture(now, captured);
}
