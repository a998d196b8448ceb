import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitIpv4, emitIpv4Header, emitPlainIpv4Header, IPV4_MAX_TOTAL_LEN, Ipv4Packet, ipv4BufferLen, ipv4Fault, ipv4HeaderChecksumValid, parseIpv4,
} from '../../src/wire/ipv4.js';
import type { Ipv4EmitRepr, Ipv4Repr } from '../../src/wire/ipv4.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';
import { hex, value } from '../support/bytes.js';

function emitted(repr: Ipv4EmitRepr): Uint8Array {
  const buf = new Uint8Array(ipv4BufferLen(repr));
  assert.equal(emitIpv4(repr, buf), buf.length);
  return buf;
}

/** What parses (checksum unchecked) re-emits to the same bytes, up to the total length. */
function reemitsSame(b: Uint8Array): void {
  const r = parseIpv4(b, { verifyChecksum: false });
  if (!r.ok) return;
  const out = emitted(r.value);
  // Re-emitting recomputes the checksum and clears the reserved flag bit; all else is kept.
  const expect = b.slice(0, r.value.totalLength);
  expect[6] = expect[6]! & 0x7f;
  expect[10] = out[10]!; expect[11] = out[11]!;
  assert.deepEqual(out, expect);
}

/** Rewrites the header checksum after a test edits header bytes, so only the edit is at fault. */
function refreshChecksum(b: Uint8Array): Uint8Array {
  const hl = Math.min(b.length, (b[0]! & 0x0f) * 4);
  b[10] = 0; b[11] = 0;
  const c = internetChecksum(b, 0, hl);
  b[10] = c >>> 8; b[11] = c & 0xff;
  return b;
}

const LOCALHOST = Uint8Array.of(127, 0, 0, 1);

// Real packets, captured on loopback with tcpdump -xx (Ethernet header removed).
/** `ping -c1 -s 8 127.0.0.1`: echo request, DF, no options. */
const ECHO_REQUEST = hex('45000024e5a940004001572d7f0000017f0000010800d91a12d400010001020304050607');
/** `ping -R -c1 127.0.0.1`: IHL 15, options NOP + Record Route (len 39, pointer 8, one hop recorded). */
const RECORD_ROUTE = hex(
  '4f00007ce5a740004001a5c67f0000017f000001' +
  '010727087f0000010000000000000000000000000000000000000000000000000000000000000000' +
  '080079d512d200019f10026b000000000a09010000000000101112131415161718191a1b1c1d1e1f' +
  '202122232425262728292a2b2c2d2e2f3031323334353637');
/** The kernel's ICMP port unreachable for a UDP datagram to ::9999: TOS 0xc0 (DSCP 48, CS6), no DF. */
const PORT_UNREACHABLE = hex(
  '45c0003de46f00004001978e7f0000017f000001' +
  '03031143000000004500002143a140004011f9287f0000017f00000182aa270f000dfe2068656c6c6f');
/** Second fragment of a 1,304-byte UDP datagram sent over an MTU-1280 loopback in a netns: offset 1256, MF clear. */
const LAST_FRAGMENT = hex(
  '45000044b3ce009d4011c83b7f0000017f000001' +
  'e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff7461696c2d6f662d646174616772616d');

const GOLDEN = [ECHO_REQUEST, RECORD_ROUTE, PORT_UNREACHABLE, LAST_FRAGMENT];

