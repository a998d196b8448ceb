/**
 * `startServices` (the services of `l4 serve`) on the virtual network: HTTP (the seeds' page,
 * files from a directory, path traversal refused, keep-alive), echo, discard, chargen and
 * daytime over TCP and UDP (RFCs 862, 863, 864, 867), over IPv4 and IPv6; the open/close
 * reports and their byte counts; a graceful `close()`; the errors of a port that cannot be
 * bound; a peer that resets. Virtual time throughout: the network runs only when driven.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { Stack } from '../../src/api/stack.js';
import type { TcpConfig } from '../../src/core/tcp/types.js';
import type { Socket } from '../../src/api/net.js';
import type { RemoteInfo } from '../../src/api/dgram.js';
import { HELLO_BODY } from '../../src/tools/hello-server.js';
import {
  startServices, type ConnectionClosed, type ConnectionOpened, type RunningServices, type ServicesOptions,
} from '../../src/tools/services/index.js';
import { millis } from '../../src/time/instant.js';

const SERVER4 = '10.77.0.2';
const CLIENT4 = '10.77.0.3';
const SERVER6 = 'fd00:77::2';
const CLIENT6 = 'fd00:77::3';
/** A Saturday: RFC 867's line for it is known by heart. */
const NOW = new Date(Date.UTC(2026, 10, 21, 23, 52, 5));
const DAYTIME = 'Saturday, November 21, 2026 23:52:05-UTC\r\n';

interface Lab {
  network: VirtualNetwork;
  client: Stack;
  server: Stack;
  services: RunningServices;
  opened: ConnectionOpened[];
  closed: ConnectionClosed[];
  requests: string[];
}

function hosts(seed: number, tcp: Partial<TcpConfig> = {}): { network: VirtualNetwork; client: Stack; server: Stack } {
  const network = new VirtualNetwork({ seed });
  const client = addStack(network, { name: 'client', seed: seed + 10, interfaces: [{ name: 'eth0', addresses: [`${CLIENT4}/24`, `${CLIENT6}/64`] }], tcp });
  const server = addStack(network, { name: 'server', seed: seed + 20, privileged: true, interfaces: [{ name: 'eth0', addresses: [`${SERVER4}/24`, `${SERVER6}/64`] }], tcp });
  network.link(client, 'eth0', server, 'eth0', { delay: millis(2), bandwidth: 200e6 });
  return { network, client, server };
}

/**
 * Runs the network until `promise` settles. Many idle yields are allowed: the HTTP service
 * reads files on the real file system, and while a read is in the thread pool the virtual
 * network may have nothing to do.
 */
async function drive<T>(network: VirtualNetwork, promise: Promise<T>): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => { settled = true; });
  watched.catch(() => undefined); // the caller sees the rejection; it is not unhandled meanwhile
  const outcome = await network.run({ until: () => settled, idleYields: 10_000 });
  if (!settled) throw new Error(`the network stopped (${outcome}) at ${network.now} µs while the test still waited`);
  return watched;
}

/** Runs the network until `predicate` holds. */
async function until(network: VirtualNetwork, predicate: () => boolean, what: string): Promise<void> {
  const outcome = await network.run({ until: predicate, idleYields: 10_000 });
  assert.equal(outcome, 'until', `the network stopped before ${what}`);
}

async function lab(options: Omit<ServicesOptions, 'clock' | 'onOpen' | 'onClose' | 'onRequest'>, seed = 1, tcp: Partial<TcpConfig> = {}): Promise<Lab> {
  const { network, client, server } = hosts(seed, tcp);
  const opened: ConnectionOpened[] = [];
  const closed: ConnectionClosed[] = [];
  const requests: string[] = [];
  const services = await drive(network, startServices(server, {
    ...options,
    clock: () => NOW,
    onOpen: (e) => opened.push(e),
    onClose: (e) => closed.push(e),
    onRequest: (line) => requests.push(line),
  }));
  return { network, client, server, services, opened, closed, requests };
}

