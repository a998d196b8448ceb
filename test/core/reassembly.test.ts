/**
 * IP reassembly (RFC 791/815 for IPv4, RFC 8200 4.5 and RFC 5722 for IPv6): the Reassembler
 * alone — in order, out of order, overlapping, duplicate, malformed, memory bounds, timeouts —
 * and inside the host: datagrams of UDP and TCP put back together, ICMP time exceeded when the
 * first fragment had arrived, memory freed after the timeout.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { Ipv6Packet, parseIpv6 } from '../../src/wire/ipv6.js';
import { TcpFlags, emitTcp, tcpBufferLen, tcpRepr } from '../../src/wire/tcp.js';
import { formatIp } from '../../src/wire/address.js';
import { FRAGMENT_OVERHEAD, REASSEMBLY_DEFAULTS, Reassembler } from '../../src/core/reassembly.js';
import type { ReassemblyResult } from '../../src/core/reassembly.js';
import { seconds } from '../../src/time/instant.js';
import { drain, events, ip, makeHost, readPacket } from './support.js';
import { bind, fragment, pattern, readIcmp, udpBytes, udpEvents } from './udp-support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const A6 = 'fd00::1';
const B6 = 'fd00::2';

function feed(r: Reassembler, now: number, packet: Uint8Array): ReassemblyResult {
  if (packet[0]! >>> 4 === 4) {
    const p = parseIpv4(packet);
    assert.ok(p.ok);
    return r.ipv4(now, packet, p.value);
  }
  const p = Ipv6Packet.checked(packet);
  assert.ok(p.ok);
  return r.ipv6(now, p.value);
}

/** `transport` cut into fragments at the given offsets (each a multiple of 8). */
function cut(src: string, dst: string, id: number, transport: Uint8Array, at: number[]): Uint8Array[] {
  const bounds = [0, ...at, transport.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    out.push(fragment(src, dst, IpProtocol.Udp, id, transport, bounds[i]!, bounds[i + 1]!, i + 2 < bounds.length));
  }
  return out;
}

/** The transport bytes of a complete, rebuilt packet (which must parse as unfragmented). */
function transportOf(packet: Uint8Array): Uint8Array {
  if (packet[0]! >>> 4 === 4) {
    const p = parseIpv4(packet);
    assert.ok(p.ok, p.ok ? '' : p.reason);
    assert.equal(p.value.moreFragments, false);
    assert.equal(p.value.fragmentOffset, 0);
    return p.value.payload;
  }
  const p = parseIpv6(packet);
  assert.ok(p.ok, p.ok ? '' : p.reason);
  assert.equal(p.value.fragment, undefined);
  assert.equal(p.value.upperProtocol, IpProtocol.Udp);
  return p.value.payload;
}

