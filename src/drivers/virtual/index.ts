/**
 * l4's in-memory virtual network: nodes joined by impaired point-to-point links or a
 * learning switch, run in virtual time (deterministic, as fast as the CPU allows) or in real
 * time, with pcap taps on any link or node. `network.ts` has the run loop, `impairments.ts`
 * the fault model, `tap.ts` the capture points.
 */
export { EventQueue } from './event-queue.js';
export type { Impairments, LinkOptions, QueueLimit } from './impairments.js';
export { corruptCopy, DEFAULT_QUEUE_PACKETS, drawJitter, MIN_DEFAULT_REORDER_DELAY, resolveImpairments } from './impairments.js';
export type { LinkPairStats, LinkSpec, LinkStats, NodeSlot, PacketCount, PacketScheduler } from './link.js';
export { directionOptions, LinkDirection, VirtualLink } from './link.js';
export type { NetworkClock, NetworkOptions, NetworkStats, NodeRef, NodeRuntime, RunLimit, RunOptions, RunOutcome, TapTarget } from './network.js';
export { VirtualNetwork } from './network.js';
export type { RealTimeOptions } from './real-time.js';
export { RealTimeDriver } from './real-time.js';
export type { SwitchStats } from './switch.js';
export { VirtualSwitch } from './switch.js';
export type { PacketWriter, TapOptions, TapSide } from './tap.js';
export { captureAll, Tap } from './tap.js';
