/**
 * IANA assigned internet protocol numbers that l4 handles or walks over: the IPv4
 * `protocol` field and the IPv6 `next header` field share this space.
 */
export const IpProtocol = {
  HopByHop: 0,
  Icmp: 1,
  Tcp: 6,
  Udp: 17,
  Ipv6Route: 43,
  Ipv6Frag: 44,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  Ipv6NoNext: 59,
  Ipv6Opts: 60,
} as const;

/** A value of the protocol-number space (0-255). */
export type IpProtocolNumber = number;

/** The short name tcpdump and tshark use for a protocol number, or its decimal value. */
export function ipProtocolName(p: IpProtocolNumber): string {
  switch (p) {
    case 0: return 'hopopts';
    case 1: return 'icmp';
    case 6: return 'tcp';
    case 17: return 'udp';
    case 43: return 'routing';
    case 44: return 'frag';
    case 50: return 'esp';
    case 51: return 'ah';
    case 58: return 'icmp6';
    case 59: return 'none';
    case 60: return 'dstopts';
    default: return String(p);
  }
}
