/**
 * Node's `net` module over l4: `createServer`, `connect`/`createConnection`, a `Socket` that
 * is a `stream.Duplex` with Node's events and properties, and a `Server`. Code written for
 * Node's `net` — Node's own `http` included — runs over an l4 host unchanged.
 *
 * How the stream maps onto the sans-IO connection: `_write` offers bytes to the connection's
 * send buffer and completes once all of a chunk is taken (a full buffer waits for the
 * connection's 'writable' event: that is the backpressure behind `write() === false` and
 * 'drain'); `_read` pulls in-order bytes while the consumer wants them; `_final` (after
 * `end()`) sends FIN; the peer's FIN ends the readable side. Every call that may have made a
 * packet ready asks the runtime for a poll (`wake`). Errors arrive as the core's small
 * unions and leave as Node errors with `code` (ECONNREFUSED, ECONNRESET, ETIMEDOUT…).
 */
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import type { Endpoint } from '../core/endpoint.js';
import { formatEndpoint } from '../core/endpoint.js';
import type { TcpConnection } from '../core/tcp/connection.js';
import type { TcpListener } from '../core/tcp/listener.js';
import type { TcpEvent } from '../core/tcp/types.js';
import { formatIp, parseIpAddress } from '../wire/address.js';
import { millis } from '../time/instant.js';
import { systemError, tcpErrorToNode, type NodeErrorCode, type NodeSystemError } from './errors.js';
import type { ConnectionOwner, ListenerOwner, Stack } from './stack.js';

/** Largest read handed to the stream at once. */
const READ_CHUNK = 64 * 1024;

/** Options of `net.connect` that l4 honours (Node's names). */
export interface ConnectOptions {
  port: number;
  host?: string;
  localAddress?: string;
  localPort?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  allowHalfOpen?: boolean;
  timeout?: number;
}

/** Options of `new Socket()`. */
export interface SocketOptions {
  allowHalfOpen?: boolean;
}

/** `net.AddressInfo`. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

function family(address: Uint8Array): 'IPv4' | 'IPv6' {
  return address.length === 4 ? 'IPv4' : 'IPv6';
}

function hostAddress(text: string | undefined, fallback: string): Uint8Array | undefined {
  const name = text === undefined || text === '' || text === 'localhost' ? fallback : text;
  return parseIpAddress(name) ?? undefined;
}

function invalidArg(message: string): TypeError & { code: string } {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535;
}

/** A TCP socket of an l4 host, shaped like Node's `net.Socket`. */
export class Socket extends Duplex implements ConnectionOwner {
  readonly #stack: Stack;
  #connection: TcpConnection | undefined;
  #connecting = false;
  #pendingWrite: { chunk: Uint8Array; offset: number; callback: (err?: Error | null) => void } | undefined;
  #reading = false;
  #peerEnded = false;
  #ended = false;
  #bytesRead = 0;
  #bytesWritten = 0;
  #timeoutMs = 0;
  #cancelTimer: (() => void) | undefined;
  #lastActivity = 0;
  #noDelay = false;
  #keepAlive: { enable: boolean; initialDelay: number } | undefined;
  #resetOnDestroy = false;
  #remote: Endpoint | undefined;
  #local: Endpoint | undefined;

