/**
 * The control socket of a running `l4 serve`: a Unix socket at
 * `<dir>/serve-<pid>.sock` (dir: $L4_RUN_DIR, else /run/l4 for root, else the system's
 * temporary directory) through which `l4 netstat --serve PID` reads the server's socket
 * table. The protocol is one JSON document: the client connects, the server writes a
 * `ServeSnapshot` and closes. Nothing is read from the client, so nothing it sends can
 * change the server. The socket file is mode 0600 in a 0700 folder, and removed on close.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SocketInfo } from '../core/host.js';
import type { HostStats } from '../core/stats.js';
import { INITIAL_SSTHRESH } from '../core/tcp/congestion/newreno.js';
import type { CongestionAlgorithm, TcpConnectionInfo } from '../core/tcp/types.js';
import { formatEndpoint } from '../core/endpoint.js';
import { formatIp } from '../wire/address.js';

/**
 * One socket of the server, as `l4 netstat --serve` shows it. Times in milliseconds. The
 * optional fields are a TCP connection's, named as in `TcpConnectionInfo`; the JSON form of
 * `l4 netstat --serve --json` carries them all under these names.
 */
export interface ServeSocketRow {
  readonly proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  readonly local: string;
  readonly remote: string;
  readonly state: string;
  readonly recvQ: number;
  readonly sendQ: number;
  /** TCP connections only. */
  readonly srttMs?: number;
  readonly rttvarMs?: number;
  readonly rtoMs?: number;
  readonly cwnd?: number;
  readonly ssthresh?: number;
  readonly mss?: number;
  readonly sendWindow?: number;
  readonly receiveWindow?: number;
  readonly retransmissions?: number;
  readonly bytesSent?: number;
  readonly bytesReceived?: number;
  /** Segments sent and received. */
  readonly segmentsSent?: number;
  readonly segmentsReceived?: number;
  readonly congestionControl?: CongestionAlgorithm;
  /**
   * Window scaling as negotiated (RFC 7323 2): the peer's shift, applied to the windows it
   * sends (Snd.Wind.Shift), and ours (Rcv.Wind.Shift); null while it is not in use.
   */
  readonly sendWindowShift?: number | null;
  readonly receiveWindowShift?: number | null;
  /** Both SYNs carried Timestamps (RFC 7323 3), and SACK-permitted (RFC 2018 2). */
  readonly timestamps?: boolean;
  readonly sackPermitted?: boolean;
  /** 'open', 'fast-recovery' or 'rto-recovery'. */
  readonly lossRecovery?: TcpConnectionInfo['lossRecovery'];
  /** The scoreboard: bytes SACKed and bytes deemed lost; RFC 6675's pipe. */
  readonly sackedBytes?: number;
  readonly lostBytes?: number;
  readonly pipe?: number;
  /** Retransmission timeouts, fast recoveries entered, tail loss probes sent and the losses they repaired (RFC 8985 7). */
  readonly retransmitTimeouts?: number;
  readonly fastRecoveries?: number;
  readonly tailLossProbes?: number;
  readonly tailLossRecoveries?: number;
}

/** What the control socket answers. */
export interface ServeSnapshot {
  readonly pid: number;
  readonly tun: string;
  readonly addresses: readonly string[];
  readonly uptimeMs: number;
  readonly sockets: readonly ServeSocketRow[];
  readonly stats: HostStats;
}

/** Where the control socket of `pid` lives. */
export function controlSocketPath(pid: number, dir = controlDirectory()): string {
  return join(dir, `serve-${pid}.sock`);
}

/** $L4_RUN_DIR, else /run/l4 for root, else <tmpdir>/l4-<uid>. */
export function controlDirectory(): string {
  if (process.env.L4_RUN_DIR) return process.env.L4_RUN_DIR;
  const uid = process.getuid?.();
  return uid === 0 ? '/run/l4' : join(tmpdir(), `l4-${uid ?? 'user'}`);
}

const ms = (us: number | undefined): number | undefined => (us === undefined ? undefined : Math.round(us / 10) / 100);

