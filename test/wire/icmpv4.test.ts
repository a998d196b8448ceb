import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Icmpv4Packet, Icmpv4Type, Icmpv4UnreachableCode, emitIcmpv4, icmpv4BufferLen, icmpv4ChecksumValid, icmpv4Summary,
  icmpv4TypeName, parseIcmpv4,
} from '../../src/wire/icmpv4.js';
import type { Icmpv4Repr } from '../../src/wire/icmpv4.js';
import { parseQuotedDatagram } from '../../src/wire/icmp-quote.js';
import { bytesUpTo, mutationOf } from '../support/arbitraries.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { hex } from '../support/bytes.js';

/** The bytes after 0x10 that ping(8) fills its data with: 0x10, 0x11, … modulo 256. */
function pingPattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (0x10 + i) & 0xff);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function parsed(bytes: Uint8Array): Icmpv4Repr {
  const r = parseIcmpv4(bytes);
  assert.ok(r.ok, `parse failed: ${r.ok ? '' : r.reason}`);
  return r.value;
}

function emitted(repr: Icmpv4Repr): Uint8Array {
  const out = new Uint8Array(icmpv4BufferLen(repr));
  assert.equal(emitIcmpv4(repr, out), out.length);
  return out;
}

/*
 * Golden messages (IP headers stripped), captured with `tcpdump -w` in network namespaces
 * created for the purpose: on loopback `ping -c1 -s 24 -p 6c34 127.0.0.1` and Python
 * sending UDP to closed ports; across a veth pair to a namespace acting as router (an
 * `unreachable` and a `prohibit` route, a 1280-byte MTU link) a TCP connect, a UDP send,
 * `ping -t 1` and `ping -M do -s 1400`. The comment above each is tcpdump's line.
 */
// IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 9446, seq 1, length 32
const ECHO_REQUEST = hex('0800 35e9 24e6 0001 6b11026b00000000 72e10c0000000000 6c346c346c346c34');
// IP 127.0.0.1 > 127.0.0.1: ICMP echo reply, id 9446, seq 1, length 32
const ECHO_REPLY = hex('0000 3de9 24e6 0001 6b11026b00000000 72e10c0000000000 6c346c346c346c34');
// IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 9999 unreachable, length 41 (quotes 127.0.0.1.40000 > 127.0.0.1.9999: UDP "hello")
const PORT_UNREACHABLE = hex('0303 f7ac 00000000 4500002159a040004011e3297f0000017f000001 9c40270f000dfe20 68656c6c6f');
// IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 9999 unreachable, length 47 (quotes a datagram sent with no checksum)
const PORT_UNREACHABLE_NO_CHECKSUM = hex('0303 fe7f 00000000 4500002759a140004011e3227f0000017f000001 9c41270f00130000 6e6f20636865636b73756d');
// IP 10.1.0.2 > 10.1.0.1: ICMP host 10.9.9.9 unreachable, length 68 (quotes the SYN 10.1.0.1.41456 > 10.9.9.9.80, seq 2383429643)
const HOST_UNREACHABLE_TCP = hex(`0301 ece9 00000000 4500003cb016400040066d920a0100010a090909
  a1f00050 8e10400b 00000000 a002faf01d420000 020405b40402080ae870e740000000000103030a`);
// IP 10.1.0.2 > 10.1.0.1: ICMP host 10.8.8.8 unreachable - admin prohibited filter, length 43
const ADMIN_PROHIBITED = hex('030d 940d 00000000 45000023a97e40004011753a0a0100010a080808 ab670007000f1c32 626c6f636b6564');
// IP 10.1.0.2 > 10.1.0.1: ICMP time exceeded in-transit, length 52 (quotes ping -t 1 10.2.0.2)
const TIME_EXCEEDED = hex(`0b00 f4ff 00000000 4500002cd2374000010193940a0100010a020002
  08003fef284d0001 8211026b00000000 0646050000000000`);
