/**
 * `runNc` on the virtual network: two l4 hosts on one link, virtual time, no sleeps. The
 * network is driven until the run settles (`drive`), so every timer (-q, -w, the connect
 * timeout) fires on the virtual clock and the figures below are virtual seconds.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { LinkOptions } from '../../src/drivers/virtual/impairments.js';
import type { Socket } from '../../src/api/net.js';
import type { RemoteInfo } from '../../src/api/dgram.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, runNc, type NcIo } from '../../src/tools/nc.js';
import { millis, seconds } from '../../src/time/instant.js';
import { drive } from '../support/virtual.js';

function pair(link: LinkOptions = { delay: millis(5) }, seed = 7) {
  const network = new VirtualNetwork({ seed });
  const client = addStack(network, { name: 'client', seed: seed + 10, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] }] });
  const server = addStack(network, { name: 'server', seed: seed + 20, privileged: true, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }] });
  network.link(client, 'eth0', server, 'eth0', link);
  return { network, client, server };
}

/** Deterministic bytes that are not text: every value 0-255 occurs, newlines included. */
function bytes(length: number, salt = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = salt * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** stdin as a byte stream of `data` in 64 KiB reads. */
function stdinOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) chunks.push(data.subarray(i, i + 65536));
  return Readable.from(chunks, { objectMode: false });
}

/** stdin that never ends (a terminal nobody types into). */
function silentStdin(): Readable {
  return new Readable({ read() { /* nothing, ever */ } });
}

/** stdout that keeps what it gets; `slow` answers each write a turn later with a small buffer (backpressure). */
function sink(slow = false): Writable & { data(): Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    highWaterMark: slow ? 16 * 1024 : 64 * 1024,
    write(chunk: Buffer, _enc, callback) {
      chunks.push(chunk);
      if (slow) setImmediate(callback);
      else callback();
    },
  });
  return Object.assign(w, { data: () => Buffer.concat(chunks) });
}

function io(stdin: Readable, stdout: Writable, lines?: string[]): NcIo {
  return { stdin, stdout, ...(lines ? { stderr: (line: string) => { lines.push(line); } } : {}) };
}

describe('runNc: TCP client', () => {
  test('1 MiB to an echo server and back, exact bytes, with half-close (FIN at stdin\'s end, the echo ends after it)', async () => {
    const { network, client, server } = pair({ delay: millis(5), bandwidth: 100e6 });
    const srv = server.net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(7);
    await drive(network, once(srv, 'listening'));
    const data = bytes(1024 * 1024);
    const out = sink(true);
    const lines: string[] = [];
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 7, verbose: true }, io(stdinOf(data), out, lines)));
    assert.deepEqual(r, { exitCode: 0, bytesSent: data.length, bytesReceived: data.length });
    assert.equal(sha256(out.data()), sha256(data));
    assert.match(lines[0]!, /^connected to 10\.0\.0\.2:7 from 10\.0\.0\.1:\d+$/);
    assert.ok(lines.includes('end of stdin: half-closing (FIN)'), lines.join('\n'));
    assert.ok(lines.includes('10.0.0.2:7 closed its side'), lines.join('\n'));
  });

  test('half-close: the server answers only after our FIN, and the answer still arrives (IPv6)', async () => {
    const { network, client, server } = pair();
    const srv = server.net.createServer({ allowHalfOpen: true }, (s) => {
      const hash = createHash('sha256');
      let n = 0;
      s.on('data', (c: Buffer) => { hash.update(c); n += c.length; });
      s.on('end', () => s.end(`got ${n} bytes, sha256 ${hash.digest('hex')}\n`));
    }).listen(9000);
    await drive(network, once(srv, 'listening'));
    const data = bytes(300_000, 2);
    const out = sink();
    const r = await drive(network, runNc(client, { host: 'fd00::2', port: 9000 }, io(stdinOf(data), out)));
    assert.equal(r.exitCode, 0);
    assert.equal(out.data().toString(), `got 300000 bytes, sha256 ${sha256(data)}\n`);
  });

  test('refused: a RST answers the SYN -> exit 1, ECONNREFUSED, one line naming the peer', async () => {
    const { network, client } = pair();
    const out = sink();
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 9 }, io(stdinOf(Buffer.from('x')), out)));
    assert.equal(r.exitCode, 1);
    assert.equal(r.error, 'connect to 10.0.0.2:9 refused (ECONNREFUSED)');
    assert.equal(out.data().length, 0);
  });

  test('reset mid-stream -> exit 1 with ECONNRESET; the bytes before the RST were written', async () => {
    const { network, client, server } = pair();
    const srv = server.net.createServer((s) => {
      s.write('before the reset\n');
      s.once('data', () => s.resetAndDestroy());
    }).listen(8000);
    await drive(network, once(srv, 'listening'));
    const out = sink();
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 8000 }, io(stdinOf(bytes(200_000)), out)));
    assert.equal(r.exitCode, 1);
    assert.equal(r.error, 'connection to 10.0.0.2:8000 reset by peer (ECONNRESET)');
    assert.equal(out.data().toString(), 'before the reset\n');
  });

  test('stdout gone (EPIPE, `| head`): exit 0 quietly, and the peer still sending gets a RST', async () => {
    const { network, client, server } = pair();
    const peerError = new Promise<string>((resolve) => {
      server.net.createServer((s) => {
        s.on('error', (err: Error & { code: string }) => resolve(err.code));
        s.on('close', () => resolve('closed without error'));
        s.write(bytes(1024 * 1024, 6));
      }).listen(8001);
    });
    let writes = 0;
    const closedPipe = new Writable({
      write(_chunk, _enc, callback) {
        if (++writes === 1) callback();
        else callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 8001 }, io(silentStdin(), closedPipe)));
    assert.equal(r.exitCode, 0);
    assert.equal(r.error, undefined);
    assert.equal(await drive(network, peerError), 'ECONNRESET');
  });

  test('connect timeout on a link that drops everything: -w 3 -> exit 1 at 3 s; default 10 s', async () => {
    for (const [connectTimeoutMs, expectMs] of [[3000, 3000], [undefined, DEFAULT_CONNECT_TIMEOUT_MS]] as const) {
      const { network, client } = pair({ delay: millis(5), loss: 1 });
      const start = network.now;
      const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 80, ...(connectTimeoutMs ? { connectTimeoutMs } : {}) }, io(silentStdin(), sink())));
      assert.equal(r.exitCode, 1);
      assert.equal(r.error, 'connect to 10.0.0.2:80 timed out');
      assert.equal(network.now - start, millis(expectMs));
    }
  });
});

