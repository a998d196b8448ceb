/**
 * Ephemeral port selection, as RFC 6056 recommends: Algorithm 3, "Simple Hash-Based Port
 * Selection" (section 3.3.3).
 *
 * Contract: the allocator owns the range (default 49152-65535, the IANA dynamic range of
 * RFC 6335 6) and a secret; it does not know the socket table. The caller passes a
 * predicate that says whether a port is free toward the destination at hand: for TCP, free
 * means no connection already uses that exact socket pair and no listener holds the port.
 * Because the offset is a keyed hash of (local address, remote address, remote port), the
 * ports used toward different destinations start at unrelated places in the range (an
 * off-path attacker cannot guess them), while consecutive connections to one destination
 * take consecutive ports, which keeps the reuse of a socket pair (and TIME-WAIT collisions)
 * as rare as possible. Every port of the range is tried before giving up, so `undefined`
 * means the range is exhausted toward that destination (EADDRNOTAVAIL): other destinations
 * may still get ports, and one port may serve many connections with different remote ends.
 */
import type { Endpoint } from './endpoint.js';
import { SipHash24 } from './siphash.js';

/** An inclusive port range. */
export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** The IANA dynamic and/or private port range (RFC 6335 6): what Linux calls ip_local_port_range on most systems. */
export const DEFAULT_EPHEMERAL_PORTS: PortRange = { low: 49152, high: 65535 };

/** Throws a RangeError unless `range` is a non-empty range of ports 1-65535. */
export function checkPortRange(range: PortRange): void {
  const { low, high } = range;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
    throw new RangeError(`ephemeral port range ${String(low)}-${String(high)} is not a non-empty range within 1-65535`);
  }
}

/** Writes `address` then a 16-bit port, big-endian, at `at`; returns the next offset. */
function put(buf: Uint8Array, at: number, address: Uint8Array, port?: number): number {
  buf.set(address, at);
  at += address.length;
  if (port !== undefined) {
    buf[at] = (port >>> 8) & 0xff;
    buf[at + 1] = port & 0xff;
    at += 2;
  }
  return at;
}

/** RFC 6056 Algorithm 3 over one port range. */
export class EphemeralPortAllocator {
  readonly range: PortRange;
  readonly #hash: SipHash24;
  /**
   * RFC 6056 3.3.3: `next_ephemeral = 0`, "Initialization code at system boot time.
   * Initialization value could be random." It advances by one per port tried, whatever the
   * destination, so a destination's next connection takes the port after its last one.
   */
  #next = 0;
  /** Scratch for the hash input: two IPv6 addresses and a port at most. */
  readonly #input = new Uint8Array(16 + 16 + 2);

  /** An allocator for `range` keyed by `secret` (16 bytes, from the host's seeded generator). */
  constructor(range: PortRange, secret: Uint8Array) {
    checkPortRange(range);
    this.range = { low: range.low, high: range.high };
    this.#hash = new SipHash24(secret);
  }

  /** How many ports the range holds. */
  get size(): number {
    return this.range.high - this.range.low + 1;
  }

  /** F(local_IP, remote_IP, remote_port, secret_key): SipHash-2-4 truncated to 32 bits. */
  offset(local: Uint8Array, remote: Endpoint): number {
    const n = put(this.#input, put(this.#input, 0, local), remote.address, remote.port);
    return this.#hash.hash32(this.#input.subarray(0, n));
  }

  /**
   * A port for a connection from `local` to `remote`, or undefined when every port of the
   * range is taken toward that destination. `isFree(port)` decides (RFC 6056's
   * check_suitable_port()).
   */
  allocate(local: Uint8Array, remote: Endpoint, isFree: (port: number) => boolean): number | undefined {
    // RFC 6056 3.3.3, Algorithm 3:
    //   offset = F(local_IP, remote_IP, remote_port, secret_key);
    //   count = num_ephemeral;
    //   do {
    //     port = min_ephemeral + (next_ephemeral + offset) % num_ephemeral;
    //     next_ephemeral++;
    //     if (check_suitable_port(port)) return port;
    //     count--;
    //   } while (count > 0);
    //   return ERROR;
    const size = this.size;
    const offset = this.offset(local, remote) % size;
    for (let count = size; count > 0; count--) {
      const port = this.range.low + ((this.#next % size) + offset) % size;
      this.#next = (this.#next + 1) % size;
      if (isFree(port)) return port;
    }
    return undefined;
  }

  /**
   * A port no socket uses at all (for a listener bound to port 0, Linux's bind() with port
   * 0): scanned from a random point that `start` (any 32-bit number) chooses.
   */
  allocateUnused(start: number, isUnused: (port: number) => boolean): number | undefined {
    const size = this.size;
    for (let i = 0; i < size; i++) {
      const port = this.range.low + ((start % size) + i) % size;
      if (isUnused(port)) return port;
    }
    return undefined;
  }
}

/** The three port ranges of IANA (RFC 6335 6). */
export type IanaPortRange = 'well-known' | 'registered' | 'dynamic';

/**
 * The IANA ranges (RFC 6335 6): "the System Ports, also known as the Well Known Ports, from
 * 0-1023 (assigned by IANA)", "the User Ports, also known as the Registered Ports, from
 * 1024-49151 (assigned by IANA)", "the Dynamic Ports, also known as the Private or Ephemeral
 * Ports, from 49152-65535 (never assigned)". The same for TCP and UDP.
 */
export const IANA_PORT_RANGES: Readonly<Record<IanaPortRange, PortRange>> = Object.freeze({
  'well-known': Object.freeze({ low: 0, high: 1023 }),
  'registered': Object.freeze({ low: 1024, high: 49151 }),
  'dynamic': Object.freeze({ low: 49152, high: 65535 }),
});

/** Ports below this need the host's `privileged` option (EACCES otherwise), as on Unix. */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** The IANA range `port` belongs to; RangeError unless it is an integer in 0..65535. */
export function portRange(port: number): IanaPortRange {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${String(port)} is not an integer in 0..65535`);
  if (port < 1024) return 'well-known';
  return port < 49152 ? 'registered' : 'dynamic';
}

/** True when binding `port` needs privilege: a well-known port other than 0 (which asks for an ephemeral one). */
export function isPrivilegedPort(port: number): boolean {
  return port !== 0 && port < FIRST_UNPRIVILEGED_PORT;
}
