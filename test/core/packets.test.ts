/**
 * The buffers of the packets a host builds (`PacketBuffers`): each exactly sized, zeroed,
 * never overlapping another, and never handed out twice; and `tcpDatagram` and
 * `udpDatagrams` with and without checksums.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { PacketBuffers, tcpDatagram, udpDatagrams } from '../../src/core/packets.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseTcp, TcpFlags, tcpRepr } from '../../src/wire/tcp.js';
import { parseUdp } from '../../src/wire/udp.js';
import { value } from '../support/bytes.js';
import { ip, readPacket } from './support.js';

describe('PacketBuffers', () => {
  test('exact lengths, zeroed, 8-byte aligned, and no two buffers share a byte', () => {
    // size 'max': up to 200 takes, several 64 KiB slabs (fast-check's default size stopped near 10).
    const zeros = new Uint8Array(20_000);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 200, size: 'max' }), (lengths) => {
      const pool = new PacketBuffers();
      const taken = lengths.map((n) => pool.take(n));
      const spans = new Map<ArrayBufferLike, Array<[number, number]>>();
      taken.forEach((b, i) => {
        assert.equal(b.length, lengths[i]);
        // A memcmp, not b.every(): a case now holds about a megabyte of buffers.
        assert.equal(Buffer.compare(b, zeros.subarray(0, b.length)), 0, 'zeroed');
        assert.equal(b.byteOffset % 8, 0);
        const list = spans.get(b.buffer) ?? [];
        for (const [s, e] of list) assert.ok(b.byteOffset >= e || b.byteOffset + b.length <= s, 'overlap');
        list.push([b.byteOffset, b.byteOffset + b.length]);
        spans.set(b.buffer, list);
        b.fill(0xff); // a holder may write its buffer: nobody else sees it
      });
    }), { numRuns: 100 });
  });

  test('a large datagram gets a buffer of its own; small ones share slabs', () => {
    const pool = new PacketBuffers();
    const big = pool.take(30_000);
    assert.equal(big.buffer.byteLength, 30_000);
    const a = pool.take(1500);
    const b = pool.take(1500);
    assert.equal(a.buffer, b.buffer);
    assert.ok(a.buffer.byteLength > 3000);
  });
});

describe('tcpDatagram and udpDatagrams', () => {
  const A = ip('10.0.0.1');
  const B = ip('10.0.0.2');
  const seg = tcpRepr({ srcPort: 1, dstPort: 2, seqNumber: 3, ackNumber: 4, flags: TcpFlags.ACK, window: 5, payload: Uint8Array.of(9, 8, 7) });

  test('with checksums: a datagram every parser accepts, DF set, TTL 64', () => {
    const p = tcpDatagram(A, B, seg, 0x1234);
    const r = readPacket(p);
    assert.equal(r.ttl, 64);
    assert.equal(r.dontFragment, true);
    assert.deepEqual(r.tcp, seg);
    assert.equal(value(parseIpv4(p)).identification, 0x1234);
    const v6 = readPacket(tcpDatagram(ip('fd00::1'), ip('fd00::2'), seg, 0));
    assert.deepEqual(v6.tcp, seg);
  });

  test('without checksums (a trusted interface): both fields 0, everything else the same', () => {
    const withSums = tcpDatagram(A, B, seg, 7);
    const without = tcpDatagram(A, B, seg, 7, false);
    assert.deepEqual([without[10], without[11], without[36], without[37]], [0, 0, 0, 0]);
    const expected = withSums.slice();
    expected[10] = 0; expected[11] = 0; expected[36] = 0; expected[37] = 0;
    assert.deepEqual(without, expected);
    const r = parseTcp(without.subarray(20), A, B, { verifyChecksum: false });
    assert.ok(r.ok);
    assert.deepEqual(r.value, seg);
  });

  test('UDP: one datagram emitted in place when it fits, fragments when not; checksum "none" when trusted (IPv4 only)', () => {
    const payload = new Uint8Array(100).fill(3);
    const [one, ...none] = udpDatagrams(A, B, 7, 9, payload, 1, 1500);
    assert.equal(none.length, 0);
    const u = parseUdp(readPacket(one!).payload, A, B);
    assert.ok(u.ok && u.value.checksum !== 0);
    assert.deepEqual(u.value.payload, payload);
    const [trusted] = udpDatagrams(A, B, 7, 9, payload, 1, 1500, 64, false);
    assert.deepEqual([trusted![10], trusted![11], trusted![26], trusted![27]], [0, 0, 0, 0]);
    const [v6] = udpDatagrams(ip('fd00::1'), ip('fd00::2'), 7, 9, payload, 1, 1500, 64, false);
    assert.notEqual((v6![46]! << 8) | v6![47]!, 0, 'RFC 8200 8.1: never 0 over IPv6');
    const fragments = udpDatagrams(A, B, 7, 9, new Uint8Array(3000), 1, 1500);
    assert.equal(fragments.length, 3);
  });
});