describe('runNc: -q and -w on the virtual clock', () => {
  /** A server that reads everything and never closes; resolves with its socket. */
  function holdingServer(server: ReturnType<typeof pair>['server'], port: number): Promise<Socket> {
    return new Promise((resolve) => {
      server.net.createServer({ allowHalfOpen: true }, (s) => {
        s.resume();
        resolve(s);
      }).listen(port);
    });
  }

  test('-q 2: the peer stays open after our FIN; the run ends 2 s after stdin\'s end, exit 0', async () => {
    const { network, client, server } = pair();
    void holdingServer(server, 7100);
    const stdin = stdinOf(Buffer.from('hello\n'));
    let eofAt: number | undefined;
    stdin.once('end', () => { eofAt = network.now; });
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 7100, quitAfterEofMs: 2000 }, io(stdin, sink())));
    assert.equal(r.exitCode, 0);
    assert.equal(r.bytesSent, 6);
    assert.ok(eofAt !== undefined);
    assert.equal(network.now - eofAt, seconds(2));
  });

  test('without -q a TCP run waits for the peer, however long; the peer\'s FIN ends it', async () => {
    const { network, client, server } = pair();
    const held = holdingServer(server, 7101);
    let settled = false;
    const run = runNc(client, { host: '10.0.0.2', port: 7101 }, io(stdinOf(Buffer.from('hello\n')), sink()));
    void run.finally(() => { settled = true; });
    const socket = await drive(network, held);
    await network.run({ duration: seconds(60), idleYields: 50 });
    assert.equal(settled, false, 'still waiting for the peer after 60 s');
    socket.end('bye\n');
    const r = await drive(network, run);
    assert.equal(r.exitCode, 0);
    assert.equal(r.bytesReceived, 4);
  });

  test('-w 2 idle: stdin and the peer both silent -> ends quietly 2 s after the last byte', async () => {
    const { network, client, server } = pair();
    server.net.createServer((s) => { s.write('banner\n'); }).listen(2222);
    const out = sink();
    const lines: string[] = [];
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 2222, idleTimeoutMs: 2000, connectTimeoutMs: 2000, verbose: true }, io(silentStdin(), out, lines)));
    assert.equal(r.exitCode, 0);
    assert.equal(out.data().toString(), 'banner\n');
    assert.ok(lines.includes('idle for 2 s: closing'), lines.join('\n'));
    // Connected at about 10 ms (one RTT), the banner at about 15 ms, then 2 s of silence.
    assert.ok(network.now >= seconds(2) && network.now < seconds(2.05), `${network.now} µs`);
  });
});

