/**
 * ICMP errors routed to the socket whose datagram they quote: connected UDP sockets learn
 * 'refused' (ECONNREFUSED) and the other kinds, unconnected ones nothing; TCP follows RFC
 * 9293 3.9.2.2 / RFC 5461 (hard errors end a connection attempt, soft ones are remembered and
 * never abort), checks the quoted sequence number (RFC 5927), and lowers its MSS on
 * fragmentation needed / packet too big (RFC 1191, RFC 8201), carrying on with smaller
 * segments. Also the classification and the path MTU cache on their own.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../../src/wire/address.js';
import { icmpv4ErrorOf, icmpv6ErrorOf } from '../../../src/core/icmp/errors.js';
import { MIN_PMTU_IPV4, MIN_PMTU_IPV6, PathMtuCache, plateauBelow } from '../../../src/core/icmp/pmtu.js';
import type { Host, HostEvent } from '../../../src/core/host.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { seconds } from '../../../src/time/instant.js';
import { BackToBack, drain, events, ip, makeHost, readPacket } from '../support.js';
import { bind, icmpv4Packet, icmpv6Packet, pattern, udpEvents, unreachable } from '../udp-support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const ROUTER = '10.0.0.254';
const A6 = 'fd00::1';
const B6 = 'fd00::2';
const ROUTER6 = 'fd00::fe';

function pair(): { a: Host; b: Host; net: BackToBack } {
  const a = makeHost('a', [`${A}/24`, `${A6}/64`]);
  const b = makeHost('b', [`${B}/24`, `${B6}/64`]);
  return { a, b, net: new BackToBack(a, b) };
}

function tcpEventTypes(list: HostEvent[], c: TcpConnection): string[] {
  return list.flatMap((e) => (e.type === 'connection' && e.connection === c ? [e.event.type === 'error' ? `error:${e.event.error}` : e.event.type] : []));
}

describe('ICMP errors to UDP sockets', () => {
  test('a connected socket gets \'refused\' from the peer\'s port unreachable; an unconnected one gets nothing', () => {
    const { a, net } = pair();
    const connected = bind(a, { port: 0 });
    assert.ok(connected.connect({ address: ip(B), port: 9 }).ok);
    const open = bind(a, { port: 0 });
    connected.send(0, Uint8Array.of(1));
    open.send(0, Uint8Array.of(2), { address: ip(B), port: 9 });
    net.settle();
    const got = events(a);
    assert.deepEqual(udpEvents(got, connected).map((e) => e.type === 'error' && [e.error, formatIp(e.remote.address), e.remote.port]), [['refused', B, 9]]);
    assert.deepEqual(udpEvents(got, open), []);
    assert.deepEqual([a.stats.icmp.in['destination-unreachable'], a.stats.icmp.errorsDelivered, a.stats.drops['icmp-unmatched']], [2, 1, 1]);
  });

  test('IPv6 too, and the other kinds: host unreachable, prohibited, time exceeded, protocol unreachable', () => {
    const a = makeHost('a', [`${A}/24`, `${A6}/64`]);
    const s = bind(a, { port: 5000 });
    assert.ok(s.connect({ address: ip(B6), port: 53 }).ok);
    s.send(0, Uint8Array.of(1, 2, 3));
    const sent = drain(a, 0)[0]!.packet;
    a.handle(0, unreachable(ROUTER6, A6, 4, sent), 'eth0');
    a.handle(0, unreachable(ROUTER6, A6, 3, sent), 'eth0');
    a.handle(0, unreachable(ROUTER6, A6, 1, sent), 'eth0');
    a.handle(0, icmpv6Packet(ROUTER6, A6, { type: 'time-exceeded', code: 0, invoking: sent }), 'eth0');
    a.handle(0, icmpv6Packet(ROUTER6, A6, { type: 'parameter-problem', code: 1, pointer: 6, invoking: sent }), 'eth0');
    assert.deepEqual(udpEvents(events(a), s).map((e) => e.type === 'error' && e.error),
      ['refused', 'host-unreachable', 'admin-prohibited', 'time-exceeded', 'protocol-unreachable']);
  });

  test('an error quoting a datagram that is not ours, or a stranger\'s port, is dropped as unmatched', () => {
    const a = makeHost('a', [`${A}/24`]);
    const s = bind(a, { port: 5000 });
    assert.ok(s.connect({ address: ip(B), port: 53 }).ok);
    s.send(0, Uint8Array.of(1));
    const sent = drain(a, 0)[0]!.packet;
    const notOurs = sent.slice();
    notOurs.set(ip('10.0.0.77'), 12); // source not ours
    const otherPeer = sent.slice();
    otherPeer.set(ip('10.0.0.3'), 16);
    a.handle(0, unreachable(ROUTER, A, 1, notOurs), 'eth0');
    a.handle(0, unreachable(ROUTER, A, 1, otherPeer), 'eth0');
    a.handle(0, unreachable(ROUTER, A, 1, sent.subarray(0, 22)), 'eth0'); // ports cut off
    assert.deepEqual(udpEvents(events(a), s), []);
    assert.deepEqual([a.stats.drops['icmp-unmatched'], a.stats.drops['truncated']], [2, 1]);
  });
});

/** `a` opens a connection to B:port with nobody answering; the SYN it sent. */
function synSent(family: 4 | 6): { a: Host; c: TcpConnection; syn: Uint8Array } {
  const a = makeHost('a', [`${A}/24`, `${A6}/64`]);
  const r = a.tcpConnect(0, { remote: { address: ip(family === 4 ? B : B6), port: 80 } });
  assert.ok(r.ok);
  const syn = drain(a, 0)[0]!.packet;
  events(a);
  return { a, c: r.connection, syn };
}