describe('IPv4 golden packets', () => {
  test('echo request: every field', () => {
    const r = value(parseIpv4(ECHO_REQUEST));
    assert.deepEqual(r, {
      src: LOCALHOST, dst: LOCALHOST, protocol: 1, ttl: 64, dscp: 0, ecn: 0, identification: 0xe5a9,
      dontFragment: true, moreFragments: false, fragmentOffset: 0, headerLength: 20, totalLength: 36,
      checksum: 0x572d, options: new Uint8Array(0), payload: ECHO_REQUEST.subarray(20),
    } satisfies Ipv4Repr);
    const p = value(Ipv4Packet.checked(ECHO_REQUEST));
    assert.equal(p.version, 4);
    assert.equal(p.isFragment, false);
    assert.ok(p.verifyChecksum());
    assert.equal(p.payload.byteOffset, ECHO_REQUEST.byteOffset + 20, 'payload is a view');
    assert.equal(r.payload.buffer, ECHO_REQUEST.buffer, 'payload is a view');
    assert.notEqual(r.src.buffer, ECHO_REQUEST.buffer, 'addresses are copies');
  });

  test('record route options: IHL 15, options kept raw', () => {
    const r = value(parseIpv4(RECORD_ROUTE));
    assert.equal(r.headerLength, 60);
    assert.equal(r.totalLength, 124);
    assert.equal(r.identification, 0xe5a7);
    assert.equal(r.checksum, 0xa5c6);
    assert.equal(r.options.length, 40);
    assert.deepEqual(r.options.subarray(0, 8), Uint8Array.of(1, 7, 39, 8, 127, 0, 0, 1)); // NOP, RR len 39 ptr 8, 127.0.0.1
    assert.deepEqual(r.options.subarray(8), new Uint8Array(32));
    assert.equal(r.payload.length, 64);
    assert.equal(r.payload[0], 8, 'ICMP echo request starts the payload');
  });

  test('port unreachable: DSCP and ECN from the TOS byte, no DF', () => {
    const r = value(parseIpv4(PORT_UNREACHABLE));
    assert.equal(r.dscp, 48);
    assert.equal(r.ecn, 0);
    assert.equal(r.dontFragment, false);
    assert.equal(r.totalLength, 61);
    assert.equal(r.payload.length, 41);
  });

  test('last fragment: offset in bytes, flags, UDP protocol', () => {
    const r = value(parseIpv4(LAST_FRAGMENT));
    assert.equal(r.identification, 0xb3ce);
    assert.equal(r.fragmentOffset, 1256);
    assert.equal(r.moreFragments, false);
    assert.equal(r.dontFragment, false);
    assert.equal(r.protocol, 17);
    assert.equal(new TextDecoder().decode(r.payload.subarray(32)), 'tail-of-datagram');
    assert.equal(value(Ipv4Packet.checked(LAST_FRAGMENT)).isFragment, true);
  });

  test('emit reproduces every golden packet exactly', () => {
    for (const g of GOLDEN) assert.deepEqual(emitted(value(parseIpv4(g))), g);
  });

  test('Ethernet padding past the total length is not payload', () => {
    const padded = new Uint8Array(ECHO_REQUEST.length + 10);
    padded.set(ECHO_REQUEST);
    padded.fill(0xee, ECHO_REQUEST.length);
    const r = value(parseIpv4(padded));
    assert.equal(r.payload.length, 16);
    assert.equal(value(Ipv4Packet.checked(padded)).bytes.length, 36);
    assert.deepEqual(emitted(r), ECHO_REQUEST);
  });

  test('emitIpv4Header then the payload in place equals emitIpv4', () => {
    const r = value(parseIpv4(RECORD_ROUTE));
    const buf = new Uint8Array(RECORD_ROUTE.length + 3);
    const hl = emitIpv4Header(r, r.payload.length, buf, 3);
    assert.equal(hl, 60);
    buf.set(r.payload, 3 + hl);
    assert.deepEqual(buf.subarray(3), RECORD_ROUTE);
  });
});