// IP 10.1.0.2 > 10.1.0.1: ICMP 10.2.0.2 unreachable - need to frag (mtu 1280), length 556 (576-byte error, RFC 1812 4.3.2.3)
const FRAG_NEEDED = concat(hex(`0304 0ec9 0000 0500 4500059400004000400121640a0100010a020002
  0800177428510001 8211026b00000000 baa00e0000000000`), pingPattern(504));

describe('Icmpv4Packet (checked view)', () => {
  test('golden echo request: every field', () => {
    const r = Icmpv4Packet.checked(ECHO_REQUEST);
    assert.ok(r.ok);
    const p = r.value;
    assert.equal(p.type, Icmpv4Type.EchoRequest);
    assert.equal(p.code, 0);
    assert.equal(p.checksum, 0x35e9);
    assert.equal(p.identifier, 9446);
    assert.equal(p.sequence, 1);
    assert.equal(p.rest, 0x24e60001);
    assert.equal(p.headerLength, 8);
    assert.equal(p.payload.length, 24);
    assert.equal(p.payload.buffer, ECHO_REQUEST.buffer, 'zero copy');
  });

  test('golden errors: pointer and next-hop MTU accessors', () => {
    const frag = Icmpv4Packet.checked(FRAG_NEEDED);
    assert.ok(frag.ok);
    assert.equal(frag.value.nextHopMtu, 1280);
    const pp = Icmpv4Packet.checked(hex('0c00 0000 05000000'));
    assert.ok(pp.ok);
    assert.equal(pp.value.pointer, 5);
  });

  test("reason 'truncated': fewer than 8 bytes", () => {
    assert.deepEqual(Icmpv4Packet.checked(ECHO_REQUEST.subarray(0, 7)), { ok: false, reason: 'truncated' });
  });
});

