/**
 * `runScan`: one scan from start to report. It builds the engine (engine.ts) over the hosts
 * and ports (in random order, as nmap scans them), runs it with the right driver — the
 * connect scanner on the operating system's TCP (connect.ts), or, for SYN and UDP scans,
 * a `ProbeNode` that a `TunDriver` runs on a TUN device opened for the scan (l4's own
 * packets; needs root or CAP_NET_ADMIN) — then, with `banners`, reads what each open TCP
 * port says (banners.ts), and returns the report (report.ts).
 *
 * Scanning is for networks one is allowed to test: nothing here decides what may be
 * scanned; the CLI says so and l4's own tests scan only loopback, the virtual network and
 * namespaces they create. `signal` stops a scan early (Ctrl-C): the report then holds what
 * was decided and says it was interrupted. Errors opening the device are `TunError`s with
 * a message that says what to do.
 */
import { randomInt } from 'node:crypto';
import { TunDevice, TunDriver, TunError, parseInterfaceAddress } from '../../drivers/tun/index.js';
import { Rng } from '../../time/rng.js';
import { parseIpAddress } from '../../wire/address.js';
import { readBanner, type ServiceInfo } from './banners.js';
import { runConnectScan } from './connect.js';
import { ScanEngine, type EngineEvent } from './engine.js';
import { ProbeNode } from './probe-node.js';
import { buildReport, type ScanReport } from './report.js';
import type { ScanHost } from './targets.js';
import type { ScanType } from './verdict.js';

export type { ScanReport, HostReport, PortReport } from './report.js';
export type { ScanHost, TargetSpec } from './targets.js';
export type { PortState, Reason, ScanType } from './verdict.js';

/** Where SYN and UDP probes leave from: a TUN device l4 opens for the scan. */
export interface ScanTunOptions {
  /** Interface name to create. */
  readonly name: string;
  /** l4's IPv4 address and prefix on the device, `10.66.0.2/24`. */
  readonly address: string;
  /** The kernel's address on the device (its side; the kernel routes l4's probes on from there). */
  readonly peer: string;
  /** l4's IPv6 address and prefix, for IPv6 targets. */
  readonly address6?: string;
  readonly peer6?: string;
  /** Device MTU; default 1500. */
  readonly mtu?: number;
}

/** Options of `runScan`. */
export interface ScanOptions {
  readonly type: ScanType;
  readonly hosts: readonly ScanHost[];
  readonly ports: readonly number[];
  /** Retries after the first try; default 2. */
  readonly retries?: number;
  /** The longest a probe waits for an answer, ms (nmap's --max-rtt-timeout); default 1000. */
  readonly timeoutMs?: number;
  /** The shortest, ms (--min-rtt-timeout); default 100 (or `timeoutMs` if smaller). */
  readonly minTimeoutMs?: number;
  /** Probes per second at most; default unlimited. */
  readonly rate?: number;
  /** Probes outstanding at most; default 256. */
  readonly concurrency?: number;
  /** Required for `syn` and `udp`. */
  readonly tun?: ScanTunOptions;
  /** Read banners of open TCP ports, and how long each may take (ms). */
  readonly banners?: boolean | { readonly timeoutMs?: number; readonly quietMs?: number };
  /** Probe ports in the order given rather than shuffled. */
  readonly ordered?: boolean;
  /** Seed of the port order, cookies and source port; random unless given. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  /** Called as ports are decided (a progress bar). */
  readonly onProgress?: (decided: number, total: number) => void;
  /** The command line, for the report. */
  readonly args?: string;
  /** l4's version, for the report. */
  readonly version?: string;
}