for (const [family, src, dst] of [['IPv4', B, A], ['IPv6', B6, A6]] as const) {
  describe(`Reassembler: ${family}`, () => {
    const data = udpBytes(src, dst, 5000, 53, pattern(3000));

    test('in order: held, held, complete; the rebuilt packet carries the datagram; memory back to zero', () => {
      const r = new Reassembler();
      const frags = cut(src, dst, 7, data, [1000, 2000]);
      assert.deepEqual(feed(r, 0, frags[0]!), { status: 'held' });
      assert.deepEqual(feed(r, 0, frags[1]!), { status: 'held' });
      assert.ok(r.bytesHeld >= 2000 + 2 * FRAGMENT_OVERHEAD);
      const done = feed(r, 0, frags[2]!);
      assert.equal(done.status, 'complete');
      assert.ok(done.status === 'complete');
      assert.equal(done.fragments, 3);
      assert.deepEqual(transportOf(done.packet), data);
      assert.deepEqual([r.bytesHeld, r.pendingCount], [0, 0]);
    });

    test('out of order, any order: complete after the last one in; two datagrams interleaved', () => {
      fc.assert(fc.property(fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }), (order) => {
        const r = new Reassembler();
        const one = cut(src, dst, 1, data, [600, 1200, 1800, 2400]);
        const two = cut(src, dst, 2, data, [600, 1200, 1800, 2400]);
        const results: ReassemblyResult[] = [];
        for (const i of order) {
          results.push(feed(r, 0, one[i]!));
          results.push(feed(r, 0, two[i]!));
        }
        const complete = results.filter((x) => x.status === 'complete');
        assert.equal(complete.length, 2);
        for (const c of complete) if (c.status === 'complete') assert.deepEqual(transportOf(c.packet), data);
        assert.equal(results.slice(0, -2).every((x) => x.status === 'held'), true);
        assert.deepEqual([r.bytesHeld, r.pendingCount], [0, 0]);
      }), { numRuns: 50 });
    });

    test('an exact duplicate is dropped and the datagram still completes (RFC 8200 4.5)', () => {
      const r = new Reassembler();
      const frags = cut(src, dst, 9, data, [1504]);
      feed(r, 0, frags[0]!);
      assert.deepEqual(feed(r, 0, frags[0]!), { status: 'dropped', reason: 'fragment-duplicate', fragments: 1, abandoned: false });
      assert.equal(feed(r, 0, frags[1]!).status, 'complete');
    });

    test('overlap abandons the datagram, fragments still to come are discarded, the tombstone goes at the timeout (RFC 5722)', () => {
      const r = new Reassembler();
      feed(r, 0, fragment(src, dst, IpProtocol.Udp, 4, data, 0, 1504, true));
      feed(r, 0, fragment(src, dst, IpProtocol.Udp, 4, data, 2000, 2504, true));
      const overlap = feed(r, 0, fragment(src, dst, IpProtocol.Udp, 4, data, 1496, 2000, true));
      assert.deepEqual(overlap, { status: 'dropped', reason: 'fragment-overlap', fragments: 3, abandoned: true });
      assert.equal(r.bytesHeld, FRAGMENT_OVERHEAD, 'only the tombstone is left');
      // The rest of it, even a fragment that would have fitted, is discarded.
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 4, data, 2504, data.length, false)),
        { status: 'dropped', reason: 'fragment-overlap', fragments: 1, abandoned: false });
      const timeout = family === 'IPv4' ? REASSEMBLY_DEFAULTS.ipv4Timeout : REASSEMBLY_DEFAULTS.ipv6Timeout;
      assert.equal(r.pollTimeout(), timeout);
      const expired = r.expire(timeout);
      assert.deepEqual(expired, [{ family: family === 'IPv4' ? 4 : 6, fragments: 0, live: false, firstFragment: undefined }]);
      assert.deepEqual([r.bytesHeld, r.pendingCount, r.pollTimeout()], [0, 0, undefined]);
      // Afterwards the same identification starts afresh.
      assert.deepEqual(feed(r, timeout, fragment(src, dst, IpProtocol.Udp, 4, data, 0, 1504, true)), { status: 'held' });
    });

    test('malformed fragments: not a multiple of 8, empty, past 65,535; a second end abandons', () => {
      const r = new Reassembler();
      const big = new Uint8Array(65_600);
      // IPv4: offset + data fit the parser's 65,535, the 20-byte header on top does not. IPv6:
      // the largest offset and 72 bytes pass 65,535.
      const past = family === 'IPv4' ? fragment(src, dst, IpProtocol.Udp, 5, big, 64_000, 65_528, false)
        : fragment(src, dst, IpProtocol.Udp, 5, big, 65_528, 65_600, false);
      const cases: Array<[Uint8Array, string]> = [
        [fragment(src, dst, IpProtocol.Udp, 5, data, 0, 1001, true), 'fragment'],
        [fragment(src, dst, IpProtocol.Udp, 5, data, 8, 8, false), 'fragment'],
        [past, 'fragment'],
      ];
      for (const [p, reason] of cases) {
        const res = feed(r, 0, p);
        assert.ok(res.status === 'dropped');
        assert.equal(res.reason, reason);
      }
      assert.equal(r.pendingCount, 0);
      feed(r, 0, fragment(src, dst, IpProtocol.Udp, 6, data, 1000, 2000, false)); // ends at 2000
      const res = feed(r, 0, fragment(src, dst, IpProtocol.Udp, 6, data, 2000, 3000, false)); // ends at 3000: contradiction
      assert.deepEqual(res, { status: 'dropped', reason: 'fragment', fragments: 2, abandoned: true });
    });

    test('memory: the per-datagram bound abandons its datagram, the host bound refuses new fragments', () => {
      const r = new Reassembler({ ...REASSEMBLY_DEFAULTS, hostBytes: 3100, datagramBytes: 1500 });
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 1, data, 0, 1000, true)), { status: 'held' });
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 1, data, 1000, 2000, true)),
        { status: 'dropped', reason: 'reassembly-memory', fragments: 2, abandoned: true });
      assert.equal(r.bytesHeld, FRAGMENT_OVERHEAD);
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 2, data, 0, 1000, true)), { status: 'held' });
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 3, data, 0, 1000, true)), { status: 'held' });
      assert.deepEqual(feed(r, 0, fragment(src, dst, IpProtocol.Udp, 4, data, 0, 1000, true)),
        { status: 'dropped', reason: 'reassembly-memory', fragments: 1, abandoned: false });
      assert.ok(r.bytesHeld <= 3100);
    });

    test('timeout: the datagram goes; the first fragment comes back for ICMP only if it had arrived', () => {
      const r = new Reassembler();
      const frags = cut(src, dst, 3, data, [1504]);
      feed(r, 10, frags[0]!);
      feed(r, 20, fragment(src, dst, IpProtocol.Udp, 8, data, 1504, data.length, false)); // another datagram, no first fragment
      const timeout = family === 'IPv4' ? seconds(30) : seconds(60);
      assert.equal(r.pollTimeout(), 10 + timeout);
      assert.deepEqual(r.expire(10 + timeout - 1), []);
      const first = r.expire(10 + timeout);
      assert.equal(first.length, 1);
      assert.deepEqual(first[0]!.firstFragment, frags[0]);
      assert.equal(first[0]!.live, true);
      const second = r.expire(20 + timeout);
      assert.deepEqual(second.map((d) => [d.fragments, d.firstFragment]), [[1, undefined]]);
      assert.deepEqual([r.bytesHeld, r.pendingCount], [0, 0]);
    });
  });
}

