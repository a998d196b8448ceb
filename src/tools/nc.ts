/**
 * netcat over an l4 stack: copy a byte stream (stdin) to one TCP connection or UDP peer and
 * what comes back to another stream (stdout), as `nc` does, with nothing tied to a device:
 * `runNc` takes any `Stack` (a TUN device's in `l4 nc`, a virtual network's in tests).
 *
 * TCP: as a client it connects to `host:port`; with `listen` it accepts ONE connection on
 * `port` (and `host` if given) and stops listening. Bytes are copied both ways with
 * backpressure (stdin is piped into the socket; the socket pauses while stdout asks it to).
 * When stdin ends the socket is half-closed (FIN, like `nc -N`) and reading goes on; the run
 * ends with 0 once the peer has closed its side and every byte it sent has been written to
 * stdout (if stdin has not ended by then, the rest of it is not sent). `quitAfterEofMs`
 * ends the run that long after stdin's end even if the peer keeps its side open.
 *
 * UDP: stdin is cut into datagrams (each read chunk split to what fits the route's MTU
 * without fragmentation: MTU - 28 over IPv4, MTU - 48 over IPv6) sent to the peer; every
 * datagram from the peer is written to stdout. With `listen` the first datagram's sender
 * becomes the peer (the socket is connected to it). UDP has no close: the run ends
 * `quitAfterEofMs` (default 1 s) after stdin's end. An ICMP port unreachable for a
 * datagram ends it with ECONNREFUSED, as for `nc -u`.
 *
 * Exit codes: 0 done; 1 the connection failed (refused, reset, timed out) or a stream
 * broke, with `error` saying so in one line; 2 options that cannot work (a host that is not
 * an IP address). Every timer (connect timeout, idle timeout, quit after EOF) runs on the
 * stack's runtime (`setTimer`, µs), so on a virtual network they follow virtual time.
 */
import type { Readable, Writable } from 'node:stream';
import type { Socket as DgramSocket, RemoteInfo } from '../api/dgram.js';
import type { Server, Socket } from '../api/net.js';
import type { Stack } from '../api/stack.js';
import { formatEndpoint } from '../core/endpoint.js';
import { millis } from '../time/instant.js';
import { parseIpAddress } from '../wire/address.js';

/** The connect timeout when none is given: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long UDP goes on after stdin's end when `quitAfterEofMs` is not given: 1 s. */
export const DEFAULT_UDP_QUIT_MS = 1_000;
/** IPv4 (20) + UDP (8) header bytes: a datagram's payload is at most MTU - 28. */
const UDP_IPV4_OVERHEAD = 28;
/** IPv6 (40) + UDP (8) header bytes: a datagram's payload is at most MTU - 48. */
const UDP_IPV6_OVERHEAD = 48;

/** What to do (the command line's flags, in units a program uses). */
export interface NcOptions {
  /** The peer (client) or the local address to listen on (`listen`; optional): an IPv4 or IPv6 literal. */
  readonly host?: string;
  /** The peer's port (client) or the port to listen on, 1-65535. */
  readonly port: number;
  /** Accept one connection (TCP) or take the first datagram's sender as the peer (UDP). */
  readonly listen?: boolean;
  /** UDP instead of TCP. */
  readonly udp?: boolean;
  /** End this long after stdin's end, even if the peer keeps its side open (`-q`). Default: TCP waits for the peer; UDP 1 s. */
  readonly quitAfterEofMs?: number;
  /** Give up a TCP connect after this long (`-w`); default 10 s. */
  readonly connectTimeoutMs?: number;
  /** End quietly (exit 0) once nothing has moved either way for this long (`-w`); default never. */
  readonly idleTimeoutMs?: number;
  /** Tell `io.stderr` what happens (listening, connected, peer closed...), one line each. */
  readonly verbose?: boolean;
}

/** The streams of a run. */
export interface NcIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  /** Progress lines (with `verbose`), without a trailing newline or a prefix. */
  readonly stderr?: (line: string) => void;
}

/** How a run ended. */
export interface NcResult {
  /** 0 done, 1 a connection or stream failure, 2 unusable options. */
  readonly exitCode: 0 | 1 | 2;
  /** Bytes taken from stdin and handed to the connection (TCP) or sent in datagrams (UDP). */
  readonly bytesSent: number;
  /** Bytes from the peer handed to stdout. */
  readonly bytesReceived: number;
  /** One line on what failed (exit codes 1 and 2). */
  readonly error?: string;
}

/** Runs netcat on `stack` (see the module doc); resolves once the run is over and stdout has taken every byte. */
export function runNc(stack: Stack, options: NcOptions, io: NcIo): Promise<NcResult> {
  return new Promise((resolve) => new NcRun(stack, options, io, resolve).start());
}

