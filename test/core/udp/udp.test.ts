/**
 * UDP in the host (RFC 768): binding rules and ports, demultiplexing (specific, wildcard,
 * connected, broadcast), checksums and lengths, what `send` builds and refuses, buffers, and
 * two hosts back to back exchanging datagrams of 1, 1472 and 65,507 bytes over IPv4 and IPv6
 * on an MTU of 1500, so that the large ones travel in fragments.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../../src/wire/address.js';
import { IpProtocol } from '../../../src/wire/ip-protocol.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseIpv6 } from '../../../src/wire/ipv6.js';
import type { Host } from '../../../src/core/host.js';
import { Host as HostClass } from '../../../src/core/host.js';
import type { UdpSocket, UdpSocketInfo } from '../../../src/core/udp/socket.js';
import { BackToBack, drain, events, ip, ipPacket, makeHost } from '../support.js';
import { bind, pattern, readUdp, udpBytes, udpEvents, udpPacket } from '../udp-support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const A6 = 'fd00::1';
const B6 = 'fd00::2';

function hostA(extra: Parameters<typeof makeHost>[2] = {}): Host {
  return makeHost('a', [`${A}/24`, `${A6}/64`], extra);
}

/** Which of `sockets` got the datagrams now queued as events, in order. */
function whoGot(h: Host, sockets: UdpSocket[]): number[] {
  return events(h).flatMap((e) => (e.type === 'udp' && e.event.type === 'message' ? [sockets.indexOf(e.socket)] : []));
}

