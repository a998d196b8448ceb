/**
 * One line per packet in tcpdump's manner, as `tcpdump -nn -r FILE` prints it with the
 * time zone set to UTC: `HH:MM:SS.uuuuuu IP src.port > dst.port: Flags [S.], seq …, ack …,
 * win …, options […], length N`. TCP sequence numbers are relative after the first packet
 * of a conversation, as tcpdump prints them without -S, so one formatter instance must see
 * a capture's packets in order. Where tcpdump would dissect an application protocol l4 does
 * not (DNS, for instance), the line ends at the transport layer (`UDP, length N`); HTTP's
 * first line is shown as tcpdump shows it. A checksum that does not verify is flagged with
 * tcpdump's `-v` wording so the line says what is wrong.
 */
import { formatIp } from '../../wire/address.js';
import { ipProtocolName } from '../../wire/ip-protocol.js';
import { formatMac } from '../../wire/link.js';
import { formatTcpFlags, TcpFlags } from '../../wire/tcp.js';
import { formatTcpOptions, type TcpOption } from '../../wire/tcp-options.js';
import { seqAdd } from '../../wire/seq.js';
import { icmpv4Summary } from '../../wire/icmpv4.js';
import { icmpv6Summary } from '../../wire/icmpv6.js';
import { WIRE_REASONS } from '../../wire/result.js';
import type { DecodedNetwork, DecodedPacket, DecodedTransport } from './packet.js';
import { RelativeSequence } from './relative-seq.js';

/** `HH:MM:SS.uuuuuu` of a nanosecond timestamp, in UTC (tcpdump's default format, TZ=UTC). */
export function tcpdumpTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const micros = (ns % 1_000_000_000n) / 1000n;
  const daySeconds = Number(((seconds % 86_400n) + 86_400n) % 86_400n);
  const hh = String(Math.floor(daySeconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor((daySeconds % 3600) / 60)).padStart(2, '0');
  const ss = String(daySeconds % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}.${String(micros < 0n ? -micros : micros).padStart(6, '0')}`;
}

/** TCP ports on which tcpdump prints HTTP's first line. */
const HTTP_PORTS = new Set([80, 3128, 8080]);
const HTTP_START = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|TRACE|CONNECT|PATCH|HTTP\/\d\.\d) /;

/** Formats packets of one capture, in order. */
export class TcpdumpFormatter {
  readonly #relative = new RelativeSequence();

  /** The line for one decoded packet (without the trailing newline). */
  format(p: DecodedPacket): string {
    return `${tcpdumpTime(p.record.timestamp)} ${sll2Prefix(p)}${this.#body(p)}`;
  }

  #body(p: DecodedPacket): string {
    const net = p.network;
    if (!net) {
      if (p.problem) return `${p.problem.layer}: [${WIRE_REASONS[p.problem.reason]} (${p.problem.reason})], captured ${p.record.capturedLength} bytes`;
      const type = p.link?.etherType;
      return type === undefined ? `unknown link type ${p.record.linkType}, length ${p.record.originalLength}`
        : `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${p.record.originalLength}`;
    }
    if (net.kind === 'arp') {
      const a = net.repr;
      if (a.operation === 1) return `ARP, Request who-has ${formatIp(a.targetIp)} tell ${formatIp(a.senderIp)}, length 28`;
      if (a.operation === 2) return `ARP, Reply ${formatIp(a.senderIp)} is-at ${formatMac(a.senderMac)}, length 28`;
      return `ARP, opcode ${a.operation}, length 28`;
    }
    const family = net.kind === 'ipv4' ? 'IP' : 'IP6';
    const src = formatIp(net.repr.src);
    const dst = formatIp(net.repr.dst);
    const ipBad = net.kind === 'ipv4' && !net.checksumValid ? ' [bad ip cksum]' : '';
    const t = p.transport;
    if (!t) {
      if (p.problem) return `${family} ${src} > ${dst}:${ipBad} [${p.problem.layer}: ${WIRE_REASONS[p.problem.reason]} (${p.problem.reason})]`;
      const protocol = net.kind === 'ipv4' ? net.repr.protocol : net.repr.upperProtocol;
      const payloadLength = net.repr.payload.length;
      const fragment = net.kind === 'ipv4' ? (net.repr.fragmentOffset !== 0 ? ` (frag ${net.repr.identification}:${payloadLength}@${net.repr.fragmentOffset})` : '')
        : net.repr.fragment ? ` (frag ${net.repr.fragment.identification}:${payloadLength}@${net.repr.fragment.offset})` : '';
      return `${family} ${src} > ${dst}:${ipBad} ${ipProtocolName(protocol)}${fragment}, length ${payloadLength}`;
    }
    switch (t.kind) {
      case 'tcp': return `${family} ${src}.${t.repr.srcPort} > ${dst}.${t.repr.dstPort}:${ipBad} ${this.#tcp(net.repr.src, net.repr.dst, t)}`;
      case 'udp': return `${family} ${src}.${t.repr.srcPort} > ${dst}.${t.repr.dstPort}:${ipBad} UDP, length ${t.repr.payload.length}${checksumNote('udp', t.checksum, t.wireChecksum, t.computedChecksum)}`;
      case 'icmp': return `${family} ${src} > ${dst}:${ipBad} ${icmpv4Summary(t.repr)}${t.checksum === false ? ' [bad icmp cksum]' : ''}`;
      case 'icmpv6': return `${family} ${src} > ${dst}: ${extensionPrefix(net)}${icmpv6Summary(t.repr)}${t.checksum === false ? ' [bad icmp6 cksum]' : ''}`;
    }
  }

  #tcp(src: Uint8Array, dst: Uint8Array, t: DecodedTransport & { kind: 'tcp' }): string {
    const r = t.repr;
    const length = r.payload.length;
    const syn = (r.flags & TcpFlags.SYN) !== 0;
    const ack = (r.flags & TcpFlags.ACK) !== 0;
    const rel = this.#relative.apply(src, r.srcPort, dst, r.dstPort, r.seqNumber, r.ackNumber, { syn, ack });
    let line = `Flags [${formatTcpFlags(r.flags)}]`;
    // tcpdump prints seq only when the segment occupies sequence space or resets.
    if (length > 0 || (r.flags & (TcpFlags.SYN | TcpFlags.FIN | TcpFlags.RST)) !== 0) {
      line += `, seq ${rel.seq}`;
      if (length > 0) line += `:${(rel.seq + length) >>> 0}`;
    }
    if (ack) line += `, ack ${rel.ack}`;
    line += `, win ${r.window}`;
    if ((r.flags & TcpFlags.URG) !== 0) line += `, urg ${r.urgentPointer}`;
    if (r.options.length > 0) line += `, options [${formatTcpOptions(relativeSack(r.options, rel.peerBase))}]`;
    line += `, length ${length}`;
    line += checksumNote('tcp', t.checksum, t.wireChecksum, t.computedChecksum);
    if (length > 0 && (HTTP_PORTS.has(r.srcPort) || HTTP_PORTS.has(r.dstPort))) line += httpNote(r.payload);
    return line;
  }
}

