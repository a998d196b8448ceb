import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  emitIpv6, IPV6_MAX_EXTENSION_HEADERS, Ipv6Packet, ipv6BufferLen, ipv6FragmentHeader, parseIpv6,
} from '../../src/wire/ipv6.js';
import type { Ipv6EmitRepr, Ipv6ExtensionHeader, Ipv6Repr } from '../../src/wire/ipv6.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';
import { hex, value } from '../support/bytes.js';

function reason(bytes: Uint8Array): string {
  const r = parseIpv6(bytes);
  return r.ok ? 'ok' : r.reason;
}

function emitted(repr: Ipv6EmitRepr): Uint8Array {
  const buf = new Uint8Array(ipv6BufferLen(repr));
  assert.equal(emitIpv6(repr, buf), buf.length);
  return buf;
}

const LOOPBACK = hex('00000000000000000000000000000001');
const LOOPBACK_PAIR = '00000000000000000000000000000001'.repeat(2);

// Real packets, captured on loopback with tcpdump -xx (Ethernet header removed).
/** `ping -6 -c1 -s 8 ::1`: echo request, flow label 0xceb96, no extension headers. */
const ECHO_REQUEST = hex('600ceb9600103a40' + LOOPBACK_PAIR + '800060cf12d30001 0001020304050607');
/**
 * A UDP datagram "hello" to ::1 port 9876 from a socket with IPV6_HOPOPTS (Router Alert,
 * PadN) and IPV6_DSTOPTS (PadN of 4) set; tcpdump: `HBH (rtalert: 0x0000) (padn) DSTOPT (padn)`.
 */
const HBH_DSTOPTS_UDP = hex('60028810001d0040' + LOOPBACK_PAIR +
  '3c00050200000100' + '1100010400000000' + '98c82694000dfca368656c6c6f');
/**
 * The second fragment of a 1,304-byte UDP datagram to ::1 over an MTU-1280 loopback in a
 * network namespace; tcpdump: `frag (0xa98f3fa9:1232|72)`.
 */
const LAST_FRAGMENT = hex('60088fbe00502c40' + LOOPBACK_PAIR + '110004d0a98f3fa9' +
  'c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9' +
  'fafbfcfdfeff7461696c2d6f662d646174616772616d');
/**
 * Hand-built, each field checked against tshark -V: 2001:db8::1 > 2001:db8::2, traffic
 * class 0xb8 (EF), flow label 0x12345, a type 2 routing header (home address
 * 2001:db8::99, segments left 1), a fragment header (offset 0, M=1, id 0xdeadbeef), then
 * the start of a UDP datagram 40000 > 9999 whose 8 bytes of data are "fragment".
 */
const ROUTING_FIRST_FRAGMENT = hex('6b81234500302b40 20010db8000000000000000000000001 20010db8000000000000000000000002' +
  '2c02020100000000 20010db8000000000000000000000099' + '11000001deadbeef' + '9c40270f00181234 667261676d656e74');

/** A ::1 > ::1 packet whose fixed header names `next`, followed by the bytes `rest` (hex). */
function packet(next: number, rest: string, payloadLength?: number): Uint8Array {
  const tail = hex(rest);
  const b = new Uint8Array(40 + tail.length);
  b.set(hex('6000000000000040' + LOOPBACK_PAIR));
  const len = payloadLength ?? tail.length;
  b[4] = len >>> 8; b[5] = len & 0xff; b[6] = next;
  b.set(tail, 40);
  return b;
}

const GOLDEN = [ECHO_REQUEST, HBH_DSTOPTS_UDP, LAST_FRAGMENT, ROUTING_FIRST_FRAGMENT];

