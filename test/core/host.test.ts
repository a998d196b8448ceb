/**
 * The host without a driver: configuration, routes, binding rules, and demultiplexing, fed
 * packets built with the wire emitters and read back with the wire parsers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../src/wire/address.js';
import { emitIcmpv4, icmpv4BufferLen, parseIcmpv4 } from '../../src/wire/icmpv4.js';
import { emitIcmpv6, icmpv6BufferLen, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { TcpFlags } from '../../src/wire/tcp.js';
import { Host } from '../../src/core/host.js';
import { totalDrops } from '../../src/core/stats.js';
import { drain, events, ip, ipPacket, makeHost, readPacket, tcpPacket } from './support.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const A6 = 'fd00::1';
const B6 = 'fd00::2';

function hostA(extra: Parameters<typeof makeHost>[2] = {}): Host {
  return makeHost('a', [`${A}/24`, `${A6}/64`], extra);
}

describe('Host: configuration', () => {
  test('a bad configuration is a RangeError naming the host and the problem', () => {
    const iface = [{ name: 'eth0', addresses: ['10.0.0.1/24'] }];
    const cases: Array<[() => unknown, RegExp]> = [
      [() => new Host({ name: '', seed: 1, interfaces: iface }), /non-empty name/],
      [() => new Host({ name: 'h', seed: 1.5, interfaces: iface }), /seed 1.5/],
      [() => new Host({ name: 'h', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/40'] }] }), /host 'h': interface 'eth0'/],
      [() => new Host({ name: 'h', seed: 1, interfaces: iface, ephemeralPorts: { low: 6000, high: 5000 } }), /host 'h': ephemeral port range 6000-5000/],
      [() => new Host({ name: 'h', seed: 1, interfaces: iface, routes: [{ destination: '0.0.0.0/0', gateway: '10.0.0.1', iface: 'eth9' }] }), /no interface 'eth9'/],
    ];
    for (const [make, message] of cases) assert.throws(make, (e: unknown) => e instanceof RangeError && message.test(e.message), String(message));
  });

  test('route(): interface, source address and next hop; undefined without a route', () => {
    const h = makeHost('h', ['10.0.0.1/24'], { routes: [{ destination: '0.0.0.0/0', gateway: '10.0.0.254', iface: 'eth0' }] });
    const r = h.route(ip('8.8.8.8'))!;
    assert.deepEqual([r.iface, formatIp(r.source), formatIp(r.nextHop), r.local], ['eth0', '10.0.0.1', '10.0.0.254', false]);
    assert.equal(h.route(ip('fd00::9')), undefined);
    assert.equal(h.route(ip('10.0.0.1'))!.local, true);
    assert.deepEqual(h.interfaces().map((i) => i.name), ['eth0', 'lo']);
    assert.equal(h.routes().length, 4); // 10.0.0.0/24, 127.0.0.0/8, ::1/128, default
    assert.deepEqual(h.ephemeralPorts, { low: 49152, high: 65535 });
  });

  test('a new host has every counter at zero and an empty socket table', () => {
    const s = hostA().stats;
    assert.ok(Object.values(s.ip).every((v) => v === 0), JSON.stringify(s.ip));
    assert.equal(totalDrops(s), 0);
    for (const reason of ['bad-checksum', 'truncated', 'not-for-us', 'no-socket', 'listen-overflow', 'fragment']) {
      assert.equal(s.drops[reason], 0, reason);
    }
    assert.deepEqual(hostA().sockets(), []);
  });
});

describe('Host: tcpListen', () => {
  test('ports below 1024 need privileged (EACCES); 1024 and up do not', () => {
    assert.deepEqual(hostA().tcpListen({ port: 80 }), { ok: false, error: 'access-denied' });
    assert.deepEqual(hostA().tcpListen({ port: 1023 }), { ok: false, error: 'access-denied' });
    assert.ok(hostA().tcpListen({ port: 1024 }).ok);
    assert.ok(hostA({ privileged: true }).tcpListen({ port: 80 }).ok);
  });

  test('an address that is not ours is EADDRNOTAVAIL', () => {
    assert.deepEqual(hostA().tcpListen({ address: ip('10.0.0.9'), port: 8080 }), { ok: false, error: 'address-not-available' });
    assert.ok(hostA().tcpListen({ address: ip(A), port: 8080 }).ok);
    assert.ok(hostA().tcpListen({ address: ip('127.0.0.1'), port: 8080 }).ok);
    assert.ok(hostA().tcpListen({ address: ip('0.0.0.0'), port: 8080 }).ok);
  });

  test('a taken binding is EADDRINUSE; closing frees it', () => {
    const h = hostA();
    const first = h.tcpListen({ port: 8080 });
    assert.ok(first.ok);
    assert.deepEqual(h.tcpListen({ port: 8080 }), { ok: false, error: 'address-in-use' });
    assert.deepEqual(h.tcpListen({ address: ip('0.0.0.0'), port: 8080 }), { ok: false, error: 'address-in-use' });
    assert.deepEqual(h.tcpListen({ address: ip(A), port: 8080 }), { ok: false, error: 'address-in-use' });
    assert.ok(h.tcpListen({ port: 8081 }).ok);
    first.listener.close();
    assert.ok(h.tcpListen({ address: ip(A), port: 8080 }).ok);
    // A wildcard next to a specific address needs reuseAddress on both.
    assert.deepEqual(h.tcpListen({ address: ip('0.0.0.0'), port: 8080, reuseAddress: true }), { ok: false, error: 'address-in-use' });
    assert.ok(h.tcpListen({ address: ip(A), port: 9000, reuseAddress: true }).ok);
    assert.ok(h.tcpListen({ address: ip('0.0.0.0'), port: 9000, reuseAddress: true }).ok);
  });

  test('port 0 picks an unused ephemeral port; the listener shows in sockets()', () => {
    const h = hostA();
    const r = h.tcpListen({ port: 0, backlog: 7 });
    assert.ok(r.ok);
    const port = r.listener.local.port;
    assert.ok(port >= 49152 && port <= 65535);
    assert.equal(r.listener.local.address.length, 16, 'dual-stack shows as ::');
    assert.deepEqual(h.sockets(), [{ kind: 'listener', state: 'LISTEN', local: r.listener.local, dualStack: true, backlog: 7, pending: 0, synReceived: 0 }]);
    const again = h.tcpListen({ port: 0 });
    assert.ok(again.ok && again.listener.local.port !== port);
  });

  test('bad arguments are RangeErrors', () => {
    const h = hostA();
    assert.throws(() => h.tcpListen({ port: 65536 }), RangeError);
    assert.throws(() => h.tcpListen({ port: -1 }), RangeError);
    assert.throws(() => h.tcpListen({ port: 8080, backlog: -1 }), RangeError);
    assert.throws(() => h.tcpListen({ port: 8080, address: new Uint8Array(5) }), RangeError);
  });
});

describe('Host: input without sockets', () => {
  test('SYN to a closed port -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 3.10.7.1)', () => {
    const h = hostA();
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 81, seqNumber: 1000, flags: TcpFlags.SYN, window: 1024 }), 'eth0');
    const out = drain(h, 0);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.iface, 'eth0');
    const p = readPacket(out[0]!.packet);
    assert.equal(formatIp(p.src), A);
    assert.equal(formatIp(p.dst), B);
    assert.equal(p.ttl, 64);
    assert.ok(p.dontFragment);
    const rst = p.tcp!;
    assert.deepEqual([rst.srcPort, rst.dstPort, rst.seqNumber, rst.ackNumber, rst.flags, rst.window, rst.payload.length],
      [81, 40000, 0, 1001, TcpFlags.RST | TcpFlags.ACK, 0, 0]);
    const s = h.stats;
    assert.equal(s.drops['no-socket'], 1);
    assert.equal(s.tcp.resetsSent, 1);
    assert.equal(s.tcp.segmentsIn, 1);
    assert.equal(s.tcp.segmentsOut, 1);
    assert.deepEqual([s.ip.received, s.ip.delivered, s.ip.sent], [1, 1, 1]);
  });

  test('data and FIN without ACK: ACK = SEG.SEQ + SEG.LEN counts the data and the FIN; sequence wraps', () => {
    const h = hostA();
    const payload = new Uint8Array(10);
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 81, seqNumber: 0xfffffffa, flags: TcpFlags.FIN | TcpFlags.PSH, payload }), 'eth0');
    const rst = readPacket(drain(h, 0)[0]!.packet).tcp!;
    assert.equal(rst.seqNumber, 0);
    assert.equal(rst.ackNumber, (0xfffffffa + 11) >>> 0);
    assert.equal(rst.flags, TcpFlags.RST | TcpFlags.ACK);
  });

  test('a segment with ACK to a closed port -> <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = hostA();
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 81, seqNumber: 5, ackNumber: 777777, flags: TcpFlags.ACK | TcpFlags.PSH, payload: new Uint8Array(3) }), 'eth0');
    const rst = readPacket(drain(h, 0)[0]!.packet).tcp!;
    assert.deepEqual([rst.srcPort, rst.dstPort, rst.seqNumber, rst.ackNumber, rst.flags], [81, 40000, 777777, 0, TcpFlags.RST]);
  });

  test('no RST in reply to a RST', () => {
    const h = hostA();
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 81, seqNumber: 5, flags: TcpFlags.RST }), 'eth0');
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 81, seqNumber: 5, ackNumber: 9, flags: TcpFlags.RST | TcpFlags.ACK }), 'eth0');
    assert.deepEqual(drain(h, 0), []);
    const s = h.stats;
    assert.equal(s.drops['no-socket'], 2);
    assert.equal(s.tcp.resetsReceived, 2);
    assert.equal(s.tcp.resetsSent, 0);
  });

  test('IPv6: the same reset, in an IPv6 packet', () => {
    const h = hostA();
    h.handle(0, tcpPacket(B6, A6, { srcPort: 40000, dstPort: 81, seqNumber: 41, flags: TcpFlags.SYN }), 'eth0');
    const p = readPacket(drain(h, 0)[0]!.packet);
    assert.equal(formatIp(p.src), A6);
    assert.equal(p.ttl, 64);
    assert.deepEqual([p.tcp!.seqNumber, p.tcp!.ackNumber, p.tcp!.flags], [0, 42, TcpFlags.RST | TcpFlags.ACK]);
  });

  test('a reply goes out of the interface the route names, or else the one it came in on', () => {
    const h = new Host({
      name: 'r', seed: 1,
      interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }, { name: 'eth1', addresses: ['10.1.0.1/24'] }],
      routes: [{ destination: '0.0.0.0/0', gateway: '10.1.0.254', iface: 'eth1' }],
    });
    h.handle(0, tcpPacket('192.0.2.9', '10.0.0.1', { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'eth0');
    assert.equal(drain(h, 0)[0]!.iface, 'eth1');
    const noDefault = new Host({ name: 'n', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }, { name: 'eth1', addresses: ['10.1.0.1/24'] }] });
    noDefault.handle(0, tcpPacket('192.0.2.9', '10.1.0.1', { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'eth1');
    assert.equal(drain(noDefault, 0)[0]!.iface, 'eth1');
  });

  test('drops are counted by reason', () => {
    const h = hostA();
    const syn = tcpPacket(B, A, { srcPort: 40000, dstPort: 81, flags: TcpFlags.SYN });
    const badIpChecksum = syn.slice();
    badIpChecksum[10]! ^= 0xff;
    const badTcpChecksum = syn.slice();
    badTcpChecksum[20 + 16]! ^= 0xff;
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), 'truncated'],
      [new Uint8Array(10).fill(0x45), 'truncated'],
      [Uint8Array.of(0x75, ...new Uint8Array(30)), 'bad-version'],
      [badIpChecksum, 'bad-checksum'],
      [badTcpChecksum, 'bad-checksum'],
      [tcpPacket(B, '10.0.0.3', { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'not-for-us'],
      [tcpPacket(B6, 'fd00::3', { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'not-for-us'],
      [ipPacket(B, A, IpProtocol.Tcp, new Uint8Array(12), { moreFragments: true }), 'fragment'], // not a multiple of 8
      [ipPacket(B, A, IpProtocol.Tcp, new Uint8Array(0), { fragmentOffset: 64 }), 'fragment'], // empty
      [ipPacket(B, A, IpProtocol.Tcp, new Uint8Array(12)), 'truncated'],
      [ipPacket(B, A, IpProtocol.Udp, new Uint8Array(12)), 'length-too-small'],
      [ipPacket(B, A, 99, new Uint8Array(12)), 'unknown-protocol'],
      [ipPacket(B6, A6, IpProtocol.Icmp, new Uint8Array(12)), 'unknown-protocol'],
      [tcpPacket('224.0.0.1', A, { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'bad-source-address'],
      [tcpPacket('0.0.0.0', A, { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'bad-source-address'],
      [tcpPacket(A, A, { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'bad-source-address'], // a martian: ours, from outside
      [tcpPacket('127.0.0.1', A, { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'bad-source-address'],
      [tcpPacket(A6, A6, { srcPort: 1, dstPort: 2, flags: TcpFlags.SYN }), 'bad-source-address'],
    ];
    let received = 0;
    for (const [packet, reason] of cases) {
      const before = h.stats.drops[reason]!;
      h.handle(0, packet, 'eth0');
      received++;
      assert.equal(h.stats.drops[reason], before + 1, reason);
    }
    assert.deepEqual(drain(h, 0), [], 'nothing answers a dropped packet');
    assert.equal(h.stats.ip.received, received);
    assert.equal(totalDrops(h.stats), received);
  });

  test('ICMP echo requests are answered (IPv4 and IPv6); other ICMP is not handled yet', () => {
    const h = hostA();
    const data = Uint8Array.from([1, 2, 3, 4, 5]);
    const req4 = { type: 'echo-request', code: 0, identifier: 0x1234, sequence: 7, data } as const;
    const icmp4 = new Uint8Array(icmpv4BufferLen(req4));
    emitIcmpv4(req4, icmp4);
    h.handle(0, ipPacket(B, A, IpProtocol.Icmp, icmp4), 'eth0');
    const req6 = { type: 'echo-request', code: 0, identifier: 0x4321, sequence: 9, data } as const;
    const icmp6 = new Uint8Array(icmpv6BufferLen(req6));
    emitIcmpv6(req6, icmp6, 0, ip(B6), ip(A6));
    h.handle(0, ipPacket(B6, A6, IpProtocol.Icmpv6, icmp6), 'eth0');
    const out = drain(h, 0).map((t) => readPacket(t.packet));
    assert.equal(out.length, 2);
    const r4 = parseIcmpv4(out[0]!.payload);
    assert.ok(r4.ok);
    assert.deepEqual(r4.value, { type: 'echo-reply', code: 0, identifier: 0x1234, sequence: 7, data });
    assert.equal(formatIp(out[0]!.dst), B);
    const r6 = parseIcmpv6(out[1]!.payload, out[1]!.src, out[1]!.dst);
    assert.ok(r6.ok);
    assert.deepEqual(r6.value, { type: 'echo-reply', code: 0, identifier: 0x4321, sequence: 9, data });
    const reply4 = { type: 'echo-reply', code: 0, identifier: 1, sequence: 1, data } as const;
    const bytes = new Uint8Array(icmpv4BufferLen(reply4));
    emitIcmpv4(reply4, bytes);
    h.handle(0, ipPacket(B, A, IpProtocol.Icmp, bytes), 'eth0');
    const s = h.stats;
    assert.deepEqual([s.icmp.echoRequestsReceived, s.icmp.echoRepliesSent], [2, 2]);
    assert.equal(s.drops['unhandled-protocol'], 1);
  });
});

describe('Host: input at a listener', () => {
  test('an ACK at a listener -> <SEQ=SEG.ACK><CTL=RST>; a RST or a bare FIN is dropped silently', () => {
    const h = hostA();
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, ackNumber: 4242, flags: TcpFlags.ACK }), 'eth0');
    const out = drain(h, 0);
    assert.equal(out.length, 1);
    assert.deepEqual([readPacket(out[0]!.packet).tcp!.seqNumber, readPacket(out[0]!.packet).tcp!.flags], [4242, TcpFlags.RST]);
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.RST }), 'eth0');
    h.handle(0, tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.FIN }), 'eth0');
    assert.deepEqual(drain(h, 0), []);
    assert.equal(h.stats.drops['listen-unexpected'], 3);
    assert.deepEqual(events(h), []);
  });
});
