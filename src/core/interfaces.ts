/**
 * A host's interfaces, their addresses and its route table.
 *
 * Contract: `InterfaceTable` is built once from a host's configuration and validated then
 * (a bad configuration is a programmer error: `RangeError` with the offending text). Each
 * interface has a name, an MTU and addresses with prefix lengths (`10.0.0.1/24`,
 * `fd00::1/64`). Every address gives a connected route to its prefix on its interface;
 * configured routes (a default route `0.0.0.0/0` or `::/0`, or any other prefix, with an
 * optional gateway) come after them. `route(dst)` picks the longest matching prefix (the
 * earliest listed among equals, connected routes first) and a source address on the
 * outgoing interface (RFC 6724 section 5, much simplified: an address whose prefix holds the
 * destination, else one whose prefix holds the next hop, else the interface's first address
 * of that family, else an address of that family on another (non-loopback) interface: the
 * weak host model of RFC 1122 3.3.4.2). A destination that is one of the host's own
 * addresses is routed locally (`local: true`): the host loops such packets back to itself
 * without a driver.
 *
 * An implicit loopback interface `lo` (127.0.0.1/8, ::1/128; MTU 16436, the MTU Linux gave
 * `lo` for years) is added unless the configuration names an interface `lo` itself or turns
 * it off: every address of its prefixes counts as the host's own, as on Linux.
 *
 * Checksums (smoltcp's `ChecksumCapabilities`, reduced to the one switch l4 needs): every
 * interface starts 'verified', the host computing every checksum it sends and verifying
 * every one it receives. The driver of a link that delivers each packet bit for bit as sent
 * (a virtual link without corruption, in one process) may declare the interface 'trusted'
 * (`setChecksums`): the host then neither computes nor verifies the IPv4 header, TCP, UDP or
 * ICMP checksums of what crosses it, as smoltcp does with `Checksum::None`. That is the only
 * way to turn it on; it is off by default, per interface, and a driver for a real device
 * (TUN) pins its interface with `requireChecksums`, after which trusting it throws.
 */
import { formatIp, ipEquals, ipv4Number, parseIpAddress } from '../wire/address.js';

/** The configuration of one interface. */
export interface InterfaceConfig {
  readonly name: string;
  /** Addresses with prefix lengths: `'10.0.0.1/24'`, `'fd00::1/64'`. */
  readonly addresses: readonly string[];
  /** Largest IP datagram the interface carries; default 1500. */
  readonly mtu?: number;
}

/** The configuration of one route. */
export interface RouteConfig {
  /** A prefix: `'0.0.0.0/0'`, `'::/0'`, `'192.168.0.0/16'`. Host bits must be zero. */
  readonly destination: string;
  /** The next hop, on a prefix connected to `iface`; absent for an on-link route. */
  readonly gateway?: string;
  readonly iface: string;
}

/** An address assigned to an interface, with its prefix length. */
export interface InterfaceAddress {
  readonly address: Uint8Array;
  readonly prefixLength: number;
}

/**
 * How a host treats the Internet checksums on an interface (see the module doc): 'verified'
 * computes and verifies them all; 'trusted' skips them, for a link that cannot corrupt.
 */
export type InterfaceChecksums = 'verified' | 'trusted';

/** An interface as the host knows it. */
export interface NetworkInterface {
  readonly name: string;
  readonly mtu: number;
  readonly addresses: readonly InterfaceAddress[];
  /** The host's loopback interface: what is routed to it never leaves the host. */
  readonly loopback: boolean;
  /** 'verified' unless its driver declared the link trusted. */
  readonly checksums: InterfaceChecksums;
}

/** One entry of the route table. */
export interface Route {
  /** The prefix (host bits zero) and its length. */
  readonly destination: Uint8Array;
  readonly prefixLength: number;
  readonly gateway: Uint8Array | undefined;
  readonly iface: string;
  /** 'connected' routes come from interface addresses; 'static' ones from the configuration. */
  readonly kind: 'connected' | 'static';
}

/** Where a packet to some destination goes. */
export interface RouteResult {
  /** The outgoing interface. */
  readonly iface: string;
  /** The source address to use: one of the host's own. */
  readonly source: Uint8Array;
  /** The gateway, or the destination itself when it is on link. */
  readonly nextHop: Uint8Array;
  /** The MTU of `iface`. */
  readonly mtu: number;
  /** True when the destination is the host itself: the packet is looped back, never sent. */
  readonly local: boolean;
}

