/**
 * The measurements of `l4 bench`, each beside a baseline taken in the same run (a figure
 * alone means little on a shared machine). Everything runs in this process:
 *
 * 1. Bulk throughput between two l4 hosts over a fault-free virtual link (MTU 1500 and
 *    65535): wall-clock bytes per second of the whole stack (segmentation, checksums both
 *    ways, ACK clocking, the virtual link), beside Node's `net` over the kernel's loopback;
 *    and the same over a trusted link (`trustedChecksums`: `VirtualLink.trust`, the hosts
 *    skip every checksum), which is what the stack costs without the per-byte checksum work.
 *    The trusted runs are the like-for-like comparison: the kernel computes no TCP checksum
 *    on its loopback (the lo device offloads them; a capture there shows them all wrong).
 * 2. Connections opened and closed per second between two l4 hosts, beside Node's `net`
 *    doing the same over the kernel's loopback; again over a trusted link too.
 * 3. Heap bytes per idle established connection (one end: a TCB with its buffers), and the
 *    wall time and peak RSS to open 100,000 concurrent connections and close them all; heap
 *    bytes per socket pair in TIME-WAIT (what a server that closes first keeps for 2 MSL).
 * 4. Goodput on a long fat virtual link (1 Gbit/s, 100 ms round trip) over 30 virtual
 *    seconds, as a fraction of the link rate: with the link's default 1,000-packet queue
 *    (12 ms, which slow start overflows), and with a queue one bandwidth-delay product deep,
 *    where no packet is lost; with 1% random loss, beside the Mathis bound
 *    MSS·1.22 / (RTT·√p) for the same path.
 * 5. Simulation speed: virtual seconds per wall second for case 4.
 *
 * The l4 side drives the core directly (as `l4 sim` does): the applications act, then one
 * round of the virtual network runs, in a loop, with no event-loop yields. Each kind of
 * throughput and connection-rate run (the kernel's included) is made once, smaller and
 * unmeasured, before the measured runs, so that no figure pays for V8's first compilations.
 */
import { createServer, connect as kernelConnect, type AddressInfo } from 'node:net';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Host } from '../../core/host.js';
import type { TcpConnection } from '../../core/tcp/connection.js';
import type { CongestionAlgorithm } from '../../core/tcp/types.js';
import type { VirtualLink } from '../../drivers/virtual/link.js';
import { parseIpAddress } from '../../wire/address.js';
import { micros, millis, seconds, toSeconds } from '../../time/instant.js';
import { simNetwork } from '../sim-link.js';

/** One figure; `ratio` is value / baseline's value when it has one. */
export interface BenchFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly ratio?: number;
  readonly baseline?: string;
  readonly note?: string;
}

/** How much to measure. */
export interface BenchOptions {
  /** Smaller sizes (for tests and a quick look): about a second in all. */
  readonly quick?: boolean;
  /** Told the name of each measurement as it starts. */
  readonly onStart?: (what: string) => void;
}

const SERVER = parseIpAddress('10.0.0.2')!;
const PORT = 5001;

/** Wall clock, ms. */
const wall = (): number => performance.now();

/** A bulk transfer between two l4 hosts on one virtual link (see {@link bulkTransfer}). */
export interface BulkTransferOptions {
  readonly mtu: number;
  /** Bytes to move; `Number.MAX_SAFE_INTEGER` with `timeLimitUs` for "as much as fits". */
  readonly bytes: number;
  readonly bandwidth?: number;
  readonly delayUs: number;
  readonly loss?: number;
  readonly queueLimit?: number;
  /** Stop at this much virtual time (default one hour). */
  readonly timeLimitUs?: number;
  readonly cc?: CongestionAlgorithm;
  readonly seed?: number;
  /**
   * Declare the link trusted (`VirtualLink.trust`): both hosts skip computing and verifying
   * checksums on it. Default false. Needs a link without corruption (this one has none).
   */
  readonly trustedChecksums?: boolean;
}

/** What a bulk transfer did. */
export interface BulkTransferResult {
  readonly wallSeconds: number;
  readonly virtualSeconds: number;
  readonly received: number;
  /** Connection errors either end reported (0 on a healthy run). */
  readonly errors: number;
  readonly sender: TcpConnection;
  readonly link: VirtualLink;
}

/**
 * Moves `bytes` from host a (10.0.0.1) to host b (10.0.0.2) over a `simNetwork` link, the
 * applications writing and reading as fast as the stack takes bytes, with no hashing or
 * copying of their own: what is measured is the stack and the link.
 */
