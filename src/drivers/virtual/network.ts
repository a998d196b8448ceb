/**
 * The virtual network: l4's default driver, where nodes talk to each other in memory with
 * no root and no setup. It owns the clock, the links and the event queue, and drives every
 * node through the `NetworkNode` calls in the order `core/node.ts` prescribes.
 *
 * Virtual time: `now` is an integer count of µs from 0. One *round* at an instant:
 *
 * 1. every packet due at or before `now` arrives: `node.handle(now, packet, iface)`, in
 *    (arrival time, send order) order;
 * 2. every node whose `pollTimeout()` is at or before `now` gets `handleTimeout(now)`;
 *    then every application timer due (`runtime(node).setTimer`) fires;
 * 3. every node is drained: `pollTransmit(now)` until undefined, each packet sent on the
 *    link of its interface (a packet for an interface with no link is counted as
 *    `stats.unattached` and dropped).
 *
 * `step()` runs one round at the next instant: the earliest of the next arrival and every
 * node's `pollTimeout()` and application timer (or the current instant again if a node was woken, or a timer or
 * packet is already due). A packet sent over a link with no delay and no bandwidth limit
 * arrives at the same instant, in the next round: a round always ends, and a ping-pong at
 * one instant is a sequence of steps a step limit can stop. Nodes are visited in the order
 * they were added; ties in the event queue go in send order; every random draw comes from
 * a per-link-direction generator derived from the seed and the direction's name. So the
 * same seed and the same topology give the same run, instant for instant.
 *
 * Application code outside the nodes (the `net` API) calls `runtime(node).wake()` after it
 * made packets ready; the next round then comes at the current instant. `run()` is the
 * loop for such code: it yields to the JavaScript event loop after every round. Real time
 * is the same engine with a clock attached: see `real-time.ts`.
 */
import type { NetworkNode, Transmit } from '../../core/node.js';
import type { Duration, Instant } from '../../time/instant.js';
import { Rng } from '../../time/rng.js';
import { EventQueue } from './event-queue.js';
import type { LinkSpec, NodeSlot, PacketScheduler } from './link.js';
import { directionOptions, LinkDirection, VirtualLink } from './link.js';
import { VirtualSwitch } from './switch.js';
import type { PacketWriter, TapOptions } from './tap.js';
import { captureAll, Tap } from './tap.js';

/** Options of a network. */
export interface NetworkOptions {
  /** Seed of every random draw on the links. Default 1. */
  readonly seed?: number;
  /** Timestamp of instant 0 in taps, ns since the Unix epoch. Default 0 (1970-01-01). */
  readonly epochNanos?: bigint;
}

/** A node, by object or by the name it was added under. */
export type NodeRef = NetworkNode | string;

/** What a tap can be put on. */
export type TapTarget = VirtualLink | LinkDirection | NodeRef;

/**
 * What the API layer needs from its driver (`api/runtime.ts` declares the same shape): the
 * current instant, a way to say that an application call made packets ready (the driver
 * then drains the node at once), and application timers on the same clock.
 */
export interface NodeRuntime {
  /** The current instant on the network's clock (virtual, or real with a clock attached). */
  now(): Instant;
  /** Application calls made packets ready or changed timers: run a round at the current instant. */
  wake(): void;
  /** Calls `callback` in the first round at or after `at`; returns a function that cancels it. */
  setTimer(at: Instant, callback: () => void): () => void;
}

/** An application timer (see `NodeRuntime.setTimer`). */
interface AppTimer {
  readonly callback: () => void;
  cancelled: boolean;
}

/** An outside owner of time (the real-time driver): the network asks it, and tells it of wakes. */
export interface NetworkClock {
  /** The current instant on this clock, µs, never less than the network's `now`. */
  now(): Instant;
  /** A node was woken: run a round soon. */
  wake(): void;
}

/** Bounds of `runUntil`. */
export interface RunLimit {
  /** Do not run a round at an instant after this one; the clock is advanced to it. */
  readonly time?: Instant;
  /** Run at most this many rounds. */
  readonly steps?: number;
}

