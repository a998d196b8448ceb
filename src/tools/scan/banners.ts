/**
 * `--banners`: what an open TCP port says, and the service it names. Many services speak
 * first (SSH sends its version string, RFC 4253 4.2; SMTP and FTP a 220 greeting, RFC 5321
 * 4.2 and RFC 959 4.2); a web server waits for a request, so where one is likely (the
 * registry calls the port http, or it is a common web port) and the port stays silent, an
 * HTTP `HEAD /` is sent (RFC 9110 9.3.2: HEAD asks for the headers only) and the status
 * line and `Server` header are read. The connection goes through the operating system's
 * TCP (`node:net`) whatever the scan type, and is closed as soon as the banner is read.
 *
 * `identifyService` is pure: it names the service from the banner when the banner says
 * (method `probed`, as nmap's -sV reports), else from the IANA registry (method `table`,
 * nmap's name-by-port guess), and splits product and version where the banner gives them.
 */
import { Socket } from 'node:net';
import { serviceName } from '../registry.js';

/** What a port's banner said, and the service named from it. */
export interface ServiceInfo {
  /** The service name: `ssh`, `smtp`, `http`…, or undefined when neither banner nor registry names one. */
  readonly name?: string;
  /** `probed`: the banner named it; `table`: the registry's name for the port. */
  readonly method: 'probed' | 'table';
  readonly product?: string;
  readonly version?: string;
  /** The first line the service sent (or the HTTP status line), printable ASCII, at most 200 characters. */
  readonly banner?: string;
}

/** Ports where a web server is likely even when the registry does not say http. */
const WEB_PORTS = new Set([80, 81, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8888, 9000]);
/** TLS ports: a plaintext HEAD would only draw an error. */
const TLS_PORTS = new Set([443, 465, 636, 853, 989, 990, 992, 993, 995, 8443]);

/** True when an HTTP HEAD is worth sending to a silent `port`. */
export function webLikely(port: number): boolean {
  if (TLS_PORTS.has(port)) return false;
  if (WEB_PORTS.has(port)) return true;
  const name = serviceName(port, 'tcp') ?? '';
  return /^(http|www)/.test(name) && !/s$/.test(name);
}

/** Printable ASCII of the first line of `text`, at most `max` characters. */
function firstLine(text: string, max = 200): string {
  const line = text.split(/\r?\n/)[0] ?? '';
  return line.replace(/[^\x20-\x7e]/g, '.').slice(0, max).trim();
}

/** Names the service behind `port` from what it sent (`received`, possibly empty). */
export function identifyService(port: number, received: string): ServiceInfo {
  const banner = received === '' ? undefined : firstLine(received);
  const table = serviceName(port, 'tcp');
  const withBanner = <T extends object>(info: T): T & { banner?: string } => (banner === undefined ? info : { ...info, banner });
  if (banner !== undefined) {
    // RFC 4253 4.2: "SSH-protoversion-softwareversion SP comments CR LF".
    const ssh = /^SSH-(\d+\.\d+)-(\S+)/.exec(banner);
    if (ssh) {
      const sw = /^([A-Za-z][A-Za-z-]*?)[_-]v?(\d[\w.]*)/.exec(ssh[2]!);
      return withBanner({ name: 'ssh', method: 'probed' as const, ...(sw ? { product: sw[1]!, version: sw[2]! } : { product: ssh[2]! }) });
    }
    const http = /^HTTP\/\d(\.\d)?\s+\d{3}/.exec(banner);
    if (http) {
      const server = /^server:\s*([^\r\n]+)/im.exec(received)?.[1]?.trim();
      const pv = server ? /^([^/\s]+)(?:\/(\S+))?/.exec(server) : null;
      return withBanner({ name: 'http', method: 'probed' as const, ...(pv ? { product: pv[1]!, ...(pv[2] ? { version: pv[2] } : {}) } : {}) });
    }
    if (/^220[ -]/.test(banner)) {
      // RFC 5321 4.2 and RFC 959 4.2 both greet with 220; the text (or the port) tells which.
      const smtp = /\b(E?SMTP|Postfix|Exim|Sendmail|mail)\b/i.test(banner);
      const ftp = /\bFTP\b|FileZilla|vsFTPd|ProFTPD/i.test(banner);
      const name = ftp && !smtp ? 'ftp' : smtp && !ftp ? 'smtp' : [21, 2121].includes(port) ? 'ftp' : [25, 587, 2525].includes(port) ? 'smtp' : undefined;
      if (name) {
        const product = /\b(Postfix|Exim|Sendmail|OpenSMTPD|vsFTPd|ProFTPD|Pure-FTPd|FileZilla Server)\b(?:\s+v?(\d[\w.]*))?/i.exec(banner);
        return withBanner({ name, method: 'probed' as const, ...(product ? { product: product[1]!, ...(product[2] ? { version: product[2] } : {}) } : {}) });
      }
    }
    if (/^\+OK\b/.test(banner)) return withBanner({ name: 'pop3', method: 'probed' as const });
    if (/^\* OK\b/.test(banner)) return withBanner({ name: 'imap', method: 'probed' as const });
  }
  return withBanner(table === undefined ? { method: 'table' as const } : { name: table, method: 'table' as const });
}

/** Options of `readBanner`. */
export interface BannerOptions {
  /** How long to wait for the connection, then for the service to speak, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** How long a silent service gets before l4 sends HEAD (where a web server is likely), ms. Default 1000. */
  readonly quietMs?: number;
  /** Send HEAD to a silent port; default `webLikely(port)`. */
  readonly web?: boolean;
}

/**
 * Connects to `host`:`port`, reads what the service says first (or its answer to HEAD),
 * and names the service. Never rejects: a port that refuses, resets or stays silent gives
 * the registry's name.
 */
export function readBanner(host: string, port: number, options: BannerOptions = {}): Promise<ServiceInfo> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const quietMs = Math.min(options.quietMs ?? 1000, timeoutMs);
  const web = options.web ?? webLikely(port);
  return new Promise((resolve) => {
    const socket = new Socket();
    let received = '';
    let sentHead = false;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve(identifyService(port, received));
    };
    timers.push(setTimeout(finish, timeoutMs + (web ? timeoutMs : 0)));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      // A greeting is one line; an HTTP answer's headers end with an empty line.
      const complete = sentHead ? /\r?\n\r?\n/.test(received) : /\n/.test(received);
      if (complete || received.length >= 4096) finish();
      else if (timers.length < 3) timers.push(setTimeout(finish, 200));
    });
    socket.once('error', finish);
    socket.once('end', finish);
    socket.once('close', finish);
    socket.once('connect', () => {
      timers.push(setTimeout(() => {
        if (done || received !== '') return;
        if (!web) {
          finish();
          return;
        }
        sentHead = true;
        socket.write(`HEAD / HTTP/1.0\r\nHost: ${host.includes(':') ? `[${host}]` : host}\r\nUser-Agent: l4-scan\r\n\r\n`);
      }, quietMs));
    });
    socket.connect({ host, port });
  });
}
