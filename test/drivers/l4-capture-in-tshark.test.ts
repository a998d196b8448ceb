/**
 * Issue 2, "must show": a pcap written by l4 opens in tshark with checksum validation
 * switched on and shows no bad checksum and no malformed packet. The packets are built by
 * l4's own emitters: a TCP conversation over IPv4 and IPv6 (options, data, SACK, FIN, RST),
 * UDP over both families, ICMP and ICMPv6 echo, and ICMP errors quoting real datagrams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapMemoryWriter } from '../../src/drivers/pcap/writer.js';
import { parseIpAddress } from '../../src/wire/address.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { emitIpv4, ipv4BufferLen } from '../../src/wire/ipv4.js';
import { emitIpv6, ipv6BufferLen } from '../../src/wire/ipv6.js';
import { emitTcp, tcpBufferLen, TcpFlags, tcpRepr, type TcpOption, type TcpRepr } from '../../src/wire/tcp.js';
import { emitUdp, udpBufferLen } from '../../src/wire/udp.js';
import { emitIcmpv4, icmpv4BufferLen, type Icmpv4Repr } from '../../src/wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen, type Icmpv6Repr } from '../../src/wire/icmpv6.js';
import { needTool, tsharkFields } from '../support/tshark.js';

const A4 = parseIpAddress('10.77.0.1')!;
const B4 = parseIpAddress('10.77.0.2')!;
const A6 = parseIpAddress('fd00:77::1')!;
const B6 = parseIpAddress('fd00:77::2')!;

function ip(src: Uint8Array, dst: Uint8Array, protocol: number, payload: Uint8Array, options = new Uint8Array(0)): Uint8Array {
  if (src.length === 4) {
    const repr = { src, dst, protocol, ttl: 64, dscp: 0, ecn: 0, identification: 0x1234, dontFragment: true, moreFragments: false, fragmentOffset: 0, options, payload };
    const buf = new Uint8Array(ipv4BufferLen(repr));
    emitIpv4(repr, buf);
    return buf;
  }
  const repr = { src, dst, trafficClass: 0, flowLabel: 0x12345, hopLimit: 64, extensionHeaders: [], upperProtocol: protocol, payload };
  const buf = new Uint8Array(ipv6BufferLen(repr));
  emitIpv6(repr, buf);
  return buf;
}

function tcp(src: Uint8Array, dst: Uint8Array, fields: Partial<TcpRepr> & Pick<TcpRepr, 'srcPort' | 'dstPort'>): Uint8Array {
  const repr = tcpRepr({ window: 502, ...fields });
  const seg = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, seg, 0, src, dst);
  return ip(src, dst, IpProtocol.Tcp, seg);
}

function udp(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, text: string): Uint8Array {
  const repr = { srcPort, dstPort, payload: new TextEncoder().encode(text) };
  const dgram = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, dgram, 0, src, dst);
  return ip(src, dst, IpProtocol.Udp, dgram);
}

function icmp4(src: Uint8Array, dst: Uint8Array, repr: Icmpv4Repr): Uint8Array {
  const msg = new Uint8Array(icmpv4BufferLen(repr));
  emitIcmpv4(repr, msg);
  return ip(src, dst, IpProtocol.Icmp, msg);
}

function icmp6(src: Uint8Array, dst: Uint8Array, repr: Icmpv6Repr): Uint8Array {
  const msg = new Uint8Array(icmpv6BufferLen(repr));
  emitIcmpv6(repr, msg, 0, src, dst);
  return ip(src, dst, IpProtocol.Icmpv6, msg);
}

/** A whole TCP conversation between a and b: handshake with options, data both ways, SACK, FIN, FIN. */
function conversation(a: Uint8Array, b: Uint8Array, aPort: number, bPort: number): Uint8Array[] {
  const isnA = 0xfffff000; // wraps past 2^32 during the exchange
  const isnB = 1000;
  const synOptions: TcpOption[] = [{ kind: 'mss', value: a.length === 4 ? 1460 : 1440 }, { kind: 'sack-permitted' },
    { kind: 'timestamps', tsVal: 1, tsEcr: 0 }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }];
  const ts = (v: number, e: number): TcpOption[] => [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: v, tsEcr: e }];
  const data = new Uint8Array(3000).map((_, i) => 32 + (i % 90));
  const A = { srcPort: aPort, dstPort: bPort };
  const B = { srcPort: bPort, dstPort: aPort };
  return [
    tcp(a, b, { ...A, seqNumber: isnA, flags: TcpFlags.SYN, window: 64240, options: synOptions }),
    tcp(b, a, { ...B, seqNumber: isnB, ackNumber: isnA + 1, flags: TcpFlags.SYN | TcpFlags.ACK, window: 65160, options: synOptions }),
    tcp(a, b, { ...A, seqNumber: (isnA + 1) >>> 0, ackNumber: isnB + 1, flags: TcpFlags.ACK, options: ts(2, 1) }),
    tcp(a, b, { ...A, seqNumber: (isnA + 1) >>> 0, ackNumber: isnB + 1, flags: TcpFlags.ACK | TcpFlags.PSH, options: ts(3, 1), payload: data.subarray(0, 1200) }),
    tcp(a, b, { ...A, seqNumber: (isnA + 2401) >>> 0, ackNumber: isnB + 1, flags: TcpFlags.ACK | TcpFlags.PSH, options: ts(3, 1), payload: data.subarray(2400, 3000) }),
    tcp(b, a, { ...B, seqNumber: isnB + 1, ackNumber: (isnA + 1201) >>> 0, flags: TcpFlags.ACK, options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: (isnA + 2401) >>> 0, right: (isnA + 3001) >>> 0 }] }] }),
    tcp(a, b, { ...A, seqNumber: (isnA + 1201) >>> 0, ackNumber: isnB + 1, flags: TcpFlags.ACK, options: ts(4, 1), payload: data.subarray(1200, 2400) }),
    tcp(b, a, { ...B, seqNumber: isnB + 1, ackNumber: (isnA + 3001) >>> 0, flags: TcpFlags.ACK | TcpFlags.PSH, options: ts(5, 4), payload: new TextEncoder().encode('thanks\n') }),
    tcp(a, b, { ...A, seqNumber: (isnA + 3001) >>> 0, ackNumber: isnB + 8, flags: TcpFlags.ACK | TcpFlags.FIN, options: ts(6, 5) }),
    tcp(b, a, { ...B, seqNumber: isnB + 8, ackNumber: (isnA + 3002) >>> 0, flags: TcpFlags.ACK | TcpFlags.FIN, options: ts(7, 6) }),
    tcp(a, b, { ...A, seqNumber: (isnA + 3002) >>> 0, ackNumber: isnB + 9, flags: TcpFlags.ACK, options: ts(8, 7) }),
  ];
}

