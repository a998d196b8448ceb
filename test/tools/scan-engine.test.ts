/**
 * The scan engine and the probe node on the virtual network, in virtual time (no sleeps):
 * a scanner node linked to an l4 `Host` whose listeners answer SYN with SYN-ACK, whose
 * closed TCP ports answer RST and closed UDP ports ICMP port unreachable; a firewall node
 * between them drops some ports and rejects one with ICMP admin-prohibited. The verdicts,
 * retransmissions, RTT-based timeouts, the rate limit and the concurrency window are
 * checked against what the topology makes true.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { LinkOptions } from '../../src/drivers/virtual/impairments.js';
import type { NetworkNode, Transmit } from '../../src/core/node.js';
import { icmpv4ErrorDatagram } from '../../src/core/packets.js';
import type { Stack } from '../../src/api/stack.js';
import { parseIpAddress } from '../../src/wire/address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6.js';
import { parseTcp, TcpFlags } from '../../src/wire/tcp.js';
import { millis, seconds, type Instant } from '../../src/time/instant.js';
import { ScanEngine, type EngineOptions } from '../../src/tools/scan/engine.js';
import { ProbeNode } from '../../src/tools/scan/probe-node.js';
import type { PortState } from '../../src/tools/scan/verdict.js';

const SCANNER = parseIpAddress('10.0.0.1')!;
const TARGET = parseIpAddress('10.0.0.2')!;
const SCANNER6 = parseIpAddress('fd00::1')!;
const TARGET6 = parseIpAddress('fd00::2')!;
const ROUTER = parseIpAddress('10.0.0.254')!;

/**
 * A filtering router between two interfaces: forwards every packet from `a` to `b` and
 * back, except TCP/UDP to `drop` (silently dropped, as nftables `drop`) and to `reject`
 * (answered from the router with ICMP unreachable code 13, as `reject with icmp type
 * admin-prohibited`). Only inbound (a -> b) packets are filtered.
 */
class Firewall implements NetworkNode {
  readonly #out: Transmit[] = [];
  #id = 1;
  constructor(readonly drop: ReadonlySet<number>, readonly reject: ReadonlySet<number>) {}
  handle(_now: Instant, packet: Uint8Array, iface: string): void {
    if (iface === 'a' && packet[0]! >>> 4 === 4) {
      const ip = parseIpv4(packet, { verifyChecksum: false });
      if (ip.ok && (ip.value.protocol === 6 || ip.value.protocol === 17) && ip.value.payload.length >= 4) {
        const port = (ip.value.payload[2]! << 8) | ip.value.payload[3]!;
        if (this.drop.has(port)) return;
        if (this.reject.has(port)) {
          this.#out.push({ iface: 'a', packet: icmpv4ErrorDatagram(ROUTER, ip.value.src, { type: 'destination-unreachable', code: 13 }, packet, this.#id++) });
          return;
        }
      }
    }
    this.#out.push({ iface: iface === 'a' ? 'b' : 'a', packet });
  }
  pollTransmit(): Transmit | undefined { return this.#out.shift(); }
  pollTimeout(): Instant | undefined { return undefined; }
  handleTimeout(): void { /* no timers */ }
}

interface Lab {
  network: VirtualNetwork;
  target: Stack;
  engine: ScanEngine;
  node: ProbeNode;
  /** Instants at which probes left the scanner, and the engine's outstanding count after each. */
  sends: Array<{ at: Instant; outstanding: number }>;
}

/** A scanner and a target, optionally through a firewall; the target listens on `tcp` and echoes UDP on `udp`. */
function lab(options: {
  type: 'syn' | 'udp'; ports: number[]; engine?: Partial<EngineOptions>; link?: LinkOptions; seed?: number;
  tcp?: number[]; udp?: number[]; drop?: number[]; reject?: number[]; six?: boolean; targets?: Uint8Array[];
  /** Keep the host's default ICMP error rate limit (Linux's 1000/s, burst 50) instead of lifting it. */
  icmpLimit?: boolean;
}): Lab {
  const seed = options.seed ?? 1;
  const network = new VirtualNetwork({ seed });
  const target = addStack(network, {
    name: 'target', seed: seed + 1, privileged: true,
    ...(options.icmpLimit ? {} : { icmpErrorRate: { perSecond: 1_000_000, burst: 1_000_000 } }),
    interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }],
  });
  for (const port of options.tcp ?? []) target.net.createServer().listen(port);
  for (const port of options.udp ?? []) {
    const socket = target.dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => socket.send(msg.length > 0 ? msg : Buffer.from('hi'), rinfo.port, rinfo.address));
    socket.bind(port);
  }
  const engine = new ScanEngine({ hosts: (options.targets ?? [TARGET]).length, ports: options.ports, type: options.type, ...options.engine });
  const node = new ProbeNode({
    engine, type: options.type, iface: 'eth0', source: SCANNER, source6: SCANNER6,
    targets: options.targets ?? [options.six ? TARGET6 : TARGET], seed: 99,
  });
  const sends: Lab['sends'] = [];
  const recorder: NetworkNode = {
    handle: (now, packet, iface) => node.handle(now, packet, iface),
    pollTransmit: (now) => {
      const t = node.pollTransmit(now);
      if (t && isProbe(t.packet)) sends.push({ at: now, outstanding: engine.outstanding });
      return t;
    },
    pollTimeout: () => node.pollTimeout(),
    handleTimeout: (now) => node.handleTimeout(now),
  };
  network.addNode('scanner', recorder);
  if (options.drop || options.reject) {
    const fw = network.addNode('fw', new Firewall(new Set(options.drop ?? []), new Set(options.reject ?? [])));
    network.link(recorder, 'eth0', fw, 'a', options.link ?? { delay: millis(1) });
    network.link(fw, 'b', target, 'eth0', { delay: 0 });
  } else {
    network.link(recorder, 'eth0', target, 'eth0', options.link ?? { delay: millis(1) });
  }
  // The engine has probes ready: the network polls the scanner at once.
  network.wake(recorder);
  return { network, target, engine, node, sends };
}

