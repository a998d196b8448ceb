/**
 * The sender's record of what is in flight, one entry per transmitted segment: the scoreboard
 * of RFC 6675 (which ranges the peer has selectively acknowledged, which are deemed lost) with
 * the per-segment transmit time that RACK (RFC 8985 6.1: "Segment.xmit_ts") and the per-ACK
 * RTT samples need.
 *
 * Contract: entries cover SND.UNA to SND.MAX with no gap and no overlap, in sequence order,
 * each as first transmitted (data plus a FIN; never the SYN). The sender appends new sequence
 * space (`sent`), notes retransmissions (`retransmitted`); an acknowledgment removes what it
 * covers (`acknowledge`, trimming an entry it cuts) and a SACK block marks what it covers
 * (`sack`, splitting entries at its edges, so an entry is always wholly SACKed or not).
 * Each entry newly delivered by either is reported to a {@link DeliveryObserver} (RACK).
 * Loss detection marks entries `markLost`; the counters give RFC 6675's pipe without a walk.
 *
 * Storage: parallel typed arrays over one buffer, in a power-of-two ring, allocated on the
 * first send and doubled as the flight grows, so an idle connection pays for none of it.
 * Splits shift the tail by one; they are rare (receivers SACK whole segments).
 */
import type { Instant } from '../../time/instant.js';
import { seqDiff, seqGt, seqLe, seqLt } from '../../wire/seq.js';
import type { SeqNumber } from '../../wire/seq.js';

/** The peer has selectively acknowledged the entry (RFC 2018). */
export const SACKED = 1;
/** Loss detection deemed the entry lost (RACK, or the RFC 6675 fallback); it stays marked once repaired. */
export const LOST = 2;
/** The entry has been transmitted more than once (RFC 8985 "Segment.retransmitted"). */
export const RETRANSMITTED = 4;
/** A retransmission of a lost entry is in flight (counts in pipe: RFC 6675 SetPipe (b)). */
export const RETRANS_IN_FLIGHT = 8;

/** Told of every entry an ACK newly delivers: cumulatively acknowledged (not SACKed before) or SACKed. */
export interface DeliveryObserver {
  delivered(sentAt: Instant, end: SeqNumber, flags: number): void;
}

/** Entries at the first send (a short exchange needs no more); doubled as the flight grows. */
const INITIAL_CAPACITY = 8;
// Shared empty storage: a connection that never sends allocates no arrays of its own.
const NO_SEQ = new Uint32Array(0);
const NO_TIMES = new Float64Array(0);
const NO_FLAGS = new Uint8Array(0);

/** The four arrays of one storage, as made together by `#grow`. */
interface Storage {
  readonly sentAt: Float64Array<ArrayBuffer>;
  readonly start: Uint32Array<ArrayBuffer>;
  readonly end: Uint32Array<ArrayBuffer>;
  readonly flags: Uint8Array<ArrayBuffer>;
}

/**
 * Storages of the initial capacity given back by ended connections, for the next ones. Most
 * connections never grow past it (a request, a response, a FIN), and making four typed
 * arrays over a fresh buffer is the costliest allocation of a short connection. Bounded:
 * beyond this many, released storage is left to the garbage collector.
 */
const POOL_LIMIT = 1024;
const pool: Storage[] = [];

/** The segments in flight of one connection. */
export class Scoreboard {
  #start = NO_SEQ;
  #end = NO_SEQ;
  #sentAt = NO_TIMES;
  #flags = NO_FLAGS;
  #head = 0;
  #count = 0;
  #mask = -1;
  /** Bytes (sequence space) of SACKed entries. */
  sackedBytes = 0;
  /** Bytes of entries marked lost (repaired or not). */
  lostBytes = 0;
  /** Bytes of lost entries whose retransmission is in flight. */
  retransInFlightBytes = 0;
  /** The highest end of a SACKed entry (RACK.fack's view of the SACKed part), or undefined. */
  highSacked: SeqNumber | undefined;
  /** The end of the highest entry ever retransmitted, while any retransmitted entry may be outstanding. */
  retransHigh: SeqNumber | undefined;
  /**
   * When the newest entry that the last `acknowledge` removed was sent, if it had been sent
   * only once: the ACK's RTT sample for congestion control (HyStart++ wants one per ACK).
   */
  ackedSentAt: Instant | undefined;

  /** Entries in flight. */
  get count(): number {
    return this.#count;
  }

  /** First sequence number in flight (SND.UNA), or undefined when nothing is. */
  get first(): SeqNumber | undefined {
    return this.#count === 0 ? undefined : this.#start[this.#head];
  }

  start(i: number): SeqNumber {
    return this.#start[this.#at(i)]!;
  }

  end(i: number): SeqNumber {
    return this.#end[this.#at(i)]!;
  }

  sentAt(i: number): Instant {
    return this.#sentAt[this.#at(i)]!;
  }

  flags(i: number): number {
    return this.#flags[this.#at(i)]!;
  }