describe('IPv4 malformed input: one reason each', () => {
  const reason = (bytes: Uint8Array, opts?: { verifyChecksum?: boolean }) => {
    const r = parseIpv4(bytes, opts);
    return r.ok ? 'ok' : r.reason;
  };
  const edit = (base: Uint8Array, f: (b: Uint8Array) => void) => { const b = base.slice(); f(b); return refreshChecksum(b); };

  test('truncated: fewer than 20 bytes', () => {
    assert.equal(reason(ECHO_REQUEST.subarray(0, 19)), 'truncated');
    assert.equal(reason(new Uint8Array(0)), 'truncated');
  });
  test('bad-version', () => assert.equal(reason(edit(ECHO_REQUEST, (b) => { b[0] = 0x65; })), 'bad-version'));
  test('header-length-too-small: IHL 4', () => assert.equal(reason(edit(ECHO_REQUEST, (b) => { b[0] = 0x44; })), 'header-length-too-small'));
  test('header-length-past-end: IHL 15 in a 36-byte buffer', () => {
    assert.equal(reason(edit(ECHO_REQUEST, (b) => { b[0] = 0x4f; })), 'header-length-past-end');
  });
  test('total-length-too-small: total 19', () => assert.equal(reason(edit(ECHO_REQUEST, (b) => { b[3] = 19; })), 'total-length-too-small'));
  test('total-length-past-end: total 37 in 36 bytes', () => assert.equal(reason(edit(ECHO_REQUEST, (b) => { b[3] = 37; })), 'total-length-past-end'));
  test('option-length-invalid: an option of length 1 (and 0)', () => {
    assert.equal(reason(edit(RECORD_ROUTE, (b) => { b[22] = 1; })), 'option-length-invalid'); // RR's length byte
    assert.equal(reason(edit(RECORD_ROUTE, (b) => { b[22] = 0; })), 'option-length-invalid');
  });
  test('option-overrun: an option longer than the options area', () => {
    assert.equal(reason(edit(RECORD_ROUTE, (b) => { b[22] = 40; })), 'option-overrun');
  });
  test('option-overrun: a kind byte with no room for its length', () => {
    // IHL 6: four option bytes NOP NOP NOP then kind 7 alone.
    const b = hex('46000018000000004001000001020304050607080101010700000000');
    assert.equal(reason(refreshChecksum(b)), 'option-overrun');
  });
  test('EOL ends the walk: anything after it is padding', () => {
    const b = hex('46000018000000004001000001020304050607080007ffff');
    assert.equal(reason(refreshChecksum(b)), 'ok');
  });
  test('bad-fragment: offset 65528 with 8 bytes of payload passes 65535', () => {
    const b = edit(ECHO_REQUEST, (x) => { x[6] = 0x1f; x[7] = 0xff; x[3] = 28; });
    assert.equal(reason(b.subarray(0, 28)), 'bad-fragment');
    const fits = edit(ECHO_REQUEST, (x) => { x[6] = 0x1f; x[7] = 0xff; x[3] = 27; });
    assert.equal(reason(fits.subarray(0, 27)), 'ok', '65528 + 7 = 65535 fits');
  });
  test('bad-checksum, unless verification is off; ipv4HeaderChecksumValid reports it', () => {
    const b = ECHO_REQUEST.slice();
    b[11] ^= 1;
    assert.equal(reason(b), 'bad-checksum');
    assert.equal(reason(b, { verifyChecksum: false }), 'ok');
    assert.equal(ipv4HeaderChecksumValid(b), false);
    assert.equal(ipv4HeaderChecksumValid(ECHO_REQUEST), true);
    assert.equal(ipv4HeaderChecksumValid(RECORD_ROUTE), true);
    assert.equal(ipv4HeaderChecksumValid(ECHO_REQUEST.subarray(0, 10)), false);
    assert.equal(ipv4HeaderChecksumValid(RECORD_ROUTE.subarray(0, 40)), false, 'IHL past the end');
  });
});

