import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseQuotedDatagram } from '../../src/wire/icmp-quote.js';
import { hex, value } from '../support/bytes.js';
import { FUZZ_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';

// The first 28 bytes of a UDP datagram 10.99.0.1:42790 -> 10.99.0.2:9, as an ICMP port
// unreachable quotes it (RFC 792: the IP header and the first 8 data bytes).
const QUOTE4 = hex('4500 003b 1c46 4000 4011 0a2c 0a63 0001 0a63 0002 a726 0009 0027 1a3b');
// An IPv6 quote: fixed header, then the first bytes of a TCP SYN fd00:99::1:40000 -> fd00:99::2:80.
const QUOTE6 = hex(`6000 0000 0028 0640 fd00 0099 0000 0000 0000 0000 0000 0001 fd00 0099 0000 0000 0000 0000 0000 0002
  9c40 0050 1234 5678 0000 0000`);

describe('quoted datagram of an ICMP error', () => {
  test('IPv4: addresses, protocol and ports of the original UDP datagram', () => {
    const q = value(parseQuotedDatagram(QUOTE4, 4));
    assert.deepEqual([...q.src], [10, 99, 0, 1]);
    assert.deepEqual([...q.dst], [10, 99, 0, 2]);
    assert.equal(q.protocol, 17);
    assert.equal(q.srcPort, 42790);
    assert.equal(q.dstPort, 9);
  });

  test('IPv6: TCP ports and the sequence number (RFC 5927 check)', () => {
    const q = value(parseQuotedDatagram(QUOTE6, 6));
    assert.equal(q.protocol, 6);
    assert.equal(q.srcPort, 40000);
    assert.equal(q.dstPort, 80);
    assert.equal(q.tcpSeq, 0x12345678);
  });

  test('bad quotes get a reason', () => {
    assert.equal(parseQuotedDatagram(QUOTE4.subarray(0, 10), 4).ok, false);
    assert.equal(parseQuotedDatagram(QUOTE6, 4).ok, false); // an IPv6 header where IPv4 was expected
    const ihl4 = QUOTE4.slice(); ihl4[0] = 0x44;
    const r = parseQuotedDatagram(ihl4, 4);
    assert.ok(!r.ok && r.reason === 'header-length-too-small');
  });

  test('never throws on random or mutated quotes', () => {
    fc.assert(fc.property(fc.constantFrom(4 as const, 6 as const), fc.oneof(
      bytesUpTo(120), // an IPv4 header with options (60) or IPv6 with extension headers, and 8 bytes of transport
      fc.tuple(fc.constantFrom(QUOTE4, QUOTE6), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(60))
        .map(([base, flips, cut]) => {
          const b = base.slice(0, Math.max(0, base.length - cut));
          for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
          return b;
        }),
    ), (family, bytes) => {
      const r = parseQuotedDatagram(bytes, family);
      if (r.ok) assert.ok(r.value.src.length === (family === 4 ? 4 : 16));
    }), { numRuns: FUZZ_RUNS });
  });
});