describe('parseIcmpv4 on real captures', () => {
  test('echo request and reply', () => {
    const data = hex('6b11026b00000000 72e10c0000000000 6c346c346c346c34');
    assert.deepEqual(parsed(ECHO_REQUEST), { type: 'echo-request', code: 0, identifier: 9446, sequence: 1, data });
    assert.deepEqual(parsed(ECHO_REPLY), { type: 'echo-reply', code: 0, identifier: 9446, sequence: 1, data });
    assert.equal(icmpv4Summary(parsed(ECHO_REQUEST)), 'ICMP echo request, id 9446, seq 1, length 32');
    assert.equal(icmpv4Summary(parsed(ECHO_REPLY)), 'ICMP echo reply, id 9446, seq 1, length 32');
  });

  test('port unreachable: the quote names the UDP socket that sent the datagram', () => {
    const m = parsed(PORT_UNREACHABLE);
    assert.equal(m.type, 'destination-unreachable');
    assert.ok(m.type === 'destination-unreachable');
    assert.equal(m.code, Icmpv4UnreachableCode.PortUnreachable);
    assert.equal(m.nextHopMtu, 0);
    assert.equal(m.invoking.length, 33, 'Linux quotes the whole small datagram');
    const q = parseQuotedDatagram(m.invoking, 4);
    assert.deepEqual(q, { ok: true, value: {
      src: Uint8Array.of(127, 0, 0, 1), dst: Uint8Array.of(127, 0, 0, 1), protocol: 17, ipHeaderLength: 20,
      srcPort: 40000, dstPort: 9999,
    } });
    assert.equal(icmpv4Summary(m), 'ICMP 127.0.0.1 udp port 9999 unreachable, length 41');
    const n = parsed(PORT_UNREACHABLE_NO_CHECKSUM);
    assert.equal(icmpv4Summary(n), 'ICMP 127.0.0.1 udp port 9999 unreachable, length 47');
    assert.ok(n.type === 'destination-unreachable');
    const qn = parseQuotedDatagram(n.invoking, 4);
    assert.ok(qn.ok);
    assert.equal(qn.value.srcPort, 40001);
  });

  test('host unreachable for a TCP SYN: ports and the sequence number for the RFC 5927 check', () => {
    const m = parsed(HOST_UNREACHABLE_TCP);
    assert.ok(m.type === 'destination-unreachable');
    assert.equal(m.code, Icmpv4UnreachableCode.HostUnreachable);
    const q = parseQuotedDatagram(m.invoking, 4);
    assert.deepEqual(q, { ok: true, value: {
      src: Uint8Array.of(10, 1, 0, 1), dst: Uint8Array.of(10, 9, 9, 9), protocol: 6, ipHeaderLength: 20,
      srcPort: 41456, dstPort: 80, tcpSeq: 2383429643,
    } });
    assert.equal(icmpv4Summary(m), 'ICMP host 10.9.9.9 unreachable, length 68');
  });

  test('communication administratively prohibited (code 13)', () => {
    const m = parsed(ADMIN_PROHIBITED);
    assert.ok(m.type === 'destination-unreachable');
    assert.equal(m.code, Icmpv4UnreachableCode.AdminProhibited);
    assert.equal(icmpv4Summary(m), 'ICMP host 10.8.8.8 unreachable - admin prohibited filter, length 43');
  });

  test('time exceeded: the quote is an ICMP echo, so no ports', () => {
    const m = parsed(TIME_EXCEEDED);
    assert.ok(m.type === 'time-exceeded');
    assert.equal(m.code, 0);
    assert.deepEqual(parseQuotedDatagram(m.invoking, 4), { ok: true, value: {
      src: Uint8Array.of(10, 1, 0, 1), dst: Uint8Array.of(10, 2, 0, 2), protocol: 1, ipHeaderLength: 20,
    } });
    assert.equal(icmpv4Summary(m), 'ICMP time exceeded in-transit, length 52');
  });

  test('fragmentation needed with the next-hop MTU (RFC 1191), quote longer than 28 bytes', () => {
    const m = parsed(FRAG_NEEDED);
    assert.ok(m.type === 'destination-unreachable');
    assert.equal(m.code, Icmpv4UnreachableCode.FragmentationNeeded);
    assert.equal(m.nextHopMtu, 1280);
    assert.equal(m.invoking.length, 548);
    const q = parseQuotedDatagram(m.invoking, 4);
    assert.ok(q.ok);
    assert.equal(q.value.protocol, 1);
    assert.equal(icmpv4Summary(m), 'ICMP 10.2.0.2 unreachable - need to frag (mtu 1280), length 556');
  });

  test('emit reproduces every golden message byte for byte', () => {
    for (const g of [ECHO_REQUEST, ECHO_REPLY, PORT_UNREACHABLE, PORT_UNREACHABLE_NO_CHECKSUM, HOST_UNREACHABLE_TCP,
      ADMIN_PROHIBITED, TIME_EXCEEDED, FRAG_NEEDED]) {
      assert.deepEqual(emitted(parsed(g)), g);
    }
  });
});