describe('IPv6 golden packets', () => {
  test('echo request: every field', () => {
    const r = value(parseIpv6(ECHO_REQUEST));
    assert.deepEqual(r, {
      src: LOOPBACK, dst: LOOPBACK, trafficClass: 0, flowLabel: 0xceb96, hopLimit: 64, payloadLength: 16,
      nextHeader: 58, extensionHeaders: [], fragment: undefined, isNonFirstFragment: false, upperProtocol: 58,
      payload: ECHO_REQUEST.subarray(40),
    } satisfies Ipv6Repr);
    assert.equal(r.payload.buffer, ECHO_REQUEST.buffer, 'payload is a view');
    assert.notEqual(r.src.buffer, ECHO_REQUEST.buffer, 'addresses are copies');
    const p = value(Ipv6Packet.checked(ECHO_REQUEST));
    assert.equal(p.version, 6);
    assert.equal(p.upperLayerOffset, 40);
    assert.equal(p.extensionHeaderBytes.length, 0);
    assert.equal(p.fragment, undefined);
  });

  test('hop-by-hop and destination options are walked to UDP', () => {
    const r = value(parseIpv6(HBH_DSTOPTS_UDP));
    assert.equal(r.flowLabel, 0x28810);
    assert.equal(r.payloadLength, 29);
    assert.equal(r.nextHeader, 0);
    assert.deepEqual(r.extensionHeaders, [
      { type: 0, bytes: hex('3c00050200000100') }, // next 60, len 0; Router Alert 0; PadN 0
      { type: 60, bytes: hex('1100010400000000') }, // next 17, len 0; PadN 4
    ]);
    assert.equal(r.upperProtocol, 17);
    assert.deepEqual(r.payload, hex('98c82694000dfca368656c6c6f'));
    assert.equal(r.fragment, undefined);
    const p = value(Ipv6Packet.checked(HBH_DSTOPTS_UDP));
    assert.equal(p.extensionHeaderCount, 2);
    assert.equal(p.upperLayerOffset, 56);
  });

  test('a non-first fragment stops the walk: its payload is not an upper-layer header', () => {
    const r = value(parseIpv6(LAST_FRAGMENT));
    const fragment = { offset: 1232, moreFragments: false, identification: 0xa98f3fa9 };
    assert.equal(r.nextHeader, 44);
    assert.deepEqual(r.extensionHeaders, [{ type: 44, bytes: hex('110004d0a98f3fa9'), ...fragment }]);
    assert.deepEqual(r.fragment, fragment);
    assert.equal(r.isNonFirstFragment, true);
    assert.equal(r.upperProtocol, 17);
    assert.equal(r.payload.length, 72);
    assert.equal(new TextDecoder().decode(r.payload.subarray(56)), 'tail-of-datagram');
  });

  test('hand-built routing + first fragment: every field', () => {
    const r = value(parseIpv6(ROUTING_FIRST_FRAGMENT));
    const fragment = { offset: 0, moreFragments: true, identification: 0xdeadbeef };
    assert.deepEqual(r, {
      src: hex('20010db8000000000000000000000001'), dst: hex('20010db8000000000000000000000002'),
      trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 64, payloadLength: 48, nextHeader: 43,
      extensionHeaders: [
        { type: 43, bytes: hex('2c02020100000000 20010db8000000000000000000000099') },
        { type: 44, bytes: hex('11000001deadbeef'), ...fragment },
      ],
      fragment, isNonFirstFragment: false, upperProtocol: 17, payload: hex('9c40270f00181234 667261676d656e74'),
    } satisfies Ipv6Repr);
  });

  test('emit reproduces every golden packet exactly', () => {
    for (const g of GOLDEN) assert.deepEqual(emitted(value(parseIpv6(g))), g);
  });

  test('emit from a record built by hand, with the fragment builder, links the chain', () => {
    const routing = hex('0002020100000000 20010db8000000000000000000000099'); // next header left 0
    const bytes = emitted({
      src: hex('20010db8000000000000000000000001'), dst: hex('20010db8000000000000000000000002'),
      trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 64,
      extensionHeaders: [{ type: 43, bytes: routing }, ipv6FragmentHeader({ offset: 0, moreFragments: true, identification: 0xdeadbeef })],
      upperProtocol: 17, payload: hex('9c40270f00181234 667261676d656e74'),
    });
    assert.deepEqual(bytes, ROUTING_FIRST_FRAGMENT);
  });

  test('bytes past the payload length are ignored', () => {
    const padded = new Uint8Array(ECHO_REQUEST.length + 6).fill(0xee);
    padded.set(ECHO_REQUEST);
    const r = value(parseIpv6(padded));
    assert.equal(r.payload.length, 16);
    assert.deepEqual(emitted(r), ECHO_REQUEST);
  });

  test('ESP and No Next Header end the walk; AH is walked over by its own length rule', () => {
    const ah = '3204000011223344 0000000155555555 66666666 77777777'; // next ESP, len 4 -> (4+2)*4 = 24 bytes
    const esp = hex('1122334400000001 deadbeef');
    const dstThenAhThenEsp = packet(60, '3300010400000000' + ah + '1122334400000001 deadbeef');
    const r = value(parseIpv6(dstThenAhThenEsp));
    assert.deepEqual(r.extensionHeaders.map((h) => h.type), [60, 51]);
    assert.equal(r.extensionHeaders[1]!.bytes.length, 24);
    assert.equal(r.upperProtocol, 50);
    assert.deepEqual(r.payload, esp);
    const none = ECHO_REQUEST.slice();
    none[6] = 59;
    const n = value(parseIpv6(none));
    assert.equal(n.upperProtocol, 59);
    assert.equal(n.payload.length, 16, 'No Next Header: the rest is reported as payload');
  });
});