describe('IPv4 emit refuses records no parser would accept', () => {
  const base = value(parseIpv4(ECHO_REQUEST));
  const attempt = (r: Ipv4EmitRepr, size = 70000) => () => emitIpv4(r, new Uint8Array(size));

  test('total length above 65535', () => {
    assert.throws(attempt({ ...base, payload: new Uint8Array(IPV4_MAX_TOTAL_LEN - 19) }), RangeError);
    assert.equal(attempt({ ...base, payload: new Uint8Array(IPV4_MAX_TOTAL_LEN - 20) })(), IPV4_MAX_TOTAL_LEN);
  });
  test('options: too long, malformed', () => {
    assert.throws(attempt({ ...base, options: new Uint8Array(41).fill(1) }), RangeError);
    assert.throws(attempt({ ...base, options: Uint8Array.of(7, 1, 0, 0) }), RangeError);
  });
  test('options are padded to 4 bytes with zeros', () => {
    // NOP NOP NOP, Router Alert (RFC 2113: kind 148, length 4): seven bytes, one of padding.
    const bytes = emitted({ ...base, options: Uint8Array.of(1, 1, 1, 0x94, 4, 0, 0) });
    assert.equal(bytes[0], 0x47);
    assert.deepEqual(bytes.subarray(20, 28), Uint8Array.of(1, 1, 1, 0x94, 4, 0, 0, 0));
    assert.ok(ipv4HeaderChecksumValid(bytes));
  });
  test('fields out of range, misaligned or oversized fragments, bad addresses, short buffers', () => {
    assert.throws(attempt({ ...base, dscp: 64 }), RangeError);
    assert.throws(attempt({ ...base, ecn: 4 }), RangeError);
    assert.throws(attempt({ ...base, ttl: 256 }), RangeError);
    assert.throws(attempt({ ...base, identification: -1 }), RangeError);
    assert.throws(attempt({ ...base, fragmentOffset: 12 }), RangeError);
    assert.throws(attempt({ ...base, fragmentOffset: 65528 }), RangeError, '65528 + 16 bytes of payload');
    assert.throws(attempt({ ...base, src: new Uint8Array(16) }), RangeError);
    assert.throws(attempt(base, 35), RangeError);
  });
});

/** A header option list: valid options, cut at 40 bytes, padded to 4 with EOL or NOP. */
const optionsArb = fc.tuple(
  fc.array(fc.oneof(
    fc.constant(Uint8Array.of(1)),
    fc.tuple(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ maxLength: 10 }))
      .map(([kind, data]) => Uint8Array.of(kind, data.length + 2, ...data)),
  ), { maxLength: 8 }),
  fc.constantFrom(0, 1),
).map(([opts, padByte]) => {
  const out: number[] = [];
  for (const o of opts) {
    if (out.length + o.length > 40) break;
    out.push(...o);
  }
  while (out.length % 4 !== 0) out.push(padByte);
  return Uint8Array.from(out);
});

const reprArb: fc.Arbitrary<Ipv4EmitRepr> = fc.record({
  src: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  dst: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  protocol: fc.nat(255),
  ttl: fc.nat(255),
  dscp: fc.nat(63),
  ecn: fc.nat(3),
  identification: fc.nat(0xffff),
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.nat(0x1fff).map((u) => u * 8),
  options: optionsArb,
  payload: fc.uint8Array({ maxLength: 200 }),
}).filter((r) => r.fragmentOffset + r.payload.length <= IPV4_MAX_TOTAL_LEN);

