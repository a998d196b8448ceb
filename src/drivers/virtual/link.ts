/**
 * Point-to-point links of the virtual network. A `VirtualLink` joins an interface of one node
 * to an interface of another and is full duplex: two independent `LinkDirection`s, each with
 * its own transmitter, queue, impairments, random generator and counters.
 *
 * Contract of a direction: `send(now, packet)` is called by the network when the sending
 * node's `pollTransmit` hands it a packet for this interface. It applies the fault model of
 * `impairments.ts` and, for every copy that survives, asks the network to deliver it at its
 * arrival instant; the network then calls `arrive` and the receiving node's `handle`.
 * Packets are not copied, except when corrupted or duplicated (the copy is then made), so a
 * node must not reuse a buffer it has handed over (the `Transmit` contract says it won't).
 *
 * A link may be declared trusted (`VirtualLink.trust`, or `trusted: true` when it is made):
 * it then never corrupts, and the hosts at its ends skip the checksums of what crosses it
 * (smoltcp's checksum capabilities; see `core/interfaces.ts`). Trust and corruption exclude
 * each other, in whichever order they are asked for: a RangeError says so.
 */
import { Stack } from '../../api/stack.js';
import { Host } from '../../core/host.js';
import type { NetworkNode } from '../../core/node.js';
import type { Instant } from '../../time/instant.js';
import type { Rng } from '../../time/rng.js';
import type { Impairments, LinkOptions } from './impairments.js';
import { corruptCopy, drawJitter, resolveImpairments } from './impairments.js';
import type { Tap } from './tap.js';
import { captureAll } from './tap.js';

/** A node as the network knows it: its name, the node, and its capture points. */
export interface NodeSlot {
  readonly name: string;
  readonly node: NetworkNode;
  /** Taps on everything the node sends (on any interface). */
  readonly txTaps: Tap[];
  /** Taps on everything delivered to the node. */
  readonly rxTaps: Tap[];
}

/** Where the network keeps packets in flight (its event queue). */
export interface PacketScheduler {
  /** Deliver `packet` over `direction` at `time` (FIFO among equal times). */
  schedule(time: Instant, direction: LinkDirection, packet: Uint8Array): void;
}

/** A count of packets and of their bytes. */
export interface PacketCount {
  packets: number;
  bytes: number;
}

/** Counters of one link direction: the simulator's and the tests' view of what the wire did. */
export interface LinkStats {
  /** Everything the sending node handed to this direction. */
  readonly offered: PacketCount;
  /** Everything handed to the receiving node (duplicates included). */
  readonly delivered: PacketCount;
  /** Packets dropped, by reason (see `impairments.ts` for where each applies). */
  readonly dropped: { loss: number; queueFull: number; mtu: number };
  /** Extra copies delivered. */
  duplicated: number;
  /** Packets held back by the reorder delay. */
  reordered: number;
  /** Copies delivered with flipped bits (originals and duplicates). */
  corrupted: number;
  /** Most packets and bytes ever waiting in the transmit queue at once. */
  readonly peakQueue: PacketCount;
}

function newLinkStats(): LinkStats {
  return {
    offered: { packets: 0, bytes: 0 },
    delivered: { packets: 0, bytes: 0 },
    dropped: { loss: 0, queueFull: 0, mtu: 0 },
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    peakQueue: { packets: 0, bytes: 0 },
  };
}

/** Floating error tolerated on serialization instants, µs (a picosecond). */
const EPSILON = 1e-6;

/** One direction of a link: a transmitter, its queue and the faults on the way. */
export class LinkDirection {
  /** `from:iface -> to:iface`, also the label its random generator is derived from. */
  readonly name: string;
  readonly from: NodeSlot;
  readonly fromIface: string;
  readonly to: NodeSlot;
  readonly toIface: string;
  readonly stats: LinkStats = newLinkStats();
  /** Taps at the sender side and at the receiver side (see `tap.ts`). */
  readonly txTaps: Tap[] = [];
  readonly rxTaps: Tap[] = [];

  #impairments: Impairments;
  #trusted = false;
  readonly #rng: Rng;
  readonly #scheduler: PacketScheduler;
  /** When the transmitter finishes the last accepted packet, fractional µs. */
  #busyUntil = 0;
  /** The latest arrival instant of an in-order packet: jitter never goes below it. */
  #lastArrival = 0;
  /** Start instants and sizes of the packets waiting in the transmit queue (a FIFO deque). */
  #waitStarts: number[] = [];
  #waitSizes: number[] = [];
  #waitHead = 0;
  #waitBytes = 0;

  /** Made by the network (`VirtualNetwork.link` / `attach`). */
  constructor(from: NodeSlot, fromIface: string, to: NodeSlot, toIface: string, options: LinkOptions, rng: Rng, scheduler: PacketScheduler) {
    this.name = `${from.name}:${fromIface} -> ${to.name}:${toIface}`;
    this.from = from;
    this.fromIface = fromIface;
    this.to = to;
    this.toIface = toIface;
    this.#impairments = resolveImpairments(options);
    this.#rng = rng;
    this.#scheduler = scheduler;
  }

