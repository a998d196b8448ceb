/**
 * Real time for the virtual network: the same nodes, links and impairments, but `now`
 * follows the wall clock (`performance.now()`, monotonic) and rounds run on the JavaScript
 * event loop: a `setTimeout` at the next instant (the next arrival or a node's
 * `pollTimeout()`), a `setImmediate` when something is already due or a node was woken.
 *
 * Contract: `start()` attaches the driver's clock to the network (the virtual loops then
 * refuse to run) and continues from the network's current instant. A round runs at the
 * clock's instant, so late timers deliver late, as on a real machine; order is kept (packets
 * arrive in their scheduled order). At most one timer and one immediate are pending at any
 * time. `close()` clears them, detaches the clock and resolves: nothing is left on the event
 * loop, and the network can be driven virtually again from where it stopped.
 */
import type { Instant } from '../../time/instant.js';
import type { NetworkClock, VirtualNetwork } from './network.js';

/** Options of a real-time driver. */
export interface RealTimeOptions {
  /** The clock, in milliseconds (fractional); `performance.now` unless given. */
  readonly clock?: () => number;
  /** Rounds run in one event-loop turn before yielding (a zero-delay ping-pong never ends on its own). Default 1000. */
  readonly maxRoundsPerTurn?: number;
}

/** Drives a `VirtualNetwork` in real time (see the module doc). */
export class RealTimeDriver implements NetworkClock {
  readonly network: VirtualNetwork;
  readonly #clock: () => number;
  readonly #maxRounds: number;
  /** Clock reading (ms) at which the network's instant `#base` was reached. */
  #startMs = 0;
  #base: Instant = 0;
  #timeout: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #running = false;
  /** Made once: the callback of every timer (no closure per tick). */
  readonly #tick = (): void => {
    this.#timeout = undefined;
    this.#immediate = undefined;
    if (!this.#running) return;
    const now = this.now();
    let rounds = 0;
    for (;;) {
      const next = this.network.nextInstant();
      if (next === undefined) return; // idle: a wake restarts us
      if (next > now) {
        this.#scheduleAt(next);
        return;
      }
      this.network.advanceTo(now);
      if (++rounds >= this.#maxRounds) {
        this.#scheduleImmediate();
        return;
      }
    }
  };

  constructor(network: VirtualNetwork, options: RealTimeOptions = {}) {
    this.network = network;
    this.#clock = options.clock ?? (() => performance.now());
    this.#maxRounds = options.maxRoundsPerTurn ?? 1000;
  }

  /** True between `start` and `close`. */
  get running(): boolean {
    return this.#running;
  }

  /** Attaches to the network and schedules the first round. Returns this. */
  start(): this {
    if (this.#running) return this;
    this.network.attachClock(this);
    this.#running = true;
    this.#startMs = this.#clock();
    this.#base = this.network.now;
    this.#scheduleImmediate();
    return this;
  }

  /** `NetworkClock`: the current instant, µs: the network's start instant plus the real time elapsed. */
  now(): Instant {
    const elapsed = Math.floor((this.#clock() - this.#startMs) * 1000);
    const t = this.#base + (elapsed > 0 ? elapsed : 0);
    const floor = this.network.now;
    return t > floor ? t : floor;
  }

  /** `NetworkClock`: a node was woken; run a round on the next event-loop turn. */
  wake(): void {
    if (this.#running) this.#scheduleImmediate();
  }

  /** Stops: clears every pending timer, detaches from the network. Resolves once done. */
  close(): Promise<void> {
    this.#running = false;
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timeout = undefined;
    this.#immediate = undefined;
    this.network.detachClock(this);
    return Promise.resolve();
  }

  #scheduleImmediate(): void {
    if (this.#immediate !== undefined) return;
    if (this.#timeout !== undefined) {
      clearTimeout(this.#timeout);
      this.#timeout = undefined;
    }
    this.#immediate = setImmediate(this.#tick);
  }

  #scheduleAt(instant: Instant): void {
    if (this.#immediate !== undefined) return; // a round comes sooner anyway
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    const ms = Math.max(1, Math.ceil((instant - this.now()) / 1000));
    this.#timeout = setTimeout(this.#tick, ms);
  }
}
