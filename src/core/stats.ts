/**
 * A host's counters: its `netstat -s`. Every packet the host is handed is counted once as
 * received, and either delivered to a protocol or dropped under exactly one reason; every
 * packet it emits is counted as sent. The names follow the MIB counters Linux prints
 * (RFC 4022 for TCP: ActiveOpens, PassiveOpens, AttemptFails, CurrEstab, InSegs, OutSegs,
 * RetransSegs, OutRsts) in l4's spelling.
 *
 * UDP follows UDP-MIB (RFC 4113: InDatagrams, NoPorts, InErrors, OutDatagrams) and Linux's
 * RcvbufErrors and InCsumErrors; IP fragmentation follows IP-MIB (RFC 4293: ReasmReqds,
 * ReasmOKs, ReasmFails, FragOKs, FragCreates) and Linux's ReasmTimeout; ICMP counts messages
 * in and out by type (both families together), the errors the host generated and those the
 * rate limit held back.
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
  /**
   * An IP fragment that cannot belong to any datagram: a non-final fragment whose length is
   * not a multiple of 8, an empty one, one past the end another fragment set, or a datagram
   * that would exceed 65,535 bytes once reassembled.
   */
  | 'fragment'
  /** A fragment overlapping another of its datagram (RFC 5722): the datagram is abandoned, with every fragment of it still to come. */
  | 'fragment-overlap'
  /** An exact copy of a fragment already held (RFC 8200 4.5: dropped, the datagram goes on). */
  | 'fragment-duplicate'
  /** A fragment refused, or a datagram abandoned, because reassembly would exceed its memory bound (per host or per datagram). */
  | 'reassembly-memory'
  /** A fragment freed when its datagram was not complete in time (30 s IPv4, 60 s IPv6). */
  | 'reassembly-timeout'
  /** An IP protocol the host does not know. */
  | 'unknown-protocol'
  /** An ICMP message the host does not act on (echo replies, redirects, Neighbor Discovery, ...). */
  | 'unhandled-protocol'
  /**
   * A source no packet may carry: one of our own addresses on a packet from outside (a
   * martian), or, for TCP and ICMP echo, an unspecified, multicast or broadcast address.
   */
  | 'bad-source-address'
  /** A TCP segment that matched no connection and no listener (answered with RST unless it was one). */
  | 'no-socket'
  /** A UDP datagram for a port no socket is bound to (answered with ICMP port unreachable when allowed). */
  | 'no-port'
  /** A UDP datagram dropped because its socket's receive buffer was full. */
  | 'receive-buffer-full'
  /** A UDP datagram to a broadcast address that no socket allowing broadcast takes. */
  | 'broadcast-not-wanted'
  /** An ICMP error quoting a datagram that no socket of ours sent, or an unconnected UDP socket's (nothing to tell). */
  | 'icmp-unmatched'
  /** An ICMP error about a TCP segment whose sequence number is outside SND.UNA..SND.MAX (RFC 5927 4.1): likely forged. */
  | 'icmp-stale'
  /** A segment other than a SYN at a listener (a RST is ignored, an ACK answered with RST). */
  | 'listen-unexpected'
  /** A SYN at a listener whose backlog is full. */
  | 'listen-overflow'
  /**
   * A TCP segment its connection dropped by PAWS (RFC 7323 5.3 R1): its timestamp is older
   * than the last one recorded (TS.Recent), an old duplicate from a wrapped sequence space.
   * It was answered with an ACK.
   */
  | 'paws'
  /** A reply (RST, echo reply) the host could not send: no route back and no interface to answer on. */
  | 'no-route'
  /** A reply dropped because too many were already waiting to be sent. */
  | 'output-queue-full';

/** Every host drop reason with one line for humans. */
export const HOST_DROP_REASONS: Readonly<Record<HostDropReason, string>> = {
  'not-for-us': 'destination is not one of our addresses',
  'fragment': 'IP fragment that fits no datagram (bad length or offset)',
  'fragment-overlap': 'IP fragment overlapping another: datagram abandoned',
  'fragment-duplicate': 'IP fragment identical to one already held',
  'reassembly-memory': 'IP fragment over the reassembly memory bound',
  'reassembly-timeout': 'IP fragment freed: its datagram was not complete in time',
  'unknown-protocol': 'IP protocol not known',
  'unhandled-protocol': 'ICMP message the host does not act on',
  'bad-source-address': 'source address is ours (from outside), unspecified, multicast or broadcast',
  'no-socket': 'TCP segment for no connection or listener',
  'no-port': 'UDP datagram for a port no socket is bound to',
  'receive-buffer-full': 'UDP datagram dropped: receive buffer full',
  'broadcast-not-wanted': 'UDP broadcast that no socket allowing broadcast takes',
  'icmp-unmatched': 'ICMP error about a datagram no socket can be told of',
  'icmp-stale': 'ICMP error quoting a TCP sequence number outside the send window',
  'listen-unexpected': 'segment other than SYN at a listener',
  'listen-overflow': 'SYN dropped: listen backlog full',
  'paws': 'TCP segment with an old timestamp (PAWS, RFC 7323): dropped and ACKed',
  'no-route': 'reply without a route back',
  'output-queue-full': 'reply dropped: output queue full',
};

