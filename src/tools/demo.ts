/**
 * `l4 demo`: the seeds' scenes on a virtual network, in virtual time. A client at
 * 192.168.1.10 and a server at 203.0.113.50 on one link; the server runs the seeds' gzip
 * HTTP server on 80, an FTP greeting on 21, an SSH banner on 22, SMTP on 25 and a DNS server
 * on UDP 53. The client opens two pages at once (two connections to port 80, two source
 * ports), FTP and HTTP to the same server, and a DNS query over UDP. While everything is
 * open it takes the client's socket table (netstat style); a tap on the link records every
 * packet, from which the first connection's three-way handshake is shown layer by layer.
 * Then a small TCP-versus-UDP run on a lossy link. Deterministic: fixed seeds.
 */
import type { Socket } from '../api/net.js';
import type { Stack } from '../api/stack.js';
import { formatEndpoint } from '../core/endpoint.js';
import type { SocketInfo } from '../core/host.js';
import { PcapMemoryWriter } from '../drivers/pcap/writer.js';
import { addStack } from '../drivers/virtual/hosts.js';
import { VirtualNetwork } from '../drivers/virtual/network.js';
import { readCapture } from '../wire/capture.js';
import { TcpFlags } from '../wire/tcp.js';
import { millis, seconds } from '../time/instant.js';
import { decodePacket, type DecodedPacket } from './decode/packet.js';
import { layerTable, type LayerRow } from './explain/index.js';
import { createHelloServer } from './hello-server.js';
import { runCompare, type CompareReport } from './compare.js';
import { gunzipSync } from 'node:zlib';

export const DEMO_CLIENT = '192.168.1.10';
export const DEMO_SERVER = '203.0.113.50';
export const DEMO_NAME = 'www.l4.example';
export const BANNERS = { ftp: '220 l4 FTP server ready', ssh: 'SSH-2.0-l4_demo', smtp: '220 l4.example ESMTP' } as const;

/** One row of the client's socket table, as netstat prints it. */
export interface DemoSocketRow {
  readonly proto: 'TCP' | 'UDP';
  readonly local: string;
  readonly foreign: string;
  readonly state: string;
}

/** One exchange the client made. */
export interface DemoExchange {
  readonly service: 'http' | 'ftp' | 'ssh' | 'smtp' | 'dns';
  readonly protocol: 'tcp' | 'udp';
  /** The client's end (source port) and the server's (destination port). */
  readonly local: string;
  readonly remote: string;
  /** What came back: the page, the banner, the DNS answer. */
  readonly reply: string;
}

/** One frame of the handshake, with its layer table. */
export interface HandshakeFrame {
  readonly name: 'SYN' | 'SYN/ACK' | 'ACK';
  readonly frame: number;
  readonly timeSeconds: number;
  readonly info: string;
  readonly layers: LayerRow[];
}

export interface DemoReport {
  readonly client: string;
  readonly server: string;
  readonly exchanges: DemoExchange[];
  readonly sockets: DemoSocketRow[];
  /** The server's log of HTTP requests (the seeds' server prints the same). */
  readonly serverLog: string[];
  readonly handshake: HandshakeFrame[];
  readonly comparison: CompareReport;
  /** The capture of the link (raw IP pcap). */
  readonly capture: { readonly packets: number; readonly bytes: Uint8Array };
  readonly virtualSeconds: number;
}

function socketRow(s: SocketInfo): DemoSocketRow {
  if (s.kind === 'udp') {
    return { proto: 'UDP', local: formatEndpoint(s.local), foreign: s.remote ? formatEndpoint(s.remote) : '*:*', state: '' };
  }
  if (s.kind === 'listener') return { proto: 'TCP', local: formatEndpoint(s.local), foreign: '0.0.0.0:0', state: 'LISTENING' };
  return { proto: 'TCP', local: formatEndpoint(s.local), foreign: formatEndpoint(s.remote), state: s.state === 'ESTABLISHED' ? 'ESTABLISHED' : s.state };
}

/** Reads from `socket` until `done(buffer)` says the reply is complete. */
function readUntil(socket: Socket, done: (b: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (done(got)) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => resolve(got));
  });
}