/** Options of `run`. */
export interface RunOptions {
  /** Stop as soon as this holds (checked before every round and after every yield). */
  readonly until?: () => boolean;
  /** Do not run a round after this instant. */
  readonly time?: Instant;
  /** Do not run a round after `now + duration` (ignored when `time` is given). */
  readonly duration?: Duration;
  /** Run at most this many rounds. */
  readonly steps?: number;
  /** Consecutive yields with nothing pending after which the run stops as idle. Default 10. */
  readonly idleYields?: number;
  /**
   * Once idle, wait this many real milliseconds once more before stopping (default 0: don't).
   * For applications that wait on the thread pool (zlib, fs), which a few event-loop turns
   * may not cover. Virtual time does not move meanwhile.
   */
  readonly idleWaitMs?: number;
}

/** Why `run` stopped: the predicate held, nothing was left to do, or a limit was reached. */
export type RunOutcome = 'until' | 'idle' | 'time' | 'steps';

/** Counters of the whole network. */
export interface NetworkStats {
  /** Rounds run. */
  rounds: number;
  /** Packets handed to nodes. */
  delivered: number;
  /** Packets taken from nodes' `pollTransmit`. */
  transmitted: number;
  /** `handleTimeout` calls. */
  timeouts: number;
  /** Application timers fired. */
  appTimers: number;
  /** Packets sent on an interface with no link (dropped). */
  unattached: number;
}

/** A node and its interfaces, as the network keeps them. */
class NodeEntry implements NodeSlot {
  readonly name: string;
  readonly node: NetworkNode;
  readonly txTaps: Tap[] = [];
  readonly rxTaps: Tap[] = [];
  /** Interface name -> the link direction leaving through it. */
  readonly ifaces = new Map<string, LinkDirection>();
  runtime: NodeRuntime | undefined;

  constructor(name: string, node: NetworkNode) {
    this.name = name;
    this.node = node;
  }
}

/** FNV-1a over the UTF-16 code units of `text`: a stable 32-bit name hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function discard(): void {
  // Dropping a cancelled timer.
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Nodes, links and the virtual clock (see the module doc). */
export class VirtualNetwork implements PacketScheduler {
  readonly seed: number;
  readonly epochNanos: bigint;
  readonly stats: NetworkStats = { rounds: 0, delivered: 0, transmitted: 0, timeouts: 0, appTimers: 0, unattached: 0 };

