/**
 * The TCP socket table: the multiplexing the transport layer exists for (RFC 9293 2.7).
 *
 * Contract: connections are found by their exact socket pair (local address, local port,
 * remote address, remote port), so any number of them share one local port. Listeners are
 * found by (address, port), then by the wildcard address of the packet's family (0.0.0.0 or
 * ::). A listener bound to no address at all is dual-stack: it is filed under both wildcards.
 * Binding rules (l4's, kept simple and close to Linux without SO_REUSEADDR):
 *
 * - two listeners never share an identical (address, port), and the dual-stack wildcard is
 *   identical to both 0.0.0.0 and ::;
 * - a wildcard listener and a listener on a specific address of the same family, on the same
 *   port, conflict unless both were opened with `reuseAddress`;
 * - connections never keep a listener from binding (Node sets SO_REUSEADDR on servers, so a
 *   connection in TIME-WAIT does not block a restarted server);
 * - an ephemeral port is free toward a destination when no connection uses that exact socket
 *   pair and no listener holds the port on any address.
 */
import { ipEquals, ipv4Number } from '../wire/address.js';
import type { DeadlineOwner } from './deadlines.js';
import { endpointKey, formatSocketPair } from './endpoint.js';
import type { Endpoint, SocketPair } from './endpoint.js';
import { isUnspecified, unspecifiedAddress } from './interfaces.js';
import type { TcpConnection } from './tcp/connection.js';
import type { TcpEvent } from './tcp/types.js';
import type { TcpListener } from './tcp/listener.js';
import type { TimeWait } from './tcp/time-wait.js';

/** What the host keeps for each connection. */
export interface ConnectionEntry extends DeadlineOwner {
  readonly connection: TcpConnection;
  /** The interface its packets leave by. */
  readonly iface: string;
  /** True when its peer is this host: its packets are looped back. */
  readonly loopback: boolean;
  /** The listener that spawned it, until the application accepts it (its events are held back until then). */
  listener: TcpListener | undefined;
  /** It reported 'connected'. */
  connected: boolean;
  /** It reported 'closed' (or reached CLOSED) and left the table; it may still have a last segment to send. */
  removed: boolean;
  /** It is in the host's queue of connections that may have output. */
  ready: boolean;
  /** Its 'readable' event as the host queues it (made at the first one). */
  readableEvent: LevelEvent | undefined;
  /** Its 'writable' event as the host queues it (made at the first one). */
  writableEvent: LevelEvent | undefined;
}

/**
 * A connection's 'readable' or 'writable' event in the host's queue: one object per connection
 * and kind, queued at most once at a time (`queued`, cleared when the application takes it).
 */
export class LevelEvent {
  readonly type = 'connection';
  /** It waits in the host's queue. */
  queued = false;
  constructor(readonly connection: TcpConnection, readonly event: TcpEvent) {}
}

const WILDCARD_V4 = unspecifiedAddress(4);
const WILDCARD_V6 = unspecifiedAddress(16);

/**
 * Items by their socket pair: the two ports and a salted hash of the remote address
 * (`connectionKey`), the lookup every segment makes, with no string to build. A key is nearly
 * always one item; several share it only when their addresses differ, and are then told apart
 * by comparing the address bytes. The address is in the key so that a flood of SYNs from many
 * (spoofed) addresses and one source port does not pile into one bucket and make every lookup
 * a walk; the salt keeps the colliding addresses unknown.
 */
class PairIndex<T> {
  readonly #buckets = new Map<number, T | T[]>();
  readonly #salt: number;
  readonly #pairOf: (item: T) => SocketPair;

  constructor(salt: number, pairOf: (item: T) => SocketPair) {
    this.#salt = salt;
    this.#pairOf = pairOf;
  }

