/**
 * `l4 netstat [-t] [-u] [-l] [-a] [-n] [-p] [--json]`: this Linux host's TCP and UDP
 * sockets from /proc/net, with netstat's flags and columns (Proto, Recv-Q, Send-Q, Local
 * Address, Foreign Address, State, and PID/Program name with -p). Without -l or -a it
 * shows non-listening sockets only, as netstat does. No /proc/net: one line, exit 2.
 */
import type { Command } from 'commander';
import Table from 'cli-table3';
import pc from 'picocolors';
import { formatEndpoint, netstat, type NetstatRow } from '../tools/netstat.js';
import { querySnapshot, tcpDetail, type ServeSocketRow } from '../tools/serve-control.js';
import { UsageError } from './errors.js';
import { parseInteger } from './units.js';
import { LineWriter } from './output.js';

interface NetstatCliOptions {
  tcp?: boolean;
  udp?: boolean;
  listening?: boolean;
  all?: boolean;
  numeric?: boolean;
  program?: boolean;
  json?: boolean;
  serve?: string;
}

/** Adds the `netstat` subcommand to the program. */
export function registerNetstat(program: Command): void {
  program.command('netstat')
    .description('list this Linux host\'s TCP and UDP sockets from /proc/net, as netstat does')
    .option('-t, --tcp', 'TCP sockets (with neither -t nor -u: both)')
    .option('-u, --udp', 'UDP sockets')
    .option('-l, --listening', 'listening sockets only (TCP LISTEN, unconnected UDP)')
    .option('-a, --all', 'listening and non-listening sockets (default: non-listening only)')
    .option('-n, --numeric', 'numeric ports: no service names from the registry')
    .option('-p, --program', 'the owning process (PID/Program name) from /proc/[pid]/fd; root sees them all')
    .option('--json', 'print an array of records')
    .option('--serve <pid>', 'the socket table of a running l4 serve (its control socket), with srtt, rto, cwnd and ss -ti\'s detail')
    .addHelpText('after', `
Examples:
  l4 netstat -tln        listening TCP sockets, numeric
  l4 netstat -tuanp      every TCP and UDP socket with its process (ss -tuanp's set)
  l4 netstat --json      established connections as JSON records
  l4 netstat --serve 4242 -ta   every TCP socket of the l4 serve with pid 4242

Recv-Q and Send-Q: for a TCP connection, bytes received but not yet read, and bytes sent
but not yet acknowledged. For a TCP listener, Recv-Q is the number of connections waiting
for accept(); Send-Q is 0 (the kernel does not put the backlog limit in /proc; ss shows it).
For UDP, the receive and send buffer memory in use, in bytes.
IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are shown as IPv4; the Proto stays tcp6/udp6.
Ports in the kernel's ephemeral range are left numeric unless something listens on them.
With --serve, each TCP connection has a second line as ss -ti prints it: ts, sack, the
congestion control, wscale:<send>,<receive>, mss, ssthresh, bytes and segments each way,
then what is not zero of recovery, pipe, sacked, lost, rto_count, fast_recoveries and
tlp:<probes>/<recoveries>. --json gives every field by name.`)
    .action(async (options: NetstatCliOptions) => {
      process.exitCode = await netstatCommand(options);
    });
}

