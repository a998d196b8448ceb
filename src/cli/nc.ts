/**
 * `l4 nc`: netcat over l4. Opens a TUN device with an l4 host on it (`openTunStack`), then
 * runs `runNc` (src/tools/nc.ts) between the process's stdin/stdout and one TCP connection
 * or UDP peer reached through l4, and closes the device when done so the process exits by
 * itself. Bad arguments, and a device that cannot be opened (not root, no /dev/net/tun),
 * are one line and exit 2; a connection that fails (refused, reset, timed out) is one line
 * and exit 1.
 */
import type { Command } from 'commander';
import { openTunStack, parseInterfaceAddress, TunError, type TunStack } from '../drivers/tun/index.js';
import { runNc, type NcResult } from '../tools/nc.js';
import { ipEquals, parseIpAddress } from '../wire/address.js';
import { UsageError } from './errors.js';
import { parseDuration, parseInteger } from './units.js';

interface NcCliOptions {
  tun: string;
  address: string;
  peer: string;
  address6?: string;
  peer6?: string;
  mtu?: number;
  udp?: boolean;
  listen?: boolean;
  quit?: number;
  wait?: number;
  verbose?: boolean;
}

/** Milliseconds from nc's seconds (`2`, `0.5`), or a duration with a unit (`500ms`, `2s`). */
function parseSeconds(option: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Math.round(Number(text) * 1000);
  if (/^\d+(\.\d+)?\s*(us|µs|ms|s|m|min)$/i.test(text.trim())) return parseDuration(option, text) / 1000;
  throw new UsageError(`${option}: '${text}' is not a number of seconds (try 2, 0.5, 500ms)`);
}

/** HOST and PORT from the positional arguments (`-l [HOST] PORT` or `HOST PORT`). */
function target(hostArg: string | undefined, portArg: string | undefined, listen: boolean): { host: string | undefined; port: number } {
  let hostText = hostArg;
  let portText = portArg;
  if (listen && portText === undefined) {
    portText = hostText;
    hostText = undefined;
  }
  if (portText === undefined) {
    throw new UsageError(listen ? 'nc -l: give the PORT to listen on ([HOST] PORT)' : 'nc: give HOST and PORT (or -l [HOST] PORT to listen)');
  }
  const port = parseInteger('PORT', portText, 1, 65535);
  if (hostText !== undefined && parseIpAddress(hostText) === null) {
    throw new UsageError(`HOST must be an IP address, not '${hostText}' (l4 nc does no DNS)`);
  }
  return { host: hostText, port };
}

