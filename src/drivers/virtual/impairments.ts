/**
 * The fault model of a virtual link direction: what its options mean and the random draws
 * that apply them. Every draw comes from the direction's own `Rng`, so a link's faults
 * depend only on the network's seed, the link's name and the packets offered to it.
 *
 * A packet offered to a direction goes through these stages, in this order:
 *
 * 1. **MTU**: a packet longer than `mtu` bytes is dropped (`dropped.mtu`). No ICMP yet.
 * 2. **Transmit queue** (only with `bandwidth`): the transmitter sends one packet at a time,
 *    taking `size * 8 / bandwidth` seconds each; a packet that finds it busy waits in a FIFO
 *    queue. The queue holds the packets *waiting* to start (not the one being serialized);
 *    when it already holds `queueLimit` packets or bytes, the newcomer is tail-dropped
 *    (`dropped.queueFull`). Serialization is computed in fractional microseconds so the long
 *    run rate is exact; only event times are rounded up to whole microseconds.
 * 3. **Loss** (`loss`, a probability): the packet is lost on the wire after it was
 *    serialized, so a lost packet still used the bandwidth (`dropped.loss`).
 * 4. **Corruption** (`corrupt`, a probability): the packet is copied and 1 to 3 bits,
 *    chosen uniformly, are flipped (`corrupted`). The flipped bits sit at distinct
 *    positions modulo 16, so that every Internet checksum covering one of them (IPv4
 *    header, TCP, UDP, ICMP, with their pseudo-headers) fails: the ones' complement sum
 *    changes by a sum of distinct signed powers of two, which is never 0 modulo 65535.
 *    (Two flips at the same position modulo 16 in opposite directions would cancel out,
 *    one time in 32: plain random flips would let TCP accept corrupted data.) The guarantee
 *    holds while the checksummed region stays put, which it does for TCP and ICMP (their
 *    length comes from the IP header, itself checksummed); a flip in a length field that
 *    moves a region (IPv4 IHL, UDP length) is still caught with probability about
 *    1 - 2^-16, and a UDP checksum turned into 0 ("no checksum", IPv4) lets the datagram
 *    through: that is UDP's choice.
 * 5. **Duplication** (`duplicate`, a probability): a second copy is delivered right after
 *    the original, at the same instant (`duplicated`); it draws its own corruption. The
 *    copy does not use bandwidth or queue space.
 * 6. **Delay and jitter**: arrival = end of serialization + `delay` + a jitter drawn uniformly
 *    in whole microseconds from [-`jitter`, +`jitter`] (the sum is clamped at 0). Jitter
 *    never reorders: an arrival is pushed back to no earlier than the previous in-order
 *    arrival on the direction (so the distribution is skewed late under load).
 * 7. **Reordering** (`reorder`, a probability): the packet is held back by an extra
 *    `reorderDelay` (default: `delay`, at least 1 ms) and leaves the FIFO order, so packets
 *    sent after it may overtake it (`reordered` counts packets held back, whether or not a
 *    later packet actually overtook them).
 */
import type { Duration } from '../../time/instant.js';
import type { Rng } from '../../time/rng.js';

/** How the transmit queue is bounded: packets, bytes, or both (whichever fills first). */
export interface QueueLimit {
  readonly packets?: number;
  readonly bytes?: number;
}

/** Impairments of one link direction. Every field is optional; the default is a perfect wire. */
export interface LinkOptions {
  /** Bits per second. Absent (or Infinity): no serialization delay and no queue. */
  readonly bandwidth?: number;
  /** Bound of the transmit queue: a number is packets. Default 1000 packets (Linux's txqueuelen). Only with `bandwidth`. */
  readonly queueLimit?: number | QueueLimit;
  /** One-way propagation delay, µs. Default 0. */
  readonly delay?: Duration;
  /** Jitter amplitude, µs: uniform in [-jitter, +jitter], never reordering. Default 0. */
  readonly jitter?: Duration;
  /** Probability that a packet is lost. */
  readonly loss?: number;
  /** Probability that a packet is delivered twice. */
  readonly duplicate?: number;
  /** Probability that a packet is held back by `reorderDelay` so later ones overtake it. */
  readonly reorder?: number;
  /** Extra delay of a reordered packet, µs. Default max(delay, 1 ms). */
  readonly reorderDelay?: Duration;
  /** Probability that 1-3 bits of a packet are flipped. */
  readonly corrupt?: number;
  /** Largest packet (whole IP datagram, bytes) the link carries; larger ones are dropped. Default: no limit. */
  readonly mtu?: number;
}

