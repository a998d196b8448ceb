/**
 * The UDP socket table: binding rules and demultiplexing (RFC 768 leaves both to the host;
 * l4 follows Linux's udp_lib_lport_inuse and compute_score).
 *
 * Contract: sockets are filed by port, in bind order. The UDP port space is independent of
 * TCP's (TCP 53 and UDP 53 at once). Binding rules:
 *
 * - two bindings on one port conflict when they cover a common address (the same address;
 *   a wildcard and an address of its family; the dual-stack wildcard and anything) unless
 *   both sockets asked for `reuseAddress` (SO_REUSEADDR: then even identical bindings share
 *   the port, as on Linux);
 * - port 0 takes a port no UDP socket uses.
 *
 * Unicast demultiplexing picks, among the sockets on the destination port whose local address
 * covers the destination and which are either unconnected or connected to exactly the
 * datagram's source, the most specific: a specific local address scores 4, a connected remote
 * end 4, a single-family binding 1; among equals the socket bound last wins (Linux adds
 * sockets at the head of its hash chain). A datagram to a broadcast address goes to every
 * matching socket that allows broadcast (a wildcard of IPv4 or dual-stack, or bound to that
 * very broadcast address).
 */
import { ipEquals } from '../../wire/address.js';
import { isUnspecified } from '../interfaces.js';
import type { UdpSocket } from './socket.js';

/** True when the socket's current local address takes datagrams to `address`. */
function covers(socket: UdpSocket, address: Uint8Array): boolean {
  if (socket.dualStack && socket.remote === undefined) return true;
  const local = socket.local.address;
  if (local.length !== address.length) return false;
  return isUnspecified(local) || ipEquals(local, address);
}

/** True when two bindings (undefined: dual-stack wildcard) cover a common address. */
function overlap(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (a.length !== b.length) return false;
  return isUnspecified(a) || isUnspecified(b) || ipEquals(a, b);
}

/** UDP sockets of one host. */
export class UdpSocketTable {
  readonly #byPort = new Map<number, UdpSocket[]>();
  #count = 0;

  /** Sockets in the table. */
  get size(): number {
    return this.#count;
  }

  /** Every socket, by port, in bind order. */
  sockets(): UdpSocket[] {
    const out: UdpSocket[] = [];
    for (const list of this.#byPort.values()) out.push(...list);
    return out;
  }

  /** Sockets bound to `port`, in bind order. */
  onPort(port: number): readonly UdpSocket[] {
    return this.#byPort.get(port) ?? [];
  }

  /** True when a new binding of `address` (undefined: dual-stack) on `port` would conflict (module doc). */
  bindConflict(address: Uint8Array | undefined, port: number, reuseAddress: boolean): boolean {
    for (const other of this.onPort(port)) {
      if (overlap(address, other.boundAddress) && !(reuseAddress && other.reuseAddress)) return true;
    }
    return false;
  }

  /** True when no UDP socket uses `port`. */
  portUnused(port: number): boolean {
    return !this.#byPort.has(port);
  }

  add(socket: UdpSocket): void {
    let list = this.#byPort.get(socket.port);
    if (list === undefined) this.#byPort.set(socket.port, (list = []));
    list.push(socket);
    this.#count++;
  }

  remove(socket: UdpSocket): void {
    const list = this.#byPort.get(socket.port);
    if (list === undefined) return;
    const i = list.indexOf(socket);
    if (i < 0) return;
    list.splice(i, 1);
    this.#count--;
    if (list.length === 0) this.#byPort.delete(socket.port);
  }

  /** The socket a unicast datagram from `src`:`srcPort` to `dst`:`dstPort` goes to (module doc), or undefined. */
  lookup(dst: Uint8Array, dstPort: number, src: Uint8Array, srcPort: number): UdpSocket | undefined {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const s of this.onPort(dstPort)) {
      const score = this.#score(s, dst, src, srcPort);
      // >= : among equals, the one bound last.
      if (score >= 0 && score >= bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  /** Every socket allowing broadcast that a datagram to the broadcast address `dst` reaches. */
  broadcastTargets(dst: Uint8Array, dstPort: number, src: Uint8Array, srcPort: number): UdpSocket[] {
    return this.onPort(dstPort).filter((s) => s.broadcast && this.#score(s, dst, src, srcPort) >= 0);
  }

  /** The connected socket that sent a datagram from `local`:`localPort` to `remote`:`remotePort`, if any. */
  connected(local: Uint8Array, localPort: number, remote: Uint8Array, remotePort: number): UdpSocket | undefined {
    for (const s of this.onPort(localPort)) {
      const r = s.remote;
      if (r !== undefined && r.port === remotePort && ipEquals(r.address, remote) && ipEquals(s.local.address, local)) return s;
    }
    return undefined;
  }

  /** True when some socket on `localPort` could have sent from `local` (for ICMP messages about unconnected sockets). */
  couldHaveSent(local: Uint8Array, localPort: number): boolean {
    return this.onPort(localPort).some((s) => covers(s, local) || ipEquals(s.local.address, local));
  }

  #score(s: UdpSocket, dst: Uint8Array, src: Uint8Array, srcPort: number): number {
    if (s.closed || !covers(s, dst)) return -1;
    let score = 0;
    const local = s.local.address;
    if (local.length === dst.length) {
      score += 1;
      if (!isUnspecified(local)) score += 4;
    }
    const r = s.remote;
    if (r !== undefined) {
      if (r.port !== srcPort || !ipEquals(r.address, src)) return -1;
      score += 4;
    }
    return score;
  }
}
