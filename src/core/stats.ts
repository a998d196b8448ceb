/**
 * A host's counters: its `netstat -s`. Every packet the host is handed is counted once as
 * received, and either delivered to a protocol or dropped under exactly one reason; every
 * packet it emits is counted as sent. The names follow the MIB counters Linux prints
 * (RFC 4022 for TCP: ActiveOpens, PassiveOpens, AttemptFails, CurrEstab, InSegs, OutSegs,
 * RetransSegs, OutRsts) in l4's spelling.
 *
 * Contract: `HostStats` is a plain, JSON-friendly object. The host keeps one and hands out
 * copies (`copyHostStats`), so a reader can diff two snapshots. Drop counters are keyed by
 * the wire layer's `WireReason` (a packet that failed to parse) and the host's own
 * `HostDropReason`s; every key is present from the start, at zero.
 */
import { WIRE_REASONS } from '../wire/result.js';
import type { WireReason } from '../wire/result.js';

/** Why the host itself dropped a packet that parsed. */
export type HostDropReason =
  /** The destination address is not one of the host's. */
  | 'not-for-us'
  /** An IP fragment: l4 does not reassemble (yet). */
  | 'fragment'
  /** An IP protocol the host does not know. */
  | 'unknown-protocol'
  /** A protocol the host knows but does not handle yet (UDP, most of ICMP: issue 4). */
  | 'unhandled-protocol'
  /**
   * A source no packet may carry: one of our own addresses on a packet from outside (a
   * martian), or, for TCP and ICMP echo, an unspecified, multicast or broadcast address.
   */
  | 'bad-source-address'
  /** A TCP segment that matched no connection and no listener (answered with RST unless it was one). */
  | 'no-socket'
  /** A segment other than a SYN at a listener (a RST is ignored, an ACK answered with RST). */
  | 'listen-unexpected'
  /** A SYN at a listener whose backlog is full. */
  | 'listen-overflow'
  /** A reply (RST, echo reply) the host could not send: no route back and no interface to answer on. */
  | 'no-route'
  /** A reply dropped because too many were already waiting to be sent. */
  | 'output-queue-full';

/** Every host drop reason with one line for humans. */
export const HOST_DROP_REASONS: Readonly<Record<HostDropReason, string>> = {
  'not-for-us': 'destination is not one of our addresses',
  'fragment': 'IP fragment (no reassembly)',
  'unknown-protocol': 'IP protocol not known',
  'unhandled-protocol': 'protocol not handled yet (UDP, ICMP other than echo)',
  'bad-source-address': 'source address is ours (from outside), unspecified, multicast or broadcast',
  'no-socket': 'TCP segment for no connection or listener',
  'listen-unexpected': 'segment other than SYN at a listener',
  'listen-overflow': 'SYN dropped: listen backlog full',
  'no-route': 'reply without a route back',
  'output-queue-full': 'reply dropped: output queue full',
};

/** Any reason a packet was dropped. */
export type DropReason = WireReason | HostDropReason;

/** IP counters. */
export interface IpStats {
  /** Packets handed to `handle` (and looped back). */
  received: number;
  /** Packets passed to a transport protocol (TCP, ICMP). */
  delivered: number;
  /** Packets emitted (to a driver or looped back). */
  sent: number;
}

/** TCP counters. */
export interface TcpStats {
  /** Segments received that parsed, checksum included (InSegs). */
  segmentsIn: number;
  /** Segments sent, resets included (OutSegs). */
  segmentsOut: number;
  /** Segments retransmitted (RetransSegs): the connections' own counts, closed ones included. */
  retransmissions: number;
  /** Segments sent with RST (OutRsts). */
  resetsSent: number;
  /** Segments received with RST. */
  resetsReceived: number;
  /** Connections opened by this host (CLOSED -> SYN-SENT). */
  activeOpens: number;
  /** Connections accepted from a SYN (LISTEN -> SYN-RECEIVED). */
  passiveOpens: number;
  /** Connections that failed before reaching ESTABLISHED (AttemptFails). */
  failedOpens: number;
  /** Connections in ESTABLISHED or CLOSE-WAIT right now (CurrEstab). */
  established: number;
}

/** ICMP echo counters (the rest of ICMP comes with issue 4). */
export interface IcmpStats {
  echoRequestsReceived: number;
  echoRepliesSent: number;
}

/** Everything a host counts. */
export interface HostStats {
  ip: IpStats;
  tcp: TcpStats;
  icmp: IcmpStats;
  /** Dropped packets by reason; every known reason is present. */
  drops: Record<string, number>;
}

/** A fresh set of counters, all zero. */
export function createHostStats(): HostStats {
  const drops: Record<string, number> = {};
  for (const reason of Object.keys(WIRE_REASONS)) drops[reason] = 0;
  for (const reason of Object.keys(HOST_DROP_REASONS)) drops[reason] = 0;
  return {
    ip: { received: 0, delivered: 0, sent: 0 },
    tcp: {
      segmentsIn: 0, segmentsOut: 0, retransmissions: 0, resetsSent: 0, resetsReceived: 0,
      activeOpens: 0, passiveOpens: 0, failedOpens: 0, established: 0,
    },
    icmp: { echoRequestsReceived: 0, echoRepliesSent: 0 },
    drops,
  };
}

/** Counts one drop. */
export function countDrop(stats: HostStats, reason: DropReason): void {
  stats.drops[reason] = (stats.drops[reason] ?? 0) + 1;
}

/** The total of every drop counter. */
export function totalDrops(stats: HostStats): number {
  let n = 0;
  for (const v of Object.values(stats.drops)) n += v;
  return n;
}

/** A deep copy. */
export function copyHostStats(stats: HostStats): HostStats {
  return { ip: { ...stats.ip }, tcp: { ...stats.tcp }, icmp: { ...stats.icmp }, drops: { ...stats.drops } };
}
