/**
 * `l4 explain`: what happened in a capture, conversation by conversation. Every frame is
 * decoded (`tools/decode`), grouped (`conversations.ts`), and each TCP conversation is
 * analysed (`tcp-analysis.ts`): its segments named, RTT samples, bytes each way and the
 * state reached. `explainCapture` returns one report whose field names are stable (it is
 * what `--json` prints); `conversationDiagram` draws a conversation as a sequence diagram
 * and `frameInfo` + `layerTable` give the seeds' layer table of one frame.
 */
import type { CaptureRecord } from '../../wire/pcap.js';
import { linkTypeName } from '../../wire/link.js';
import { decodePacket, type DecodedPacket } from '../decode/packet.js';
import { groupFrames, type Endpoint, type IcmpErrorReport, type UdpFlow } from './conversations.js';
import {
  analyzeTcpConversation, RETRANSMISSION_EVENTS,
  type DirectionFigures, type RttSample, type TcpEventName, type TcpOutcome, type TcpSegmentReport,
} from './tcp-analysis.js';

export { formatEndpoint, type Endpoint, type IcmpErrorReport, type UdpFlow } from './conversations.js';
export {
  analyzeTcpConversation, RETRANSMISSION_EVENTS,
  type Direction, type DirectionFigures, type RttSample, type TcpAnalysis, type TcpEventName, type TcpOutcome,
  type TcpSegmentInput, type TcpSegmentReport, type TcpStateName,
} from './tcp-analysis.js';
export { layerTable, linkProtocolName, LAYER_COLUMNS, type LayerRow } from './layers.js';
export { conversationDiagram, describeSegment, frameInfo } from './diagram.js';

/** RTT samples summarised (milliseconds). */
export interface RttSummary {
  readonly count: number;
  readonly minMs?: number;
  readonly medianMs?: number;
  readonly maxMs?: number;
  readonly samples: RttSample[];
}

/** One TCP conversation, explained. */
export interface TcpConversationReport {
  readonly id: number;
  readonly family: 4 | 6;
  /** The SYN sender when the SYN was captured (else the SYN-ACK's receiver, else the first sender). */
  readonly client: Endpoint;
  readonly server: Endpoint;
  readonly clientKnown: boolean;
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** Seconds since the first frame of the capture. */
  readonly start: number;
  readonly end: number;
  /** Seconds from its first to its last frame. */
  readonly duration: number;
  readonly frames: number;
  readonly state: TcpOutcome;
  readonly handshake: { readonly syn?: number; readonly synAck?: number; readonly ack?: number };
  /** TCP payload bytes each way (retransmitted bytes counted again, as `tcp.len` adds up). */
  readonly bytes: { readonly clientToServer: number; readonly serverToClient: number };
  readonly clientToServer: DirectionFigures;
  readonly serverToClient: DirectionFigures;
  readonly rtt: RttSummary;
  /** How many segments carry each event name. */
  readonly counts: Partial<Record<TcpEventName, number>>;
  readonly segments: TcpSegmentReport[];
  /** ICMP errors quoting this conversation's segments. */
  readonly icmpErrors: IcmpErrorReport[];
}

/** One UDP flow, with the ICMP errors that quote it. */
export interface UdpFlowReport extends UdpFlow {
  readonly icmpErrors: IcmpErrorReport[];
}

/** The whole capture, explained. */
export interface ExplainReport {
  readonly frames: number;
  /** Link types of the frames, tcpdump's names (`EN10MB`, `LINUX_SLL2`, `RAW`, ...). */
  readonly linkTypes: string[];
  /** Capture time of the first frame, ISO 8601 (UTC), when the file has timestamps. */
  readonly firstTimestamp?: string;
  /** Seconds from the first to the last frame. */
  readonly duration: number;
  readonly tcp: TcpConversationReport[];
  readonly udp: UdpFlowReport[];
  /** Every ICMP/ICMPv6 error, with the flow it concerns when that is in the capture. */
  readonly icmpErrors: IcmpErrorReport[];
  /** Frames that are none of the above, by kind. */
  readonly other: Record<string, number>;
}

/** The decoded frames of a capture and their report. */
export interface Explained {
  readonly packets: DecodedPacket[];
  readonly report: ExplainReport;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function rttSummary(samples: RttSample[]): RttSummary {
  if (samples.length === 0) return { count: 0, samples };
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { count: samples.length, minMs: sorted[0]!, medianMs: median(sorted), maxMs: sorted[sorted.length - 1]!, samples };
}

/** Decodes and explains the records of a capture (in file order). */
export function explainCapture(records: readonly CaptureRecord[]): Explained {
  const packets = records.map((r) => decodePacket(r));
  return { packets, report: explainPackets(packets) };
}

/** Explains frames already decoded. */
export function explainPackets(packets: readonly DecodedPacket[]): ExplainReport {
  const origin = packets.length > 0 ? packets[0]!.record.timestamp : 0n;
  const timeOf = (p: DecodedPacket): number => Number(p.record.timestamp - origin);
  const grouped = groupFrames(packets, timeOf);
  const errorsFor = (protocol: 'tcp' | 'udp', id: number): IcmpErrorReport[] =>
    grouped.icmpErrors.filter((e) => e.flow?.protocol === protocol && e.flow.id === id);

  const tcp = grouped.tcp.map((conv): TcpConversationReport => {
    const analysis = analyzeTcpConversation(conv.segments);
    const first = conv.segments[0]!;
    const last = conv.segments[conv.segments.length - 1]!;
    const counts: Partial<Record<TcpEventName, number>> = {};
    for (const s of analysis.segments) for (const e of s.events) counts[e] = (counts[e] ?? 0) + 1;
    return {
      id: conv.id, family: conv.family, client: conv.client, server: conv.server, clientKnown: conv.clientKnown,
      firstFrame: first.frame, lastFrame: last.frame,
      start: first.timeNs / 1e9, end: last.timeNs / 1e9, duration: (last.timeNs - first.timeNs) / 1e9,
      frames: conv.segments.length,
      state: analysis.outcome,
      handshake: analysis.handshake,
      bytes: { clientToServer: analysis.clientToServer.payloadBytes, serverToClient: analysis.serverToClient.payloadBytes },
      clientToServer: analysis.clientToServer,
      serverToClient: analysis.serverToClient,
      rtt: rttSummary(analysis.rtt),
      counts,
      segments: analysis.segments,
      icmpErrors: errorsFor('tcp', conv.id),
    };
  });
  const udp = grouped.udp.map((flow): UdpFlowReport => ({ ...flow, icmpErrors: errorsFor('udp', flow.id) }));
  const linkTypes = [...new Set(packets.map((p) => linkTypeName(p.record.linkType)))];
  const last = packets.length > 0 ? packets[packets.length - 1]! : undefined;
  const firstTimestamp = origin > 0n ? new Date(Number(origin / 1_000_000n)).toISOString() : undefined;
  return {
    frames: packets.length,
    linkTypes,
    ...(firstTimestamp ? { firstTimestamp } : {}),
    duration: last ? timeOf(last) / 1e9 : 0,
    tcp,
    udp,
    icmpErrors: grouped.icmpErrors,
    other: Object.fromEntries([...grouped.other.entries()].sort((a, b) => a[0].localeCompare(b[0]))),
  };
}

/** True when the segment is one that tshark's `tcp.analysis.retransmission` matches. */
export function isRetransmission(segment: TcpSegmentReport): boolean {
  return segment.events.some((e) => RETRANSMISSION_EVENTS.includes(e));
}
