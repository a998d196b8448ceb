/**
 * What a UDP probe carries. An empty datagram is ignored by most UDP services, which then
 * look exactly like a filtered port (no answer either way); a request in the service's own
 * protocol gets an answer from an open port. So, as nmap does with its nmap-payloads file,
 * l4 sends a minimal valid request where the port's protocol is known, and nothing
 * otherwise. These requests are written here from the protocols' RFCs (none is copied from
 * nmap-payloads); each asks for nothing that changes state.
 */

/**
 * DNS (RFC 1035 4.1): a standard query, recursion desired, for the root's NS records: id
 * 0x6c34, flags 0x0100, one question, name "." (a zero byte), QTYPE NS (2), QCLASS IN (1).
 */
const DNS_QUERY = Uint8Array.of(0x6c, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01);

/** NTP (RFC 5905 7.3): a 48-byte client request, LI 3 (unsynchronised), version 4, mode 3; the rest zero. */
const NTP_REQUEST = (() => { const b = new Uint8Array(48); b[0] = 0xe3; return b; })();

/**
 * SNMP v1 (RFC 1157) GetRequest, community "public", request-id 1, for sysDescr.0
 * (1.3.6.1.2.1.1.1.0), BER-encoded.
 */
const SNMP_GET = Uint8Array.of(
  0x30, 0x29, 0x02, 0x01, 0x00, 0x04, 0x06, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x63,
  0xa0, 0x1c, 0x02, 0x04, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
  0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
);

const EMPTY = new Uint8Array(0);

/** The payload of a UDP probe to `port`: a request in the port's protocol where l4 knows one (53 DNS, 123 NTP, 161 SNMP), else empty. */
export function udpProbePayload(port: number): Uint8Array {
  switch (port) {
    case 53: return DNS_QUERY;
    case 123: return NTP_REQUEST;
    case 161: return SNMP_GET;
    default: return EMPTY;
  }
}
