/**
 * tcpdump's relative sequence numbers. tcpdump (without -S) remembers, per conversation,
 * the sequence numbers seen in the first ACK-bearing segment (or any segment with SYN and
 * ACK, which starts the conversation over) and prints later segments' seq and ack relative
 * to them, so a handshake reads `seq 1:101, ack 1`. The first packet of each conversation
 * prints absolute numbers. Both directions share one entry; `reversed` says which side a
 * segment comes from.
 */
import { formatIp } from '../../wire/address.js';
import { seqAdd } from '../../wire/seq.js';

interface Base {
  /** ISN-like base of the side that sorts first. */
  firstSide: number;
  /** Base of the other side. */
  secondSide: number;
}

/** Converts absolute seq/ack to tcpdump's relative form, conversation by conversation. */
export class RelativeSequence {
  readonly #bases = new Map<string, Base>();

  /**
   * Returns the numbers to print for one segment. `syn` and `ack` are its flags. Segments
   * without ACK print absolute numbers, as tcpdump does. `peerBase` is what SACK edges
   * (numbers in the peer's sequence space) are printed relative to: 0 without ACK, and set
   * even on the segment that starts a conversation, as in tcpdump's print-tcp.c.
   */
  apply(src: Uint8Array, srcPort: number, dst: Uint8Array, dstPort: number, seq: number, ackNumber: number,
    flags: { syn: boolean; ack: boolean }): { seq: number; ack: number; peerBase: number } {
    if (!flags.ack) return { seq, ack: ackNumber, peerBase: 0 };
    const a = `${formatIp(src)}.${srcPort}`;
    const b = `${formatIp(dst)}.${dstPort}`;
    const reversed = a > b;
    const key = reversed ? `${b}>${a}` : `${a}>${b}`;
    const known = this.#bases.get(key);
    if (!known || flags.syn) {
      const mine = seq;
      const theirs = seqAdd(ackNumber, -1);
      this.#bases.set(key, reversed ? { firstSide: theirs, secondSide: mine } : { firstSide: mine, secondSide: theirs });
      return { seq, ack: ackNumber, peerBase: theirs };
    }
    const mine = reversed ? known.secondSide : known.firstSide;
    const theirs = reversed ? known.firstSide : known.secondSide;
    return { seq: seqAdd(seq, -mine), ack: seqAdd(ackNumber, -theirs), peerBase: theirs };
  }
}