/** `10.0.0.1:80` or `[fd00::1]:80`. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One line for a socket error: what was being done, to whom, and Node's code. */
function describeError(err: Error & { code?: string; syscall?: string }, peer: string, udp: boolean): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `${udp ? 'udp to' : 'connect to'} ${peer} refused (ECONNREFUSED)`;
    case 'ECONNRESET': return `connection to ${peer} reset by peer (ECONNRESET)`;
    case 'ETIMEDOUT': return err.syscall === 'connect' ? `connect to ${peer} timed out (ETIMEDOUT)` : `connection to ${peer} timed out (ETIMEDOUT)`;
    case 'ECONNABORTED': return `connection to ${peer} aborted (ECONNABORTED)`;
    case undefined: return `${peer}: ${err.message}`;
    default: return `${err.syscall ?? 'socket'} ${peer}: ${err.code}${err.message.includes(err.code) ? '' : ` (${err.message})`}`;
  }
}

/** One run: the state every path shares, and `finish`, which ends it exactly once. */
class NcRun {
  readonly #stack: Stack;
  readonly #options: NcOptions;
  readonly #io: NcIo;
  readonly #resolve: (result: NcResult) => void;
  readonly #timers = new Set<() => void>();
  readonly #cleanups: Array<() => void> = [];
  #bytesSent = 0;
  #bytesReceived = 0;
  /** stdout writes not yet called back. */
  #pendingWrites = 0;
  #finished: NcResult | undefined;
  #resolved = false;
  #lastActivity = 0;
  /** A TCP socket's bytes written, read at the end (what the connection took from stdin). */
  #tcpSocket: Socket | undefined;
  /** The peer has closed its side (TCP): the run is over once stdout has everything. */
  #peerEnded = false;
  /** stdout is gone: end a TCP connection with RST rather than FIN. */
  #resetOnClose = false;

  constructor(stack: Stack, options: NcOptions, io: NcIo, resolve: (result: NcResult) => void) {
    this.#stack = stack;
    this.#options = options;
    this.#io = io;
    this.#resolve = resolve;
  }

