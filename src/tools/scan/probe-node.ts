/**
 * The network node of a SYN or UDP scan: it owns no sockets, it writes probes and reads
 * what comes back, as raw IP packets, on whatever driver runs it (a TUN device through
 * `TunDriver`, or the virtual network in tests). The `ScanEngine` decides what to send and
 * when; this node turns its probes into packets and replies into verdicts.
 *
 * Probes: a TCP SYN with an MSS option (window 1024, MSS 1460, as nmap's), or a UDP
 * datagram with the port's payload (udp-payloads.ts), from l4's address on the device.
 * The try number travels in the probe so that every reply is an unambiguous RTT sample:
 * in the source port (base + try, as nmap does) and, for TCP, also in the low 4 bits of
 * the SYN's sequence number, whose other bits are a keyed cookie of host and port. A
 * retransmitted SYN must not reuse the first try's socket pair: if the target's SYN-ACK to
 * the first try was lost, the target holds a SYN-RECEIVED entry for that pair, and a SYN
 * with another sequence number there draws a RST (Linux's tcp_check_req), which would
 * make an open port look closed. Replies, parsed with the wire parsers (checksums
 * verified), count only when they match a probe: a SYN-ACK or RST from the target port to
 * one of our ports whose acknowledgment is that try's sequence number + 1; a UDP datagram
 * from the target port to one of our ports; an ICMP or ICMPv6 destination unreachable
 * whose quoted datagram (icmp-quote.ts) is one of our probes. A SYN-ACK is answered with a RST (the
 * half-open scan: l4 has no connection to keep, and says so at once); nothing else is ever
 * answered, whatever the kernel on the device's other side sends (router solicitations,
 * MLD, stray segments are ignored).
 *
 * Call order is `core/node.ts`'s. The node is done when `engine.done`; `onEvent` sees every
 * engine event (progress), `onDone` is called once.
 */
import type { NetworkNode, Transmit } from '../../core/node.js';
import { resetFor, tcpDatagram, udpMessage, ipDatagram } from '../../core/packets.js';
import type { Instant } from '../../time/instant.js';
import { ipEquals } from '../../wire/address.js';
import { parseQuotedDatagram } from '../../wire/icmp-quote.js';
import { parseIcmpv4 } from '../../wire/icmpv4.js';
import { parseIcmpv6 } from '../../wire/icmpv6.js';
import { IpProtocol } from '../../wire/ip-protocol.js';
import { parseIpv4 } from '../../wire/ipv4.js';
import { parseIpv6 } from '../../wire/ipv6.js';
import { parseTcp, TcpFlags, tcpRepr } from '../../wire/tcp.js';
import { parseUdp } from '../../wire/udp.js';
import type { EngineEvent, ScanEngine } from './engine.js';
import { udpProbePayload } from './udp-payloads.js';
import { icmpv4UnreachableVerdict, icmpv6UnreachableVerdict, tcpReplyVerdict, UDP_RESPONSE } from './verdict.js';

/** Options of a probe node. */
export interface ProbeNodeOptions {
  readonly engine: ScanEngine;
  /** `syn`: TCP SYN probes; `udp`: UDP probes. */
  readonly type: 'syn' | 'udp';
  /** The interface name the driver gives (`Transmit.iface`). */
  readonly iface: string;
  /** l4's IPv4 address (4 bytes), the probes' source for IPv4 targets. */
  readonly source?: Uint8Array;
  /** l4's IPv6 address (16 bytes), for IPv6 targets. */
  readonly source6?: Uint8Array;
  /** The address of each host the engine numbers (4 or 16 bytes). */
  readonly targets: readonly Uint8Array[];
  /** Keys the sequence-number cookie and picks the source port; any integer. */
  readonly seed: number;
  /** The first source port: try N leaves from this + N; default from the seed, 40000-59999. */
  readonly sourcePort?: number;
  /** MSS option of the SYNs; default 1460. */
  readonly mss?: number;
  /** Every engine event, as it happens. */
  readonly onEvent?: (event: EngineEvent) => void;
  /** Called once when the engine is done. */
  readonly onDone?: () => void;
}

/** Counters of a probe node. */
export interface ProbeNodeStats {
  /** Packets read. */
  received: number;
  /** Packets that matched a probe and were reported. */
  matched: number;
  /** Packets that did not parse, were not for us, or matched no probe. */
  ignored: number;
  /** Resets sent in answer to SYN-ACKs. */
  resets: number;
  /** Probe packets sent. */
  probes: number;
}

