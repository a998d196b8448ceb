/**
 * Link-layer decapsulation: from a captured frame and its LINKTYPE_* (tcpdump.org's
 * link-layer header types) to the network-layer bytes inside and what they are.
 *
 * Contract: `decapsulate` never throws and copies nothing but the MAC addresses. It reads
 * Ethernet (with 802.1Q / 802.1ad VLAN tags walked), raw IP (101 and 12, version from the
 * first nibble), LINKTYPE_IPV4 / IPV6, Linux cooked capture v1 and v2 (what `-i any`
 * gives), and BSD loopback (NULL, host byte order; LOOP, network byte order). A frame too
 * short for its link header is 'truncated'. Unknown link types, and known ones carrying
 * something that is not IP or ARP, are not errors: the frame comes back with network
 * 'other' so that a reader can count and skip it. The payload is a `subarray` view and may
 * carry trailing padding (an Ethernet minimum-size frame): the IP layer's own length field
 * says where the datagram ends.
 */
import { readU16, readU32 } from './bytes.js';
import type { ParseResult } from './result.js';
import { fail, ok } from './result.js';

/** LINKTYPE_* values read here (https://www.tcpdump.org/linktypes.html). */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  Null: 0,
  /** Ethernet (DLT_EN10MB). */
  Ethernet: 1,
  /** Raw IP as DLT_RAW is numbered on some BSDs (12); same meaning as Raw. */
  RawBsd: 12,
  /** Raw IPv4 or IPv6, version from the first nibble. What l4 writes. */
  Raw: 101,
  /** OpenBSD loopback: like Null but the family is big-endian. */
  Loop: 108,
  /** Linux cooked capture v1 (16-byte header). */
  LinuxSll: 113,
  /** Raw IPv4 only. */
  Ipv4: 228,
  /** Raw IPv6 only. */
  Ipv6: 229,
  /** Linux cooked capture v2 (20-byte header, with the interface index). */
  LinuxSll2: 276,
} as const;

/** EtherTypes this module interprets. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** IEEE 802.1Q customer VLAN tag. */
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  /** IEEE 802.1ad service VLAN tag (QinQ outer tag). */
  ServiceVlan: 0x88a8,
  /** Pre-standard QinQ outer tag still seen in the wild. */
  LegacyQinq: 0x9100,
} as const;

/** Linux cooked-capture packet types (sll_pkttype, `<linux/if_packet.h>`). */
export const SllPacketType = {
  Host: 0,
  Broadcast: 1,
  Multicast: 2,
  OtherHost: 3,
  Outgoing: 4,
} as const;

/** Address families that mark IP in a NULL/LOOP header: 2 everywhere, IPv6 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin). */
export const LoopbackFamily = { Inet: 2, Inet6Bsd: 24, Inet6FreeBsd: 28, Inet6Darwin: 30 } as const;

/** What the payload of a frame is. */
export type LinkNetwork = 'ipv4' | 'ipv6' | 'arp' | 'other';

/** A frame with its link header taken off. */
export interface LinkFrame {
  /** The LINKTYPE_* it was decoded as. */
  readonly linkType: number;
  /** What `payload` carries. */
  readonly network: LinkNetwork;
  /** Bytes of link header (including VLAN tags) before `payload`. */
  readonly headerLength: number;
  /**
   * EtherType of the payload (Ethernet, SLL, SLL2), after any VLAN tags. For an 802.3
   * frame (a value below 0x0600) it is the length field, and network is 'other'.
   */
  readonly etherType?: number;
  /** Ethernet destination (a copy). */
  readonly dstMac?: Uint8Array;
  /** Ethernet source, or the SLL/SLL2 link-layer address when it is 6 bytes (a copy). */
  readonly srcMac?: Uint8Array;
  /** VLAN IDs of the 802.1Q/802.1ad tags, outermost first. */
  readonly vlan?: number[];
  /** SLL/SLL2 packet type (see SllPacketType). */
  readonly sllPacketType?: number;
  /** SLL/SLL2 ARPHRD_* type of the capturing device (1 Ethernet, 772 loopback, ...). */
  readonly arphrdType?: number;
  /** SLL2 interface index on the capturing host. */
  readonly interfaceIndex?: number;
  /** NULL/LOOP address family. */
  readonly addressFamily?: number;
  /** The network-layer bytes, a view into the frame. */
  readonly payload: Uint8Array;
}

