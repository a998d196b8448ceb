import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UdpPacket, emitUdp, parseUdp, udpBufferLen, udpChecksumValid } from '../../src/wire/udp.js';
import type { UdpEmitRepr, UdpRepr } from '../../src/wire/udp.js';
import { bytesUpTo, mutationOf } from '../support/arbitraries.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { hex } from '../support/bytes.js';

const LOCAL4 = Uint8Array.of(127, 0, 0, 1);
const LOCAL6 = hex('00000000000000000000000000000001');

/*
 * Golden datagrams, captured with `tcpdump -i lo -w` in a network namespace while Python
 * sent UDP to closed ports on 127.0.0.1 and ::1 (IP headers stripped below). On loopback
 * Linux leaves the checksum to "offload" (CHECKSUM_PARTIAL): the captured field holds only
 * the folded pseudo-header sum, so tcpdump -vv says `bad udp cksum 0xfe20 -> 0xfaaf!`. We
 * keep the bytes as captured (they must fail verification) and, separately, the same bytes
 * with the checksum tcpdump says is right, which emit must reproduce exactly.
 */
// 127.0.0.1.40000 > 127.0.0.1.9999: UDP, length 5 ("hello"); IP: 45000021 59a04000 4011e329 7f000001 7f000001
const V4_HELLO_CAPTURED = hex('9c40 270f 000d fe20 68656c6c6f');
const V4_HELLO = hex('9c40 270f 000d faaf 68656c6c6f'); // tcpdump: 0xfe20 -> 0xfaaf
// ::1.40000 > ::1.9999: UDP, length 5; IP6: 600c1a4d 000d1140 ::1 ::1
const V6_HELLO_CAPTURED = hex('9c40 270f 000d 0020 68656c6c6f');
const V6_HELLO = hex('9c40 270f 000d f8b0 68656c6c6f'); // tcpdump: 0x0020 -> 0xf8b0
// 127.0.0.1.40001 > 127.0.0.1.9999 sent with SO_NO_CHECK: [no cksum] UDP, length 11 ("no checksum")
const V4_NO_CHECKSUM = hex('9c41 270f 0013 0000 6e6f20636865636b73756d');
// 127.0.0.1.40002 > 127.0.0.1.5353: "l4", captured 0xfe1d, tcpdump: -> 0xe477
const V4_L4 = hex('9c42 14e9 000a e477 6c34');

describe('UdpPacket (checked view)', () => {
  test('golden: reads every field of a real datagram', () => {
    const r = UdpPacket.checked(V4_HELLO_CAPTURED);
    assert.ok(r.ok);
    const p = r.value;
    assert.equal(p.srcPort, 40000);
    assert.equal(p.dstPort, 9999);
    assert.equal(p.length, 13);
    assert.equal(p.checksum, 0xfe20);
    assert.equal(p.headerLength, 8);
    assert.deepEqual(p.payload, new TextEncoder().encode('hello'));
    assert.equal(p.bytes, V4_HELLO_CAPTURED);
  });

  test('a length field shorter than the IP payload cuts the datagram (RFC 768, as Linux does)', () => {
    const ipPayload = new Uint8Array(V4_HELLO.length + 3);
    ipPayload.set(V4_HELLO);
    ipPayload.fill(0xee, V4_HELLO.length);
    const r = UdpPacket.checked(ipPayload);
    assert.ok(r.ok);
    assert.equal(r.value.bytes.length, 13);
    assert.deepEqual(r.value.payload, new TextEncoder().encode('hello'));
    const parsed = parseUdp(ipPayload, LOCAL4, LOCAL4);
    assert.ok(parsed.ok, 'the checksum covers the datagram as delimited by its length');
    assert.equal(parsed.value.length, 13);
    assert.deepEqual(parsed.value.payload, new TextEncoder().encode('hello'));
    assert.equal(udpChecksumValid(ipPayload, LOCAL4, LOCAL4), true);
  });

  test('the view is zero copy', () => {
    const r = UdpPacket.checked(V4_HELLO);
    assert.ok(r.ok);
    assert.equal(r.value.payload.buffer, V4_HELLO.buffer);
  });
});