describe('IPv6 malformed input: one reason each', () => {
  test('truncated: fewer than 40 bytes', () => {
    assert.equal(reason(ECHO_REQUEST.subarray(0, 39)), 'truncated');
    assert.equal(reason(new Uint8Array(0)), 'truncated');
  });
  test('bad-version: an IPv4 header', () => {
    const b = ECHO_REQUEST.slice(); b[0] = 0x45;
    assert.equal(reason(b), 'bad-version');
  });
  test('total-length-past-end: payload length 17 with 16 bytes present', () => {
    const b = ECHO_REQUEST.slice(); b[5] = 17;
    assert.equal(reason(b), 'total-length-past-end');
  });
  test('payload length 0 means no payload, even with bytes after', () => {
    const r = value(parseIpv6(packet(17, '0102030405060708', 0)));
    assert.equal(r.payload.length, 0);
  });
  test('extension-header-invalid: hop-by-hop after another header', () => {
    assert.equal(reason(packet(60, '0000010400000000 1100010400000000')), 'extension-header-invalid');
    assert.equal(reason(packet(0, '0000010400000000 1100010400000000')), 'extension-header-invalid', 'hop-by-hop twice');
  });
  test('extension-header-invalid: a chain longer than the cap', () => {
    const dst = '3c00010400000000';
    const ok16 = dst.repeat(IPV6_MAX_EXTENSION_HEADERS - 1) + '1100010400000000';
    assert.equal(reason(packet(60, ok16)), 'ok');
    const too17 = dst.repeat(IPV6_MAX_EXTENSION_HEADERS) + '1100010400000000';
    assert.equal(reason(packet(60, too17)), 'extension-header-invalid');
  });
  test('extension-header-truncated: no room for next header and length', () => {
    assert.equal(reason(packet(43, '11')), 'extension-header-truncated');
    assert.equal(reason(packet(43, '')), 'extension-header-truncated');
  });
  test('extension-header-truncated: a header longer than the payload', () => {
    assert.equal(reason(packet(43, '1101000000000000 00000000')), 'extension-header-truncated');
    assert.equal(reason(packet(44, '11000001deadbe')), 'extension-header-truncated', 'a 7-byte fragment header');
    assert.equal(reason(packet(51, '1102000000000000')), 'extension-header-truncated', 'AH of (2+2)*4 bytes in 8');
  });
  test('extension-header-truncated: cut short by the payload length, not the buffer', () => {
    assert.equal(reason(packet(60, '1100010400000000', 7)), 'extension-header-truncated');
  });
  test('option-overrun: a TLV past its header, in hop-by-hop and destination options', () => {
    assert.equal(reason(packet(0, '1100010500000000')), 'option-overrun');
    assert.equal(reason(packet(60, '1100010500000000')), 'option-overrun');
    assert.equal(reason(packet(60, '1100000000000001')), 'option-overrun', 'a type with no room for its length');
    assert.equal(reason(packet(60, '1100000000000000')), 'ok', 'six Pad1');
  });
});

