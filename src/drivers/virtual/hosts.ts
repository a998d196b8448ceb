/**
 * Hosts on the virtual network with their application side: `addStack` builds a core
 * `Host`, wraps it in an api `Stack` (so it has `stack.net`, Node's `net` module), adds it
 * to the network as a node and gives it the network's runtime (clock, wake, timers).
 */
import { Host, type HostConfig } from '../../core/host.js';
import { Stack } from '../../api/stack.js';
import type { VirtualNetwork } from './network.js';

/** Adds a host to the network and returns it with its sockets API. */
export function addStack(network: VirtualNetwork, config: HostConfig): Stack {
  const stack = new Stack(new Host(config));
  network.addNode(config.name, stack);
  stack.attach(network.runtime(stack));
  return stack;
}
