/**
 * Node's `dgram` API over l4 hosts on the virtual network (issue 4): bind, send with its
 * callback, 'message' with rinfo, connect/disconnect, ECONNREFUSED from ICMP port
 * unreachable on a connected socket, the largest IPv4 datagram (fragmented and reassembled),
 * EMSGSIZE, broadcast permission, TCP and UDP port spaces apart.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import type { RemoteInfo } from '../../src/api/dgram.js';
import { millis } from '../../src/time/instant.js';
import { drive } from '../support/virtual.js';

function pair() {
  const network = new VirtualNetwork({ seed: 4 });
  const a = addStack(network, { name: 'a', seed: 40, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] }] });
  const b = addStack(network, { name: 'b', seed: 41, privileged: true, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }] });
  network.link(a, 'eth0', b, 'eth0', { delay: millis(2) });
  return { network, a, b };
}

describe('dgram over l4', () => {
  test('udp4 and udp6: bind, send with callback, message with rinfo', async () => {
    const { network, a, b } = pair();
    for (const [type, to, from] of [['udp4', '10.0.0.2', '10.0.0.1'], ['udp6', 'fd00::2', 'fd00::1']] as const) {
      const server = b.dgram.createSocket(type);
      server.bind(5353);
      await drive(network, once(server, 'listening'));
      assert.equal(server.address().port, 5353);
      const client = a.dgram.createSocket(type);
      const got = once(server, 'message') as Promise<[Buffer, RemoteInfo]>;
      const sent = new Promise<number>((resolve, reject) => client.send('hello over udp', 5353, to, (err, n) => (err ? reject(err) : resolve(n!))));
      const [[msg, rinfo], bytes] = await drive(network, Promise.all([got, sent]));
      assert.equal(bytes, 14);
      assert.equal(msg.toString(), 'hello over udp');
      assert.equal(rinfo.address, from);
      assert.equal(rinfo.family, type === 'udp4' ? 'IPv4' : 'IPv6');
      assert.equal(rinfo.size, 14);
      assert.equal(rinfo.port, client.address().port);
      assert.ok(rinfo.port >= 49152, 'an ephemeral port from the implicit bind');
      client.close();
      server.close();
    }
  });

  test('the seeds\' DNS case: a query to UDP port 53 and its answer', async () => {
    const { network, a, b } = pair();
    const dns = b.dgram.createSocket('udp4');
    dns.on('message', (query: Buffer, rinfo: RemoteInfo) => {
      // Answer with the query's id, QR set, one answer: what matters here is the exchange.
      const answer = Buffer.concat([query.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), query.subarray(12),
        Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 192, 0, 2, 80])]);
      dns.send(answer, rinfo.port, rinfo.address);
    });
    dns.bind(53);
    await drive(network, once(dns, 'listening'));
    const client = a.dgram.createSocket('udp4');
    const question = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1]);
    const reply = once(client, 'message') as Promise<[Buffer, RemoteInfo]>;
    client.send(question, 53, '10.0.0.2');
    const [answer, rinfo] = await drive(network, reply);
    assert.equal(rinfo.port, 53);
    assert.equal(rinfo.address, '10.0.0.2');
    assert.equal(answer.readUInt16BE(0), 0x1234, 'same id');
    assert.ok((answer[2]! & 0x80) !== 0, 'a response');
    assert.deepEqual([...answer.subarray(answer.length - 4)], [192, 0, 2, 80]);
  });

  test('a connected socket gets ECONNREFUSED when its datagram draws ICMP port unreachable', async () => {
    const { network, a } = pair();
    const client = a.dgram.createSocket('udp4');
    client.connect(9999, '10.0.0.2');
    await drive(network, once(client, 'connect'));
    assert.deepEqual(client.remoteAddress(), { address: '10.0.0.2', family: 'IPv4', port: 9999 });
    const failed = once(client, 'error') as Promise<[Error & { code: string }]>;
    client.send('anyone?');
    const [err] = await drive(network, failed);
    assert.equal(err.code, 'ECONNREFUSED');
    client.disconnect();
    assert.throws(() => client.remoteAddress(), { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' });
  });

  test('65,507 bytes over IPv4 arrive whole through MTU 1500 (fragmented, reassembled); 65,508 is EMSGSIZE', async () => {
    const { network, a, b } = pair();
    const server = b.dgram.createSocket('udp4');
    server.bind(7000);
    await drive(network, once(server, 'listening'));
    const client = a.dgram.createSocket('udp4');
    const big = Buffer.alloc(65_507);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const got = once(server, 'message') as Promise<[Buffer, RemoteInfo]>;
    client.send(big, 7000, '10.0.0.2');
    const [msg] = await drive(network, got);
    assert.ok(msg.equals(big));
    const tooBig = new Promise<Error & { code?: string }>((resolve) => client.send(Buffer.alloc(65_508), 7000, '10.0.0.2', (err) => resolve(err!)));
    assert.equal((await drive(network, tooBig)).code, 'EMSGSIZE');
  });

  test('bind errors: EADDRINUSE, EACCES below 1024 without privilege; TCP 53 and UDP 53 at once', async () => {
    const { network, a, b } = pair();
    const first = a.dgram.createSocket('udp4').bind(6000);
    await drive(network, once(first, 'listening'));
    const second = a.dgram.createSocket('udp4').bind(6000);
    const [inUse] = await drive(network, once(second, 'error')) as [Error & { code: string }];
    assert.equal(inUse.code, 'EADDRINUSE');
    const low = a.dgram.createSocket('udp4').bind(53);
    const [denied] = await drive(network, once(low, 'error')) as [Error & { code: string }];
    assert.equal(denied.code, 'EACCES');
    const udp53 = b.dgram.createSocket('udp4').bind(53);
    const tcp53 = b.net.createServer().listen(53);
    await drive(network, Promise.all([once(udp53, 'listening'), once(tcp53, 'listening')]));
    assert.equal(udp53.address().port, 53);
    assert.equal(tcp53.address()!.port, 53);
  });

  test('broadcast needs setBroadcast (EACCES without it); setTTL checks its range', async () => {
    const { network, a } = pair();
    const s = a.dgram.createSocket('udp4').bind(6100);
    await drive(network, once(s, 'listening'));
    const refused = new Promise<Error & { code?: string }>((resolve) => s.send('x', 6101, '255.255.255.255', (err) => resolve(err!)));
    assert.equal((await drive(network, refused)).code, 'EACCES');
    s.setBroadcast(true);
    const sent = new Promise<Error | null>((resolve) => s.send('x', 6101, '255.255.255.255', (err) => resolve(err)));
    assert.equal(await drive(network, sent), null);
    assert.throws(() => s.setTTL(0), { code: 'EINVAL' });
    assert.equal(s.setTTL(5), 5);
    s.close();
    assert.throws(() => s.send('late', 1, '10.0.0.2'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
  });
});
