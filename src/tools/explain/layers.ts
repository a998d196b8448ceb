/**
 * One frame, layer by layer, in the form the seeds use to teach encapsulation:
 *
 * | Layer | Protocol | PDU | Info | Ports | IPs | MACs |
 *
 * Transport (TCP Segments, UDP Datagrams, ICMP Messages), Network (IP or IPv6 Packets, or
 * ARP), Data Link (Ethernet Frames, or the capture's link type) and Physical (Bits). Each
 * row repeats what the rows above it carry (the network row has the ports too, the data
 * link row everything), as the seeds' tables do. The physical row shows bits: the first
 * three bytes of the frame in the Info column and, under Ports, IPs and MACs, the first two
 * bytes of the source port, source address and source MAC as they go on the wire. A
 * capture does not record the medium, so the physical protocol says what can be known.
 */
import { formatIp } from '../../wire/address.js';
import { LinkType, formatMac, linkTypeName } from '../../wire/link.js';
import type { DecodedPacket } from '../decode/packet.js';

/** One row of the table. Empty strings where the seeds leave a cell empty. */
export interface LayerRow {
  readonly layer: 'Transport Layer' | 'Network Layer' | 'Data Link Layer' | 'Physical Layer';
  readonly protocol: string;
  readonly pdu: string;
  readonly info: string;
  readonly ports: string;
  readonly ips: string;
  readonly macs: string;
}

/** The column titles, as the seeds spell them. */
export const LAYER_COLUMNS = ['Layer', 'Protocol', 'PDU', 'Info', 'Ports', 'IPs', 'MACs'] as const;

/** A byte as eight binary digits. */
function bits(bytes: Uint8Array, start: number, count: number): string {
  const out: string[] = [];
  for (let i = start; i < start + count && i < bytes.length; i++) out.push(bytes[i]!.toString(2).padStart(8, '0'));
  return out.join(' ');
}

/** The name of the link layer a frame was captured with. */
export function linkProtocolName(p: DecodedPacket): string {
  const vlan = p.link?.vlan?.length ? ` 802.1Q (VLAN ${p.link.vlan.join(', ')})` : '';
  switch (p.record.linkType) {
    case LinkType.Ethernet: return `Ethernet${vlan}`;
    case LinkType.LinuxSll: return `Linux cooked capture (SLL)${vlan}`;
    case LinkType.LinuxSll2: return `Linux cooked capture v2 (SLL2)${vlan}`;
    case LinkType.Raw: case LinkType.RawBsd: case LinkType.Ipv4: case LinkType.Ipv6: return 'Raw IP (no link header)';
    case LinkType.Null: case LinkType.Loop: return 'BSD loopback';
    default: return linkTypeName(p.record.linkType);
  }
}

function mediumName(p: DecodedPacket): string {
  switch (p.record.linkType) {
    case LinkType.Ethernet: return 'Ethernet PHY (medium not recorded)';
    case LinkType.Null: case LinkType.Loop: return 'loopback (no medium)';
    default: return 'not recorded';
  }
}

/**
 * The layer table of one decoded frame. `info` describes what the frame does (e.g.
 * `3-way handshake (SYN)`); it goes in the Info column of every row but the physical one.
 */
export function layerTable(p: DecodedPacket, info: string): LayerRow[] {
  const rows: LayerRow[] = [];
  const t = p.transport;
  const net = p.network;
  const link = p.link;
  const data = p.record.data;

  let ports = '';
  let portBytes: { offset: number } | undefined;
  if (t && (t.kind === 'tcp' || t.kind === 'udp')) {
    ports = `Src Port: ${t.repr.srcPort} Dst Port: ${t.repr.dstPort}`;
  }
  let ips = '';
  let srcAddressOffset: number | undefined;
  const netOffset = link?.headerLength ?? 0;
  if (net?.kind === 'ipv4' || net?.kind === 'ipv6') {
    ips = `Src IP: ${formatIp(net.repr.src)} Dst IP: ${formatIp(net.repr.dst)}`;
    srcAddressOffset = netOffset + (net.kind === 'ipv4' ? 12 : 8);
    const ipHeader = net.kind === 'ipv4' ? net.repr.headerLength : ipv6HeaderLength(p);
    if (ports) portBytes = { offset: netOffset + ipHeader };
  } else if (net?.kind === 'arp') {
    ips = `Sender IP: ${formatIp(net.repr.senderIp)} Target IP: ${formatIp(net.repr.targetIp)}`;
    srcAddressOffset = netOffset + 14;
  }
  let macs = '';
  let srcMacOffset: number | undefined;
  if (link?.srcMac && link.dstMac) {
    macs = `Src MAC: ${formatMac(link.srcMac)} Dst MAC: ${formatMac(link.dstMac)}`;
    srcMacOffset = 6;
  } else if (link?.srcMac) {
    macs = `Src MAC: ${formatMac(link.srcMac)}`;
    srcMacOffset = p.record.linkType === LinkType.LinuxSll2 ? 12 : p.record.linkType === LinkType.LinuxSll ? 6 : undefined;
  }

  if (t) {
    const protocol = t.kind === 'tcp' ? 'TCP' : t.kind === 'udp' ? 'UDP' : t.kind === 'icmp' ? 'ICMP' : 'ICMPv6';
    const pdu = t.kind === 'tcp' ? 'Segments' : t.kind === 'udp' ? 'Datagrams' : 'Messages';
    rows.push({ layer: 'Transport Layer', protocol, pdu, info, ports, ips: '', macs: '' });
  }
  if (net) {
    const protocol = net.kind === 'ipv4' ? 'IP' : net.kind === 'ipv6' ? 'IPv6' : 'ARP';
    rows.push({ layer: 'Network Layer', protocol, pdu: 'Packets', info, ports, ips, macs: '' });
  }
  rows.push({ layer: 'Data Link Layer', protocol: linkProtocolName(p), pdu: 'Frames', info, ports, ips, macs });
  rows.push({
    layer: 'Physical Layer', protocol: mediumName(p), pdu: 'Bits',
    info: bits(data, 0, 3),
    ports: portBytes ? bits(data, portBytes.offset, 2) : '',
    ips: srcAddressOffset !== undefined ? bits(data, srcAddressOffset, 2) : '',
    macs: srcMacOffset !== undefined ? bits(data, srcMacOffset, 2) : '',
  });
  return rows;
}

/** Bytes from the start of the IPv6 header to the transport header (40 plus extension headers). */
function ipv6HeaderLength(p: DecodedPacket): number {
  const net = p.network;
  if (net?.kind !== 'ipv6' || !p.link) return 40;
  // The payload view of the parsed datagram starts right after the extension headers.
  const start = p.link.payload.byteOffset;
  return net.repr.payload.byteOffset - start;
}
