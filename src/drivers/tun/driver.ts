/**
 * The loop that runs one network node on a TUN device in real time (DESIGN.md: "a driver is
 * the loop around a host"). Packets read from the device are handed to `node.handle` in the
 * batch the device read them; then the node's due timers run, everything it has to send is
 * written to the device, and one Node timer is armed at the node's next deadline. Application
 * calls (a socket write, say) `wake()` the driver, which flushes on the next turn of the event
 * loop (one `setImmediate`, however many wakes). The clock is `performance.now()`, monotonic,
 * in microseconds from the driver's start.
 *
 * The driver is also the `Runtime` the api layer needs: `now()`, `wake()`, and application
 * timers (`setTimer`) on Node's own timers, since here virtual time is real time.
 *
 * Checksums are never skipped on a TUN device: what crosses it goes on to the kernel and to
 * real networks, where bits can flip. The driver pins the host's interface to verified
 * checksums (`Host.requireChecksums`) as it is made, and refuses a host that already trusts
 * it, so no later call can make the host trust it either (see `core/interfaces.ts`).
 */
import type { Runtime } from '../../api/runtime.js';
import { Stack } from '../../api/stack.js';
import { Host } from '../../core/host.js';
import type { NetworkNode } from '../../core/node.js';
import type { Instant } from '../../time/instant.js';
import type { TunDevice } from './device.js';

/** Options of a `TunDriver`. */
export interface TunDriverOptions {
  /** The node's name for the interface the device is (what `Transmit.iface` says); default the device's name. */
  readonly iface?: string;
  /** The clock in milliseconds; `performance.now` unless given. */
  readonly clock?: () => number;
  /**
   * Sees every packet that crosses the device, as it crosses: 'in' from the kernel to the
   * node, 'out' from the node to the kernel (a pcap writer, say). Must not keep `packet`.
   */
  readonly capture?: (now: Instant, packet: Uint8Array, direction: 'in' | 'out') => void;
}

/** Counters of the driver. */
export interface TunDriverStats {
  /** Packets handed to the node. */
  handled: number;
  /** Packets the node sent on the device. */
  transmitted: number;
  /** Packets the node addressed to an interface this driver does not have (dropped). */
  misrouted: number;
  /** Flushes run (a batch, a timer or a wake each start one). */
  flushes: number;
}

/** Runs `node` on `device` (see the module doc). */
export class TunDriver implements Runtime {
  readonly device: TunDevice;
  readonly node: NetworkNode;
  readonly iface: string;
  readonly stats: TunDriverStats = { handled: 0, transmitted: 0, misrouted: 0, flushes: 0 };
  readonly #clock: () => number;
  readonly #capture: ((now: Instant, packet: Uint8Array, direction: 'in' | 'out') => void) | undefined;
  readonly #start: number;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline `#timer` is armed for. */
  #timerAt: Instant | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #running = false;
  readonly #appTimers = new Set<NodeJS.Timeout>();

  constructor(device: TunDevice, node: NetworkNode, options: TunDriverOptions = {}) {
    this.device = device;
    this.node = node;
    this.iface = options.iface ?? device.name;
    // Never trusted (see the module doc); throws (a RangeError) for a host that trusts it already.
    const host = node instanceof Host ? node : node instanceof Stack ? node.host : undefined;
    host?.requireChecksums(this.iface);
    this.#clock = options.clock ?? (() => performance.now());
    this.#start = this.#clock();
    this.#capture = options.capture;
  }

  /** Starts reading the device and running the node's timers. Returns this. */
  start(): this {
    if (this.#running) return this;
    this.#running = true;
    this.device.onPackets((packets) => this.#receive(packets));
    this.#flush();
    return this;
  }

  get running(): boolean {
    return this.#running;
  }

  /** `Runtime`: microseconds since the driver was made. */
  now(): Instant {
    return Math.floor((this.#clock() - this.#start) * 1000);
  }

  /** `Runtime`: the application changed something; flush on the next turn. */
  wake(): void {
    if (!this.#running || this.#immediate !== undefined) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#flush();
    });
  }

  /** `Runtime`: an application timer on Node's timers. */
  setTimer(at: Instant, callback: () => void): () => void {
    const timer = setTimeout(() => {
      this.#appTimers.delete(timer);
      callback();
    }, Math.max(0, Math.ceil((at - this.now()) / 1000)));
    this.#appTimers.add(timer);
    return () => {
      clearTimeout(timer);
      this.#appTimers.delete(timer);
    };
  }

  /** Flushes once more, then stops: no timer is left and the device is closed. */
  close(): Promise<void> {
    if (this.#running) this.#flush();
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    for (const t of this.#appTimers) clearTimeout(t);
    this.#appTimers.clear();
    this.#timer = undefined;
    this.#timerAt = undefined;
    this.#immediate = undefined;
    this.device.close();
    return Promise.resolve();
  }

  #receive(packets: readonly Uint8Array[]): void {
    if (!this.#running) return;
    const now = this.now();
    for (const packet of packets) {
      this.stats.handled++;
      this.#capture?.(now, packet, 'in');
      this.node.handle(now, packet, this.iface);
    }
    this.#flush();
  }

  /** Due timers, then every packet ready, then arm the timer at the next deadline. */
  #flush(): void {
    if (!this.#running) return;
    this.stats.flushes++;
    const now = this.now();
    const due = this.node.pollTimeout();
    if (due !== undefined && due <= now) this.node.handleTimeout(now);
    for (let t = this.node.pollTransmit(now); t !== undefined; t = this.node.pollTransmit(now)) {
      if (t.iface !== this.iface) {
        this.stats.misrouted++;
        continue;
      }
      this.#capture?.(now, t.packet, 'out');
      if (this.device.send(t.packet)) this.stats.transmitted++;
    }
    this.#arm(this.node.pollTimeout());
  }

  #arm(deadline: Instant | undefined): void {
    if (deadline === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = deadline;
    if (deadline === undefined) return;
    const ms = Math.max(0, Math.ceil((deadline - this.now()) / 1000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.#flush();
    }, ms);
  }
}
