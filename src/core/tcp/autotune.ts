/**
 * Receive-buffer autotuning: dynamic right-sizing (Fisher, "Dynamic Right-Sizing in TCP",
 * 2003; Linux's tcp_rcv_space_adjust). The receiver offers a window that grows with what the
 * application actually reads: once a round trip, twice the bytes read in the last one plus
 * sixteen segments of headroom, and more when that amount itself grew, so that the window
 * keeps ahead of a sender in slow start. A long fat path is filled without configuration,
 * and a slow reader never invites its peer to park a whole 16 MiB buffer in it.
 *
 * Contract: the TCB keeps the limit (`Tcb.rcvSpace`, which `receiveWindowMax` and
 * `potentialWindow` respect) and makes one `ReceiveAutotuner` when the first text arrives
 * while the limit is below the buffer's capacity. `onText` takes the receiver's RTT samples:
 * from the echoed timestamp (RFC 7323: the peer echoes the TSval of our latest ACK, so
 * the time since is a round trip), or else from the time one full window takes to arrive
 * (which can only overstate the round trip; the smallest is kept). `onRead` counts the
 * application's reads and returns the new limit when a round trip has passed. The limit never
 * shrinks (the right edge never moves left, RFC 9293 3.8.6).
 */
import type { Duration, Instant } from '../../time/instant.js';
import { seqAdd, seqGe } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';

/** Segments of headroom above twice the bytes read per round trip (Linux: 16 · advmss). */
export const AUTOTUNE_HEADROOM_SEGMENTS = 16;

/** The autotuning state of one connection's receive side. */
export class ReceiveAutotuner {
  /** The receiver's round-trip estimate, once it has one. */
  rtt: Duration | undefined;
  #copied = 0;
  #start: Instant;
  /** The most bytes read in one round trip so far (Linux's rcvq_space.space). */
  #measured: number;
  #windowEnd: SeqNumber | undefined;
  #windowStart: Instant = 0;

  constructor(now: Instant, mss: number) {
    this.#start = now;
    // Linux starts from the initial congestion window's worth (10 segments).
    this.#measured = 10 * mss;
  }

  /**
   * Text arrived at `now`. `echoRtt` is the time since our timestamp that it echoes (RFC 7323),
   * when it carried one; otherwise the time for RCV.NXT to cover one whole window is the sample.
   */
  onText(now: Instant, echoRtt: Duration | undefined, rcvNxt: SeqNumber, rcvWnd: number): void {
    if (echoRtt !== undefined) {
      // Linux smooths these: rtt = 7/8 rtt + 1/8 sample.
      this.rtt = this.rtt === undefined ? echoRtt : Math.round((7 * this.rtt + echoRtt) / 8);
      return;
    }
    if (this.#windowEnd !== undefined && !seqGe(rcvNxt, this.#windowEnd)) return;
    if (this.#windowEnd !== undefined) {
      const sample = Math.max(1, now - this.#windowStart);
      this.rtt = this.rtt === undefined ? sample : Math.min(this.rtt, sample);
    }
    this.#windowEnd = seqAdd(rcvNxt, Math.max(1, rcvWnd));
    this.#windowStart = now;
  }

  /**
   * The application read `bytes` at `now`. Once a round trip (`fallbackRtt` when the receiver
   * has no estimate of its own) has passed since the last measurement, returns the window the
   * rate read calls for (Linux: rcvwin = 2·copied + 16·advmss, plus twice its growth
   * rcvwin·(copied - space)/space), else undefined.
   */
  onRead(bytes: number, now: Instant, fallbackRtt: Duration | undefined, mss: number): number | undefined {
    this.#copied += bytes;
    const rtt = this.rtt ?? fallbackRtt;
    if (rtt === undefined || now - this.#start < rtt) return undefined;
    const copied = this.#copied;
    this.#copied = 0;
    this.#start = now;
    if (copied <= this.#measured) return undefined;
    let window = 2 * copied + AUTOTUNE_HEADROOM_SEGMENTS * mss;
    window += Math.floor((2 * window * (copied - this.#measured)) / this.#measured);
    this.#measured = copied;
    return window;
  }
}
