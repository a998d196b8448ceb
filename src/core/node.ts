/**
 * The sans-IO surface every network node offers its driver (quinn-proto's Connection is the
 * model). A driver — the virtual network, a TUN device, a pcap replay — owns the clock and
 * the I/O, and drives a node with these calls, in this order, repeatedly:
 *
 * 1. `handle(now, packet)` for each IP packet that arrived;
 * 2. `handleTimeout(now)` once `now` has reached `pollTimeout()`;
 * 3. `pollTransmit(now)` until it returns `undefined`, sending each packet;
 * 4. `pollTimeout()` to learn when to wake the node next (`undefined`: only on input).
 *
 * Application calls (writing to a socket, say) may make new packets ready: after them the
 * driver runs step 3 again. A node never reads a clock or starts a timer itself.
 */
import type { Instant } from '../time/instant.js';

/** A packet ready to leave a node. */
export interface Transmit {
  /** The interface to send it on (the node's own name for it). */
  readonly iface: string;
  /** A whole IP datagram (IPv4 or IPv6). The driver may keep it; the node will not reuse it. */
  readonly packet: Uint8Array;
}

/** What a driver needs of a node. */
export interface NetworkNode {
  /** An IP datagram arrived on `iface`. Never throws on bad input: bad packets are dropped and counted. */
  handle(now: Instant, packet: Uint8Array, iface: string): void;
  /** The next packet to send, or `undefined` when there is none right now. */
  pollTransmit(now: Instant): Transmit | undefined;
  /** The instant at which `handleTimeout` must next be called, or `undefined` if no timer is armed. */
  pollTimeout(): Instant | undefined;
  /** Runs every timer that is due at `now`. */
  handleTimeout(now: Instant): void;
}
