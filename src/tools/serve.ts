/**
 * `l4 serve`: a user-space host on a TUN device whose services (HTTP, echo, discard,
 * chargen, daytime, UDP echo) all run on l4's own TCP and UDP. `startServe` opens the
 * device (`openTunStack`), starts the services, optionally records every packet that
 * crosses the device in a pcap file, and opens the control socket through which
 * `l4 netstat --serve PID` reads the socket table. It logs one line per connection opened
 * and one per connection closed (socket pair, bytes each way, duration), plus the HTTP
 * request lines. `close()` ends every connection with FIN (a reset after a grace period),
 * then closes the device, the capture and the control socket.
 *
 * Signals are the CLI's business (src/cli/serve.ts); this module never touches `process`
 * beyond its pid for the control socket, so tests can run it in-process.
 */
import { PcapFileWriter } from '../drivers/pcap/writer.js';
import { openTunStack, type TunStack, type TunStackOptions } from '../drivers/tun/index.js';
import { startServices, type RunningServices, type ServicesOptions } from './services/index.js';
import {
  formatAddresses, openControlSocket, serveSocketRow, type ControlSocket, type ServeSnapshot, type ServeSocketRow,
} from './serve-control.js';

/** How to run `l4 serve`. */
export interface ServeOptions extends TunStackOptions {
  /** The services and their ports (callbacks are set by `startServe`). */
  readonly services: Omit<ServicesOptions, 'onOpen' | 'onClose' | 'onRequest'>;
  /** Write every packet crossing the device here (pcap, LINKTYPE_RAW). */
  readonly pcap?: string;
  /** Where log lines go. */
  readonly log: (line: string) => void;
  /** Open the control socket (default true); its folder (default: controlDirectory()). */
  readonly control?: boolean;
  readonly controlDir?: string;
  /** Wall clock for log timestamps; default () => new Date(). */
  readonly clock?: () => Date;
}

/** A running `l4 serve`. */
export interface RunningServe {
  readonly tun: TunStack;
  readonly services: RunningServices;
  /** The control socket's path, when it is open. */
  readonly controlPath: string | undefined;
  /** The socket table and counters, now. */
  snapshot(): ServeSnapshot;
  /** Ends every connection (FIN; RST after `graceMs`), then closes the device, the capture and the control socket. */
  close(graceMs?: number): Promise<void>;
}

/** A byte count in units a person reads: `87 B`, `12.5 KiB`, `50.0 MiB`. */
function bytes(n: number): string {
  if (n < 10_000) return `${n} B`;
  if (n < 10_000_000) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** Starts everything (see the module doc). Throws `TunError` for a device it cannot open; rejects with a Node error (EADDRINUSE…) for a service it cannot bind. */
export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const clock = options.clock ?? (() => new Date());
  const stamp = (): string => clock().toISOString();
  const pcap = options.pcap === undefined ? undefined : PcapFileWriter.open(options.pcap);
  const epochNs = BigInt(clock().getTime()) * 1_000_000n;
  let tun: TunStack;
  try {
    tun = openTunStack({
      ...options,
      ...(pcap ? { capture: (now: number, packet: Uint8Array) => pcap.write(epochNs + BigInt(now) * 1000n, packet) } : {}),
    });
  } catch (error) {
    pcap?.close();
    throw error;
  }
  let services: RunningServices;
  try {
    services = await startServices(tun.stack, {
      ...options.services,
      onOpen: (e) => options.log(`${stamp()} open  ${e.service} ${e.local} <- ${e.remote}`),
      onClose: (e) => options.log(`${stamp()} close ${e.service} ${e.local} <- ${e.remote} in ${bytes(e.bytesIn)} out ${bytes(e.bytesOut)} ${e.durationMs.toFixed(1)} ms${e.error ? ` ${e.error}` : ''}`),
      onRequest: (line) => options.log(line),
    });
  } catch (error) {
    await tun.close();
    pcap?.close();
    throw error;
  }
  const host = tun.stack.host;
  const snapshot = (): ServeSnapshot => ({
    pid: process.pid,
    tun: tun.device.name,
    addresses: host.interfaces().filter((i) => i.name === tun.device.name).flatMap((i) => formatAddresses(i.addresses)),
    uptimeMs: Math.round(tun.driver.now() / 1000),
    sockets: host.sockets().map(serveSocketRow),
    stats: host.stats,
  });
  let control: ControlSocket | undefined;
  if (options.control ?? true) {
    try {
      control = await openControlSocket(snapshot, options.controlDir);
    } catch (error) {
      options.log(`${stamp()} no control socket (${error instanceof Error ? error.message : String(error)}); l4 netstat --serve will not see this server`);
    }
  }
  let closing: Promise<void> | undefined;
  return {
    tun,
    services,
    controlPath: control?.path,
    snapshot,
    close: (graceMs?: number) => {
      closing ??= (async () => {
        await services.close(graceMs);
        await tun.close();
        pcap?.close();
        await control?.close();
      })();
      return closing;
    },
  };
}

/** The socket table as `netstat -an` prints it, with the TCP figures l4 has (srtt, rto, cwnd). */
export function formatSocketTable(rows: readonly ServeSocketRow[]): string[] {
  const header = ['Proto', 'Recv-Q', 'Send-Q', 'Local Address', 'Foreign Address', 'State', 'srtt', 'rto', 'cwnd'];
  const cells = rows.map((r) => [
    r.proto, String(r.recvQ), String(r.sendQ), r.local, r.remote, r.state,
    r.srttMs === undefined ? '' : `${r.srttMs}ms`, r.rtoMs === undefined ? '' : `${r.rtoMs}ms`, r.cwnd === undefined ? '' : String(r.cwnd),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((s, i) => s.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}
