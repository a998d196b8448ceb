/**
 * `l4 scan TARGETS [-p PORTS | --top-ports N] [--type connect|syn|udp] [--tun NAME --address
 * A/P --peer K] [--timeout MS] [--retries N] [--rate PPS] [--concurrency N] [--banners]
 * [--json | --xml FILE]`: a port scanner whose verdicts are nmap's (src/tools/scan). Host
 * names are resolved here (node:dns, IPv4 first as nmap does); everything else is parsed
 * and checked before a packet is sent, and a bad argument is one line and exit 2. A scan
 * that ran exits 0 whatever it found (an unreachable host is reported down or filtered);
 * Ctrl-C stops it, prints what was decided and exits 130. A progress bar is drawn on
 * stderr when stderr is a terminal.
 */
import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { TunError } from '../drivers/tun/index.js';
import { formatTable, formatXml } from '../tools/scan/format.js';
import { runScan, type ScanHost, type ScanReport, type ScanType, type TargetSpec } from '../tools/scan/index.js';
import { MAX_RETRIES, MAX_PROBE_SLOTS } from '../tools/scan/engine.js';
import { parsePortSpec, topPorts, TOP_PORTS_MAX } from '../tools/scan/ports.js';
import { MAX_TARGETS, parseTarget, scanHosts } from '../tools/scan/targets.js';
import { parseIpAddress } from '../wire/address.js';
import { UsageError } from './errors.js';
import { parseInteger } from './units.js';

interface ScanCliOptions {
  ports?: string;
  topPorts?: string;
  type?: string;
  tun?: string;
  address?: string;
  peer?: string;
  address6?: string;
  peer6?: string;
  timeout?: string;
  retries?: string;
  rate?: string;
  concurrency?: string;
  banners?: boolean;
  json?: boolean;
  xml?: string;
}

const TYPES: readonly ScanType[] = ['connect', 'syn', 'udp'];