describe('Host: reassembly', () => {
  for (const [family, src, dst] of [['IPv4', B, A], ['IPv6', B6, A6]] as const) {
    test(`${family}: a UDP datagram in fragments, out of order, reaches its socket once`, () => {
      const h = makeHost('a', [`${A}/24`, `${A6}/64`]);
      const s = bind(h, { port: 5353 });
      const payload = pattern(4000, 3);
      const data = udpBytes(src, dst, 6000, 5353, payload);
      const frags = cut(src, dst, 77, data, [1480, 2960]);
      for (const f of [frags[2]!, frags[0]!, frags[1]!]) h.handle(0, f, 'eth0');
      const got = udpEvents(events(h), s);
      assert.equal(got.length, 1);
      assert.ok(got[0]!.type === 'message');
      assert.deepEqual(got[0]!.data, payload);
      assert.equal(formatIp(got[0]!.remote.address), src);
      const st = h.stats;
      assert.deepEqual([st.ip.received, st.ip.fragmentsReceived, st.ip.reassembled, st.ip.delivered, st.udp.datagramsIn], [3, 3, 1, 1, 1]);
      assert.deepEqual(h.reassemblyInfo(), { pending: 0, bytes: 0 });
    });

    test(`${family}: incomplete -> freed at the timeout, ICMP time exceeded (reassembly) quoting the first fragment`, () => {
      const h = makeHost('a', [`${A}/24`, `${A6}/64`]);
      const data = udpBytes(src, dst, 6000, 5353, pattern(4000));
      const frags = cut(src, dst, 78, data, [1480, 2960]);
      h.handle(0, frags[0]!, 'eth0');
      h.handle(0, frags[2]!, 'eth0');
      const timeout = family === 'IPv4' ? seconds(30) : seconds(60);
      assert.equal(h.pollTimeout(), timeout);
      assert.ok(h.reassemblyInfo().bytes > 0);
      h.handleTimeout(timeout);
      assert.deepEqual(h.reassemblyInfo(), { pending: 0, bytes: 0 });
      const out = drain(h, timeout);
      assert.equal(out.length, 1);
      const m = readIcmp(out[0]!.packet);
      assert.equal(formatIp(m.dst), src);
      assert.equal(formatIp(m.src), dst);
      if (family === 'IPv4') {
        assert.deepEqual([m.v4!.type, m.v4!.code], ['time-exceeded', 1]);
        assert.ok(m.v4!.type === 'time-exceeded');
        assert.deepEqual(m.v4!.invoking, frags[0]!.subarray(0, 576 - 28));
        assert.ok(m.length <= 576);
      } else {
        assert.deepEqual([m.v6!.type, m.v6!.code], ['time-exceeded', 1]);
        assert.ok(m.v6!.type === 'time-exceeded');
        assert.deepEqual(m.v6!.invoking, frags[0]!.subarray(0, 1280 - 48));
        assert.ok(m.length <= 1280);
      }
      const st = h.stats;
      assert.deepEqual([st.ip.reassemblyFailures, st.ip.reassemblyTimeouts, st.drops['reassembly-timeout'], st.icmp.errorsSent, st.icmp.out['time-exceeded']], [1, 1, 2, 1, 1]);
      assert.equal(h.pollTimeout(), undefined);
    });

    test(`${family}: incomplete without its first fragment -> freed silently`, () => {
      const h = makeHost('a', [`${A}/24`, `${A6}/64`]);
      const data = udpBytes(src, dst, 6000, 5353, pattern(4000));
      const frags = cut(src, dst, 79, data, [1480, 2960]);
      h.handle(0, frags[1]!, 'eth0');
      h.handle(0, frags[2]!, 'eth0');
      h.handleTimeout(seconds(60));
      assert.deepEqual(drain(h, seconds(60)), []);
      assert.deepEqual(h.reassemblyInfo(), { pending: 0, bytes: 0 });
      assert.equal(h.stats.ip.reassemblyTimeouts, 1);
    });
  }

  test('reassembly serves TCP: a SYN in two fragments reaches the listener, which answers SYN-ACK', () => {
    const h = makeHost('a', [`${A}/24`]);
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    const syn = tcpRepr({ srcPort: 40000, dstPort: 8080, seqNumber: 1000, flags: TcpFlags.SYN, payload: new Uint8Array(0) });
    const seg = new Uint8Array(tcpBufferLen(syn));
    emitTcp(syn, seg, 0, ip(B), ip(A));
    h.handle(0, fragment(B, A, IpProtocol.Tcp, 5, seg, 8, seg.length, false), 'eth0');
    h.handle(0, fragment(B, A, IpProtocol.Tcp, 5, seg, 0, 8, true), 'eth0');
    const out = drain(h, 0).map((t) => readPacket(t.packet).tcp!);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.flags, TcpFlags.SYN | TcpFlags.ACK);
    assert.equal(out[0]!.ackNumber, 1001);
  });
});