describe('UDP: binding', () => {
  test('ports below 1024 need privileged (EACCES); 1024 and up do not', () => {
    assert.deepEqual(hostA().udpBind({ port: 80 }), { ok: false, error: 'access-denied' });
    assert.deepEqual(hostA().udpBind({ port: 1023 }), { ok: false, error: 'access-denied' });
    assert.ok(hostA().udpBind({ port: 1024 }).ok);
    assert.ok(hostA({ privileged: true }).udpBind({ port: 53 }).ok);
  });

  test('an address that is not ours is EADDRNOTAVAIL; ours, wildcards and our broadcast addresses are fine', () => {
    assert.deepEqual(hostA().udpBind({ address: ip('10.0.0.9'), port: 5000 }), { ok: false, error: 'address-not-available' });
    for (const a of [A, A6, '127.0.0.1', '::1', '0.0.0.0', '::', '10.0.0.255', '255.255.255.255']) {
      assert.ok(hostA().udpBind({ address: ip(a), port: 5000 }).ok, a);
    }
  });

  test('EADDRINUSE unless both ask for reuseAddress; families do not overlap; closing frees the port', () => {
    const h = hostA();
    const wildcard4 = bind(h, { address: ip('0.0.0.0'), port: 5000 });
    assert.deepEqual(h.udpBind({ address: ip('0.0.0.0'), port: 5000 }), { ok: false, error: 'address-in-use' });
    assert.deepEqual(h.udpBind({ address: ip(A), port: 5000 }), { ok: false, error: 'address-in-use' });
    assert.deepEqual(h.udpBind({ port: 5000 }), { ok: false, error: 'address-in-use' }, 'the dual-stack wildcard covers IPv4 too');
    assert.ok(h.udpBind({ address: ip('::'), port: 5000 }).ok, ':: is IPv6 only');
    assert.ok(h.udpBind({ address: ip(A), port: 5001 }).ok, 'another port');
    wildcard4.close();
    assert.ok(h.udpBind({ address: ip(A), port: 5000 }).ok);

    const r = hostA();
    bind(r, { port: 6000, reuseAddress: true });
    assert.ok(r.udpBind({ port: 6000, reuseAddress: true }).ok, 'SO_REUSEADDR on both: even identical bindings share');
    assert.ok(r.udpBind({ address: ip(A), port: 6000, reuseAddress: true }).ok);
    assert.deepEqual(r.udpBind({ address: ip(A), port: 6000 }), { ok: false, error: 'address-in-use' }, 'one side only');
  });

  test('TCP 53 and UDP 53 at once: the port spaces are independent', () => {
    const h = hostA({ privileged: true });
    assert.ok(h.tcpListen({ port: 53 }).ok);
    assert.ok(h.udpBind({ port: 53 }).ok);
    assert.deepEqual(h.udpBind({ port: 53 }), { ok: false, error: 'address-in-use' });
    assert.deepEqual(h.tcpListen({ port: 53 }), { ok: false, error: 'address-in-use' });
    const kinds = h.sockets().map((s) => `${s.kind}:${s.local.port}`);
    assert.deepEqual(kinds, ['listener:53', 'udp:53']);
  });

  test('port 0: 100,000 ephemeral binds stay inside the configured range and are not sequential', () => {
    const h = hostA({ ephemeralPorts: { low: 40000, high: 40999 } });
    let sequential = 0;
    let previous = -1;
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      const s = bind(h, { port: 0 });
      assert.ok(s.port >= 40000 && s.port <= 40999, String(s.port));
      if (s.port === previous + 1) sequential++;
      previous = s.port;
      seen.add(s.port);
      s.close();
    }
    assert.ok(sequential < 1000, `${sequential} sequential ports`);
    assert.equal(seen.size, 1000, 'every port of the range gets used');
  });

  test('port 0 takes a port no UDP socket uses; a full range is EADDRINUSE', () => {
    const h = hostA({ ephemeralPorts: { low: 50000, high: 50009 } });
    const ports = new Set<number>();
    for (let i = 0; i < 10; i++) ports.add(bind(h, { port: 0 }).port);
    assert.equal(ports.size, 10);
    assert.deepEqual(h.udpBind({ port: 0 }), { ok: false, error: 'address-in-use' });
  });

  test('bad arguments are RangeErrors', () => {
    const h = hostA();
    assert.throws(() => h.udpBind({ port: 70000 }), RangeError);
    assert.throws(() => h.udpBind({ port: 1.5 }), RangeError);
    assert.throws(() => h.udpBind({ address: new Uint8Array(5), port: 5000 }), RangeError);
    assert.throws(() => h.udpBind({ port: 5000, receiveBufferSize: 0 }), RangeError);
    const s = bind(h, { port: 5000 });
    assert.throws(() => s.setTtl(0), RangeError);
    assert.throws(() => s.setTtl(256), RangeError);
    assert.throws(() => s.send(0, new Uint8Array(1), { address: ip(B), port: 0 }), RangeError);
    assert.throws(() => s.connect({ address: new Uint8Array(3), port: 1 }), RangeError);
  });

  test('sockets() shows UDP sockets: addresses, state, options and queues', () => {
    const h = hostA();
    const s = bind(h, { port: 5000, broadcast: true });
    const c = bind(h, { address: ip('0.0.0.0'), port: 5001 });
    assert.ok(c.connect({ address: ip(B), port: 7000 }).ok);
    const rows = h.sockets().filter((r): r is UdpSocketInfo => r.kind === 'udp');
    assert.deepEqual(rows.map((r) => [formatIp(r.local.address), r.local.port, r.state, r.dualStack, r.broadcast]), [
      ['::', 5000, 'UNCONN', true, true],
      [A, 5001, 'ESTAB', false, false],
    ]);
    assert.equal(formatIp(rows[1]!.remote!.address), B);
    c.disconnect();
    assert.deepEqual([formatIp(c.local.address), c.remote, c.info().state], ['0.0.0.0', undefined, 'UNCONN']);
    s.close();
    c.close();
    assert.deepEqual(h.sockets(), []);
  });
});