/** A 32-bit mix (murmur3's finalizer) of three numbers. */
function mix(a: number, b: number, c: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^ Math.imul(c + 0x165667b1, 0x27d4eb2f)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Byte-string key of an address (a Map key). */
function addressKey(a: Uint8Array): string {
  return String.fromCharCode(...a);
}

/** The scan node (see the module doc). */
export class ProbeNode implements NetworkNode {
  readonly engine: ScanEngine;
  readonly type: 'syn' | 'udp';
  readonly iface: string;
  readonly sourcePort: number;
  readonly stats: ProbeNodeStats = { received: 0, matched: 0, ignored: 0, resets: 0, probes: 0 };
  readonly #options: ProbeNodeOptions;
  readonly #hostIndex = new Map<string, number>();
  readonly #resets: Uint8Array[] = [];
  readonly #seed: number;
  readonly #mss: number;
  #ipId: number;
  #doneNotified = false;

  constructor(options: ProbeNodeOptions) {
    this.engine = options.engine;
    this.type = options.type;
    this.iface = options.iface;
    this.#options = options;
    this.#seed = options.seed | 0;
    this.#mss = options.mss ?? 1460;
    this.sourcePort = options.sourcePort ?? 40000 + (mix(this.#seed, 1, 2) % 20000);
    if (!Number.isInteger(this.sourcePort) || this.sourcePort < 1 || this.sourcePort + this.engine.retries > 65535) {
      throw new RangeError(`source port ${this.sourcePort} leaves no room for ${this.engine.retries + 1} tries`);
    }
    this.#ipId = mix(this.#seed, 3, 4) & 0xffff;
    options.targets.forEach((t, i) => {
      if (t.length === 4 && !options.source) throw new RangeError('an IPv4 target needs an IPv4 source address');
      if (t.length === 16 && !options.source6) throw new RangeError('an IPv6 target needs an IPv6 source address');
      this.#hostIndex.set(addressKey(t), i);
    });
  }

  /** The cookie of a probe's sequence number: keyed by host and port, low 4 bits free for the try. */
  #cookie(host: number, port: number): number {
    return mix(this.#seed, host, port) & ~0xf;
  }

  handle(now: Instant, packet: Uint8Array, _iface: string): void {
    this.stats.received++;
    const before = this.stats.matched;
    if (packet.length > 0) {
      const version = packet[0]! >>> 4;
      if (version === 4) this.#handleV4(now, packet);
      else if (version === 6) this.#handleV6(now, packet);
    }
    if (this.stats.matched === before) this.stats.ignored++;
    this.#drain();
  }

  pollTransmit(now: Instant): Transmit | undefined {
    const reset = this.#resets.shift();
    if (reset) return { iface: this.iface, packet: reset };
    const probe = this.engine.pollProbe(now);
    this.#drain();
    if (!probe) return undefined;
    this.stats.probes++;
    return { iface: this.iface, packet: this.#probePacket(probe.host, probe.port, probe.tryNo) };
  }

  pollTimeout(): Instant | undefined {
    return this.engine.pollTimeout();
  }

  handleTimeout(now: Instant): void {
    this.engine.handleTimeout(now);
    this.#drain();
  }

  #drain(): void {
    for (let e = this.engine.pollEvent(); e !== undefined; e = this.engine.pollEvent()) this.#options.onEvent?.(e);
    if (this.engine.done && !this.#doneNotified) {
      this.#doneNotified = true;
      this.#options.onDone?.();
    }
  }

  #sourceFor(target: Uint8Array): Uint8Array {
    return target.length === 4 ? this.#options.source! : this.#options.source6!;
  }

  #probePacket(host: number, port: number, tryNo: number): Uint8Array {
    const dst = this.#options.targets[host]!;
    const src = this.#sourceFor(dst);
    this.#ipId = (this.#ipId + 1) & 0xffff;
    if (this.type === 'syn') {
      const repr = tcpRepr({
        srcPort: this.sourcePort + tryNo, dstPort: port, seqNumber: (this.#cookie(host, port) | tryNo) >>> 0,
        flags: TcpFlags.SYN, window: 1024, options: [{ kind: 'mss', value: this.#mss }],
      });
      return tcpDatagram(src, dst, repr, this.#ipId);
    }
    const udp = udpMessage(src, dst, this.sourcePort + tryNo, port, udpProbePayload(port));
    return ipDatagram(src, dst, IpProtocol.Udp, this.#ipId, udp.length, (buf, at) => { buf.set(udp, at); }, { dontFragment: false });
  }

  #handleV4(now: Instant, packet: Uint8Array): void {
    const ip = parseIpv4(packet);
    if (!ip.ok) return;
    const r = ip.value;
    if (r.moreFragments || r.fragmentOffset !== 0) return;
    if (!this.#options.source || !ipEquals(r.dst, this.#options.source)) return;
    if (r.protocol === IpProtocol.Icmp) {
      const icmp = parseIcmpv4(r.payload);
      if (!icmp.ok || icmp.value.type !== 'destination-unreachable') return;
      this.#handleUnreachable(now, r.src, icmp.value.invoking, 4, icmp.value.code, r.ttl);
      return;
    }
    this.#handleTransport(now, r.src, r.dst, r.protocol, r.payload, r.ttl);
  }

  #handleV6(now: Instant, packet: Uint8Array): void {
    const ip = parseIpv6(packet);
    if (!ip.ok) return;
    const r = ip.value;
    if (r.isNonFirstFragment || r.fragment !== undefined) return;
    if (!this.#options.source6 || !ipEquals(r.dst, this.#options.source6)) return;
    if (r.upperProtocol === IpProtocol.Icmpv6) {
      const icmp = parseIcmpv6(r.payload, r.src, r.dst);
      if (!icmp.ok || icmp.value.type !== 'destination-unreachable') return;
      this.#handleUnreachable(now, r.src, icmp.value.invoking, 6, icmp.value.code, r.hopLimit);
      return;
    }
    this.#handleTransport(now, r.src, r.dst, r.upperProtocol, r.payload, r.hopLimit);
  }

  #handleTransport(now: Instant, src: Uint8Array, dst: Uint8Array, protocol: number, payload: Uint8Array, ttl: number): void {
    const host = this.#hostIndex.get(addressKey(src));
    if (host === undefined) return;
    if (this.type === 'syn' && protocol === IpProtocol.Tcp) {
      const tcp = parseTcp(payload, src, dst);
      if (!tcp.ok) return;
      const seg = tcp.value;
      const tryNo = seg.dstPort - this.sourcePort;
      if (tryNo < 0 || tryNo > this.engine.retries) return;
      const verdict = tcpReplyVerdict(seg.flags);
      if (!verdict) return;
      if ((seg.flags & TcpFlags.ACK) !== 0) {
        // The reply acknowledges our SYN: SEG.ACK = ISS + 1, and ISS carries cookie | try.
        const iss = (seg.ackNumber - 1) >>> 0;
        if (iss >>> 0 !== (this.#cookie(host, seg.srcPort) | tryNo) >>> 0) return;
      }
      this.stats.matched++;
      this.engine.report(now, host, seg.srcPort, tryNo, verdict, { ttl, answered: true });
      if (verdict.state === 'open') {
        // Half-open: tear down what the target opened, RFC 9293's reset for a segment with no connection.
        const rst = resetFor(seg);
        if (rst) {
          this.#resets.push(tcpDatagram(dst, src, rst, this.#ipId = (this.#ipId + 1) & 0xffff));
          this.stats.resets++;
        }
      }
      return;
    }
    if (this.type === 'udp' && protocol === IpProtocol.Udp) {
      const udp = parseUdp(payload, src, dst);
      if (!udp.ok) return;
      const tryNo = udp.value.dstPort - this.sourcePort;
      if (tryNo < 0 || tryNo > this.engine.retries) return;
      this.stats.matched++;
      this.engine.report(now, host, udp.value.srcPort, tryNo, UDP_RESPONSE, { ttl, answered: true });
    }
  }

  #handleUnreachable(now: Instant, from: Uint8Array, invoking: Uint8Array, family: 4 | 6, code: number, ttl: number): void {
    const quoted = parseQuotedDatagram(invoking, family);
    if (!quoted.ok) return;
    const q = quoted.value;
    const ours = family === 4 ? this.#options.source : this.#options.source6;
    if (!ours || !ipEquals(q.src, ours)) return;
    const host = this.#hostIndex.get(addressKey(q.dst));
    if (host === undefined || q.srcPort === undefined || q.dstPort === undefined) return;
    let tryNo: number | undefined;
    if (this.type === 'syn') {
      if (q.protocol !== IpProtocol.Tcp) return;
      tryNo = q.srcPort - this.sourcePort;
      if (tryNo < 0 || tryNo > this.engine.retries) return;
      if (q.tcpSeq !== undefined && q.tcpSeq >>> 0 !== (this.#cookie(host, q.dstPort) | tryNo) >>> 0) return;
    } else {
      if (q.protocol !== IpProtocol.Udp) return;
      tryNo = q.srcPort - this.sourcePort;
      if (tryNo < 0 || tryNo > this.engine.retries) return;
    }
    const fromTarget = ipEquals(from, q.dst);
    const verdict = family === 4 ? icmpv4UnreachableVerdict(code, this.type, fromTarget) : icmpv6UnreachableVerdict(code, this.type, fromTarget);
    if (!verdict) return;
    this.stats.matched++;
    this.engine.report(now, host, q.dstPort, tryNo, verdict, { ttl, answered: fromTarget });
  }
}