describe('ICMP errors to TCP', () => {
  for (const family of [4, 6] as const) {
    const router = family === 4 ? ROUTER : ROUTER6;
    const me = family === 4 ? A : A6;
    const portCode = family === 4 ? 3 : 4;
    const hostCode = family === 4 ? 1 : 3;

    test(`IPv${family}: SYN-SENT + port unreachable (a hard error) -> 'refused', the connection is gone`, () => {
      const { a, c, syn } = synSent(family);
      a.handle(0, unreachable(router, me, portCode, syn), 'eth0');
      assert.deepEqual(tcpEventTypes(events(a), c), ['error:refused', 'closed']);
      assert.equal(c.state, 'CLOSED');
      assert.deepEqual([a.stats.tcp.failedOpens, a.stats.icmp.errorsDelivered], [1, 1]);
      assert.deepEqual(a.sockets(), []);
    });

    test(`IPv${family}: SYN-SENT + host unreachable (soft) -> no abort; remembered, and the reason once the attempt times out`, () => {
      const { a, c, syn } = synSent(family);
      a.handle(0, unreachable(router, me, hostCode, syn), 'eth0');
      assert.deepEqual(tcpEventTypes(events(a), c), []);
      assert.equal(c.state, 'SYN-SENT');
      assert.equal(c.softError, 'host-unreachable');
      const seen: HostEvent[] = [];
      for (let t = a.pollTimeout(); t !== undefined && (c.state as string) !== 'CLOSED'; t = a.pollTimeout()) {
        a.handleTimeout(t);
        drain(a, t);
        seen.push(...events(a));
      }
      assert.deepEqual(tcpEventTypes(seen, c), ['error:timed-out', 'closed']);
      assert.equal(c.softError, 'host-unreachable');
    });
  }

  test('established + host unreachable, prohibited, even port unreachable: no abort (RFC 5461); new data acknowledged clears it', () => {
    const { a, b, net } = pair();
    const l = b.tcpListen({ port: 8080 });
    assert.ok(l.ok);
    const r = a.tcpConnect(0, { remote: { address: ip(B), port: 8080 } });
    assert.ok(r.ok);
    const c = r.connection;
    net.run(() => l.listener.pending === 1);
    const server = l.listener.accept()!;
    // A data segment in flight, dropped on the way: the router answers with errors about it.
    let segment: Uint8Array | undefined;
    net.filter = (p, from) => { if (from === a && readPacket(p).tcp!.payload.length > 0 && segment === undefined) { segment = p; return false; } return true; };
    c.send(net.now, Uint8Array.of(1, 2, 3));
    net.settle();
    assert.ok(segment);
    for (const code of [1, 13, 3]) a.handle(net.now, unreachable(ROUTER, A, code, segment), 'eth0');
    assert.equal(c.state, 'ESTABLISHED');
    assert.equal(c.softError, 'port-unreachable');
    assert.deepEqual(tcpEventTypes(events(a), c).filter((t) => t.startsWith('error')), []);
    // The retransmission gets through; the ACK of new data clears the soft error.
    net.filter = undefined;
    let got = 0;
    net.run(() => got === 3 && c.info().sendQueue === 0, () => { for (let d = server.recv(net.now); d; d = server.recv(net.now)) got += d.length; });
    assert.equal(c.softError, undefined);
  });

  test('a quoted sequence number outside SND.UNA..SND.MAX is ignored (RFC 5927): no abort, counted as stale', () => {
    const { a, c, syn } = synSent(4);
    const stale = syn.slice();
    const seqAt = 20 + 4;
    stale[seqAt] = stale[seqAt]! ^ 0x80; // far from ISS
    a.handle(0, unreachable(ROUTER, A, 3, stale), 'eth0');
    assert.equal(c.state, 'SYN-SENT');
    assert.deepEqual(tcpEventTypes(events(a), c), []);
    assert.equal(a.stats.drops['icmp-stale'], 1);
    // A quote too short to hold the sequence number cannot be checked: ignored too.
    a.handle(0, unreachable(ROUTER, A, 3, syn.subarray(0, 24)), 'eth0');
    assert.equal(c.state, 'SYN-SENT');
    assert.equal(a.stats.drops['icmp-stale'], 2);
  });

  for (const family of [4, 6] as const) {
    test(`IPv${family}: ${family === 4 ? 'fragmentation needed' : 'packet too big'} lowers the MSS; the transfer continues in smaller segments`, () => {
      const { a, b, net } = pair();
      const dst = family === 4 ? B : B6;
      const l = b.tcpListen({ port: 8080 });
      assert.ok(l.ok);
      const r = a.tcpConnect(0, { remote: { address: ip(dst), port: 8080 } });
      assert.ok(r.ok);
      const c = r.connection;
      net.run(() => l.listener.pending === 1);
      const server = l.listener.accept()!;
      const pathMtu = family === 4 ? 1200 : 1280;
      let bounced = 0;
      // A router on the way with a smaller MTU: it drops what does not fit and says so.
      net.filter = (p, from) => {
        if (from !== a || p.length <= pathMtu) return true;
        bounced++;
        const msg = family === 4
          ? icmpv4Packet(ROUTER, A, { type: 'destination-unreachable', code: 4, nextHopMtu: pathMtu, invoking: p.subarray(0, 548) })
          : icmpv6Packet(ROUTER6, A6, { type: 'packet-too-big', code: 0, mtu: pathMtu, invoking: p.subarray(0, 1232) });
        a.handle(net.now, msg, 'eth0');
        return false;
      };
      const data = pattern(50_000, 9);
      const chunks: Uint8Array[] = [];
      let sent = 0;
      net.run(() => chunks.reduce((n, x) => n + x.length, 0) === data.length, () => {
        if (sent < data.length) sent += c.send(net.now, data.subarray(sent));
        for (let d = server.recv(net.now); d; d = server.recv(net.now)) chunks.push(d);
      });
      const got = new Uint8Array(data.length);
      let at = 0;
      for (const x of chunks) { got.set(x, at); at += x.length; }
      assert.deepEqual(got, data);
      assert.ok(bounced >= 1);
      // The payload: the path's MTU less the IP and TCP headers and the 12 bytes of the
      // timestamps both l4 ends negotiate (RFC 7323 3.2, RFC 9293 3.7.1).
      const payload = pathMtu - (family === 4 ? 40 : 60) - 12;
      assert.ok(c.info().timestamps);
      assert.equal(c.info().mss, payload);
      assert.equal(a.pathMtu(net.now, ip(dst)), pathMtu);
      assert.equal(a.stats.icmp.pathMtuUpdates, 1);
      // A new connection to the same destination starts with the path's MSS...
      const r2 = a.tcpConnect(net.now, { remote: { address: ip(dst), port: 8080 } });
      assert.ok(r2.ok);
      net.run(() => r2.connection.state === 'ESTABLISHED');
      assert.equal(r2.connection.info().mss, payload);
      // ... until the entry ages out (10 minutes).
      assert.equal(a.pathMtu(net.now + seconds(601), ip(dst)), 1500);
    });
  }

  test('an old router\'s fragmentation needed without an MTU: the plateau below the quoted length (RFC 1191 5)', () => {
    const { a, syn } = synSent(4);
    const quoted = syn.slice();
    quoted[2] = 1500 >>> 8; // claim a 1500-byte datagram
    quoted[3] = 1500 & 0xff;
    a.handle(0, icmpv4Packet(ROUTER, A, { type: 'destination-unreachable', code: 4, nextHopMtu: 0, invoking: quoted }), 'eth0');
    assert.equal(a.pathMtu(0, ip(B)), 1492);
  });

  test('packet too big about a UDP datagram lowers the path MTU: the next large datagrams are fragmented to it', () => {
    const a = makeHost('a', [`${A}/24`, `${A6}/64`]);
    const s = bind(a, { port: 5000 });
    s.send(0, pattern(1400), { address: ip(B6), port: 53 });
    const sent = drain(a, 0)[0]!.packet;
    assert.equal(sent.length, 1448);
    a.handle(0, icmpv6Packet(ROUTER6, A6, { type: 'packet-too-big', code: 0, mtu: 1280, invoking: sent.subarray(0, 1232) }), 'eth0');
    assert.deepEqual(udpEvents(events(a), s), [], 'not an error for the socket');
    s.send(0, pattern(1400), { address: ip(B6), port: 53 });
    const again = drain(a, 0).map((t) => t.packet.length);
    assert.deepEqual(again, [1280, 1408 - 1232 + 48]);
    // A message claiming less than 1280 is floored (RFC 8201 4); one for a stranger's port is not believed.
    const stranger = sent.slice();
    stranger[40] = 0x12;
    a.handle(0, icmpv6Packet(ROUTER6, A6, { type: 'packet-too-big', code: 0, mtu: 1280, invoking: stranger.subarray(0, 1232) }), 'eth0');
    assert.equal(a.stats.drops['icmp-unmatched'], 1);
  });
});

