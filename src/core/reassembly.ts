/**
 * IP reassembly: IPv4 (RFC 791 3.2, with RFC 815's idea of tracking what is still missing)
 * and IPv6 (RFC 8200 4.5), for every protocol the host carries (UDP and TCP alike).
 *
 * Contract: the host hands in each fragment that is for it (`ipv4`, `ipv6`), with the instant;
 * the reassembler copies what it keeps (the caller's buffer is not retained) and answers
 * `held`, `complete` with the whole datagram rebuilt as one unfragmented IP packet (which the
 * host parses again like any other), or `dropped` with the reason and how many fragments went
 * with it. It never throws on any input.
 *
 * Datagrams are keyed as the RFCs say: IPv4 by (source, destination, protocol,
 * identification), IPv6 by (source, destination, identification). Fragments are kept sorted
 * by offset; a datagram is complete when its last fragment (MF clear) fixed the length and
 * the fragments held add up to it — with no overlap allowed, that means every byte is there
 * (the "hole list" of RFC 815 is implicit in the sorted list). Decisions:
 *
 * - Overlap: RFC 5722 and RFC 8200 4.5 for IPv6 — "reassembly of that packet must be
 *   abandoned and all the fragments that have been received for that packet must be
 *   discarded, and no ICMP error messages should be sent" — and the same for IPv4, as Linux
 *   has done since 4.19 (RFC 1858; RFC 791 would let later data overwrite, which is how
 *   overlapping-fragment attacks on filters work). The abandoned datagram leaves a tombstone
 *   until its timeout, so fragments of it still on the way are discarded too ("including
 *   those not yet received", RFC 5722 3). An exact duplicate (same offset and length) is not
 *   an overlap: it is dropped and the datagram goes on (RFC 8200 4.5 allows this).
 * - Malformed fragments ('fragment'): empty; a non-final fragment whose length is not a
 *   multiple of 8 (RFC 8200 4.5 asks for a Parameter Problem too; l4 only drops it);
 *   a datagram that would pass 65,535 bytes; a second, different end; data past the end. An
 *   inconsistent end abandons the datagram, the others only drop the fragment.
 * - Timeouts: 30 s for IPv4 (Linux's ipfrag_time; RFC 791 suggests 15 s as a lower bound),
 *   60 s for IPv6 (RFC 8200 4.5), counted from the first fragment that arrived. On timeout
 *   the datagram is discarded; when its first fragment (offset 0) had arrived, `expire`
 *   returns that fragment so the host can send ICMP time exceeded, fragment reassembly time
 *   exceeded (RFC 792, RFC 1122 3.3.2, RFC 8200 4.5).
 * - Memory: each fragment costs its data plus {@link FRAGMENT_OVERHEAD} (so 8-byte
 *   fragments cannot pin memory cheaply); the first fragment's header is charged too. A
 *   fragment that would pass the host bound (Linux's ipfrag_high_thresh, 4 MiB) is dropped;
 *   a datagram that would pass its own bound is abandoned. Tombstones cost the overhead.
 *
 * RFC 7112's requirement that the first IPv6 fragment hold the whole header chain is not
 * checked: the reassembled packet is parsed again, which refuses a broken chain.
 */
import type { Duration, Instant } from '../time/instant.js';
import { seconds } from '../time/instant.js';
import { internetChecksum } from '../wire/checksum.js';
import type { Ipv4Repr } from '../wire/ipv4.js';
import type { Ipv6Packet } from '../wire/ipv6.js';
import type { HostDropReason } from './stats.js';

/** Bytes charged per fragment besides its data: the bookkeeping a fragment costs. */
export const FRAGMENT_OVERHEAD = 32;

/** The bounds of reassembly. */
export interface ReassemblyLimits {
  /** Bytes all incomplete datagrams may hold together. */
  readonly hostBytes: number;
  /** Bytes one datagram may hold (data plus overheads). */
  readonly datagramBytes: number;
  /** How long an IPv4 datagram may take to complete, from its first fragment. */
  readonly ipv4Timeout: Duration;
  /** The same for IPv6. */
  readonly ipv6Timeout: Duration;
}

/**
 * l4's defaults: 4 MiB per host (Linux's net.ipv4.ipfrag_high_thresh), 128 KiB per datagram
 * (a 65,535-byte datagram in up to 2,048 fragments), 30 s for IPv4, 60 s for IPv6.
 */