describe('parseIcmpv4 reasons and checksum', () => {
  test("reason 'truncated': fewer than 8 bytes", () => {
    assert.deepEqual(parseIcmpv4(new Uint8Array(0)), { ok: false, reason: 'truncated' });
    assert.deepEqual(parseIcmpv4(ECHO_REQUEST.subarray(0, 7)), { ok: false, reason: 'truncated' });
  });

  test("reason 'bad-checksum', and verifyChecksum false", () => {
    const b = ECHO_REQUEST.slice();
    b[20]! ^= 0x40;
    assert.deepEqual(parseIcmpv4(b), { ok: false, reason: 'bad-checksum' });
    assert.equal(icmpv4ChecksumValid(b), false);
    const r = parseIcmpv4(b, { verifyChecksum: false });
    assert.ok(r.ok);
    assert.equal(r.value.type, 'echo-request');
  });

  test('icmpv4ChecksumValid', () => {
    assert.equal(icmpv4ChecksumValid(ECHO_REQUEST), true);
    assert.equal(icmpv4ChecksumValid(FRAG_NEEDED), true);
    assert.equal(icmpv4ChecksumValid(ECHO_REQUEST.subarray(0, 4)), false);
  });

  test("anything else is kept whole as 'other' (a redirect keeps its gateway)", () => {
    const redirect = emitted({ type: 'other', icmpType: Icmpv4Type.Redirect, code: 1, rest: 0x0a000003, data: new Uint8Array(28) });
    assert.deepEqual(parsed(redirect), { type: 'other', icmpType: 5, code: 1, rest: 0x0a000003, data: new Uint8Array(28) });
  });

  test('unused rest-of-header bytes of errors are dropped and emitted as zero', () => {
    const b = TIME_EXCEEDED.slice();
    b[5] = 7; // RFC 4884 length byte, say
    const m = parseIcmpv4(b, { verifyChecksum: false });
    assert.ok(m.ok);
    assert.deepEqual(emitted(m.value), TIME_EXCEEDED);
  });
});

describe('emitIcmpv4 refuses invalid records (RangeError)', () => {
  const data = new Uint8Array(4);
  test('an other record using a type with its own variant', () => {
    for (const icmpType of [0, 3, 8, 11, 12]) {
      assert.throws(() => emitted({ type: 'other', icmpType, code: 0, rest: 0, data }), RangeError);
    }
  });
  test('fields out of range', () => {
    assert.throws(() => emitted({ type: 'echo-request', code: 256, identifier: 1, sequence: 1, data }), RangeError);
    assert.throws(() => emitted({ type: 'echo-request', code: 0, identifier: 65536, sequence: 1, data }), RangeError);
    assert.throws(() => emitted({ type: 'echo-reply', code: 0, identifier: 1, sequence: -1, data }), RangeError);
    assert.throws(() => emitted({ type: 'destination-unreachable', code: 4, nextHopMtu: 65536, invoking: data }), RangeError);
    assert.throws(() => emitted({ type: 'parameter-problem', code: 0, pointer: 256, invoking: data }), RangeError);
    assert.throws(() => emitted({ type: 'other', icmpType: 256, code: 0, rest: 0, data }), RangeError);
    assert.throws(() => emitted({ type: 'other', icmpType: 13, code: 0, rest: 2 ** 32, data }), RangeError);
  });
  test('a buffer too small', () => {
    const r: Icmpv4Repr = { type: 'echo-request', code: 0, identifier: 1, sequence: 1, data };
    assert.throws(() => emitIcmpv4(r, new Uint8Array(11)), RangeError);
    assert.throws(() => emitIcmpv4(r, new Uint8Array(20), 9), RangeError);
    assert.equal(emitIcmpv4(r, new Uint8Array(20), 8), 12);
  });
});

