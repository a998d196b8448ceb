/**
 * Words and pictures for a TCP conversation: each segment's events in plain words, and the
 * conversation as a sequence diagram with the two endpoints as columns (Wireshark's flow
 * graph in text), one line per segment in capture order:
 *
 *     time (s)  frame  10.99.0.1:48806                         10.99.0.2:8080
 *     0.000032      3  |--- S seq=0 len=0 win=64240 ------------->|  3-way handshake (SYN)
 *     0.000051      4  |<-- S. seq=0 ack=1 len=0 win=65160 -------|  3-way handshake (SYN/ACK)
 *
 * Times are seconds since the first frame of the capture; seq and ack are relative to each
 * side's initial sequence number; the window is in bytes (scaled when the scale is known).
 */
import { icmpv4Summary } from '../../wire/icmpv4.js';
import { icmpv6Summary } from '../../wire/icmpv6.js';
import { formatIp } from '../../wire/address.js';
import type { DecodedPacket } from '../decode/packet.js';
import { formatEndpoint } from './conversations.js';
import type { ExplainReport, TcpConversationReport } from './index.js';
import type { TcpEventName, TcpSegmentReport } from './tcp-analysis.js';

const WORDS: Partial<Record<TcpEventName, string>> = {
  'handshake-syn': '3-way handshake (SYN)',
  'handshake-syn-ack': '3-way handshake (SYN/ACK)',
  'handshake-ack': '3-way handshake (ACK)',
  'syn': 'SYN',
  'syn-ack': 'SYN/ACK',
  'ack': 'ACK',
  'fin': 'teardown (FIN)',
  'rst': 'reset (RST)',
  'retransmission': 'retransmission',
  'fast-retransmission': 'fast retransmission',
  'spurious-retransmission': 'spurious retransmission',
  'out-of-order': 'out-of-order',
  'previous-segment-not-captured': 'previous segment not captured',
  'acked-unseen-segment': 'ACKs a segment not captured',
  'zero-window': 'zero window',
  'zero-window-probe': 'zero-window probe',
  'zero-window-probe-ack': 'zero-window probe ACK',
  'window-update': 'window update',
  'window-full': 'window full',
  'keep-alive': 'keep-alive',
  'keep-alive-ack': 'keep-alive ACK',
};

/** Analysis names that say what a pure ACK is. */
const ACK_KINDS: ReadonlySet<TcpEventName> = new Set<TcpEventName>([
  'duplicate-ack', 'zero-window-probe-ack', 'window-update', 'keep-alive-ack', 'acked-unseen-segment', 'keep-alive',
]);

/** A segment's events in words, e.g. `data (1448 bytes), retransmission`. */
export function describeSegment(s: TcpSegmentReport): string {
  // "ACK, duplicate ACK" says ACK twice: a pure ACK that the analysis names is called by that name.
  const named = s.events.some((e) => ACK_KINDS.has(e));
  return s.events.filter((e) => !(e === 'ack' && named)).map((e) => {
    if (e === 'data') return `data (${s.len} byte${s.len === 1 ? '' : 's'})`;
    if (e === 'duplicate-ack') return s.duplicateAck ? `duplicate ACK #${s.duplicateAck.number} of frame ${s.duplicateAck.of}` : 'duplicate ACK';
    return WORDS[e] ?? e;
  }).join(', ');
}

function arrowLabel(s: TcpSegmentReport): string {
  return `${s.flags} seq=${s.seq}${s.ack !== undefined ? ` ack=${s.ack}` : ''} len=${s.len} win=${s.window}`;
}

/** The sequence diagram of one conversation, as lines (without trailing newlines). */
export function conversationDiagram(conv: TcpConversationReport): string[] {
  const left = formatEndpoint(conv.client);
  const right = formatEndpoint(conv.server);
  const labels = conv.segments.map(arrowLabel);
  const longest = labels.reduce((n, l) => Math.max(n, l.length), 0);
  // The arrow: "|--- label ---->|"; wide enough for the longest label and both endpoint names.
  const inner = Math.max(longest + 8, left.length + right.length + 2);
  const frameWidth = Math.max(5, String(conv.lastFrame).length);
  const timeWidth = Math.max(8, ...conv.segments.map((s) => s.time.toFixed(6).length));
  const header = `${'time (s)'.padStart(timeWidth)}  ${'frame'.padStart(frameWidth)}  `;
  const lines = [
    `${header}${left}${' '.repeat(inner + 2 - left.length - right.length)}${right}`,
  ];
  conv.segments.forEach((s, i) => {
    const label = labels[i]!;
    // Between the bars: 4 characters, the label, a space, the fill, 2 characters.
    const fill = '-'.repeat(inner - 7 - label.length);
    const arrow = s.direction === 'client-to-server' ? `|--- ${label} ${fill}->|` : `|<-- ${label} ${fill}--|`;
    lines.push(`${s.time.toFixed(6).padStart(timeWidth)}  ${String(s.frame).padStart(frameWidth)}  ${arrow}  ${describeSegment(s)}`);
  });
  return lines;
}

/**
 * What a frame does, in the words of the layer table's Info column: its TCP events when
 * it belongs to a conversation, else what it is (`datagram (40 bytes)`, an ICMP message,
 * an ARP request).
 */
export function frameInfo(report: ExplainReport, p: DecodedPacket): string {
  const frame = p.record.index;
  const t = p.transport;
  if (t?.kind === 'tcp') {
    for (const conv of report.tcp) {
      if (frame < conv.firstFrame || frame > conv.lastFrame) continue;
      const s = conv.segments.find((x) => x.frame === frame);
      if (s) return describeSegment(s);
    }
    return 'TCP segment';
  }
  if (t?.kind === 'udp') return `datagram (${t.repr.payload.length} bytes)`;
  if (t?.kind === 'icmp') return icmpv4Summary(t.repr).replace(/^ICMP /, '');
  if (t?.kind === 'icmpv6') return icmpv6Summary(t.repr).replace(/^ICMP6, /, '');
  const net = p.network;
  if (net?.kind === 'arp') {
    const op = net.repr.operation;
    if (op === 1) return `ARP request: who has ${formatIp(net.repr.targetIp)}? tell ${formatIp(net.repr.senderIp)}`;
    if (op === 2) return `ARP reply: ${formatIp(net.repr.senderIp)} is at the sender's MAC`;
    return `ARP operation ${op}`;
  }
  if (p.problem) return `undecodable ${p.problem.layer} (${p.problem.reason})`;
  return net ? 'IP packet' : 'frame';
}
