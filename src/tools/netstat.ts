/**
 * This Linux host's TCP and UDP sockets, read from `/proc/net/{tcp,tcp6,udp,udp6}` the way
 * netstat reads them. `parseProcNet` is a pure function of the file text: it never throws,
 * and skips and counts lines it cannot read. Kernel facts it relies on
 * (net/ipv4/tcp_ipv4.c `get_tcp4_sock`, net/ipv6/tcp_ipv6.c, net/ipv4/udp.c):
 *
 * - An IPv4 address is the 32-bit network-order word printed with `%08X` as the host reads
 *   it, so on a little-endian host 127.0.0.1 is `0100007F`. An IPv6 address is four such
 *   words, each in host order. Ports are printed after `ntohs`, so they read as they are.
 * - `st` is the kernel's TCP state (01 ESTABLISHED … 0B CLOSING). UDP reuses two codes:
 *   01 for a connected socket and 07 (CLOSE) for an unconnected one.
 * - `tx_queue:rx_queue` are what netstat shows as Send-Q and Recv-Q. For a TCP connection:
 *   bytes sent but not yet acknowledged (write_seq − snd_una) and bytes received but not
 *   yet read by the application (rcv_nxt − copied_seq). For a TCP listener the kernel puts
 *   the current accept-queue length (connections completed, waiting for `accept()`) in
 *   rx_queue and 0 in tx_queue: the backlog limit is not in /proc (ss shows it as Send-Q
 *   from netlink, so the two tools differ there). For UDP: the bytes of send and receive
 *   buffer memory in use, overhead included, not payload bytes.
 *
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket talking IPv4) is shown
 * as the IPv4 address; the socket stays `tcp6`/`udp6` and is marked `ipv4Mapped`. The
 * owning processes come from `/proc/[pid]/fd/*` links named `socket:[inode]`; processes
 * that cannot be read (another user's, without root, or gone meanwhile) are skipped and
 * counted.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import { serviceName } from './registry.js';

/** The transport protocol of a socket. */
export type SocketProtocol = 'tcp' | 'udp';

/** The address family of a socket: which /proc file it came from. */
export type SocketFamily = 4 | 6;

/** Byte order of the host that printed the /proc text. */
export type Endianness = 'LE' | 'BE';

/** The kernel's TCP states by code (include/net/tcp_states.h), in netstat's spelling. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  // Internal states that /proc does not normally print (request sockets print as SYN_RECV).
  0x0c: 'NEW_SYN_RECV',
  0x0d: 'BOUND_INACTIVE',
};

/** The same states as RFC 9293 names them (Linux's CLOSE is the RFC's CLOSED). */
export const RFC_TCP_STATES: Readonly<Record<number, string>> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN-SENT',
  0x03: 'SYN-RECEIVED',
  0x04: 'FIN-WAIT-1',
  0x05: 'FIN-WAIT-2',
  0x06: 'TIME-WAIT',
  0x07: 'CLOSED',
  0x08: 'CLOSE-WAIT',
  0x09: 'LAST-ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
};

/** The name of a state code; unknown codes read `UNKNOWN(0xNN)`. */
export function tcpStateName(code: number): string {
  return TCP_STATES[code] ?? `UNKNOWN(0x${code.toString(16).padStart(2, '0')})`;
}

/** One socket line of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface ProcSocket {
  protocol: SocketProtocol;
  family: SocketFamily;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** An address of this IPv6 socket was IPv4-mapped (`::ffff:a.b.c.d`): both are shown as IPv4 (`::` as `0.0.0.0`). */
  ipv4Mapped: boolean;
  stateCode: number;
  /** netstat's spelling (`ESTABLISHED`, `LISTEN`, `TIME_WAIT`, …); `CLOSE` for an unconnected UDP socket. */
  state: string;
  /** Recv-Q: see the module comment for what it counts in each case. */
  recvQueue: number;
  /** Send-Q: see the module comment. */
  sendQueue: number;
  uid: number;
  /** Socket inode; 0 for a socket no file refers to (TIME_WAIT, request sockets). */
  inode: number;
}

/** What `parseProcNet` read from one file. */
export interface ProcNetParse {
  sockets: ProcSocket[];
  /** Lines that were neither the header, blank, nor a readable socket line. */
  malformed: number;
}