/** The default bound of a transmit queue, in packets. */
export const DEFAULT_QUEUE_PACKETS = 1000;
/** The least default extra delay of a reordered packet, µs. */
export const MIN_DEFAULT_REORDER_DELAY: Duration = 1000;

/** Options resolved to plain numbers, validated. */
export interface Impairments {
  /** Bits per second; Infinity for an unlimited link. */
  readonly bandwidth: number;
  /** Microseconds per byte on the wire (8e6 / bandwidth); 0 when unlimited. */
  readonly microsPerByte: number;
  readonly queuePackets: number;
  readonly queueBytes: number;
  readonly delay: Duration;
  readonly jitter: Duration;
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly reorderDelay: Duration;
  readonly corrupt: number;
  readonly mtu: number;
}

function probability(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!(value >= 0 && value <= 1)) throw new RangeError(`link option ${name} must be a probability in [0, 1], got ${value}`);
  return value;
}

function micros(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`link option ${name} must be a finite duration >= 0 µs, got ${value}`);
  return Math.round(value);
}

function positive(name: string, value: number | undefined): number {
  if (value === undefined) return Infinity;
  if (!(value > 0)) throw new RangeError(`link option ${name} must be > 0, got ${value}`);
  return value;
}

function limit(name: string, value: number | undefined): number {
  if (value === undefined) return Infinity;
  if (!(value >= 0)) throw new RangeError(`link option ${name} must be >= 0, got ${value}`);
  return value;
}

/** Validates options (RangeError naming the bad one) and fills in the defaults. */
export function resolveImpairments(options: LinkOptions = {}): Impairments {
  const bandwidth = positive('bandwidth', options.bandwidth);
  let queuePackets = DEFAULT_QUEUE_PACKETS;
  let queueBytes = Infinity;
  const q = options.queueLimit;
  if (typeof q === 'number') {
    queuePackets = limit('queueLimit', q);
  } else if (q !== undefined) {
    queuePackets = limit('queueLimit.packets', q.packets);
    queueBytes = limit('queueLimit.bytes', q.bytes);
  }
  const delay = micros('delay', options.delay, 0);
  return {
    bandwidth,
    microsPerByte: bandwidth === Infinity ? 0 : 8e6 / bandwidth,
    queuePackets,
    queueBytes,
    delay,
    jitter: micros('jitter', options.jitter, 0),
    loss: probability('loss', options.loss),
    duplicate: probability('duplicate', options.duplicate),
    reorder: probability('reorder', options.reorder),
    reorderDelay: micros('reorderDelay', options.reorderDelay, Math.max(delay, MIN_DEFAULT_REORDER_DELAY)),
    corrupt: probability('corrupt', options.corrupt),
    mtu: positive('mtu', options.mtu),
  };
}

/** A jitter offset in whole µs, uniform in [-jitter, +jitter]; 0 (no draw) when jitter is 0. */
export function drawJitter(rng: Rng, jitter: Duration): Duration {
  return jitter > 0 ? rng.nextInt(-jitter, jitter) : 0;
}

/**
 * A copy of `packet` with 1-3 bits flipped at distinct bit positions modulo 16 (so that the
 * Internet checksum of any region holding a flipped bit cannot verify; see the module doc).
 * An empty packet is copied unchanged.
 */
export function corruptCopy(rng: Rng, packet: Uint8Array): Uint8Array {
  const copy = packet.slice();
  const bits = copy.length * 8;
  if (bits === 0) return copy;
  const flips = rng.nextInt(1, 3); // a packet of one byte still has 8 distinct classes

  let usedClasses = 0; // bit i set: position class i (mod 16) already flipped
  for (let n = 0; n < flips; n++) {
    let position: number;
    do {
      position = rng.nextBelow(bits);
    } while ((usedClasses & (1 << (position & 15))) !== 0);
    usedClasses |= 1 << (position & 15);
    const at = position >>> 3;
    copy[at] = copy[at]! ^ (0x80 >>> (position & 7));
  }
  return copy;
}
