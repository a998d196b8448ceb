/**
 * Pcap taps on links and nodes: what each capture point sees, timestamps from virtual
 * time, corrupted packets written as corrupted, and a capture file tshark opens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapFileWriter, PcapMemoryWriter } from '../../../src/drivers/pcap/writer.js';
import type { LinkSpec } from '../../../src/drivers/virtual/link.js';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import type { TapOptions } from '../../../src/drivers/virtual/tap.js';
import type { CaptureRecord } from '../../../src/wire/capture.js';
import { readCapture } from '../../../src/wire/capture.js';
import { LinkType } from '../../../src/wire/link.js';
import { needTool, tsharkFields, tsharkMalformed } from '../../support/tshark.js';
import { checksumsOk, EchoNode, ScriptedNode, seqOf } from './fakes.js';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'l4-virtual-tap-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function records(writer: PcapMemoryWriter): readonly CaptureRecord[] {
  const r = readCapture(writer.bytes());
  if (!r.ok) assert.fail(`not a capture: ${r.message}`);
  assert.equal(r.value.error, undefined);
  return r.value.records;
}

/** `count` datagrams a -> b, a tap on the link with `tapOptions`; runs to the end. */
function tapped(options: LinkSpec, count: number, tapOptions: TapOptions = {}, seed = 1) {
  const net = new VirtualNetwork({ seed });
  net.addNode('a', ScriptedNode.source(count, 200, { spacing: 1000 }));
  const b = net.addNode('b', new ScriptedNode());
  const link = net.link('a', 'eth0', 'b', 'eth0', options);
  const writer = new PcapMemoryWriter();
  const tap = net.tap(link, writer, tapOptions);
  while (net.step()) { /* run */ }
  return { net, b, link, writer, tap, recs: records(writer) };
}

describe('link taps', () => {
  test('the receiver side: one raw IP record per delivered packet, stamped with its arrival', () => {
    const { b, recs, tap } = tapped({ bandwidth: 1e6, delay: 500 }, 10);
    assert.equal(recs.length, 10);
    assert.equal(tap.packets, 10);
    recs.forEach((r, i) => {
      assert.equal(r.linkType, LinkType.Raw);
      assert.equal(r.timestamp, BigInt(b.received[i]!.at) * 1000n);
      assert.deepEqual(r.data, b.received[i]!.packet);
    });
    assert.equal(recs[0]!.timestamp, 2100_000n); // 1600 µs on the wire + 500 µs of delay
  });

  test('dropped packets are absent at the receiver side and present at the sender side', () => {
    const rx = tapped({ loss: 0.3, mtu: 1500 }, 200, { side: 'rx' }, 4);
    const stats = rx.link.aToB.stats;
    assert.ok(stats.dropped.loss > 30);
    assert.equal(rx.recs.length, stats.delivered.packets);
    assert.deepEqual(rx.recs.map((r) => seqOf(r.data)), rx.b.seqs);

    const tx = tapped({ loss: 0.3 }, 200, { side: 'tx' }, 4);
    assert.equal(tx.recs.length, 200);
    assert.deepEqual(tx.recs.map((r) => r.timestamp), Array.from({ length: 200 }, (_, i) => BigInt(i) * 1_000_000n));

    const both = tapped({ loss: 0.3 }, 200, { side: 'both' }, 4);
    assert.equal(both.recs.length, 200 + stats.delivered.packets);
    const times = both.recs.map((r) => r.timestamp);
    assert.deepEqual(times, [...times].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), 'records in time order');
  });

  test('corrupted packets are written as corrupted, duplicates twice', () => {
    const { b, recs, link } = tapped({ corrupt: 0.2, duplicate: 0.1 }, 300, {}, 6);
    const stats = link.aToB.stats;
    assert.ok(stats.corrupted > 20 && stats.duplicated > 10);
    assert.equal(recs.length, 300 + stats.duplicated);
    assert.equal(recs.filter((r) => !checksumsOk(r.data)).length, stats.corrupted);
    recs.forEach((r, i) => assert.deepEqual(r.data, b.received[i]!.packet));
  });

  test('both directions of a link, or one; the epoch shifts every timestamp; remove stops it', () => {
    const epoch = 1_700_000_000_000_000_000n;
    const net = new VirtualNetwork({ epochNanos: epoch });
    const client = net.addNode('client', ScriptedNode.source(4, 100, { spacing: 1000 }));
    const echo = net.addNode('echo', new EchoNode());
    const link = net.link(client, 'eth0', echo, 'eth0', { delay: 300 });
    const whole = new PcapMemoryWriter();
    const back = new PcapMemoryWriter();
    net.tap(link, whole);
    const backTap = net.tap(link.bToA, back, { epochNanos: 0n });
    net.runUntil(() => client.received.length === 2);
    backTap.remove();
    while (net.step()) { /* run */ }
    assert.deepEqual(records(whole).map((r) => r.timestamp - epoch), [300, 600, 1300, 1600, 2300, 2600, 3300, 3600].map((t) => BigInt(t) * 1000n));
    assert.deepEqual(records(back).map((r) => r.timestamp), [600_000n, 1_600_000n]);
  });
});