describe('IPv6 emit refuses records the parser would refuse', () => {
  const base = value(parseIpv6(ECHO_REQUEST));
  const dst = { type: 60, bytes: hex('0000010400000000') } as const;
  const attempt = (r: Partial<Ipv6EmitRepr>) => () => emitIpv6({ ...base, ...r }, new Uint8Array(70000));

  test('payload length above 65535', () => {
    assert.throws(attempt({ payload: new Uint8Array(65536) }), RangeError);
    assert.equal(attempt({ payload: new Uint8Array(65535) })(), 40 + 65535);
    assert.throws(attempt({ extensionHeaders: [dst], payload: new Uint8Array(65535 - 7) }), RangeError);
  });
  test('bad chains', () => {
    assert.throws(attempt({ extensionHeaders: [dst, { type: 0, bytes: hex('0000010400000000') }] }), RangeError, 'hop-by-hop not first');
    assert.throws(attempt({ extensionHeaders: Array(IPV6_MAX_EXTENSION_HEADERS + 1).fill(dst) }), RangeError, 'too long');
    assert.throws(attempt({ extensionHeaders: [{ type: 60, bytes: hex('0001010400000000') }] }), RangeError, 'length field disagrees');
    assert.throws(attempt({ extensionHeaders: [{ type: 60, bytes: hex('0000010500000000') }] }), RangeError, 'option overrun');
    assert.throws(attempt({ extensionHeaders: [{ type: 17 as 60, bytes: hex('0000010400000000') }] }), RangeError, 'not an extension');
    assert.throws(attempt({ upperProtocol: 43 }), RangeError, 'upper protocol that would be walked');
    const later = ipv6FragmentHeader({ offset: 8, moreFragments: false, identification: 1 });
    assert.throws(attempt({ extensionHeaders: [later, dst] }), RangeError, 'a header after a non-first fragment');
    assert.equal(attempt({ extensionHeaders: [later], upperProtocol: 60 })(), 40 + 8 + 16, 'a non-first fragment may carry anything');
  });
  test('fields out of range, bad addresses, short buffers', () => {
    assert.throws(attempt({ flowLabel: 0x100000 }), RangeError);
    assert.throws(attempt({ trafficClass: 256 }), RangeError);
    assert.throws(attempt({ hopLimit: -1 }), RangeError);
    assert.throws(attempt({ src: new Uint8Array(4) }), RangeError);
    assert.throws(() => emitIpv6(base, new Uint8Array(55)), RangeError);
    assert.throws(() => ipv6FragmentHeader({ offset: 4, moreFragments: false, identification: 0 }), RangeError);
    assert.throws(() => ipv6FragmentHeader({ offset: 0, moreFragments: false, identification: 2 ** 32 }), RangeError);
  });
});

/** A hop-by-hop or destination options header: Pad1s and TLVs, padded to 8 with Pad1 or PadN. */
function optionsHeaderArb(type: 0 | 60): fc.Arbitrary<Ipv6ExtensionHeader> {
  return fc.array(fc.oneof(
    fc.constant([0]),
    fc.tuple(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 12 })).map(([t, data]) => [t, data.length, ...data]),
  ), { maxLength: 5 }).map((opts) => {
    const out = [0, 0, ...opts.flat()];
    const pad = (8 - (out.length % 8)) % 8;
    if (pad === 1) out.push(0);
    else if (pad >= 2) out.push(1, pad - 2, ...new Array<number>(pad - 2).fill(0));
    out[1] = out.length / 8 - 1;
    return { type, bytes: Uint8Array.from(out) };
  });
}

const routingArb: fc.Arbitrary<Ipv6ExtensionHeader> = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(3))
  .chain(([routingType, segmentsLeft, units]) => fc.uint8Array({ minLength: 4 + units * 8, maxLength: 4 + units * 8 })
    .map((data) => ({ type: 43 as const, bytes: Uint8Array.of(0, units, routingType, segmentsLeft, ...data) })));

const ahArb: fc.Arbitrary<Ipv6ExtensionHeader> = fc.nat(6)
  .chain((len) => fc.uint8Array({ minLength: (len + 2) * 4 - 2, maxLength: (len + 2) * 4 - 2 })
    .map((data) => ({ type: 51 as const, bytes: Uint8Array.of(0, len, ...data) })));

