/**
 * Checksum capabilities per interface (core/interfaces.ts): every interface starts
 * 'verified'; a trusted one neither computes nor verifies the IPv4 header, TCP, UDP and
 * ICMP checksums, counts no checksum drop, and leaves the host's own control packets
 * (resets, ICMP) valid; an interface pinned by `requireChecksums` can never be trusted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emitIcmpv4, icmpv4BufferLen, parseIcmpv4 } from '../../src/wire/icmpv4.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { ipv4HeaderChecksumValid } from '../../src/wire/ipv4.js';
import { TcpFlags, tcpChecksumValid } from '../../src/wire/tcp.js';
import { udpChecksumValid } from '../../src/wire/udp.js';
import { emitUdp, udpBufferLen } from '../../src/wire/udp.js';
import { A, A6, B, B6, drain, events, hostA, ip, ipPacket, makeHost, readPacket, tcpPacket } from './support.js';


/** `packet` with its IPv4 header checksum and its TCP checksum (IHL 5) broken. */
function spoiled(packet: Uint8Array): Uint8Array {
  const p = packet.slice();
  p[10]! ^= 0x5a;
  p[20 + 16]! ^= 0xa5;
  return p;
}

/** A UDP datagram over IPv4 with a checksum that does not verify. */
function badUdp(): Uint8Array {
  const repr = { srcPort: 40000, dstPort: 7000, payload: Uint8Array.of(1, 2, 3) };
  const d = new Uint8Array(udpBufferLen(repr));
  emitUdp(repr, d, 0, ip(B), ip(A));
  d[6]! ^= 0xff;
  return ipPacket(B, A, IpProtocol.Udp, d);
}