describe('parseUdp', () => {
  test('golden IPv4: the captured (offloaded) checksum fails, the corrected one verifies', () => {
    assert.deepEqual(parseUdp(V4_HELLO_CAPTURED, LOCAL4, LOCAL4), { ok: false, reason: 'bad-checksum' });
    const unverified = parseUdp(V4_HELLO_CAPTURED, LOCAL4, LOCAL4, { verifyChecksum: false });
    assert.ok(unverified.ok);
    assert.equal(unverified.value.checksum, 0xfe20);
    const r = parseUdp(V4_HELLO, LOCAL4, LOCAL4);
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      srcPort: 40000, dstPort: 9999, length: 13, checksum: 0xfaaf, payload: new TextEncoder().encode('hello'),
    } satisfies UdpRepr);
    const l4 = parseUdp(V4_L4, LOCAL4, LOCAL4);
    assert.ok(l4.ok);
    assert.equal(l4.value.dstPort, 5353);
    assert.deepEqual(l4.value.payload, new TextEncoder().encode('l4'));
  });

  test('golden IPv6: verified with the RFC 8200 pseudo-header', () => {
    assert.deepEqual(parseUdp(V6_HELLO_CAPTURED, LOCAL6, LOCAL6), { ok: false, reason: 'bad-checksum' });
    const r = parseUdp(V6_HELLO, LOCAL6, LOCAL6);
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      srcPort: 40000, dstPort: 9999, length: 13, checksum: 0xf8b0, payload: new TextEncoder().encode('hello'),
    });
    // The same bytes do not verify as IPv4 from 127.0.0.1: the pseudo-header matters.
    assert.deepEqual(parseUdp(V6_HELLO, LOCAL4, LOCAL4), { ok: false, reason: 'bad-checksum' });
  });

  test('golden IPv4 with a zero checksum: "no checksum", accepted unverified (RFC 768)', () => {
    const r = parseUdp(V4_NO_CHECKSUM, LOCAL4, LOCAL4);
    assert.ok(r.ok);
    assert.equal(r.value.checksum, 0);
    assert.equal(r.value.srcPort, 40001);
    assert.deepEqual(r.value.payload, new TextEncoder().encode('no checksum'));
    assert.equal(udpChecksumValid(V4_NO_CHECKSUM, LOCAL4, LOCAL4), 'none');
  });

  test("reason 'truncated': fewer than 8 bytes", () => {
    assert.deepEqual(parseUdp(V4_HELLO.subarray(0, 7), LOCAL4, LOCAL4), { ok: false, reason: 'truncated' });
    assert.deepEqual(UdpPacket.checked(new Uint8Array(0)), { ok: false, reason: 'truncated' });
  });

  test("reason 'length-too-small': a length field below 8", () => {
    const b = V4_HELLO.slice();
    b[5] = 7;
    assert.deepEqual(parseUdp(b, LOCAL4, LOCAL4), { ok: false, reason: 'length-too-small' });
    b[5] = 0;
    assert.deepEqual(UdpPacket.checked(b), { ok: false, reason: 'length-too-small' });
  });

  test("reason 'length-past-end': a length field beyond the IP payload", () => {
    const b = V4_HELLO.slice();
    b[5] = 14;
    assert.deepEqual(parseUdp(b, LOCAL4, LOCAL4), { ok: false, reason: 'length-past-end' });
    assert.deepEqual(UdpPacket.checked(V4_HELLO.subarray(0, 12)), { ok: false, reason: 'length-past-end' });
  });

  test("reason 'bad-field': a zero checksum over IPv6 (RFC 8200 8.1), even unverified", () => {
    const b = V6_HELLO.slice();
    b[6] = 0; b[7] = 0;
    assert.deepEqual(parseUdp(b, LOCAL6, LOCAL6), { ok: false, reason: 'bad-field' });
    assert.deepEqual(parseUdp(b, LOCAL6, LOCAL6, { verifyChecksum: false }), { ok: false, reason: 'bad-field' });
    assert.equal(udpChecksumValid(b, LOCAL6, LOCAL6), 'none');
  });

  test("reason 'bad-checksum': one payload bit flipped", () => {
    const b = V4_HELLO.slice();
    b[9]! ^= 0x01;
    assert.deepEqual(parseUdp(b, LOCAL4, LOCAL4), { ok: false, reason: 'bad-checksum' });
    assert.ok(parseUdp(b, LOCAL4, LOCAL4, { verifyChecksum: false }).ok);
  });

  test('0xffff verifies like 0x0000 would (ones\' complement negative zero)', () => {
    // Find a 2-byte payload whose checksum computes to zero, so emit must send 0xffff.
    const buf = new Uint8Array(10);
    emitUdp({ srcPort: 1, dstPort: 2, payload: new Uint8Array(2) }, buf, 0, LOCAL4, LOCAL4);
    const c0 = (buf[6]! << 8) | buf[7]!;
    emitUdp({ srcPort: 1, dstPort: 2, payload: Uint8Array.of(c0 >>> 8, c0 & 0xff) }, buf, 0, LOCAL4, LOCAL4);
    assert.equal((buf[6]! << 8) | buf[7]!, 0xffff, 'RFC 768: a computed zero is transmitted as all ones');
    const r = parseUdp(buf, LOCAL4, LOCAL4);
    assert.ok(r.ok);
    assert.equal(r.value.checksum, 0xffff);
    assert.equal(udpChecksumValid(buf, LOCAL4, LOCAL4), true);
  });
});