function l4Capture(): { bytes: Uint8Array; count: number } {
  const probe4 = udp(A4, B4, 40001, 9, 'is anyone there?');
  const probe6 = udp(A6, B6, 40002, 9, 'is anyone there?');
  const packets = [
    ...conversation(A4, B4, 35310, 80),
    ...conversation(A6, B6, 35311, 80),
    tcp(A4, B4, { srcPort: 35312, dstPort: 81, seqNumber: 7, flags: TcpFlags.SYN }),
    tcp(B4, A4, { srcPort: 81, dstPort: 35312, seqNumber: 0, ackNumber: 8, flags: TcpFlags.RST | TcpFlags.ACK, window: 0 }),
    udp(A4, B4, 40000, 7, 'hello, udp'),
    udp(B6, A6, 7, 40000, 'hello, udp over ipv6'),
    probe4,
    icmp4(B4, A4, { type: 'destination-unreachable', code: 3, nextHopMtu: 0, invoking: probe4 }),
    probe6,
    icmp6(B6, A6, { type: 'destination-unreachable', code: 4, invoking: probe6 }),
    icmp4(A4, B4, { type: 'echo-request', code: 0, identifier: 77, sequence: 1, data: new Uint8Array(56).fill(0x61) }),
    icmp4(B4, A4, { type: 'echo-reply', code: 0, identifier: 77, sequence: 1, data: new Uint8Array(56).fill(0x61) }),
    icmp6(A6, B6, { type: 'echo-request', code: 0, identifier: 78, sequence: 1, data: new Uint8Array(56).fill(0x62) }),
    icmp6(B6, A6, { type: 'echo-reply', code: 0, identifier: 78, sequence: 1, data: new Uint8Array(56).fill(0x62) }),
    // IPv4 with options (record route, padded), carrying UDP.
    ip(A4, B4, IpProtocol.Udp, (() => {
      const repr = { srcPort: 40010, dstPort: 40011, payload: Uint8Array.of(1, 2, 3) }; // ports no dissector claims
      const d = new Uint8Array(udpBufferLen(repr)); emitUdp(repr, d, 0, A4, B4); return d;
    })(), Uint8Array.of(7, 7, 4, 0, 0, 0, 0, 0)),
  ];
  const writer = new PcapMemoryWriter();
  packets.forEach((p, i) => writer.write(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n, p));
  return { bytes: writer.bytes(), count: packets.length };
}

test('a pcap written by l4 opens in tshark: no bad checksum, no malformed packet', (t) => {
  const skip = needTool('tshark');
  if (skip) { t.skip(skip); return; }
  const dir = mkdtempSync(join(tmpdir(), 'l4-tshark-'));
  try {
    const file = join(dir, 'l4.pcap');
    const capture = l4Capture();
    writeFileSync(file, capture.bytes);
    const fields = ['frame.number', 'frame.protocols', '_ws.malformed', 'ip.checksum.status', 'tcp.checksum.status',
      'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status', '_ws.expert.severity', '_ws.expert.message'];
    const rows = tsharkFields(file, fields, { validateChecksums: true });
    assert.equal(rows.length, capture.count, 'every packet is read');
    for (const row of rows) {
      const where = `frame ${row['frame.number']} (${row['frame.protocols']}): ${row['_ws.expert.message']}`;
      assert.equal(row['_ws.malformed'], '', `malformed ${where}`);
      let good = 0;
      for (const f of ['ip', 'tcp', 'udp', 'icmp', 'icmpv6']) {
        // Status 1 is "Good", 0 "Bad". ICMP errors quote an inner datagram, so several values may appear.
        for (const status of (row[`${f}.checksum.status`] ?? '').split(',').filter(Boolean)) {
          assert.notEqual(status, '0', `bad ${f} checksum in ${where}`);
          if (status === '1') good++;
        }
      }
      assert.ok(good >= 1, `tshark validated no checksum in ${where}`);
      assert.doesNotMatch(row['_ws.expert.message'] ?? '', /malformed|bad checksum|incorrect/i, where);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
