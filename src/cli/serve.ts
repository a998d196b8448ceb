/**
 * `l4 serve`: an l4 host on a Linux TUN device with the classic services on l4's own TCP
 * and UDP (see src/tools/serve.ts). Prints one readiness line (`l4 serve: ready ...`), then
 * one log line per connection opened and closed and per HTTP request. SIGUSR1 prints the
 * socket table; SIGINT and SIGTERM end every connection with FIN and exit 0. Without root or
 * /dev/net/tun, or with a bad argument: one line, exit 2.
 */
import type { Command } from 'commander';
import { TunError } from '../drivers/tun/index.js';
import { formatSocketTable, startServe, type RunningServe } from '../tools/serve.js';
import type { ServicesOptions } from '../tools/services/index.js';
import { UsageError } from './errors.js';
import { parseInteger } from './units.js';

interface ServeCliOptions {
  tun: string;
  address: string;
  peer: string;
  address6?: string;
  peer6?: string;
  mtu?: string;
  http?: string;
  echo?: string;
  discard?: string;
  chargen?: string;
  daytime?: string;
  udpEcho?: string;
  pcap?: string;
  control: boolean;
}

/** The classic services, when none is named. */
const DEFAULT_SERVICES: ServicesOptions = { http: { port: 80 }, echo: 7, discard: 9, daytime: 13, chargen: 19 };

/** `PORT` or `PORT=DIR`. */
function parseHttp(text: string): { port: number; dir?: string } {
  const eq = text.indexOf('=');
  if (eq < 0) return { port: parseInteger('--http', text, 1, 65535) };
  const dir = text.slice(eq + 1);
  if (dir === '') throw new UsageError(`--http ${text}: DIR is empty (PORT or PORT=DIR)`);
  return { port: parseInteger('--http', text.slice(0, eq), 1, 65535), dir };
}

/** Adds the `serve` subcommand to the program. */
export function registerServe(program: Command): void {
  program.command('serve')
    .description('run an l4 host on a Linux TUN device, with HTTP, echo, discard, chargen, daytime and UDP echo on l4\'s own TCP and UDP')
    .requiredOption('--tun <name>', 'TUN interface to create (1-15 characters)')
    .requiredOption('--address <cidr>', 'l4\'s IPv4 address and prefix, e.g. 10.77.0.2/24')
    .requiredOption('--peer <ip>', 'the kernel\'s address on the device, in the same prefix; l4\'s gateway')
    .option('--address6 <cidr>', 'l4\'s IPv6 address and prefix, e.g. fd00:77::2/64')
    .option('--peer6 <ip>', 'the kernel\'s IPv6 address on the device')
    .option('--mtu <n>', 'MTU of the device (default 1500)')
    .option('--http <port[=dir]>', 'HTTP: / is the seeds\' page (gzip when asked); /NAME serves files from DIR')
    .option('--echo <port>', 'echo, RFC 862, TCP and UDP')
    .option('--discard <port>', 'discard, RFC 863, TCP and UDP')
    .option('--chargen <port>', 'character generator, RFC 864, TCP and UDP')
    .option('--daytime <port>', 'daytime, RFC 867, TCP and UDP')
    .option('--udp-echo <port>', 'echo on UDP only')
    .option('--pcap <file>', 'record every packet crossing the device (pcap, raw IP)')
    .option('--no-control', 'no control socket (l4 netstat --serve PID will not see this server)')
    .addHelpText('after', `
With no service option, serves http 80, echo 7, discard 9, daytime 13 and chargen 19.
Needs root (or CAP_NET_ADMIN) and /dev/net/tun. The kernel's side of the device gets --peer
(and --peer6); programs on this machine reach l4 at --address through it.

Examples:
  sudo l4 serve --tun l4tun0 --address 10.77.0.2/24 --peer 10.77.0.1
  sudo l4 serve --tun l4tun0 --address 10.77.0.2/24 --peer 10.77.0.1 \\
                --address6 fd00:77::2/64 --peer6 fd00:77::1 --http 80=./public --echo 7 --pcap serve.pcap
  curl http://10.77.0.2/          ping 10.77.0.2          l4 netstat --serve $(pidof -s node)

Signals: SIGUSR1 prints the socket table; SIGINT and SIGTERM close every connection with FIN and exit 0.`)
    .action(async (options: ServeCliOptions) => {
      process.exitCode = await serveCommand(options);
    });
}

async function serveCommand(options: ServeCliOptions): Promise<number> {
  const port = (name: string, text: string | undefined): number | undefined =>
    (text === undefined ? undefined : parseInteger(name, text, 1, 65535));
  const named: ServicesOptions = {
    ...(options.http !== undefined ? { http: parseHttp(options.http) } : {}),
    echo: port('--echo', options.echo), discard: port('--discard', options.discard), chargen: port('--chargen', options.chargen),
    daytime: port('--daytime', options.daytime), udpEcho: port('--udp-echo', options.udpEcho),
  };
  const any = Object.values(named).some((v) => v !== undefined);
  const mtu = options.mtu === undefined ? undefined : parseInteger('--mtu', options.mtu, 1280, 65535);
  const log = (line: string): void => { process.stdout.write(`${line}\n`); };
  let serve: RunningServe;
  try {
    serve = await startServe({
      tun: options.tun, address: options.address, peer: options.peer,
      ...(options.address6 !== undefined ? { address6: options.address6 } : {}),
      ...(options.peer6 !== undefined ? { peer6: options.peer6 } : {}),
      ...(mtu !== undefined ? { mtu } : {}),
      ...(options.pcap !== undefined ? { pcap: options.pcap } : {}),
      services: any ? named : DEFAULT_SERVICES,
      control: options.control,
      log,
    });
  } catch (error) {
    throw usage(error);
  }
  const listening = serve.services.listening.map((l) => `${l.protocol}/${l.port} ${l.service}`).join(', ');
  const addresses = serve.snapshot().addresses.join(' ');
  log(`l4 serve: ready on ${serve.tun.device.name} ${addresses}: ${listening}${serve.controlPath ? ` (control ${serve.controlPath})` : ''}`);

  const printTable = (): void => {
    for (const line of formatSocketTable(serve.snapshot().sockets)) log(line);
  };
  process.on('SIGUSR1', printTable);
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGUSR1', printTable);
      const open = serve.services.openConnections;
      log(`l4 serve: ${signal}: closing ${open} connection${open === 1 ? '' : 's'}`);
      void serve.close().then(() => {
        const s = serve.tun.device.stats;
        log(`l4 serve: stopped; ${s.rxPackets} packets in, ${s.txPackets} out`);
        resolve(0);
      });
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

/** A TunError, a RangeError of the options, or a bind error (EADDRINUSE…) as one line. */
function usage(error: unknown): Error {
  if (error instanceof UsageError) return error;
  if (error instanceof TunError || error instanceof RangeError) return new UsageError(`serve: ${error.message}`);
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code === 'string') return new UsageError(`serve: ${e.message}`);
  return error instanceof Error ? error : new Error(String(error));
}