describe('udpChecksumValid', () => {
  test('true, false, none, and false for short input', () => {
    assert.equal(udpChecksumValid(V4_HELLO, LOCAL4, LOCAL4), true);
    assert.equal(udpChecksumValid(V6_HELLO, LOCAL6, LOCAL6), true);
    assert.equal(udpChecksumValid(V4_HELLO_CAPTURED, LOCAL4, LOCAL4), false);
    assert.equal(udpChecksumValid(V4_NO_CHECKSUM, LOCAL4, LOCAL4), 'none');
    assert.equal(udpChecksumValid(V4_HELLO.subarray(0, 5), LOCAL4, LOCAL4), false);
  });
});

describe('emitUdp', () => {
  test('golden round trip: emit reproduces the (corrected) captured bytes', () => {
    for (const [bytes, addr] of [[V4_HELLO, LOCAL4], [V6_HELLO, LOCAL6], [V4_L4, LOCAL4]] as const) {
      const r = parseUdp(bytes, addr, addr);
      assert.ok(r.ok);
      assert.equal(udpBufferLen(r.value), bytes.length);
      const out = new Uint8Array(bytes.length);
      assert.equal(emitUdp(r.value, out, 0, addr, addr), bytes.length);
      assert.deepEqual(out, bytes);
    }
  });

  test('fillChecksum false writes 0: reproduces the SO_NO_CHECK capture', () => {
    const r = parseUdp(V4_NO_CHECKSUM, LOCAL4, LOCAL4);
    assert.ok(r.ok);
    const out = new Uint8Array(udpBufferLen(r.value));
    emitUdp(r.value, out, 0, LOCAL4, LOCAL4, { fillChecksum: false });
    assert.deepEqual(out, V4_NO_CHECKSUM);
    // With the checksum filled, the same record gets a verifying one.
    emitUdp(r.value, out, 0, LOCAL4, LOCAL4);
    assert.equal(udpChecksumValid(out, LOCAL4, LOCAL4), true);
  });

  test('writes at an offset and ignores the record\'s length and checksum', () => {
    const repr: UdpRepr = { srcPort: 40000, dstPort: 9999, length: 999, checksum: 0x1234, payload: new TextEncoder().encode('hello') };
    const buf = new Uint8Array(20).fill(0xaa);
    assert.equal(emitUdp(repr, buf, 5, LOCAL4, LOCAL4), 13);
    assert.deepEqual(buf.subarray(5, 18), V4_HELLO);
    assert.equal(buf[4], 0xaa);
    assert.equal(buf[18], 0xaa);
  });

  test('RangeError beyond 65,535 bytes, for bad ports and for a short buffer', () => {
    const big = new Uint8Array(65535 - 8 + 1);
    assert.throws(() => emitUdp({ srcPort: 1, dstPort: 2, payload: big }, new Uint8Array(70000), 0, LOCAL4, LOCAL4), RangeError);
    assert.doesNotThrow(() => emitUdp({ srcPort: 1, dstPort: 2, payload: big.subarray(1) }, new Uint8Array(70000), 0, LOCAL4, LOCAL4));
    assert.throws(() => emitUdp({ srcPort: 65536, dstPort: 2, payload: big.subarray(0, 0) }, new Uint8Array(8), 0, LOCAL4, LOCAL4), RangeError);
    assert.throws(() => emitUdp({ srcPort: 1, dstPort: -1, payload: big.subarray(0, 0) }, new Uint8Array(8), 0, LOCAL4, LOCAL4), RangeError);
    assert.throws(() => emitUdp({ srcPort: 1, dstPort: 2, payload: big.subarray(0, 3) }, new Uint8Array(10), 0, LOCAL4, LOCAL4), RangeError);
  });
});

