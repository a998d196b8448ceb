/**
 * The web server of the seeds, on l4: Node's own `http.Server`, unchanged, fed with l4
 * sockets. It answers every GET with `<HTML><h1>Hello World!</h1></HTML>`, gzip-compressed
 * (level 5, as the seeds' Python does) when the request's Accept-Encoding names gzip, with
 * Content-Length, and logs one line per request in the seeds' format:
 * `[MM/DD/YYYY HH:MM:SS] - client IP:source port - method path`.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Net, Server as NetServer, Socket } from '../api/net.js';

/** The body of every answer. */
export const HELLO_BODY = '<HTML><h1>Hello World!</h1></HTML>';

/** Options of {@link createHelloServer}. */
export interface HelloServerOptions {
  /** Where log lines go (default: console.log). */
  log?: (line: string) => void;
  /** The clock behind the log's timestamps (default: the wall clock). */
  clock?: () => Date;
}

/** `MM/DD/YYYY HH:MM:SS` in UTC, the seeds' strftime format. */
export function seedTimestamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** Whether an Accept-Encoding header admits gzip (a q=0 refusal included). */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The request handler, usable with any `http.Server`. */
export function helloHandler(options: HelloServerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => console.log(line));
  const clock = options.clock ?? (() => new Date());
  const plain = Buffer.from(HELLO_BODY);
  const compressed = gzipSync(plain, { level: 5 });
  return (req, res) => {
    log(`[${seedTimestamp(clock())}] - ${req.socket.remoteAddress}:${req.socket.remotePort} - ${req.method} ${req.url}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(501, { 'content-type': 'text/plain', 'content-length': 16 }).end('Not Implemented\n');
      return;
    }
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    const body = gzip ? compressed : plain;
    res.writeHead(200, {
      'content-type': 'text/html',
      'content-length': body.length,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** The seeds' server listening on an l4 host: Node's http.Server fed by an l4 net.Server. */
export interface HelloServer {
  readonly http: HttpServer;
  readonly tcp: NetServer;
  close(): Promise<void>;
}

/** Starts the seeds' server on `port` of the host behind `net`. */
export function createHelloServer(net: Net, port: number, options: HelloServerOptions = {}): Promise<HelloServer> {
  const http = createHttpServer(helloHandler(options));
  const tcp = net.createServer((socket: Socket) => http.emit('connection', socket));
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, () => {
      tcp.off('error', reject);
      resolve({
        http,
        tcp,
        close: () => new Promise<void>((done) => {
          http.closeAllConnections?.();
          tcp.close(() => done());
        }),
      });
    });
  });
}
