/**
 * The network services of `l4 serve`, on one l4 stack: HTTP (RFC 9110/9112, Node's own
 * `http.Server` fed with l4 sockets), echo (RFC 862), discard (RFC 863), character
 * generator (RFC 864) and daytime (RFC 867) over TCP and UDP, and a UDP-only echo.
 * `startServices` validates every port first (an integer in 1..65535, RangeError otherwise;
 * two services on one port and protocol is a RangeError naming both), then listens on every
 * address of both families: TCP with `server.listen(port)` (dual stack), UDP with one
 * dual-stack `udp6` socket per service (bound without an address, not `ipv6Only`: l4's
 * `udpBind` takes IPv4 and IPv6 datagrams on it). A port that cannot be bound rejects with
 * the Node error (EADDRINUSE, EACCES) after closing what was already bound. Every accepted
 * connection gets an 'error' handler at once (a peer that vanishes never crashes the
 * process), is reported by `onOpen` and, exactly once however it ends, by `onClose` with its
 * byte counts, its duration on the stack's runtime clock and the Node error code if it
 * ended with one. `close()` stops listening, ends every connection with FIN (each service
 * finishes what it is doing: HTTP completes a response in progress), destroys those still
 * open after the grace period (on the runtime's timers, so virtual time in tests), closes
 * the UDP sockets, and resolves when everything is closed.
 */
import { once } from 'node:events';
import type { Socket as DgramSocket, RemoteInfo } from '../../api/dgram.js';
import type { Server as NetServer, Socket } from '../../api/net.js';
import type { Stack } from '../../api/stack.js';
import { millis } from '../../time/instant.js';
import { createHttpService } from './http.js';
import {
  chargenTcp, chargenUdp, daytimeTcp, daytimeUdp, discardTcp, discardUdp, echoTcp, echoUdp,
  type ServiceSession, type UdpResponder,
} from './simple.js';

/** The services `startServices` can run. */
export type ServiceName = 'http' | 'echo' | 'discard' | 'chargen' | 'daytime' | 'udp-echo';

/** What to run, and where reports go. Every port is optional: only the services given a port run. */
export interface ServicesOptions {
  /** HTTP on this port: `/` is the seeds' page (helloHandler: gzip when asked); with `dir`, GET/HEAD /NAME serves files under dir. */
  readonly http?: { readonly port: number; readonly dir?: string };
  /** RFC 862 on TCP and UDP. */
  readonly echo?: number;
  /** RFC 863 on TCP and UDP. */
  readonly discard?: number;
  /** RFC 864 on TCP and UDP. */
  readonly chargen?: number;
  /** RFC 867 on TCP and UDP. */
  readonly daytime?: number;
  /** RFC 862 on UDP only. */
  readonly udpEcho?: number;
  /** Wall clock for daytime, HTTP log lines; default () => new Date(). */
  readonly clock?: () => Date;
  /** A TCP connection was accepted by a service. */
  readonly onOpen?: (event: ConnectionOpened) => void;
  /** A TCP connection of a service ended (however it ended). Called exactly once per onOpen. */
  readonly onClose?: (event: ConnectionClosed) => void;
  /** One line per HTTP request, the seeds' format (as hello-server.ts logs). */
  readonly onRequest?: (line: string) => void;
}

/** A TCP connection accepted by a service. Endpoints read `10.77.0.2:80` or `[fd00:77::2]:80`. */
export interface ConnectionOpened {
  readonly service: ServiceName;
  readonly local: string;
  readonly remote: string;
}

/** A TCP connection of a service that ended. */
export interface ConnectionClosed extends ConnectionOpened {
  /** Bytes received from the peer (socket.bytesRead). */
  readonly bytesIn: number;
  /** Bytes sent (socket.bytesWritten). */
  readonly bytesOut: number;
  /** From accept to close, measured on stack.runtime.now() (µs -> ms), NOT Date.now. */
  readonly durationMs: number;
  /** Node error code if it ended with one (ECONNRESET, ...). */
  readonly error?: string;
}

/** One socket a service listens on. */
export interface ListeningService {
  readonly service: ServiceName;
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}

