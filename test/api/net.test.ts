/**
 * Node's `net` API over l4 hosts on the virtual network: the Socket is a stream.Duplex with
 * Node's events, properties, errors and backpressure. The network runs in virtual time and
 * yields to the event loop between instants, so stream callbacks run as they would on Node.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { RealTimeDriver } from '../../src/drivers/virtual/real-time.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { LinkOptions } from '../../src/drivers/virtual/impairments.js';
import type { Socket } from '../../src/api/net.js';
import type { NodeSystemError } from '../../src/api/errors.js';
import type { TcpConfig } from '../../src/core/tcp/types.js';
import { millis } from '../../src/time/instant.js';
import { drive } from '../support/virtual.js';

function pair(link: LinkOptions = { delay: millis(5) }, seed = 1, tcp: Partial<TcpConfig> = {}) {
  const network = new VirtualNetwork({ seed });
  const client = addStack(network, { name: 'client', seed: seed + 10, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] }], tcp });
  const server = addStack(network, { name: 'server', seed: seed + 20, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }], tcp });
  network.link(client, 'eth0', server, 'eth0', link);
  return { network, client, server };
}


function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return once(socket, 'end').then(() => Buffer.concat(chunks));
}

describe('net over l4', () => {
  test('connect, echo, end: events, addresses and byte counts as Node gives them', async () => {
    const { network, client, server } = pair();
    const srv = server.net.createServer((s) => s.pipe(s));
    srv.listen(7007);
    await drive(network, once(srv, 'listening'));
    assert.deepEqual(srv.address(), { address: '::', family: 'IPv6', port: 7007 });
    const sock = client.net.connect({ port: 7007, host: '10.0.0.2' });
    const events: string[] = [];
    for (const e of ['connect', 'ready', 'end', 'close']) sock.on(e, () => events.push(e));
    const got = collect(sock);
    const closed = once(sock, 'close');
    await drive(network, once(sock, 'connect'));
    assert.equal(sock.remoteAddress, '10.0.0.2');
    assert.equal(sock.remotePort, 7007);
    assert.equal(sock.remoteFamily, 'IPv4');
    assert.equal(sock.localAddress, '10.0.0.1');
    assert.ok(sock.localPort! >= 49152);
    sock.end('hello, l4');
    const echoed = await drive(network, got);
    await drive(network, closed);
    assert.equal(echoed.toString(), 'hello, l4');
    assert.deepEqual(events, ['connect', 'ready', 'end', 'close']);
    assert.equal(sock.bytesWritten, 9);
    assert.equal(sock.bytesRead, 9);
  });

  test('ECONNREFUSED when a RST answers the SYN; the message names the socket pair', async () => {
    const { network, client } = pair();
    const sock = client.net.connect(9, '10.0.0.2');
    const [err] = await drive(network, once(sock, 'error')) as [NodeSystemError];
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.syscall, 'connect');
    assert.equal(err.address, '10.0.0.2');
    assert.equal(err.port, 9);
    assert.match(err.message, /^connect ECONNREFUSED 10\.0\.0\.2:9 \(local 10\.0\.0\.1:\d+\)$/);
  });

  test('EADDRINUSE, EACCES on listen; ENETUNREACH without a route', async () => {
    const { network, client, server } = pair();
    const a = server.net.createServer().listen(8080);
    await drive(network, once(a, 'listening'));
    const b = server.net.createServer().listen(8080);
    const [inUse] = await drive(network, once(b, 'error')) as [NodeSystemError];
    assert.equal(inUse.code, 'EADDRINUSE');
    assert.match(inUse.message, /^listen EADDRINUSE: address already in use/);
    const c = server.net.createServer().listen(80);
    const [denied] = await drive(network, once(c, 'error')) as [NodeSystemError];
    assert.equal(denied.code, 'EACCES');
    const far = client.net.connect(80, '192.0.2.1');
    const [unreach] = await drive(network, once(far, 'error')) as [NodeSystemError];
    assert.equal(unreach.code, 'ENETUNREACH');
  });

  test('half-close with allowHalfOpen: the server keeps writing after the client ends', async () => {
    const { network, client, server } = pair();
    const srv = server.net.createServer({ allowHalfOpen: true }, (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => s.end(`got ${Buffer.concat(chunks).length} bytes`));
    });
    srv.listen(9000);
    await drive(network, once(srv, 'listening'));
    const sock = client.net.connect({ port: 9000, host: 'fd00::2', allowHalfOpen: true });
    const reply = collect(sock);
    sock.end(Buffer.alloc(100_000, 7));
    assert.equal((await drive(network, reply)).toString(), 'got 100000 bytes');
  });

  test('backpressure: write() returns false, then drain; 4 MiB arrives intact', async () => {
    // Send buffers smaller than what is written, so that writing has to wait (l4's default,
    // 16 MiB, would take all 4 MiB at once).
    const { network, client, server } = pair({ delay: millis(10), bandwidth: 50e6 }, 1, { sendBufferSize: 256 * 1024 });
    const received = createHash('sha256');
    let receivedBytes = 0;
    const srv = server.net.createServer((s) => s.on('data', (c: Buffer) => { received.update(c); receivedBytes += c.length; }));
    srv.listen(9001);
    await drive(network, once(srv, 'listening'));
    const sock = client.net.connect(9001, '10.0.0.2');
    const closed = once(sock, 'close');
    const sent = createHash('sha256');
    let sawFalse = false;
    let drains = 0;
    sock.on('drain', () => drains++);
    const writeAll = (async () => {
      await once(sock, 'connect');
      for (let i = 0; i < 64; i++) {
        const chunk = Buffer.alloc(64 * 1024, i);
        sent.update(chunk);
        if (!sock.write(chunk)) { sawFalse = true; await once(sock, 'drain'); }
      }
      sock.end();
    })();
    await drive(network, writeAll);
    await drive(network, closed);
    assert.ok(sawFalse && drains > 0, 'write returned false and drain followed');
    assert.equal(receivedBytes, 4 * 1024 * 1024);
    assert.equal(received.digest('hex'), sent.digest('hex'));
  });

  test('setTimeout emits timeout after idle virtual time; resetAndDestroy sends RST (ECONNRESET at the peer)', async () => {
    const { network, client, server } = pair();
    let serverSide: Socket | undefined;
    const srv = server.net.createServer((s) => { serverSide = s; });
    srv.listen(9002);
    await drive(network, once(srv, 'listening'));
    const sock = client.net.connect(9002, '10.0.0.2');
    await drive(network, once(sock, 'connect'));
    const started = network.now;
    sock.setTimeout(3000);
    await drive(network, once(sock, 'timeout'));
    assert.ok(network.now - started >= millis(3000), 'timeout after 3 s of virtual idle time');
    const peerError = once(serverSide!, 'error');
    sock.resetAndDestroy();
    const [err] = await drive(network, peerError) as [NodeSystemError];
    assert.equal(err.code, 'ECONNRESET');
  });

  test('two clients on one host to the same server port: distinct socket pairs', async () => {
    const { network, client, server } = pair();
    const srv = server.net.createServer((s) => s.end('hi'));
    srv.listen(8000);
    await drive(network, once(srv, 'listening'));
    const a = client.net.connect(8000, '10.0.0.2');
    const b = client.net.connect(8000, '10.0.0.2');
    await drive(network, Promise.all([once(a, 'connect'), once(b, 'connect')]));
    assert.notEqual(a.localPort, b.localPort);
    const table = server.host.sockets().filter((x) => x.kind === 'connection');
    assert.equal(table.length, 2);
    assert.ok(table.every((x) => x.local.port === 8000));
    await drive(network, Promise.all([collect(a), collect(b)]));
  });
});

describe('net over l4 in real time', () => {
  test('the same sockets on the real-time driver: an echo completes and close() leaves nothing on the event loop', async () => {
    const { network, client, server } = pair({ delay: millis(2) });
    const driver = new RealTimeDriver(network).start();
    try {
      const srv = server.net.createServer((s) => s.pipe(s)).listen(7008);
      await once(srv, 'listening');
      const sock = client.net.connect(7008, '10.0.0.2');
      const got = collect(sock);
      const closed = once(sock, 'close');
      sock.end(Buffer.alloc(200_000, 1));
      const echoed = await got;
      await closed;
      assert.equal(echoed.length, 200_000);
      assert.ok(network.now >= millis(8), 'time advanced with the real clock (two round trips at least)');
      srv.close();
    } finally {
      await driver.close();
    }
    assert.deepEqual(process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate'), []);
  });
});