describe('runNc: TCP listen', () => {
  test('-l accepts one connection, copies both ways, ends when the client closes; a second client is turned away', async () => {
    const { network, client, server } = pair();
    const fromClient = bytes(200_000, 3);
    const fromListener = bytes(100_000, 4);
    const out = sink();
    const lines: string[] = [];
    const run = runNc(server, { port: 7000, listen: true, verbose: true }, io(stdinOf(fromListener), out, lines));
    const sock = client.net.connect({ port: 7000, host: '10.0.0.2', allowHalfOpen: true });
    const got: Buffer[] = [];
    sock.on('data', (c: Buffer) => got.push(c));
    const ended = once(sock, 'end');
    await drive(network, once(sock, 'connect'));
    const second = client.net.connect({ port: 7000, host: '10.0.0.2' });
    const secondFailed = once(second, 'error') as Promise<[Error & { code: string }]>;
    sock.end(fromClient);
    const r = await drive(network, run);
    await drive(network, ended);
    assert.deepEqual(r, { exitCode: 0, bytesSent: fromListener.length, bytesReceived: fromClient.length });
    assert.equal(sha256(out.data()), sha256(fromClient));
    assert.equal(sha256(Buffer.concat(got)), sha256(fromListener));
    const [err] = await drive(network, secondFailed);
    assert.ok(['ECONNREFUSED', 'ECONNRESET'].includes(err.code), err.code);
    assert.equal(lines[0], 'listening on 10.0.0.2:7000, [fd00::2]:7000');
    assert.match(lines[1]!, /^connection from 10\.0\.0\.1:\d+$/);
  });

  test('-l HOST: listens on that address only', async () => {
    const { network, client, server } = pair();
    const out = sink();
    const lines: string[] = [];
    const run = runNc(server, { host: 'fd00::2', port: 7001, listen: true, verbose: true }, io(stdinOf(Buffer.alloc(0)), out, lines));
    const v4 = client.net.connect(7001, '10.0.0.2');
    const [refused] = await drive(network, once(v4, 'error')) as [Error & { code: string }];
    assert.equal(refused.code, 'ECONNREFUSED');
    const v6 = client.net.connect(7001, 'fd00::2');
    v6.end('over IPv6');
    const r = await drive(network, run);
    assert.equal(r.exitCode, 0);
    assert.equal(out.data().toString(), 'over IPv6');
    assert.equal(lines[0], 'listening on [fd00::2]:7001');
  });
});

describe('runNc: UDP', () => {
  test('-u: stdin split into datagrams that fit the MTU (1472 over IPv4, 1452 over IPv6), answers to stdout, ends 1 s after EOF', async () => {
    for (const [host, max] of [['10.0.0.2', 1472], ['fd00::2', 1452]] as const) {
      const { network, client, server } = pair();
      const echo = server.dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      const sizes: number[] = [];
      echo.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        sizes.push(msg.length);
        echo.send(msg, rinfo.port, rinfo.address);
      });
      echo.bind(5353);
      await drive(network, once(echo, 'listening'));
      const data = bytes(4000, 5);
      const stdin = stdinOf(data);
      let eofAt: number | undefined;
      stdin.once('end', () => { eofAt = network.now; });
      const out = sink();
      const r = await drive(network, runNc(client, { host, port: 5353, udp: true }, io(stdin, out)));
      assert.deepEqual(r, { exitCode: 0, bytesSent: 4000, bytesReceived: 4000 });
      assert.deepEqual(sizes, [max, max, 4000 - 2 * max]);
      assert.equal(sha256(out.data()), sha256(data));
      assert.equal(network.now - eofAt!, seconds(1), 'UDP quits 1 s after EOF by default');
      echo.close();
    }
  });

  test('-u with -q 0.25, and ECONNREFUSED when nothing listens (ICMP port unreachable)', async () => {
    const { network, client } = pair();
    const r = await drive(network, runNc(client, { host: '10.0.0.2', port: 5999, udp: true, quitAfterEofMs: 250 }, io(stdinOf(Buffer.from('anyone?')), sink())));
    assert.equal(r.exitCode, 1);
    assert.equal(r.error, 'udp to 10.0.0.2:5999 refused (ECONNREFUSED)');
  });

  test('-u -l: the first datagram\'s sender becomes the peer; stdin goes to it; others are ignored', async () => {
    const { network, client, server } = pair();
    const out = sink();
    const lines: string[] = [];
    const reply = Buffer.from('reply from the listener\n');
    const run = runNc(server, { port: 5000, listen: true, udp: true, quitAfterEofMs: 500, verbose: true }, io(stdinOf(reply), out, lines));
    const peer = client.dgram.createSocket('udp4');
    const other = client.dgram.createSocket('udp4');
    const answered = once(peer, 'message') as Promise<[Buffer, RemoteInfo]>;
    peer.send('hello\n', 5000, '10.0.0.2');
    const [answer, rinfo] = await drive(network, answered);
    other.send('not the peer\n', 5000, '10.0.0.2');
    peer.send('again\n', 5000, '10.0.0.2');
    const r = await drive(network, run);
    assert.equal(r.exitCode, 0);
    assert.equal(answer.toString(), reply.toString());
    assert.equal(rinfo.port, 5000);
    assert.equal(out.data().toString(), 'hello\nagain\n');
    assert.equal(lines[0], 'listening on 10.0.0.2:5000, [fd00::2]:5000 (udp)');
    assert.match(lines[1]!, /^udp peer 10\.0\.0\.1:\d+$/);
    peer.close();
    other.close();
  });
});

describe('runNc: options it cannot use', () => {
  test('a name for HOST, a port out of range -> exit 2 with one line', async () => {
    const { client } = pair();
    assert.deepEqual(await runNc(client, { host: 'example.com', port: 80 }, io(silentStdin(), sink())),
      { exitCode: 2, bytesSent: 0, bytesReceived: 0, error: 'HOST must be an IP address, not \'example.com\' (no DNS)' });
    assert.equal((await runNc(client, { host: '10.0.0.2', port: 70000 }, io(silentStdin(), sink()))).exitCode, 2);
  });
});
