/**
 * What both simulators share: two l4 hosts, 10.0.0.1 and 10.0.0.2, joined by one impaired
 * virtual link whose options are `l4 sim`'s. Options left undefined take the link's defaults
 * (no impairment); a pcap writer taps the link on the receiving side.
 */
import { Host } from '../core/host.js';
import type { TcpConfig } from '../core/tcp/types.js';
import { VirtualNetwork } from '../drivers/virtual/network.js';
import type { VirtualLink } from '../drivers/virtual/link.js';
import type { PacketWriter } from '../drivers/virtual/tap.js';
import type { Duration } from '../time/instant.js';

/** The link of a simulation. Times in microseconds, rates in bits per second, probabilities in [0, 1]. */
export interface SimLinkOptions {
  readonly seed: number;
  readonly bandwidth?: number;
  readonly delay?: Duration;
  readonly jitter?: Duration;
  readonly loss?: number;
  readonly reorder?: number;
  readonly duplicate?: number;
  readonly corrupt?: number;
  readonly mtu?: number;
  /** Packets the link's transmit queue holds (default the virtual link's, 1000). */
  readonly queueLimit?: number;
  /** A pcap writer for every packet on the link (receiver side). */
  readonly pcap?: PacketWriter;
}

/** The two hosts and their link. */
export interface SimNetwork {
  readonly network: VirtualNetwork;
  readonly a: Host;
  readonly b: Host;
  readonly link: VirtualLink;
}

/**
 * Builds the network. `names` and `seedSalts` name the hosts and vary their seeds from the
 * simulation's (each simulator keeps its own, so its reports stay as they were).
 */
export function simNetwork(options: SimLinkOptions, names: readonly [string, string], seedSalts: readonly [number, number], tcp: Partial<TcpConfig> = {}): SimNetwork {
  const network = new VirtualNetwork({ seed: options.seed });
  const mtu = options.mtu ?? 1500;
  const a = network.addNode(names[0], new Host({ name: names[0], seed: options.seed ^ seedSalts[0], interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'], mtu }], tcp }));
  const b = network.addNode(names[1], new Host({ name: names[1], seed: options.seed ^ seedSalts[1], interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'], mtu }], tcp }));
  const link = network.link(a, 'eth0', b, 'eth0', {
    bandwidth: options.bandwidth, delay: options.delay, jitter: options.jitter, loss: options.loss,
    reorder: options.reorder, duplicate: options.duplicate, corrupt: options.corrupt, mtu,
    ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
  });
  if (options.pcap) network.tap(link, options.pcap);
  return { network, a, b, link };
}
