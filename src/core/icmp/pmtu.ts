/**
 * The path MTU cache: what fragmentation-needed (RFC 1191) and packet-too-big (RFC 8201)
 * messages taught the host about the paths to its destinations.
 *
 * Contract: entries are keyed by destination address and only ever lower the estimate
 * (RFC 1191 3: "a host MUST never raise its estimate of PMTU in response to a Datagram Too
 * Big message"); they never go below the family's minimum, 68 for IPv4 (RFC 791, RFC 1191 3)
 * and 1280 for IPv6 (RFC 8201 4: "A node MUST NOT reduce its estimate of the Path MTU below
 * the IPv6 minimum link MTU"). An entry ages out after {@link PMTU_LIFETIME} (RFC 1191 6.3
 * and RFC 8201 4 suggest 10 minutes, Linux's net.ipv4.route.mtu_expires is 600 s), after
 * which the interface MTU applies again: that is how the host discovers an increase. The
 * cache holds at most `capacity` destinations; the oldest update goes first. An IPv4 message
 * without an MTU (an old router: RFC 1191 5) is answered with the plateau below the length of
 * the datagram it quotes (RFC 1191 7).
 *
 * Linux floors the IPv4 path MTU at 552 (net.ipv4.route.min_pmtu) against forged messages;
 * l4 keeps RFC 1191's 68 but believes a message only when it quotes a datagram one of its
 * sockets sent (the host checks that, and the TCP sequence number, RFC 5927, before asking).
 */
import type { Duration, Instant } from '../../time/instant.js';
import { seconds } from '../../time/instant.js';

/** How long a learned path MTU is trusted. */
export const PMTU_LIFETIME: Duration = seconds(600);
/** Smallest path MTU for IPv4 (RFC 791: every host takes 68-octet datagrams). */
export const MIN_PMTU_IPV4 = 68;
/** Smallest path MTU for IPv6 (RFC 8200 5). */
export const MIN_PMTU_IPV6 = 1280;
/** Destinations remembered at most. */
export const PMTU_CACHE_CAPACITY = 4096;

/** RFC 1191 7, table 7-1: the MTU plateaus. */
export const MTU_PLATEAUS: readonly number[] = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** The largest plateau strictly below `length` (RFC 1191 5: "the next lower plateau"), at least 68. */
export function plateauBelow(length: number): number {
  for (const p of MTU_PLATEAUS) if (p < length) return p;
  return MIN_PMTU_IPV4;
}

interface Entry {
  readonly mtu: number;
  readonly expires: Instant;
}

function keyOf(address: Uint8Array): string {
  let s = '';
  for (let i = 0; i < address.length; i++) s += String.fromCharCode(address[i]!);
  return s;
}

/** Path MTUs by destination. */
export class PathMtuCache {
  readonly #entries = new Map<string, Entry>();
  readonly capacity: number;
  readonly lifetime: Duration;

  constructor(capacity = PMTU_CACHE_CAPACITY, lifetime: Duration = PMTU_LIFETIME) {
    this.capacity = capacity;
    this.lifetime = lifetime;
  }

  /** Destinations remembered (expired ones included until looked up or pushed out). */
  get size(): number {
    return this.#entries.size;
  }

  /** The path MTU learned for `dst`, or undefined when nothing (still) applies. */
  get(now: Instant, dst: Uint8Array): number | undefined {
    const k = keyOf(dst);
    const e = this.#entries.get(k);
    if (e === undefined) return undefined;
    if (now >= e.expires) {
      this.#entries.delete(k);
      return undefined;
    }
    return e.mtu;
  }

  /**
   * A message says datagrams to `dst` larger than `reported` do not get through, while the
   * current estimate is `current`: the new estimate, floored at the family's minimum, if it
   * is lower than `current`; undefined (nothing learned) otherwise.
   */
  lower(now: Instant, dst: Uint8Array, reported: number, current: number): number | undefined {
    const floor = dst.length === 4 ? MIN_PMTU_IPV4 : MIN_PMTU_IPV6;
    const mtu = Math.max(floor, Math.floor(reported));
    if (!(mtu < current)) return undefined;
    const k = keyOf(dst);
    this.#entries.delete(k);
    if (this.#entries.size >= this.capacity) {
      for (const oldest of this.#entries.keys()) {
        this.#entries.delete(oldest);
        break;
      }
    }
    this.#entries.set(k, { mtu, expires: now + this.lifetime });
    return mtu;
  }
}