/** tcpdump names IPv6 option headers before the upper layer: `HBH ` (hop-by-hop), `DSTOPT `. */
function extensionPrefix(net: DecodedNetwork): string {
  if (net.kind !== 'ipv6') return '';
  let out = '';
  for (const h of net.repr.extensionHeaders) {
    if (h.type === 0) out += 'HBH ';
    else if (h.type === 60) out += 'DSTOPT ';
  }
  return out;
}

/** SLL2 packet types as tcpdump prints the direction (PACKET_HOST, BROADCAST, MULTICAST, OTHERHOST, OUTGOING). */
const SLL_DIRECTIONS = ['In', 'B', 'M', 'P', 'Out'];

/**
 * tcpdump prints an SLL2 frame's interface and direction first (`lo    In  IP …`). The
 * interface *name* belongs to the machine that captured it, so l4 prints its index.
 */
function sll2Prefix(p: DecodedPacket): string {
  const link = p.link;
  if (!link || link.interfaceIndex === undefined || link.sllPacketType === undefined) return '';
  const direction = SLL_DIRECTIONS[link.sllPacketType] ?? String(link.sllPacketType);
  return `${String(link.interfaceIndex).padEnd(5)} ${direction.padEnd(3)} `;
}

/** SACK edges relative to the peer's base, as tcpdump prints them without -S. */
function relativeSack(options: readonly TcpOption[], peerBase: number): readonly TcpOption[] {
  if (peerBase === 0 || !options.some((o) => o.kind === 'sack')) return options;
  return options.map((o) => o.kind !== 'sack' ? o : {
    ...o, blocks: o.blocks.map((b) => ({ left: seqAdd(b.left, -peerBase), right: seqAdd(b.right, -peerBase) })),
  });
}

/** tcpdump -v's wording for a checksum that does not verify; nothing when it does. */
function checksumNote(proto: string, status: boolean | 'none' | 'unknown', found: number, expected: number): string {
  if (status !== false) return '';
  const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
  return ` [bad ${proto} cksum ${hex(found)} -> ${hex(expected)}]`;
}

/** `: HTTP: <first line>` for a request or status line, `: HTTP` for other HTTP data. */
function httpNote(payload: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(payload.subarray(0, Math.min(payload.length, 256)));
  const firstLine = head.split('\r\n', 1)[0] ?? '';
  return HTTP_START.test(firstLine) && head.includes('\r\n') ? `: HTTP: ${firstLine}` : ': HTTP';
}
