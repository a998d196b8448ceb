/**
 * `Host.handle` never throws and never leaks on UDP, ICMP and fragments: random fragments of
 * both families (overlapping, duplicated, malformed, of any protocol), ICMP errors quoting
 * real and mangled datagrams, and recorded UDP / ICMP traffic mutated. Every packet moves a
 * counter; once the reassembly timeouts have passed, no reassembly memory is held; once the
 * events are taken, no socket holds receive-buffer bytes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import type { Host } from '../../src/core/host.js';
import type { HostStats } from '../../src/core/stats.js';
import { totalDrops } from '../../src/core/stats.js';
import type { UdpSocketInfo } from '../../src/core/udp/socket.js';
import { seconds } from '../../src/time/instant.js';
import { FUZZ_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';
import { BackToBack, events, ip, makeHost } from './support.js';
import { bind, fragment, icmpv4Packet, icmpv6Packet, pattern } from './udp-support.js';
import { fixChecksums } from '../support/checksums.js';

function counters(s: HostStats): number {
  return totalDrops(s) + s.tcp.segmentsIn + s.icmp.echoRequestsReceived + s.ip.fragmentsReceived + s.udp.datagramsIn + s.icmp.errorsDelivered;
}

/** Two hosts with UDP sockets (one connected), a TCP connection, and the packets they exchanged. */
function scene(): { a: Host; b: Host; net: BackToBack; recorded: Uint8Array[] } {
  const a = makeHost('a', ['10.0.0.1/24', 'fd00::1/64']);
  const b = makeHost('b', ['10.0.0.2/24', 'fd00::2/64']);
  const net = new BackToBack(a, b);
  const recorded: Uint8Array[] = [];
  net.filter = (packet) => { recorded.push(packet.slice()); return true; };
  const server = bind(b, { port: 5353, receiveBufferSize: 64 * 1024 });
  bind(b, { address: ip('0.0.0.0'), port: 6000, broadcast: true });
  const client = bind(a, { port: 0 });
  const connected = bind(a, { port: 0 });
  assert.ok(connected.connect({ address: ip('10.0.0.2'), port: 9 }).ok); // closed: port unreachable comes back
  const l = b.tcpListen({ port: 8080 });
  assert.ok(l.ok);
  assert.ok(a.tcpConnect(0, { remote: { address: ip('10.0.0.2'), port: 8080 } }).ok);
  for (const [to, size] of [['10.0.0.2', 10], ['10.0.0.2', 3000], ['fd00::2', 10], ['fd00::2', 3000]] as const) {
    client.send(0, pattern(size, size), { address: ip(to), port: 5353 });
  }
  connected.send(0, Uint8Array.of(1));
  client.send(0, Uint8Array.of(2), { address: ip('fd00::2'), port: 9 });
  net.run(() => l.listener.pending === 1, () => { events(a); events(b); });
  void server;
  return { a, b, net, recorded };
}

