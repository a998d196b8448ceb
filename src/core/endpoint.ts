/**
 * Endpoints and socket pairs: the names of the transport layer's multiplexing. A TCP
 * connection is identified by its socket pair (local address, local port, remote address,
 * remote port), so any number of connections can share one local port (RFC 9293 2.7).
 * Keys are strings built once per lookup: cheap, exact, and readable in a debugger.
 */
import { formatIp } from '../wire/address.js';

/** An IP address and a port. */
export interface Endpoint {
  /**
   * 4 bytes (IPv4) or 16 bytes (IPv6). Never written: the host shares one array among every
   * packet and connection of a peer. What is handed out for observation (`info()`) is a copy.
   */
  readonly address: Uint8Array;
  /** 0-65535. */
  readonly port: number;
}

/** Both ends of a connection, seen from this host. */
export interface SocketPair {
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

/** A copy of `e` with an address of its own (for observers, who may do what they like with it). */
export function copyEndpoint(e: Endpoint): Endpoint {
  return { address: e.address.slice(), port: e.port };
}

/** `10.0.0.1:80` or `[fd00::1]:80`. */
export function formatEndpoint(e: Endpoint): string {
  return e.address.length === 16 ? `[${formatIp(e.address)}]:${e.port}` : `${formatIp(e.address)}:${e.port}`;
}

/** `10.0.0.1:80 <-> 10.0.0.2:49152`: how messages and logs name a connection. */
export function formatSocketPair(p: SocketPair): string {
  return `${formatEndpoint(p.local)} <-> ${formatEndpoint(p.remote)}`;
}

function addressKey(a: Uint8Array): string {
  let s = '';
  for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]!);
  return s;
}

/** A map key for an endpoint. */
export function endpointKey(e: Endpoint): string {
  return `${addressKey(e.address)}|${e.port}`;
}

/** A map key for a socket pair. */
export function socketPairKey(local: Endpoint, remote: Endpoint): string {
  return `${addressKey(local.address)}|${local.port}|${addressKey(remote.address)}|${remote.port}`;
}
