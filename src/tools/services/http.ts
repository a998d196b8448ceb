/**
 * The HTTP service of `l4 serve`: Node's own `http.Server`, fed with l4 sockets exactly as
 * the seeds' server is (`hello-server.ts`). `/` is always the seeds' page (`helloHandler`:
 * gzip when Accept-Encoding asks, 501 for methods other than GET and HEAD). Without a
 * directory every path is that page, as in the seeds. With a directory, `GET /NAME` and
 * `HEAD /NAME` serve the regular file NAME under it (subfolders allowed) as
 * `application/octet-stream` with its Content-Length, streamed with `fs.createReadStream`
 * through `pipeline` into the response, so l4's socket backpressure paces the disk reads and
 * a file of any size costs only a few buffers of memory. Answers: 404 for a missing file, a
 * directory (no listings) or anything that is not a regular file; 403 for a path that
 * leaves the directory (a `..` segment, plain or percent-encoded such as `%2e%2e` or
 * `..%2f`, or a symbolic link that resolves outside); 400 for an undecodable path; 405 (with
 * `Allow: GET, HEAD`) for other methods; a request Node cannot parse gets 400 (431 for
 * oversized headers) and the connection ends with FIN. HTTP/1.1 keep-alive is Node's (RFC 9112 9.3):
 * several requests share a connection. One log line per request, in the seeds' format
 * (`[MM/DD/YYYY HH:MM:SS] - client IP:port - METHOD path`). Semantics per RFC 9110.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { pipeline, type Duplex } from 'node:stream';
import type { Socket } from '../../api/net.js';
import { helloHandler, seedTimestamp } from '../hello-server.js';
import type { ServiceSession } from './simple.js';

/** Options of {@link createHttpService}. */
export interface HttpServiceOptions {
  /** Serve the files under this directory (it must exist and be a directory). */
  readonly dir?: string;
  /** The clock behind the log lines' timestamps. */
  readonly clock: () => Date;
  /** Receives one line per request (none are written anywhere else). */
  readonly onRequest?: (line: string) => void;
}

/** The HTTP service: the `http.Server` and how an accepted l4 socket is handed to it. */
export interface HttpService {
  /** Node's server; it never listens itself, l4's `net.Server` feeds it. */
  readonly server: HttpServer;
  /** Gives an accepted connection to the server; `shutdown()` ends it once its response in progress (if any) is complete. */
  accept(socket: Socket): ServiceSession;
}

/** Per connection: responses not yet complete, and whether a shutdown waits for them. */
interface ConnectionState {
  inFlight: number;
  closing: boolean;
}

/** Where a request's path leads: a file path inside the directory, or the status that refuses it. */
type Target = { readonly path: string } | { readonly status: 400 | 403 };

/**
 * Maps a request-target to a path under `root` (a real path), refusing anything that could
 * leave it. Origin-form (`/a/b?q`) is the usual case; absolute-form (`http://host/a/b`,
 * RFC 9112 3.2.2) is accepted too. `..` is checked after percent-decoding, so `%2e%2e` and
 * `..%2f` are caught; a path is then joined segment by segment and checked again.
 */
export function resolveRequestPath(root: string, url: string): Target {
  let raw = url;
  if (!raw.startsWith('/')) {
    try {
      raw = new URL(raw).pathname;
    } catch {
      return { status: 400 };
    }
  }
  raw = raw.replace(/[?#].*$/s, '');
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { status: 400 };
  }
  if (decoded.includes('\0')) return { status: 400 };
  // Backslashes too: harmless on POSIX, a separator on Windows.
  const segments = decoded.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { status: 403 };
  const path = join(root, ...segments);
  return inside(root, path) ? { path } : { status: 403 };
}

/** Whether `path` is `root` or below it (both absolute and normalised). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error',
};

/** A short text/plain answer (no body for HEAD, as RFC 9110 9.3.2 requires). */
function sendStatus(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  const body = `${REASONS[status] ?? 'Error'}\n`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The status for a file-system error met while looking a file up. */
function statusOf(err: unknown): number {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') return 404;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  return 500;
}

/** Serves GET/HEAD of one file under `root`. */
async function serveFile(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendStatus(req, res, 405, { allow: 'GET, HEAD' });
    return;
  }
  const target = resolveRequestPath(root, req.url ?? '/');
  if ('status' in target) {
    sendStatus(req, res, target.status);
    return;
  }
  let real: string;
  try {
    // A symbolic link under the directory may point anywhere: check where it really leads.
    real = await realpath(target.path);
  } catch (err) {
    sendStatus(req, res, statusOf(err));
    return;
  }
  if (!inside(root, real)) {
    sendStatus(req, res, 403);
    return;
  }
  let handle;
  try {
    handle = await open(real, 'r');
  } catch (err) {
    sendStatus(req, res, statusOf(err));
    return;
  }
  let size: number;
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      sendStatus(req, res, 404);
      return;
    }
    size = info.size;
  } catch (err) {
    await handle.close().catch(() => undefined);
    sendStatus(req, res, statusOf(err));
    return;
  }
  if (res.destroyed) {
    await handle.close();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  if (req.method === 'HEAD' || size === 0) {
    await handle.close();
    res.end();
    return;
  }
  // The stream owns the handle from here (autoClose): it is closed at the end or on destroy.
  // `end` bounds the read to the announced length; a file that shrank meanwhile ends the
  // stream early, and then the connection is cut rather than leaving the client waiting.
  const file = createReadStream(real, { fd: handle, start: 0, end: size - 1 });
  pipeline(file, res, (err) => {
    if (err || file.bytesRead < size) res.destroy();
  });
}

/** Creates the HTTP service (checks `dir` first: it must be a directory). */
export async function createHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const root = options.dir === undefined ? undefined : await realpath(options.dir);
  if (root !== undefined && !(await stat(root)).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, ${options.dir}`), { code: 'ENOTDIR', path: options.dir });
  }
  const log = options.onRequest ?? ((): void => undefined);
  const hello = helloHandler({ log, clock: options.clock });
  const states = new WeakMap<object, ConnectionState>();

  const server = createHttpServer((req, res) => {
    const state = states.get(req.socket);
    if (state) {
      state.inFlight++;
      res.once('close', () => {
        state.inFlight--;
        if (state.closing && state.inFlight === 0 && !req.socket.writableEnded) req.socket.end();
      });
    }
    const path = (req.url ?? '/').replace(/[?#].*$/s, '');
    if (root === undefined || path === '/') {
      hello(req, res); // logs the line itself
      return;
    }
    log(`[${seedTimestamp(options.clock())}] - ${req.socket.remoteAddress}:${req.socket.remotePort} - ${req.method} ${req.url}`);
    serveFile(root, req, res).catch(() => sendStatus(req, res, 500));
  });

  // A request Node cannot parse (or a socket error): Node's default answer writes a 400 and
  // then destroys the socket with the error, which on l4 (a destroy with an error is an
  // abort) sends a RST that can overtake the answer. Answer and end instead, Node's
  // documented pattern; a socket that can no longer be written (reset, timed out) just goes.
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  return {
    server,
    accept(socket) {
      const state: ConnectionState = { inFlight: 0, closing: false };
      states.set(socket, state);
      server.emit('connection', socket);
      return {
        shutdown() {
          state.closing = true;
          if (state.inFlight === 0 && !socket.writableEnded && !socket.destroyed) socket.end();
        },
      };
    },
  };
}