/** Options of `parseProcNet`. */
export interface ParseOptions {
  /** Byte order of the host that wrote the text; default this host's. */
  endianness?: Endianness;
}

/** An address decoded from /proc hex. */
export interface DecodedAddress {
  address: string;
  /** An IPv6 address in `::ffff:0:0/96`, given here as its IPv4 text. */
  ipv4Mapped: boolean;
}

function wordBytes(hex: string, order: Endianness, out: Uint8Array, offset: number): void {
  const v = Number.parseInt(hex, 16);
  for (let i = 0; i < 4; i++) {
    // A little-endian host printed the word with the first network byte lowest.
    const shift = order === 'LE' ? 8 * i : 8 * (3 - i);
    out[offset + i] = (v >>> shift) & 0xff;
  }
}

/** Decodes the hex of one /proc address (8 digits for IPv4, 32 for IPv6); null if it is not that. */
export function decodeProcAddress(hex: string, family: SocketFamily, order: Endianness = endianness()): DecodedAddress | null {
  const digits = family === 4 ? 8 : 32;
  if (hex.length !== digits || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const bytes = new Uint8Array(digits / 2);
  for (let w = 0; w < digits / 8; w++) wordBytes(hex.slice(w * 8, w * 8 + 8), order, bytes, w * 4);
  if (family === 4) return { address: formatIpv4(bytes), ipv4Mapped: false };
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { address: formatIpv4(bytes.subarray(12)), ipv4Mapped: true };
  return { address: formatIpv6(bytes), ipv4Mapped: false };
}

const HEX = /^[0-9A-Fa-f]+$/;
const DECIMAL = /^\d+$/;

function parseEndpoint(text: string, family: SocketFamily, order: Endianness): { address: DecodedAddress; port: number } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const portHex = text.slice(colon + 1);
  if (portHex.length !== 4 || !HEX.test(portHex)) return null;
  const address = decodeProcAddress(text.slice(0, colon), family, order);
  return address ? { address, port: Number.parseInt(portHex, 16) } : null;
}

function parseLine(line: string, protocol: SocketProtocol, family: SocketFamily, order: Endianness): ProcSocket | null {
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  const f = line.trim().split(/\s+/);
  if (f.length < 10 || !/^\d+:$/.test(f[0]!)) return null;
  const local = parseEndpoint(f[1]!, family, order);
  const remote = parseEndpoint(f[2]!, family, order);
  if (!local || !remote) return null;
  if (f[3]!.length !== 2 || !HEX.test(f[3]!)) return null;
  const queues = /^([0-9A-Fa-f]{1,16}):([0-9A-Fa-f]{1,16})$/.exec(f[4]!);
  if (!queues || !DECIMAL.test(f[7]!) || !DECIMAL.test(f[9]!)) return null;
  const stateCode = Number.parseInt(f[3]!, 16);
  // A socket with one mapped address is talking IPv4: a listener bound to ::ffff:127.0.0.1
  // has the unspecified :: as its peer, shown then as 0.0.0.0 so the row reads as IPv4.
  const ipv4Mapped = local.address.ipv4Mapped || remote.address.ipv4Mapped;
  const unspecified = (a: DecodedAddress): string => (ipv4Mapped && a.address === '::' ? '0.0.0.0' : a.address);
  return {
    protocol,
    family,
    localAddress: unspecified(local.address),
    localPort: local.port,
    remoteAddress: unspecified(remote.address),
    remotePort: remote.port,
    ipv4Mapped,
    stateCode,
    state: tcpStateName(stateCode),
    sendQueue: Number.parseInt(queues[1]!, 16),
    recvQueue: Number.parseInt(queues[2]!, 16),
    uid: Number(f[7]),
    inode: Number(f[9]),
  };
}

/**
 * Parses the text of /proc/net/tcp, tcp6, udp or udp6. Never throws: the header and blank
 * lines are skipped, anything else that is not a socket line is skipped and counted.
 */