/** Runs one scan (see the module doc). */
export async function runScan(options: ScanOptions): Promise<ScanReport> {
  const seed = options.seed ?? randomInt(0, 2 ** 31);
  const ports = [...options.ports];
  if (!options.ordered) {
    const rng = new Rng(seed);
    for (let i = ports.length - 1; i > 0; i--) {
      const j = rng.nextBelow(i + 1);
      [ports[i], ports[j]] = [ports[j]!, ports[i]!];
    }
  }
  const maxTimeout = Math.round((options.timeoutMs ?? 1000) * 1000);
  const engine = new ScanEngine({
    hosts: options.hosts.length, ports, type: options.type,
    retries: options.retries ?? 2,
    maxTimeout,
    minTimeout: Math.min(maxTimeout, Math.round((options.minTimeoutMs ?? 100) * 1000)),
    ...(options.rate !== undefined ? { rate: options.rate } : {}),
    // 256: half the kernel's queue towards a TUN device (txqueuelen 500), so a burst of
    // replies to a full window is not dropped before l4 reads it.
    concurrency: options.concurrency ?? 256,
  });
  let decided = 0;
  const onEvent = (e: EngineEvent): void => {
    if (e.kind !== 'decided') return;
    decided++;
    options.onProgress?.(decided, engine.total);
  };
  const start = new Date();
  if (engine.total > 0) {
    if (options.type === 'connect') {
      await runConnectScan(engine, { targets: options.hosts.map((h) => h.address), onEvent, ...(options.signal ? { signal: options.signal } : {}) });
    } else {
      await runTunScan(engine, options, seed, onEvent);
    }
  }
  const services = new Map<string, ServiceInfo>();
  if (options.banners && options.type !== 'udp' && !engine.aborted) {
    const bannerOptions = typeof options.banners === 'object' ? options.banners : {};
    const jobs: Array<() => Promise<void>> = [];
    options.hosts.forEach((h, index) => {
      for (const o of engine.outcomes(index)) {
        if (o.verdict.state !== 'open') continue;
        jobs.push(async () => { services.set(`${index}:${o.port}`, await readBanner(h.address, o.port, bannerOptions)); });
      }
    });
    await runLimited(jobs, 32, options.signal);
  }
  const end = new Date();
  return buildReport(engine, {
    version: options.version ?? '0.0.0', type: options.type, args: options.args ?? 'l4 scan', start, end, hosts: options.hosts, services,
  });
}

/** Runs `jobs` with at most `limit` at once; stops starting new ones once `signal` aborts. */
async function runLimited(jobs: ReadonlyArray<() => Promise<void>>, limit: number, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && !signal?.aborted) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/** SYN or UDP: a probe node on a TUN device opened for the scan, until the engine is done or the signal aborts. */
async function runTunScan(engine: ScanEngine, options: ScanOptions, seed: number, onEvent: (e: EngineEvent) => void): Promise<void> {
  const tun = options.tun;
  if (!tun) throw new TunError(`a ${options.type} scan sends its own packets: give a TUN device (--tun NAME --address A/P --peer K)`, 'EINVAL');
  const own = parseInterfaceAddress(tun.address, 4);
  const peer = parseInterfaceAddress(tun.peer, 4);
  const own6 = tun.address6 !== undefined ? parseInterfaceAddress(tun.address6, 6) : undefined;
  const peer6 = tun.peer6 !== undefined ? parseInterfaceAddress(tun.peer6, 6) : undefined;
  if (own6 && !peer6) throw new TunError('an IPv6 address needs the kernel side\'s IPv6 address too (--peer6)', 'EINVAL');
  if (peer.address === own.address) throw new TunError(`--peer ${tun.peer} is l4's own address`, 'EINVAL');
  if (options.hosts.some((h) => h.bytes.length === 16) && !own6) {
    throw new TunError('IPv6 targets need l4\'s IPv6 address on the device (--address6 A/P --peer6 K)', 'EINVAL');
  }
  const device = TunDevice.open({
    name: tun.name,
    mtu: tun.mtu ?? 1500,
    kernelAddress: `${peer.address}/${own.prefixLength}`,
    ...(own6 && peer6 ? { kernelAddress6: `${peer6.address}/${own6.prefixLength}` } : {}),
  });
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  const node = new ProbeNode({
    engine, type: options.type === 'udp' ? 'udp' : 'syn', iface: device.name,
    source: parseIpAddress(own.address)!,
    ...(own6 ? { source6: parseIpAddress(own6.address)! } : {}),
    targets: options.hosts.map((h) => h.bytes), seed, onEvent, onDone: resolveDone,
  });
  const driver = new TunDriver(device, node, { iface: device.name });
  const onAbort = (): void => {
    engine.abort();
    resolveDone();
  };
  try {
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    driver.start();
    await done;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await driver.close();
  }
}
