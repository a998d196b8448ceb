/**
 * Results and drop reasons shared by every wire parser.
 *
 * Untrusted bytes never throw (DESIGN.md): a parser returns `{ ok: false, reason }`
 * with one of the reasons below, and the host counts the drop under that reason. Each
 * reason names one distinct fault so that `netstat -s`-style counters say what was wrong.
 */

/** Why a packet could not be parsed. One value per distinct fault. */
export type WireReason =
  /** The buffer is shorter than the fixed header of the protocol. */
  | 'truncated'
  /** The IP version nibble is not the one expected (4 or 6). */
  | 'bad-version'
  /** IPv4 IHL below 5 (a header shorter than 20 bytes). */
  | 'header-length-too-small'
  /** The header length field points past the end of the buffer or the datagram. */
  | 'header-length-past-end'
  /** IPv4 total length smaller than the header it must contain. */
  | 'total-length-too-small'
  /** IPv4 total length or IPv6 payload length beyond the bytes actually present. */
  | 'total-length-past-end'
  /** A checksum (IPv4 header, TCP, UDP, ICMP) does not verify. */
  | 'bad-checksum'
  /** TCP data offset below 5 (a header shorter than 20 bytes). */
  | 'data-offset-too-small'
  /** TCP data offset beyond the end of the segment. */
  | 'data-offset-past-end'
  /** An option (IPv4, IPv6 TLV or TCP) with a length field of 0 or 1, or wrong for its kind. */
  | 'option-length-invalid'
  /** An option whose length runs past the end of the options area. */
  | 'option-overrun'
  /** UDP length field below 8. */
  | 'length-too-small'
  /** UDP length field larger than the IP payload that carries it. */
  | 'length-past-end'
  /** An IPv6 extension header runs past the end of the packet. */
  | 'extension-header-truncated'
  /** An IPv6 extension-header chain longer than we are willing to walk, or misplaced hop-by-hop. */
  | 'extension-header-invalid'
  /** An IPv4 fragment whose offset plus length exceeds 65,535 bytes. */
  | 'bad-fragment'
  /** A field holds a value the protocol forbids (e.g. a UDP checksum of zero over IPv6). */
  | 'bad-field'
  /** A pcap or pcapng file that cannot be read (bad magic, truncated record, unknown block). */
  | 'bad-capture-file';

/** Every reason with one line for humans; the keys are the drop counters' names. */
export const WIRE_REASONS: Readonly<Record<WireReason, string>> = {
  'truncated': 'buffer shorter than the fixed header',
  'bad-version': 'IP version field is not 4 or 6 as expected',
  'header-length-too-small': 'IPv4 IHL below 5',
  'header-length-past-end': 'header length beyond the end of the packet',
  'total-length-too-small': 'IPv4 total length smaller than its header',
  'total-length-past-end': 'IP length field beyond the bytes present',
  'bad-checksum': 'checksum does not verify',
  'data-offset-too-small': 'TCP data offset below 5',
  'data-offset-past-end': 'TCP data offset beyond the end of the segment',
  'option-length-invalid': 'option length 0 or 1, or wrong for its kind',
  'option-overrun': 'option runs past the end of the options',
  'length-too-small': 'UDP length below 8',
  'length-past-end': 'UDP length beyond the IP payload',
  'extension-header-truncated': 'IPv6 extension header runs past the end',
  'extension-header-invalid': 'IPv6 extension-header chain invalid or too long',
  'bad-fragment': 'IPv4 fragment offset plus length beyond 65535',
  'bad-field': 'field holds a value the protocol forbids',
  'bad-capture-file': 'capture file is malformed',
};

/** The outcome of parsing untrusted bytes: a value, or the reason it was refused. */
export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: WireReason };

/** Wraps a value as a successful parse. */
export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

/** A failed parse with its reason. */
export function fail<T = never>(reason: WireReason): ParseResult<T> {
  return { ok: false, reason };
}
