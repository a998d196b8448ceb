/**
 * Issue 3, "must show": Node's own `http`, unchanged, over l4 sockets on the virtual
 * network — an `http.Server` fed l4 connections, `http.request` and a keep-alive
 * `http.Agent` that create l4 sockets. Includes the seeds' gzip "Hello World!" server.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { LinkOptions } from '../../src/drivers/virtual/impairments.js';
import type { Stack } from '../../src/api/stack.js';
import { createHelloServer, HELLO_BODY } from '../../src/tools/hello-server.js';
import { millis } from '../../src/time/instant.js';
import { drive } from '../support/virtual.js';

function pair(link: LinkOptions, seed = 1): { network: VirtualNetwork; client: Stack; server: Stack } {
  const network = new VirtualNetwork({ seed, epochNanos: 1_795_000_000_000_000_000n });
  const client = addStack(network, { name: 'client', seed: seed + 10, interfaces: [{ name: 'eth0', addresses: ['10.0.0.3/24'] }] });
  const server = addStack(network, { name: 'server', seed: seed + 20, privileged: true, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }] });
  network.link(client, 'eth0', server, 'eth0', link);
  return { network, client, server };
}


interface Response { status: number; headers: IncomingMessage['headers']; body: Buffer; localPort: number | undefined }

/** An HTTP request over an l4 socket; `agent` for keep-alive reuse, else a fresh connection. */
function get(client: Stack, path: string, headers: Record<string, string> = {}, agent?: Agent, method = 'GET', body?: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({
      method, path, headers, host: '10.0.0.2', port: 80,
      ...(agent ? { agent } : { createConnection: () => client.net.createConnection({ port: 80, host: '10.0.0.2' }) }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), localPort: res.socket?.localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A keep-alive agent whose connections are l4 sockets. */
function l4Agent(client: Stack): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: (opts: { port: number; host: string }) => unknown }).createConnection =
    (opts) => client.net.createConnection({ port: opts.port, host: opts.host });
  return agent;
}

describe('Node http over l4', () => {
  test('the seeds\' server: GET without gzip, GET with gzip, and the log line', async () => {
    const { network, client, server } = pair({ delay: millis(10) });
    const log: string[] = [];
    const hello = await drive(network, createHelloServer(server.net, 80, { log: (l) => log.push(l), clock: () => new Date(Number(network.now / 1000) + 1_795_000_000_000) }));
    const plain = await drive(network, get(client, '/'));
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), HELLO_BODY);
    assert.equal(Number(plain.headers['content-length']), HELLO_BODY.length);
    const zipped = await drive(network, get(client, '/index.html', { 'accept-encoding': 'gzip, deflate' }));
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(zipped.body).toString(), HELLO_BODY);
    assert.equal(Number(zipped.headers['content-length']), zipped.body.length);
    assert.equal(log.length, 2);
    assert.match(log[0]!, /^\[\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\] - 10\.0\.0\.3:\d+ - GET \/$/);
    assert.match(log[1]!, / - GET \/index\.html$/);
    await drive(network, hello.close());
  });

  test('several requests on one keep-alive connection', async () => {
    const { network, client, server } = pair({ delay: millis(5) });
    const hello = await drive(network, createHelloServer(server.net, 80, { log: () => undefined }));
    const agent = l4Agent(client);
    const ports = new Set<number | undefined>();
    for (let i = 0; i < 5; i++) {
      const r = await drive(network, get(client, `/page/${i}`, {}, agent));
      assert.equal(r.body.toString(), HELLO_BODY);
      ports.add(r.localPort);
    }
    assert.equal(ports.size, 1, 'every request used the same connection');
    const connections = server.host.sockets().filter((x) => x.kind === 'connection');
    assert.equal(connections.length, 1);
    agent.destroy();
    await drive(network, hello.close());
  });

  test('a 10 MiB POST under 5% loss arrives intact', async () => {
    const { network, client, server } = pair({ delay: millis(5), loss: 0.05, bandwidth: 100e6 }, 3);
    const http = createHttpServer((req, res) => {
      const hash = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => { hash.update(c); n += c.length; });
      req.on('end', () => res.end(JSON.stringify({ bytes: n, sha256: hash.digest('hex') })));
    });
    const tcp = server.net.createServer((s) => http.emit('connection', s));
    tcp.listen(80);
    await drive(network, once(tcp, 'listening'));
    const body = Buffer.alloc(10 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const r = await drive(network, get(client, '/upload', { 'content-type': 'application/octet-stream' }, undefined, 'POST', body));
    const answer = JSON.parse(r.body.toString()) as { bytes: number; sha256: string };
    assert.equal(answer.bytes, body.length);
    assert.equal(answer.sha256, createHash('sha256').update(body).digest('hex'));
    const info = server.host.stats;
    assert.ok(info.tcp.segmentsIn > 7000);
  });
});
