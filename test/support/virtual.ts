/**
 * Running application code (streams, Node's http) on the virtual network from a test:
 * `drive` runs the network in virtual time, yielding to the event loop between instants,
 * until the awaited promise settles, and fails clearly if the network goes idle first.
 */
import type { VirtualNetwork } from '../../src/drivers/virtual/network.js';

/** Runs `network` until `promise` settles, then returns its outcome. */
export async function drive<T>(network: VirtualNetwork, promise: Promise<T>): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => { settled = true; });
  const outcome = await network.run({ until: () => settled, idleYields: 50 });
  if (!settled) throw new Error(`the network stopped (${outcome}) at ${network.now} µs while the test still waited`);
  return watched;
}