export function parseProcNet(text: string, protocol: SocketProtocol, family: SocketFamily, options: ParseOptions = {}): ProcNetParse {
  const order = options.endianness ?? endianness();
  const sockets: ProcSocket[] = [];
  let malformed = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || /^sl\s/.test(trimmed)) continue;
    const socket = parseLine(trimmed, protocol, family, order);
    if (socket) sockets.push(socket);
    else malformed++;
  }
  return { sockets, malformed };
}

/** TCP LISTEN, or an unconnected UDP socket (no remote address): what netstat calls listening. */
export function isListening(s: ProcSocket): boolean {
  if (s.protocol === 'tcp') return s.stateCode === 0x0a;
  return s.remotePort === 0 && (s.remoteAddress === '0.0.0.0' || s.remoteAddress === '::');
}

/** A process that holds a socket open. */
export interface SocketOwner {
  pid: number;
  /** The process name from /proc/[pid]/comm. */
  comm: string;
}

/** Socket inode to the processes holding it. */
export interface SocketOwners {
  owners: Map<number, SocketOwner[]>;
  /** Processes whose fd table could not be read (permission, or they exited meanwhile). */
  skipped: number;
}

/** Reads `/proc/[pid]/fd/*` of every process (under `procRoot`) and maps socket inodes to their owners. */
export function socketOwners(procRoot = '/proc'): SocketOwners {
  const owners = new Map<number, SocketOwner[]>();
  let skipped = 0;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((name) => /^\d+$/.test(name));
  } catch {
    return { owners, skipped };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, pid, 'fd'));
    } catch {
      skipped++;
      continue;
    }
    let comm: string | undefined;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(join(procRoot, pid, 'fd', fd));
      } catch {
        continue; // the descriptor closed while we looked
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      if (comm === undefined) {
        try {
          comm = readFileSync(join(procRoot, pid, 'comm'), 'utf8').trim();
        } catch {
          comm = '';
        }
      }
      const inode = Number(m[1]);
      const list = owners.get(inode) ?? [];
      if (!list.some((o) => o.pid === Number(pid))) list.push({ pid: Number(pid), comm });
      owners.set(inode, list);
    }
  }
  for (const list of owners.values()) list.sort((a, b) => a.pid - b.pid);
  return { owners, skipped };
}

/** Options of `readSockets`. */
export interface ReadSocketsOptions {
  tcp?: boolean;
  udp?: boolean;
  /** Where /proc is; default `/proc` (tests point it elsewhere). */
  procRoot?: string;
}

/** The four files read, and what each gave. */
export interface ReadSocketsResult {
  sockets: ProcSocket[];
  /** Malformed lines per file that had any, e.g. `{ '/proc/net/tcp6': 1 }`. */
  malformed: Record<string, number>;
  /** Files that could not be read (IPv6 disabled, not Linux), with the reason. */
  unreadable: Record<string, string>;
  /** Files that were read. */
  filesRead: string[];
}

/** Reads /proc/net/{tcp,tcp6,udp,udp6} (those asked for), in that order. */
export function readSockets(options: ReadSocketsOptions = {}): ReadSocketsResult {
  const root = options.procRoot ?? '/proc';
  const wantTcp = options.tcp ?? true;
  const wantUdp = options.udp ?? true;
  const files: Array<[string, SocketProtocol, SocketFamily]> = [];
  if (wantTcp) files.push(['tcp', 'tcp', 4], ['tcp6', 'tcp', 6]);
  if (wantUdp) files.push(['udp', 'udp', 4], ['udp6', 'udp', 6]);
  const result: ReadSocketsResult = { sockets: [], malformed: {}, unreadable: {}, filesRead: [] };
  for (const [name, protocol, family] of files) {
    const path = join(root, 'net', name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      result.unreadable[path] = (err as NodeJS.ErrnoException).code ?? String(err);
      continue;
    }
    result.filesRead.push(path);
    const parsed = parseProcNet(text, protocol, family);
    result.sockets.push(...parsed.sockets);
    if (parsed.malformed > 0) result.malformed[path] = parsed.malformed;
  }
  return result;
}

/** The kernel's ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`), or Linux's default. */
export function ephemeralPortRange(procRoot = '/proc'): [number, number] {
  try {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(readFileSync(join(procRoot, 'sys/net/ipv4/ip_local_port_range'), 'utf8'));
    if (m) return [Number(m[1]), Number(m[2])];
  } catch {
    // not Linux, or /proc/sys not mounted: fall through
  }
  return [32768, 60999];
}

