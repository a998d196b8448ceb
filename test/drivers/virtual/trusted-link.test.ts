/**
 * Trusted virtual links (`VirtualLink.trust`, `trusted: true`): the hosts at both ends skip
 * checksums, data still arrives intact under the faults a trusted link may have (loss,
 * duplication, reordering), a capture of the link is valid for tshark, and trust and
 * corruption exclude each other whichever comes first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../../../src/core/host.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { PcapMemoryWriter } from '../../../src/drivers/pcap/writer.js';
import { addStack } from '../../../src/drivers/virtual/hosts.js';
import type { LinkSpec } from '../../../src/drivers/virtual/link.js';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import { readCapture } from '../../../src/wire/capture.js';
import { IpProtocol } from '../../../src/wire/ip-protocol.js';
import { ipv4HeaderChecksumValid } from '../../../src/wire/ipv4.js';
import { tcpChecksumValid } from '../../../src/wire/tcp.js';
import { needTool, tsharkFields, tsharkMalformed } from '../../support/tshark.js';
import { A, B, ScriptedNode } from './fakes.js';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'l4-trusted-link-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function twoHosts(spec: LinkSpec = {}, seed = 1) {
  const net = new VirtualNetwork({ seed });
  const a = net.addNode('a', new Host({ name: 'a', seed: 11, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }] }));
  const b = net.addNode('b', new Host({ name: 'b', seed: 12, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }] }));
  const link = net.link(a, 'eth0', b, 'eth0', spec);
  return { net, a, b, link };
}

function checksums(host: Host): string {
  return host.interfaces().find((i) => i.name === 'eth0')!.checksums;
}

/** Sends `data` from a to b:5001 and returns what b received, running the network to the end. */
function transfer(net: VirtualNetwork, a: Host, b: Host, data: Uint8Array): Uint8Array {
  assert.ok(b.tcpListen({ port: 5001 }).ok);
  const opened = a.tcpConnect(net.now, { remote: { address: B, port: 5001 } });
  assert.ok(opened.ok);
  const sender = opened.connection;
  let receiver: TcpConnection | undefined;
  let sent = 0;
  const got: Uint8Array[] = [];
  net.wake(a);
  for (let steps = 0; steps < 1_000_000 && net.step(); steps++) {
    const now = net.now;
    let acted = false;
    for (let e = b.pollEvent(); e !== undefined; e = b.pollEvent()) if (e.type === 'incoming') receiver ??= e.listener.accept();
    while (a.pollEvent() !== undefined) { /* drain */ }
    if (sender.state === 'ESTABLISHED' && sent < data.length) {
      const n = sender.send(now, data.subarray(sent));
      sent += n;
      acted ||= n > 0;
      if (sent === data.length) sender.close(now);
    }
    for (let d = receiver?.recv(now); d !== undefined; d = receiver?.recv(now)) {
      got.push(d);
      acted = true;
    }
    if (receiver?.state === 'CLOSE-WAIT') break;
    // Wake only after acting: a wake runs another round at this instant.
    if (acted) {
      net.wake(a);
      net.wake(b);
    }
  }
  const out = new Uint8Array(got.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of got) { out.set(d, at); at += d.length; }
  return out;
}