describe('IPv4 properties', () => {
  test('parse(emit(r)) equals r, at any offset in the buffer', () => {
    fc.assert(fc.property(reprArb, fc.nat(8), (r, at) => {
      const buf = new Uint8Array(at + ipv4BufferLen(r));
      assert.equal(emitIpv4(r, buf, at), ipv4BufferLen(r));
      const bytes = buf.subarray(at);
      assert.ok(ipv4HeaderChecksumValid(bytes));
      const back = value(parseIpv4(bytes));
      const headerLength = 20 + r.options.length;
      assert.deepEqual(back, { ...r, headerLength, totalLength: headerLength + r.payload.length, checksum: back.checksum });
    }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('parse never throws on random bytes; what parses re-emits to the same bytes', () => {
    // Up to 100 bytes: past the largest header (20 + 40 bytes of options) and into a payload.
    fc.assert(fc.property(bytesUpTo(100), fc.nat(2), (bytes, shape) => {
      // 1: version 4; 2: also a total length that fits, so the options walk, the fragment
      // check and the checksum are reached (a random one is past the end but 1 in 650 times).
      if (shape >= 1 && bytes.length > 0) bytes[0] = 0x40 | (bytes[0]! & 0x0f);
      if (shape === 2 && bytes.length >= 4) { bytes[2] = 0; bytes[3] = bytes.length; }
      parseIpv4(bytes);
      reemitsSame(bytes);
    }), { numRuns: FUZZ_RUNS });
  });

  test('parse never throws on mutated real packets; what parses re-emits to the same bytes', () => {
    const mutated = fc.tuple(
      fc.constantFrom(...GOLDEN),
      fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 4 }),
      fc.nat(200),
      fc.uint8Array({ maxLength: 8 }),
    ).map(([g, flips, cut, extra]) => {
      const b = new Uint8Array(Math.min(g.length, cut) + extra.length);
      b.set(g.subarray(0, Math.min(g.length, cut)));
      b.set(extra, b.length - extra.length);
      for (const [i, v] of flips) if (b.length > 0) b[i % b.length] = v;
      return b;
    });
    fc.assert(fc.property(mutated, (b) => {
      parseIpv4(b);
      reemitsSame(b);
    }), { numRuns: FUZZ_RUNS });
  });

  test('ipv4Fault says what Ipv4Packet.checked says, on mutated real packets', () => {
    fc.assert(fc.property(fc.constantFrom(...GOLDEN), fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 4 }), fc.nat(200), (g, flips, cut) => {
      const b = g.slice(0, cut);
      for (const [i, v] of flips) if (b.length > 0) b[i % b.length] = v;
      const checked = Ipv4Packet.checked(b);
      assert.equal(ipv4Fault(b), checked.ok ? null : checked.reason);
    }), { numRuns: FUZZ_RUNS });
  });

  test('emitPlainIpv4Header writes what emitIpv4Header writes for a host\'s header; without the checksum it leaves 0', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(255), fc.nat(255),
      fc.nat(0xffff), fc.boolean(), fc.nat(IPV4_MAX_TOTAL_LEN - 20), fc.nat(8),
      (src, dst, protocol, ttl, identification, dontFragment, payloadLength, at) => {
        const expected = new Uint8Array(at + 20);
        emitIpv4Header({
          src, dst, protocol, ttl, dscp: 0, ecn: 0, identification, dontFragment, moreFragments: false, fragmentOffset: 0,
          options: new Uint8Array(0), payload: new Uint8Array(0),
        }, payloadLength, expected, at);
        const got = new Uint8Array(at + 20).fill(0xee);
        assert.equal(emitPlainIpv4Header(got, at, src, dst, protocol, ttl, identification, dontFragment, payloadLength, true), 20);
        assert.deepEqual(got.subarray(at), expected.subarray(at));
        emitPlainIpv4Header(got, at, src, dst, protocol, ttl, identification, dontFragment, payloadLength, false);
        assert.deepEqual([got[at + 10], got[at + 11]], [0, 0]);
        assert.deepEqual(got.subarray(at + 12), expected.subarray(at + 12));
      },
    ), { numRuns: ROUND_TRIP_RUNS });
    const buf = new Uint8Array(20);
    const a = Uint8Array.of(10, 0, 0, 1);
    assert.throws(() => emitPlainIpv4Header(buf, 0, a, new Uint8Array(16), 6, 64, 0, true, 0, true), RangeError);
    assert.throws(() => emitPlainIpv4Header(buf, 0, a, a, 6, 64, 0, true, IPV4_MAX_TOTAL_LEN - 19, true), RangeError);
    assert.throws(() => emitPlainIpv4Header(buf, 1, a, a, 6, 64, 0, true, 0, true), RangeError);
    assert.throws(() => emitPlainIpv4Header(buf, 0, a, a, 6, 256, 0, true, 0, true), /ttl 256/);
    assert.throws(() => emitPlainIpv4Header(buf, 0, a, a, 6, 64, 0x10000, true, 0, true), /identification/);
  });
});
