/**
 * Helpers for the host tests: packets built with the wire emitters, packets read back with
 * the wire parsers, and a tiny back-to-back driver that joins hosts without the virtual
 * network (each host's `pollTransmit` output goes straight into the other's `handle`, and
 * time jumps to the earliest `pollTimeout`).
 */
import assert from 'node:assert/strict';
import { parseIpAddress } from '../../src/wire/address.js';
import { IpProtocol } from '../../src/wire/ip-protocol.js';
import { emitIpv4, ipv4BufferLen, parseIpv4 } from '../../src/wire/ipv4.js';
import { emitIpv6, ipv6BufferLen, parseIpv6 } from '../../src/wire/ipv6.js';
import { emitTcp, parseTcp, tcpBufferLen, tcpRepr } from '../../src/wire/tcp.js';
import type { TcpRepr } from '../../src/wire/tcp.js';
import { Host } from '../../src/core/host.js';
import type { HostConfig, HostEvent } from '../../src/core/host.js';
import type { Instant } from '../../src/time/instant.js';
import { earliest } from '../../src/time/instant.js';

export function ip(text: string): Uint8Array {
  const a = parseIpAddress(text);
  assert.ok(a, text);
  return a;
}

/** An IP datagram of `protocol` carrying `payload`, from `src` to `dst` (text addresses). */
export function ipPacket(src: string, dst: string, protocol: number, payload: Uint8Array, extra: { moreFragments?: boolean; fragmentOffset?: number } = {}): Uint8Array {
  const s = ip(src);
  const d = ip(dst);
  if (s.length === 4) {
    const repr = {
      src: s, dst: d, protocol, ttl: 64, dscp: 0, ecn: 0, identification: 7, dontFragment: false,
      moreFragments: extra.moreFragments ?? false, fragmentOffset: extra.fragmentOffset ?? 0, options: new Uint8Array(0), payload,
    };
    const buf = new Uint8Array(ipv4BufferLen(repr));
    emitIpv4(repr, buf);
    return buf;
  }
  const repr = { src: s, dst: d, trafficClass: 0, flowLabel: 0, hopLimit: 64, extensionHeaders: [], upperProtocol: protocol, payload };
  const buf = new Uint8Array(ipv6BufferLen(repr));
  emitIpv6(repr, buf);
  return buf;
}

/** A TCP segment in an IP datagram, with a correct checksum. */
export function tcpPacket(src: string, dst: string, fields: Pick<TcpRepr, 'srcPort' | 'dstPort'> & Partial<TcpRepr>): Uint8Array {
  const repr = tcpRepr(fields);
  const seg = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, seg, 0, ip(src), ip(dst));
  return ipPacket(src, dst, IpProtocol.Tcp, seg);
}

/** A datagram read back: addresses, protocol, and the TCP segment if it is one. */
export interface ReadBack {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly protocol: number;
  readonly ttl: number;
  readonly dontFragment: boolean;
  readonly payload: Uint8Array;
  readonly tcp: TcpRepr | undefined;
}

/** Parses a datagram the host emitted; every checksum must verify. */
export function readPacket(packet: Uint8Array): ReadBack {
  if (packet[0]! >>> 4 === 4) {
    const p = parseIpv4(packet);
    assert.ok(p.ok, p.ok ? '' : p.reason);
    const v = p.value;
    assert.equal(v.totalLength, packet.length, 'the buffer is exactly the datagram');
    const tcp = v.protocol === IpProtocol.Tcp ? parseTcp(v.payload, v.src, v.dst) : undefined;
    if (tcp) assert.ok(tcp.ok, tcp.ok ? '' : tcp.reason);
    return { src: v.src, dst: v.dst, protocol: v.protocol, ttl: v.ttl, dontFragment: v.dontFragment, payload: v.payload, tcp: tcp?.ok ? tcp.value : undefined };
  }
  const p = parseIpv6(packet);
  assert.ok(p.ok, p.ok ? '' : p.reason);
  const v = p.value;
  assert.equal(40 + v.payloadLength, packet.length, 'the buffer is exactly the datagram');
  const tcp = v.upperProtocol === IpProtocol.Tcp ? parseTcp(v.payload, v.src, v.dst) : undefined;
  if (tcp) assert.ok(tcp.ok, tcp.ok ? '' : tcp.reason);
  return { src: v.src, dst: v.dst, protocol: v.upperProtocol, ttl: v.hopLimit, dontFragment: true, payload: v.payload, tcp: tcp?.ok ? tcp.value : undefined };
}