describe('UDP: demultiplexing', () => {
  test('the specific address beats the wildcard; the single-family wildcard beats the dual-stack one', () => {
    const h = hostA();
    const sockets = [
      bind(h, { port: 5000, reuseAddress: true }),
      bind(h, { address: ip('0.0.0.0'), port: 5000, reuseAddress: true }),
      bind(h, { address: ip(A), port: 5000, reuseAddress: true }),
    ];
    h.handle(0, udpPacket(B, A, 7000, 5000, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket('127.0.0.1', '127.0.0.1', 7000, 5000, Uint8Array.of(2)), 'lo'); // not ours from outside: dropped
    h.handle(0, udpPacket(B6, A6, 7000, 5000, Uint8Array.of(3)), 'eth0');
    assert.deepEqual(whoGot(h, sockets), [2, 0]);
    sockets[2]!.close();
    h.handle(0, udpPacket(B, A, 7000, 5000, Uint8Array.of(1)), 'eth0');
    assert.deepEqual(whoGot(h, sockets), [1]);
  });

  test('a connected socket gets only its peer\'s datagrams, and gets them before an unconnected one', () => {
    const h = hostA();
    const open = bind(h, { port: 5000, reuseAddress: true });
    const connected = bind(h, { port: 5000, reuseAddress: true });
    assert.ok(connected.connect({ address: ip(B), port: 7000 }).ok);
    const later = bind(h, { port: 5000, reuseAddress: true }); // bound last: wins ties among unconnected
    const sockets = [open, connected, later];
    h.handle(0, udpPacket(B, A, 7000, 5000, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket(B, A, 7001, 5000, Uint8Array.of(2)), 'eth0');
    h.handle(0, udpPacket('10.0.0.3', A, 7000, 5000, Uint8Array.of(3)), 'eth0');
    assert.deepEqual(whoGot(h, sockets), [1, 2, 2]);
    later.close();
    open.close();
    h.handle(0, udpPacket(B, A, 7001, 5000, Uint8Array.of(2)), 'eth0');
    assert.deepEqual(whoGot(h, sockets), [], 'the connected socket does not take a stranger\'s datagram');
    assert.equal(h.stats.udp.noPort, 1);
  });

  test('broadcast (255.255.255.255 and the subnet\'s) reaches every socket that allows it, and draws no ICMP', () => {
    const h = hostA();
    const yes1 = bind(h, { port: 6000, reuseAddress: true, broadcast: true });
    const no = bind(h, { address: ip('0.0.0.0'), port: 6000, reuseAddress: true });
    const specific = bind(h, { address: ip(A), port: 6000, reuseAddress: true, broadcast: true });
    const yes2 = bind(h, { address: ip('0.0.0.0'), port: 6000, reuseAddress: true });
    yes2.setBroadcast(true);
    const sockets = [yes1, no, specific, yes2];
    h.handle(0, udpPacket(B, '255.255.255.255', 7000, 6000, Uint8Array.of(1)), 'eth0');
    h.handle(0, udpPacket(B, '10.0.0.255', 7000, 6000, Uint8Array.of(2)), 'eth0');
    assert.deepEqual(whoGot(h, sockets), [0, 3, 0, 3]);
    h.handle(0, udpPacket(B, '10.0.0.255', 7000, 6001, Uint8Array.of(3)), 'eth0');
    assert.deepEqual(drain(h, 0), [], 'no port unreachable for a broadcast');
    assert.equal(h.stats.drops['broadcast-not-wanted'], 1);
    // TCP and ICMP to a broadcast address are not for us; a broadcast source is a martian.
    h.handle(0, ipPacket(B, '10.0.0.255', IpProtocol.Tcp, new Uint8Array(20)), 'eth0');
    h.handle(0, udpPacket('10.0.0.255', A, 7000, 6000, Uint8Array.of(4)), 'eth0');
    assert.deepEqual([h.stats.drops['not-for-us'], h.stats.drops['bad-source-address']], [1, 1]);
  });
});

describe('UDP: checksums and lengths', () => {
  test('IPv4: a zero checksum means none and is accepted; a wrong one is dropped and counted', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    h.handle(0, udpPacket(B, A, 7000, 5000, Uint8Array.of(1, 2, 3), 0), 'eth0');
    const good = udpPacket(B, A, 7000, 5000, Uint8Array.of(4, 5, 6));
    const bad = good.slice();
    bad[bad.length - 1]! ^= 0x55;
    h.handle(0, bad, 'eth0');
    const got = udpEvents(events(h), s);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.type === 'message');
    assert.deepEqual(got[0]!.data, Uint8Array.of(1, 2, 3));
    assert.deepEqual([h.stats.udp.checksumErrors, h.stats.drops['bad-checksum']], [1, 1]);
    assert.deepEqual(drain(h, 0), [], 'no ICMP for a corrupt datagram');
  });

  test('IPv6: a zero checksum is dropped (RFC 8200 8.1), a right one accepted, a wrong one dropped', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    h.handle(0, udpPacket(B6, A6, 7000, 5000, Uint8Array.of(1), 0), 'eth0');
    const good = udpPacket(B6, A6, 7000, 5000, Uint8Array.of(2));
    const bad = good.slice();
    bad[bad.length - 1]! ^= 1;
    h.handle(0, bad, 'eth0');
    h.handle(0, good, 'eth0');
    const got = udpEvents(events(h), s);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.type === 'message');
    assert.deepEqual(got[0]!.data, Uint8Array.of(2));
    assert.deepEqual([h.stats.udp.checksumErrors, h.stats.drops['bad-field'], h.stats.drops['bad-checksum']], [2, 1, 1]);
  });

  test('length field: shorter than the IP payload cuts the datagram; longer or below 8 is dropped', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    const d = udpBytes(B, A, 7000, 5000, Uint8Array.of(9, 9, 9));
    const padded = new Uint8Array(d.length + 4);
    padded.set(d);
    h.handle(0, ipPacket(B, A, IpProtocol.Udp, padded), 'eth0');
    const long = d.slice();
    long[5] = d.length + 1;
    h.handle(0, ipPacket(B, A, IpProtocol.Udp, long), 'eth0');
    const short = d.slice();
    short[5] = 7;
    h.handle(0, ipPacket(B, A, IpProtocol.Udp, short), 'eth0');
    const got = udpEvents(events(h), s);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.type === 'message');
    assert.deepEqual(got[0]!.data, Uint8Array.of(9, 9, 9));
    assert.deepEqual([h.stats.drops['length-past-end'], h.stats.drops['length-too-small']], [1, 1]);
  });
});