const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'EN10MB',
  9: 'PPP',
  12: 'RAW',
  101: 'RAW',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIO',
  228: 'IPV4',
  229: 'IPV6',
  276: 'LINUX_SLL2',
};

/**
 * The name tcpdump uses for a link type (`EN10MB`, `RAW`, `LINUX_SLL`, `LINUX_SLL2`,
 * `IPV4`, `IPV6`, `NULL`, ...); `LINKTYPE_<n>` for one this table does not know.
 */
export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

/** True for the link types `decapsulate` understands (rather than returning 'other'). */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LinkType.Null: case LinkType.Ethernet: case LinkType.RawBsd: case LinkType.Raw: case LinkType.Loop:
    case LinkType.LinuxSll: case LinkType.Ipv4: case LinkType.Ipv6: case LinkType.LinuxSll2:
      return true;
    default:
      return false;
  }
}

/** A MAC address as tcpdump prints it: six lower-case hex pairs joined by colons. */
export function formatMac(mac: Uint8Array): string {
  let s = '';
  for (let i = 0; i < mac.length; i++) {
    if (i > 0) s += ':';
    s += mac[i]!.toString(16).padStart(2, '0');
  }
  return s;
}

/** A record under construction: optional fields are only set when present. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function isVlanTag(etherType: number): boolean {
  return etherType === EtherType.Vlan || etherType === EtherType.ServiceVlan || etherType === EtherType.LegacyQinq;
}

function networkOf(etherType: number): LinkNetwork {
  if (etherType === EtherType.Ipv4) return 'ipv4';
  if (etherType === EtherType.Ipv6) return 'ipv6';
  if (etherType === EtherType.Arp) return 'arp';
  return 'other';
}

/** What comes after an EtherType at `at`: the tags walked, the inner EtherType and where the payload starts. */
interface Tagged {
  etherType: number;
  start: number;
  vlan: number[] | undefined;
}

/**
 * Walks 802.1Q/802.1ad tags (IEEE 802.1Q 9.6: TPID, then a 16-bit TCI whose low 12 bits are
 * the VLAN ID, then the next EtherType). Each tag consumes 4 bytes, so the walk ends.
 * Returns undefined when a tag is cut short.
 */
function walkTags(frame: Uint8Array, etherType: number, start: number): Tagged | undefined {
  let vlan: number[] | undefined;
  while (isVlanTag(etherType)) {
    if (frame.length - start < 4) return undefined;
    (vlan ??= []).push(readU16(frame, start) & 0x0fff);
    etherType = readU16(frame, start + 2);
    start += 4;
  }
  return { etherType, start, vlan };
}

function decapEthernet(frame: Uint8Array): ParseResult<LinkFrame> {
  if (frame.length < 14) return fail('truncated');
  const tagged = walkTags(frame, readU16(frame, 12), 14);
  if (tagged === undefined) return fail('truncated');
  const { etherType, start, vlan } = tagged;
  const out: Mutable<LinkFrame> = {
    linkType: LinkType.Ethernet, network: networkOf(etherType), headerLength: start, etherType,
    dstMac: frame.slice(0, 6), srcMac: frame.slice(6, 12), payload: frame.subarray(start),
  };
  if (vlan !== undefined) out.vlan = vlan;
  return ok(out);
}

/** ARPHRD_NETLINK: the SLL protocol field is then a netlink family, not an EtherType. */
const ARPHRD_NETLINK = 824;