/** Every packet a host has ready now. */
export function drain(host: Host, now: Instant): Array<{ iface: string; packet: Uint8Array }> {
  const out: Array<{ iface: string; packet: Uint8Array }> = [];
  for (let t = host.pollTransmit(now); t !== undefined; t = host.pollTransmit(now)) out.push(t);
  return out;
}

/** Every event a host has ready now. */
export function events(host: Host): HostEvent[] {
  const out: HostEvent[] = [];
  for (let e = host.pollEvent(); e !== undefined; e = host.pollEvent()) out.push(e);
  return out;
}

/** A host with one interface `eth0`. */
export function makeHost(name: string, addresses: string[], extra: Partial<HostConfig> = {}): Host {
  return new Host({ name, seed: name.length * 7919 + (extra.seed ?? 1), interfaces: [{ name: 'eth0', addresses }], ...extra });
}

/** The usual pair of test addresses: host A and its peer B, in IPv4 and IPv6. */
export const A = '10.0.0.1';
export const B = '10.0.0.2';
export const A6 = 'fd00::1';
export const B6 = 'fd00::2';

/** Host A with both its addresses (A/24, A6/64): the host most host tests put under test. */
export function hostA(): Host {
  return makeHost('a', [`${A}/24`, `${A6}/64`]);
}

/**
 * Hosts wired back to back on one segment: a packet leaves one host and is handed, at the
 * same instant, to the host that owns its destination address. Time only moves when nothing
 * is in flight: to the earliest `pollTimeout` of all hosts.
 */
export class BackToBack {
  now: Instant = 0;
  /** Packets moved so far. */
  moved = 0;
  readonly hosts: Host[];
  /** Drop (and count) a packet instead of delivering it when this says so. */
  filter: ((packet: Uint8Array, from: Host) => boolean) | undefined;

  constructor(...hosts: Host[]) {
    this.hosts = hosts;
  }

  #owner(packet: Uint8Array): Host | undefined {
    const dst = packet[0]! >>> 4 === 4 ? packet.subarray(16, 20) : packet.subarray(24, 40);
    return this.hosts.find((h) => h.isLocalAddress(dst));
  }

  /** Moves packets until every host is quiet at the current instant; true when anything moved. */
  settle(app?: () => void): boolean {
    let any = false;
    for (let round = 0; ; round++) {
      assert.ok(round < 1_000_000, 'the hosts never went quiet');
      let moved = false;
      for (const h of this.hosts) {
        for (let t = h.pollTransmit(this.now); t !== undefined; t = h.pollTransmit(this.now)) {
          moved = true;
          this.moved++;
          if (this.filter && !this.filter(t.packet, h)) continue;
          this.#owner(t.packet)?.handle(this.now, t.packet, 'eth0');
        }
      }
      app?.();
      if (!moved) return any;
      any = true;
    }
  }

  /** Runs until `done()` holds (checked after each settle), advancing time to the next timer; fails after `limit` µs. */
  run(done: () => boolean, app?: () => void, limit: Instant = 3_600_000_000): void {
    for (;;) {
      this.settle(app);
      if (done()) return;
      let next: Instant | undefined;
      for (const h of this.hosts) next = earliest(next, h.pollTimeout());
      assert.ok(next !== undefined, 'no timer left and not done');
      assert.ok(next <= limit, `not done by ${limit} µs`);
      this.now = Math.max(this.now, next);
      for (const h of this.hosts) {
        const t = h.pollTimeout();
        if (t !== undefined && t <= this.now) h.handleTimeout(this.now);
      }
    }
  }
}