describe('UDP: send', () => {
  test('a datagram with the checksum filled, the socket\'s TTL, DF clear (IPv4); the route\'s source for a wildcard', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    s.setTtl(7);
    assert.deepEqual(s.send(0, Uint8Array.of(1, 2), { address: ip(B), port: 53 }), { ok: true });
    assert.deepEqual(s.send(0, Uint8Array.of(3), { address: ip(B6), port: 53 }), { ok: true });
    const out = drain(h, 0).map((t) => readUdp(t.packet));
    assert.deepEqual(out.map((o) => [formatIp(o.src), formatIp(o.dst), o.udp.srcPort, o.udp.dstPort, o.ttl, [...o.udp.payload]]), [
      [A, B, 5000, 53, 7, [1, 2]],
      [A6, B6, 5000, 53, 7, [3]],
    ]);
    assert.equal(out[0]!.dontFragment, false);
    assert.ok(out.every((o) => o.udp.checksum !== 0));
    assert.deepEqual([h.stats.udp.datagramsOut, s.info().datagramsSent, s.info().bytesSent], [2, 2, 3]);
  });

  test('errors: EMSGSIZE past 65,507 (IPv4) / 65,527 (IPv6), no route, no destination, family, broadcast, closed', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    const to4 = { address: ip(B), port: 53 };
    const to6 = { address: ip(B6), port: 53 };
    assert.deepEqual(s.send(0, new Uint8Array(65_508), to4), { ok: false, error: 'message-too-big' });
    assert.deepEqual(s.send(0, new Uint8Array(65_507), to4), { ok: true });
    assert.deepEqual(s.send(0, new Uint8Array(65_528), to6), { ok: false, error: 'message-too-big' });
    assert.deepEqual(s.send(0, new Uint8Array(65_527), to6), { ok: true });
    assert.deepEqual(s.send(0, new Uint8Array(1), { address: ip('192.0.2.1'), port: 53 }), { ok: false, error: 'no-route' });
    assert.deepEqual(s.send(0, new Uint8Array(1)), { ok: false, error: 'destination-required' });
    assert.deepEqual(s.send(0, new Uint8Array(1), { address: ip('10.0.0.255'), port: 53 }), { ok: false, error: 'broadcast-not-allowed' });
    assert.deepEqual(s.send(0, new Uint8Array(1), { address: ip('255.255.255.255'), port: 53 }), { ok: false, error: 'broadcast-not-allowed' });
    s.setBroadcast(true);
    assert.deepEqual(s.send(0, new Uint8Array(1), { address: ip('255.255.255.255'), port: 53 }), { ok: true });
    assert.deepEqual(s.connect({ address: ip('255.255.255.255'), port: 9 }), { ok: true });
    const v4only = bind(h, { address: ip('0.0.0.0'), port: 5001 });
    assert.deepEqual(v4only.send(0, new Uint8Array(1), to6), { ok: false, error: 'family-mismatch' });
    assert.deepEqual(v4only.connect(to6), { ok: false, error: 'family-mismatch' });
    const specific = bind(h, { address: ip(A6), port: 5002 });
    assert.deepEqual(specific.send(0, new Uint8Array(1), to4), { ok: false, error: 'family-mismatch' });
    v4only.close();
    assert.deepEqual(v4only.send(0, new Uint8Array(1), to4), { ok: false, error: 'closed' });
    assert.deepEqual(v4only.connect(to4), { ok: false, error: 'closed' });
  });

  test('a connected socket sends to its peer by default, from the route\'s source address', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    assert.deepEqual(s.connect({ address: ip(B6), port: 9000 }), { ok: true });
    assert.equal(formatIp(s.local.address), A6);
    assert.deepEqual(s.send(0, Uint8Array.of(1)), { ok: true });
    assert.deepEqual(s.send(0, Uint8Array.of(2), { address: ip(B), port: 9001 }), { ok: false, error: 'family-mismatch' });
    const out = drain(h, 0).map((t) => readUdp(t.packet));
    assert.deepEqual(out.map((o) => [formatIp(o.src), formatIp(o.dst), o.udp.dstPort]), [[A6, B6, 9000]]);
  });

  test('the send buffer: datagrams not yet transmitted count; past it, ENOBUFS until pollTransmit drains', () => {
    const h = hostA();
    const s = bind(h, { port: 5000, sendBufferSize: 3000 });
    const to = { address: ip(B), port: 53 };
    assert.deepEqual(s.send(0, new Uint8Array(1000), to), { ok: true });
    assert.deepEqual(s.send(0, new Uint8Array(1000), to), { ok: true });
    assert.deepEqual(s.send(0, new Uint8Array(1000), to), { ok: false, error: 'no-buffer-space' });
    assert.equal(s.info().sendQueue, 2 * 1028);
    assert.equal(drain(h, 0).length, 2);
    assert.equal(s.info().sendQueue, 0);
    assert.deepEqual(s.send(0, new Uint8Array(5000), to), { ok: true }, 'one datagram always fits an empty buffer');
  });

  test('the receive buffer: full -> dropped and counted; taking the events frees it; a closed socket\'s events are dropped', () => {
    const h = hostA();
    const s = bind(h, { port: 5000, receiveBufferSize: 2000 });
    for (let i = 0; i < 5; i++) h.handle(0, udpPacket(B, A, 7000, 5000, new Uint8Array(500)), 'eth0');
    assert.equal(s.info().receiveQueue, 2 * (500 + 256));
    assert.deepEqual([h.stats.udp.receiveBufferErrors, h.stats.udp.datagramsIn, s.info().receiveDrops], [3, 2, 3]);
    assert.equal(udpEvents(events(h), s).length, 2);
    assert.equal(s.info().receiveQueue, 0);
    h.handle(0, udpPacket(B, A, 7000, 5000, new Uint8Array(500)), 'eth0');
    s.close();
    assert.deepEqual(events(h), []);
  });

  test('to one of our own addresses: looped back without a driver, fragments and all', () => {
    const h = hostA();
    const server = bind(h, { port: 5000 });
    const client = bind(h, { port: 0 });
    const big = pattern(40_000);
    assert.deepEqual(client.send(0, big, { address: ip('127.0.0.1'), port: 5000 }), { ok: true });
    assert.deepEqual(client.send(0, Uint8Array.of(1), { address: ip(A6), port: 5000 }), { ok: true });
    assert.deepEqual(drain(h, 0), []);
    const got = udpEvents(events(h), server);
    assert.equal(got.length, 2);
    assert.ok(got[0]!.type === 'message' && got[1]!.type === 'message');
    assert.deepEqual(got[0]!.data, big);
    assert.equal(got[0]!.remote.port, client.port);
    assert.equal(formatIp(got[1]!.remote.address), A6);
    assert.ok(h.stats.ip.reassembled === 1 && h.stats.ip.datagramsFragmented === 1);
  });
});