describe('ICMP error classification', () => {
  const q = new Uint8Array(28);
  test('ICMPv4 destination unreachable codes, time exceeded, parameter problem; others are not errors for sockets', () => {
    const kinds = Array.from({ length: 17 }, (_, code) => icmpv4ErrorOf({ type: 'destination-unreachable', code, nextHopMtu: 576, invoking: q })?.kind);
    assert.deepEqual(kinds, [
      'net-unreachable', 'host-unreachable', 'protocol-unreachable', 'port-unreachable', 'packet-too-big',
      'source-route-failed', 'net-unreachable', 'host-unreachable', 'host-unreachable', 'admin-prohibited',
      'admin-prohibited', 'net-unreachable', 'host-unreachable', 'admin-prohibited', 'host-unreachable', 'host-unreachable', undefined,
    ]);
    assert.equal(icmpv4ErrorOf({ type: 'destination-unreachable', code: 4, nextHopMtu: 576, invoking: q })?.mtu, 576);
    assert.deepEqual(['port-unreachable', 'protocol-unreachable', 'host-unreachable'].map((k) => icmpv4ErrorOf({
      type: 'destination-unreachable', code: ['net-unreachable', 'host-unreachable', 'protocol-unreachable', 'port-unreachable'].indexOf(k), nextHopMtu: 0, invoking: q,
    })?.hard), [true, true, false]);
    assert.equal(icmpv4ErrorOf({ type: 'time-exceeded', code: 1, invoking: q })?.kind, 'time-exceeded');
    assert.equal(icmpv4ErrorOf({ type: 'parameter-problem', code: 0, pointer: 1, invoking: q })?.kind, 'parameter-problem');
    assert.equal(icmpv4ErrorOf({ type: 'other', icmpType: 4, code: 0, rest: 0, data: q }), undefined, 'source quench (RFC 6633)');
    assert.equal(icmpv4ErrorOf({ type: 'echo-reply', code: 0, identifier: 1, sequence: 1, data: q }), undefined);
  });

  test('ICMPv6: unreachable codes, packet too big, parameter problem code 1 = protocol unreachable (RFC 5461)', () => {
    const kinds = Array.from({ length: 8 }, (_, code) => icmpv6ErrorOf({ type: 'destination-unreachable', code, invoking: q })?.kind);
    assert.deepEqual(kinds, ['net-unreachable', 'admin-prohibited', 'host-unreachable', 'host-unreachable', 'port-unreachable', 'admin-prohibited', 'admin-prohibited', undefined]);
    assert.deepEqual(icmpv6ErrorOf({ type: 'packet-too-big', code: 0, mtu: 1400, invoking: q }), { kind: 'packet-too-big', hard: false, mtu: 1400, invoking: q });
    assert.deepEqual(icmpv6ErrorOf({ type: 'parameter-problem', code: 1, pointer: 6, invoking: q })?.kind, 'protocol-unreachable');
    assert.deepEqual(icmpv6ErrorOf({ type: 'parameter-problem', code: 0, pointer: 6, invoking: q })?.kind, 'parameter-problem');
    assert.equal(icmpv6ErrorOf({ type: 'other', icmpType: 135, code: 0, rest: 0, data: q }), undefined);
  });
});