/** A socket-table row of the host as a plain JSON record. */
export function serveSocketRow(info: SocketInfo): ServeSocketRow {
  const six = info.local.address.length === 16;
  if (info.kind === 'listener') {
    return {
      proto: six || info.dualStack ? 'tcp6' : 'tcp', local: formatEndpoint(info.local),
      remote: six || info.dualStack ? '[::]:*' : '0.0.0.0:*', state: 'LISTEN', recvQ: info.pending, sendQ: info.backlog,
    };
  }
  if (info.kind === 'udp') {
    return {
      proto: six || info.dualStack ? 'udp6' : 'udp', local: formatEndpoint(info.local),
      remote: info.remote ? formatEndpoint(info.remote) : (six || info.dualStack ? '[::]:*' : '0.0.0.0:*'),
      state: info.state, recvQ: info.receiveQueue, sendQ: info.sendQueue,
    };
  }
  return {
    proto: six ? 'tcp6' : 'tcp', local: formatEndpoint(info.local), remote: formatEndpoint(info.remote), state: info.state,
    recvQ: info.receiveQueue, sendQ: info.sendQueue, srttMs: ms(info.srtt), rttvarMs: ms(info.rttvar), rtoMs: ms(info.rto),
    cwnd: info.cwnd, ssthresh: info.ssthresh, mss: info.mss, sendWindow: info.sendWindow, receiveWindow: info.receiveWindow,
    retransmissions: info.retransmissions, bytesSent: info.bytesSent, bytesReceived: info.bytesReceived,
    segmentsSent: info.segmentsSent, segmentsReceived: info.segmentsReceived, congestionControl: info.congestionControl,
    sendWindowShift: info.windowScaling.send ?? null, receiveWindowShift: info.windowScaling.receive ?? null,
    timestamps: info.timestamps, sackPermitted: info.sackPermitted, lossRecovery: info.lossRecovery,
    sackedBytes: info.sackedBytes, lostBytes: info.lostBytes, pipe: info.pipe, retransmitTimeouts: info.retransmitTimeouts,
    fastRecoveries: info.fastRecoveries, tailLossProbes: info.tailLossProbes, tailLossRecoveries: info.tailLossRecoveries,
  };
}

/**
 * The detail of a TCP connection on one line, as `ss -ti` prints it below the connection:
 * `ts` and `sack` when negotiated, the congestion control, `wscale:<send>,<receive>` when
 * negotiated, `mss`, `ssthresh` once it has been set, bytes and segments each way; then, as
 * ss does for its `lost` and `sacked`, only what is not zero (or not 'open'): `recovery`,
 * `pipe`, `sacked`, `lost`, `rto_count` (retransmission timeouts), `fast_recoveries` and
 * `tlp:<probes>/<recoveries>`. The figures srtt, rto, cwnd and retrans have their own
 * columns and are not repeated. Undefined for a row that is not a TCP connection.
 */
export function tcpDetail(row: ServeSocketRow): string | undefined {
  if (row.lossRecovery === undefined) return undefined;
  const parts: string[] = [];
  if (row.timestamps) parts.push('ts');
  if (row.sackPermitted) parts.push('sack');
  if (row.congestionControl !== undefined) parts.push(row.congestionControl);
  if (row.sendWindowShift != null && row.receiveWindowShift != null) parts.push(`wscale:${row.sendWindowShift},${row.receiveWindowShift}`);
  parts.push(`mss:${row.mss}`);
  if (row.ssthresh !== undefined && row.ssthresh < INITIAL_SSTHRESH) parts.push(`ssthresh:${row.ssthresh}`);
  parts.push(`bytes_sent:${row.bytesSent}`, `bytes_received:${row.bytesReceived}`, `segs_out:${row.segmentsSent}`, `segs_in:${row.segmentsReceived}`);
  if (row.lossRecovery !== 'open') parts.push(`recovery:${row.lossRecovery}`);
  const counts: Array<[string, number | undefined]> = [
    ['pipe', row.pipe], ['sacked', row.sackedBytes], ['lost', row.lostBytes],
    ['rto_count', row.retransmitTimeouts], ['fast_recoveries', row.fastRecoveries],
  ];
  for (const [name, value] of counts) if (value) parts.push(`${name}:${value}`);
  if (row.tailLossProbes) parts.push(`tlp:${row.tailLossProbes}/${row.tailLossRecoveries}`);
  return parts.join(' ');
}

/** `Uint8Array` addresses of an interface list, as text with prefix. */
export function formatAddresses(addresses: readonly { address: Uint8Array; prefixLength: number }[]): string[] {
  return addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength}`);
}

/** A listening control socket. */
export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Opens the control socket for this process; `snapshot` is called for each client. */
export function openControlSocket(snapshot: () => ServeSnapshot, dir = controlDirectory()): Promise<ControlSocket> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = controlSocketPath(process.pid, dir);
  rmSync(path, { force: true }); // a stale file of an earlier process with our pid
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    client.end(`${JSON.stringify(snapshot())}\n`);
  });
  server.unref(); // the control socket alone never keeps the process alive
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      chmodSync(path, 0o600);
      resolve({
        path,
        close: () => new Promise((done) => {
          server.close(() => done());
          rmSync(path, { force: true });
        }),
      });
    });
  });
}

/** Asks the `l4 serve` of `pid` for its snapshot. Rejects with a message fit for one line. */
export function querySnapshot(pid: number, dir = controlDirectory(), timeoutMs = 5000): Promise<ServeSnapshot> {
  const path = controlSocketPath(pid, dir);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${path} within ${timeoutMs} ms`)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
        ? `no l4 serve with pid ${pid} (no control socket at ${path})`
        : `${path}: ${error.message}`));
    });
    socket.on('end', () => {
      try {
        resolve(JSON.parse(text) as ServeSnapshot);
      } catch {
        reject(new Error(`${path} answered something that is not a snapshot`));
      }
    });
  });
}