async function netstatCommand(options: NetstatCliOptions): Promise<number> {
  if (options.serve !== undefined) return serveNetstat(parseInteger('--serve', options.serve, 1, 2 ** 22), options);
  const result = netstat({
    tcp: options.tcp, udp: options.udp, listening: options.listening, all: options.all,
    numeric: options.numeric, processes: options.program,
  });
  if (result.filesRead.length === 0) {
    const [path, code] = Object.entries(result.unreadable)[0]!;
    throw new UsageError(`netstat: cannot read ${path} (${code}): this command reads Linux's /proc/net`);
  }
  for (const [path, count] of Object.entries(result.malformed)) {
    process.stderr.write(`l4: netstat: skipped ${count} malformed line${count === 1 ? '' : 's'} of ${path}\n`);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result.rows, null, 2)}\n`);
  } else {
    await printTable(result.rows, options);
  }
  if (options.program && result.skippedProcesses > 0 && result.rows.some((r) => r.processes?.length === 0 && r.inode !== 0)) {
    process.stderr.write(`l4: netstat: ${result.skippedProcesses} processes could not be read; their sockets show no owner (root sees them all)\n`);
  }
  return 0;
}

function stateCell(row: NetstatRow, c: ReturnType<typeof pc.createColors>): string {
  // netstat leaves the State of an unconnected UDP socket blank.
  if (row.protocol === 'udp') return row.stateCode === 0x01 ? 'ESTABLISHED' : '';
  if (row.state === 'LISTEN') return c.green(row.state);
  if (row.state === 'ESTABLISHED') return c.cyan(row.state);
  return c.yellow(row.state);
}

async function printTable(rows: readonly NetstatRow[], options: NetstatCliOptions): Promise<void> {
  const c = pc.createColors(process.stdout.isTTY === true);
  const title = options.all ? 'servers and established' : options.listening ? 'only servers' : 'w/o servers';
  const head = ['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State'];
  if (options.program) head.push('PID/Program name');
  // netstat's look: aligned columns, no borders.
  const none = '';
  const table = new Table({
    head,
    chars: {
      top: none, 'top-mid': none, 'top-left': none, 'top-right': none, bottom: none, 'bottom-mid': none,
      'bottom-left': none, 'bottom-right': none, left: none, 'left-mid': none, mid: none, 'mid-mid': none,
      right: none, 'right-mid': none, middle: ' ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
    colAligns: ['left', 'right', 'right', 'left', 'left', 'left', 'left'],
  });
  for (const r of rows) {
    const cells: string[] = [
      r.proto,
      String(r.recvQueue),
      String(r.sendQueue),
      formatEndpoint(r.localAddress, r.localPort, r.localService),
      formatEndpoint(r.remoteAddress, r.remotePort, r.remoteService),
      stateCell(r, c),
    ];
    if (options.program) {
      const owner = r.processes?.[0];
      const more = (r.processes?.length ?? 0) > 1 ? ` (+${r.processes!.length - 1})` : '';
      cells.push(owner ? `${owner.pid}/${owner.comm}${more}` : '-');
    }
    table.push(cells);
  }
  const out = new LineWriter();
  if (!(await out.line(`Active Internet connections (${title})`))) return;
  for (const line of table.toString().split('\n')) {
    if (!(await out.line(line.trimEnd()))) return;
  }
  await out.flush();
}

/** The rows of an l4 serve's table that netstat's flags select (the same rules as for the host's). */
function selectServeRows(rows: readonly ServeSocketRow[], options: NetstatCliOptions): ServeSocketRow[] {
  const both = !options.tcp && !options.udp;
  return rows.filter((r) => {
    const udp = r.proto.startsWith('udp');
    if (!both && (udp ? !options.udp : !options.tcp)) return false;
    const listening = r.state === 'LISTEN' || r.state === 'UNCONN';
    if (options.all) return true;
    return options.listening ? listening : !listening;
  });
}

/** `l4 netstat --serve PID`: the socket table of a running l4 serve. */
async function serveNetstat(pid: number, options: NetstatCliOptions): Promise<number> {
  let snapshot;
  try {
    snapshot = await querySnapshot(pid);
  } catch (error) {
    throw new UsageError(`netstat: ${error instanceof Error ? error.message : String(error)}`);
  }
  const rows = selectServeRows(snapshot.sockets, options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...snapshot, sockets: rows }, null, 2)}\n`);
    return 0;
  }
  const c = pc.createColors(process.stdout.isTTY === true);
  const none = '';
  const table = new Table({
    head: ['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State', 'srtt', 'rto', 'cwnd', 'retrans'],
    chars: {
      top: none, 'top-mid': none, 'top-left': none, 'top-right': none, bottom: none, 'bottom-mid': none,
      'bottom-left': none, 'bottom-right': none, left: none, 'left-mid': none, mid: none, 'mid-mid': none,
      right: none, 'right-mid': none, middle: ' ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 1 },
    colAligns: ['left', 'right', 'right', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
  });
  for (const r of rows) {
    const state = r.state === 'LISTEN' ? c.green(r.state) : r.state === 'ESTABLISHED' ? c.cyan(r.state) : r.state === 'UNCONN' ? '' : c.yellow(r.state);
    table.push([
      r.proto, String(r.recvQ), String(r.sendQ), r.local, r.remote, state,
      r.srttMs === undefined ? '' : `${r.srttMs}ms`, r.rtoMs === undefined ? '' : `${r.rtoMs}ms`,
      r.cwnd === undefined ? '' : String(r.cwnd), r.retransmissions === undefined ? '' : String(r.retransmissions),
    ]);
  }
  const out = new LineWriter();
  if (!(await out.line(`l4 serve ${snapshot.pid} on ${snapshot.tun} (${snapshot.addresses.join(' ')}), up ${(snapshot.uptimeMs / 1000).toFixed(1)} s`))) return 0;
  // The head, then one line per row. A connection's detail goes on a line of its own below
  // it, after a tab, as ss -ti prints it: a cell spanning the columns would widen them all.
  const lines = table.toString().split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!(await out.line(lines[i]!.trimEnd()))) return 0;
    const detail = i > 0 ? tcpDetail(rows[i - 1]!) : undefined;
    if (detail !== undefined && !(await out.line(`\t${detail}`))) return 0;
  }
  await out.flush();
  return 0;
}