describe('trusted virtual links', () => {
  test('the hosts send no checksums over a trusted link; every other link keeps them', () => {
    const { net, a, link } = twoHosts({ trusted: true });
    assert.equal(link.trusted, true);
    assert.equal(link.aToB.trusted && link.bToA.trusted, true);
    assert.equal(checksums(a), 'trusted');
    assert.ok(a.tcpConnect(net.now, { remote: { address: B, port: 5001 } }).ok);
    const syn = a.pollTransmit(net.now);
    assert.ok(syn);
    assert.deepEqual([syn.packet[10], syn.packet[11], syn.packet[36], syn.packet[37]], [0, 0, 0, 0]);

    const plain = twoHosts();
    assert.equal(plain.link.trusted, false);
    assert.equal(checksums(plain.a), 'verified');
    assert.ok(plain.a.tcpConnect(plain.net.now, { remote: { address: B, port: 5001 } }).ok);
    const checked = plain.a.pollTransmit(plain.net.now);
    assert.ok(checked && ipv4HeaderChecksumValid(checked.packet));
    assert.ok(tcpChecksumValid(checked.packet.subarray(20), A, B));
  });

  test('data arrives intact over a trusted link with loss, duplication and reordering; no checksum drop', () => {
    for (const seed of [1, 2, 3]) {
      const { net, a, b, link } = twoHosts({ trusted: true, delay: 500, loss: 0.03, duplicate: 0.03, reorder: 0.05 }, seed);
      const data = new Uint8Array(300_000).map((_, i) => (i * 7 + seed) & 0xff);
      const got = transfer(net, a, b, data);
      assert.equal(got.length, data.length, `seed ${seed}`);
      assert.ok(got.every((x, i) => x === data[i]), `seed ${seed}: the bytes differ`);
      assert.ok(link.stats.aToB.dropped.loss > 0 && link.stats.aToB.duplicated > 0, 'the faults happened');
      assert.equal((a.stats.drops['bad-checksum'] ?? 0) + (b.stats.drops['bad-checksum'] ?? 0), 0);
    }
  });

  test('hosts wrapped in a Stack are trusted too', () => {
    const net = new VirtualNetwork();
    const a = addStack(net, { name: 'a', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }] });
    const b = addStack(net, { name: 'b', seed: 2, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }] });
    net.link(a, 'eth0', b, 'eth0', { trusted: true });
    assert.equal(checksums(a.host), 'trusted');
    assert.equal(checksums(b.host), 'trusted');
  });

  test('trust and corruption exclude each other, whichever comes first; a refusal changes nothing', () => {
    const { net, a, b } = (() => {
      const n = new VirtualNetwork();
      return {
        net: n,
        a: n.addNode('a', new Host({ name: 'a', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }] })),
        b: n.addNode('b', new Host({ name: 'b', seed: 2, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }] })),
      };
    })();
    const refused = (e: unknown): boolean => e instanceof RangeError && /a trusted link cannot corrupt/.test(e.message);
    assert.throws(() => net.link(a, 'eth0', b, 'eth0', { trusted: true, corrupt: 0.01 }), refused);
    assert.throws(() => net.link(a, 'eth0', b, 'eth0', { trusted: true, bToA: { corrupt: 0.01 } }), refused);
    assert.equal(net.links.length, 0, 'no link was made');
    assert.equal(checksums(a), 'verified');
    assert.equal(checksums(b), 'verified');

    const link = net.link(a, 'eth0', b, 'eth0', { corrupt: 0.01 }); // the interfaces are still free
    assert.throws(() => link.trust(), refused);
    assert.equal(link.trusted, false);
    assert.equal(checksums(a), 'verified');

    link.configure({ loss: 0.01 });
    link.trust();
    assert.equal(checksums(a), 'trusted');
    assert.equal(checksums(b), 'trusted');
    assert.throws(() => link.configure({ corrupt: 0.5 }), refused);
    assert.throws(() => link.configure({ bToA: { corrupt: 0.5 } }), refused);
    assert.throws(() => link.aToB.configure({ corrupt: 0.5 }), refused);
    assert.equal(link.aToB.impairments.corrupt, 0);
    assert.equal(link.aToB.impairments.loss, 0.01, 'a refused configure left the options as they were');
    link.configure({ loss: 0.02, duplicate: 0.01 }); // other faults stay allowed
    assert.equal(link.bToA.impairments.loss, 0.02);
  });

  test('only a link between two hosts can be trusted (a switch or another node cannot skip checksums)', () => {
    const net = new VirtualNetwork();
    const h = net.addNode('h', new Host({ name: 'h', seed: 1, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24'] }, { name: 'eth1', addresses: ['10.0.1.1/24'] }] }));
    const sw = net.switch('sw');
    assert.throws(() => net.attach(sw, h, 'eth0', { trusted: true }), (e: unknown) => e instanceof RangeError && /sw is not a host/.test(e.message));
    net.addNode('n', new ScriptedNode());
    assert.throws(() => net.link(h, 'eth1', 'n', 'eth0', { trusted: true }), /n is not a host/);
    assert.deepEqual(h.interfaces().map((i) => i.checksums), ['verified', 'verified', 'verified'], 'nothing was half trusted');
    assert.equal(net.links.length, 0);
  });

  test('a capture of a trusted link has valid checksums (tshark validating them), and the packets are the same', (t) => {
    const { net, a, b, link } = twoHosts({ trusted: true, delay: 100 });
    const writer = new PcapMemoryWriter();
    net.tap(link, writer, { side: 'both' });
    const nodeWriter = new PcapMemoryWriter();
    net.tap(a, nodeWriter);
    const socket = b.udpBind({ port: 7000 });
    assert.ok(socket.ok);
    const sender = a.udpBind({ port: 7001 });
    assert.ok(sender.ok);
    assert.ok(sender.socket.send(net.now, new TextEncoder().encode('over a trusted link'), { address: B, port: 7000 }).ok);
    const data = new Uint8Array(20_000).fill(0x61);
    assert.equal(transfer(net, a, b, data).length, data.length);
    for (const w of [writer, nodeWriter]) {
      let tcpPayload = 0;
      const r = readCapture(w.bytes());
      assert.ok(r.ok);
      assert.ok(r.value.records.length > 10);
      for (const rec of r.value.records) {
        assert.ok(ipv4HeaderChecksumValid(rec.data), 'IPv4 header checksum filled');
        if (rec.data[9] === IpProtocol.Tcp) {
          assert.ok(tcpChecksumValid(rec.data.subarray(20), rec.data.subarray(12, 16), rec.data.subarray(16, 20)), 'TCP checksum filled');
          // Only the checksums differ from what was sent: the payload is the transfer's.
          const payload = rec.data.subarray(20 + (rec.data[32]! >>> 4) * 4);
          assert.ok(payload.every((byte) => byte === 0x61), 'the segment carries the bytes sent');
          tcpPayload += payload.length;
        }
      }
      assert.ok(tcpPayload >= data.length, `the capture holds the ${data.length} bytes sent (${tcpPayload})`);
    }
    const skip = needTool('tshark');
    if (skip) { t.skip(skip); return; }
    const file = join(dir, 'trusted.pcap');
    writeFileSync(file, writer.bytes());
    assert.deepEqual(tsharkMalformed(file, { validateChecksums: true }), []);
    const udp = tsharkFields(file, ['udp.checksum.status'], { displayFilter: 'udp', validateChecksums: true });
    assert.ok(udp.length >= 2 && udp.every((row) => row['udp.checksum.status'] === '1'), 'the UDP checksum was filled in, not left as "none"');
  });
});