/** One row of `l4 netstat`, with stable field names (`--json`). */
export interface NetstatRow {
  /** netstat's Proto column: tcp, tcp6, udp, udp6. */
  proto: string;
  protocol: SocketProtocol;
  family: SocketFamily;
  localAddress: string;
  localPort: number;
  /** Service name of the local port from the registry; null when numeric or unnamed. */
  localService: string | null;
  remoteAddress: string;
  remotePort: number;
  remoteService: string | null;
  ipv4Mapped: boolean;
  state: string;
  stateCode: number;
  listening: boolean;
  recvQueue: number;
  sendQueue: number;
  uid: number;
  inode: number;
  /** Owners with `-p`, lowest pid first; null without `-p`. */
  processes: SocketOwner[] | null;
}

/** Options of `netstat`: the flags of the command. */
export interface NetstatOptions {
  tcp?: boolean;
  udp?: boolean;
  /** Listening sockets only (`-l`). */
  listening?: boolean;
  /** All sockets (`-a`); without it and without `listening`, non-listening sockets only, as netstat does. */
  all?: boolean;
  /** Numeric ports (`-n`): no service names. */
  numeric?: boolean;
  /** Owning processes (`-p`). */
  processes?: boolean;
  procRoot?: string;
}

/** The table and what went wrong on the way. */
export interface NetstatResult {
  rows: NetstatRow[];
  malformed: Record<string, number>;
  unreadable: Record<string, string>;
  filesRead: string[];
  /** With `processes`: processes that could not be read. */
  skippedProcesses: number;
}

/**
 * The socket table as netstat shows it. With neither `tcp` nor `udp`, both. Service names:
 * a port gets the registry's first name for it, except a port in the kernel's ephemeral
 * range that no local socket listens on: that is a client's port, and a name there would
 * be a coincidence (IANA registers names up to 49151, and Linux hands out 32768–60999).
 */
export function netstat(options: NetstatOptions = {}): NetstatResult {
  const both = !options.tcp && !options.udp;
  const read = readSockets({ tcp: both || options.tcp === true, udp: both || options.udp === true, procRoot: options.procRoot });
  const owners = options.processes ? socketOwners(options.procRoot) : undefined;
  const [ephemeralLow, ephemeralHigh] = ephemeralPortRange(options.procRoot);
  const listeningPorts = new Set(read.sockets.filter(isListening).map((s) => `${s.protocol}/${s.localPort}`));
  const name = (port: number, protocol: SocketProtocol): string | null => {
    if (options.numeric || port === 0) return null;
    if (port >= ephemeralLow && port <= ephemeralHigh && !listeningPorts.has(`${protocol}/${port}`)) return null;
    return serviceName(port, protocol) ?? null;
  };
  const rows: NetstatRow[] = [];
  for (const s of read.sockets) {
    const listening = isListening(s);
    if (!options.all && (options.listening ? !listening : listening)) continue;
    rows.push({
      proto: s.family === 6 ? `${s.protocol}6` : s.protocol,
      protocol: s.protocol,
      family: s.family,
      localAddress: s.localAddress,
      localPort: s.localPort,
      localService: name(s.localPort, s.protocol),
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      remoteService: name(s.remotePort, s.protocol),
      ipv4Mapped: s.ipv4Mapped,
      state: s.state,
      stateCode: s.stateCode,
      listening,
      recvQueue: s.recvQueue,
      sendQueue: s.sendQueue,
      uid: s.uid,
      inode: s.inode,
      processes: owners ? (s.inode !== 0 ? owners.owners.get(s.inode) ?? [] : []) : null,
    });
  }
  return { rows, malformed: read.malformed, unreadable: read.unreadable, filesRead: read.filesRead, skippedProcesses: owners?.skipped ?? 0 };
}

/** `127.0.0.1:443`, `[::1]:https`, `0.0.0.0:*`: an endpoint as the table shows it. */
export function formatEndpoint(address: string, port: number, service: string | null): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : service ?? String(port)}`;
}