export const REASSEMBLY_DEFAULTS: ReassemblyLimits = Object.freeze({
  hostBytes: 4 * 1024 * 1024,
  datagramBytes: 128 * 1024,
  ipv4Timeout: seconds(30),
  ipv6Timeout: seconds(60),
});

/** What became of a fragment. */
export type ReassemblyResult =
  /** Kept, waiting for the rest. */
  | { readonly status: 'held' }
  /** It completed a datagram: the whole IP packet, rebuilt without fragmentation. */
  | { readonly status: 'complete'; readonly packet: Uint8Array; readonly fragments: number }
  /**
   * Dropped for `reason`; `fragments` counts it and the held fragments that went with it;
   * `abandoned` is true when a datagram was given up (a reassembly failure).
   */
  | { readonly status: 'dropped'; readonly reason: HostDropReason; readonly fragments: number; readonly abandoned: boolean };

/** A datagram that was not complete in time. */
export interface ExpiredDatagram {
  readonly family: 4 | 6;
  /** Fragments freed (0 for a tombstone). */
  readonly fragments: number;
  /** False for the tombstone of a datagram already abandoned (nothing to report). */
  readonly live: boolean;
  /** The first fragment as it arrived (header and data), when it had arrived: what ICMP time exceeded quotes. */
  readonly firstFragment: Uint8Array | undefined;
}

interface Piece {
  readonly offset: number;
  readonly data: Uint8Array;
}

interface Pending {
  readonly family: 4 | 6;
  readonly deadline: Instant;
  readonly pieces: Piece[];
  /** Data bytes held. */
  received: number;
  /** Memory charged. */
  cost: number;
  /** The datagram's data length, once the last fragment told it. */
  total: number | undefined;
  /** The first fragment's bytes before its data (IPv4 header; IPv6 header, unfragmentable part and fragment header). */
  firstHeader: Uint8Array | undefined;
  /** IPv6: offset of the fragment header in `firstHeader`, and of the next-header byte that points at it. */
  fragmentHeaderAt: number;
  nextHeaderAt: number;
  /** Abandoned: later fragments are discarded until the deadline. */
  dead: boolean;
}

const MAX_DATAGRAM = 65535;
const DROPPED_FRAGMENT = (reason: HostDropReason): ReassemblyResult => ({ status: 'dropped', reason, fragments: 1, abandoned: false });
const HELD: ReassemblyResult = Object.freeze({ status: 'held' });

function key(src: Uint8Array, dst: Uint8Array, extra: number, identification: number): string {
  let s = '';
  for (let i = 0; i < src.length; i++) s += String.fromCharCode(src[i]!);
  for (let i = 0; i < dst.length; i++) s += String.fromCharCode(dst[i]!);
  return `${s}|${extra}|${identification}`;
}

/** Length of an IPv6 extension header of `type` with length byte `lengthField` (RFC 8200 4, RFC 4302 2.2 for AH). */
function extensionLength(type: number, lengthField: number): number {
  if (type === 44) return 8;
  if (type === 51) return (lengthField + 2) * 4;
  return (lengthField + 1) * 8;
}

/** Incomplete IPv4 and IPv6 datagrams of one host. */
export class Reassembler {
  readonly limits: ReassemblyLimits;
  /** In creation order, which is deadline order within a family (one timeout per family). */
  readonly #v4 = new Map<string, Pending>();
  readonly #v6 = new Map<string, Pending>();
  #bytes = 0;

  constructor(limits: ReassemblyLimits = REASSEMBLY_DEFAULTS) {
    this.limits = limits;
  }

  /** Memory charged right now (data, headers and overheads, tombstones included). */
  get bytesHeld(): number {
    return this.#bytes;
  }

  /** Datagrams being reassembled (tombstones included). */
  get pendingCount(): number {
    return this.#v4.size + this.#v6.size;
  }