  /** Bytes of entry `i`. */
  length(i: number): number {
    const k = this.#at(i);
    return seqDiff(this.#end[k]!, this.#start[k]!);
  }

  #at(i: number): number {
    return (this.#head + i) & this.#mask;
  }

  /** New sequence space `[start, end)` went out at `now` (start is the previous SND.MAX). */
  sent(start: SeqNumber, end: SeqNumber, now: Instant): void {
    if (this.#count === this.#start.length) this.#grow();
    const k = this.#at(this.#count);
    this.#start[k] = start;
    this.#end[k] = end;
    this.#sentAt[k] = now;
    this.#flags[k] = 0;
    this.#count++;
  }

  /**
   * `[start, end)`, already in flight, went out again at `now`: every entry it covers is
   * retransmitted (an entry it cuts is split first, so the marks stay exact).
   */
  retransmitted(start: SeqNumber, end: SeqNumber, now: Instant): void {
    if (!seqLt(start, end)) return;
    this.#splitAt(start);
    this.#splitAt(end);
    for (let i = this.#indexOf(start); i >= 0 && i < this.#count; i++) {
      const k = this.#at(i);
      if (!seqLt(this.#start[k]!, end)) break;
      const f = this.#flags[k]!;
      if ((f & SACKED) !== 0) continue;
      this.#sentAt[k] = now;
      let next = f | RETRANSMITTED;
      if ((f & LOST) !== 0 && (f & RETRANS_IN_FLIGHT) === 0) {
        next |= RETRANS_IN_FLIGHT;
        this.retransInFlightBytes += seqDiff(this.#end[k]!, this.#start[k]!);
      }
      this.#flags[k] = next;
      if (this.retransHigh === undefined || seqGt(this.#end[k]!, this.retransHigh)) this.retransHigh = this.#end[k]!;
    }
  }

  /**
   * The cumulative acknowledgment moved to `ack`: entries before it leave (an entry it cuts is
   * trimmed). Entries not SACKed before are reported to `observer`. Returns the bytes removed
   * that had been SACKed (the caller's delivered-data arithmetic needs them).
   */
  acknowledge(ack: SeqNumber, observer?: DeliveryObserver): number {
    let sackedRemoved = 0;
    this.ackedSentAt = undefined;
    while (this.#count > 0) {
      const k = this.#head;
      const s = this.#start[k]!;
      const e = this.#end[k]!;
      if (!seqGt(ack, s)) break;
      const f = this.#flags[k]!;
      if (seqLt(ack, e)) {
        // Partly acknowledged: the rest stays as an entry of its own.
        const cut = seqDiff(ack, s);
        if ((f & SACKED) !== 0) { this.sackedBytes -= cut; sackedRemoved += cut; }
        if ((f & LOST) !== 0) this.lostBytes -= cut;
        if ((f & RETRANS_IN_FLIGHT) !== 0) this.retransInFlightBytes -= cut;
        this.#start[k] = ack;
        break;
      }
      const len = seqDiff(e, s);
      if ((f & SACKED) !== 0) {
        this.sackedBytes -= len;
        sackedRemoved += len;
      } else {
        observer?.delivered(this.#sentAt[k]!, e, f);
      }
      if ((f & LOST) !== 0) this.lostBytes -= len;
      if ((f & RETRANS_IN_FLIGHT) !== 0) this.retransInFlightBytes -= len;
      this.ackedSentAt = (f & RETRANSMITTED) === 0 ? this.#sentAt[k]! : undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#count--;
    }
    if (this.#count === 0) {
      this.#head = 0;
      this.highSacked = undefined;
      this.retransHigh = undefined;
      this.sackedBytes = 0;
      this.lostBytes = 0;
      this.retransInFlightBytes = 0;
    } else {
      const una = this.#start[this.#head]!;
      if (this.highSacked !== undefined && seqLe(this.highSacked, una)) this.highSacked = undefined;
      if (this.retransHigh !== undefined && seqLe(this.retransHigh, una)) this.retransHigh = undefined;
    }
    return sackedRemoved;
  }

  /**
   * A SACK block `[left, right)` (already checked to lie within the flight): the entries it
   * covers become SACKed (no longer lost, no retransmission in flight). Entries newly SACKed
   * are reported to `observer`. Returns the bytes newly SACKed.
   */
  sack(left: SeqNumber, right: SeqNumber, observer?: DeliveryObserver): number {
    if (this.#count === 0 || !seqLt(left, right)) return 0;
    this.#splitAt(left);
    this.#splitAt(right);
    let newly = 0;
    for (let i = Math.max(0, this.#indexOf(left)); i < this.#count; i++) {
      const k = this.#at(i);
      const s = this.#start[k]!;
      if (!seqLt(s, right)) break;
      if (seqLt(s, left)) continue;
      const f = this.#flags[k]!;
      if ((f & SACKED) !== 0) continue;
      const len = seqDiff(this.#end[k]!, s);
      if ((f & LOST) !== 0) this.lostBytes -= len;
      if ((f & RETRANS_IN_FLIGHT) !== 0) this.retransInFlightBytes -= len;
      this.#flags[k] = (f & RETRANSMITTED) | SACKED;
      this.sackedBytes += len;
      newly += len;
      if (this.highSacked === undefined || seqGt(this.#end[k]!, this.highSacked)) this.highSacked = this.#end[k]!;
      observer?.delivered(this.#sentAt[k]!, this.#end[k]!, f);
    }
    return newly;
  }

  /** Entry `i` is deemed lost (again, if its retransmission was lost too). */
  markLost(i: number): void {
    const k = this.#at(i);
    const f = this.#flags[k]!;
    if ((f & SACKED) !== 0) return;
    const len = seqDiff(this.#end[k]!, this.#start[k]!);
    if ((f & LOST) === 0) this.lostBytes += len;
    if ((f & RETRANS_IN_FLIGHT) !== 0) this.retransInFlightBytes -= len;
    this.#flags[k] = (f | LOST) & ~RETRANS_IN_FLIGHT;
  }

  /** The first entry that is lost and not being retransmitted (RFC 6675 NextSeg rule 1), or -1. */
  firstLostIndex(): number {
    if (this.lostBytes - this.retransInFlightBytes <= 0) return -1;
    for (let i = 0; i < this.#count; i++) {
      const f = this.#flags[this.#at(i)]!;
      if ((f & (LOST | RETRANS_IN_FLIGHT | SACKED)) === LOST) return i;
    }
    return -1;
  }

  /** The index of the entry holding `seq`, or -1. */
  #indexOf(seq: SeqNumber): number {
    if (this.#count === 0) return -1;
    const base = this.#start[this.#head]!;
    const target = seqDiff(seq, base);
    if (target < 0 || target >= seqDiff(this.#end[this.#at(this.#count - 1)]!, base)) return -1;
    let lo = 0;
    let hi = this.#count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (seqDiff(this.#start[this.#at(mid)]!, base) <= target) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Splits the entry holding `seq` so that one begins at `seq` (nothing when one does already). */
  #splitAt(seq: SeqNumber): void {
    const i = this.#indexOf(seq);
    if (i < 0) return;
    const k = this.#at(i);
    if (this.#start[k] === seq) return;
    if (this.#count === this.#start.length) this.#grow();
    // Shift entries after i one place towards the tail.
    for (let j = this.#count; j > i + 1; j--) {
      const to = this.#at(j);
      const from = this.#at(j - 1);
      this.#start[to] = this.#start[from]!;
      this.#end[to] = this.#end[from]!;
      this.#sentAt[to] = this.#sentAt[from]!;
      this.#flags[to] = this.#flags[from]!;
    }
    const k0 = this.#at(i);
    const k1 = this.#at(i + 1);
    this.#start[k1] = seq;
    this.#end[k1] = this.#end[k0]!;
    this.#sentAt[k1] = this.#sentAt[k0]!;
    this.#flags[k1] = this.#flags[k0]!;
    this.#end[k0] = seq;
    this.#count++;
  }

  #grow(): void {
    const pooled = this.#start.length === 0 ? pool.pop() : undefined;
    if (pooled !== undefined) {
      this.#start = pooled.start;
      this.#end = pooled.end;
      this.#sentAt = pooled.sentAt;
      this.#flags = pooled.flags;
      this.#head = 0;
      this.#mask = INITIAL_CAPACITY - 1;
      return;
    }
    const capacity = Math.max(INITIAL_CAPACITY, this.#start.length * 2);
    // One buffer for the four arrays (times first, for their 8-byte alignment): a connection's
    // first send makes one allocation, not four.
    const buffer = new ArrayBuffer(capacity * (8 + 4 + 4 + 1));
    const sentAt = new Float64Array(buffer, 0, capacity);
    const start = new Uint32Array(buffer, capacity * 8, capacity);
    const end = new Uint32Array(buffer, capacity * 12, capacity);
    const flags = new Uint8Array(buffer, capacity * 16, capacity);
    for (let i = 0; i < this.#count; i++) {
      const k = this.#at(i);
      start[i] = this.#start[k]!;
      end[i] = this.#end[k]!;
      sentAt[i] = this.#sentAt[k]!;
      flags[i] = this.#flags[k]!;
    }
    this.#start = start;
    this.#end = end;
    this.#sentAt = sentAt;
    this.#flags = flags;
    this.#head = 0;
    this.#mask = capacity - 1;
  }

  /** Forgets everything (the connection closed, or the flight was abandoned). */
  /**
   * The connection has ended (CLOSED): empty, and the storage goes back to the pool when it
   * has the initial capacity. Nothing may be recorded afterwards but through a new first send.
   */
  release(): void {
    this.clear();
    if (this.#start.length === INITIAL_CAPACITY && pool.length < POOL_LIMIT) {
      pool.push({ sentAt: this.#sentAt, start: this.#start, end: this.#end, flags: this.#flags });
    }
    this.#start = NO_SEQ;
    this.#end = NO_SEQ;
    this.#sentAt = NO_TIMES;
    this.#flags = NO_FLAGS;
    this.#mask = -1;
  }

  clear(): void {
    this.#head = 0;
    this.#count = 0;
    this.sackedBytes = 0;
    this.lostBytes = 0;
    this.retransInFlightBytes = 0;
    this.highSacked = undefined;
    this.retransHigh = undefined;
    this.ackedSentAt = undefined;
  }
}