describe('properties', () => {
  const addr4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const addr6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const addrPair = fc.oneof(fc.tuple(addr4, addr4), fc.tuple(addr6, addr6));

  test('parseUdp never throws on random bytes', () => {
    fc.assert(fc.property(bytesUpTo(80), addrPair, fc.boolean(), fc.boolean(), (bytes, [src, dst], verify, fit) => {
      // Half the time a length field of 8 up to the bytes present: a random one is past the end but 1 in 800 times.
      if (fit && bytes.length >= 8) { const length = 8 + (bytes[5]! % (bytes.length - 7)); bytes[4] = 0; bytes[5] = length; }
      const r = parseUdp(bytes, src, dst, { verifyChecksum: verify });
      if (r.ok) assert.ok(r.value.length <= bytes.length);
      UdpPacket.checked(bytes);
      udpChecksumValid(bytes, src, dst);
    }), { numRuns: FUZZ_RUNS });
  });

  test('parseUdp never throws on mutations of valid datagrams (flip, truncate, extend)', () => {
    const seeds = [[V4_HELLO, LOCAL4], [V6_HELLO, LOCAL6], [V4_NO_CHECKSUM, LOCAL4], [V4_L4, LOCAL4]] as const;
    fc.assert(fc.property(mutationOf(seeds.length), (m) => {
      const [orig, addr] = seeds[m.index]!;
      const bytes = m.apply(orig);
      parseUdp(bytes, addr, addr);
      parseUdp(bytes, addr, addr, { verifyChecksum: false });
      udpChecksumValid(bytes, addr, addr);
    }), { numRuns: FUZZ_RUNS });
  });

  test('parseUdp(emitUdp(r)) equals r, with the derived length and a verifying checksum', () => {
    const repr = fc.record({
      srcPort: fc.integer({ min: 0, max: 0xffff }),
      dstPort: fc.integer({ min: 0, max: 0xffff }),
      payload: fc.uint8Array({ maxLength: 600 }),
    });
    fc.assert(fc.property(repr, addrPair, fc.nat(7), fc.boolean(), (r: UdpEmitRepr, [src, dst], offset, fill) => {
      const v4 = src.length === 4;
      const noChecksum = v4 && !fill; // over IPv6 the checksum is mandatory
      const buf = new Uint8Array(offset + udpBufferLen(r));
      const n = emitUdp(r, buf, offset, src, dst, { fillChecksum: !noChecksum });
      assert.equal(n, 8 + r.payload.length);
      const bytes = buf.subarray(offset);
      const parsed = parseUdp(bytes, src, dst);
      assert.ok(parsed.ok);
      const expectedChecksum = noChecksum ? 0 : parsed.value.checksum;
      assert.deepEqual(parsed.value, { ...r, length: n, checksum: expectedChecksum });
      assert.equal(udpChecksumValid(bytes, src, dst), noChecksum ? 'none' : true);
      if (!noChecksum) assert.notEqual(parsed.value.checksum, 0);
      // And emit of the parsed record reproduces the bytes.
      const again = new Uint8Array(n);
      emitUdp(parsed.value, again, 0, src, dst, { fillChecksum: !noChecksum });
      assert.deepEqual(again, bytes);
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});