export function bulkTransfer(opts: BulkTransferOptions): BulkTransferResult {
  const { network, a, b, link } = simNetwork(
    {
      seed: opts.seed ?? 1, mtu: opts.mtu, delay: opts.delayUs, ...(opts.bandwidth ? { bandwidth: opts.bandwidth } : {}),
      ...(opts.loss ? { loss: opts.loss } : {}), ...(opts.queueLimit !== undefined ? { queueLimit: opts.queueLimit } : {}),
    },
    ['bench-a', 'bench-b'], [0x0b, 0x0c], opts.cc ? { congestionControl: opts.cc } : {},
  );
  if (opts.trustedChecksums === true) link.trust();
  const listen = b.tcpListen({ port: PORT });
  if (!listen.ok) throw new Error(`bench: listen: ${listen.error}`);
  const opened = a.tcpConnect(network.now, { remote: { address: SERVER, port: PORT } });
  if (!opened.ok) throw new Error(`bench: connect: ${opened.error}`);
  const sender = opened.connection;
  network.wake(a);
  let receiver: TcpConnection | undefined;
  const chunk = new Uint8Array(256 * 1024).fill(0x61);
  let sent = 0;
  let received = 0;
  let errors = 0;
  const limit = network.now + (opts.timeLimitUs ?? seconds(3600));
  const start = wall();
  const t0 = network.now;
  for (;;) {
    const now = network.now;
    let acted = false;
    for (const host of [a, b]) {
      let e;
      while ((e = host.pollEvent()) !== undefined) {
        if (e.type === 'incoming') receiver ??= e.listener.accept();
        else if (e.type === 'connection' && e.event.type === 'error') errors++;
      }
    }
    while (sent < opts.bytes) {
      const n = sender.send(now, chunk.subarray(0, Math.min(chunk.length, opts.bytes - sent)));
      if (n === 0) break;
      sent += n;
      acted = true;
    }
    if (receiver) {
      let d;
      while ((d = receiver.recv(now)) !== undefined) {
        received += d.length;
        acted = true;
      }
    }
    // Wake only after acting: a wake runs another round at this instant.
    if (acted) {
      network.wake(a);
      network.wake(b);
    }
    if (received >= opts.bytes || network.now >= limit) break;
    if (!network.step()) break;
  }
  const wallSeconds = (wall() - start) / 1000;
  return { wallSeconds, virtualSeconds: toSeconds(network.now - t0), received, errors, sender, link };
}

/** Node's net over the kernel's loopback: `bytes` from a client to a server in this process; wall seconds. */
function kernelTransfer(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    let start = 0;
    const server = createServer((s) => {
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= bytes) {
          const secondsTaken = (wall() - start) / 1000;
          s.destroy();
          server.close();
          resolve(secondsTaken);
        }
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const chunk = Buffer.alloc(256 * 1024, 0x61);
      const c = kernelConnect((server.address() as AddressInfo).port, '127.0.0.1', () => {
        start = wall();
        let sent = 0;
        const pump = (): void => {
          while (sent < bytes) {
            sent += chunk.length;
            if (!c.write(chunk)) {
              c.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      c.on('error', () => {});
    });
  });
}

/** Opens and closes `count` connections, `parallel` at a time, between two l4 hosts (over a trusted link with `trusted`); per second. */
function l4ConnectionRate(count: number, parallel: number, trusted = false): number {
  const { network, a, b, link } = simNetwork({ seed: 2, delay: micros(10) }, ['rate-a', 'rate-b'], [0x0d, 0x0e]);
  if (trusted) link.trust();
  for (let p = 0; p < 4; p++) if (!b.tcpListen({ port: PORT + p, backlog: 4096 }).ok) throw new Error('bench: listen');
  let opened = 0;
  let closed = 0;
  const open = new Set<TcpConnection>();
  const start = wall();
  const openOne = (): void => {
    const r = a.tcpConnect(network.now, { remote: { address: SERVER, port: PORT + (opened % 4) } });
    if (!r.ok) throw new Error(`bench: connect: ${r.error}`);
    opened++;
    open.add(r.connection);
  };
  while (opened < Math.min(parallel, count)) openOne();
  network.wake(a);
  while (closed < count) {
    const now = network.now;
    let acted = false;
    let e;
    while ((e = b.pollEvent()) !== undefined) {
      if (e.type === 'incoming') {
        let c;
        while ((c = e.listener.accept()) !== undefined) c.close(now); // the server closes at once
        acted = true;
      }
    }
    while ((e = a.pollEvent()) !== undefined) {
      if (e.type !== 'connection') continue;
      if (e.event.type === 'peer-closed') {
        e.connection.close(now);
        acted = true;
      }
      if (e.event.type === 'closed' || e.event.type === 'error') {
        if (open.delete(e.connection)) closed++;
        if (opened < count) openOne();
        acted = true;
      }
    }
    // The server closes first, so TIME-WAIT is the server's; the client's ends pass LAST-ACK to CLOSED.
    // Wake only after acting: a wake runs another round at this instant (time would stand still).
    if (acted) {
      network.wake(a);
      network.wake(b);
    }
    if (!network.step()) break;
  }
  return count / ((wall() - start) / 1000);
}

/** The same with Node's net over the kernel's loopback. */
function kernelConnectionRate(count: number, parallel: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => { s.on('error', () => {}); s.end(); });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      let opened = 0;
      let closed = 0;
      const start = wall();
      const openOne = (): void => {
        opened++;
        const c = kernelConnect(port, '127.0.0.1');
        c.on('error', () => {});
        c.on('end', () => c.end());
        c.on('close', () => {
          closed++;
          if (closed === count) {
            server.close();
            resolve(count / ((wall() - start) / 1000));
          } else if (opened < count) openOne();
        });
      };
      for (let i = 0; i < Math.min(parallel, count); i++) openOne();
    });
  });
}