/** Any reason a packet was dropped. */
export type DropReason = WireReason | HostDropReason;

/** IP counters. */
export interface IpStats {
  /** Packets handed to `handle` (and looped back). */
  received: number;
  /** Datagrams passed to a transport protocol (TCP, UDP, ICMP), reassembled ones included. */
  delivered: number;
  /** Packets emitted (to a driver or looped back), fragments counted one by one. */
  sent: number;
  /** Fragments received that needed reassembly (ReasmReqds). */
  fragmentsReceived: number;
  /** Datagrams reassembled (ReasmOKs). */
  reassembled: number;
  /** Datagrams whose reassembly failed: overlap, memory, bad fragment, timeout (ReasmFails). */
  reassemblyFailures: number;
  /** Of those, datagrams that timed out (Linux's ReasmTimeout). */
  reassemblyTimeouts: number;
  /** Datagrams sent in fragments (FragOKs). */
  datagramsFragmented: number;
  /** Fragments created (FragCreates). */
  fragmentsCreated: number;
}

/** UDP counters (RFC 4113 UDP-MIB, Linux's /proc/net/snmp Udp line). */
export interface UdpStats {
  /** Datagrams delivered to a socket (InDatagrams). */
  datagramsIn: number;
  /** Datagrams sent (OutDatagrams), each counted once however many fragments it took. */
  datagramsOut: number;
  /** Datagrams for a port no socket is bound to (NoPorts). */
  noPort: number;
  /** Datagrams dropped because a socket's receive buffer was full (RcvbufErrors). */
  receiveBufferErrors: number;
  /** Datagrams whose checksum did not verify, or was zero over IPv6 (InCsumErrors). */
  checksumErrors: number;
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

/** ICMP message types as the counters name them (ICMPv4 and ICMPv6 together; `other` is everything else). */
export type IcmpCountedType =
  | 'echo-request' | 'echo-reply' | 'destination-unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem' | 'other';

/** A count per ICMP message type. */
export type IcmpTypeCounts = Record<IcmpCountedType, number>;

/** ICMP counters (Linux's Icmp and Icmp6 lines, both families summed). */
export interface IcmpStats {
  echoRequestsReceived: number;
  echoRepliesSent: number;
  /** Messages received that parsed (checksum included), by type. */
  in: IcmpTypeCounts;
  /** Messages sent, by type. */
  out: IcmpTypeCounts;
  /** Error messages received that reached a socket (a TCP connection or a connected UDP socket). */
  errorsDelivered: number;
  /** Error messages the host generated and sent (port unreachable, reassembly time exceeded). */
  errorsSent: number;
  /** Error messages not sent because the rate limit had no token left. */
  rateLimited: number;
  /** Path MTU decreases learned from fragmentation-needed / packet-too-big. */
  pathMtuUpdates: number;
}

/** Everything a host counts. */
export interface HostStats {
  ip: IpStats;
  tcp: TcpStats;
  udp: UdpStats;
  icmp: IcmpStats;
  /** Dropped packets by reason; every known reason is present. */
  drops: Record<string, number>;
}

function icmpTypeCounts(): IcmpTypeCounts {
  return {
    'echo-request': 0, 'echo-reply': 0, 'destination-unreachable': 0, 'packet-too-big': 0,
    'time-exceeded': 0, 'parameter-problem': 0, 'other': 0,
  };
}

/** A fresh set of counters, all zero. */
export function createHostStats(): HostStats {
  const drops: Record<string, number> = {};
  for (const reason of Object.keys(WIRE_REASONS)) drops[reason] = 0;
  for (const reason of Object.keys(HOST_DROP_REASONS)) drops[reason] = 0;
  return {
    ip: {
      received: 0, delivered: 0, sent: 0, fragmentsReceived: 0, reassembled: 0, reassemblyFailures: 0,
      reassemblyTimeouts: 0, datagramsFragmented: 0, fragmentsCreated: 0,
    },
    tcp: {
      segmentsIn: 0, segmentsOut: 0, retransmissions: 0, resetsSent: 0, resetsReceived: 0,
      activeOpens: 0, passiveOpens: 0, failedOpens: 0, established: 0,
    },
    udp: { datagramsIn: 0, datagramsOut: 0, noPort: 0, receiveBufferErrors: 0, checksumErrors: 0 },
    icmp: {
      echoRequestsReceived: 0, echoRepliesSent: 0, in: icmpTypeCounts(), out: icmpTypeCounts(),
      errorsDelivered: 0, errorsSent: 0, rateLimited: 0, pathMtuUpdates: 0,
    },
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
  return {
    ip: { ...stats.ip }, tcp: { ...stats.tcp }, udp: { ...stats.udp },
    icmp: { ...stats.icmp, in: { ...stats.icmp.in }, out: { ...stats.icmp.out } },
    drops: { ...stats.drops },
  };
}
