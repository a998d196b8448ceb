/**
 * Initial sequence numbers as RFC 6528 ("Defending against Sequence Number Attacks") and
 * RFC 9293 3.4.1 specify them:
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * "where M is the 4 microsecond timer, and F() is a pseudorandom function (PRF) of the
 * connection-id parameters (localip, localport, remoteip, remoteport) and a secret key"
 * (RFC 6528 3). M comes from the driver's clock (`now` in microseconds, divided by 4), F is
 * SipHash-2-4 truncated to 32 bits, as Linux does it, and the key is drawn from the host's
 * seeded generator. So: the ISNs of different socket pairs are unrelated, the ISNs of one
 * socket pair advance with time (a new incarnation starts above the old one's sequence
 * space, RFC 9293 3.4.1), and the same seed replays the same numbers.
 */
import type { Instant } from '../time/instant.js';
import type { SeqNumber } from '../wire/seq.js';
import type { Endpoint } from './endpoint.js';
import { SipHash24 } from './siphash.js';

/** RFC 6528 3: M ticks every 4 microseconds. */
export const ISN_TICK_MICROS = 4;

/** Writes `e`'s address and port (big-endian) at `b[at]`; returns the offset after them. */
function put(b: Uint8Array, at: number, e: Endpoint): number {
  const a = e.address;
  for (let i = 0; i < a.length; i++) b[at + i] = a[i]!;
  const end = at + a.length;
  b[end] = (e.port >>> 8) & 0xff;
  b[end + 1] = e.port & 0xff;
  return end + 2;
}

/** The ISN generator of one host. */
export class IsnGenerator {
  readonly #hash: SipHash24;
  /** Two IPv6 addresses and two ports at most. */
  readonly #input = new Uint8Array(2 * (16 + 2));

  /** A generator keyed by `secret` (16 bytes). */
  constructor(secret: Uint8Array) {
    this.#hash = new SipHash24(secret);
  }

  /** F(localip, localport, remoteip, remoteport, secretkey). */
  hash(local: Endpoint, remote: Endpoint): number {
    const at = put(this.#input, put(this.#input, 0, local), remote);
    return this.#hash.hash32(this.#input.subarray(0, at));
  }

  /** The ISN for a connection from `local` to `remote` opened at `now`. */
  isn(now: Instant, local: Endpoint, remote: Endpoint): SeqNumber {
    const m = Math.floor(now / ISN_TICK_MICROS) % 0x1_0000_0000;
    return (m + this.hash(local, remote)) >>> 0;
  }
}