describe('node taps', () => {
  test('what the node sends and receives, like tcpdump on that host', () => {
    const net = new VirtualNetwork();
    const client = net.addNode('client', ScriptedNode.source(3, 100, { spacing: 1000 }));
    net.addNode('echo', new EchoNode());
    net.link('client', 'eth0', 'echo', 'eth0', { delay: 250 });
    const all = new PcapMemoryWriter();
    const onlyIn = new PcapMemoryWriter();
    net.tap(client, all);
    net.tap('client', onlyIn, { side: 'rx' });
    while (net.step()) { /* run */ }
    assert.deepEqual(records(all).map((r) => r.timestamp / 1000n), [0n, 500n, 1000n, 1500n, 2000n, 2500n]);
    assert.deepEqual(records(onlyIn).map((r) => r.timestamp / 1000n), [500n, 1500n, 2500n]);
    assert.equal(client.received.length, 3);
  });

  test('a tap on a switch sees everything it forwards', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', ScriptedNode.source(5, 100));
    net.addNode('b', new EchoNode());
    const sw = net.switch('sw');
    net.attach(sw, 'a', 'eth0');
    net.attach(sw, 'b', 'eth0');
    const writer = new PcapMemoryWriter();
    net.tap(sw, writer);
    while (net.step()) { /* run */ }
    assert.equal(a.received.length, 5);
    assert.equal(records(writer).length, 20); // 5 requests and 5 replies, each in and out
  });
});

describe('capture files', () => {
  test('a PcapFileWriter tap reads back with the right count and timestamps', () => {
    const path = join(dir, 'link.pcap');
    const writer = PcapFileWriter.open(path);
    const net = new VirtualNetwork();
    net.addNode('a', ScriptedNode.source(25, 300, { spacing: 2000 }));
    net.addNode('b', new ScriptedNode());
    const link = net.link('a', 'eth0', 'b', 'eth0', { bandwidth: 10e6, delay: 1000 });
    net.tap(link, writer);
    while (net.step()) { /* run */ }
    writer.close();
    const r = readCapture(new Uint8Array(readFileSync(path)));
    if (!r.ok) assert.fail(r.message);
    assert.equal(r.value.records.length, 25);
    r.value.records.forEach((rec, i) => assert.equal(rec.timestamp, BigInt(i * 2000 + 240 + 1000) * 1000n));
  });

  test('tshark opens the capture: every frame, its time, no bad checksum', { skip: needTool('tshark') }, () => {
    const path = join(dir, 'tshark.pcap');
    const writer = PcapFileWriter.open(path);
    const net = new VirtualNetwork();
    net.addNode('a', ScriptedNode.source(8, 120, { spacing: 1500 }));
    net.addNode('b', new EchoNode());
    const link = net.link('a', 'eth0', 'b', 'eth0', { delay: 250, jitter: 100 });
    net.tap(link, writer);
    while (net.step()) { /* run */ }
    writer.close();
    const rows = tsharkFields(path, ['frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'udp.length']);
    assert.equal(rows.length, 16);
    const r = readCapture(new Uint8Array(readFileSync(path)));
    if (!r.ok) assert.fail(r.message);
    rows.forEach((row, i) => {
      const ns = r.value.records[i]!.timestamp;
      assert.equal(row['frame.time_epoch'], `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`);
      assert.equal(row['ip.src'], i % 2 === 0 ? '10.0.0.1' : '10.0.0.2');
      assert.equal(row['udp.length'], '100');
    });
    assert.deepEqual(tsharkMalformed(path), []);
  });
});
