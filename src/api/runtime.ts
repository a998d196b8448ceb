/**
 * What the API layer needs from whatever drives the host (DESIGN.md: "the api needs only a
 * small runtime interface that it declares itself"). The virtual network, a real-time loop
 * or a browser page implements it; `net.Socket` and `dgram.Socket` work the same on each.
 */
import type { Instant } from '../time/instant.js';

/** The driver, as seen from a socket. */
export interface Runtime {
  /** The current instant on the driver's clock. */
  now(): Instant;
  /**
   * Application calls (write, end, destroy, listen…) may have made packets ready or
   * changed timers: poll the host soon (in this turn of the event loop or the next).
   */
  wake(): void;
  /**
   * Calls `callback` once the driver's clock reaches `at` (Node's `socket.setTimeout` is an
   * application idle timer, so it must run on the same clock as the stack: virtual or real).
   * Returns a function that cancels it.
   */
  setTimer(at: Instant, callback: () => void): () => void;
}
