/**
 * Node's `dgram` module over l4: `createSocket('udp4' | 'udp6' | options)` and a `Socket`
 * with `bind` (port 0 takes an ephemeral port; sending first binds implicitly, as Node
 * does), `send` with its callback, 'message' with `rinfo`, `connect`/`disconnect`,
 * `remoteAddress`, `address`, `setBroadcast`, `setTTL`, `close`, and Node's errors: a
 * connected socket whose datagram drew an ICMP port unreachable emits ECONNREFUSED, as on
 * Linux. Datagrams are delivered whole or not at all (UDP: no ordering, no recovery).
 */
import { EventEmitter } from 'node:events';
import type { Endpoint } from '../core/endpoint.js';
import type { UdpEvent, UdpSocket, UdpSocketError } from '../core/udp/socket.js';
import { formatIp, parseIpAddress } from '../wire/address.js';
import { systemError, type NodeErrorCode } from './errors.js';
import type { Stack, UdpOwner } from './stack.js';

/** `udp4` or `udp6`, as Node names them. */
export type SocketType = 'udp4' | 'udp6';

/** Options of `createSocket`. */
export interface SocketOptions {
  type: SocketType;
  reuseAddr?: boolean;
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** What 'message' says about the sender. */
export interface RemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

/** `socket.address()` and `socket.remoteAddress()`. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

type SendCallback = (error: Error | null, bytes?: number) => void;
type Message = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

function nodeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

function family(address: Uint8Array): 'IPv4' | 'IPv6' {
  return address.length === 4 ? 'IPv4' : 'IPv6';
}

/** The Node code for each way a UDP send, connect or ICMP report can fail. */
const ERROR_CODES: Readonly<Record<string, NodeErrorCode | string>> = {
  'message-too-big': 'EMSGSIZE', 'no-route': 'ENETUNREACH', 'broadcast-not-allowed': 'EACCES',
  'destination-required': 'EDESTADDRREQ', 'family-mismatch': 'EINVAL', 'no-buffer-space': 'ENOBUFS', 'closed': 'EBADF',
  'refused': 'ECONNREFUSED', 'net-unreachable': 'ENETUNREACH', 'host-unreachable': 'EHOSTUNREACH', 'time-exceeded': 'EHOSTUNREACH',
  'protocol-unreachable': 'ENOPROTOOPT', 'admin-prohibited': 'EACCES', 'source-route-failed': 'EOPNOTSUPP', 'parameter-problem': 'EPROTO',
  'address-in-use': 'EADDRINUSE', 'access-denied': 'EACCES', 'address-not-available': 'EADDRNOTAVAIL',
};

function udpError(reason: string, syscall: string, remote?: Endpoint): Error {
  const code = ERROR_CODES[reason] ?? 'EINVAL';
  if (code === 'ECONNREFUSED' || code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH') {
    return systemError(code, syscall, remote);
  }
  const err = nodeError(code, `${syscall} ${code}${remote ? ` ${formatIp(remote.address)}:${remote.port}` : ''}`);
  return Object.assign(err, { syscall, errno: 0 });
}

/** A UDP socket of an l4 host, shaped like Node's `dgram.Socket`. */
export class Socket extends EventEmitter implements UdpOwner {
  readonly type: SocketType;
  readonly #stack: Stack;
  readonly #options: SocketOptions;
  #socket: UdpSocket | undefined;
  #state: 'unbound' | 'binding' | 'bound' | 'closed' = 'unbound';
  #connected: Endpoint | undefined;
  #broadcast = false;
  #ttl = 64;

  constructor(stack: Stack, options: SocketOptions) {
    super();
    if (options.type !== 'udp4' && options.type !== 'udp6') {
      throw Object.assign(new TypeError(`Bad socket type specified. Valid types are: udp4, udp6`), { code: 'ERR_SOCKET_BAD_TYPE' });
    }
    this.#stack = stack;
    this.#options = options;
    this.type = options.type;
  }