function httpComplete(b: Buffer): boolean {
  const end = b.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /content-length:\s*(\d+)/i.exec(b.subarray(0, end).toString('latin1'));
  return m !== null && b.length >= end + 4 + Number(m[1]);
}

function httpBody(b: Buffer): string {
  const end = b.indexOf('\r\n\r\n');
  const head = b.subarray(0, end).toString('latin1');
  const body = b.subarray(end + 4);
  const status = head.split('\r\n')[0] ?? '';
  const text = /content-encoding:\s*gzip/i.test(head) ? `${gunzipSync(body).toString()} (gzip, ${body.length} bytes)` : body.toString();
  return `${status}: ${text}`;
}

function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

/** A minimal authoritative answer: the question back, one A record of `address`. */
function dnsAnswer(query: Buffer, address: string): Buffer {
  const ip = address.split('.').map(Number);
  return Buffer.concat([query.subarray(0, 2), Buffer.from([0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), query.subarray(12),
    Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...ip])]);
}

function dnsAnswerText(answer: Buffer): string {
  const ip = [...answer.subarray(answer.length - 4)].join('.');
  return `${DEMO_NAME} A ${ip} (id 0x${answer.readUInt16BE(0).toString(16)}, ${answer.length} bytes)`;
}

function handshakeOf(packets: readonly DecodedPacket[], clientPort: number): HandshakeFrame[] {
  const out: HandshakeFrame[] = [];
  const t0 = packets[0]?.record.timestamp ?? 0n;
  const want: [HandshakeFrame['name'], (flags: number, src: number, dst: number) => boolean, string][] = [
    ['SYN', (f, s, d) => (f & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN && s === clientPort && d === 80, '3-way handshake (SYN)'],
    ['SYN/ACK', (f, s, d) => (f & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK) && s === 80 && d === clientPort, '3-way handshake (SYN/ACK)'],
    // The third segment may carry the request already (the page was written before the connect completed).
    ['ACK', (f, s, d) => (f & (TcpFlags.SYN | TcpFlags.ACK | TcpFlags.FIN | TcpFlags.RST)) === TcpFlags.ACK && s === clientPort && d === 80, '3-way handshake (ACK)'],
  ];
  let from = 0;
  for (const [name, match, info] of want) {
    for (let i = from; i < packets.length; i++) {
      const p = packets[i]!;
      const t = p.transport;
      if (t?.kind !== 'tcp' || !match(t.repr.flags, t.repr.srcPort, t.repr.dstPort)) continue;
      out.push({ name, frame: p.record.index, timeSeconds: Number(p.record.timestamp - t0) / 1e9, info, layers: layerTable(p, info) });
      from = i + 1;
      break;
    }
  }
  return out;
}

/** Runs the network until `promise` settles. */
async function drive<T>(network: VirtualNetwork, promise: Promise<T>): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => { settled = true; });
  await network.run({ until: () => settled, idleYields: 50 });
  if (!settled) throw new Error(`demo: the network went idle at ${network.now} µs before the scene finished`);
  return watched;
}

function listenBanner(server: Stack, port: number, banner: string): Promise<void> {
  const srv = server.net.createServer((s: Socket) => {
    s.on('error', () => undefined);
    s.on('end', () => s.end());
    s.resume();
    s.write(`${banner}\r\n`);
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, () => resolve());
  });
}

/** Options: the comparison's size can be made smaller still for tests. */
export interface DemoOptions {
  readonly compare?: { readonly tcpBytes?: number; readonly minUdpDuration?: number };
}