/** A probe, not a RST answering a SYN-ACK. */
function isProbe(packet: Uint8Array): boolean {
  const ip = packet[0]! >>> 4 === 4 ? parseIpv4(packet) : parseIpv6(packet);
  if (!ip.ok) return false;
  const protocol = 'protocol' in ip.value ? ip.value.protocol : ip.value.upperProtocol;
  if (protocol !== 6) return true;
  const tcp = parseTcp(ip.value.payload, ip.value.src, ip.value.dst);
  return tcp.ok && (tcp.value.flags & TcpFlags.RST) === 0;
}

async function scan(l: Lab, limit = seconds(600)): Promise<void> {
  await l.network.run({ until: () => l.engine.done, time: limit, idleYields: 50 });
  assert.ok(l.engine.done, `scan not done at ${l.network.now} µs: ${l.engine.decided}/${l.engine.total}`);
}

function states(l: Lab, host = 0): Map<number, string> {
  return new Map(l.engine.outcomes(host).map((o) => [o.port, `${o.verdict.state}/${o.verdict.reason}`]));
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

describe('SYN scan on the virtual network', () => {
  test('listeners open (syn-ack), others closed (reset), dropped filtered (no-response), rejected filtered (admin-prohibited)', async () => {
    const l = lab({ type: 'syn', ports: range(1, 300), tcp: [22, 25, 80, 250], drop: [135, 139], reject: [199] });
    await scan(l);
    const s = states(l);
    for (const p of range(1, 300)) {
      const want = [22, 25, 80, 250].includes(p) ? 'open/syn-ack' : [135, 139].includes(p) ? 'filtered/no-response'
        : p === 199 ? 'filtered/admin-prohibited' : 'closed/reset';
      assert.equal(s.get(p), want, `port ${p}`);
    }
    // Three tries for a dropped port (retries 2), one for every answered port.
    assert.equal(l.engine.outcome(0, 135)!.tries, 3);
    assert.equal(l.engine.outcome(0, 22)!.tries, 1);
    assert.equal(l.engine.outcome(0, 22)!.ttl, 64);
    // Every SYN-ACK was answered with a RST: the target keeps no half-open connection.
    assert.equal(l.node.stats.resets, 4);
    assert.equal(l.target.host.sockets().filter((s) => s.state !== 'LISTEN').length, 0);
    assert.ok(l.engine.hostTiming(0).answered);
  });

  test('IPv6 target: the same verdicts over IPv6', async () => {
    const l = lab({ type: 'syn', ports: range(20, 30), tcp: [22, 25], six: true });
    await scan(l);
    const s = states(l);
    assert.equal(s.get(22), 'open/syn-ack');
    assert.equal(s.get(23), 'closed/reset');
  });

  test('10% loss both ways: retransmissions recover every verdict, and drops shrink the window', async () => {
    const l = lab({ type: 'syn', ports: range(1, 400), tcp: [7, 99, 333], link: { delay: millis(5), loss: 0.1 }, engine: { retries: 6 }, seed: 5 });
    await scan(l);
    const s = states(l);
    for (const p of range(1, 400)) assert.equal(s.get(p), [7, 99, 333].includes(p) ? 'open/syn-ack' : 'closed/reset', `port ${p}`);
    assert.ok(l.engine.stats.retransmissions > 20, `retransmissions ${l.engine.stats.retransmissions}`);
    assert.ok(l.engine.stats.drops > 0, 'replies to retransmissions were seen as drops');
  });

  test('the timeout follows the measured RTT: srtt + 4*rttvar, clamped to [min, max]', async () => {
    // 40 ms round trip; one dropped port waits (retries + 1) timeouts.
    const l = lab({ type: 'syn', ports: range(1, 50), tcp: [22], drop: [45], link: { delay: millis(20) }, engine: { minTimeout: millis(10), maxTimeout: seconds(2) } });
    await scan(l);
    const timing = l.engine.hostTiming(0);
    assert.ok(Math.abs(timing.srtt! - millis(40)) < millis(1), `srtt ${timing.srtt}`);
    assert.ok(timing.timeout >= millis(40) && timing.timeout < millis(100), `timeout ${timing.timeout}`);
    assert.equal(states(l).get(45), 'filtered/no-response');
    // The scan ends within about three adaptive timeouts after the last reply, far below 3 x max.
    assert.ok(l.network.now < millis(40) + 3 * millis(100) + millis(50), `took ${l.network.now} µs`);
  });

  test('before any RTT sample the initial timeout applies; the minimum clamps a tiny RTT', () => {
    const e = new ScanEngine({ hosts: 1, ports: [1, 2], type: 'syn', initialTimeout: millis(700), minTimeout: millis(100), maxTimeout: seconds(1) });
    assert.equal(e.timeoutFor(0), millis(700));
    const p = e.pollProbe(0)!;
    e.report(50, 0, p.port, p.tryNo, { state: 'closed', reason: 'reset' });
    // First sample 50 µs: srtt 50, rttvar max(5 ms, 50 µs) = 5 ms -> 20.05 ms, clamped up to 100 ms.
    assert.equal(e.hostTiming(0).srtt, 50);
    assert.equal(e.hostTiming(0).rttvar, 5000);
    assert.equal(e.timeoutFor(0), millis(100));
  });

  test('--rate: probes are paced by the token bucket', async () => {
    const l = lab({ type: 'syn', ports: range(1, 200), tcp: [22], engine: { rate: 100 } });
    await scan(l);
    assert.equal(l.sends.length, 200);
    const span = l.sends.at(-1)!.at - l.sends[0]!.at;
    assert.ok(span >= millis(1950), `200 probes at 100/s took ${span} µs`);
    // No one-second window holds more than rate + burst probes.
    for (const s of l.sends) assert.ok(l.sends.filter((t) => t.at >= s.at && t.at < s.at + seconds(1)).length <= 102);
  });

  test('--concurrency: never more probes outstanding than the window allows', async () => {
    const l = lab({ type: 'syn', ports: range(1, 300), drop: range(100, 140), engine: { concurrency: 8 } });
    await scan(l);
    assert.ok(l.sends.every((s) => s.outstanding <= 8), `max ${Math.max(...l.sends.map((s) => s.outstanding))}`);
    assert.equal([...states(l).values()].filter((v) => v === 'filtered/no-response').length, 41);
  });

  test('an address nobody holds: every port filtered (no-response), the host not up', async () => {
    const l = lab({ type: 'syn', ports: [22, 80], targets: [parseIpAddress('10.0.0.99')!] });
    await scan(l);
    assert.deepEqual([...states(l).values()], ['filtered/no-response', 'filtered/no-response']);
    assert.equal(l.engine.hostTiming(0).answered, false);
  });

  test('two hosts, one absent: each gets its own verdicts', async () => {
    const l = lab({ type: 'syn', ports: [22, 23], tcp: [22], targets: [TARGET, parseIpAddress('10.0.0.98')!] });
    await scan(l);
    assert.equal(states(l, 0).get(22), 'open/syn-ack');
    assert.equal(states(l, 0).get(23), 'closed/reset');
    assert.equal(states(l, 1).get(22), 'filtered/no-response');
  });
});

describe('UDP scan on the virtual network', () => {
  test('replies open (udp-response), port unreachable closed, silence open|filtered, admin-prohibited filtered', async () => {
    const l = lab({ type: 'udp', ports: range(50, 180), udp: [53, 123, 161, 170], drop: [137, 138], reject: [139] });
    await scan(l);
    const s = states(l);
    const want = new Map<number, string>();
    for (const p of range(50, 180)) want.set(p, 'closed/port-unreach');
    for (const p of [53, 123, 161, 170]) want.set(p, 'open/udp-response');
    for (const p of [137, 138]) want.set(p, 'open|filtered/no-response');
    want.set(139, 'filtered/admin-prohibited');
    assert.deepEqual(s, want);
  });

  test('the host\'s ICMP rate limit turns some closed ports into silence at first; retries recover them', async () => {
    // Linux's default: 1000 errors per second, burst 50; the scanner's window lets up to 512 out at once.
    const l = lab({ type: 'udp', ports: range(1000, 1399), udp: [1100], engine: { retries: 6 }, icmpLimit: true });
    await scan(l);
    assert.ok(l.engine.stats.retransmissions > 0, 'some port unreachables were suppressed and the ports probed again');
    const counts: Record<PortState, number> = { 'open': 0, 'closed': 0, 'filtered': 0, 'open|filtered': 0 };
    for (const o of l.engine.outcomes(0)) counts[o.verdict.state]++;
    assert.deepEqual(counts, { 'open': 1, 'closed': 399, 'filtered': 0, 'open|filtered': 0 });
  });
});

describe('engine bookkeeping', () => {
  test('a reply to a decided port is ignored; duplicate verdicts do not count twice', () => {
    const e = new ScanEngine({ hosts: 1, ports: [80], type: 'syn' });
    const p = e.pollProbe(0)!;
    e.report(10, 0, 80, p.tryNo, { state: 'open', reason: 'syn-ack' });
    e.report(20, 0, 80, p.tryNo, { state: 'closed', reason: 'reset' });
    assert.equal(e.outcome(0, 80)!.verdict.state, 'open');
    assert.equal(e.decided, 1);
    assert.equal(e.stats.ignored, 1);
    assert.ok(e.done);
  });

  test('a reply for a port never probed is ignored', () => {
    const e = new ScanEngine({ hosts: 1, ports: [80, 81], type: 'syn' });
    e.report(0, 0, 81, 0, { state: 'open', reason: 'syn-ack' });
    e.report(0, 0, 9999, 0, { state: 'open', reason: 'syn-ack' });
    e.report(0, 7, 80, 0, { state: 'open', reason: 'syn-ack' });
    assert.equal(e.decided, 0);
    assert.equal(e.stats.ignored, 3);
  });

  test('silence: retries, then filtered (TCP) or open|filtered (UDP); abort stops at once', () => {
    for (const [type, want] of [['syn', 'filtered'], ['udp', 'open|filtered']] as const) {
      const e = new ScanEngine({ hosts: 1, ports: [1], type, retries: 3, maxTimeout: millis(100) });
      let now = 0;
      let sent = 0;
      while (!e.done) {
        if (e.pollProbe(now)) sent++;
        now = e.pollTimeout()!;
        e.handleTimeout(now);
      }
      assert.equal(sent, 4);
      assert.equal(e.outcome(0, 1)!.verdict.state, want);
      assert.equal(now, 4 * millis(100));
    }
    const e = new ScanEngine({ hosts: 1, ports: [1, 2, 3], type: 'syn' });
    e.pollProbe(0);
    e.abort();
    assert.ok(e.done && e.aborted);
    assert.equal(e.pollProbe(1), undefined);
    assert.equal(e.pollTimeout(), undefined);
  });
});