  /** An IPv4 fragment for us (`ip.moreFragments` or a non-zero offset); `packet` is the whole datagram it came in. */
  ipv4(now: Instant, packet: Uint8Array, ip: Ipv4Repr): ReassemblyResult {
    const headerLength = ip.headerLength;
    const data = ip.payload;
    const offset = ip.fragmentOffset;
    if (data.length === 0) return DROPPED_FRAGMENT('fragment');
    if (ip.moreFragments && data.length % 8 !== 0) return DROPPED_FRAGMENT('fragment');
    if (headerLength + offset + data.length > MAX_DATAGRAM) return DROPPED_FRAGMENT('fragment');
    const k = key(ip.src, ip.dst, ip.protocol, ip.identification);
    return this.#add(this.#v4, 4, k, now, offset, data, ip.moreFragments,
      offset === 0 ? packet.subarray(0, headerLength) : undefined, 0, 0, headerLength);
  }

  /** An IPv6 packet with a fragment header that is not atomic (offset or M set). */
  ipv6(now: Instant, p: Ipv6Packet): ReassemblyResult {
    const f = p.fragment;
    const at = p.fragmentHeaderOffset;
    if (f === undefined || at < 0) return DROPPED_FRAGMENT('fragment');
    const b = p.bytes;
    const data = b.subarray(at + 8);
    if (data.length === 0) return DROPPED_FRAGMENT('fragment');
    // RFC 8200 4.5: "If the length of a fragment, as derived from the fragment packet's Payload
    // Length field, is not a multiple of 8 octets and the M flag of that fragment is 1, then
    // that fragment must be discarded". "If the length and offset of a fragment are such that
    // the Payload Length of the packet reassembled from that fragment would exceed 65,535
    // octets, then that fragment must be discarded".
    if (f.moreFragments && data.length % 8 !== 0) return DROPPED_FRAGMENT('fragment');
    if ((at - 40) + f.offset + data.length > MAX_DATAGRAM) return DROPPED_FRAGMENT('fragment');
    let nextHeaderAt = 6;
    if (f.offset === 0) {
      // The byte that names the fragment header: the fixed header's, or the last unfragmentable header's.
      let type = b[6]!;
      let off = 40;
      while (off < at) {
        nextHeaderAt = off;
        const length = extensionLength(type, b[off + 1]!);
        type = b[off]!;
        off += length;
      }
    }
    const k = key(p.src, p.dst, 0, f.identification);
    return this.#add(this.#v6, 6, k, now, f.offset, data, f.moreFragments,
      f.offset === 0 ? b.subarray(0, at + 8) : undefined, at, nextHeaderAt, at + 8);
  }

  #add(
    map: Map<string, Pending>, family: 4 | 6, k: string, now: Instant, offset: number, data: Uint8Array, more: boolean,
    firstHeader: Uint8Array | undefined, fragmentHeaderAt: number, nextHeaderAt: number, headerBytes: number,
  ): ReassemblyResult {
    let d = map.get(k);
    if (d !== undefined && d.dead) return DROPPED_FRAGMENT('fragment-overlap');
    const charge = data.length + FRAGMENT_OVERHEAD + (firstHeader !== undefined ? headerBytes : 0);
    if (d === undefined) {
      if (this.#bytes + charge > this.limits.hostBytes) return DROPPED_FRAGMENT('reassembly-memory');
      const timeout = family === 4 ? this.limits.ipv4Timeout : this.limits.ipv6Timeout;
      d = {
        family, deadline: now + timeout, pieces: [], received: 0, cost: 0, total: undefined,
        firstHeader: undefined, fragmentHeaderAt: 0, nextHeaderAt: 0, dead: false,
      };
      map.set(k, d);
    } else if (this.#bytes + charge > this.limits.hostBytes) {
      return DROPPED_FRAGMENT('reassembly-memory');
    }
    const end = offset + data.length;
    // The end of the datagram: fixed by the last fragment, never contradicted.
    if (!more) {
      if ((d.total !== undefined && d.total !== end) || (d.pieces.length > 0 && d.pieces[d.pieces.length - 1]!.offset + d.pieces[d.pieces.length - 1]!.data.length > end)) {
        return this.#abandon(d, 'fragment');
      }
    } else if (d.total !== undefined && end > d.total) {
      return this.#abandon(d, 'fragment');
    }
    // Where it goes among the sorted pieces; an exact duplicate is dropped, any other overlap abandons.
    const pieces = d.pieces;
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pieces[mid]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    const next = pieces[lo];
    if (next !== undefined && next.offset === offset && next.data.length === data.length) {
      return DROPPED_FRAGMENT('fragment-duplicate');
    }
    const prev = lo > 0 ? pieces[lo - 1] : undefined;
    if ((prev !== undefined && prev.offset + prev.data.length > offset) || (next !== undefined && next.offset < end)) {
      return this.#abandon(d, 'fragment-overlap');
    }
    if (d.cost + charge > this.limits.datagramBytes) return this.#abandon(d, 'reassembly-memory');
    pieces.splice(lo, 0, { offset, data: data.slice() });
    d.received += data.length;
    d.cost += charge;
    this.#bytes += charge;
    if (!more) d.total = end;
    if (firstHeader !== undefined) {
      d.firstHeader = firstHeader.slice();
      d.fragmentHeaderAt = fragmentHeaderAt;
      d.nextHeaderAt = nextHeaderAt;
    }
    if (d.total === undefined || d.received !== d.total || d.firstHeader === undefined) return HELD;
    map.delete(k);
    this.#bytes -= d.cost;
    const packet = family === 4 ? rebuildIpv4(d) : rebuildIpv6(d);
    return { status: 'complete', packet, fragments: pieces.length };
  }

  /** Gives a datagram up: its fragments are freed, a tombstone stays until the deadline. */
  #abandon(d: Pending, reason: HostDropReason): ReassemblyResult {
    const fragments = d.pieces.length + 1;
    this.#bytes -= d.cost;
    d.pieces.length = 0;
    d.received = 0;
    d.firstHeader = undefined;
    d.dead = true;
    d.cost = FRAGMENT_OVERHEAD;
    this.#bytes += d.cost;
    return { status: 'dropped', reason, fragments, abandoned: true };
  }

  /** The earliest deadline, or undefined when nothing is pending. */
  pollTimeout(): Instant | undefined {
    const a = first(this.#v4)?.deadline;
    const b = first(this.#v6)?.deadline;
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Removes every datagram whose deadline is at or before `now` and says what they were. */
  expire(now: Instant): ExpiredDatagram[] {
    const out: ExpiredDatagram[] = [];
    for (const map of [this.#v4, this.#v6]) {
      for (const [k, d] of map) {
        if (d.deadline > now) break;
        map.delete(k);
        this.#bytes -= d.cost;
        let firstFragment: Uint8Array | undefined;
        const head = d.pieces[0];
        if (!d.dead && d.firstHeader !== undefined && head !== undefined && head.offset === 0) {
          firstFragment = new Uint8Array(d.firstHeader.length + head.data.length);
          firstFragment.set(d.firstHeader);
          firstFragment.set(head.data, d.firstHeader.length);
        }
        out.push({ family: d.family, fragments: d.pieces.length, live: !d.dead, firstFragment });
      }
    }
    return out;
  }
}

function first(map: Map<string, Pending>): Pending | undefined {
  for (const d of map.values()) return d;
  return undefined;
}

function concat(into: Uint8Array, at: number, pieces: readonly Piece[]): void {
  for (const p of pieces) into.set(p.data, at + p.offset);
}

/** The first fragment's header with the fragment fields cleared (DF kept), the total length and checksum fixed, then the data. */
function rebuildIpv4(d: Pending): Uint8Array {
  const header = d.firstHeader!;
  const total = d.total!;
  const out = new Uint8Array(header.length + total);
  out.set(header);
  const length = header.length + total;
  out[2] = length >>> 8;
  out[3] = length & 0xff;
  out[6] = out[6]! & 0x40;
  out[7] = 0;
  out[10] = 0;
  out[11] = 0;
  const c = internetChecksum(out, 0, header.length);
  out[10] = c >>> 8;
  out[11] = c & 0xff;
  concat(out, header.length, d.pieces);
  return out;
}

/**
 * RFC 8200 4.5: "The reassembled original packet is constructed only from fragments that have
 * the same Fragment Identification, Source Address, and Destination Address": the
 * unfragmentable part of the first fragment, with "the Next Header field of the last header
 * of the Per-Fragment headers ... obtained from the Next Header field of the first fragment's
 * Fragment header", then the fragmentable part.
 */
function rebuildIpv6(d: Pending): Uint8Array {
  const header = d.firstHeader!;
  const at = d.fragmentHeaderAt;
  const total = d.total!;
  const out = new Uint8Array(at + total);
  out.set(header.subarray(0, at));
  out[d.nextHeaderAt] = header[at]!;
  const payloadLength = at - 40 + total;
  out[4] = payloadLength >>> 8;
  out[5] = payloadLength & 0xff;
  concat(out, at, d.pieces);
  return out;
}
