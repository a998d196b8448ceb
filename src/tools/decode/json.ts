/**
 * `l4 decode --json`: one JSON record per packet with every field of every layer l4
 * decoded. Addresses print as text (dotted quad, RFC 5952, colon-separated MACs), other
 * byte strings as lower-case hex, timestamps as exact decimal strings (nanoseconds do not
 * fit a JSON number), flags both as their value and by name.
 */
import { formatIp } from '../../wire/address.js';
import { linkTypeName, formatMac } from '../../wire/link.js';
import { formatTimestamp } from '../../wire/pcap.js';
import { WIRE_REASONS } from '../../wire/result.js';
import { TcpFlags } from '../../wire/tcp.js';
import type { ChecksumStatus, DecodedPacket } from './packet.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ADDRESS_KEYS = new Set(['src', 'dst', 'senderIp', 'targetIp', 'target', 'address']);
const MAC_KEYS = new Set(['srcMac', 'dstMac', 'senderMac', 'targetMac']);

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, '0');
  return out;
}

/** Converts a wire record to JSON, naming addresses and hex-encoding other bytes. */
function toJson(value: unknown, key = ''): Json {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) {
    if (ADDRESS_KEYS.has(key) && (value.length === 4 || value.length === 16)) return formatIp(value);
    if (MAC_KEYS.has(key) && value.length === 6) return formatMac(value);
    return hex(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => toJson(v));
  if (typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, k);
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

function checksumJson(status: ChecksumStatus): string {
  return status === true ? 'good' : status === false ? 'bad' : status;
}

const FLAG_NAMES = Object.entries(TcpFlags) as Array<[string, number]>;

/** The JSON record of one decoded packet. */
export function decodedToJson(p: DecodedPacket): Json {
  const r = p.record;
  const out: { [k: string]: Json } = {
    frame: toJson({
      number: r.index,
      epoch: formatTimestamp(r.timestamp),
      capturedLength: r.capturedLength,
      originalLength: r.originalLength,
      missingBytes: p.missingBytes,
      linkType: r.linkType,
      linkTypeName: linkTypeName(r.linkType),
      interfaceId: r.interfaceId,
      comment: r.comment,
    }),
  };
  if (p.link) {
    const { payload: _payload, ...link } = p.link;
    out.link = toJson(link);
  }
  const net = p.network;
  if (net?.kind === 'ipv4') out.ipv4 = toJson({ ...net.repr, payload: undefined, payloadLength: net.repr.payload.length, checksumStatus: net.checksumValid ? 'good' : 'bad' });
  if (net?.kind === 'ipv6') out.ipv6 = toJson({ ...net.repr, payload: undefined, payloadLength: net.repr.payload.length });
  if (net?.kind === 'arp') out.arp = toJson(net.repr);
  const t = p.transport;
  if (t?.kind === 'tcp') {
    out.tcp = toJson({
      ...t.repr,
      flagNames: FLAG_NAMES.filter(([, bit]) => (t.repr.flags & bit) !== 0).map(([name]) => name),
      checksum: t.wireChecksum,
      checksumStatus: checksumJson(t.checksum),
      checksumExpected: t.computedChecksum,
      payloadLength: t.repr.payload.length,
    });
  }
  if (t?.kind === 'udp') {
    out.udp = toJson({ ...t.repr, checksumStatus: checksumJson(t.checksum), checksumExpected: t.computedChecksum, payloadLength: t.repr.payload.length });
  }
  if (t?.kind === 'icmp' || t?.kind === 'icmpv6') {
    out[t.kind] = toJson({ ...t.repr, checksumStatus: checksumJson(t.checksum), quoted: t.quoted });
  }
  if (p.problem) out.problem = { layer: p.problem.layer, reason: p.problem.reason, message: WIRE_REASONS[p.problem.reason] };
  return out;
}