let gcFunction: (() => void) | undefined;
/** A full garbage collection (V8's gc(), exposed for this process). */
function collect(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}

/**
 * Opens `count` concurrent connections between two l4 hosts and keeps them idle: heap bytes
 * per connection end, the wall time and peak RSS of opening them all and closing them all.
 */
function l4ManyConnections(count: number): { heapPerEnd: number; openSeconds: number; closeSeconds: number; peakRss: number } {
  const ports = Math.ceil(count / 12_000);
  const { network, a, b } = simNetwork({ seed: 3, delay: micros(10) }, ['many-a', 'many-b'], [0x0f, 0x10]);
  for (let p = 0; p < ports; p++) if (!b.tcpListen({ port: PORT + p, backlog: 65535 }).ok) throw new Error('bench: listen');
  const clients: TcpConnection[] = [];
  const servers: TcpConnection[] = [];
  let peakRss = process.memoryUsage().rss;
  const sample = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
  collect();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const start = wall();
  const drainServer = (host: Host): void => {
    let e;
    while ((e = host.pollEvent()) !== undefined) {
      if (e.type === 'incoming') {
        let c;
        while ((c = e.listener.accept()) !== undefined) servers.push(c);
      }
    }
  };
  const batch = 1000;
  for (let opened = 0; opened < count;) {
    for (let i = 0; i < batch && opened < count; i++, opened++) {
      const r = a.tcpConnect(network.now, { remote: { address: SERVER, port: PORT + (opened % ports) } });
      if (!r.ok) throw new Error(`bench: connect ${opened}: ${r.error}`);
      clients.push(r.connection);
    }
    network.wake(a);
    while (network.step()) {
      drainServer(b);
      while (a.pollEvent() !== undefined) { /* established */ }
      if (servers.length === opened && network.nextInstant() === undefined) break;
    }
    drainServer(b);
    sample();
  }
  const openSeconds = (wall() - start) / 1000;
  const established = clients.filter((c) => c.state === 'ESTABLISHED').length + servers.filter((c) => c.state === 'ESTABLISHED').length;
  if (established !== 2 * count) throw new Error(`bench: ${established} of ${2 * count} connection ends established`);
  collect();
  const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  sample();
  const closeStart = wall();
  const now = network.now;
  for (const c of clients) c.abort(now);
  network.wake(a);
  while (network.step()) {
    while (a.pollEvent() !== undefined) { /* */ }
    while (b.pollEvent() !== undefined) { /* */ }
  }
  sample();
  const closeSeconds = (wall() - closeStart) / 1000;
  const left = b.sockets().filter((s) => s.kind === 'connection').length + a.sockets().filter((s) => s.kind === 'connection').length;
  if (left !== 0) throw new Error(`bench: ${left} connections left after closing`);
  return { heapPerEnd: (heapAfter - heapBefore) / (2 * count), openSeconds, closeSeconds, peakRss };
}

/**
 * Heap bytes per socket pair in TIME-WAIT: `count` connections that the server closes first
 * (as in the connection-rate run), measured once every client end is CLOSED and every server
 * end waits out its 2 MSL (as a compact record: see `time-wait.ts`).
 */