describe('UDP: two hosts back to back, MTU 1500', () => {
  for (const [family, addrB] of [['IPv4', B], ['IPv6', B6]] as const) {
    test(`${family}: 1 B, 1472 B and 65,507 B each way, fragmented where they must be, every packet within the MTU`, () => {
      const a = makeHost('a', [`${A}/24`, `${A6}/64`]);
      const b = makeHost('b', [`${B}/24`, `${B6}/64`]);
      const net = new BackToBack(a, b);
      const sizes: number[] = [];
      net.filter = (packet) => {
        sizes.push(packet.length);
        assert.ok(packet.length <= 1500, `${packet.length} bytes on a 1500-byte link`);
        // Each packet parses; fragments are fragments.
        assert.ok(family === 'IPv4' ? parseIpv4(packet).ok : parseIpv6(packet).ok);
        return true;
      };
      bind(b, { port: 7007 });
      const client = bind(a, { port: 0 });
      const received: Uint8Array[] = [];
      const echoed: Uint8Array[] = [];
      const app = (): void => {
        for (const e of events(b)) {
          if (e.type === 'udp' && e.event.type === 'message') {
            received.push(e.event.data);
            assert.deepEqual(e.socket.send(net.now, e.event.data, e.event.remote), { ok: true });
          }
        }
        for (const e of events(a)) if (e.type === 'udp' && e.event.type === 'message') echoed.push(e.event.data);
      };
      const payloads = [pattern(1, 1), pattern(1472, 2), pattern(65_507, 3)];
      for (const p of payloads) assert.deepEqual(client.send(net.now, p, { address: ip(addrB), port: 7007 }), { ok: true });
      net.settle(app);
      assert.deepEqual(received, payloads);
      assert.deepEqual(echoed, payloads);
      // 1 B and 1472 B: one packet each way over IPv4 (1472 + 28 = 1500); IPv6 needs two for
      // 1472 (+ 48 > 1500). 65,507 B: 45 fragments of 1480 (IPv4) or 46 of 1448 (IPv6).
      const perWay = family === 'IPv4' ? 1 + 1 + 45 : 1 + 2 + 46;
      assert.equal(sizes.length, 2 * perWay);
      for (const h of [a, b]) {
        const st = h.stats;
        assert.deepEqual([st.udp.datagramsOut, st.udp.datagramsIn, st.ip.datagramsFragmented, st.ip.reassembled],
          [3, 3, family === 'IPv4' ? 1 : 2, family === 'IPv4' ? 1 : 2]);
        assert.deepEqual(h.reassemblyInfo(), { pending: 0, bytes: 0 });
      }
    });
  }

  test('a DNS-style query to UDP 53 and TCP 53 on the same host at once', () => {
    const a = makeHost('a', [`${A}/24`]);
    const b = makeHost('b', [`${B}/24`], { privileged: true });
    const net = new BackToBack(a, b);
    const udp = bind(b, { port: 53 });
    const tcp = b.tcpListen({ port: 53 });
    assert.ok(tcp.ok);
    const q = bind(a, { port: 0 });
    assert.ok(q.connect({ address: ip(B), port: 53 }).ok);
    const c = a.tcpConnect(0, { remote: { address: ip(B), port: 53 } });
    assert.ok(c.ok);
    let answer: Uint8Array | undefined;
    const app = (): void => {
      for (const e of events(b)) if (e.type === 'udp' && e.event.type === 'message') udp.send(net.now, Uint8Array.of(0xaa, ...e.event.data), e.event.remote);
      for (const e of events(a)) if (e.type === 'udp' && e.event.type === 'message') answer = e.event.data;
    };
    q.send(0, Uint8Array.of(1, 2, 3));
    net.run(() => answer !== undefined && tcp.listener.pending === 1, app);
    assert.deepEqual(answer, Uint8Array.of(0xaa, 1, 2, 3));
    assert.equal(c.connection.state, 'ESTABLISHED');
  });
});

