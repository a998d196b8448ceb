/**
 * ICMP errors the host sends: port unreachable for a datagram to a closed port (fields, the
 * quote, the 576 / 1280 byte bounds), the rate limit, and the datagrams never answered (ICMP
 * errors, broadcast and multicast destinations, non-initial fragments, sources that are not a
 * single host). Also the rules and the token bucket on their own.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../../src/wire/address.js';
import { IpProtocol } from '../../../src/wire/ip-protocol.js';
import { mayAnswerWithIcmpError } from '../../../src/core/icmp/errors.js';
import type { OffendingDatagram } from '../../../src/core/icmp/errors.js';
import { TokenBucket } from '../../../src/core/icmp/rate-limit.js';
import { seconds } from '../../../src/time/instant.js';
import { A, A6, B, B6, drain, events, hostA, ip } from '../support.js';
import { bind, fragment, icmpv4Packet, pattern, readIcmp, udpBytes, udpEvents, udpPacket } from '../udp-support.js';


describe('ICMP port unreachable', () => {
  test('IPv4: exactly one type 3 code 3, from the datagram\'s destination to its source, quoting the whole small datagram', () => {
    const h = hostA();
    const datagram = udpPacket(B, A, 40000, 9999, Uint8Array.of(1, 2, 3, 4));
    h.handle(0, datagram, 'eth0');
    const out = drain(h, 0);
    assert.equal(out.length, 1);
    const m = readIcmp(out[0]!.packet);
    assert.deepEqual([formatIp(m.src), formatIp(m.dst)], [A, B]);
    assert.ok(m.v4?.type === 'destination-unreachable');
    assert.equal(m.v4.code, 3);
    assert.deepEqual(m.v4.invoking, datagram, 'the IP header and all 12 bytes of UDP');
    const s = h.stats;
    assert.deepEqual([s.udp.noPort, s.drops['no-port'], s.icmp.errorsSent, s.icmp.out['destination-unreachable']], [1, 1, 1, 1]);
    assert.deepEqual(events(h), []);
  });

  test('IPv4: a large datagram is quoted up to 576 bytes in all: the IP header and far more than 8 bytes', () => {
    const h = hostA();
    const datagram = udpPacket(B, A, 40000, 9999, pattern(1400));
    h.handle(0, datagram, 'eth0');
    const out = drain(h, 0);
    assert.equal(out[0]!.packet.length, 576);
    const m = readIcmp(out[0]!.packet);
    assert.ok(m.v4?.type === 'destination-unreachable');
    assert.deepEqual(m.v4.invoking, datagram.subarray(0, 548));
  });

  test('IPv6: type 1 code 4, quoting as much as fits in 1280 bytes', () => {
    const h = hostA();
    const small = udpPacket(B6, A6, 40000, 9999, Uint8Array.of(7));
    const large = udpPacket(B6, A6, 40000, 9999, pattern(1400));
    h.handle(0, small, 'eth0');
    h.handle(0, large, 'eth0');
    const out = drain(h, 0).map((t) => readIcmp(t.packet));
    assert.equal(out.length, 2);
    for (const m of out) {
      assert.ok(m.v6?.type === 'destination-unreachable');
      assert.equal(m.v6.code, 4);
      assert.deepEqual([formatIp(m.src), formatIp(m.dst)], [A6, B6]);
    }
    assert.ok(out[0]!.v6?.type === 'destination-unreachable' && out[1]!.v6?.type === 'destination-unreachable');
    assert.deepEqual(out[0]!.v6.invoking, small);
    assert.deepEqual(out[1]!.v6.invoking, large.subarray(0, 1232));
    assert.equal(out[1]!.length, 1280);
  });

  test('rate limit: a burst of 50, then 1 per millisecond (Linux\'s 1000/s), counted when held back', () => {
    const h = hostA();
    const send = (at: number, n: number): number => {
      for (let i = 0; i < n; i++) h.handle(at, udpPacket(B, A, 40000, 9999, Uint8Array.of(i)), 'eth0');
      return drain(h, at).length;
    };
    assert.equal(send(0, 60), 50);
    assert.equal(h.stats.icmp.rateLimited, 10);
    assert.equal(send(999, 5), 0, 'less than a millisecond later: nothing');
    assert.equal(send(1000, 5), 1, 'one token a millisecond');
    assert.equal(send(10_000, 20), 9);
    assert.equal(send(seconds(10), 60), 50, 'the bucket refills to its burst, no more');
    assert.equal(h.stats.udp.noPort, 150, 'every datagram is still counted');
  });

  test('never in reply to broadcast or multicast destinations, or to a source that is not a single host', () => {
    const h = hostA();
    h.handle(0, udpPacket(B, '255.255.255.255', 40000, 9999, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket(B, '10.0.0.255', 40000, 9999, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket('240.0.0.1', A, 40000, 9999, Uint8Array.of(1)), 'eth0'); // class E
    h.handle(0, udpPacket('0.0.0.0', A, 40000, 9999, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket('224.0.0.9', A, 40000, 9999, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket('ff02::1', A6, 40000, 9999, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket('::', A6, 40000, 9999, Uint8Array.of(1)), 'eth0');
    assert.deepEqual(drain(h, 0), []);
    assert.equal(h.stats.icmp.errorsSent, 0);
  });

  test('never in reply to an ICMP error or a non-initial fragment: a fragmented ICMP error that never completes draws nothing', () => {
    const h = hostA();
    // An ICMP error quoting some datagram of ours, fragmented, the last fragment lost.
    const quoted = udpPacket(A, B, 5000, 53, pattern(100));
    const err = icmpv4Packet(B, A, { type: 'destination-unreachable', code: 1, nextHopMtu: 0, invoking: quoted }).subarray(20);
    h.handle(0, fragment(B, A, IpProtocol.Icmp, 99, err, 0, 64, true), 'eth0');
    // A UDP datagram whose first fragment is lost.
    const data = udpBytes(B, A, 40000, 9999, pattern(2000));
    h.handle(0, fragment(B, A, IpProtocol.Udp, 100, data, 1480, data.length, false), 'eth0');
    h.handleTimeout(seconds(30));
    assert.deepEqual(drain(h, seconds(30)), []);
    assert.equal(h.stats.ip.reassemblyTimeouts, 2);
    // Whereas a UDP first fragment that times out draws time exceeded.
    h.handle(seconds(30), fragment(B, A, IpProtocol.Udp, 101, data, 0, 1480, true), 'eth0');
    h.handleTimeout(seconds(60));
    assert.equal(drain(h, seconds(60)).length, 1);
  });

  test('over loopback: a connected socket to a closed port of 127.0.0.1 learns ECONNREFUSED', () => {
    const h = hostA();
    const s = bind(h, { port: 0 });
    assert.ok(s.connect({ address: ip('127.0.0.1'), port: 9 }).ok);
    s.send(0, Uint8Array.of(1));
    assert.deepEqual(drain(h, 0), []);
    const got = udpEvents(events(h), s);
    assert.deepEqual(got.map((e) => e.type === 'error' && e.error), ['refused']);
  });
});

describe('mayAnswerWithIcmpError (RFC 1122 3.2.2, RFC 4443 2.4(e))', () => {
  const base: OffendingDatagram = {
    src: ip(B), dst: ip(A), dstIsBroadcast: false, srcIsBroadcast: false, nonInitialFragment: false,
    protocol: IpProtocol.Udp, payload: new Uint8Array(8),
  };
  test('a unicast datagram from a single host: yes', () => {
    assert.equal(mayAnswerWithIcmpError(base), true);
    assert.equal(mayAnswerWithIcmpError({ ...base, src: ip(B6), dst: ip(A6) }), true);
    assert.equal(mayAnswerWithIcmpError({ ...base, src: ip('127.0.0.1'), dst: ip('127.0.0.1') }), true, 'looped back by the host itself');
  });
  test('ICMP: queries yes, errors (and unknown or empty) no', () => {
    const icmp = (type: number) => ({ ...base, protocol: IpProtocol.Icmp, payload: Uint8Array.of(type, 0, 0, 0) });
    for (const t of [0, 8, 13]) assert.equal(mayAnswerWithIcmpError(icmp(t)), true, String(t));
    for (const t of [3, 4, 5, 11, 12, 40]) assert.equal(mayAnswerWithIcmpError(icmp(t)), false, String(t));
    assert.equal(mayAnswerWithIcmpError({ ...base, protocol: IpProtocol.Icmp, payload: new Uint8Array(0) }), false);
    const icmp6 = (type: number) => ({ ...base, src: ip(B6), dst: ip(A6), protocol: IpProtocol.Icmpv6, payload: Uint8Array.of(type) });
    assert.equal(mayAnswerWithIcmpError(icmp6(128)), true);
    for (const t of [1, 2, 3, 4, 127]) assert.equal(mayAnswerWithIcmpError(icmp6(t)), false, String(t));
  });
  test('broadcast, multicast, non-initial fragments, odd sources: no', () => {
    const cases: Array<Partial<OffendingDatagram>> = [
      { dstIsBroadcast: true }, { srcIsBroadcast: true }, { nonInitialFragment: true },
      { dst: ip('255.255.255.255') }, { dst: ip('239.1.1.1') }, { src: ip('0.0.0.0') }, { src: ip('224.0.0.1') },
      { src: ip('240.0.0.1') }, { src: ip('255.255.255.255') },
      { src: ip('::'), dst: ip(A6) }, { src: ip('ff02::1'), dst: ip(A6) }, { src: ip(B6), dst: ip('ff02::1') },
    ];
    for (const c of cases) assert.equal(mayAnswerWithIcmpError({ ...base, ...c }), false, JSON.stringify(c));
  });
});

describe('TokenBucket', () => {
  test('full at the start; refills with time, never beyond the burst; time going back adds nothing', () => {
    const b = new TokenBucket(10, 3); // one token per 100 ms
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(99_999), false);
    assert.equal(b.take(100_000), true);
    assert.equal(b.take(50_000), false);
    assert.deepEqual([b.take(10_000_000), b.take(10_000_000), b.take(10_000_000), b.take(10_000_000)], [true, true, true, false]);
    assert.throws(() => new TokenBucket(0, 1), RangeError);
  });
});