/** Plays the scenes and reports them. Same report every run. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const epoch = Date.UTC(2026, 0, 1);
  const network = new VirtualNetwork({ seed: 7, epochNanos: BigInt(epoch) * 1_000_000n });
  const client = addStack(network, { name: 'client', seed: 11, interfaces: [{ name: 'eth0', addresses: [`${DEMO_CLIENT}/24`] }], routes: [{ destination: '0.0.0.0/0', gateway: '192.168.1.1', iface: 'eth0' }] });
  const server = addStack(network, { name: 'server', seed: 23, privileged: true, interfaces: [{ name: 'eth0', addresses: [`${DEMO_SERVER}/24`] }], routes: [{ destination: '0.0.0.0/0', gateway: '203.0.113.1', iface: 'eth0' }] });
  const link = network.link(client, 'eth0', server, 'eth0', { delay: millis(10) });
  const writer = new PcapMemoryWriter();
  const tap = network.tap(link, writer);

  const serverLog: string[] = [];
  const clock = (): Date => new Date(epoch + network.now / 1000);
  const hello = await drive(network, createHelloServer(server.net, 80, { log: (l) => serverLog.push(l), clock }));
  await drive(network, Promise.all([listenBanner(server, 21, BANNERS.ftp), listenBanner(server, 22, BANNERS.ssh), listenBanner(server, 25, BANNERS.smtp)]));
  const dns = server.dgram.createSocket('udp4');
  dns.on('message', (q: Buffer, rinfo: { address: string; port: number }) => dns.send(dnsAnswer(q, DEMO_SERVER), rinfo.port, rinfo.address));
  await drive(network, new Promise<void>((resolve) => dns.bind(53, resolve)));

  // The client: the DNS lookup first, then two pages at once, FTP, SSH and SMTP, all open together.
  const resolver = client.dgram.createSocket('udp4');
  const answered = new Promise<Buffer>((resolve) => resolver.once('message', (m: Buffer) => resolve(m)));
  resolver.send(dnsQuery(0x4c34, DEMO_NAME), 53, DEMO_SERVER);
  const dnsReply = await drive(network, answered);

  const open = (port: number): Socket => client.net.connect({ port, host: DEMO_SERVER });
  const pages = [open(80), open(80)];
  const ftp = open(21);
  const ssh = open(22);
  const smtp = open(25);
  const request = `GET / HTTP/1.1\r\nHost: ${DEMO_NAME}\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n`;
  for (const p of pages) p.write(request);
  const line = (b: Buffer): boolean => b.includes('\r\n');
  const replies = await drive(network, Promise.all([
    ...pages.map((p) => readUntil(p, httpComplete)), readUntil(ftp, line), readUntil(ssh, line), readUntil(smtp, line),
  ]));
  const sockets = client.host.sockets().map(socketRow);

  const ends = (s: Socket): string[] => [`${s.localAddress}:${s.localPort}`, `${s.remoteAddress}:${s.remotePort}`];
  const banner = (b: Buffer): string => b.toString().trim();
  const exchanges: DemoExchange[] = [
    { service: 'dns', protocol: 'udp', local: `${DEMO_CLIENT}:${resolver.address().port}`, remote: `${DEMO_SERVER}:53`, reply: dnsAnswerText(dnsReply) },
    ...pages.map((p, i): DemoExchange => { const [local, remote] = ends(p); return { service: 'http', protocol: 'tcp', local: local!, remote: remote!, reply: httpBody(replies[i]!) }; }),
    ...([['ftp', ftp, replies[2]], ['ssh', ssh, replies[3]], ['smtp', smtp, replies[4]]] as const).map(([service, s, r]): DemoExchange => {
      const [local, remote] = ends(s);
      return { service, protocol: 'tcp', local: local!, remote: remote!, reply: banner(r!) };
    }),
  ];
  const firstPort = pages[0]!.localPort!;

  // Close everything and let the FINs cross.
  const closed = [...pages, ftp, ssh, smtp].map((s) => new Promise<void>((resolve) => { s.once('close', () => resolve()); s.on('error', () => undefined); s.resume(); s.end(); }));
  resolver.close();
  await drive(network, Promise.all(closed));
  await drive(network, hello.close());
  dns.close();
  network.runFor(seconds(1));
  const virtualSeconds = network.now / 1e6;

  const bytes = writer.bytes();
  const parsed = readCapture(bytes);
  if (!parsed.ok) throw new Error(`demo: the capture does not read back: ${parsed.message}`);
  const packets = parsed.value.records.map((r) => decodePacket(r));
  const handshake = handshakeOf(packets, firstPort);

  const comparison = runCompare({
    seed: 1, delay: millis(20), loss: 0.02, bandwidth: 10_000_000,
    tcpBytes: options.compare?.tcpBytes ?? 512 * 1024, minUdpDuration: options.compare?.minUdpDuration ?? seconds(5),
  });
  return { client: DEMO_CLIENT, server: DEMO_SERVER, exchanges, sockets, serverLog, handshake, comparison, capture: { packets: tap.packets, bytes }, virtualSeconds };
}
