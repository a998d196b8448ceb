/**
 * `l4 decode`: a capture file, packet by packet, as tcpdump-style lines or JSON records.
 */
export { decodePacket, type DecodedPacket, type DecodedNetwork, type DecodedTransport, type DecodeProblem, type ChecksumStatus } from './packet.js';
export { TcpdumpFormatter, tcpdumpTime } from './tcpdump.js';
export { decodedToJson } from './json.js';
