/**
 * `withChecksums`: what a tap on a trusted link writes. Packets emitted with their checksums,
 * then stripped of them (as a trusting host sends them), come back byte for byte; the input
 * is never written; malformed input never throws.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIpAddress } from '../../src/wire/address.js';
import { withChecksums } from '../../src/wire/fill-checksums.js';
import { emitIcmpv4, icmpv4BufferLen } from '../../src/wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen } from '../../src/wire/icmpv6.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { emitIpv4, ipv4BufferLen } from '../../src/wire/ipv4.js';
import { emitIpv6, ipv6BufferLen } from '../../src/wire/ipv6.js';
import { emitTcp, tcpBufferLen, TcpFlags, tcpRepr } from '../../src/wire/tcp.js';
import { emitUdp, udpBufferLen } from '../../src/wire/udp.js';
import { bytesUpTo, mutationOf } from '../support/arbitraries.js';

const A4 = parseIpAddress('10.0.0.1')!;
const B4 = parseIpAddress('10.0.0.2')!;
const A6 = parseIpAddress('fd00::1')!;
const B6 = parseIpAddress('fd00::2')!;

function ip(src: Uint8Array, dst: Uint8Array, protocol: number, payload: Uint8Array, fragment = false): Uint8Array {
  if (src.length === 4) {
    const repr = { src, dst, protocol, ttl: 64, dscp: 0, ecn: 0, identification: 9, dontFragment: !fragment, moreFragments: fragment, fragmentOffset: 0, options: new Uint8Array(0), payload };
    const b = new Uint8Array(ipv4BufferLen(repr));
    emitIpv4(repr, b);
    return b;
  }
  const repr = { src, dst, trafficClass: 0, flowLabel: 0, hopLimit: 64, extensionHeaders: [], upperProtocol: protocol, payload };
  const b = new Uint8Array(ipv6BufferLen(repr));
  emitIpv6(repr, b);
  return b;
}

function tcp(src: Uint8Array, dst: Uint8Array, data: Uint8Array): Uint8Array {
  const repr = tcpRepr({ srcPort: 40000, dstPort: 80, seqNumber: 123456, ackNumber: 654321, flags: TcpFlags.ACK | TcpFlags.PSH, window: 512, payload: data, options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 7, tsEcr: 9 }] });
  const seg = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, seg, 0, src, dst);
  return ip(src, dst, IpProtocol.Tcp, seg);
}

function udp(src: Uint8Array, dst: Uint8Array, data: Uint8Array): Uint8Array {
  const repr = { srcPort: 5353, dstPort: 7, payload: data };
  const d = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, d, 0, src, dst);
  return ip(src, dst, IpProtocol.Udp, d);
}

function icmp4(data: Uint8Array): Uint8Array {
  const repr = { type: 'echo-request', code: 0, identifier: 3, sequence: 4, data } as const;
  const m = new Uint8Array(icmpv4BufferLen(repr));
  emitIcmpv4(repr, m);
  return ip(A4, B4, IpProtocol.Icmp, m);
}

function icmp6(data: Uint8Array): Uint8Array {
  const repr = { type: 'echo-request', code: 0, identifier: 3, sequence: 4, data } as const;
  const m = new Uint8Array(icmpv6BufferLen(repr));
  emitIcmpv6(repr, m, 0, A6, B6);
  return ip(A6, B6, IpProtocol.Icmpv6, m);
}

/** Where each kind of packet keeps its checksums (offsets of the 16-bit fields). */
const KINDS: Array<[string, (data: Uint8Array) => Uint8Array, number[]]> = [
  ['TCP over IPv4', (d) => tcp(A4, B4, d), [10, 20 + 16]],
  ['TCP over IPv6', (d) => tcp(A6, B6, d), [40 + 16]],
  ['UDP over IPv4', (d) => udp(A4, B4, d), [10, 20 + 6]],
  ['UDP over IPv6', (d) => udp(A6, B6, d), [40 + 6]],
  ['ICMPv4', icmp4, [10, 20 + 2]],
  ['ICMPv6', icmp6, [40 + 2]],
];

function zeroed(packet: Uint8Array, offsets: number[]): Uint8Array {
  const p = packet.slice();
  for (const at of offsets) { p[at] = 0; p[at + 1] = 0; }
  return p;
}

describe('withChecksums', () => {
  test('fills every checksum a trusting host left 0, byte for byte as computed on emit; the input stays as it was', () => {
    // Payloads of any size up to an MTU: long ones take the checksum's word-at-a-time path (64 bytes and up).
    fc.assert(fc.property(bytesUpTo(1500), fc.nat(KINDS.length - 1), (data, k) => {
      const [name, make, offsets] = KINDS[k]!;
      const original = make(data);
      const stripped = zeroed(original, offsets);
      const before = stripped.slice();
      const filled = withChecksums(stripped);
      assert.deepEqual(filled, original, name);
      assert.deepEqual(stripped, before, `${name}: the input was written`);
      assert.deepEqual(withChecksums(original), original, `${name}: a valid packet comes back unchanged`);
    }), { numRuns: 300 });
  });

  test('a fragment gets its IPv4 header checksum only (its transport checksum spans other fragments)', () => {
    const seg = new Uint8Array(24);
    const frag = ip(A4, B4, IpProtocol.Udp, seg, true);
    const stripped = zeroed(frag, [10]);
    stripped[20 + 6] = 0x12;
    const filled = withChecksums(stripped);
    assert.deepEqual([filled[10], filled[11]], [frag[10], frag[11]]);
    assert.equal(filled[20 + 6], 0x12, 'the transport bytes are left alone');
  });

  test('never throws, never writes its input, keeps the length, on mutated and random packets', () => {
    const seeds = KINDS.map(([, make]) => make(Uint8Array.of(1, 2, 3, 4, 5, 6, 7)));
    fc.assert(fc.property(fc.oneof(mutationOf(seeds.length).map((m) => m.apply(seeds[m.index]!)), bytesUpTo(100)), (bytes) => {
      const before = bytes.slice();
      const out = withChecksums(bytes);
      assert.equal(out.length, bytes.length);
      assert.notEqual(out, bytes);
      assert.deepEqual(bytes, before);
    }), { numRuns: 2000 });
  });
});