/** Default MTU of an interface (Ethernet). */
export const DEFAULT_MTU = 1500;
/** MTU of the implicit loopback interface. */
export const LOOPBACK_MTU = 16436;
/** Name of the implicit loopback interface. */
export const LOOPBACK_NAME = 'lo';
/** Smallest MTU an IPv4 interface may have (RFC 791: every host must take 68-octet datagrams). */
export const MIN_MTU_IPV4 = 68;
/** Smallest MTU an IPv6 interface may have (RFC 8200 5). */
export const MIN_MTU_IPV6 = 1280;
/** Largest MTU: the biggest datagram the IPv4 total length and IPv6 payload length allow. */
export const MAX_MTU = 65535;

/** Parses `'10.0.0.1/24'` or `'fd00::1/64'`; null when malformed. */
export function parseCidr(text: string): InterfaceAddress | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === null || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  if (prefixLength > address.length * 8) return null;
  return { address, prefixLength };
}

/** True when the first `prefixLength` bits of `address` equal those of `prefix` (same family). */
export function prefixContains(prefix: Uint8Array, prefixLength: number, address: Uint8Array): boolean {
  if (prefix.length !== address.length) return false;
  const whole = prefixLength >>> 3;
  for (let i = 0; i < whole; i++) if (prefix[i] !== address[i]) return false;
  const rest = prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (prefix[whole]! & mask) === (address[whole]! & mask);
}

/** `address` with every bit past `prefixLength` cleared (a copy). */
export function maskAddress(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = address.slice();
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >>> 3]! &= ~(0x80 >>> (bit & 7));
  return out;
}

/** True for 0.0.0.0 and ::. */
export function isUnspecified(address: Uint8Array): boolean {
  // A loop, not every(): this runs on every segment received.
  for (let i = 0; i < address.length; i++) if (address[i] !== 0) return false;
  return true;
}

/** True for addresses no unicast packet may come from or go to: IPv4 multicast and limited broadcast, IPv6 multicast. */
export function isMulticastOrBroadcast(address: Uint8Array): boolean {
  if (address.length === 4) return isMulticastOrBroadcastIpv4(ipv4Number(address));
  return address[0] === 0xff;
}

/** {@link isMulticastOrBroadcast} for an IPv4 address given as a number (`ipv4Number`): 224.0.0.0/4 and 255.255.255.255. */
export function isMulticastOrBroadcastIpv4(address: number): boolean {
  return (address >>> 28) === 0xe || address === 0xffffffff;
}

/** The unspecified address of a family: 0.0.0.0 (4 bytes) or :: (16 bytes). */
export function unspecifiedAddress(length: 4 | 16): Uint8Array {
  return new Uint8Array(length);
}

/** Options of {@link InterfaceTable}. */
export interface InterfaceTableOptions {
  /** Add the implicit `lo` interface (127.0.0.1/8, ::1/128); default true. */
  readonly loopback?: boolean;
}

/** Interfaces, addresses and routes of one host: validated at construction, then read-only. */
export class InterfaceTable {
  readonly #interfaces = new Map<string, NetworkInterface>();
  readonly #routes: Route[] = [];
  /** The IPv4 addresses of every interface, as numbers: `isLocalIpv4` without a walk or an allocation. */
  readonly #localIpv4 = new Set<number>();
  /** The IPv4 prefixes of loopback interfaces (every address in them is local), network and mask. */
  readonly #loopbackIpv4: { readonly network: number; readonly mask: number }[] = [];
  /** Interfaces whose checksums may never be skipped (`requireChecksums`). */
  readonly #pinned = new Set<string>();

  /** Builds and validates the table; throws RangeError naming what is wrong. */
  constructor(interfaces: readonly InterfaceConfig[], routes: readonly RouteConfig[] = [], options: InterfaceTableOptions = {}) {
    if (!Array.isArray(interfaces)) throw new RangeError('interfaces must be an array');
    for (const config of interfaces) this.#addInterface(config, false);
    if (options.loopback !== false && !this.#interfaces.has(LOOPBACK_NAME)) {
      this.#addInterface({ name: LOOPBACK_NAME, addresses: ['127.0.0.1/8', '::1/128'], mtu: LOOPBACK_MTU }, true);
    }
    for (const config of routes) this.#addRoute(config);
  }