describe('Host: checksum capabilities', () => {
  test('every interface starts verified: bad checksums are dropped and counted', () => {
    const h = hostA();
    assert.deepEqual(h.interfaces().map((i) => [i.name, i.checksums]), [['eth0', 'verified'], ['lo', 'verified']]);
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    h.handle(0, spoiled(tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN })), 'eth0');
    h.handle(0, badUdp(), 'eth0');
    assert.equal(h.stats.drops['bad-checksum'], 2);
    assert.deepEqual(drain(h, 0), [], 'no SYN-ACK, no port unreachable');
  });

  test('trusted: what the host sends carries no checksums; control packets keep theirs', () => {
    const h = hostA();
    h.setInterfaceChecksums('eth0', 'trusted');
    assert.equal(h.interfaces().find((i) => i.name === 'eth0')!.checksums, 'trusted');
    const c = h.tcpConnect(0, { remote: { address: ip(B), port: 8080 } });
    assert.ok(c.ok);
    const [syn] = drain(h, 0);
    assert.ok(syn);
    assert.deepEqual([syn.packet[10], syn.packet[11]], [0, 0], 'IPv4 header checksum left 0');
    assert.deepEqual([syn.packet[36], syn.packet[37]], [0, 0], 'TCP checksum left 0');
    // A reset for a closed port is the host's own control packet: valid as ever.
    h.handle(0, tcpPacket(B, A, { srcPort: 40001, dstPort: 81, seqNumber: 5, flags: TcpFlags.SYN }), 'eth0');
    const [rst] = drain(h, 0);
    assert.ok(rst);
    assert.equal(readPacket(rst.packet).tcp!.flags, TcpFlags.RST | TcpFlags.ACK, 'parsed with every checksum verified');
  });

  test('trusted: bad checksums are not looked at, and no checksum drop is counted', () => {
    const h = hostA();
    h.setInterfaceChecksums('eth0', 'trusted');
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    h.handle(0, spoiled(tcpPacket(B, A, { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN })), 'eth0');
    const [synAck] = drain(h, 0);
    assert.ok(synAck, 'the SYN reached the listener');
    assert.equal(synAck.packet[33], TcpFlags.SYN | TcpFlags.ACK);
    const socket = h.udpBind({ port: 7000 });
    assert.ok(socket.ok);
    h.handle(0, badUdp(), 'eth0');
    const udp = events(h).filter((e) => e.type === 'udp');
    assert.equal(udp.length, 1, 'the datagram was delivered');
    // An echo request with a bad checksum is answered, with a valid reply.
    const req = { type: 'echo-request', code: 0, identifier: 9, sequence: 1, data: Uint8Array.of(7) } as const;
    const icmp = new Uint8Array(icmpv4BufferLen(req));
    emitIcmpv4(req, icmp);
    icmp[2]! ^= 0xff;
    h.handle(0, ipPacket(B, A, IpProtocol.Icmp, icmp), 'eth0');
    const [reply] = drain(h, 0);
    assert.ok(reply);
    const parsed = parseIcmpv4(readPacket(reply.packet).payload);
    assert.ok(parsed.ok && parsed.value.type === 'echo-reply');
    assert.equal(h.stats.drops['bad-checksum'] ?? 0, 0);
    assert.equal(h.stats.udp.checksumErrors, 0);
  });

  test('trusted: UDP over IPv4 goes with checksum 0 ("none"); over IPv6 it is computed (RFC 8200 8.1)', () => {
    const h = hostA();
    h.setInterfaceChecksums('eth0', 'trusted');
    const s = h.udpBind({ port: 7000 });
    assert.ok(s.ok);
    assert.ok(s.socket.send(0, Uint8Array.of(1, 2, 3), { address: ip(B), port: 9 }).ok);
    assert.ok(s.socket.send(0, Uint8Array.of(1, 2, 3), { address: ip(B6), port: 9 }).ok);
    const [v4, v6] = drain(h, 0);
    assert.ok(v4 && v6);
    assert.deepEqual([v4.packet[10], v4.packet[11]], [0, 0], 'IPv4 header checksum left 0');
    assert.equal(udpChecksumValid(v4.packet.subarray(20), ip(A), ip(B)), 'none');
    assert.equal(udpChecksumValid(v6.packet.subarray(40), ip(A6), ip(B6)), true);
  });

  test('trust is per interface: another interface of the same host still verifies', () => {
    const h = makeHost('a', [`${A}/24`], { interfaces: [{ name: 'eth0', addresses: [`${A}/24`] }, { name: 'eth1', addresses: ['10.1.0.1/24'] }] });
    h.setInterfaceChecksums('eth0', 'trusted');
    assert.ok(h.tcpListen({ port: 8080 }).ok);
    h.handle(0, spoiled(tcpPacket('10.1.0.2', '10.1.0.1', { srcPort: 40000, dstPort: 8080, seqNumber: 1, flags: TcpFlags.SYN })), 'eth1');
    assert.equal(h.stats.drops['bad-checksum'], 1);
    const c = h.tcpConnect(0, { remote: { address: ip('10.1.0.2'), port: 8080 } });
    assert.ok(c.ok);
    const [syn] = drain(h, 0);
    assert.ok(syn && syn.iface === 'eth1');
    assert.ok(ipv4HeaderChecksumValid(syn.packet));
    assert.ok(tcpChecksumValid(syn.packet.subarray(20), ip('10.1.0.1'), ip('10.1.0.2')));
  });

  test('back to verified: checksums are computed and checked again', () => {
    const h = hostA();
    h.setInterfaceChecksums('eth0', 'trusted');
    h.setInterfaceChecksums('eth0', 'verified');
    assert.ok(h.tcpConnect(0, { remote: { address: ip(B), port: 8080 } }).ok);
    const [syn] = drain(h, 0);
    assert.ok(syn && ipv4HeaderChecksumValid(syn.packet));
    h.handle(0, badUdp(), 'eth0');
    assert.equal(h.stats.drops['bad-checksum'], 1);
  });

  test('a pinned interface (a real device) can never be trusted; unknown names and values are RangeErrors', () => {
    const h = hostA();
    h.requireChecksums('eth0');
    assert.throws(() => h.setInterfaceChecksums('eth0', 'trusted'), (e: unknown) => e instanceof RangeError && /host 'a'.*real device/.test(e.message));
    assert.equal(h.interfaces().find((i) => i.name === 'eth0')!.checksums, 'verified');
    h.setInterfaceChecksums('eth0', 'verified'); // harmless
    assert.throws(() => h.setInterfaceChecksums('eth9', 'trusted'), /no interface 'eth9'/);
    assert.throws(() => h.requireChecksums('eth9'), /no interface 'eth9'/);
    assert.throws(() => h.setInterfaceChecksums('lo', 'none' as 'trusted'), /neither 'verified' nor 'trusted'/);
    const t = hostA();
    t.setInterfaceChecksums('eth0', 'trusted');
    assert.throws(() => t.requireChecksums('eth0'), /is trusted/);
  });
});