const fragmentArb = fc.record({
  offset: fc.oneof(fc.constant(0), fc.nat(0x1fff).map((u) => u * 8)),
  moreFragments: fc.boolean(),
  identification: fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x10000 + lo),
}).map(ipv6FragmentHeader);

const isWalked = (p: number) => p === 0 || p === 43 || p === 44 || p === 51 || p === 60;
const nonFirst = (h: Ipv6ExtensionHeader | undefined) => h !== undefined && h.type === 44 && h.offset !== 0;

/** 0-3 extension headers (hop-by-hop first only; a non-first fragment only last) and a fitting upper protocol. */
const emitReprArb: fc.Arbitrary<Ipv6EmitRepr> = fc.record({
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  trafficClass: fc.nat(255),
  flowLabel: fc.nat(0xfffff),
  hopLimit: fc.nat(255),
  hopByHop: fc.option(optionsHeaderArb(0), { nil: undefined }),
  rest: fc.array(fc.oneof(optionsHeaderArb(60), routingArb, fragmentArb, ahArb), { maxLength: 3 }),
  upperProtocol: fc.nat(255),
  payload: fc.uint8Array({ maxLength: 120 }),
}).map(({ hopByHop, rest, upperProtocol, ...fixed }) => {
  const chain = (hopByHop ? [hopByHop, ...rest] : rest).slice(0, 3)
    // Only the last header may be a non-first fragment: the parser stops there (RFC 8200 4.5).
    .map((h, i, all) => (nonFirst(h) && i < all.length - 1 && h.type === 44 ? ipv6FragmentHeader({ ...h, offset: 0 }) : h));
  const upper = nonFirst(chain[chain.length - 1]) || !isWalked(upperProtocol) ? upperProtocol : 17;
  return { ...fixed, extensionHeaders: chain, upperProtocol: upper };
});

/** What parse should return for an emitted record: links rewritten, derived fields filled. */
function expectedRepr(r: Ipv6EmitRepr): Ipv6Repr {
  const chain = r.extensionHeaders.map((h, i, all) => {
    const bytes = h.bytes.slice();
    bytes[0] = i + 1 < all.length ? all[i + 1]!.type : r.upperProtocol;
    return { ...h, bytes };
  });
  const firstFragment = chain.find((h) => h.type === 44);
  return {
    ...r,
    extensionHeaders: chain,
    payloadLength: ipv6BufferLen(r) - 40,
    nextHeader: chain.length > 0 ? chain[0]!.type : r.upperProtocol,
    fragment: firstFragment?.type === 44
      ? { offset: firstFragment.offset, moreFragments: firstFragment.moreFragments, identification: firstFragment.identification }
      : undefined,
    isNonFirstFragment: nonFirst(chain[chain.length - 1]),
  };
}

describe('IPv6 properties', () => {
  test('parse(emit(r)) equals r, at any offset in the buffer', () => {
    fc.assert(fc.property(emitReprArb, fc.nat(8), (r, at) => {
      const buf = new Uint8Array(at + ipv6BufferLen(r));
      assert.equal(emitIpv6(r, buf, at), ipv6BufferLen(r));
      assert.deepEqual(value(parseIpv6(buf.subarray(at))), expectedRepr(r));
    }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('parse never throws on random bytes; what parses re-emits to the same bytes', () => {
    // Up to 160 bytes: the 40-byte header and a chain of extension headers behind it.
    fc.assert(fc.property(bytesUpTo(160), fc.boolean(), (bytes, shaped) => {
      if (shaped && bytes.length >= 40) {
        // Version 6 and a payload length that fits, so the extension-header walk is reached.
        bytes[0] = 0x60 | (bytes[0]! & 0x0f);
        bytes[4] = 0; bytes[5] = bytes.length - 40;
        bytes[6] = [0, 43, 44, 51, 60][bytes[6]! % 5]!;
      }
      const r = parseIpv6(bytes);
      if (r.ok) assert.deepEqual(emitted(r.value), bytes.subarray(0, 40 + r.value.payloadLength));
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
      const r = parseIpv6(b);
      if (!r.ok) return;
      assert.deepEqual(emitted(r.value), b.subarray(0, 40 + r.value.payloadLength));
    }), { numRuns: FUZZ_RUNS });
  });
});