/** Everything a socket reads until 'end'; rejects on 'error'. */
function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic bytes (no Math.random). */
function pattern(length: number, salt: number): Buffer {
  const b = Buffer.alloc(length);
  let x = (salt * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

interface Response { status: number; headers: IncomingMessage['headers']; body: Buffer }

/** One HTTP request from the client stack (a fresh l4 connection unless `agent` is given). */
function get(client: Stack, host: string, path: string, options: { headers?: Record<string, string>; agent?: Agent; method?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({
      method: options.method ?? 'GET', path, host, port: 80, headers: options.headers ?? {},
      ...(options.agent ? { agent: options.agent } : { createConnection: () => client.net.createConnection({ port: 80, host }) }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A keep-alive agent whose connections are l4 sockets (one connection at a time). */
function l4Agent(client: Stack): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: (opts: { port: number; host: string }) => unknown }).createConnection =
    (opts) => client.net.createConnection({ port: opts.port, host: opts.host });
  return agent;
}

/** The 95 printable characters, written out, and RFC 864's line i computed from them. */
const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
function rfc864Line(i: number): string {
  const ring = PRINTABLE + PRINTABLE;
  return `${ring.slice(i % 95, (i % 95) + 72)}\r\n`;
}

describe('startServices: HTTP', () => {
  let dir: string;
  let root: string;
  const big = pattern(3 * 1024 * 1024 + 123, 7);
  const SECRET = 'the secret outside the served directory';

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'l4-services-'));
    dir = join(root, 'www');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'big.bin'), big);
    writeFileSync(join(dir, 'empty.bin'), Buffer.alloc(0));
    writeFileSync(join(dir, 'sub', 'small.txt'), 'small file\n');
    writeFileSync(join(root, 'secret.txt'), SECRET);
    symlinkSync(join(root, 'secret.txt'), join(dir, 'escape'));
    symlinkSync(join(dir, 'sub', 'small.txt'), join(dir, 'inside'));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  test('/ plain and gzip, HEAD, one log line per request; raw byte counts in onOpen/onClose', async () => {
    const l = await lab({ http: { port: 80 } });
    assert.deepEqual(l.services.listening, [{ service: 'http', protocol: 'tcp', port: 80 }]);
    const plain = await drive(l.network, get(l.client, SERVER4, '/'));
    assert.equal(plain.status, 200);
    assert.equal(plain.body.toString(), HELLO_BODY);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['content-type'], 'text/html');
    const zipped = await drive(l.network, get(l.client, SERVER4, '/anything', { headers: { 'accept-encoding': 'gzip' } }));
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length);
    assert.equal(gunzipSync(zipped.body).toString(), HELLO_BODY, 'without dir every path is the seeds\' page');
    const head = await drive(l.network, get(l.client, SERVER4, '/', { method: 'HEAD' }));
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), HELLO_BODY.length);
    assert.equal(head.body.length, 0);
    assert.equal(l.requests.length, 3);
    assert.match(l.requests[0]!, /^\[11\/21\/2026 23:52:05\] - 10\.77\.0\.3:\d+ - GET \/$/);
    assert.match(l.requests[1]!, / - GET \/anything$/);
    assert.match(l.requests[2]!, / - HEAD \/$/);

    // A raw request: the server's counts are exactly the bytes each side put on the wire.
    const sock = l.client.net.connect({ port: 80, host: SERVER4 });
    const got = collect(sock);
    const sockClosed = once(sock, 'close');
    const ask = 'GET / HTTP/1.1\r\nHost: 10.77.0.2\r\nConnection: close\r\n\r\n';
    sock.write(ask);
    const answer = await drive(l.network, got);
    await drive(l.network, sockClosed);
    assert.match(answer.toString(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answer.toString().endsWith(HELLO_BODY));
    await until(l.network, () => l.closed.length === 4, 'the fourth close');
    const last = l.closed.find((c) => c.remote === `${CLIENT4}:${sock.localPort}`)!;
    assert.ok(last, 'the raw connection was reported');
    assert.equal(last.service, 'http');
    assert.equal(last.local, `${SERVER4}:80`);
    assert.equal(last.bytesIn, Buffer.byteLength(ask));
    assert.equal(last.bytesOut, answer.length);
    assert.equal(last.error, undefined);
    assert.ok(last.durationMs > 0 && last.durationMs < 1000, `duration ${last.durationMs} ms in virtual time`);
    // A request Node cannot parse: a 400, then FIN (not a reset).
    const junk = l.client.net.connect({ port: 80, host: SERVER4 });
    const junkAnswer = collect(junk);
    junk.write('NOT HTTP AT ALL\r\n\r\n');
    assert.match((await drive(l.network, junkAnswer)).toString(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    await until(l.network, () => l.closed.length === 5, 'the fifth close');
    assert.equal(l.closed[4]!.error, undefined);
    assert.equal(l.requests.length, 4, 'no log line for a request that was never parsed');

    assert.equal(l.opened.length, 5);
    assert.deepEqual(l.opened.map((o) => o.remote).sort(), l.closed.map((c) => c.remote).sort(), 'one close per open');
    assert.equal(l.services.openConnections, 0);
    await drive(l.network, l.services.close());
  });

  test('files: a 3 MiB download (Content-Length, octet-stream, sha256), HEAD, 404, directory, 405, keep-alive', async () => {
    const l = await lab({ http: { port: 80, dir } });
    const agent = l4Agent(l.client);
    const r = await drive(l.network, get(l.client, SERVER4, '/big.bin', { agent }));
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.equal(Number(r.headers['content-length']), big.length);
    assert.equal(r.body.length, big.length);
    assert.equal(sha256(r.body), sha256(big));

    const head = await drive(l.network, get(l.client, SERVER4, '/big.bin', { agent, method: 'HEAD' }));
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), big.length);
    assert.equal(head.headers['content-type'], 'application/octet-stream');
    assert.equal(head.body.length, 0);

    const small = await drive(l.network, get(l.client, SERVER4, '/sub/small.txt?v=1', { agent }));
    assert.equal(small.status, 200);
    assert.equal(small.body.toString(), 'small file\n');
    const inside = await drive(l.network, get(l.client, SERVER4, '/inside', { agent }));
    assert.equal(inside.body.toString(), 'small file\n', 'a symbolic link that stays inside is served');
    const empty = await drive(l.network, get(l.client, SERVER4, '/empty.bin', { agent }));
    assert.equal(empty.status, 200);
    assert.equal(empty.headers['content-length'], '0');
    assert.equal(empty.body.length, 0);

    const missing = await drive(l.network, get(l.client, SERVER4, '/nope.bin', { agent }));
    assert.equal(missing.status, 404);
    const folder = await drive(l.network, get(l.client, SERVER4, '/sub', { agent }));
    assert.equal(folder.status, 404, 'directories are not listed');
    const folderSlash = await drive(l.network, get(l.client, SERVER4, '/sub/', { agent }));
    assert.equal(folderSlash.status, 404);
    const post = await drive(l.network, get(l.client, SERVER4, '/big.bin', { agent, method: 'DELETE' }));
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const page = await drive(l.network, get(l.client, SERVER4, '/', { agent }));
    assert.equal(page.body.toString(), HELLO_BODY, '/ stays the seeds\' page with a directory');

    assert.equal(l.opened.length, 1, 'every request went over one keep-alive connection');
    assert.equal(l.requests.length, 10);
    assert.match(l.requests[0]!, /^\[11\/21\/2026 23:52:05\] - 10\.77\.0\.3:\d+ - GET \/big\.bin$/);
    assert.match(l.requests[1]!, / - HEAD \/big\.bin$/);
    assert.equal(l.services.openConnections, 1);
    agent.destroy();
    await until(l.network, () => l.closed.length === 1, 'the keep-alive connection closed');
    assert.ok(l.closed[0]!.bytesOut > big.length);
    assert.equal(l.closed[0]!.error, undefined);
    await drive(l.network, l.services.close());
  });

  test('a path that leaves the directory is refused and nothing outside is read', async () => {
    const l = await lab({ http: { port: 80, dir } });
    const refused = ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/..%2fsecret.txt', '/sub/../../secret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt', '/..\\secret.txt', '/escape'];
    for (const path of refused) {
      const r = await drive(l.network, get(l.client, SERVER4, path));
      assert.equal(r.status, 403, `${path} -> 403`);
      assert.ok(!r.body.toString().includes(SECRET), `${path} leaked nothing`);
    }
    for (const path of [`/${root}/secret.txt`, '//etc/passwd', 'http://10.77.0.2/%2e%2e/secret.txt']) {
      const r = await drive(l.network, get(l.client, SERVER4, path));
      assert.equal(r.status, 404, `${path} is looked up under the directory`);
      assert.ok(!r.body.toString().includes(SECRET));
    }
    const nul = await drive(l.network, get(l.client, SERVER4, '/big.bin%00.txt'));
    assert.equal(nul.status, 400);
    const bad = await drive(l.network, get(l.client, SERVER4, '/%E0%A4%A'));
    assert.equal(bad.status, 400);
    await drive(l.network, l.services.close());
  });

  test('over IPv6; a client that resets mid-download is reported with ECONNRESET and the server keeps serving', async () => {
    // Send buffers smaller than the 3 MiB file (l4's default, 16 MiB, would take it whole at
    // once), so that the reset finds the server part-way through writing it.
    const l = await lab({ http: { port: 80, dir } }, 5, { sendBufferSize: 256 * 1024 });
    const six = await drive(l.network, get(l.client, SERVER6, '/sub/small.txt'));
    assert.equal(six.body.toString(), 'small file\n');
    assert.match(l.requests[0]!, /\] - fd00:77::3:\d+ - GET \/sub\/small\.txt$/);
    await until(l.network, () => l.closed.length === 1, 'the IPv6 connection closed');
    assert.equal(l.opened[0]!.local, `[${SERVER6}]:80`);
    assert.match(l.opened[0]!.remote, /^\[fd00:77::3\]:\d+$/);

    const sock = l.client.net.connect({ port: 80, host: SERVER6 });
    let received = 0;
    sock.on('data', (c: Buffer) => {
      received += c.length;
      if (received > 256 * 1024 && !sock.destroyed) sock.resetAndDestroy();
    });
    sock.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(l.network, () => l.closed.length === 2, 'the reset connection to be reported');
    const reset = l.closed[1]!;
    assert.equal(reset.error, 'ECONNRESET');
    assert.equal(reset.remote, `[${CLIENT6}]:${sock.localPort}`);
    assert.ok(reset.bytesOut >= received && reset.bytesOut < big.length, `${reset.bytesOut} bytes out before the reset`);
    assert.equal(l.services.openConnections, 0);
    const again = await drive(l.network, get(l.client, SERVER4, '/big.bin'));
    assert.equal(sha256(again.body), sha256(big), 'still serving after the reset');
    await drive(l.network, l.services.close());
  });

  test('a missing directory rejects startServices', async () => {
    const { network, server } = hosts(2);
    await assert.rejects(drive(network, startServices(server, { http: { port: 80, dir: join(root, 'absent') } })), { code: 'ENOENT' });
    await assert.rejects(drive(network, startServices(server, { http: { port: 80, dir: join(dir, 'big.bin') } })), { code: 'ENOTDIR' });
    const s = await drive(network, startServices(server, { http: { port: 80 } }));
    await drive(network, s.close());
  });
});