/** The shared tail of SLL v1 and v2: protocol, VLAN tags, address. */
function cooked(
  frame: Uint8Array, linkType: number, protocol: number, headerLength: number,
  arphrdType: number, sllPacketType: number, addrStart: number, addrLen: number, interfaceIndex: number | undefined,
): ParseResult<LinkFrame> {
  let etherType = protocol;
  let start = headerLength;
  let vlan: number[] | undefined;
  let network: LinkNetwork = 'other';
  // Below 0x0600 the field is a Linux ETH_P_* pseudo-protocol (802.2, 802.3, CAN, ...);
  // libpcap's sll.h: for netlink devices it is the netlink family. Neither is IP.
  if (arphrdType !== ARPHRD_NETLINK && protocol >= 0x0600) {
    // libpcap re-inserts stripped VLAN tags into cooked captures, so walk them here too.
    const tagged = walkTags(frame, protocol, headerLength);
    if (tagged === undefined) return fail('truncated');
    ({ etherType, start, vlan } = tagged);
    network = networkOf(etherType);
  }
  const out: Mutable<LinkFrame> = {
    linkType, network, headerLength: start, etherType, sllPacketType, arphrdType, payload: frame.subarray(start),
  };
  if (interfaceIndex !== undefined) out.interfaceIndex = interfaceIndex;
  if (addrLen === 6) out.srcMac = frame.slice(addrStart, addrStart + 6);
  if (vlan !== undefined) out.vlan = vlan;
  return ok(out);
}

/** libpcap sll.h, SLL v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
function decapSll(frame: Uint8Array): ParseResult<LinkFrame> {
  if (frame.length < 16) return fail('truncated');
  return cooked(frame, LinkType.LinuxSll, readU16(frame, 14), 16, readU16(frame, 2), readU16(frame, 0), 6, readU16(frame, 4), undefined);
}

/** libpcap sll.h, SLL v2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes. */
function decapSll2(frame: Uint8Array): ParseResult<LinkFrame> {
  if (frame.length < 20) return fail('truncated');
  return cooked(frame, LinkType.LinuxSll2, readU16(frame, 0), 20, readU16(frame, 8), frame[10]!, 12, frame[11]!, readU32(frame, 4));
}

/**
 * NULL (0) and LOOP (108): a 4-byte address family. NULL stores it in the byte order of the
 * host that captured, which we do not know; families are small numbers, so a value with
 * bytes in the upper half was written by the other byte order (Wireshark's packet-null.c
 * reasons the same way).
 */
function decapLoopback(frame: Uint8Array, linkType: number): ParseResult<LinkFrame> {
  if (frame.length < 4) return fail('truncated');
  const big = ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) >>> 0;
  const little = ((frame[3]! << 24) | (frame[2]! << 16) | (frame[1]! << 8) | frame[0]!) >>> 0;
  const addressFamily = linkType === LinkType.Loop ? big : (little > 0xffff ? big : little);
  let network: LinkNetwork = 'other';
  if (addressFamily === LoopbackFamily.Inet) network = 'ipv4';
  else if (addressFamily === LoopbackFamily.Inet6Bsd || addressFamily === LoopbackFamily.Inet6FreeBsd
    || addressFamily === LoopbackFamily.Inet6Darwin) network = 'ipv6';
  return ok({ linkType, network, headerLength: 4, addressFamily, payload: frame.subarray(4) });
}

/** Raw IP: no link header; the version nibble says which IP. */
function decapRaw(frame: Uint8Array, linkType: number): ParseResult<LinkFrame> {
  if (frame.length < 1) return fail('truncated');
  const version = frame[0]! >>> 4;
  const network: LinkNetwork = version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : 'other';
  return ok({ linkType, network, headerLength: 0, payload: frame });
}

/**
 * Takes the link header off a captured frame. 'truncated' when the frame is shorter than
 * its link header (including a VLAN tag cut short); an unknown link type gives network
 * 'other' with the whole frame as payload.
 */
export function decapsulate(linkType: number, frame: Uint8Array): ParseResult<LinkFrame> {
  switch (linkType) {
    case LinkType.Ethernet: return decapEthernet(frame);
    case LinkType.Raw:
    case LinkType.RawBsd: return decapRaw(frame, linkType);
    case LinkType.Ipv4: return ok({ linkType, network: 'ipv4', headerLength: 0, payload: frame });
    case LinkType.Ipv6: return ok({ linkType, network: 'ipv6', headerLength: 0, payload: frame });
    case LinkType.LinuxSll: return decapSll(frame);
    case LinkType.LinuxSll2: return decapSll2(frame);
    case LinkType.Null:
    case LinkType.Loop: return decapLoopback(frame, linkType);
    default: return ok({ linkType, network: 'other', headerLength: 0, payload: frame });
  }
}
