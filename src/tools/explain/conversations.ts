/**
 * Grouping the decoded frames of a capture into conversations: TCP by socket pair (both
 * directions together, the client being the sender of the SYN when it was captured),
 * UDP into flows by socket pair with counts each way, and ICMP errors linked to the flow
 * whose datagram they quote. Everything else is counted by kind.
 *
 * A TCP socket pair reused for a new connection (a SYN with a different initial sequence
 * number) starts a new conversation, as Wireshark starts a new `tcp.stream`. Pure: no I/O,
 * the frames are given in capture order.
 */
import { formatIp } from '../../wire/address.js';
import { IpProtocol } from '../../wire/ip-protocol.js';
import { TcpFlags } from '../../wire/tcp.js';
import { seqAdd } from '../../wire/seq.js';
import { icmpv4Summary } from '../../wire/icmpv4.js';
import { icmpv6Summary } from '../../wire/icmpv6.js';
import type { DecodedPacket } from '../decode/packet.js';
import type { Direction, TcpSegmentInput } from './tcp-analysis.js';

/** One end of a socket pair. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** `ip:port`, with brackets around an IPv6 address (RFC 3986 style). */
export function formatEndpoint(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

/** The frames of one TCP conversation, before analysis. */
export interface TcpConversationFrames {
  /** 1-based, in order of each conversation's first frame. */
  readonly id: number;
  readonly family: 4 | 6;
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** True when the SYN (or the SYN-ACK) was captured, so the client is known, not guessed. */
  readonly clientKnown: boolean;
  readonly segments: TcpSegmentInput[];
  /** ISN of the client's SYN, when seen (a new one on the same pair starts a new conversation). */
  clientIsn: number | undefined;
}

/** Packets and bytes one way. */
export interface FlowCounts {
  packets: number;
  /** UDP payload bytes. */
  bytes: number;
}

/** One UDP flow: a socket pair, both directions. */
export interface UdpFlow {
  /** 1-based, in order of first frame. */
  readonly id: number;
  readonly family: 4 | 6;
  /** The sender of the first datagram. */
  readonly a: Endpoint;
  readonly b: Endpoint;
  readonly aToB: FlowCounts;
  readonly bToA: FlowCounts;
  readonly firstFrame: number;
  lastFrame: number;
  /** Seconds since the first frame of the capture. */
  readonly first: number;
  last: number;
}

/** An ICMP or ICMPv6 error and the flow it concerns. */
export interface IcmpErrorReport {
  readonly frame: number;
  readonly time: number;
  /** The host that sent the error, and where it went. */
  readonly from: string;
  readonly to: string;
  /** tcpdump's words for it, e.g. `ICMP 10.99.0.2 udp port 9 unreachable, length 36`. */
  readonly description: string;
  /** What the quoted datagram was. */
  readonly quoted: { readonly protocol: 'tcp' | 'udp' | number; readonly src: Endpoint; readonly dst: Endpoint };
  /** The conversation or flow of the quoted datagram, when it is in the capture. */
  flow?: { readonly protocol: 'tcp' | 'udp'; readonly id: number };
}

/** Everything grouped. */
export interface Grouped {
  readonly tcp: TcpConversationFrames[];
  readonly udp: UdpFlow[];
  readonly icmpErrors: IcmpErrorReport[];
  /** Frames that are neither TCP, UDP nor ICMP errors, by kind (`arp`, `icmp echo`, `icmpv6 neighbor solicitation`, ...). */
  readonly other: Map<string, number>;
}

const SYN = TcpFlags.SYN;
const ACK = TcpFlags.ACK;

function pairKey(a: string, aPort: number, b: string, bPort: number): string {
  const x = `${a}/${aPort}`;
  const y = `${b}/${bPort}`;
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

function same(e: Endpoint, ip: string, port: number): boolean {
  return e.ip === ip && e.port === port;
}

/** Groups frames (in capture order) into TCP conversations, UDP flows and ICMP errors. */
export function groupFrames(packets: readonly DecodedPacket[], timeOf: (p: DecodedPacket) => number): Grouped {
  const tcp: TcpConversationFrames[] = [];
  const udp: UdpFlow[] = [];
  const icmpErrors: IcmpErrorReport[] = [];
  const other = new Map<string, number>();
  const tcpByPair = new Map<string, TcpConversationFrames>();
  const udpByPair = new Map<string, UdpFlow>();
  const count = (kind: string): void => { other.set(kind, (other.get(kind) ?? 0) + 1); };

  for (const p of packets) {
    const net = p.network;
    if (!net) {
      count(p.problem ? `undecodable (${p.problem.layer}: ${p.problem.reason})` : 'not IP');
      continue;
    }
    if (net.kind === 'arp') { count('arp'); continue; }
    const src = formatIp(net.repr.src);
    const dst = formatIp(net.repr.dst);
    const family = net.kind === 'ipv4' ? 4 : 6;
    const t = p.transport;
    if (!t) {
      count(p.problem ? `undecodable (${p.problem.layer}: ${p.problem.reason})` : isFragment(p) ? 'ip fragment' : `ip protocol ${protocolOf(p)}`);
      continue;
    }
    const timeNs = timeOf(p);
    if (t.kind === 'tcp') {
      const r = t.repr;
      const key = pairKey(src, r.srcPort, dst, r.dstPort);
      let conv = tcpByPair.get(key);
      const isSyn = (r.flags & (SYN | ACK)) === SYN;
      const isSynAck = (r.flags & (SYN | ACK)) === (SYN | ACK);
      // A SYN with a new ISN on a known pair is a new connection (port reuse).
      if (conv && isSyn && (conv.clientIsn === undefined ? conv.segments.length > 0 : conv.clientIsn !== r.seqNumber)) conv = undefined;
      if (!conv) {
        const sender = { ip: src, port: r.srcPort };
        const receiver = { ip: dst, port: r.dstPort };
        const clientIsSender = !isSynAck;
        conv = {
          id: tcp.length + 1, family,
          client: clientIsSender ? sender : receiver,
          server: clientIsSender ? receiver : sender,
          clientKnown: isSyn || isSynAck,
          segments: [],
          // From a SYN-ACK (its SYN not captured, or captured later): the client's ISN is ack - 1.
          clientIsn: isSyn ? r.seqNumber : isSynAck ? seqAdd(r.ackNumber, -1) : undefined,
        };
        tcp.push(conv);
        tcpByPair.set(key, conv);
      } else if (isSyn && conv.clientIsn === undefined && same(conv.client, src, r.srcPort)) {
        conv.clientIsn = r.seqNumber;
      }
      const direction: Direction = same(conv.client, src, r.srcPort) ? 'client-to-server' : 'server-to-client';
      conv.segments.push({ frame: p.record.index, timeNs, direction, tcp: r, payloadLength: r.payload.length, atEpoch: p.record.timestamp === 0n });
      continue;
    }
    if (t.kind === 'udp') {
      const r = t.repr;
      const key = pairKey(src, r.srcPort, dst, r.dstPort);
      let flow = udpByPair.get(key);
      if (!flow) {
        flow = {
          id: udp.length + 1, family, a: { ip: src, port: r.srcPort }, b: { ip: dst, port: r.dstPort },
          aToB: { packets: 0, bytes: 0 }, bToA: { packets: 0, bytes: 0 },
          firstFrame: p.record.index, lastFrame: p.record.index, first: timeNs / 1e9, last: timeNs / 1e9,
        };
        udp.push(flow);
        udpByPair.set(key, flow);
      }
      const counts = same(flow.a, src, r.srcPort) ? flow.aToB : flow.bToA;
      counts.packets++;
      counts.bytes += r.payload.length;
      flow.lastFrame = p.record.index;
      flow.last = timeNs / 1e9;
      continue;
    }
    // ICMP and ICMPv6: errors quote a datagram; the rest is counted.
    const quoted = t.quoted;
    const description = t.kind === 'icmp' ? icmpv4Summary(t.repr) : icmpv6Summary(t.repr);
    if (quoted && 'invoking' in t.repr) {
      const qsrc = formatIp(quoted.src);
      const qdst = formatIp(quoted.dst);
      const protocol = quoted.protocol === IpProtocol.Tcp ? 'tcp' : quoted.protocol === IpProtocol.Udp ? 'udp' : quoted.protocol;
      const report: IcmpErrorReport = {
        frame: p.record.index, time: timeNs / 1e9, from: src, to: dst, description,
        quoted: { protocol, src: { ip: qsrc, port: quoted.srcPort ?? 0 }, dst: { ip: qdst, port: quoted.dstPort ?? 0 } },
      };
      if (quoted.srcPort !== undefined && quoted.dstPort !== undefined && (protocol === 'tcp' || protocol === 'udp')) {
        const key = pairKey(qsrc, quoted.srcPort, qdst, quoted.dstPort);
        const flow = protocol === 'tcp' ? tcpByPair.get(key) : udpByPair.get(key);
        if (flow) report.flow = { protocol, id: flow.id };
      }
      icmpErrors.push(report);
      continue;
    }
    count(`${t.kind === 'icmp' ? 'icmp' : 'icmpv6'} ${t.repr.type === 'other' ? description.replace(/^ICMP6?,? /, '').replace(/,.*$/, '') : t.repr.type.replace(/-/g, ' ')}`);
  }
  return { tcp, udp, icmpErrors, other };
}

function isFragment(p: DecodedPacket): boolean {
  const net = p.network;
  if (net?.kind === 'ipv4') return net.repr.fragmentOffset !== 0;
  if (net?.kind === 'ipv6') return net.repr.isNonFirstFragment;
  return false;
}

function protocolOf(p: DecodedPacket): number {
  const net = p.network;
  if (net?.kind === 'ipv4') return net.repr.protocol;
  if (net?.kind === 'ipv6') return net.repr.upperProtocol;
  return -1;
}