  /** `bind([port][, address][, callback])` or `bind(options[, callback])`. */
  bind(...args: unknown[]): this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const opts = typeof args[0] === 'object' && args[0] !== null
      ? args[0] as { port?: number; address?: string }
      : { port: args[0] as number | undefined, address: args[1] as string | undefined };
    if (this.#state === 'closed') throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
    if (this.#state !== 'unbound') throw nodeError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw Object.assign(new RangeError(`Port should be >= 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    if (callback) this.once('listening', callback);
    this.#bindNow(port, opts.address);
    return this;
  }

  #bindNow(port: number, addressText: string | undefined): boolean {
    // Node: udp4 binds 0.0.0.0, udp6 binds :: (both families unless ipv6Only).
    let address: Uint8Array | undefined;
    if (addressText === undefined || addressText === '') {
      address = this.type === 'udp4' ? parseIpAddress('0.0.0.0')! : this.#options.ipv6Only ? parseIpAddress('::')! : undefined;
    } else {
      address = parseIpAddress(addressText === 'localhost' ? (this.type === 'udp4' ? '127.0.0.1' : '::1') : addressText) ?? undefined;
      if (!address) {
        this.#state = 'unbound';
        process.nextTick(() => this.emit('error', Object.assign(new Error(`getaddrinfo ENOTFOUND ${addressText}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' })));
        return false;
      }
    }
    const result = this.#stack.host.udpBind({
      ...(address ? { address } : {}), port, reuseAddress: this.#options.reuseAddr ?? false, broadcast: this.#broadcast,
      ...(this.#options.recvBufferSize ? { receiveBufferSize: this.#options.recvBufferSize } : {}),
      ...(this.#options.sendBufferSize ? { sendBufferSize: this.#options.sendBufferSize } : {}),
    });
    if (!result.ok) {
      const err = udpError(result.error, 'bind', { address: address ?? new Uint8Array(16), port });
      process.nextTick(() => this.emit('error', err));
      return false;
    }
    this.#socket = result.socket;
    this.#socket.setTtl(this.#ttl);
    this.#stack.ownUdp(result.socket, this);
    this.#state = 'bound';
    process.nextTick(() => this.emit('listening'));
    return true;
  }

  /**
   * `send(msg[, offset, length][, port][, address][, callback])`. A connected socket takes no
   * port or address. Binds first if needed. The callback gets the error or the byte count.
   */
  send(msg: Message, port: number, address?: string, callback?: SendCallback): void;
  send(msg: Message, port: number, callback?: SendCallback): void;
  send(msg: Message, offset: number, length: number, port: number, address?: string, callback?: SendCallback): void;
  send(msg: Message, callback?: SendCallback): void;
  send(msg: Message, ...rest: unknown[]): void {
    const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as SendCallback) : undefined;
    let data = toBytes(msg);
    // (msg, offset, length, ...) applies only to a single Buffer/Uint8Array.
    if (rest.length >= 2 && typeof rest[0] === 'number' && typeof rest[1] === 'number' && (rest.length >= 3 || this.#connected) && !Array.isArray(msg) && typeof msg !== 'string') {
      const offset = rest.shift() as number;
      const length = rest.shift() as number;
      data = data.subarray(offset, offset + length);
    }
    const port = rest[0] as number | undefined;
    const addressText = rest[1] as string | undefined;
    if (this.#state === 'closed') throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
    if (this.#connected && port !== undefined) throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    if (!this.#connected && (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)) {
      throw Object.assign(new RangeError(`Port should be > 0 and < 65536. Received ${String(port)}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    if (this.#state === 'unbound' && !this.#bindNow(0, undefined)) return;
    let remote: Endpoint | undefined;
    if (!this.#connected) {
      const text = addressText === undefined || addressText === 'localhost' ? (this.type === 'udp4' ? '127.0.0.1' : '::1') : addressText;
      const address = parseIpAddress(text);
      if (!address) {
        this.#fail(Object.assign(new Error(`getaddrinfo ENOTFOUND ${text}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' }), callback);
        return;
      }
      remote = { address, port: port! };
    }
    const runtime = this.#stack.runtime;
    const result = this.#socket!.send(runtime.now(), data, remote);
    runtime.wake();
    if (!result.ok) {
      this.#fail(udpError(result.error, 'send', remote ?? this.#connected), callback);
      return;
    }
    if (callback) process.nextTick(() => callback(null, data.length));
  }

  #fail(err: Error, callback: SendCallback | undefined): void {
    process.nextTick(() => (callback ? callback(err) : this.emit('error', err)));
  }

  /** Associates the socket with one remote end: only its datagrams are received. */
  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    const cb = typeof address === 'function' ? address : callback;
    const text = typeof address === 'string' ? address : this.type === 'udp4' ? '127.0.0.1' : '::1';
    if (this.#connected) throw nodeError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    if (this.#state === 'closed') throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
    if (cb) this.once('connect', cb);
    if (this.#state === 'unbound' && !this.#bindNow(0, undefined)) return;
    const remoteAddress = parseIpAddress(text);
    const remote = remoteAddress ? { address: remoteAddress, port } : undefined;
    const result = remote ? this.#socket!.connect(remote) : { ok: false as const, error: 'no-route' as const };
    if (!result.ok) {
      const err = udpError(result.error, 'connect', remote);
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this.#connected = remote;
    process.nextTick(() => this.emit('connect'));
  }

  disconnect(): void {
    if (!this.#connected) throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    this.#socket?.disconnect();
    this.#connected = undefined;
  }

  remoteAddress(): AddressInfo {
    const remote = this.#connected;
    if (!remote) throw nodeError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    return { address: formatIp(remote.address), family: family(remote.address), port: remote.port };
  }

  /** The bound address (Node throws EBADF before bind). */
  address(): AddressInfo {
    const socket = this.#socket;
    if (!socket || this.#state !== 'bound') throw Object.assign(new Error('getsockname EBADF'), { code: 'EBADF', syscall: 'getsockname' });
    const local = socket.local;
    const wildcard = local.address.every((b) => b === 0);
    const text = wildcard && local.address.length === 16 ? '::' : formatIp(local.address);
    return { address: text, family: family(local.address), port: local.port };
  }

  setBroadcast(flag: boolean): void {
    if (this.#state !== 'bound') throw Object.assign(new Error('setBroadcast EBADF'), { code: 'EBADF', syscall: 'setBroadcast' });
    this.#broadcast = flag;
    this.#socket?.setBroadcast(flag);
  }

  /** The unicast hop limit (1-255), as Node's setTTL. */
  setTTL(ttl: number): number {
    if (typeof ttl !== 'number') throw Object.assign(new TypeError('The "ttl" argument must be of type number.'), { code: 'ERR_INVALID_ARG_TYPE' });
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw Object.assign(new Error('setTTL EINVAL'), { code: 'EINVAL', syscall: 'setTTL' });
    if (this.#state !== 'bound') throw Object.assign(new Error('setTTL EBADF'), { code: 'EBADF', syscall: 'setTTL' });
    this.#ttl = ttl;
    this.#socket?.setTtl(ttl);
    return ttl;
  }

  close(callback?: () => void): this {
    if (this.#state === 'closed') throw nodeError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
    if (callback) this.once('close', callback);
    const socket = this.#socket;
    this.#state = 'closed';
    if (socket) {
      this.#stack.disownUdp(socket);
      socket.close();
      this.#stack.runtime.wake();
    }
    process.nextTick(() => this.emit('close'));
    return this;
  }

  ref(): this { return this; }
  unref(): this { return this; }

  /** @internal Called by the stack for each event of this socket. */
  onUdpEvent(event: UdpEvent): void {
    if (event.type === 'message') {
      const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length);
      const rinfo: RemoteInfo = { address: formatIp(event.remote.address), family: family(event.remote.address), port: event.remote.port, size: data.length };
      this.emit('message', data, rinfo);
    } else {
      // As libuv reports a pending socket error on the next receive.
      this.emit('error', udpError(event.error satisfies UdpSocketError, 'recvmsg', event.remote));
    }
  }
}

function toBytes(msg: Message): Uint8Array {
  if (typeof msg === 'string') return Buffer.from(msg);
  if (msg instanceof Uint8Array) return msg;
  return Buffer.concat(msg.map((m) => (typeof m === 'string' ? Buffer.from(m) : m)));
}

/** Node's `dgram` module for one l4 host. */
export interface Dgram {
  createSocket(type: SocketType | SocketOptions, listener?: (msg: Buffer, rinfo: RemoteInfo) => void): Socket;
}

/** Builds the `dgram` module of a stack. */
export function createDgram(stack: Stack): Dgram {
  return {
    createSocket(type, listener) {
      const socket = new Socket(stack, typeof type === 'string' ? { type } : type);
      if (listener) socket.on('message', listener);
      return socket;
    },
  };
}