/** parseInterfaceAddress, with the option's name in the one line a bad value gets. */
function checkAddress(option: string, text: string, family: 4 | 6): Uint8Array {
  try {
    return parseIpAddress(parseInterfaceAddress(text, family).address)!;
  } catch (error) {
    throw new UsageError(`${option}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Adds the `nc` subcommand. */
export function registerNc(program: Command): void {
  program.command('nc')
    .description('netcat over l4 on a Linux TUN device: stdin to a TCP connection or UDP peer, what comes back to stdout')
    .argument('[host]', 'the peer\'s IPv4 or IPv6 address (with -l: the local address to listen on, optional)')
    .argument('[port]', 'the peer\'s port (with -l: the port to listen on), 1-65535')
    .requiredOption('--tun <name>', 'the TUN interface to create (l4nc0, say); needs root or CAP_NET_ADMIN')
    .requiredOption('--address <cidr>', 'l4\'s own IPv4 address with prefix (10.77.0.2/24)')
    .requiredOption('--peer <address>', 'the kernel\'s side of the device, in that prefix (10.77.0.1): its address and l4\'s gateway')
    .option('--address6 <cidr>', 'l4\'s own IPv6 address with prefix (fd00:77::2/64); needed for an IPv6 HOST')
    .option('--peer6 <address>', 'the kernel\'s IPv6 address on the device (fd00:77::1)')
    .option('--mtu <bytes>', 'the device\'s MTU (default 1500)', (v) => parseInteger('--mtu', v, 68, 65535))
    .option('-u, --udp', 'UDP: one datagram per stdin chunk (split to fit the MTU); datagrams received to stdout')
    .option('-l, --listen', 'listen: accept one TCP connection, or take the first UDP datagram\'s sender as the peer')
    .option('-q, --quit <secs>', 'after stdin\'s end, quit after this long even if the peer stays open (TCP default: wait for the peer; UDP: 1 s)', (v) => parseSeconds('-q', v))
    .option('-w, --wait <secs>', 'connect timeout (default 10 s) and idle timeout (default none)', (v) => parseSeconds('-w', v))
    .option('-v, --verbose', 'say on stderr what happens: listening, connected, closed')
    .addHelpText('after', `
Examples (as root; the kernel's side is 10.77.0.1, l4 is 10.77.0.2):
  l4 nc --tun l4nc0 --address 10.77.0.2/24 --peer 10.77.0.1 10.77.0.1 80 < request.txt
                                    TCP client: send a file, print the reply
  l4 nc --tun l4nc0 --address 10.77.0.2/24 --peer 10.77.0.1 -v -l 7000 > upload.bin
                                    accept one connection on port 7000 (from the kernel:
                                    nc -N 10.77.0.2 7000 < file)
  echo hello | l4 nc --tun l4nc0 --address 10.77.0.2/24 --peer 10.77.0.1 -u 10.77.0.1 5353
                                    one UDP datagram and its answers, for 1 s after EOF
  l4 nc --tun l4nc0 --address 10.77.0.2/24 --peer 10.77.0.1 \\
        --address6 fd00:77::2/64 --peer6 fd00:77::1 fd00:77::1 22 </dev/null
                                    IPv6: print an SSH banner

When stdin ends, TCP half-closes (FIN) and goes on reading until the peer closes (nc -N).
HOST is an address (no DNS). Binary safe: stdout gets exactly the bytes, logs go to stderr.
Exit codes: 0 done, 1 the connection failed (refused, reset, timed out), 2 bad usage or
no TUN device (not root, no /dev/net/tun).`)
    .action(async (hostArg: string | undefined, portArg: string | undefined, options: NcCliOptions) => {
      process.exitCode = await ncCommand(hostArg, portArg, options);
    });
}

async function ncCommand(hostArg: string | undefined, portArg: string | undefined, options: NcCliOptions): Promise<number> {
  const listen = options.listen === true;
  const { host, port } = target(hostArg, portArg, listen);
  const own = checkAddress('--address', options.address, 4);
  checkAddress('--peer', options.peer, 4);
  const own6 = options.address6 !== undefined ? checkAddress('--address6', options.address6, 6) : undefined;
  if (options.peer6 !== undefined) checkAddress('--peer6', options.peer6, 6);
  if (own6 && options.peer6 === undefined) throw new UsageError('--address6 needs --peer6 (the kernel\'s IPv6 address on the device)');
  if (options.peer6 !== undefined && !own6) throw new UsageError('--peer6 needs --address6 (l4\'s own IPv6 address)');
  const hostAddress = host !== undefined ? parseIpAddress(host)! : undefined;
  if (hostAddress?.length === 16 && !own6) throw new UsageError(`HOST ${host} is IPv6: give l4 an IPv6 address too (--address6, --peer6)`);
  if (listen && hostAddress && !hostAddress.every((b) => b === 0) && !ipEquals(hostAddress, own) && !(own6 && ipEquals(hostAddress, own6))) {
    throw new UsageError(`nc -l: ${host} is not l4's address (--address${own6 ? ' or --address6' : ''}); leave HOST out to listen on all of them`);
  }

  let tun: TunStack;
  try {
    tun = openTunStack({
      tun: options.tun, address: options.address, peer: options.peer,
      ...(options.address6 !== undefined ? { address6: options.address6 } : {}),
      ...(options.peer6 !== undefined ? { peer6: options.peer6 } : {}),
      ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    });
  } catch (error) {
    if (error instanceof TunError) throw new UsageError(error.message);
    throw error;
  }
  let result: NcResult;
  try {
    result = await runNc(tun.stack, {
      ...(host !== undefined ? { host } : {}), port, listen, udp: options.udp === true, verbose: options.verbose === true,
      ...(options.quit !== undefined ? { quitAfterEofMs: options.quit } : {}),
      ...(options.wait !== undefined ? { connectTimeoutMs: options.wait, idleTimeoutMs: options.wait } : {}),
    }, {
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: (line) => process.stderr.write(`l4 nc: ${line}\n`),
    });
  } finally {
    await tun.close();
  }
  // Nothing of stdin is read any more: let the process exit with it still open.
  process.stdin.destroy();
  if (options.verbose) process.stderr.write(`l4 nc: sent ${result.bytesSent} bytes, received ${result.bytesReceived} bytes\n`);
  if (result.exitCode === 2) throw new UsageError(result.error ?? 'nc: unusable options');
  if (result.error !== undefined) process.stderr.write(`l4 nc: ${result.error}\n`);
  return result.exitCode;
}