describe('names in tcpdump\'s words', () => {
  test('icmpv4TypeName', () => {
    assert.equal(icmpv4TypeName(8, 0), 'echo request');
    assert.equal(icmpv4TypeName(0, 0), 'echo reply');
    assert.equal(icmpv4TypeName(3, 3), 'port unreachable');
    assert.equal(icmpv4TypeName(3, 4), 'unreachable - need to frag');
    assert.equal(icmpv4TypeName(3, 13), 'host unreachable - admin prohibited filter');
    assert.equal(icmpv4TypeName(3, 99), 'unreachable - #99');
    assert.equal(icmpv4TypeName(5, 1), 'redirect to host');
    assert.equal(icmpv4TypeName(11, 0), 'time exceeded in-transit');
    assert.equal(icmpv4TypeName(11, 1), 'ip reassembly time exceeded');
    assert.equal(icmpv4TypeName(12, 0), 'parameter problem');
    assert.equal(icmpv4TypeName(13, 0), 'time stamp request');
    assert.equal(icmpv4TypeName(42, 0), 'type-#42');
  });

  /*
   * Messages built with emitIcmpv4 (errors quoting a 10.0.0.1 > 10.0.0.2 datagram), written
   * to a pcap inside IP headers 10.0.0.2 > 10.0.0.1, and read back with tcpdump 4.99.3
   * `-n`: the second column is tcpdump's text after `10.0.0.2 > 10.0.0.1: `.
   */
  const TCPDUMP: readonly (readonly [string, string])[] = [
  ['0300e70a000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP net 10.0.0.2 unreachable, length 36'],
  ['0301e709000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable, length 36'],
  ['0302e708000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 protocol 17 unreachable, length 36'],
  ['0303e707000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 udp port 53 unreachable, length 36'],
  ['0304e706000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 unreachable - need to frag, length 36'],
  ['0305e705000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 unreachable - source route failed, length 36'],
  ['0306e704000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP net 10.0.0.2 unreachable - unknown, length 36'],
  ['0307e703000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - unknown, length 36'],
  ['0308e702000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 unreachable - source host isolated, length 36'],
  ['0309e701000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP net 10.0.0.2 unreachable - admin prohibited, length 36'],
  ['030ae700000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - admin prohibited, length 36'],
  ['030be6ff000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP net 10.0.0.2 unreachable - tos prohibited, length 36'],
  ['030ce6fe000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - tos prohibited, length 36'],
  ['030de6fd000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - admin prohibited filter, length 36'],
  ['030ee6fc000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - host precedence violation, length 36'],
  ['030fe6fb000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP host 10.0.0.2 unreachable - precedence cutoff, length 36'],
  ['0310e6fa000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 unreachable - #16, length 36'],
  ['0303b6c0000000004500002400000000400666d20a0000010a00000215b3005000003039', 'ICMP 10.0.0.2 tcp port 80 unreachable, length 36'],
  ['0303fcf6000000004500001c000000004084665c0a0000010a0000020001000200000003', 'ICMP 10.0.0.2 protocol 132 port 2 unreachable, length 36'],
  ['0304e18e000005784500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP 10.0.0.2 unreachable - need to frag (mtu 1400), length 36'],
  ['0303fcfc000000004500002100000000401166ca0a0000010a000002', '[|icmp]'],
  ['0301fcfe00000000', '[|icmp]'],
  ['0b00df0a000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP time exceeded in-transit, length 36'],
  ['0b01df09000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP ip reassembly time exceeded, length 36'],
  ['0b02df08000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP time exceeded-#2, length 36'],
  ['0b000903000000004500002100000000401166ca', '[|icmp]'],
  ['0c00d50a090000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP parameter problem - octet 9, length 36'],
  ['0c01de09000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP parameter problem - code 1, length 36'],
  ['0500db070a0000034500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP redirect 10.0.0.2 to net 10.0.0.3, length 36'],
  ['0501db060a0000034500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP redirect 10.0.0.2 to host 10.0.0.3, length 36'],
  ['0502db050a0000034500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP redirect-tos 10.0.0.2 to net 10.0.0.3, length 36'],
  ['0503db040a0000034500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP redirect-tos 10.0.0.2 to host 10.0.0.3, length 36'],
  ['0504db030a0000034500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP redirect-#4 10.0.0.2 to 10.0.0.3, length 36'],
  ['0400e60a000000004500002100000000401166ca0a0000010a00000215b30035000d0000', 'ICMP source quench, length 36'],
  ['0900e3e7010207080a0000fe00000010', 'ICMP router advertisement lifetime 30:00 1: {10.0.0.254 16}, length 16'],
  ['0900f6fd0002ffff', 'ICMP router advertisement lifetime 18:12:15 0:, length 8'],
  ['0a00f5ff00000000', 'ICMP router solicitation, length 8'],
  ['0d0091d10007000105265c000000000000000000', 'ICMP time stamp query id 7 seq 1, length 20'],
  ['0e00ce630007000105265c0005265c1005265c11', 'ICMP time stamp reply id 7 seq 1: org 24:00:00.000, recv 24:00:00.016, xmit 24:00:00.017, length 20'],
  ['1100eef70007000100000000', 'ICMP address mask request, length 12'],
  ['1200eef600070001ffffff00', 'ICMP address mask is 0xffffff00, length 12'],
  ['2801d7fe0000000000000000', 'ICMP type-#40, length 12'],
  ['0800f7fd000100010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000', 'ICMP echo request, id 1, seq 1, length 64'],
  ];

  test(`icmpv4Summary matches tcpdump 4.99 on ${TCPDUMP.length} messages`, () => {
    for (const [h, text] of TCPDUMP) assert.equal(icmpv4Summary(parsed(hex(h))), text, h);
  });
});

