/**
 * A learning switch for several nodes on one segment. The virtual network carries bare IP
 * datagrams (no link-layer header), so the switch works at layer 3 the way an Ethernet
 * switch works at layer 2: it learns on which port each source IP address lives, forwards a
 * datagram to the port of its destination address, and floods a datagram whose destination
 * it has not learned (or a broadcast or multicast one) to every port but the one it came in
 * on. A datagram whose destination lives on its own ingress port is filtered (dropped).
 *
 * Contract: the switch is an ordinary `NetworkNode` added to the network by
 * `VirtualNetwork.switch`; its ports are interfaces named `port1`, `port2`, … created by
 * `VirtualNetwork.attach`, each joined to one node by a `VirtualLink` (so every hop between
 * two hosts crosses two links, each with its own impairments). Forwarding takes no time:
 * a datagram handled at `now` leaves at `now`. The table never ages; an address seen on a
 * new port moves there. Datagrams it cannot read an address from (neither IPv4 nor IPv6,
 * or too short) are dropped and counted; checksums are not checked (a switch does not).
 */
import type { NetworkNode, Transmit } from '../../core/node.js';
import type { Instant } from '../../time/instant.js';
import { formatIp } from '../../wire/address.js';

/** Counters of a switch. */
export interface SwitchStats {
  /** Datagrams sent to the one port their destination was learned on. */
  forwarded: number;
  /** Datagrams sent to every other port (unknown, broadcast or multicast destination). */
  flooded: number;
  /** Datagrams dropped because their destination lives on their ingress port. */
  filtered: number;
  /** Datagrams dropped because no IP addresses could be read from them. */
  malformed: number;
}

/** An IPv4 address as a number, an IPv6 one as a 16-character string: cheap exact map keys. */
type AddressKey = number | string;

function addressKey(packet: Uint8Array, offset: number, length: number): AddressKey {
  if (length === 4) {
    return ((packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!) >>> 0;
  }
  return String.fromCharCode(...packet.subarray(offset, offset + length));
}

/** True for addresses that name a group, not one host: IPv4 multicast and limited broadcast, IPv6 multicast. */
function isGroup(packet: Uint8Array, offset: number, length: number): boolean {
  const first = packet[offset]!;
  if (length === 16) return first === 0xff;
  if (first >= 224 && first <= 239) return true;
  return first === 255 && packet[offset + 1] === 255 && packet[offset + 2] === 255 && packet[offset + 3] === 255;
}

/** A learning IP switch (see the module doc). */
export class VirtualSwitch implements NetworkNode {
  readonly name: string;
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, filtered: 0, malformed: 0 };
  readonly #ports: string[] = [];
  readonly #table = new Map<AddressKey, string>();
  #out: Transmit[] = [];
  #outHead = 0;

  /** Made by `VirtualNetwork.switch`. */
  constructor(name: string) {
    this.name = name;
  }

  /** Port names, in the order they were added. */
  get ports(): readonly string[] {
    return this.#ports;
  }

  /** Opens a new port (done by `VirtualNetwork.attach`) and returns its interface name. */
  addPort(): string {
    const port = `port${this.#ports.length + 1}`;
    this.#ports.push(port);
    return port;
  }

  /** The learned table: address text -> port, for observability. */
  table(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, port] of this.#table) {
      const bytes = typeof key === 'number'
        ? Uint8Array.of(key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff)
        : Uint8Array.from(key, (c) => c.charCodeAt(0));
      out.set(formatIp(bytes), port);
    }
    return out;
  }

  handle(_now: Instant, packet: Uint8Array, iface: string): void {
    const version = packet.length > 0 ? packet[0]! >>> 4 : 0;
    let srcOffset: number;
    let length: number;
    if (version === 4 && packet.length >= 20) {
      srcOffset = 12;
      length = 4;
    } else if (version === 6 && packet.length >= 40) {
      srcOffset = 8;
      length = 16;
    } else {
      this.stats.malformed++;
      return;
    }
    const dstOffset = srcOffset + length;
    if (!isGroup(packet, srcOffset, length)) this.#table.set(addressKey(packet, srcOffset, length), iface);
    const port = isGroup(packet, dstOffset, length) ? undefined : this.#table.get(addressKey(packet, dstOffset, length));
    if (port === iface) {
      this.stats.filtered++;
    } else if (port !== undefined) {
      this.#out.push({ iface: port, packet });
      this.stats.forwarded++;
    } else {
      // Flood: the first port gets the datagram, the others copies (a receiver may write into its packet).
      let first = true;
      for (const p of this.#ports) {
        if (p === iface) continue;
        this.#out.push({ iface: p, packet: first ? packet : packet.slice() });
        first = false;
      }
      this.stats.flooded++;
    }
  }

  pollTransmit(_now: Instant): Transmit | undefined {
    if (this.#outHead >= this.#out.length) return undefined;
    const t = this.#out[this.#outHead++];
    if (this.#outHead === this.#out.length) {
      this.#out = [];
      this.#outHead = 0;
    }
    return t;
  }

  pollTimeout(): Instant | undefined {
    return undefined;
  }

  handleTimeout(_now: Instant): void {
    // A switch has no timers.
  }
}