describe('Host: fuzzing UDP, ICMP and fragments', () => {
  const { a, b, net, recorded } = scene();
  assert.ok(recorded.some((p) => p[0]! >>> 4 === 4 && p[9] === IpProtocol.Icmp), 'a port unreachable was recorded');
  assert.ok(recorded.some((p) => p[0]! >>> 4 === 6 && p[6] === 44), 'an IPv6 fragment was recorded');

  const check = (host: Host, packet: Uint8Array): void => {
    const before = host.stats;
    host.handle(net.now, packet, 'eth0');
    for (let t = host.pollTransmit(net.now); t !== undefined; t = host.pollTransmit(net.now)) { /* drained */ }
    events(host);
    const after = host.stats;
    assert.equal(after.ip.received, before.ip.received + 1);
    assert.ok(counters(after) > counters(before), 'the packet moved a counter');
  };

  test('random fragments of both families: any offset, length, flag, protocol and identification', () => {
    const arb = fc.record({
      six: fc.boolean(), id: fc.nat({ max: 3 }), protocol: fc.constantFrom(IpProtocol.Udp, IpProtocol.Tcp, IpProtocol.Icmp, IpProtocol.Icmpv6, 99),
      offset: fc.nat({ max: 8200 }).map((n) => n * 8), length: fc.nat({ max: 1600 }), more: fc.boolean(), seed: fc.nat(),
    });
    fc.assert(fc.property(arb, ({ six, id, protocol, offset, length, more, seed }) => {
      const data = pattern(offset + length, seed);
      const p = six ? fragment('fd00::1', 'fd00::2', protocol, id, data, Math.min(offset, 65528), Math.min(offset, 65528) + length, more)
        : offset + length <= 65535 ? fragment('10.0.0.1', '10.0.0.2', protocol, id, data, offset, offset + length, more) : undefined;
      if (p !== undefined) check(b, p);
    }), { numRuns: FUZZ_RUNS });
  });

  test('ICMP errors of every type and code quoting recorded datagrams, mangled and cut', () => {
    const arb = fc.record({
      index: fc.nat({ max: recorded.length - 1 }), type: fc.nat({ max: 255 }), code: fc.nat({ max: 20 }), rest: fc.nat(),
      cut: fc.nat({ max: 1300 }), flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    });
    fc.assert(fc.property(arb, ({ index, type, code, rest, cut, flips }) => {
      const original = recorded[index]!;
      const quoted = original.slice(0, Math.min(original.length, cut));
      for (const [at, x] of flips) if (quoted.length > 0) quoted[at % quoted.length]! ^= x;
      const six = original[0]! >>> 4 === 6;
      // The error goes back to the datagram's sender (the quote's source), from a router.
      const to = six ? 'fd00::1' : '10.0.0.1';
      const packet = six
        ? icmpv6Packet('fd00::fe', to, { type: 'other', icmpType: 200, code, rest, data: quoted })
        : icmpv4Packet('10.0.0.254', to, { type: 'other', icmpType: 40, code, rest, data: quoted });
      // Put the random type in after emit ('other' refuses the types that have their own variant).
      const at = six ? 40 : 20;
      packet[at] = six ? type & 0x7f : type % 19;
      check(a, fixChecksums(packet));
    }), { numRuns: FUZZ_RUNS });
  });

  test('recorded UDP, ICMP and fragment traffic, mutated, truncated or extended, checksums fixed half of the time', () => {
    const interesting = recorded.filter((p) => {
      const protocol = p[0]! >>> 4 === 4 ? p[9] : p[6];
      return protocol !== IpProtocol.Tcp;
    });
    const arb = fc.record({
      index: fc.nat({ max: interesting.length - 1 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
      extra: bytesUpTo(16),
      fixUp: fc.boolean(),
      toA: fc.boolean(),
    });
    fc.assert(fc.property(arb, ({ index, flips, cut, extra, fixUp, toA }) => {
      let p: Uint8Array = interesting[index]!.slice();
      for (const [at, x] of flips) p[at % p.length]! ^= x;
      if (cut !== undefined) p = p.subarray(0, cut % (p.length + 1));
      if (extra.length > 0) { const q = new Uint8Array(p.length + extra.length); q.set(p); q.set(extra, p.length); p = q; }
      check(toA ? a : b, fixUp ? fixChecksums(p) : p);
    }), { numRuns: FUZZ_RUNS });
  });

  test('afterwards: reassembly memory is freed at the timeouts, receive buffers are empty, UDP still works', () => {
    for (const h of [a, b]) {
      h.handleTimeout(net.now + seconds(61));
      for (let t = h.pollTransmit(net.now + seconds(61)); t !== undefined; t = h.pollTransmit(net.now + seconds(61))) { /* drained */ }
      events(h);
      assert.deepEqual(h.reassemblyInfo(), { pending: 0, bytes: 0 });
      for (const row of h.sockets()) if (row.kind === 'udp') assert.equal((row as UdpSocketInfo).receiveQueue, 0);
    }
    net.now += seconds(61);
    net.filter = undefined;
    const s = bind(a, { port: 0 });
    const got: Uint8Array[] = [];
    s.send(net.now, pattern(5000, 5), { address: ip('10.0.0.2'), port: 5353 });
    net.settle(() => { for (const e of events(b)) if (e.type === 'udp' && e.event.type === 'message') got.push(e.event.data); events(a); });
    assert.deepEqual(got, [pattern(5000, 5)]);
    assert.ok(b.stats.ip.received > FUZZ_RUNS);
  });
});