  #addInterface(config: InterfaceConfig, loopback: boolean): void {
    const name = config.name;
    if (typeof name !== 'string' || name === '') throw new RangeError('an interface needs a non-empty name');
    if (this.#interfaces.has(name)) throw new RangeError(`interface '${name}' is configured twice`);
    const mtu = config.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU_IPV4 || mtu > MAX_MTU) {
      throw new RangeError(`interface '${name}': MTU ${mtu} is not an integer in ${MIN_MTU_IPV4}..${MAX_MTU}`);
    }
    const addresses: InterfaceAddress[] = [];
    for (const text of config.addresses ?? []) {
      const parsed = typeof text === 'string' ? parseCidr(text) : null;
      if (parsed === null) throw new RangeError(`interface '${name}': '${String(text)}' is not an address with a prefix length (10.0.0.1/24, fd00::1/64)`);
      if (isUnspecified(parsed.address) || isMulticastOrBroadcast(parsed.address)) {
        throw new RangeError(`interface '${name}': ${text} is not a unicast address`);
      }
      if (parsed.address.length === 16 && mtu < MIN_MTU_IPV6) {
        throw new RangeError(`interface '${name}': MTU ${mtu} is below the ${MIN_MTU_IPV6} IPv6 requires (RFC 8200 5)`);
      }
      const owner = this.ownerOf(parsed.address) ?? (addresses.some((a) => ipEquals(a.address, parsed.address)) ? name : undefined);
      if (owner !== undefined) throw new RangeError(`interface '${name}': address ${formatIp(parsed.address)} is already on '${owner}'`);
      addresses.push(parsed);
    }
    this.#interfaces.set(name, { name, mtu, addresses, loopback, checksums: 'verified' });
    for (const a of addresses) {
      if (a.address.length !== 4) continue;
      this.#localIpv4.add(ipv4Number(a.address));
      if (loopback) {
        const mask = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
        this.#loopbackIpv4.push({ network: (ipv4Number(a.address) & mask) >>> 0, mask });
      }
    }
    for (const a of addresses) {
      this.#routes.push({ destination: maskAddress(a.address, a.prefixLength), prefixLength: a.prefixLength, gateway: undefined, iface: name, kind: 'connected' });
    }
  }

  #addRoute(config: RouteConfig): void {
    const where = `route ${String(config.destination)}${config.gateway !== undefined ? ` via ${config.gateway}` : ''} dev ${String(config.iface)}`;
    const prefix = typeof config.destination === 'string' ? parseCidr(config.destination) : null;
    if (prefix === null) throw new RangeError(`${where}: the destination is not a prefix (0.0.0.0/0, ::/0, 10.1.0.0/16)`);
    if (!ipEquals(maskAddress(prefix.address, prefix.prefixLength), prefix.address)) {
      throw new RangeError(`${where}: the destination has bits set past its prefix length`);
    }
    const iface = this.#interfaces.get(config.iface);
    if (iface === undefined) throw new RangeError(`${where}: no interface '${config.iface}'`);
    let gateway: Uint8Array | undefined;
    if (config.gateway !== undefined) {
      const parsed = parseIpAddress(config.gateway);
      if (parsed === null) throw new RangeError(`${where}: the gateway is not an address`);
      if (parsed.length !== prefix.address.length) throw new RangeError(`${where}: the gateway is not of the destination's family`);
      // Like Linux ("Nexthop has invalid gateway"), the gateway must be on a prefix of the interface.
      if (!iface.addresses.some((a) => prefixContains(a.address, a.prefixLength, parsed))) {
        throw new RangeError(`${where}: the gateway is not on a prefix of '${iface.name}'`);
      }
      gateway = parsed;
    }
    this.#routes.push({ destination: prefix.address, prefixLength: prefix.prefixLength, gateway, iface: iface.name, kind: 'static' });
  }

  /** Every interface, in configuration order (the implicit loopback last). */
  interfaces(): readonly NetworkInterface[] {
    return [...this.#interfaces.values()];
  }

  /** The interface called `name`. */
  get(name: string): NetworkInterface | undefined {
    return this.#interfaces.get(name);
  }

  /** The route table: connected routes, then configured ones. */
  routes(): readonly Route[] {
    return this.#routes;
  }

  /**
   * The interface that owns `address`, or undefined when it is not the host's. Every address
   * of the loopback interface's prefixes is the host's (127.0.0.2 is as local as 127.0.0.1).
   */
  ownerOf(address: Uint8Array): string | undefined {
    for (const iface of this.#interfaces.values()) {
      for (const a of iface.addresses) {
        if (ipEquals(a.address, address)) return iface.name;
        if (iface.loopback && prefixContains(a.address, a.prefixLength, address)) return iface.name;
      }
    }
    return undefined;
  }

  /** True when `address` is one of the host's own. */
  isLocal(address: Uint8Array): boolean {
    if (address.length === 4) return this.isLocalIpv4(ipv4Number(address));
    return this.ownerOf(address) !== undefined;
  }

  /** {@link isLocal} for an IPv4 address given as a number (`ipv4Number`): what the receive path asks of every packet. */
  isLocalIpv4(address: number): boolean {
    if (this.#localIpv4.has(address)) return true;
    for (const p of this.#loopbackIpv4) if (((address & p.mask) >>> 0) === p.network) return true;
    return false;
  }

  /**
   * Declares how the host treats checksums on interface `name` (see the module doc). Throws
   * a RangeError for an unknown interface, and for 'trusted' on an interface pinned by
   * `requireChecksums`.
   */
  setChecksums(name: string, checksums: InterfaceChecksums): void {
    const iface = this.#interfaces.get(name);
    if (iface === undefined) throw new RangeError(`no interface '${name}'`);
    if (checksums !== 'verified' && checksums !== 'trusted') throw new RangeError(`checksums '${String(checksums)}' is neither 'verified' nor 'trusted'`);
    if (checksums === 'trusted' && this.#pinned.has(name)) {
      throw new RangeError(`interface '${name}' is on a real device: its checksums are always computed and verified`);
    }
    this.#interfaces.set(name, { ...iface, checksums });
  }

  /**
   * Pins interface `name` to 'verified' for good: a driver of a real device (TUN) calls this,
   * since bits can flip between the kernel and anything beyond it. Throws a RangeError for an
   * unknown interface or one already trusted.
   */
  requireChecksums(name: string): void {
    const iface = this.#interfaces.get(name);
    if (iface === undefined) throw new RangeError(`no interface '${name}'`);
    if (iface.checksums !== 'verified') throw new RangeError(`interface '${name}' is trusted: a real device needs its checksums`);
    this.#pinned.add(name);
  }

  /** Where a packet to `dst` goes, or undefined when no route covers it or no source address fits. */
  route(dst: Uint8Array): RouteResult | undefined {
    if (dst.length !== 4 && dst.length !== 16) return undefined;
    const owner = this.ownerOf(dst);
    if (owner !== undefined) {
      const iface = this.#interfaces.get(owner)!;
      // A packet to ourselves carries our own address as its source, as Linux's local table does.
      return { iface: owner, source: dst.slice(), nextHop: dst.slice(), mtu: iface.mtu, local: true };
    }
    const best = this.#longestMatch(dst);
    if (best === undefined) return undefined;
    const iface = this.#interfaces.get(best.iface)!;
    const nextHop = best.gateway ?? dst;
    const source = this.#selectSource(iface, dst, nextHop);
    if (source === undefined) return undefined;
    return { iface: iface.name, source: source.slice(), nextHop: nextHop.slice(), mtu: iface.mtu, local: iface.loopback };
  }

  /**
   * The interface `route(dst)` would pick, its MTU, and whether it is the host itself, without
   * choosing a source or copying addresses (for answering a packet that arrived: one lookup per
   * SYN on a busy listener).
   */
  egress(dst: Uint8Array): { readonly iface: string; readonly mtu: number; readonly local: boolean } | undefined {
    if (dst.length !== 4 && dst.length !== 16) return undefined;
    const owner = this.ownerOf(dst);
    if (owner !== undefined) return { iface: owner, mtu: this.#interfaces.get(owner)!.mtu, local: true };
    const best = this.#longestMatch(dst);
    if (best === undefined) return undefined;
    const iface = this.#interfaces.get(best.iface)!;
    // As route(): no source address of the family, no route (the usual case, an address of
    // the family on the interface itself, is found without building the candidate list).
    const hasSource = iface.addresses.some((a) => a.address.length === dst.length) || this.#selectSource(iface, dst, best.gateway ?? dst) !== undefined;
    if (!hasSource) return undefined;
    return { iface: iface.name, mtu: iface.mtu, local: iface.loopback };
  }

  /** The route with the longest prefix containing `dst`. */
  #longestMatch(dst: Uint8Array): Route | undefined {
    let best: Route | undefined;
    for (const r of this.#routes) {
      if (best !== undefined && r.prefixLength <= best.prefixLength) continue;
      if (prefixContains(r.destination, r.prefixLength, dst)) best = r;
    }
    return best;
  }

  #selectSource(iface: NetworkInterface, dst: Uint8Array, nextHop: Uint8Array): Uint8Array | undefined {
    const family = iface.addresses.filter((a) => a.address.length === dst.length);
    const onLink = family.find((a) => prefixContains(a.address, a.prefixLength, dst))
      ?? family.find((a) => prefixContains(a.address, a.prefixLength, nextHop))
      ?? family[0];
    if (onLink !== undefined) return onLink.address;
    // Weak host model: any other address of the family (never a loopback one on the wire).
    for (const other of this.#interfaces.values()) {
      if (other.loopback) continue;
      const a = other.addresses.find((x) => x.address.length === dst.length);
      if (a !== undefined) return a.address;
    }
    return undefined;
  }
}