/** The services, running. */
export interface RunningServices {
  /** Every listening socket, in the order of {@link ServicesOptions}' fields (TCP before UDP for a service that has both). */
  readonly listening: readonly ListeningService[];
  /** TCP connections open right now. */
  readonly openConnections: number;
  /**
   * Stops listening, ends every open TCP connection with FIN (socket.end(); destroy after
   * `graceMs` virtual/runtime ms if still open, default 2000, using stack.runtime.setTimer),
   * closes the UDP sockets; resolves when all are closed. Calling it again returns the same
   * promise.
   */
  close(graceMs?: number): Promise<void>;
}

/** The grace period of `close()` when none is given, ms. */
export const DEFAULT_GRACE_MS = 2000;

/** One socket to bind, as planned from the options. */
interface Binding extends ListeningService {
  /** The field of ServicesOptions it comes from (for messages). */
  readonly option: string;
}

/** `10.77.0.2:80`, or `[fd00:77::2]:80` for IPv6 (as core/endpoint.ts's formatEndpoint). */
function endpointText(address: string | undefined, port: number | undefined): string {
  const host = address ?? '?';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}

/** The sockets the options ask for, validated: ports in 1..65535, no two on one port and protocol. */
function plan(options: ServicesOptions): Binding[] {
  const wanted: Array<[ServiceName, string, number | undefined, Array<'tcp' | 'udp'>]> = [
    ['http', 'http.port', options.http?.port, ['tcp']],
    ['echo', 'echo', options.echo, ['tcp', 'udp']],
    ['discard', 'discard', options.discard, ['tcp', 'udp']],
    ['chargen', 'chargen', options.chargen, ['tcp', 'udp']],
    ['daytime', 'daytime', options.daytime, ['tcp', 'udp']],
    ['udp-echo', 'udpEcho', options.udpEcho, ['udp']],
  ];
  if (options.http !== undefined && options.http.port === undefined) throw new RangeError('http.port is required when http is given');
  const bindings: Binding[] = [];
  for (const [service, option, port, protocols] of wanted) {
    if (port === undefined) continue;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`${option}: port ${String(port)} is not an integer in 1..65535`);
    }
    for (const protocol of protocols) {
      const taken = bindings.find((b) => b.port === port && b.protocol === protocol);
      if (taken) throw new RangeError(`${taken.service} (${taken.option}) and ${service} (${option}) both ask for ${protocol.toUpperCase()} port ${port}`);
      bindings.push({ service, option, protocol, port });
    }
  }
  return bindings;
}

/** Listens on `port` (every address, both families); rejects with the listen error (`once` rejects on 'error'). */
async function listenTcp(server: NetServer, port: number): Promise<void> {
  const listening = once(server, 'listening');
  server.listen(port);
  await listening;
}

/** Binds a dual-stack UDP socket on `port`; rejects with the bind error. */
async function bindUdp(socket: DgramSocket, port: number): Promise<void> {
  const listening = once(socket, 'listening');
  socket.bind(port);
  await listening;
}

/**
 * Starts the services `options` names on `stack` (see the module doc). Async throughout: a
 * bad port or a clash rejects with a RangeError, a port that cannot be bound with the Node
 * error (EADDRINUSE, EACCES), a missing or non-directory `http.dir` with the file-system
 * error; nothing stays bound after a rejection.
 */
