/**
 * Small fake nodes for the virtual network's tests (the real Host is not used here on
 * purpose): a scripted node that sends numbered IPv4/UDP datagrams at given instants and
 * logs what it receives, and an echo node that sends every IPv4 datagram back with source
 * and destination swapped. Packets are real (built with `emitIpv4` and `emitUdp`) so that
 * taps write valid captures and corruption shows up as bad checksums.
 */
import type { NetworkNode, Transmit } from '../../../src/core/node.js';
import type { Instant } from '../../../src/time/instant.js';
import { parseIpAddress } from '../../../src/wire/address.js';
import { IpProtocol } from '../../../src/wire/ip-protocol.js';
import { emitIpv4, ipv4HeaderChecksumValid } from '../../../src/wire/ipv4.js';
import { emitUdp, udpChecksumValid } from '../../../src/wire/udp.js';

export const A = parseIpAddress('10.0.0.1')!;
export const B = parseIpAddress('10.0.0.2')!;
export const C = parseIpAddress('10.0.0.3')!;

/** IPv4 + UDP headers of every datagram built here. */
export const HEADERS = 28;

/**
 * An IPv4/UDP datagram of `size` bytes in all (at least 32) from `src` to `dst` whose payload
 * starts with the big-endian number `seq` (the rest is a pattern).
 */
export function datagram(seq: number, size: number, src: Uint8Array = A, dst: Uint8Array = B): Uint8Array {
  if (size < HEADERS + 4) throw new RangeError(`datagram of ${size} bytes cannot carry a sequence number`);
  const payload = new Uint8Array(size - HEADERS);
  new DataView(payload.buffer).setUint32(0, seq);
  for (let i = 4; i < payload.length; i++) payload[i] = (seq + i) & 0xff;
  const udp = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort: 40000, dstPort: 9, payload }, udp, 0, src, dst);
  const out = new Uint8Array(size);
  emitIpv4({
    src, dst, protocol: IpProtocol.Udp, ttl: 64, dscp: 0, ecn: 0, identification: seq & 0xffff,
    dontFragment: true, moreFragments: false, fragmentOffset: 0, options: new Uint8Array(0), payload: udp,
  }, out);
  return out;
}

/** The sequence number of a datagram built by {@link datagram} (read without any checks). */
export function seqOf(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(HEADERS);
}

/** True when the IPv4 header checksum and the UDP checksum both verify. */
export function checksumsOk(packet: Uint8Array): boolean {
  if (!ipv4HeaderChecksumValid(packet)) return false;
  const headerLength = (packet[0]! & 0x0f) * 4;
  return udpChecksumValid(packet.subarray(headerLength), packet.subarray(12, 16), packet.subarray(16, 20)) === true;
}

/** A FIFO of packets to send with O(1) shift. */
class Outbox {
  #items: Transmit[] = [];
  #head = 0;

  push(t: Transmit): void {
    this.#items.push(t);
  }

  shift(): Transmit | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const t = this.#items[this.#head++];
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return t;
  }
}

/** One packet a node received. */
export interface Arrival {
  readonly at: Instant;
  readonly iface: string;
  readonly seq: number;
  readonly length: number;
  readonly intact: boolean;
  readonly packet: Uint8Array;
}

/** A packet to send at an instant. */
export interface Scheduled {
  readonly at: Instant;
  readonly iface?: string;
  readonly packet: Uint8Array;
}

/**
 * Sends its schedule (sorted by instant) and records every arrival. `send` queues a packet
 * now, as application code would (the caller then wakes the network). The default
 * interface is `eth0`.
 */
export class ScriptedNode implements NetworkNode {
  readonly received: Arrival[] = [];
  readonly #schedule: Scheduled[];
  #next = 0;
  readonly #out = new Outbox();
  timeouts = 0;

  constructor(schedule: Scheduled[] = []) {
    this.#schedule = [...schedule].sort((x, y) => x.at - y.at);
  }

  /** A node sending `count` datagrams of `size` bytes: the i-th at `start + i * spacing`. */
  static source(count: number, size: number, options: { start?: Instant; spacing?: number; src?: Uint8Array; dst?: Uint8Array } = {}): ScriptedNode {
    const schedule: Scheduled[] = [];
    for (let i = 0; i < count; i++) {
      schedule.push({ at: (options.start ?? 0) + i * (options.spacing ?? 0), packet: datagram(i, size, options.src, options.dst) });
    }
    return new ScriptedNode(schedule);
  }

  /** Queue a packet now (application style). */
  send(packet: Uint8Array, iface = 'eth0'): void {
    this.#out.push({ iface, packet });
  }

  /** Sequence numbers received, in arrival order. */
  get seqs(): number[] {
    return this.received.map((r) => r.seq);
  }

  /** Arrival log as text lines (for determinism comparisons). */
  log(): string[] {
    return this.received.map((r) => `${r.at} ${r.iface} ${r.seq} ${r.length} ${r.intact ? 'ok' : 'bad'}`);
  }

  handle(now: Instant, packet: Uint8Array, iface: string): void {
    this.received.push({ at: now, iface, seq: seqOf(packet), length: packet.length, intact: checksumsOk(packet), packet });
  }

  pollTransmit(_now: Instant): Transmit | undefined {
    return this.#out.shift();
  }

  pollTimeout(): Instant | undefined {
    return this.#schedule[this.#next]?.at;
  }

  handleTimeout(now: Instant): void {
    this.timeouts++;
    while (this.#next < this.#schedule.length && this.#schedule[this.#next]!.at <= now) {
      const s = this.#schedule[this.#next++]!;
      this.#out.push({ iface: s.iface ?? 'eth0', packet: s.packet });
    }
  }
}

/** Sends every IPv4 datagram back on the interface it came from, addresses swapped. */
export class EchoNode implements NetworkNode {
  readonly #out = new Outbox();
  echoed = 0;

  handle(_now: Instant, packet: Uint8Array, iface: string): void {
    if (packet.length < 20 || packet[0]! >>> 4 !== 4) return;
    // Swapping two 32-bit words leaves every ones' complement sum (header, pseudo-header) unchanged.
    const reply = packet.slice();
    reply.set(packet.subarray(16, 20), 12);
    reply.set(packet.subarray(12, 16), 16);
    this.#out.push({ iface, packet: reply });
    this.echoed++;
  }

  pollTransmit(_now: Instant): Transmit | undefined {
    return this.#out.shift();
  }

  pollTimeout(): Instant | undefined {
    return undefined;
  }

  handleTimeout(_now: Instant): void {
    // No timers.
  }
}

/** A node whose timer is always due (a buggy node): to show step limits stop a livelock. */
export class StuckTimerNode implements NetworkNode {
  calls = 0;
  handle(): void {}
  pollTransmit(): Transmit | undefined {
    return undefined;
  }
  pollTimeout(): Instant | undefined {
    return 0;
  }
  handleTimeout(): void {
    this.calls++;
  }
}