  /** The most items that share one bucket. */
  get largestBucket(): number {
    let largest = 0;
    for (const found of this.#buckets.values()) largest = Math.max(largest, Array.isArray(found) ? found.length : 1);
    return largest;
  }

  get(localAddress: Uint8Array, localPort: number, remoteAddress: Uint8Array, remotePort: number): T | undefined {
    const found = this.#buckets.get(connectionKey(localPort, remotePort, remoteAddress, this.#salt));
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return this.#is(found, localAddress, remoteAddress) ? found : undefined;
    for (const item of found) if (this.#is(item, localAddress, remoteAddress)) return item;
    return undefined;
  }

  add(item: T): void {
    const { local, remote } = this.#pairOf(item);
    const key = connectionKey(local.port, remote.port, remote.address, this.#salt);
    const found = this.#buckets.get(key);
    if (found === undefined) this.#buckets.set(key, item);
    else if (Array.isArray(found)) found.push(item);
    else this.#buckets.set(key, [found, item]);
  }

  remove(item: T): void {
    const { local, remote } = this.#pairOf(item);
    const key = connectionKey(local.port, remote.port, remote.address, this.#salt);
    const found = this.#buckets.get(key);
    if (found === item) {
      this.#buckets.delete(key);
    } else if (Array.isArray(found)) {
      const rest = found.filter((e) => e !== item);
      this.#buckets.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  /** True when `item` has exactly these local and remote addresses. */
  #is(item: T, local: Uint8Array, remote: Uint8Array): boolean {
    const pair = this.#pairOf(item);
    return ipEquals(pair.remote.address, remote) && ipEquals(pair.local.address, local);
  }
}

/** Connections, TIME-WAIT records and listeners of one host. */
export class SocketTable {
  /** Every connection, in the order added (what `connections()` walks). */
  readonly #connections = new Set<ConnectionEntry>();
  readonly #connectionsByPair: PairIndex<ConnectionEntry>;
  /**
   * Socket pairs in TIME-WAIT whose connection has been retired (`TcpConnection.retire`): they
   * answer segments and hold their pair (and local port) like a connection, in a compact record.
   */
  readonly #timeWaits = new Set<TimeWait>();
  readonly #timeWaitsByPair: PairIndex<TimeWait>;

  /** `salt`: a secret 32-bit value (the host draws it from its seed) mixed into the bucket keys. */
  constructor(salt = 0) {
    this.#connectionsByPair = new PairIndex(salt | 0, (entry) => entry.connection);
    this.#timeWaitsByPair = new PairIndex(salt | 0, (record) => record);
  }
  /** How many connections and TIME-WAIT records use each local port (for a listener on port 0, which wants an unused one). */
  readonly #localPortUse = new Map<number, number>();
  readonly #listeners = new Map<string, TcpListener>();
  readonly #listenersByPort = new Map<number, Set<TcpListener>>();

  /** Number of connections in the table (TIME-WAIT records not counted). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Number of retired connections in TIME-WAIT. */
  get timeWaitCount(): number {
    return this.#timeWaits.size;
  }

  /** The most connections that share one bucket (for tests: a lookup walks at most this many). */
  get largestBucket(): number {
    return this.#connectionsByPair.largestBucket;
  }

  /** The connection with this exact socket pair. */
  connection(local: Endpoint, remote: Endpoint): ConnectionEntry | undefined {
    return this.connectionTo(local.address, local.port, remote.address, remote.port);
  }

  /** {@link connection} with the four parts given apart (no endpoint objects for each segment). */
  connectionTo(localAddress: Uint8Array, localPort: number, remoteAddress: Uint8Array, remotePort: number): ConnectionEntry | undefined {
    return this.#connectionsByPair.get(localAddress, localPort, remoteAddress, remotePort);
  }

  /** The TIME-WAIT record of this exact socket pair (looked up when no connection has it). */
  timeWaitTo(localAddress: Uint8Array, localPort: number, remoteAddress: Uint8Array, remotePort: number): TimeWait | undefined {
    return this.#timeWaits.size === 0 ? undefined : this.#timeWaitsByPair.get(localAddress, localPort, remoteAddress, remotePort);
  }

  /** True when a connection or a TIME-WAIT record uses this exact socket pair. */
  hasConnection(local: Endpoint, remote: Endpoint): boolean {
    return this.connection(local, remote) !== undefined
      || this.timeWaitTo(local.address, local.port, remote.address, remote.port) !== undefined;
  }

  /** Every connection, in the order they were added. */
  connections(): IterableIterator<ConnectionEntry> {
    return this.#connections.values();
  }

  /** Every TIME-WAIT record, in the order they were added. */
  timeWaits(): IterableIterator<TimeWait> {
    return this.#timeWaits.values();
  }

  /** Adds a connection; its socket pair must be free (else it throws). */
  addConnection(entry: ConnectionEntry): void {
    const { local, remote } = entry.connection;
    if (this.hasConnection(local, remote)) throw new Error(`socket pair already in the table: ${formatSocketPair(entry.connection)}`);
    this.#connections.add(entry);
    this.#usePort(local.port, 1);
    this.#connectionsByPair.add(entry);
  }

  /** Removes a connection (only if the table still holds this very entry). */
  removeConnection(entry: ConnectionEntry): void {
    if (!this.#connections.delete(entry)) return;
    this.#usePort(entry.connection.local.port, -1);
    this.#connectionsByPair.remove(entry);
  }

  /** Adds a TIME-WAIT record; its socket pair must be free (its connection removed first), else it throws. */
  addTimeWait(record: TimeWait): void {
    if (this.hasConnection(record.local, record.remote)) throw new Error(`socket pair already in the table: ${formatSocketPair(record)}`);
    this.#timeWaits.add(record);
    this.#usePort(record.local.port, 1);
    this.#timeWaitsByPair.add(record);
  }

  /** Removes a TIME-WAIT record (only if the table holds it). */
  removeTimeWait(record: TimeWait): void {
    if (!this.#timeWaits.delete(record)) return;
    this.#usePort(record.local.port, -1);
    this.#timeWaitsByPair.remove(record);
  }

  #usePort(port: number, change: 1 | -1): void {
    const n = (this.#localPortUse.get(port) ?? 0) + change;
    if (n <= 0) this.#localPortUse.delete(port);
    else this.#localPortUse.set(port, n);
  }

  /** The listener for a segment to `address`:`port`: a specific one first, then the wildcard of its family. */
  findListener(address: Uint8Array, port: number): TcpListener | undefined {
    return this.#listeners.get(endpointKey({ address, port }))
      ?? this.#listeners.get(endpointKey({ address: address.length === 4 ? WILDCARD_V4 : WILDCARD_V6, port }));
  }

  /** Every listener, once each. */
  listeners(): TcpListener[] {
    const out: TcpListener[] = [];
    for (const set of this.#listenersByPort.values()) out.push(...set);
    return out;
  }

  /**
   * True when a new listener on `address` (undefined: dual-stack wildcard) and `port` would
   * conflict with an existing one (the rules in the module comment).
   */
  listenConflict(address: Uint8Array | undefined, port: number, reuseAddress: boolean): boolean {
    const existing = this.#listenersByPort.get(port);
    if (existing === undefined) return false;
    for (const other of existing) {
      const otherAddress = other.dualStack ? undefined : other.local.address;
      if (shareKey(address, otherAddress)) return true;
      if (overlap(address, otherAddress) && !(reuseAddress && other.reuseAddress)) return true;
    }
    return false;
  }

  /** Files a listener under its key(s). */
  addListener(listener: TcpListener): void {
    for (const key of listenerKeys(listener)) this.#listeners.set(key, listener);
    const port = listener.local.port;
    let set = this.#listenersByPort.get(port);
    if (set === undefined) this.#listenersByPort.set(port, (set = new Set()));
    set.add(listener);
  }

  /** Removes a listener. */
  removeListener(listener: TcpListener): void {
    for (const key of listenerKeys(listener)) {
      if (this.#listeners.get(key) === listener) this.#listeners.delete(key);
    }
    const set = this.#listenersByPort.get(listener.local.port);
    set?.delete(listener);
    if (set?.size === 0) this.#listenersByPort.delete(listener.local.port);
  }

  /** True when some listener holds `port` (on any address). */
  portHasListener(port: number): boolean {
    return this.#listenersByPort.has(port);
  }

  /** True when a listener holds `port` on `address` or on a wildcard covering it. */
  portHeldByListener(address: Uint8Array, port: number): boolean {
    const set = this.#listenersByPort.get(port);
    if (set === undefined) return false;
    for (const l of set) if (overlap(address, l.dualStack ? undefined : l.local.address)) return true;
    return false;
  }

  /** True when no socket at all (listener or connection) uses `port`. */
  portUnused(port: number): boolean {
    return !this.#listenersByPort.has(port) && !this.#localPortUse.has(port);
  }
}

/**
 * The bucket of a connection: its two ports (32 bits) and 21 bits of a salted multiplicative
 * hash of the remote address (all of an IPv6 address folded into 32 bits first), in one exact
 * integer below 2^53.
 */
function connectionKey(localPort: number, remotePort: number, remoteAddress: Uint8Array, salt: number): number {
  let folded = ipv4Number(remoteAddress);
  for (let at = 4; at + 4 <= remoteAddress.length; at += 4) folded ^= ipv4Number(remoteAddress, at);
  const hash = Math.imul(folded ^ salt, 0x9e3779b1) >>> 11;
  return (((localPort << 16) | remotePort) >>> 0) + hash * 0x1_0000_0000;
}

function listenerKeys(listener: TcpListener): string[] {
  const port = listener.local.port;
  if (listener.dualStack) return [endpointKey({ address: WILDCARD_V4, port }), endpointKey({ address: WILDCARD_V6, port })];
  return [endpointKey(listener.local)];
}

/**
 * True when two bindings would be filed under a common key: the same address, or a
 * dual-stack wildcard and a wildcard of either family.
 */
function shareKey(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined) return b === undefined || isUnspecified(b);
  if (b === undefined) return isUnspecified(a);
  return ipEquals(a, b);
}

/** True when some address is covered by both bindings (undefined: dual-stack wildcard). */
function overlap(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (a.length !== b.length) return false;
  return isUnspecified(a) || isUnspecified(b) || ipEquals(a, b);
}