export async function startServices(stack: Stack, options: ServicesOptions): Promise<RunningServices> {
  const bindings = plan(options);
  const clock = options.clock ?? ((): Date => new Date());
  const runtime = stack.runtime;
  const http = options.http
    ? await createHttpService({ clock, ...(options.http.dir !== undefined ? { dir: options.http.dir } : {}), ...(options.onRequest ? { onRequest: options.onRequest } : {}) })
    : undefined;

  /** Open connections, each with the session that can end it gracefully. */
  const open = new Map<Socket, ServiceSession>();
  const servers: NetServer[] = [];
  const udpSockets: DgramSocket[] = [];
  /** Called when the last open connection closes (during close()). */
  let onAllClosed: (() => void) | undefined;

  /** Tracks one accepted connection: error handler first, then onOpen, then the service. */
  const accept = (service: ServiceName, socket: Socket, start: (socket: Socket) => ServiceSession): void => {
    const opened = runtime.now();
    const event: ConnectionOpened = {
      service,
      local: endpointText(socket.localAddress, socket.localPort),
      remote: endpointText(socket.remoteAddress, socket.remotePort),
    };
    let error: string | undefined;
    // Never let a socket error (a peer that reset, timed out...) reach the process.
    socket.on('error', (err: Error & { code?: string }) => {
      error ??= err.code ?? err.message;
    });
    let ended = false;
    socket.once('close', () => {
      ended = true;
      open.delete(socket);
      const closed: ConnectionClosed = {
        ...event,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        durationMs: (runtime.now() - opened) / 1000,
        ...(error !== undefined ? { error } : {}),
      };
      try {
        options.onClose?.(closed);
      } finally {
        if (open.size === 0) onAllClosed?.();
      }
    });
    options.onOpen?.(event);
    const session = start(socket);
    if (!ended) open.set(socket, session);
  };

  const tcpServices: Record<Exclude<ServiceName, 'udp-echo'>, (socket: Socket) => ServiceSession> = {
    http: (socket) => http!.accept(socket),
    echo: echoTcp,
    discard: discardTcp,
    chargen: chargenTcp,
    daytime: (socket) => daytimeTcp(socket, clock),
  };
  const udpServices: Record<Exclude<ServiceName, 'http'>, () => UdpResponder> = {
    echo: echoUdp,
    'udp-echo': echoUdp,
    discard: discardUdp,
    chargen: chargenUdp,
    daytime: () => daytimeUdp(clock),
  };

  const closeAll = async (): Promise<void> => {
    await Promise.all([
      ...servers.filter((s) => s.listening).map((s) => new Promise<void>((done) => s.close(() => done()))),
      ...udpSockets.map((u) => new Promise<void>((done) => u.close(() => done()))),
    ]);
  };

  try {
    for (const binding of bindings) {
      if (binding.protocol === 'tcp') {
        const service = binding.service as Exclude<ServiceName, 'udp-echo'>;
        const start = tcpServices[service];
        const server = stack.net.createServer((socket) => accept(service, socket, start));
        servers.push(server);
        await listenTcp(server, binding.port);
        server.on('error', () => undefined); // nothing after listen should emit one; never crash if it does
      } else {
        const respond = udpServices[binding.service as Exclude<ServiceName, 'http'>]();
        // A udp6 socket bound without an address is dual stack on l4 (IPv4 and IPv6 datagrams).
        const socket = stack.dgram.createSocket({ type: 'udp6', ipv6Only: false });
        await bindUdp(socket, binding.port);
        udpSockets.push(socket);
        socket.on('error', () => undefined); // a datagram service has no one to report to
        socket.on('message', (data: Buffer, rinfo: RemoteInfo) => {
          const answer = respond(data);
          if (answer === undefined) return;
          try {
            // Errors (ENOBUFS, no route back) drop the answer, as a lost datagram would be.
            socket.send(answer, rinfo.port, rinfo.address, () => undefined);
          } catch {
            // The socket was closed meanwhile.
          }
        });
      }
    }
  } catch (err) {
    for (const socket of open.keys()) socket.destroy();
    await closeAll();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const listening: readonly ListeningService[] = bindings.map(({ service, protocol, port }) => ({ service, protocol, port }));

  return {
    listening,
    get openConnections() {
      return open.size;
    },
    close(graceMs = DEFAULT_GRACE_MS) {
      if (closing) return closing;
      if (!Number.isFinite(graceMs) || graceMs < 0) return Promise.reject(new RangeError(`graceMs ${String(graceMs)} is not a non-negative number`));
      closing = (async () => {
        const allClosed = open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => { onAllClosed = resolve; });
        // Stop accepting first, so no connection slips in after the FINs go out.
        const stopped = closeAll();
        for (const session of [...open.values()]) session.shutdown();
        const cancel = open.size === 0 ? undefined : runtime.setTimer(runtime.now() + millis(graceMs), () => {
          for (const socket of open.keys()) socket.destroy();
        });
        await Promise.all([allClosed, stopped]);
        cancel?.();
      })();
      return closing;
    },
  };
}