describe('PathMtuCache', () => {
  test('only lowers, floors at 68 / 1280, ages out, bounded', () => {
    const c = new PathMtuCache(2, seconds(600));
    const v4 = ip(B);
    const v6 = ip(B6);
    assert.equal(c.lower(0, v4, 1400, 1500), 1400);
    assert.equal(c.lower(0, v4, 1450, 1400), undefined, 'never raised');
    assert.equal(c.lower(0, v4, 10, 1400), MIN_PMTU_IPV4);
    assert.equal(c.lower(0, v6, 1000, 1500), MIN_PMTU_IPV6);
    assert.equal(c.lower(0, v6, 1000, MIN_PMTU_IPV6), undefined);
    assert.equal(c.get(seconds(600) - 1, v4), MIN_PMTU_IPV4);
    assert.equal(c.get(seconds(600), v4), undefined);
    c.lower(0, ip('10.0.0.3'), 1000, 1500);
    c.lower(0, ip('10.0.0.4'), 1000, 1500);
    assert.equal(c.size, 2);
    assert.equal(c.get(0, v6), undefined, 'the oldest went');
  });

  test('RFC 1191 plateaus', () => {
    assert.deepEqual([plateauBelow(1500), plateauBelow(1492), plateauBelow(576), plateauBelow(69), plateauBelow(68), plateauBelow(0)], [1492, 1006, 508, 68, 68, 68]);
  });
});