describe('UDP: a host is made without UDP surprises', () => {
  test('new hosts keep the TCP choices their seed always made (UDP draws come after)', () => {
    const mk = () => new HostClass({ name: 'x', seed: 42, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }] });
    const one = mk().tcpListen({ port: 0 });
    const two = mk();
    bind(two, { port: 0 });
    const again = two.tcpListen({ port: 0 });
    assert.ok(one.ok && again.ok);
    assert.equal(one.listener.local.port, again.listener.local.port);
  });
});

describe('UDP: connect again', () => {
  test('a dual-stack socket connected to IPv4 may connect to IPv6 next; disconnect restores the wildcard', () => {
    const h = hostA();
    const s = bind(h, { port: 5000 });
    assert.ok(s.connect({ address: ip(B), port: 1 }).ok);
    assert.equal(formatIp(s.local.address), A);
    assert.ok(s.connect({ address: ip(B6), port: 2 }).ok);
    assert.equal(formatIp(s.local.address), A6);
    assert.deepEqual(s.send(0, Uint8Array.of(1)), { ok: true });
    assert.equal(formatIp(readUdp(drain(h, 0)[0]!.packet).dst), B6);
    s.disconnect();
    assert.deepEqual([formatIp(s.local.address), s.dualStack, s.remote], ['::', true, undefined]);
  });
});
