import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo, BANNERS, DEMO_CLIENT, DEMO_SERVER } from '../../src/tools/demo.js';
import { readCapture } from '../../src/wire/capture.js';

describe('runDemo', () => {
  test('two pages from two source ports, FTP and HTTP to one server, the DNS answer, the socket table', async () => {
    const r = await runDemo({ compare: { tcpBytes: 64 * 1024, minUdpDuration: 1_000_000 } });
    const http = r.exchanges.filter((e) => e.service === 'http');
    assert.equal(http.length, 2);
    const ports = http.map((e) => Number(e.local.split(':')[1]));
    assert.notEqual(ports[0], ports[1], 'two distinct source ports');
    for (const e of http) {
      assert.equal(e.remote, `${DEMO_SERVER}:80`);
      assert.match(e.reply, /^HTTP\/1\.1 200 OK: <HTML><h1>Hello World!<\/h1><\/HTML> \(gzip/);
    }
    const ftp = r.exchanges.find((e) => e.service === 'ftp')!;
    assert.equal(ftp.remote, `${DEMO_SERVER}:21`);
    assert.equal(ftp.reply, BANNERS.ftp);
    assert.equal(r.exchanges.find((e) => e.service === 'ssh')!.reply, BANNERS.ssh);
    assert.equal(r.exchanges.find((e) => e.service === 'smtp')!.reply, BANNERS.smtp);
    const dns = r.exchanges.find((e) => e.service === 'dns')!;
    assert.equal(dns.protocol, 'udp');
    assert.equal(dns.remote, `${DEMO_SERVER}:53`);
    assert.match(dns.reply, new RegExp(`A ${DEMO_SERVER.replace(/\./g, '\\.')} `));

    // The socket table, taken while everything was open: every TCP row ESTABLISHED to the same server.
    const tcp = r.sockets.filter((s) => s.proto === 'TCP');
    assert.deepEqual(tcp.map((s) => s.foreign.split(':')[1]).sort(), ['21', '22', '25', '80', '80']);
    for (const s of tcp) {
      assert.equal(s.state, 'ESTABLISHED');
      assert.ok(s.local.startsWith(`${DEMO_CLIENT}:`));
      assert.ok(s.foreign.startsWith(`${DEMO_SERVER}:`));
    }
    assert.deepEqual(new Set(tcp.filter((s) => s.foreign.endsWith(':80')).map((s) => s.local)).size, 2);
    assert.ok(r.sockets.some((s) => s.proto === 'UDP'));
    assert.equal(r.serverLog.length, 2);
    assert.match(r.serverLog[0]!, new RegExp(`${DEMO_CLIENT}:${ports[0]} - GET /`));
  });

  test('the handshake: SYN, SYN/ACK, ACK of the first page, with its ports and IPs, from the capture', async () => {
    const r = await runDemo({ compare: { tcpBytes: 64 * 1024, minUdpDuration: 1_000_000 } });
    const port = Number(r.exchanges.find((e) => e.service === 'http')!.local.split(':')[1]);
    assert.deepEqual(r.handshake.map((f) => f.name), ['SYN', 'SYN/ACK', 'ACK']);
    const [syn, synAck, ack] = r.handshake;
    const transport = (f: typeof syn) => f!.layers.find((l) => l.layer === 'Transport Layer')!;
    const network = (f: typeof syn) => f!.layers.find((l) => l.layer === 'Network Layer')!;
    assert.equal(transport(syn).ports, `Src Port: ${port} Dst Port: 80`);
    assert.equal(transport(synAck).ports, `Src Port: 80 Dst Port: ${port}`);
    assert.equal(transport(ack).ports, `Src Port: ${port} Dst Port: 80`);
    assert.equal(network(syn).ips, `Src IP: ${DEMO_CLIENT} Dst IP: ${DEMO_SERVER}`);
    assert.equal(network(synAck).ips, `Src IP: ${DEMO_SERVER} Dst IP: ${DEMO_CLIENT}`);
    assert.ok(syn!.frame < synAck!.frame && synAck!.frame < ack!.frame);
    assert.match(transport(syn).info, /SYN/);
    // The capture reads back, with every packet the tap saw.
    const parsed = readCapture(r.capture.bytes);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.records.length, r.capture.packets);
  });

  test('deterministic: two runs give the same report and the same capture', async () => {
    const opts = { compare: { tcpBytes: 32 * 1024, minUdpDuration: 1_000_000 } };
    const a = await runDemo(opts);
    const b = await runDemo(opts);
    assert.deepEqual(a.exchanges, b.exchanges);
    assert.deepEqual(a.sockets, b.sockets);
    assert.deepEqual(Buffer.from(a.capture.bytes), Buffer.from(b.capture.bytes));
    assert.deepEqual(a.comparison.summary, b.comparison.summary);
  });
});