  constructor(stack: Stack, options: SocketOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, decodeStrings: true, emitClose: true, autoDestroy: true });
    this.#stack = stack;
  }

  /** @internal Wraps a connection accepted by a server. */
  static adopt(stack: Stack, connection: TcpConnection, allowHalfOpen: boolean): Socket {
    const socket = new Socket(stack, { allowHalfOpen });
    socket.#attach(connection);
    // Events of a connection raised before it was accepted are not replayed: an accepted
    // connection may already hold data, and the peer's FIN may already be in (the states
    // after CLOSE-WAIT in RFC 9293's diagram all follow a received FIN).
    const state = connection.state;
    if (state === 'CLOSE-WAIT' || state === 'LAST-ACK' || state === 'CLOSING' || state === 'TIME-WAIT') socket.#peerEnded = true;
    socket.#pull();
    return socket;
  }

  // --- connecting -----------------------------------------------------------------

  /** `socket.connect(port[, host][, listener])` or `socket.connect(options[, listener])`. */
  connect(options: ConnectOptions | number, hostOrListener?: string | (() => void), listener?: () => void): this {
    const opts: ConnectOptions = typeof options === 'number'
      ? { port: options, ...(typeof hostOrListener === 'string' ? { host: hostOrListener } : {}) }
      : options;
    const onConnect = typeof hostOrListener === 'function' ? hostOrListener : listener;
    if (onConnect) this.once('connect', onConnect);
    if (!validPort(opts.port)) throw invalidArg(`port should be >= 0 and < 65536. Received ${String(opts.port)}.`);
    if (opts.timeout) this.setTimeout(opts.timeout);
    if (opts.noDelay) this.setNoDelay(true);
    if (opts.keepAlive) this.setKeepAlive(true, opts.keepAliveInitialDelay);
    const remoteAddress = hostAddress(opts.host, '127.0.0.1');
    if (!remoteAddress) {
      this.#failSoon(Object.assign(new Error(`getaddrinfo ENOTFOUND ${opts.host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: opts.host }));
      return this;
    }
    const remote = { address: remoteAddress, port: opts.port };
    const localAddress = opts.localAddress === undefined ? undefined : parseIpAddress(opts.localAddress) ?? undefined;
    const runtime = this.#stack.runtime;
    const result = this.#stack.host.tcpConnect(runtime.now(), {
      remote,
      local: { ...(localAddress ? { address: localAddress } : {}), ...(opts.localPort ? { port: opts.localPort } : {}) },
    });
    this.#remote = remote;
    if (!result.ok) {
      const code: NodeErrorCode = result.error === 'no-route' ? 'ENETUNREACH'
        : result.error === 'address-in-use' ? 'EADDRINUSE'
          : result.error === 'access-denied' ? 'EACCES' : 'EADDRNOTAVAIL';
      this.#failSoon(systemError(code, 'connect', remote));
      return this;
    }
    this.#connecting = true;
    this.#attach(result.connection);
    runtime.wake();
    return this;
  }

  #attach(connection: TcpConnection): void {
    this.#connection = connection;
    this.#remote = connection.remote;
    this.#local = connection.local;
    this.#stack.own(connection, this);
    if (this.#noDelay) connection.setNoDelay(true);
    if (this.#keepAlive) connection.setKeepAlive(this.#keepAlive.enable, millis(this.#keepAlive.initialDelay));
    this.#touch();
  }

  #failSoon(err: Error): void {
    process.nextTick(() => this.destroy(err));
  }

  // --- events from the connection -------------------------------------------------

  /** @internal Called by the stack for each event of this socket's connection. */
  onConnectionEvent(event: TcpEvent): void {
    switch (event.type) {
      case 'connected':
        this.#connecting = false;
        this.#touch();
        this.#flushWrite();
        this.emit('connect');
        this.emit('ready');
        break;
      case 'readable':
        this.#touch();
        this.#pull();
        break;
      case 'writable':
        this.#flushWrite();
        break;
      case 'peer-closed':
        this.#peerEnded = true;
        this.#pull();
        break;
      case 'error': {
        const connection = this.#connection!;
        this.destroy(tcpErrorToNode(event.error, this.#connecting, connection.remote, connection.local));
        break;
      }
      case 'closed':
        this.#connection = undefined;
        if (!this.destroyed) this.destroy();
        break;
    }
  }

  // --- Duplex ---------------------------------------------------------------------

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pendingWrite = { chunk, offset: 0, callback };
    this.#flushWrite();
  }

  #flushWrite(): void {
    const pending = this.#pendingWrite;
    const connection = this.#connection;
    if (!pending || !connection || this.#connecting) return;
    const runtime = this.#stack.runtime;
    const taken = connection.send(runtime.now(), pending.chunk.subarray(pending.offset));
    pending.offset += taken;
    this.#bytesWritten += taken;
    if (taken > 0) {
      this.#touch();
      runtime.wake();
    }
    if (pending.offset >= pending.chunk.length) {
      this.#pendingWrite = undefined;
      pending.callback();
    }
    // Otherwise the send buffer is full: the connection's 'writable' event resumes us.
  }

  override _read(): void {
    this.#reading = true;
    this.#pull();
  }

  /** Moves in-order bytes from the connection into the stream while the consumer wants them. */
  #pull(): void {
    const connection = this.#connection;
    if (connection) {
      const runtime = this.#stack.runtime;
      let moved = false;
      while (this.#reading) {
        const data = connection.recv(runtime.now(), READ_CHUNK);
        if (!data) break;
        moved = true;
        this.#bytesRead += data.length;
        this.#reading = this.push(Buffer.from(data.buffer, data.byteOffset, data.length));
      }
      if (moved) runtime.wake(); // reading may open the window: a window update may be due
      if (connection.receiveAvailable > 0) return;
    }
    if (this.#peerEnded && !this.#ended) {
      this.#ended = true;
      this.push(null);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#connecting) {
      // CLOSE in SYN-SENT would delete the connection (RFC 9293 3.10.4); Node sends the FIN
      // once connected, so wait for it.
      this.once('connect', () => this._final(callback));
      return;
    }
    const connection = this.#connection;
    if (connection) {
      connection.close(this.#stack.runtime.now());
      this.#stack.runtime.wake();
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const connection = this.#connection;
    if (connection) {
      const runtime = this.#stack.runtime;
      this.#stack.disown(connection);
      this.#connection = undefined;
      // As a kernel does when the last descriptor closes: RST if asked to, on error, or if
      // received data would be lost unread; otherwise an orderly FIN (the connection lives on
      // in the host through FIN-WAIT and TIME-WAIT without us).
      if (this.#resetOnDestroy || error || connection.receiveAvailable > 0) connection.abort(runtime.now());
      else if (connection.state !== 'CLOSED') connection.close(runtime.now());
      runtime.wake();
    }
    callback(error);
  }

  /** Closes the connection with RST (Node >= 16.17). */
  resetAndDestroy(): this {
    this.#resetOnDestroy = true;
    this.destroy();
    return this;
  }

  // --- options ----------------------------------------------------------------------

  setNoDelay(noDelay = true): this {
    this.#noDelay = noDelay;
    this.#connection?.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#keepAlive = { enable, initialDelay };
    this.#connection?.setKeepAlive(enable, initialDelay > 0 ? millis(initialDelay) : undefined);
    return this;
  }

  /**
   * The congestion-control algorithm of this socket's connection, `'cubic'` (the default) or
   * `'newreno'`: l4's analogue of Linux's TCP_CONGESTION socket option (Node has none). It
   * applies to the connection the socket has, from `connect()` on or once accepted (cwnd and
   * ssthresh carry over); on a socket without one it does nothing. An unknown name throws
   * ERR_INVALID_ARG_VALUE.
   */
  setCongestionControl(name: 'cubic' | 'newreno'): this {
    if (name !== 'cubic' && name !== 'newreno') throw invalidArg(`The argument 'name' must be 'cubic' or 'newreno'. Received ${String(name)}`);
    this.#connection?.setCongestionControl(name);
    return this;
  }

  /** Emits 'timeout' after `ms` without reads or writes (0 turns it off), as Node does. */
  setTimeout(ms: number, callback?: () => void): this {
    this.#timeoutMs = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#armTimer();
    return this;
  }

  get timeout(): number | undefined {
    return this.#timeoutMs || undefined;
  }

  #touch(): void {
    if (this.#timeoutMs > 0) this.#lastActivity = this.#stack.runtime.now();
  }

  #armTimer(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#timeoutMs <= 0 || this.destroyed) return;
    const runtime = this.#stack.runtime;
    this.#lastActivity = runtime.now();
    const check = (): void => {
      this.#cancelTimer = undefined;
      if (this.#timeoutMs <= 0 || this.destroyed) return;
      const due = this.#lastActivity + millis(this.#timeoutMs);
      if (runtime.now() >= due) {
        this.#lastActivity = runtime.now();
        this.emit('timeout');
        this.#cancelTimer = runtime.setTimer(runtime.now() + millis(this.#timeoutMs), check);
      } else {
        this.#cancelTimer = runtime.setTimer(due, check);
      }
    };
    this.#cancelTimer = runtime.setTimer(this.#lastActivity + millis(this.#timeoutMs), check);
  }

  ref(): this { return this; }
  unref(): this { return this; }

  // --- properties -----------------------------------------------------------------------

  get remoteAddress(): string | undefined { return this.#remote ? formatIp(this.#remote.address) : undefined; }
  get remotePort(): number | undefined { return this.#remote?.port; }
  get remoteFamily(): 'IPv4' | 'IPv6' | undefined { return this.#remote ? family(this.#remote.address) : undefined; }
  get localAddress(): string | undefined { return this.#local ? formatIp(this.#local.address) : undefined; }
  get localPort(): number | undefined { return this.#local?.port; }
  get localFamily(): 'IPv4' | 'IPv6' | undefined { return this.#local ? family(this.#local.address) : undefined; }
  get bytesRead(): number { return this.#bytesRead; }
  get bytesWritten(): number { return this.#bytesWritten; }
  get connecting(): boolean { return this.#connecting; }
  get pending(): boolean { return !this.#connection || this.#connecting; }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.#connecting) return 'opening';
    if (!this.#connection || this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** `{ address, family, port }` of the local end (`{}` before it is known), as Node returns. */
  address(): AddressInfo | Record<string, never> {
    if (!this.#local) return {};
    return { address: formatIp(this.#local.address), family: family(this.#local.address), port: this.#local.port };
  }

  /** The connection's figures (state, queues, srtt, rto, cwnd…), for netstat-like tools. */
  get tcpInfo(): ReturnType<TcpConnection['info']> | undefined {
    return this.#connection?.info();
  }

  override toString(): string {
    return this.#local && this.#remote ? `Socket ${formatEndpoint(this.#local)} <-> ${formatEndpoint(this.#remote)}` : 'Socket';
  }
}

/** Options of `createServer`. */
export interface ServerOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  pauseOnConnect?: boolean;
}

/** Options of `server.listen`. */
export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
}

/** A TCP server of an l4 host, shaped like Node's `net.Server`. */
export class Server extends EventEmitter implements ListenerOwner {
  readonly #stack: Stack;
  readonly #options: ServerOptions;
  #listener: TcpListener | undefined;
  readonly #sockets = new Set<Socket>();
  #closing = false;
  maxConnections: number | undefined;

  constructor(stack: Stack, options: ServerOptions = {}, onConnection?: (socket: Socket) => void) {
    super();
    this.#stack = stack;
    this.#options = options;
    if (onConnection) this.on('connection', onConnection);
  }

  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** `listen(port[, host][, backlog][, callback])` or `listen(options[, callback])`. */
  listen(...args: unknown[]): this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const opts: ListenOptions = typeof args[0] === 'object' && args[0] !== null
      ? (args[0] as ListenOptions)
      : { port: (args[0] as number | undefined) ?? 0, ...(typeof args[1] === 'string' ? { host: args[1] } : {}),
        ...(typeof args[1] === 'number' ? { backlog: args[1] } : typeof args[2] === 'number' ? { backlog: args[2] } : {}) };
    const port = opts.port ?? 0;
    if (!validPort(port)) throw invalidArg(`options.port should be >= 0 and < 65536. Received ${String(port)}.`);
    if (callback) this.once('listening', callback);
    const address = opts.host === undefined || opts.host === '' || opts.host === '::' || opts.host === '0.0.0.0'
      ? (opts.host === '0.0.0.0' ? parseIpAddress('0.0.0.0')! : undefined)
      : parseIpAddress(opts.host) ?? undefined;
    const hostText = opts.host ?? '::';
    const result = this.#stack.host.tcpListen({ ...(address ? { address } : {}), port, ...(opts.backlog ? { backlog: opts.backlog } : {}) });
    if (!result.ok) {
      const code: NodeErrorCode = result.error === 'access-denied' ? 'EACCES' : result.error === 'address-in-use' ? 'EADDRINUSE' : 'EADDRNOTAVAIL';
      const err: NodeSystemError = systemError(code, 'listen', { address: address ?? new Uint8Array(16), port });
      err.address = hostText;
      process.nextTick(() => this.emit('error', err));
      return this;
    }
    this.#listener = result.listener;
    this.#closing = false;
    this.#stack.ownListener(result.listener, this);
    process.nextTick(() => {
      this.emit('listening');
      this.onIncoming(); // connections that completed before the listener had an owner
    });
    return this;
  }

  /** @internal The listener has connections ready to accept. */
  onIncoming(): void {
    const listener = this.#listener;
    if (!listener) return;
    let connection: TcpConnection | undefined;
    while ((connection = listener.accept()) !== undefined) {
      if (this.maxConnections !== undefined && this.#sockets.size >= this.maxConnections) {
        connection.abort(this.#stack.runtime.now());
        this.#stack.runtime.wake();
        continue;
      }
      const socket = Socket.adopt(this.#stack, connection, this.#options.allowHalfOpen ?? false);
      if (this.#options.noDelay) socket.setNoDelay(true);
      if (this.#options.keepAlive) socket.setKeepAlive(true, this.#options.keepAliveInitialDelay);
      if (this.#options.pauseOnConnect) socket.pause();
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#maybeClosed();
      });
      this.emit('connection', socket);
    }
  }

  /** The address the server listens on. */
  address(): AddressInfo | null {
    const listener = this.#listener;
    if (!listener) return null;
    const local = listener.local;
    const wildcard = local.address.every((b) => b === 0);
    return { address: wildcard && local.address.length === 16 ? '::' : formatIp(local.address), family: family(local.address), port: local.port };
  }

  /** Stops accepting; 'close' follows once every accepted connection has ended (Node's semantics). */
  close(callback?: (err?: Error) => void): this {
    const listener = this.#listener;
    if (!listener) {
      if (callback) process.nextTick(() => callback(Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' })));
      return this;
    }
    if (callback) this.once('close', callback);
    this.#stack.disownListener(listener);
    listener.close(this.#stack.runtime.now());
    this.#stack.runtime.wake();
    this.#listener = undefined;
    this.#closing = true;
    this.#maybeClosed();
    return this;
  }

  #maybeClosed(): void {
    if (this.#closing && this.#sockets.size === 0) {
      this.#closing = false;
      process.nextTick(() => this.emit('close'));
    }
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    process.nextTick(() => callback(null, this.#sockets.size));
    return this;
  }

  ref(): this { return this; }
  unref(): this { return this; }
}

/** Node's `net` module for one l4 host. */
export interface Net {
  createServer(options?: ServerOptions | ((socket: Socket) => void), onConnection?: (socket: Socket) => void): Server;
  connect(options: ConnectOptions | number, hostOrListener?: string | (() => void), listener?: () => void): Socket;
  createConnection(options: ConnectOptions | number, hostOrListener?: string | (() => void), listener?: () => void): Socket;
  Socket: new (options?: SocketOptions) => Socket;
  Server: new (options?: ServerOptions, onConnection?: (socket: Socket) => void) => Server;
  isIP(input: string): 0 | 4 | 6;
  isIPv4(input: string): boolean;
  isIPv6(input: string): boolean;
}

/** Builds the `net` module of a stack. */
export function createNet(stack: Stack): Net {
  const connect = (options: ConnectOptions | number, hostOrListener?: string | (() => void), listener?: () => void): Socket => {
    const allowHalfOpen = typeof options === 'object' ? options.allowHalfOpen ?? false : false;
    return new Socket(stack, { allowHalfOpen }).connect(options, hostOrListener, listener);
  };
  const isIP = (input: string): 0 | 4 | 6 => {
    const a = parseIpAddress(input);
    return a === null ? 0 : a.length === 4 ? 4 : 6;
  };
  return {
    createServer(options?: ServerOptions | ((socket: Socket) => void), onConnection?: (socket: Socket) => void): Server {
      return typeof options === 'function' ? new Server(stack, {}, options) : new Server(stack, options ?? {}, onConnection);
    },
    connect,
    createConnection: connect,
    Socket: class extends Socket {
      constructor(options?: SocketOptions) { super(stack, options); }
    },
    Server: class extends Server {
      constructor(options?: ServerOptions, onConnection?: (socket: Socket) => void) { super(stack, options, onConnection); }
    },
    isIP,
    isIPv4: (input: string) => isIP(input) === 4,
    isIPv6: (input: string) => isIP(input) === 6,
  };
}