  /** The resolved options in force. */
  get impairments(): Impairments {
    return this.#impairments;
  }

  /** Replaces the options (validated); packets already in flight keep their fate. A trusted direction refuses corruption. */
  configure(options: LinkOptions): void {
    const impairments = resolveImpairments(options);
    if (this.#trusted && impairments.corrupt > 0) throw new RangeError(corruptTrusted(this.name));
    this.#impairments = impairments;
  }

  /** The link is trusted: its hosts skip checksums, it never corrupts, and taps fill the checksums in (see `VirtualLink.trust`). */
  get trusted(): boolean {
    return this.#trusted;
  }

  /** @internal Made trusted by `VirtualLink.trust`, which checked the corruption first. */
  markTrusted(): void {
    if (this.#impairments.corrupt > 0) throw new RangeError(corruptTrusted(this.name));
    this.#trusted = true;
  }

  /** The instant (fractional µs) at which the transmitter will have sent everything accepted. */
  get busyUntil(): number {
    return this.#busyUntil;
  }

  /** Packets waiting in the transmit queue at `now` (not counting the one being serialized). */
  queuedPackets(now: Instant): number {
    this.#releaseStarted(now);
    return this.#waitStarts.length - this.#waitHead;
  }

  /** The sending node handed over `packet` at `now`: apply the fault model, schedule what survives. */
  send(now: Instant, packet: Uint8Array): void {
    const imp = this.#impairments;
    const stats = this.stats;
    const size = packet.length;
    stats.offered.packets++;
    stats.offered.bytes += size;
    if (this.txTaps.length > 0) captureAll(this.txTaps, now, packet, this.#trusted);

    if (size > imp.mtu) {
      stats.dropped.mtu++;
      return;
    }

    let departure: number = now;
    if (imp.microsPerByte > 0) {
      const start = this.#busyUntil > now ? this.#busyUntil : now;
      if (start > now) {
        // The transmitter is busy: the packet must wait, if the queue has room.
        this.#releaseStarted(now);
        const waiting = this.#waitStarts.length - this.#waitHead;
        if (waiting + 1 > imp.queuePackets || this.#waitBytes + size > imp.queueBytes) {
          stats.dropped.queueFull++;
          return;
        }
        this.#waitStarts.push(start);
        this.#waitSizes.push(size);
        this.#waitBytes += size;
        if (waiting + 1 > stats.peakQueue.packets) stats.peakQueue.packets = waiting + 1;
        if (this.#waitBytes > stats.peakQueue.bytes) stats.peakQueue.bytes = this.#waitBytes;
      }
      let end = start + size * imp.microsPerByte;
      const whole = Math.round(end);
      if (Math.abs(end - whole) < EPSILON) end = whole; // keep exact rates exact
      this.#busyUntil = end;
      departure = end;
    }

    const rng = this.#rng;
    if (imp.loss > 0 && rng.chance(imp.loss)) {
      stats.dropped.loss++;
      return;
    }
    let out = packet;
    if (imp.corrupt > 0 && rng.chance(imp.corrupt)) {
      out = corruptCopy(rng, packet);
      stats.corrupted++;
    }
    let copy: Uint8Array | undefined;
    if (imp.duplicate > 0 && rng.chance(imp.duplicate)) {
      // A copy, not the same buffer: the receiver may write into what it was handed.
      if (imp.corrupt > 0 && rng.chance(imp.corrupt)) {
        copy = corruptCopy(rng, packet);
        stats.corrupted++;
      } else {
        copy = packet.slice();
      }
      stats.duplicated++;
    }

    let flight = imp.delay + drawJitter(rng, imp.jitter);
    if (flight < 0) flight = 0;
    let arrival = Math.ceil(departure + flight - EPSILON);
    if (imp.reorder > 0 && rng.chance(imp.reorder)) {
      arrival += imp.reorderDelay; // out of the FIFO: later packets may overtake it
      stats.reordered++;
    } else {
      if (arrival < this.#lastArrival) arrival = this.#lastArrival;
      this.#lastArrival = arrival;
    }
    this.#scheduler.schedule(arrival, this, out);
    if (copy !== undefined) this.#scheduler.schedule(arrival, this, copy);
  }

  /** The network is about to hand `packet` to the receiving node: count and capture it. */
  arrive(now: Instant, packet: Uint8Array): void {
    this.stats.delivered.packets++;
    this.stats.delivered.bytes += packet.length;
    if (this.rxTaps.length > 0) captureAll(this.rxTaps, now, packet, this.#trusted);
  }

  /** Forgets queued packets whose serialization has started by `now`. */
  #releaseStarted(now: Instant): void {
    const starts = this.#waitStarts;
    let head = this.#waitHead;
    while (head < starts.length && starts[head]! <= now + EPSILON) {
      this.#waitBytes -= this.#waitSizes[head]!;
      head++;
    }
    if (head === starts.length) {
      starts.length = 0;
      this.#waitSizes.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > starts.length) {
      starts.splice(0, head);
      this.#waitSizes.splice(0, head);
      head = 0;
    }
    this.#waitHead = head;
  }
}

/** Per-direction options of a link: shared options, overridden per direction. */
export interface LinkSpec extends LinkOptions {
  /** Options of the direction from the first node to the second, over the shared ones. */
  readonly aToB?: LinkOptions;
  /** Options of the direction from the second node to the first, over the shared ones. */
  readonly bToA?: LinkOptions;
  /**
   * Declare the link trusted as it is made (`VirtualLink.trust`): both ends must be hosts and
   * neither direction may corrupt. Default false. Only `VirtualNetwork.link` reads it.
   */
  readonly trusted?: boolean;
}

/** Splits a `LinkSpec` into the options of each direction (`trusted` belongs to the link, not to a direction). */
export function directionOptions(spec: LinkSpec = {}): { aToB: LinkOptions; bToA: LinkOptions } {
  const { aToB, bToA, trusted: _trusted, ...shared } = spec;
  return { aToB: { ...shared, ...aToB }, bToA: { ...shared, ...bToA } };
}

function corruptTrusted(name: string): string {
  return `link ${name}: a trusted link cannot corrupt packets (its hosts skip the checksums that would catch it); leave out corrupt, or do not trust the link`;
}

/** The core host behind a node: a `Host` itself, or the one a `Stack` wraps; undefined for anything else (a switch). */
function hostOf(node: NetworkNode): Host | undefined {
  if (node instanceof Host) return node;
  if (node instanceof Stack) return node.host;
  return undefined;
}

/** Counters of both directions of a link. */
export interface LinkPairStats {
  readonly aToB: LinkStats;
  readonly bToA: LinkStats;
}

/** A full-duplex point-to-point link: two directions. */
export class VirtualLink {
  readonly aToB: LinkDirection;
  readonly bToA: LinkDirection;

  /** Made by the network. */
  constructor(aToB: LinkDirection, bToA: LinkDirection) {
    this.aToB = aToB;
    this.bToA = bToA;
  }

  /** `a:iface <-> b:iface`. */
  get name(): string {
    return `${this.aToB.from.name}:${this.aToB.fromIface} <-> ${this.aToB.to.name}:${this.aToB.toIface}`;
  }

  /** Counters of both directions. */
  get stats(): LinkPairStats {
    return { aToB: this.aToB.stats, bToA: this.bToA.stats };
  }

  /** The direction leaving `node` (given as the node or its name). Throws if it is neither end. */
  from(node: NetworkNode | string): LinkDirection {
    for (const d of [this.aToB, this.bToA]) {
      if (d.from.node === node || d.from.name === node) return d;
    }
    throw new Error(`${typeof node === 'string' ? node : 'that node'} is not an end of link ${this.name}`);
  }

  /** True once the link is trusted (`trust`). */
  get trusted(): boolean {
    return this.aToB.trusted;
  }

  /**
   * Declares the link trusted: the virtual wire delivers every packet bit for bit (it can
   * only flip bits when told to corrupt), so the hosts at both ends may skip computing and
   * verifying the IPv4 header, TCP, UDP and ICMP checksums on the interfaces it joins
   * (`Host.setInterfaceChecksums(iface, 'trusted')`, as a smoltcp device declares its
   * `ChecksumCapabilities`). Taps on the link, or on its nodes, still write valid checksums:
   * they fill them in a copy. A trusted link stays trusted (there is no way back: packets in
   * flight carry no checksums), and refuses corruption from then on (`configure` throws).
   * Throws a RangeError, changing nothing, when a direction corrupts packets (checksums are
   * what catch corruption), or when an end is not a host (a switch would forward the
   * packets onto links that may not be trusted). Packets already in flight were sent with
   * checksums, which a trusting host simply does not look at.
   */
  trust(): void {
    if (this.trusted) return;
    for (const d of [this.aToB, this.bToA]) if (d.impairments.corrupt > 0) throw new RangeError(corruptTrusted(d.name));
    const ends = [this.aToB, this.bToA].map((d) => ({ host: hostOf(d.from.node), iface: d.fromIface, name: d.from.name }));
    for (const end of ends) {
      if (end.host === undefined) throw new RangeError(`link ${this.name}: ${end.name} is not a host; only a link between two hosts can be trusted`);
    }
    const done: typeof ends = [];
    try {
      for (const end of ends) {
        end.host!.setInterfaceChecksums(end.iface, 'trusted');
        done.push(end);
      }
    } catch (error) {
      for (const end of done) end.host!.setInterfaceChecksums(end.iface, 'verified');
      throw error;
    }
    this.aToB.markTrusted();
    this.bToA.markTrusted();
  }

  /**
   * Replaces the options of both directions (per-direction overrides allowed). Trust is not
   * an option here (see `trust`); a trusted link refuses corruption, checked on both
   * directions before either changes.
   */
  configure(spec: LinkSpec): void {
    const { aToB, bToA } = directionOptions(spec);
    if (this.trusted) {
      for (const [d, o] of [[this.aToB, aToB], [this.bToA, bToA]] as const) {
        if (resolveImpairments(o).corrupt > 0) throw new RangeError(corruptTrusted(d.name));
      }
    }
    this.aToB.configure(aToB);
    this.bToA.configure(bToA);
  }
}