describe('startServices: echo, discard, chargen, daytime', () => {
  test('echo TCP: 1 MiB comes back byte for byte after a half-close; onOpen/onClose name the socket pair', async () => {
    const l = await lab({ echo: 7 });
    assert.deepEqual(l.services.listening, [{ service: 'echo', protocol: 'tcp', port: 7 }, { service: 'echo', protocol: 'udp', port: 7 }]);
    const data = pattern(1024 * 1024, 1);
    const sock = l.client.net.connect({ port: 7, host: SERVER4, allowHalfOpen: true });
    const got = collect(sock);
    const sockClosed = once(sock, 'close');
    sock.end(data);
    const back = await drive(l.network, got);
    await drive(l.network, sockClosed);
    assert.equal(back.length, data.length);
    assert.ok(back.equals(data));
    await until(l.network, () => l.closed.length === 1, 'the close report');
    assert.deepEqual(l.opened, [{ service: 'echo', local: `${SERVER4}:7`, remote: `${CLIENT4}:${sock.localPort}` }]);
    const c = l.closed[0]!;
    assert.equal(c.service, 'echo');
    assert.equal(c.local, `${SERVER4}:7`);
    assert.equal(c.remote, `${CLIENT4}:${sock.localPort}`);
    assert.equal(c.bytesIn, data.length);
    assert.equal(c.bytesOut, data.length);
    assert.equal(c.error, undefined);
    assert.ok(c.durationMs > 0);
    await drive(l.network, l.services.close());
  });

  test('echo over IPv6 TCP; UDP echo on both families from one dual-stack socket; udp-echo is UDP only', async () => {
    const l = await lab({ echo: 7, udpEcho: 7007 });
    const sock = l.client.net.connect({ port: 7, host: SERVER6, allowHalfOpen: true });
    const got = collect(sock);
    sock.end('over IPv6');
    assert.equal((await drive(l.network, got)).toString(), 'over IPv6');
    await until(l.network, () => l.closed.length === 1, 'the close report');
    assert.equal(l.closed[0]!.local, `[${SERVER6}]:7`);
    assert.equal(l.closed[0]!.remote, `[${CLIENT6}]:${sock.localPort}`);
    assert.equal(l.closed[0]!.bytesIn, 9);

    for (const [type, to, port] of [['udp4', SERVER4, 7], ['udp6', SERVER6, 7], ['udp4', SERVER4, 7007], ['udp6', SERVER6, 7007]] as const) {
      const u = l.client.dgram.createSocket(type);
      const reply = once(u, 'message') as Promise<[Buffer, RemoteInfo]>;
      const payload = pattern(1200, port);
      u.send(payload, port, to);
      const [msg, rinfo] = await drive(l.network, reply);
      assert.ok(msg.equals(payload), `${type} ${port}: the same bytes back`);
      assert.equal(rinfo.address, to);
      assert.equal(rinfo.port, port);
      u.close();
    }
    const refused = l.client.net.connect({ port: 7007, host: SERVER4 });
    const [err] = await drive(l.network, once(refused, 'error')) as [Error & { code: string }];
    assert.equal(err.code, 'ECONNREFUSED', 'udp-echo does not listen on TCP');
    assert.equal(l.opened.length, 1, 'UDP opens no connections');
    await drive(l.network, l.services.close());
  });

  test('discard: TCP drops what arrives, ends when the peer ends, counts it; UDP answers nothing', async () => {
    const l = await lab({ discard: 9 });
    const data = pattern(300_000, 3);
    const sock = l.client.net.connect({ port: 9, host: SERVER4, allowHalfOpen: true });
    const got = collect(sock);
    sock.end(data);
    const back = await drive(l.network, got);
    assert.equal(back.length, 0, 'nothing comes back, then FIN');
    await until(l.network, () => l.closed.length === 1, 'the close report');
    assert.equal(l.closed[0]!.bytesIn, data.length);
    assert.equal(l.closed[0]!.bytesOut, 0);
    assert.equal(l.closed[0]!.service, 'discard');

    const u = l.client.dgram.createSocket('udp4');
    let answers = 0;
    u.on('message', () => answers++);
    const sent = new Promise<void>((resolve, reject) => u.send('into the void', 9, SERVER4, (e) => (e ? reject(e) : resolve())));
    await drive(l.network, sent);
    await l.network.run({ duration: millis(500) });
    assert.equal(answers, 0);
    assert.equal(l.server.host.stats.udp.datagramsIn, 1, 'the datagram did arrive');
    u.close();
    await drive(l.network, l.services.close());
  });

  test('chargen TCP: RFC 864\'s lines, paced by a reader that stops, until the peer ends', async () => {
    // Buffers of 256 KiB: what may still arrive once the peer ends (socket buffer, send queue,
    // window) is bounded below by them.
    const l = await lab({ chargen: 19 }, 1, { sendBufferSize: 256 * 1024, receiveBufferSize: 256 * 1024 });
    const sock = l.client.net.connect({ port: 19, host: SERVER4 });
    sock.pause();
    await drive(l.network, once(sock, 'connect'));
    // The reader does not read: windows and buffers fill, then the server must stop writing.
    await l.network.run({ duration: millis(2000) });
    const row = () => l.server.host.sockets().find((s) => s.kind === 'connection' && s.local.port === 19);
    const stalled = row();
    assert.ok(stalled && stalled.kind === 'connection');
    assert.ok(stalled.sendQueue > 0, 'data waits in the send queue');
    await l.network.run({ duration: millis(2000) });
    const later = row();
    assert.ok(later && later.kind === 'connection');
    // Nothing more is sent but window probes, and they are taken only while they fit the
    // largest window the reader ever offered: with window scaling the reader announces its
    // window in units of 2^shift bytes, and once its buffer is full it may announce zero with
    // less than one unit still open (RFC 7323 2.4: it must take what that earlier window
    // allowed).
    const reader = l.client.host.sockets().find((s) => s.kind === 'connection' && s.remote.port === 19);
    assert.ok(reader && reader.kind === 'connection' && reader.windowScaling.receive !== undefined);
    const unit = 2 ** reader.windowScaling.receive;
    assert.ok(later.bytesSent >= stalled.bytesSent && later.bytesSent - stalled.bytesSent < unit,
      `nothing more is sent to a reader that does not read (${later.bytesSent - stalled.bytesSent} bytes, unit ${unit})`);
    assert.equal(later.sendQueue, stalled.sendQueue);

    const chunks: Buffer[] = [];
    let received = 0;
    sock.on('data', (c: Buffer) => { chunks.push(c); received += c.length; });
    sock.resume();
    await until(l.network, () => received >= 200 * 74, '200 lines');
    const text = Buffer.concat(chunks).toString('latin1');
    const lines = text.split('\r\n');
    assert.equal(lines[0], ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg');
    // RFC 864's example starts with this line (line 1 of the ring that begins at ' ').
    assert.equal(lines[1], '!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh');
    assert.equal(lines[94], '~ !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef', 'the ring wraps');
    for (let i = 0; i < 200; i++) assert.equal(`${lines[i]}\r\n`, rfc864Line(i), `line ${i}`);

    // The peer ends: the server stops and ends; everything it sent was received.
    const ended = new Promise<void>((resolve, reject) => { sock.once('end', resolve); sock.once('error', reject); });
    const atEnd = received;
    sock.end();
    await drive(l.network, ended);
    // What was still queued (socket buffer, send queue, window) arrives; then nothing more.
    assert.ok(received - atEnd < 512 * 1024, `${received - atEnd} bytes after the peer ended: chargen stopped`);
    await until(l.network, () => l.closed.length === 1, 'the close report');
    const c = l.closed[0]!;
    assert.equal(c.service, 'chargen');
    assert.equal(c.error, undefined);
    assert.equal(c.bytesIn, 0);
    assert.equal(c.bytesOut, received, 'every byte sent was received');
    assert.equal(received % 74, 0, 'whole lines');
    await drive(l.network, l.services.close());
  });

  test('chargen UDP: one answer per datagram, 0..512 characters of the pattern, lengths by a counter', async () => {
    const l = await lab({ chargen: 19 });
    const u = l.client.dgram.createSocket('udp6');
    const answers: Buffer[] = [];
    u.on('message', (m: Buffer) => answers.push(m));
    for (let i = 0; i < 8; i++) u.send('x', 19, SERVER6);
    await until(l.network, () => answers.length === 8, 'eight answers');
    assert.deepEqual(answers.map((a) => a.length), [72, 221, 370, 6, 155, 304, 453, 89]);
    assert.equal(answers[0]!.toString('latin1'), rfc864Line(0).slice(0, 72));
    assert.equal(answers[1]!.toString('latin1'), (rfc864Line(1) + rfc864Line(2) + rfc864Line(3)).slice(0, 221));
    for (const a of answers) assert.ok(a.length <= 512);
    u.close();
    await drive(l.network, l.services.close());
  });

  test('daytime: TCP sends the injected clock\'s line and closes; UDP answers each datagram with it', async () => {
    const l = await lab({ daytime: 13 });
    const sock = l.client.net.connect({ port: 13, host: SERVER4 });
    const line = await drive(l.network, collect(sock));
    assert.equal(line.toString('latin1'), DAYTIME);
    await until(l.network, () => l.closed.length === 1, 'the close report');
    assert.equal(l.closed[0]!.bytesOut, DAYTIME.length);
    assert.equal(l.closed[0]!.service, 'daytime');
    assert.equal(l.closed[0]!.remote, `${CLIENT4}:${sock.localPort}`);

    for (const [type, to] of [['udp4', SERVER4], ['udp6', SERVER6]] as const) {
      const u = l.client.dgram.createSocket(type);
      const reply = once(u, 'message') as Promise<[Buffer, RemoteInfo]>;
      u.send('what time is it?', 13, to);
      const [msg] = await drive(l.network, reply);
      assert.equal(msg.toString('latin1'), DAYTIME);
      u.close();
    }
    await drive(l.network, l.services.close());
  });
});

describe('startServices: lifecycle', () => {
  test('close() ends every open connection with FIN: the clients see end, not a reset; then nothing listens', async () => {
    const l = await lab({ http: { port: 80 }, echo: 7, discard: 9, chargen: 19, daytime: 13 });
    assert.deepEqual(l.services.listening.map((s) => `${s.service}/${s.protocol}/${s.port}`),
      ['http/tcp/80', 'echo/tcp/7', 'echo/udp/7', 'discard/tcp/9', 'discard/udp/9', 'chargen/tcp/19', 'chargen/udp/19', 'daytime/tcp/13', 'daytime/udp/13']);
    const events: string[] = [];
    const watch = (name: string, s: Socket): void => {
      s.on('end', () => events.push(`${name}:end`));
      s.on('error', (e: Error & { code?: string }) => events.push(`${name}:error:${e.code}`));
      s.on('close', () => events.push(`${name}:close`));
    };
    const echo = l.client.net.connect({ port: 7, host: SERVER4 });
    const echoed: Buffer[] = [];
    echo.on('data', (c: Buffer) => echoed.push(c));
    echo.write('ping');
    watch('echo', echo);
    const discard = l.client.net.connect({ port: 9, host: SERVER6 });
    discard.write(pattern(10_000, 9));
    discard.resume();
    watch('discard', discard);
    const chargen = l.client.net.connect({ port: 19, host: SERVER4 });
    chargen.resume();
    watch('chargen', chargen);
    const http = l.client.net.connect({ port: 80, host: SERVER4 });
    const page: Buffer[] = [];
    http.on('data', (c: Buffer) => page.push(c));
    http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    watch('http', http);
    await until(l.network, () => Buffer.concat(echoed).toString() === 'ping' && Buffer.concat(page).toString().endsWith(HELLO_BODY)
      && l.opened.length === 4 && chargen.bytesRead > 100_000, 'four connections busy');
    assert.equal(l.services.openConnections, 4);

    const start = l.network.now;
    let resolved = false;
    const closing = l.services.close().then(() => { resolved = true; });
    await drive(l.network, closing);
    assert.ok(resolved);
    assert.ok(l.network.now - start < millis(2000), 'closed gracefully, before the grace period');
    assert.equal(l.services.openConnections, 0);
    await until(l.network, () => events.filter((e) => e.endsWith(':close')).length === 4, 'the clients closed');
    for (const name of ['echo', 'discard', 'chargen', 'http']) {
      assert.ok(events.includes(`${name}:end`), `${name} saw FIN (${events.join(' ')})`);
      assert.ok(!events.some((e) => e.startsWith(`${name}:error`)), `${name} saw no error (${events.join(' ')})`);
    }
    assert.equal(l.closed.length, 4);
    for (const c of l.closed) assert.equal(c.error, undefined, `${c.service} closed without error`);
    assert.equal(l.closed.find((c) => c.service === 'discard')!.bytesIn, 10_000);
    assert.equal(l.closed.find((c) => c.service === 'chargen')!.bytesOut, chargen.bytesRead);
    assert.equal(l.closed.find((c) => c.service === 'echo')!.bytesOut, 4);
    assert.equal(l.closed.find((c) => c.service === 'discard')!.local, `[${SERVER6}]:9`);

    // Nothing listens any more, on TCP or UDP.
    const late = l.client.net.connect({ port: 7, host: SERVER4 });
    const [refused] = await drive(l.network, once(late, 'error')) as [Error & { code: string }];
    assert.equal(refused.code, 'ECONNREFUSED');
    const u = l.client.dgram.createSocket('udp4');
    u.connect(13, SERVER4);
    await drive(l.network, once(u, 'connect'));
    const failed = once(u, 'error') as Promise<[Error & { code: string }]>;
    u.send('anyone?');
    assert.equal((await drive(l.network, failed))[0].code, 'ECONNREFUSED');
    u.close();
    assert.deepEqual(l.server.host.sockets().filter((s) => s.kind !== 'connection'), []);
    assert.equal(l.services.close(), l.services.close(), 'close() again returns the same promise');
  });

  test('close(graceMs): a peer that never ends is destroyed after the grace period, on the virtual clock', async () => {
    const l = await lab({ discard: 9 });
    const sock = l.client.net.connect({ port: 9, host: SERVER4, allowHalfOpen: true });
    const ended = once(sock, 'end');
    sock.resume();
    sock.write('I will never close');
    await until(l.network, () => l.opened.length === 1, 'the connection');
    const start = l.network.now;
    const closing = l.services.close(500);
    await drive(l.network, ended);
    assert.ok(l.network.now - start < millis(100), 'FIN at once');
    assert.equal(l.services.openConnections, 1, 'still open: the peer has not ended');
    await drive(l.network, closing);
    const waited = l.network.now - start;
    assert.ok(waited >= millis(500) && waited < millis(600), `resolved after ${waited} µs`);
    assert.equal(l.closed.length, 1);
    assert.ok(l.closed[0]!.durationMs >= 500);
    assert.equal(l.closed[0]!.bytesIn, 18);
    assert.equal(l.services.openConnections, 0);
    sock.destroy();
  });

  test('a peer that resets mid-transfer: no crash, onClose says ECONNRESET, the services keep running', async () => {
    const l = await lab({ chargen: 19, echo: 7 });
    const sock = l.client.net.connect({ port: 19, host: SERVER4 });
    let received = 0;
    sock.on('data', (c: Buffer) => {
      received += c.length;
      if (received > 100_000 && !sock.destroyed) sock.resetAndDestroy();
    });
    await until(l.network, () => l.closed.length === 1, 'the reset to be reported');
    assert.equal(l.closed[0]!.error, 'ECONNRESET');
    assert.equal(l.closed[0]!.service, 'chargen');
    assert.equal(l.opened.length, 1);

    // An echo peer that resets while the server still has its data to send back.
    const e = l.client.net.connect({ port: 7, host: SERVER4 });
    e.pause();
    e.write(pattern(200_000, 4));
    await until(l.network, () => l.opened.length === 2 && e.bytesWritten === 200_000, 'the data to be taken');
    await l.network.run({ duration: millis(50) });
    e.resetAndDestroy();
    await until(l.network, () => l.closed.length === 2, 'the second reset to be reported');
    assert.equal(l.closed[1]!.error, 'ECONNRESET');
    assert.equal(l.services.openConnections, 0);

    const ok = l.client.net.connect({ port: 7, host: SERVER4, allowHalfOpen: true });
    const got = collect(ok);
    ok.end('still here');
    assert.equal((await drive(l.network, got)).toString(), 'still here');
    await drive(l.network, l.services.close());
  });

  test('EADDRINUSE (TCP and UDP) and EACCES reject, and nothing started stays bound', async () => {
    const { network, client, server } = hosts(3);
    const taken = server.net.createServer().listen(9);
    await drive(network, once(taken, 'listening'));
    await assert.rejects(drive(network, startServices(server, { http: { port: 80 }, discard: 9 })), (err: Error & { code?: string; syscall?: string }) => {
      assert.equal(err.code, 'EADDRINUSE');
      assert.equal(err.syscall, 'listen');
      return true;
    });
    const udp = server.dgram.createSocket('udp4');
    udp.bind(13);
    await drive(network, once(udp, 'listening'));
    await assert.rejects(drive(network, startServices(server, { daytime: 13 })), { code: 'EADDRINUSE' });
    // What the failed calls had bound is free again.
    const again = await drive(network, startServices(server, { http: { port: 80 }, daytime: 1313 }));
    const tcp13 = server.net.createServer().listen(13);
    await drive(network, once(tcp13, 'listening'));
    await drive(network, again.close());
    assert.deepEqual(server.host.sockets().map((s) => `${s.kind}:${s.local.port}`).sort(), ['listener:13', 'listener:9', 'udp:13']);

    await assert.rejects(drive(network, startServices(client, { echo: 7 })), { code: 'EACCES' });
    assert.deepEqual(client.host.sockets(), []);
  });

  test('bad ports and two services on one port are RangeErrors; different protocols may share a port', async () => {
    const { network, server } = hosts(4);
    for (const port of [0, -1, 65536, 7.5, Number.NaN]) {
      await assert.rejects(startServices(server, { echo: port }), RangeError, `port ${port}`);
    }
    await assert.rejects(startServices(server, { http: { port: 70000 } }), /http\.port: port 70000 is not an integer in 1\.\.65535/);
    await assert.rejects(startServices(server, { echo: 7, discard: 7 }), (err: Error) => {
      assert.ok(err instanceof RangeError);
      assert.match(err.message, /echo.*discard.*TCP port 7/);
      return true;
    });
    await assert.rejects(startServices(server, { echo: 7, udpEcho: 7 }), /echo \(echo\) and udp-echo \(udpEcho\) both ask for UDP port 7/);
    await assert.rejects(startServices(server, { http: { port: 19 }, chargen: 19 }), /http \(http\.port\) and chargen \(chargen\) both ask for TCP port 19/);
    assert.deepEqual(server.host.sockets(), [], 'nothing was bound');
    const shared = await drive(network, startServices(server, { http: { port: 80 }, udpEcho: 80 }));
    assert.deepEqual(shared.listening, [{ service: 'http', protocol: 'tcp', port: 80 }, { service: 'udp-echo', protocol: 'udp', port: 80 }]);
    await drive(network, shared.close());
    assert.deepEqual(server.host.sockets(), []);
  });
});