describe('parseQuotedDatagram (IPv4 quotes)', () => {
  const udpQuote = PORT_UNREACHABLE.subarray(8, 36); // IP header + 8 bytes, as RFC 792 asks
  test('RFC 792 minimum quote: header and 8 bytes', () => {
    const q = parseQuotedDatagram(udpQuote, 4);
    assert.ok(q.ok);
    assert.equal(q.value.dstPort, 9999);
  });
  test('the inner total length may exceed the quote', () => {
    const q = parseQuotedDatagram(FRAG_NEEDED.subarray(8, 8 + 28), 4);
    assert.ok(q.ok);
    assert.equal(q.value.dst.join('.'), '10.2.0.2');
  });
  test('addresses are copies', () => {
    const q = parseQuotedDatagram(udpQuote, 4);
    assert.ok(q.ok);
    assert.notEqual(q.value.src.buffer, udpQuote.buffer);
  });
  test("reason 'truncated': shorter than the 20-byte header", () => {
    assert.deepEqual(parseQuotedDatagram(udpQuote.subarray(0, 19), 4), { ok: false, reason: 'truncated' });
  });
  test("reason 'truncated': UDP or TCP ports cut off", () => {
    assert.deepEqual(parseQuotedDatagram(udpQuote.subarray(0, 23), 4), { ok: false, reason: 'truncated' });
    const tcp = HOST_UNREACHABLE_TCP.subarray(8);
    assert.deepEqual(parseQuotedDatagram(tcp.subarray(0, 22), 4), { ok: false, reason: 'truncated' });
  });
  test('TCP with the ports but not the sequence number: no tcpSeq', () => {
    const q = parseQuotedDatagram(HOST_UNREACHABLE_TCP.subarray(8, 8 + 26), 4);
    assert.ok(q.ok);
    assert.equal(q.value.dstPort, 80);
    assert.equal('tcpSeq' in q.value, false);
  });
  test("reason 'bad-version'", () => {
    const b = udpQuote.slice();
    b[0] = 0x65;
    assert.deepEqual(parseQuotedDatagram(b, 4), { ok: false, reason: 'bad-version' });
    assert.deepEqual(parseQuotedDatagram(udpQuote, 6), { ok: false, reason: 'truncated' });
    const padded = concat(udpQuote, new Uint8Array(20));
    assert.deepEqual(parseQuotedDatagram(padded, 6), { ok: false, reason: 'bad-version' });
  });
  test("reason 'header-length-too-small': IHL below 5", () => {
    const b = udpQuote.slice();
    b[0] = 0x44;
    assert.deepEqual(parseQuotedDatagram(b, 4), { ok: false, reason: 'header-length-too-small' });
  });
  test("reason 'header-length-past-end': IHL beyond the quote", () => {
    const b = udpQuote.slice();
    b[0] = 0x48; // 32-byte header in a 28-byte quote
    assert.deepEqual(parseQuotedDatagram(b, 4), { ok: false, reason: 'header-length-past-end' });
  });
  test('IP options are skipped to reach the ports', () => {
    const b = concat(hex('46000024000000004011000001020304050607080101 0000'), hex('1f90 0035 0008 0000'));
    const q = parseQuotedDatagram(b, 4);
    assert.ok(q.ok);
    assert.equal(q.value.ipHeaderLength, 24);
    assert.equal(q.value.srcPort, 8080);
    assert.equal(q.value.dstPort, 53);
  });
  test('a non-first fragment carries no transport header: no ports', () => {
    const b = udpQuote.slice();
    b[7] = 0x10; // fragment offset 16 * 8
    const q = parseQuotedDatagram(b, 4);
    assert.ok(q.ok);
    assert.equal(q.value.protocol, 17);
    assert.equal('srcPort' in q.value, false);
    b[6] = 0x20; b[7] = 0; // MF set, offset 0: still the first fragment
    const first = parseQuotedDatagram(b, 4);
    assert.ok(first.ok);
    assert.equal(first.value.dstPort, 9999);
  });
});

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const body = fc.uint8Array({ maxLength: 120 });
const ownVariant = new Set([0, 3, 8, 11, 12]);
const icmpv4Repr: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
  fc.record({ type: fc.constantFrom('echo-request' as const, 'echo-reply' as const), code: u8, identifier: u16, sequence: u16, data: body }),
  fc.record({ type: fc.constant('destination-unreachable' as const), code: u8, nextHopMtu: u16, invoking: body }),
  fc.record({ type: fc.constant('time-exceeded' as const), code: u8, invoking: body }),
  fc.record({ type: fc.constant('parameter-problem' as const), code: u8, pointer: u8, invoking: body }),
  fc.record({ type: fc.constant('other' as const), icmpType: u8.filter((t) => !ownVariant.has(t)), code: u8, rest: u32, data: body }),
);