/** Adds the `scan` subcommand to the program. */
export function registerScan(program: Command): void {
  program.command('scan')
    .description('scan TCP or UDP ports and report each as nmap does: open, closed, filtered, open|filtered, with the reason')
    .argument('<targets...>', 'IPv4/IPv6 addresses, CIDR ranges (10.0.0.0/24, fd00::/120) or host names')
    .option('-p, --ports <ports>', 'ports: 22 | 1-1024 | 22,80,443 | - (all) (default: the top 1000)')
    .option('--top-ports <n>', `the N ports most often found open (1-${TOP_PORTS_MAX})`)
    .option('--type <type>', 'connect (the OS\'s TCP, no privilege), syn (half-open, l4\'s packets on a TUN device) or udp (default: connect, or syn with --tun)')
    .option('--tun <name>', 'TUN interface to create for syn and udp scans (needs root or CAP_NET_ADMIN)')
    .option('--address <cidr>', 'l4\'s IPv4 address and prefix on the TUN device, e.g. 10.66.0.2/24')
    .option('--peer <ip>', 'the kernel\'s address on the TUN device; the kernel routes the probes on')
    .option('--address6 <cidr>', 'l4\'s IPv6 address and prefix on the TUN device (for IPv6 targets)')
    .option('--peer6 <ip>', 'the kernel\'s IPv6 address on the TUN device')
    .option('--timeout <ms>', 'the longest a probe waits for an answer; the wait adapts to measured RTT below it (default 1000)')
    .option('--retries <n>', `retransmissions before silence decides, 0-${MAX_RETRIES} (default 2)`)
    .option('--rate <pps>', 'probes per second at most (default: no limit)')
    .option('--concurrency <n>', 'probes outstanding at most (default 256)')
    .option('--banners', 'read what open TCP ports say (SSH, SMTP, FTP; HTTP HEAD where a web server is likely) and name the service')
    .option('--json', 'print the report as JSON, every port listed')
    .option('--xml <file>', 'also write the report as nmap\'s XML (-oX) to FILE (- for stdout, instead of the table)')
    .addHelpText('after', `
Scan only networks you are allowed to test. Port scanning someone else's hosts without
permission may be illegal and is always rude; l4's own tests scan only loopback and network
namespaces they create.

States and reasons are nmap's: open (syn-ack, udp-response), closed (reset, conn-refused,
port-unreach from the target for UDP), filtered (no-response for TCP, ICMP unreachable
codes 0 1 2 3 9 10 13: net-unreach, host-unreach, proto-unreach, port-unreach,
net-prohibited, host-prohibited, admin-prohibited), open|filtered (no answer to UDP).
Probes are retransmitted after a timeout that follows the measured RTT (srtt + 4*rttvar,
clamped to 100 ms..--timeout), paced by a congestion window (halved when a retransmission
is answered), --concurrency and --rate.

--top-ports: the order of nmap-services' open-frequency column (measured by the Nmap
project), kept in l4 as a generated table of port numbers (scripts/make-top-ports.mjs;
src/tools/scan/top-ports-data.ts); nmap itself is not needed.

syn and udp scans open a TUN device: l4 is --address on it, the kernel --peer. The kernel
routes the probes to the targets (for targets beyond the device, enable forwarding:
sysctl net.ipv4.ip_forward=1) and the answers back to l4, which answers a SYN-ACK with RST.

Examples:
  l4 scan 127.0.0.1 -p 1-1024                         connect scan, no privilege needed
  l4 scan localhost --top-ports 100 --banners         name services from their banners
  sudo l4 scan 10.66.1.0/24 --type syn --tun l4scan0 --address 10.66.0.2/24 --peer 10.66.0.1 -p 22,80,443
  sudo l4 scan 10.66.1.2 --type udp --tun l4scan0 --address 10.66.0.2/24 --peer 10.66.0.1 -p 53,123,161
  l4 scan 127.0.0.1 -p- --json > ports.json; l4 scan 127.0.0.1 --xml scan.xml

Ctrl-C stops the scan and prints what was decided (exit 130). Exit 0 when the scan ran.`)
    .action(async (targets: string[], options: ScanCliOptions, command: Command) => {
      process.exitCode = await scanCommand(targets, options, command);
    });
}

/** The scan type from --type and --tun. */
function scanType(options: ScanCliOptions): ScanType {
  if (options.type === undefined) return options.tun !== undefined ? 'syn' : 'connect';
  const type = options.type.toLowerCase() as ScanType;
  if (!TYPES.includes(type)) throw new UsageError(`--type: '${options.type}' is not a scan type (connect, syn or udp)`);
  return type;
}

/** Resolves host names (IPv4 first, then IPv6, as nmap prefers IPv4 unless -6). */
async function resolveNames(specs: readonly TargetSpec[]): Promise<Map<string, Uint8Array>> {
  const resolved = new Map<string, Uint8Array>();
  for (const spec of specs) {
    if (spec.kind !== 'name' || resolved.has(spec.name)) continue;
    let address: string | undefined;
    let why = '';
    for (const family of [4, 6] as const) {
      try {
        address = (await lookup(spec.name, { family })).address;
        break;
      } catch (error) {
        why = (error as NodeJS.ErrnoException).code ?? String(error);
      }
    }
    if (address === undefined) throw new UsageError(`cannot resolve '${spec.name}' (${why})`);
    resolved.set(spec.name, parseIpAddress(address)!);
  }
  return resolved;
}