function l4TimeWaitHeap(count: number): number {
  const { network, a, b } = simNetwork({ seed: 4, delay: micros(10) }, ['tw-a', 'tw-b'], [0x11, 0x12]);
  const ports = Math.ceil(count / 12_000);
  for (let p = 0; p < ports; p++) if (!b.tcpListen({ port: PORT + p, backlog: 65535 }).ok) throw new Error('bench: listen');
  collect();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let closed = 0;
  for (let opened = 0; opened < count; opened++) {
    const r = a.tcpConnect(network.now, { remote: { address: SERVER, port: PORT + (opened % ports) } });
    if (!r.ok) throw new Error(`bench: connect ${opened}: ${r.error}`);
  }
  network.wake(a);
  for (;;) {
    let acted = false;
    let e;
    while ((e = b.pollEvent()) !== undefined) {
      if (e.type !== 'incoming') continue;
      let c;
      while ((c = e.listener.accept()) !== undefined) c.close(network.now);
      acted = true;
    }
    while ((e = a.pollEvent()) !== undefined) {
      if (e.type !== 'connection') continue;
      if (e.event.type === 'peer-closed') e.connection.close(network.now);
      if (e.event.type === 'closed') closed++;
      acted = true;
    }
    // Wake only after acting (a wake runs another round at this instant), and stop before
    // the next step could run the clock on to the 2 MSL timers.
    if (acted) {
      network.wake(a);
      network.wake(b);
    }
    if (closed === count || !network.step()) break;
  }
  collect();
  const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  // Counted after the measurement, so that the hosts are still in use when it is taken (V8
  // may collect what a function no longer uses, its own locals included).
  const waiting = b.sockets().filter((s) => s.kind === 'connection' && s.state === 'TIME-WAIT').length;
  if (waiting !== count) throw new Error(`bench: ${waiting} of ${count} server ends in TIME-WAIT`);
  return (heapAfter - heapBefore) / count;
}