  #now: Instant = 0;
  readonly #queue = new EventQueue<LinkDirection, Uint8Array>();
  readonly #timers = new EventQueue<AppTimer, undefined>();
  readonly #entries: NodeEntry[] = [];
  readonly #byName = new Map<string, NodeEntry>();
  readonly #byNode = new Map<NetworkNode, NodeEntry>();
  readonly #links: VirtualLink[] = [];
  /** A node was woken since the last round began: the next round is at `now`. */
  #woken = false;
  #clock: NetworkClock | undefined;
  /** The event queue's visitor, made once (no closure per packet). */
  readonly #deliver = (direction: LinkDirection, packet: Uint8Array): void => {
    const now = this.#now;
    direction.arrive(now, packet);
    const to = direction.to;
    if (to.rxTaps.length > 0) captureAll(to.rxTaps, now, packet, direction.trusted);
    this.stats.delivered++;
    to.node.handle(now, packet, direction.toIface);
  };

  constructor(options: NetworkOptions = {}) {
    this.seed = options.seed ?? 1;
    this.epochNanos = options.epochNanos ?? 0n;
  }

  /** The current instant, µs (virtual time unless a real-time clock is attached). */
  get now(): Instant {
    return this.#now;
  }

  /** Packets in flight on all links. */
  get inFlight(): number {
    return this.#queue.size;
  }

  /** Adds a node under a unique name; returns it. */
  addNode<T extends NetworkNode>(name: string, node: T): T {
    if (this.#byName.has(name)) throw new Error(`a node named ${JSON.stringify(name)} is already in the network`);
    if (this.#byNode.has(node)) throw new Error(`that node is already in the network as ${JSON.stringify(this.#byNode.get(node)!.name)}`);
    const entry = new NodeEntry(name, node);
    this.#entries.push(entry);
    this.#byName.set(name, entry);
    this.#byNode.set(node, entry);
    return node;
  }

  /** The node added under `name`, if any. */
  node(name: string): NetworkNode | undefined {
    return this.#byName.get(name)?.node;
  }

  /** The name a node was added under. Throws for a node not in the network. */
  nameOf(node: NodeRef): string {
    return this.#entry(node).name;
  }

  /** Names of the nodes, in the order they were added. */
  get nodeNames(): string[] {
    return this.#entries.map((e) => e.name);
  }

  /** Every link, in the order made. */
  get links(): readonly VirtualLink[] {
    return this.#links;
  }

  /**
   * Joins `ifaceA` of `a` and `ifaceB` of `b` with a full-duplex link. The options apply to
   * both directions, overridden by `options.aToB` / `options.bToA`; `trusted: true` declares
   * the link trusted (`VirtualLink.trust`: the hosts skip checksums on it). Throws when a node
   * is unknown or an interface already has a link, and (a RangeError) when a trusted link
   * would corrupt or has an end that is not a host.
   */
  link(a: NodeRef, ifaceA: string, b: NodeRef, ifaceB: string, options: LinkSpec = {}): VirtualLink {
    const ea = this.#entry(a);
    const eb = this.#entry(b);
    if (ea.ifaces.has(ifaceA)) throw new Error(`${ea.name}:${ifaceA} already has a link`);
    if (eb.ifaces.has(ifaceB)) throw new Error(`${eb.name}:${ifaceB} already has a link`);
    if (ea === eb && ifaceA === ifaceB) throw new Error(`cannot link ${ea.name}:${ifaceA} to itself`);
    const { aToB, bToA } = directionOptions(options);
    const forward = new LinkDirection(ea, ifaceA, eb, ifaceB, aToB, this.#rngFor(`${ea.name}:${ifaceA} -> ${eb.name}:${ifaceB}`), this);
    const backward = new LinkDirection(eb, ifaceB, ea, ifaceA, bToA, this.#rngFor(`${eb.name}:${ifaceB} -> ${ea.name}:${ifaceA}`), this);
    const link = new VirtualLink(forward, backward);
    // Before the link is filed: a link that cannot be trusted leaves the network unchanged.
    if (options.trusted === true) link.trust();
    ea.ifaces.set(ifaceA, forward);
    eb.ifaces.set(ifaceB, backward);
    this.#links.push(link);
    return link;
  }

  /** Adds a learning switch (a node named `name`) for several nodes on one segment. */
  switch(name: string): VirtualSwitch {
    return this.addNode(name, new VirtualSwitch(name));
  }

  /**
   * Joins `iface` of `node` to a new port of `sw` with a link whose `aToB` direction goes
   * from the node to the switch. Returns the link.
   */
  attach(sw: VirtualSwitch | string, node: NodeRef, iface: string, options: LinkSpec = {}): VirtualLink {
    const s = typeof sw === 'string' ? this.#byName.get(sw)?.node : sw;
    if (!(s instanceof VirtualSwitch) || !this.#byNode.has(s)) throw new Error(`${typeof sw === 'string' ? sw : sw.name} is not a switch of this network`);
    this.#entry(node); // fail before opening a port
    return this.link(node, iface, s, s.addPort(), options);
  }

  /**
   * Starts capturing on a link (both directions), one link direction, or a node (everything
   * it sends and receives) to `writer`. See `tap.ts` for the capture points; returns the tap
   * (`remove()` stops it; the writer stays the caller's to close).
   */
  tap(target: TapTarget, writer: PacketWriter, options: TapOptions = {}): Tap {
    const epoch = options.epochNanos ?? this.epochNanos;
    if (target instanceof VirtualLink || target instanceof LinkDirection) {
      const side = options.side ?? 'rx';
      const tap = new Tap(writer, side, epoch);
      const directions = target instanceof VirtualLink ? [target.aToB, target.bToA] : [target];
      for (const d of directions) {
        if (side !== 'rx') tap.attachTo(d.txTaps);
        if (side !== 'tx') tap.attachTo(d.rxTaps);
      }
      return tap;
    }
    const entry = this.#entry(target);
    const side = options.side ?? 'both';
    const tap = new Tap(writer, side, epoch);
    if (side !== 'rx') tap.attachTo(entry.txTaps);
    if (side !== 'tx') tap.attachTo(entry.rxTaps);
    return tap;
  }

  /** Says that application calls made packets ready on `node`: the next round comes at the current instant. */
  wake(node?: NodeRef): void {
    if (node !== undefined) this.#entry(node);
    this.#woken = true;
    this.#clock?.wake();
  }

  /** The runtime the API layer uses for `node`: the current instant, and `wake`. */
  runtime(node: NodeRef): NodeRuntime {
    const entry = this.#entry(node);
    if (entry.runtime === undefined) {
      entry.runtime = {
        now: () => (this.#clock !== undefined ? this.#clock.now() : this.#now),
        wake: () => {
          this.#woken = true;
          this.#clock?.wake();
        },
        setTimer: (at, callback) => this.setTimer(at, callback),
      };
    }
    return entry.runtime;
  }

  /**
   * An application timer on the network's clock: `callback` runs in the first round at or
   * after `at`, after the nodes' own timers and before they are drained (so packets it
   * makes ready leave in that round). Returns a function that cancels it.
   */
  setTimer(at: Instant, callback: () => void): () => void {
    const timer: AppTimer = { callback, cancelled: false };
    this.#timers.push(at, timer, undefined);
    this.#clock?.wake(); // a real-time driver must re-arm for an earlier deadline
    return () => { timer.cancelled = true; };
  }

  /** `PacketScheduler`: a link direction schedules a packet's arrival. */
  schedule(time: Instant, direction: LinkDirection, packet: Uint8Array): void {
    this.#queue.push(time, direction, packet);
  }

  /**
   * The instant of the next round: `now` if a node was woken, else the earliest of the next
   * arrival, the next application timer and every node's `pollTimeout()` (never before
   * `now`); undefined when there is nothing left to do.
   */
  nextInstant(): Instant | undefined {
    if (this.#woken) return this.#now;
    let next = this.#queue.peekTime();
    const timer = this.#nextTimer();
    if (timer !== undefined && (next === undefined || timer < next)) next = timer;
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const deadline = entries[i]!.node.pollTimeout();
      if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline;
    }
    if (next !== undefined && next < this.#now) next = this.#now;
    return next;
  }

  /** Runs one round at the next instant. False (and nothing done) when nothing is left to do. */
  step(): boolean {
    this.#virtualOnly('step');
    const next = this.nextInstant();
    if (next === undefined) return false;
    this.#round(next);
    return true;
  }

  /**
   * Runs rounds until `predicate()` holds (checked before each round): true then. False when
   * nothing is left to do, or a limit would be passed (with `limit.time`, the clock is
   * advanced to it). Without limits, a network that never goes quiet runs for ever.
   */
  runUntil(predicate: () => boolean, limit: RunLimit = {}): boolean {
    this.#virtualOnly('runUntil');
    let steps = 0;
    for (;;) {
      if (predicate()) return true;
      if (limit.steps !== undefined && steps >= limit.steps) return false;
      const next = this.nextInstant();
      if (next === undefined) return false;
      if (limit.time !== undefined && next > limit.time) {
        if (limit.time > this.#now) this.#now = limit.time;
        return false;
      }
      this.#round(next);
      steps++;
    }
  }

  /** Runs every round up to `now + duration`, then sets the clock there. */
  runFor(duration: Duration): void {
    this.#virtualOnly('runFor');
    const end = this.#now + duration;
    for (;;) {
      const next = this.nextInstant();
      if (next === undefined || next > end) break;
      this.#round(next);
    }
    if (end > this.#now) this.#now = end;
  }

  /**
   * The loop for application code on top of the stack (Node streams, `http`): rounds as in
   * `step`, yielding to the event loop (`setImmediate`) after each, so that callbacks,
   * promises and stream machinery run between instants and may wake nodes. Stops when
   * `until()` holds, at a time or step limit, or when nothing was pending for `idleYields`
   * consecutive yields (with `time`/`duration`, an idle network's clock is then advanced to
   * the end). Deterministic for a deterministic application.
   */
  async run(options: RunOptions = {}): Promise<RunOutcome> {
    this.#virtualOnly('run');
    const end = options.time ?? (options.duration !== undefined ? this.#now + options.duration : undefined);
    const idleYields = options.idleYields ?? 10;
    const idleWaitMs = options.idleWaitMs ?? 0;
    let idle = 0;
    let steps = 0;
    let waited = false;
    for (;;) {
      if (options.until?.() === true) return 'until';
      if (options.steps !== undefined && steps >= options.steps) return 'steps';
      const next = this.nextInstant();
      if (next === undefined) {
        if (idle >= idleYields) {
          if (idleWaitMs > 0 && !waited) {
            waited = true;
            idle = 0;
            await sleep(idleWaitMs);
            continue;
          }
          if (end !== undefined && end > this.#now) this.#now = end;
          return 'idle';
        }
        idle++;
      } else if (end !== undefined && next > end) {
        if (end > this.#now) this.#now = end;
        return 'time';
      } else {
        this.#round(next);
        steps++;
        idle = 0;
        waited = false;
      }
      await yieldToEventLoop();
    }
  }

  /**
   * For a driver that owns the clock (`RealTimeDriver`): attach it, so that `runtime().now()`
   * reads it and wakes reach it. The virtual loops (`step`, `run*`) then refuse to run.
   */
  attachClock(clock: NetworkClock): void {
    if (this.#clock !== undefined) throw new Error('the network already has a clock attached');
    this.#clock = clock;
  }

  /** Detaches the clock attached with `attachClock`; the network is virtual again (at its last `now`). */
  detachClock(clock: NetworkClock): void {
    if (this.#clock === clock) this.#clock = undefined;
  }

  /** For a clock-owning driver: one round at `at` (or at `now`, if `at` is earlier). */
  advanceTo(at: Instant): void {
    this.#round(at);
  }

  /** One round at `at` (see the module doc). */
  #round(at: Instant): void {
    if (at > this.#now) this.#now = at;
    const now = this.#now;
    this.#woken = false;
    this.stats.rounds++;

    const queue = this.#queue;
    for (;;) {
      const t = queue.peekTime();
      if (t === undefined || t > now) break;
      queue.pop(this.#deliver);
    }

    const entries = this.#entries;
    for (let i = 0; i < entries.length; i++) {
      const node = entries[i]!.node;
      const deadline = node.pollTimeout();
      if (deadline !== undefined && deadline <= now) {
        this.stats.timeouts++;
        node.handleTimeout(now);
      }
    }

    // Timers armed by these callbacks at or before `now` wait for the next round (at `now`),
    // so a callback that re-arms itself cannot keep one round from ending.
    const timers = this.#timers;
    for (let budget = timers.size; budget > 0; budget--) {
      const t = this.#nextTimer();
      if (t === undefined || t > now) break;
      timers.pop(this.#fire);
    }

    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const node = entry.node;
      let tx: Transmit | undefined;
      while ((tx = node.pollTransmit(now)) !== undefined) this.#transmit(entry, tx, now);
    }
  }

  /** The deadline of the earliest live application timer (cancelled ones are discarded). */
  #nextTimer(): Instant | undefined {
    const timers = this.#timers;
    while (timers.peekA()?.cancelled === true) timers.pop(discard);
    return timers.peekTime();
  }

  readonly #fire = (timer: AppTimer): void => {
    if (timer.cancelled) return;
    timer.cancelled = true; // fires once; cancelling afterwards does nothing
    this.stats.appTimers++;
    timer.callback();
  };

  #transmit(entry: NodeEntry, tx: Transmit, now: Instant): void {
    this.stats.transmitted++;
    const direction = entry.ifaces.get(tx.iface);
    if (entry.txTaps.length > 0) captureAll(entry.txTaps, now, tx.packet, direction?.trusted === true);
    if (direction === undefined) {
      this.stats.unattached++;
      return;
    }
    direction.send(now, tx.packet);
  }

  #entry(node: NodeRef): NodeEntry {
    const entry = typeof node === 'string' ? this.#byName.get(node) : this.#byNode.get(node);
    if (entry === undefined) throw new Error(`${typeof node === 'string' ? JSON.stringify(node) : 'that node'} is not in the network`);
    return entry;
  }

  /** The generator of one link direction: derived from the seed and the direction's name only. */
  #rngFor(label: string): Rng {
    return new Rng(new Rng(this.seed).nextU32() ^ fnv1a(label));
  }

  #virtualOnly(what: string): void {
    if (this.#clock !== undefined) throw new Error(`${what}() runs virtual time, but a real-time clock drives this network`);
  }
}
