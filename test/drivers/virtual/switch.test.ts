/**
 * The learning switch with three nodes on one segment: flooding of unknown destinations,
 * learning from source addresses, forwarding to one port, filtering, broadcast, IPv6.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import { VirtualSwitch } from '../../../src/drivers/virtual/switch.js';
import { parseIpAddress } from '../../../src/wire/address.js';
import { A, B, C, datagram, ScriptedNode } from './fakes.js';

function segment() {
  const net = new VirtualNetwork();
  const a = net.addNode('a', new ScriptedNode());
  const b = net.addNode('b', new ScriptedNode());
  const c = net.addNode('c', new ScriptedNode());
  const sw = net.switch('sw');
  const links = [a, b, c].map((n) => net.attach(sw, n, 'eth0', { delay: 100 }));
  const send = (from: ScriptedNode, seq: number, src: Uint8Array, dst: Uint8Array): void => {
    from.send(datagram(seq, 64, src, dst));
    net.wake(from);
    while (net.step()) { /* deliver */ }
  };
  return { net, a, b, c, sw, links, send };
}

describe('VirtualSwitch', () => {
  test('floods an unknown destination, learns, then forwards to one port', () => {
    const { net, a, b, c, sw, send } = segment();
    assert.ok(sw instanceof VirtualSwitch);
    assert.deepEqual(sw.ports, ['port1', 'port2', 'port3']);

    send(a, 1, A, B); // B unknown: flooded to b and c
    assert.deepEqual(b.seqs, [1]);
    assert.deepEqual(c.seqs, [1]);
    assert.equal(b.received[0]!.at, 200, 'two hops of 100 µs; the switch takes no time');
    assert.equal(sw.stats.flooded, 1);

    send(b, 2, B, A); // A was learned on port1: only a gets it
    assert.deepEqual(a.seqs, [2]);
    assert.deepEqual(c.seqs, [1]);
    assert.equal(sw.stats.forwarded, 1);

    send(c, 3, C, A);
    send(a, 4, A, C); // C learned from its packet
    assert.deepEqual(a.seqs, [2, 3]);
    assert.deepEqual(b.seqs, [1]);
    assert.deepEqual(c.seqs, [1, 4]);
    assert.equal(sw.stats.forwarded, 3);
    assert.equal(sw.stats.flooded, 1);
    assert.deepEqual([...sw.table()].sort(), [['10.0.0.1', 'port1'], ['10.0.0.2', 'port2'], ['10.0.0.3', 'port3']]);
    assert.equal(net.stats.unattached, 0);
  });

  test('broadcast is flooded; a destination on the ingress port is filtered; garbage is counted', () => {
    const { a, b, c, sw, send, net } = segment();
    send(a, 1, A, parseIpAddress('255.255.255.255')!);
    assert.deepEqual([a.seqs, b.seqs, c.seqs], [[], [1], [1]]);
    send(a, 2, A, A);
    assert.equal(sw.stats.filtered, 1);
    assert.equal(a.received.length, 0);
    a.send(Uint8Array.of(0x45, 0, 0, 20)); // too short for an IPv4 header
    a.send(new Uint8Array(40)); // version 0
    net.wake(a);
    while (net.step()) { /* deliver */ }
    assert.equal(sw.stats.malformed, 2);
  });

  test('flooded copies are separate buffers', () => {
    const { a, b, c, send } = segment();
    send(a, 1, A, B);
    assert.notEqual(b.received[0]!.packet, c.received[0]!.packet);
    assert.deepEqual(b.received[0]!.packet, c.received[0]!.packet);
  });

  test('learns IPv6 addresses too', () => {
    const { a, b, c, sw, net } = segment();
    /** A bare IPv6 header (all the switch reads) padded to `length` bytes, which identifies it here. */
    const v6 = (src: string, dst: string, length: number): Uint8Array => {
      const p = new Uint8Array(length);
      p[0] = 0x60;
      p.set(parseIpAddress(src)!, 8);
      p.set(parseIpAddress(dst)!, 24);
      return p;
    };
    const lengths = (n: ScriptedNode): number[] => n.received.map((r) => r.length);
    a.send(v6('fd00::a', 'fd00::b', 41));
    net.wake(a);
    while (net.step()) { /* deliver */ }
    b.send(v6('fd00::b', 'fd00::a', 42));
    net.wake(b);
    while (net.step()) { /* deliver */ }
    assert.deepEqual([lengths(a), lengths(b), lengths(c)], [[42], [41], [41]]);
    assert.equal(sw.table().get('fd00::a'), 'port1');
    assert.equal(sw.table().get('fd00::b'), 'port2');
  });

  test('each attachment is a link with its own impairments', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    const b = net.addNode('b', new ScriptedNode());
    const sw = net.switch('sw');
    const la = net.attach(sw, a, 'eth0', { aToB: { loss: 1 } }); // a's sends die on the way in
    net.attach('sw', b, 'eth0');
    a.send(datagram(1, 64, A, B));
    b.send(datagram(2, 64, B, A));
    net.wake(a);
    while (net.step()) { /* deliver */ }
    assert.deepEqual(a.seqs, [2]);
    assert.deepEqual(b.seqs, []);
    assert.equal(la.stats.aToB.dropped.loss, 1);
    assert.equal(la.aToB.to.name, 'sw');
  });
});