/** Runs every measurement (see the module doc). */
export async function runL4Bench(options: BenchOptions = {}): Promise<BenchFigure[]> {
  const q = options.quick === true;
  const figures: BenchFigure[] = [];
  const say = options.onStart ?? (() => {});

  // 1. Bulk throughput. Every kind of run is first made once, smaller and unmeasured: the
  // first transfer in a process runs code V8 has not optimized yet and memory the allocator
  // has not handed out before, and comes out some 20-30% slower than the next (measured on
  // this 2-core machine); without the warm-up the figure measured first is penalized.
  const bulkBytes = q ? 16 * 1024 * 1024 : 256 * 1024 * 1024;
  const warmBytes = q ? 4 * 1024 * 1024 : 32 * 1024 * 1024;
  say('bulk throughput: warming up');
  await kernelTransfer(warmBytes);
  for (const mtu of [1500, 65535]) {
    for (const trusted of [false, true]) bulkTransfer({ mtu, bytes: warmBytes, delayUs: 10, trustedChecksums: trusted });
  }
  say('bulk throughput: Node net over the kernel loopback');
  const kernelSeconds = await kernelTransfer(bulkBytes);
  const kernelGbps = (bulkBytes * 8) / kernelSeconds / 1e9;
  figures.push({ name: 'bulk_kernel_loopback_gbps', value: kernelGbps, unit: 'Gbit/s' });
  for (const mtu of [1500, 65535]) {
    for (const trusted of [false, true]) {
      say(`bulk throughput: two l4 hosts, MTU ${mtu}${trusted ? ', trusted link (no checksums)' : ''}`);
      const r = bulkTransfer({ mtu, bytes: bulkBytes, delayUs: 10, trustedChecksums: trusted });
      const gbps = (r.received * 8) / r.wallSeconds / 1e9;
      figures.push({
        name: `bulk_l4_mtu${mtu}${trusted ? '_trusted' : ''}_gbps`, value: gbps, unit: 'Gbit/s', ratio: gbps / kernelGbps, baseline: 'bulk_kernel_loopback_gbps',
      });
    }
  }

  // 2. Connection rate, after a warm-up of each kind as for the bulk transfers.
  const connections = q ? 2000 : 20_000;
  say('connection rate: warming up');
  await kernelConnectionRate(q ? 100 : 1000, 50);
  l4ConnectionRate(q ? 200 : 2000, 50);
  l4ConnectionRate(q ? 200 : 2000, 50, true);
  say('connection rate: Node net over the kernel loopback');
  const kernelRate = await kernelConnectionRate(q ? 500 : 5000, 50);
  figures.push({ name: 'connections_kernel_loopback_per_s', value: kernelRate, unit: 'conn/s' });
  say('connection rate: two l4 hosts');
  const l4Rate = l4ConnectionRate(connections, 50);
  figures.push({ name: 'connections_l4_per_s', value: l4Rate, unit: 'conn/s', ratio: l4Rate / kernelRate, baseline: 'connections_kernel_loopback_per_s' });
  say('connection rate: two l4 hosts, trusted link (no checksums)');
  const trustedRate = l4ConnectionRate(connections, 50, true);
  figures.push({ name: 'connections_l4_trusted_per_s', value: trustedRate, unit: 'conn/s', ratio: trustedRate / kernelRate, baseline: 'connections_kernel_loopback_per_s' });

  // 3. Memory.
  const many = q ? 5000 : 100_000;
  say(`memory: ${many} concurrent connections`);
  // TIME-WAIT first: after the 100,000 connections, the sweeper's backlog blurs heap deltas.
  say('memory: connections in TIME-WAIT');
  l4TimeWaitHeap(500); // warm-up: what the first run compiles is not the sockets' memory
  const timeWaitHeap = l4TimeWaitHeap(q ? 2000 : 20_000);
  const m = l4ManyConnections(many);
  figures.push({ name: 'heap_bytes_per_idle_connection', value: m.heapPerEnd, unit: 'bytes', note: 'one end: heap + array buffers after a full GC, divided by both ends' });
  figures.push({ name: `open_${many}_connections_seconds`, value: m.openSeconds, unit: 's' });
  figures.push({ name: `close_${many}_connections_seconds`, value: m.closeSeconds, unit: 's' });
  figures.push({ name: `peak_rss_${many}_connections_mib`, value: m.peakRss / 1048576, unit: 'MiB' });
  figures.push({ name: 'heap_bytes_per_time_wait', value: timeWaitHeap, unit: 'bytes', note: 'server ends that closed first, waiting out 2 MSL' });

  // 4 and 5. The long fat link.
  const rate = 1e9;
  const oneWay = millis(50);
  const duration = q ? seconds(3) : seconds(30);
  say('long fat link: 1 Gbit/s, 100 ms RTT, no loss');
  const lfn = bulkTransfer({ mtu: 1500, bytes: Number.MAX_SAFE_INTEGER, bandwidth: rate, delayUs: oneWay, timeLimitUs: duration });
  const lfnGoodput = (lfn.received * 8) / lfn.virtualSeconds;
  figures.push({ name: 'lfn_goodput_fraction', value: lfnGoodput / rate, unit: 'of link', note: `1,000-packet queue; ${(lfnGoodput / 1e6).toFixed(1)} Mbit/s over ${lfn.virtualSeconds.toFixed(0)} virtual s` });
  figures.push({ name: 'lfn_sim_speed', value: lfn.virtualSeconds / lfn.wallSeconds, unit: 'virt s/s' });
  // The same path with a queue one bandwidth-delay product deep (the classic rule for a
  // router's buffer): nothing overflows, so what is measured is the window and the sender.
  say('long fat link, queue of one bandwidth-delay product');
  const bdpPackets = Math.ceil((rate * 0.1) / (1500 * 8));
  const deep = bulkTransfer({ mtu: 1500, bytes: Number.MAX_SAFE_INTEGER, bandwidth: rate, delayUs: oneWay, queueLimit: bdpPackets, timeLimitUs: duration });
  const deepGoodput = (deep.received * 8) / deep.virtualSeconds;
  figures.push({ name: 'lfn_bdp_queue_goodput_fraction', value: deepGoodput / rate, unit: 'of link', note: `${bdpPackets}-packet queue; ${(deepGoodput / 1e6).toFixed(1)} Mbit/s over ${deep.virtualSeconds.toFixed(0)} virtual s` });
  say('long fat link with 1% loss');
  const lossy = bulkTransfer({ mtu: 1500, bytes: Number.MAX_SAFE_INTEGER, bandwidth: rate, delayUs: oneWay, loss: 0.01, timeLimitUs: duration });
  const lossyGoodput = (lossy.received * 8) / lossy.virtualSeconds;
  const mathis = (lossy.sender.info().mss * 8 * 1.22) / (0.1 * Math.sqrt(0.01));
  figures.push({ name: 'mathis_bound_1pct_mbps', value: mathis / 1e6, unit: 'Mbit/s' });
  figures.push({ name: 'lfn_loss_1pct_goodput_mbps', value: lossyGoodput / 1e6, unit: 'Mbit/s', ratio: lossyGoodput / mathis, baseline: 'mathis_bound_1pct_mbps' });
  figures.push({ name: 'lfn_loss_1pct_sim_speed', value: lossy.virtualSeconds / lossy.wallSeconds, unit: 'virt s/s' });
  return figures;
}