async function scanCommand(targetArgs: readonly string[], options: ScanCliOptions, command: Command): Promise<number> {
  const type = scanType(options);
  const protocol = type === 'udp' ? 'udp' : 'tcp';
  const specs: TargetSpec[] = [];
  for (const arg of targetArgs) {
    const r = parseTarget(arg);
    if (!r.ok) throw new UsageError(r.error);
    specs.push(r.target);
  }
  if (options.ports !== undefined && options.topPorts !== undefined) throw new UsageError('give -p or --top-ports, not both');
  if (options.json && options.xml !== undefined) throw new UsageError('give --json or --xml, not both');
  let ports: readonly number[];
  if (options.ports !== undefined) {
    const r = parsePortSpec(options.ports);
    if (!r.ok) throw new UsageError(`-p: ${r.error}`);
    ports = r.ports;
  } else {
    ports = topPorts(options.topPorts === undefined ? Math.min(1000, TOP_PORTS_MAX) : parseInteger('--top-ports', options.topPorts, 1, TOP_PORTS_MAX), protocol);
  }
  const retries = options.retries === undefined ? 2 : parseInteger('--retries', options.retries, 0, MAX_RETRIES);
  const timeoutMs = options.timeout === undefined ? 1000 : parseInteger('--timeout', options.timeout, 1, 600_000);
  const rate = options.rate === undefined ? undefined : parseInteger('--rate', options.rate, 1, 10_000_000);
  const concurrency = options.concurrency === undefined ? undefined : parseInteger('--concurrency', options.concurrency, 1, 65536);
  const tunOptions = [options.tun, options.address, options.peer];
  if (type === 'connect') {
    if (tunOptions.some((o) => o !== undefined)) {
      throw new UsageError('a connect scan uses the operating system\'s TCP: --tun, --address and --peer are for --type syn or udp');
    }
  } else if (tunOptions.some((o) => o === undefined)) {
    throw new UsageError(`a ${type} scan sends l4's own packets on a TUN device: give --tun NAME --address A/P --peer K (root)`);
  }
  const count = specs.reduce((n, s) => n + (s.kind === 'range' ? s.count : 1), 0);
  if (count > MAX_TARGETS) throw new UsageError(`${count} addresses is more than ${MAX_TARGETS}: scan a smaller range`);
  if (count * ports.length > MAX_PROBE_SLOTS) throw new UsageError(`${count} hosts x ${ports.length} ports is more than ${MAX_PROBE_SLOTS} probes: scan fewer`);

  const hosts: ScanHost[] = scanHosts(specs, await resolveNames(specs));
  const stderrBar = process.stderr.isTTY === true;
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let lastDrawn = -1;
  let lastAt = 0;
  const progress = stderrBar ? (decided: number, total: number): void => {
    const pct = total === 0 ? 100 : Math.floor((decided / total) * 100);
    const t = performance.now();
    if (pct === lastDrawn && t - lastAt < 250) return;
    lastDrawn = pct;
    lastAt = t;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${decided}/${total} ports  (Ctrl-C: stop and print)`);
  } : undefined;
  const args = ['l4', 'scan', ...process.argv.slice(process.argv.indexOf('scan') + 1)].join(' ');
  let report: ScanReport;
  try {
    report = await runScan({
      type, hosts, ports, retries, timeoutMs,
      ...(rate !== undefined ? { rate } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(type !== 'connect' ? {
        tun: {
          name: options.tun!, address: options.address!, peer: options.peer!,
          ...(options.address6 !== undefined ? { address6: options.address6 } : {}),
          ...(options.peer6 !== undefined ? { peer6: options.peer6 } : {}),
        },
      } : {}),
      banners: options.banners === true,
      signal: controller.signal,
      ...(progress ? { onProgress: progress } : {}),
      args,
      version: command.parent?.version() ?? '0.0.0',
    });
  } catch (error) {
    if (error instanceof TunError) throw new UsageError(`scan: ${error.message}`);
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
    if (stderrBar) process.stderr.write('\r\x1b[K');
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (options.xml === '-') {
    process.stdout.write(formatXml(report));
  } else {
    if (options.xml !== undefined) {
      try {
        writeFileSync(options.xml, formatXml(report));
      } catch (error) {
        throw new UsageError(`--xml ${options.xml}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    }
    const c = pc.createColors(process.stdout.isTTY === true);
    process.stdout.write(`${formatTable(report, { green: c.green, red: c.red, yellow: c.yellow, dim: c.dim })}\n`);
  }
  return report.interrupted ? 130 : 0;
}
