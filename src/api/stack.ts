/**
 * A host with its application-facing side: `Stack` wraps a core `Host` as the
 * `NetworkNode` a driver runs, and after every driver call drains the host's events and
 * hands each to the socket object it concerns (a `net.Socket`, a `net.Server`). Drivers
 * see only the node; applications see only `stack.net`. The `Runtime` tells sockets the
 * time and lets them ask the driver for a poll after application calls.
 */
import type { Host, HostEvent } from '../core/host.js';
import type { NetworkNode, Transmit } from '../core/node.js';
import type { TcpConnection } from '../core/tcp/connection.js';
import type { TcpListener } from '../core/tcp/listener.js';
import type { TcpEvent } from '../core/tcp/types.js';
import type { UdpEvent, UdpSocket } from '../core/udp/socket.js';
import type { Instant } from '../time/instant.js';
import type { Runtime } from './runtime.js';
import { createNet, type Net } from './net.js';
import { createDgram, type Dgram } from './dgram.js';

/** Receives the events of one connection (implemented by `net.Socket`). */
export interface ConnectionOwner {
  onConnectionEvent(event: TcpEvent): void;
}

/** Receives the events of one UDP socket (implemented by `dgram.Socket`). */
export interface UdpOwner {
  onUdpEvent(event: UdpEvent): void;
}

/** Receives "a connection is ready to accept" (implemented by `net.Server`). */
export interface ListenerOwner {
  onIncoming(): void;
}

/** A host and its sockets. */
export class Stack implements NetworkNode {
  readonly host: Host;
  /** Node's `net` module, bound to this host. */
  readonly net: Net;
  /** Node's `dgram` module, bound to this host. */
  readonly dgram: Dgram;
  #runtime: Runtime | undefined;
  readonly #connections = new Map<TcpConnection, ConnectionOwner>();
  readonly #listeners = new Map<TcpListener, ListenerOwner>();
  readonly #udpSockets = new Map<UdpSocket, UdpOwner>();
  #dispatching = false;

  constructor(host: Host, runtime?: Runtime) {
    this.host = host;
    this.#runtime = runtime;
    this.net = createNet(this);
    this.dgram = createDgram(this);
  }

  /** The driver: set once when the stack is attached to a network or device. */
  attach(runtime: Runtime): void {
    this.#runtime = runtime;
  }

  get runtime(): Runtime {
    if (!this.#runtime) throw new Error(`host ${this.host.name} is not attached to a network or device`);
    return this.#runtime;
  }

  /** Routes a connection's events to its owner from now on. */
  own(connection: TcpConnection, owner: ConnectionOwner): void {
    this.#connections.set(connection, owner);
  }

  /** Stops routing a connection's events (it may live on in TIME-WAIT inside the host). */
  disown(connection: TcpConnection): void {
    this.#connections.delete(connection);
  }

  ownListener(listener: TcpListener, owner: ListenerOwner): void {
    this.#listeners.set(listener, owner);
  }

  disownListener(listener: TcpListener): void {
    this.#listeners.delete(listener);
  }

  ownUdp(socket: UdpSocket, owner: UdpOwner): void {
    this.#udpSockets.set(socket, owner);
  }

  disownUdp(socket: UdpSocket): void {
    this.#udpSockets.delete(socket);
  }

  // --- NetworkNode: delegate, then dispatch what happened ---------------------------

  handle(now: Instant, packet: Uint8Array, iface: string): void {
    this.host.handle(now, packet, iface);
    this.dispatch();
  }

  handleTimeout(now: Instant): void {
    this.host.handleTimeout(now);
    this.dispatch();
  }

  pollTransmit(now: Instant): Transmit | undefined {
    return this.host.pollTransmit(now);
  }

  pollTimeout(): Instant | undefined {
    return this.host.pollTimeout();
  }

  /**
   * Hands every pending host event to its owner. Owners may call back into the host (read,
   * write, accept) while handling one; events those calls raise are handled in the same loop.
   */
  dispatch(): void {
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      let event: HostEvent | undefined;
      while ((event = this.host.pollEvent()) !== undefined) {
        switch (event.type) {
          case 'incoming':
            this.#listeners.get(event.listener)?.onIncoming();
            break;
          case 'udp':
            this.#udpSockets.get(event.socket)?.onUdpEvent(event.event);
            break;
          case 'connection': {
            const owner = this.#connections.get(event.connection);
            if (event.event.type === 'closed') this.#connections.delete(event.connection);
            owner?.onConnectionEvent(event.event);
            break;
          }
        }
      }
    } finally {
      this.#dispatching = false;
    }
  }
}