  start(): void {
    const { host, port, listen, udp } = this.#options;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      this.#finish(2, `port ${port} is outside 1..65535`);
      return;
    }
    if (host !== undefined && parseIpAddress(host) === null) {
      this.#finish(2, `HOST must be an IP address, not '${host}' (no DNS)`);
      return;
    }
    if (!listen && host === undefined) {
      this.#finish(2, 'a client needs a HOST');
      return;
    }
    const onStdoutError = (err: NodeJS.ErrnoException): void => {
      // A reader that went away (`l4 nc ... | head`) ends the run quietly, as for the other tools.
      // What the peer still sends can go nowhere: reset the connection, as a kernel does for a
      // socket closed with unread data (l4's device is gone once the run is over, so nothing
      // would answer the peer's later segments).
      this.#resetOnClose = true;
      if (err.code === 'EPIPE') this.#finish(0);
      else this.#finish(1, `stdout: ${err.message}`);
    };
    this.#io.stdout.on('error', onStdoutError);
    this.#cleanups.push(() => this.#io.stdout.off('error', onStdoutError));
    const onStdinError = (err: Error): void => this.#finish(1, `stdin: ${err.message}`);
    this.#io.stdin.on('error', onStdinError);
    this.#cleanups.push(() => this.#io.stdin.off('error', onStdinError));
    if (udp) {
      if (listen) this.#udpListen();
      else this.#udpClient(host!);
    } else if (listen) {
      this.#tcpListen();
    } else {
      this.#tcpClient(host!);
    }
  }

  // --- shared ---------------------------------------------------------------------

  #log(line: string): void {
    if (this.#options.verbose) this.#io.stderr?.(line);
  }

  #now(): number {
    return this.#stack.runtime.now();
  }

  /** A timer `afterMs` from now on the stack's clock, which `finish` cancels. */
  #timer(afterMs: number, callback: () => void): () => void {
    return this.#timerAt(this.#now() + millis(afterMs), callback);
  }

  /** A timer at instant `at` on the stack's clock, which `finish` cancels. */
  #timerAt(at: number, callback: () => void): () => void {
    const holder: { cancel?: () => void } = {};
    const stop = (): void => {
      this.#timers.delete(stop);
      holder.cancel?.();
    };
    holder.cancel = this.#stack.runtime.setTimer(at, () => {
      this.#timers.delete(stop);
      callback();
    });
    this.#timers.add(stop);
    return stop;
  }

  #touch(): void {
    this.#lastActivity = this.#now();
  }

  /** `-w`: ends the run once nothing has moved for `idleTimeoutMs` (checked lazily, as net.Socket's timeout). */
  #armIdle(): void {
    const idleMs = this.#options.idleTimeoutMs;
    if (idleMs === undefined || idleMs <= 0) return;
    this.#touch();
    const check = (): void => {
      if (this.#finished) return;
      const due = this.#lastActivity + millis(idleMs);
      if (this.#now() >= due) {
        this.#log(`idle for ${idleMs / 1000} s: closing`);
        this.#finish(0);
      } else {
        this.#timerAt(due, check);
      }
    };
    this.#timer(idleMs, check);
  }

  /** After stdin's end: quit after `quitAfterEofMs` (or `fallbackMs`), if there is one. */
  #armQuit(fallbackMs: number | undefined): void {
    const quitMs = this.#options.quitAfterEofMs ?? fallbackMs;
    if (quitMs === undefined) return;
    this.#timer(quitMs, () => {
      this.#log(`quitting ${quitMs / 1000} s after the end of stdin`);
      this.#finish(0);
    });
  }

  /** Hands bytes from the peer to stdout; false when stdout asks the source to wait for 'drain'. */
  #output(chunk: Buffer): boolean {
    this.#bytesReceived += chunk.length;
    this.#touch();
    this.#pendingWrites++;
    return this.#io.stdout.write(chunk, () => {
      this.#pendingWrites--;
      if (this.#pendingWrites === 0) this.#settle();
    });
  }

  /** Ends the run once: stops timers, reading and sockets; resolves when stdout has every byte. */
  #finish(exitCode: 0 | 1 | 2, error?: string): void {
    if (this.#finished) return;
    for (const stop of [...this.#timers]) stop();
    for (const cleanup of this.#cleanups.splice(0).reverse()) cleanup();
    const bytesSent = this.#tcpSocket ? this.#tcpSocket.bytesWritten : this.#bytesSent;
    this.#finished = { exitCode, bytesSent, bytesReceived: this.#bytesReceived, ...(error !== undefined ? { error } : {}) };
    this.#settle();
  }

  #settle(): void {
    if (this.#peerEnded && !this.#finished && this.#pendingWrites === 0) {
      this.#finish(0);
      return;
    }
    if (!this.#finished || this.#resolved || this.#pendingWrites > 0) return;
    this.#resolved = true;
    this.#resolve(this.#finished);
  }

  /** Stops reading stdin (so a process can exit with its stdin still open). */
  #stopStdin(): void {
    this.#io.stdin.pause();
  }

  // --- TCP ------------------------------------------------------------------------

  #tcpClient(host: string): void {
    const peer = hostPort(host, this.#options.port);
    const socket = this.#stack.net.connect({ host, port: this.#options.port, allowHalfOpen: true });
    this.#watchSocket(socket, peer);
    const connectMs = this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const stopConnectTimer = this.#timer(connectMs, () => {
      if (socket.connecting) this.#finish(1, `connect to ${peer} timed out`);
    });
    socket.once('connect', () => {
      stopConnectTimer();
      this.#log(`connected to ${peer} from ${hostPort(socket.localAddress ?? '?', socket.localPort ?? 0)}`);
      this.#copy(socket);
    });
  }

  #tcpListen(): void {
    const { host, port } = this.#options;
    const server: Server = this.#stack.net.createServer({ allowHalfOpen: true });
    let accepted: Socket | undefined;
    server.on('error', (err: Error & { code?: string }) => {
      this.#finish(1, `listen on ${host === undefined ? `port ${port}` : hostPort(host, port)}: ${err.code ?? err.message}`);
    });
    server.on('connection', (socket: Socket) => {
      if (accepted || this.#finished) {
        socket.resetAndDestroy(); // one connection only (a second one queued before close)
        return;
      }
      accepted = socket;
      if (server.listening) server.close();
      const peer = hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
      this.#log(`connection from ${peer}`);
      this.#watchSocket(socket, peer);
      this.#copy(socket);
    });
    server.listen({ port, ...(host !== undefined ? { host } : {}) }, () => {
      this.#log(`listening on ${this.#listenAddresses(host, port)}`);
    });
    this.#cleanups.push(() => {
      if (server.listening) server.close();
    });
  }

  /** What a listener on (host, port) answers on: the host, or every address of the stack. */
  #listenAddresses(host: string | undefined, port: number): string {
    if (host !== undefined) return hostPort(host, port);
    const addresses = this.#stack.host.interfaces().filter((i) => !i.loopback).flatMap((i) => i.addresses);
    if (addresses.length === 0) return `port ${port}`;
    return addresses.map((a) => formatEndpoint({ address: a.address, port })).join(', ');
  }

  /** Errors and the end of a socket, from its first moment. */
  #watchSocket(socket: Socket, peer: string): void {
    this.#tcpSocket = socket;
    socket.on('error', (err: Error & { code?: string }) => this.#finish(1, describeError(err, peer, false)));
    socket.on('end', () => {
      this.#log(`${peer} closed its side`);
      this.#peerEnded = true;
      this.#settle();
    });
    socket.on('close', () => {
      // After an error the 'error' handler has already finished the run.
      if (!this.#peerEnded) this.#finish(1, `connection to ${peer} closed before the peer's FIN`);
    });
    this.#cleanups.push(() => {
      if (socket.destroyed) return;
      if (this.#resetOnClose && !this.#peerEnded) socket.resetAndDestroy();
      else socket.destroy();
    });
  }

  /** stdin -> socket (piped: backpressure, FIN at stdin's end), socket -> stdout (paused while stdout is full). */
  #copy(socket: Socket): void {
    const { stdin, stdout } = this.#io;
    this.#armIdle();
    const onData = (chunk: Buffer): void => {
      if (!this.#output(chunk)) {
        socket.pause();
        stdout.once('drain', () => socket.resume());
      }
    };
    socket.on('data', onData);
    const onStdinData = (): void => this.#touch();
    const onStdinEnd = (): void => {
      this.#log('end of stdin: half-closing (FIN)');
      this.#armQuit(undefined);
    };
    stdin.on('data', onStdinData);
    this.#cleanups.push(() => {
      stdin.unpipe(socket);
      stdin.off('data', onStdinData);
      stdin.off('end', onStdinEnd);
      socket.off('data', onData);
      this.#stopStdin();
    });
    if (stdin.readableEnded) {
      socket.end();
      onStdinEnd();
      return;
    }
    stdin.once('end', onStdinEnd);
    stdin.pipe(socket);
  }

  // --- UDP ------------------------------------------------------------------------

  #udpClient(host: string): void {
    const { port } = this.#options;
    const peer = hostPort(host, port);
    const socket = this.#stack.dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.#watchDgram(socket, () => peer);
    socket.on('message', (msg: Buffer) => this.#output(msg));
    socket.connect(port, host, () => {
      this.#log(`udp to ${peer} from ${hostPort(socket.address().address, socket.address().port)}`);
      this.#udpCopy(socket, parseIpAddress(host)!, peer);
    });
  }

  #udpListen(): void {
    const { host, port } = this.#options;
    const socket = this.#stack.dgram.createSocket(host === undefined || host.includes(':') ? 'udp6' : 'udp4');
    let peer: RemoteInfo | undefined;
    this.#watchDgram(socket, () => (peer ? hostPort(peer.address, peer.port) : host === undefined ? `port ${port}` : hostPort(host, port)));
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (!peer) {
        peer = rinfo;
        const name = hostPort(rinfo.address, rinfo.port);
        this.#log(`udp peer ${name}`);
        // The first sender is the peer from now on: only its datagrams are taken.
        socket.connect(rinfo.port, rinfo.address, () => this.#udpCopy(socket, parseIpAddress(rinfo.address)!, name));
      } else if (rinfo.address !== peer.address || rinfo.port !== peer.port) {
        return;
      }
      this.#output(msg);
    });
    socket.bind(port, host, () => this.#log(`listening on ${this.#listenAddresses(host, port)} (udp)`));
  }

  #watchDgram(socket: DgramSocket, peer: () => string): void {
    socket.on('error', (err: Error & { code?: string }) => this.#finish(1, describeError(err, peer(), true)));
    this.#cleanups.push(() => {
      try {
        socket.close();
      } catch {
        // closed already
      }
    });
  }

  /** stdin -> datagrams to the peer (at most one stdin chunk per turn of the runtime), stdin's end -> quit timer. */
  #udpCopy(socket: DgramSocket, remote: Uint8Array, peer: string): void {
    const { stdin } = this.#io;
    const v4 = remote.length === 4;
    const mtu = this.#stack.host.route(remote)?.mtu ?? 1500;
    const maxPayload = Math.max(1, mtu - (v4 ? UDP_IPV4_OVERHEAD : UDP_IPV6_OVERHEAD));
    this.#armIdle();
    const onData = (chunk: Buffer): void => {
      this.#touch();
      for (let offset = 0; offset < chunk.length; offset += maxPayload) {
        const datagram = chunk.subarray(offset, Math.min(chunk.length, offset + maxPayload));
        this.#bytesSent += datagram.length;
        socket.send(datagram, (err) => {
          if (err) this.#finish(1, describeError(err as Error & { code?: string }, peer, true));
        });
      }
      // UDP has no backpressure: give the driver a turn to put these datagrams on the wire
      // before the next chunk, so the socket's send buffer never overflows (ENOBUFS).
      stdin.pause();
      this.#timer(0, () => {
        if (!this.#finished) stdin.resume();
      });
    };
    const onEnd = (): void => {
      this.#log('end of stdin');
      this.#armQuit(DEFAULT_UDP_QUIT_MS);
    };
    this.#cleanups.push(() => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      this.#stopStdin();
    });
    if (stdin.readableEnded) {
      onEnd();
      return;
    }
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  }
}