describe('properties', () => {
  test('parseIcmpv4, icmpv4Summary and parseQuotedDatagram never throw on random bytes', () => {
    // Up to 100 bytes: an 8-byte ICMP header quoting an IPv4 header with options (60) and 8 bytes more.
    fc.assert(fc.property(bytesUpTo(100), (bytes) => {
      parseIcmpv4(bytes);
      const r = parseIcmpv4(bytes, { verifyChecksum: false });
      if (r.ok) icmpv4Summary(r.value);
      parseQuotedDatagram(bytes, 4);
      Icmpv4Packet.checked(bytes);
    }), { numRuns: FUZZ_RUNS });
  });

  test('never throw on mutations of the golden messages (flip, truncate, extend)', () => {
    const seeds = [ECHO_REQUEST, PORT_UNREACHABLE, HOST_UNREACHABLE_TCP, ADMIN_PROHIBITED, TIME_EXCEEDED, FRAG_NEEDED.subarray(0, 60)];
    fc.assert(fc.property(mutationOf(seeds.length), (m) => {
      const bytes = m.apply(seeds[m.index]!);
      parseIcmpv4(bytes);
      const r = parseIcmpv4(bytes, { verifyChecksum: false });
      if (r.ok) {
        icmpv4Summary(r.value);
        if ('invoking' in r.value) parseQuotedDatagram(r.value.invoking, 4);
      }
      parseQuotedDatagram(bytes.subarray(Math.min(8, bytes.length)), 4);
    }), { numRuns: FUZZ_RUNS });
  });

  test('parseIcmpv4(emitIcmpv4(r)) deep-equals r for every variant', () => {
    fc.assert(fc.property(icmpv4Repr, fc.nat(7), (r, offset) => {
      const buf = new Uint8Array(offset + icmpv4BufferLen(r));
      const n = emitIcmpv4(r, buf, offset);
      assert.equal(n, icmpv4BufferLen(r));
      const back = parseIcmpv4(buf.subarray(offset));
      assert.ok(back.ok);
      assert.deepEqual(back.value, { ...r }); // fc.record builds null-prototype objects
      assert.equal(typeof icmpv4Summary(back.value), 'string');
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});
