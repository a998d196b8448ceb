/**
 * The run loop: round order, step / runUntil / runFor / run termination, wake and the
 * runtime the API layer uses, and the network's bookkeeping errors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzip } from 'node:zlib';
import type { NetworkNode, Transmit } from '../../../src/core/node.js';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import type { Instant } from '../../../src/time/instant.js';
import { datagram, EchoNode, ScriptedNode, seqOf, StuckTimerNode } from './fakes.js';

/** Records every call the network makes on it, in order. */
class TraceNode implements NetworkNode {
  readonly calls: string[] = [];
  readonly inner: ScriptedNode;
  constructor(inner: ScriptedNode) {
    this.inner = inner;
  }
  handle(now: Instant, packet: Uint8Array, iface: string): void {
    this.calls.push(`${now} handle ${seqOf(packet)}`);
    this.inner.handle(now, packet, iface);
  }
  pollTransmit(now: Instant): Transmit | undefined {
    const t = this.inner.pollTransmit(now);
    this.calls.push(`${now} pollTransmit ${t === undefined ? '-' : seqOf(t.packet)}`);
    return t;
  }
  pollTimeout(): Instant | undefined {
    return this.inner.pollTimeout();
  }
  handleTimeout(now: Instant): void {
    this.calls.push(`${now} handleTimeout`);
    this.inner.handleTimeout(now);
  }
}

function echoPair(delay: number, sends: Instant[]) {
  const net = new VirtualNetwork();
  const client = net.addNode('client', new ScriptedNode(sends.map((at, i) => ({ at, packet: datagram(i, 100) }))));
  const echo = net.addNode('echo', new EchoNode());
  const link = net.link(client, 'eth0', echo, 'eth0', { delay });
  return { net, client, echo, link };
}

describe('rounds and steps', () => {
  test('an empty network has nothing to do', () => {
    const net = new VirtualNetwork();
    assert.equal(net.now, 0);
    assert.equal(net.nextInstant(), undefined);
    assert.equal(net.step(), false);
    assert.equal(net.runUntil(() => false), false);
    assert.equal(net.stats.rounds, 0);
  });

  test('echo round trips: each step goes to the next instant', () => {
    const { net, client, echo } = echoPair(500, [0, 1000, 2000]);
    const instants: number[] = [];
    while (net.step()) instants.push(net.now);
    assert.deepEqual(instants, [0, 500, 1000, 1500, 2000, 2500, 3000]);
    assert.deepEqual(client.received.map((r) => [r.at, r.seq]), [[1000, 0], [2000, 1], [3000, 2]]);
    assert.ok(client.received.every((r) => r.intact), 'the echo keeps checksums valid');
    assert.equal(echo.echoed, 3);
    assert.equal(net.stats.delivered, 6);
    assert.equal(net.stats.transmitted, 6);
  });

  test('a round: arrivals, then timers, then every node drained', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new TraceNode(new ScriptedNode([{ at: 100, packet: datagram(7, 64) }])));
    const b = net.addNode('b', new TraceNode(new ScriptedNode([{ at: 100, packet: datagram(9, 64) }])));
    net.link(a, 'eth0', b, 'eth0', { delay: 100 });
    net.runUntil(() => false);
    assert.deepEqual(b.calls, [
      '100 handleTimeout', '100 pollTransmit 9', '100 pollTransmit -',
      '200 handle 7', '200 pollTransmit -',
    ]);
    assert.deepEqual(a.calls, [
      '100 handleTimeout', '100 pollTransmit 7', '100 pollTransmit -',
      '200 handle 9', '200 pollTransmit -',
    ]);
  });

  test('a zero-delay packet arrives at the same instant, in the next step', () => {
    const { net, client, echo } = echoPair(0, [50]);
    assert.equal(net.step(), true); // timer: send
    assert.equal(net.now, 50);
    assert.equal(echo.echoed, 0);
    assert.equal(net.step(), true); // arrival at the echo, reply sent
    assert.equal(net.now, 50);
    assert.equal(echo.echoed, 1);
    assert.equal(net.step(), true); // reply arrives
    assert.equal(net.now, 50);
    assert.equal(client.received.length, 1);
    assert.equal(net.step(), false);
  });

  test('timers fire at their deadline with now equal to it', () => {
    const node = ScriptedNode.source(3, 64, { start: 1234, spacing: 1111 });
    const net = new VirtualNetwork();
    net.addNode('a', node);
    const seen: number[] = [];
    while (net.step()) seen.push(net.now);
    assert.deepEqual(seen, [1234, 2345, 3456]);
    assert.equal(node.timeouts, 3);
    assert.equal(net.stats.unattached, 3, 'eth0 has no link: counted and dropped');
  });
});

describe('runUntil and runFor', () => {
  test('stops as soon as the predicate holds', () => {
    const { net, client } = echoPair(500, [0, 1000, 2000]);
    assert.equal(net.runUntil(() => client.received.length >= 2), true);
    assert.equal(net.now, 2000);
    assert.equal(net.runUntil(() => client.received.length >= 2), true, 'already true: no step');
    assert.equal(net.now, 2000);
  });

  test('returns false when nothing is left to do', () => {
    const { net, client } = echoPair(500, [0]);
    assert.equal(net.runUntil(() => client.received.length >= 2), false);
    assert.equal(net.now, 1000);
  });

  test('a time limit stops before a later instant and moves the clock to the limit', () => {
    const { net, client } = echoPair(500, [0, 1000, 2000]);
    assert.equal(net.runUntil(() => false, { time: 1700 }), false);
    assert.equal(net.now, 1700);
    assert.equal(client.received.length, 1);
    assert.equal(net.runUntil(() => client.received.length === 3, { time: 10_000 }), true);
    assert.equal(net.now, 3000);
  });

  test('a step limit stops a livelock at one instant (zero-delay ping-pong)', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new EchoNode());
    const b = net.addNode('b', new EchoNode());
    net.link(a, 'eth0', b, 'eth0');
    a.handle(0, datagram(1, 64), 'eth0'); // a reply to b is now ready
    net.wake(a);
    assert.equal(net.runUntil(() => false, { steps: 100 }), false);
    assert.equal(net.now, 0);
    assert.equal(a.echoed + b.echoed, 100); // the first by hand, then one per step after the first
  });

  test('a step limit also stops a node whose timer never moves', () => {
    const net = new VirtualNetwork();
    const stuck = net.addNode('stuck', new StuckTimerNode());
    assert.equal(net.runUntil(() => false, { steps: 50 }), false);
    assert.equal(stuck.calls, 50);
  });

  test('runFor runs every instant up to now + duration and sets the clock there', () => {
    const { net, client } = echoPair(500, [0, 1000, 2000]);
    net.runFor(1500);
    assert.equal(net.now, 1500);
    assert.equal(client.received.length, 1);
    net.runFor(1500);
    assert.equal(net.now, 3000);
    assert.equal(client.received.length, 3);
    net.runFor(10_000);
    assert.equal(net.now, 13_000, 'an idle network still moves its clock');
  });
});

describe('wake and the runtime', () => {
  test('application sends are drained at the current instant after a wake', () => {
    const { net, client } = echoPair(300, []);
    net.runFor(5000);
    const runtime = net.runtime(client);
    assert.equal(runtime.now(), 5000);
    client.send(datagram(42, 64));
    runtime.wake();
    assert.equal(net.nextInstant(), 5000);
    assert.equal(net.step(), true);
    assert.equal(net.now, 5000);
    assert.equal(net.runUntil(() => client.received.length === 1), true);
    assert.equal(net.now, 5600);
    assert.equal(client.received[0]!.seq, 42);
    assert.equal(net.runtime('client'), runtime, 'one runtime per node');
  });

  test('without a wake, nothing pending means no round', () => {
    const { net, client } = echoPair(300, []);
    client.send(datagram(1, 64));
    assert.equal(net.step(), false);
    net.wake(client);
    assert.equal(net.step(), true);
  });
});

describe('application timers', () => {
  test('fire at their instant, before the nodes are drained; cancelled ones never fire', () => {
    const { net, client } = echoPair(300, []);
    const runtime = net.runtime(client);
    const fired: number[] = [];
    runtime.setTimer(2000, () => {
      fired.push(net.now);
      client.send(datagram(5, 64)); // no wake needed: the drain follows in this round
    });
    const cancel = runtime.setTimer(1500, () => fired.push(-1));
    runtime.setTimer(1000, () => fired.push(runtime.now()));
    cancel();
    assert.equal(net.nextInstant(), 1000);
    assert.equal(net.step(), true);
    assert.equal(net.nextInstant(), 2000, 'the cancelled timer is skipped');
    assert.equal(net.runUntil(() => client.received.length === 1), true);
    assert.deepEqual(fired, [1000, 2000]);
    assert.equal(net.now, 2600);
    assert.equal(net.stats.appTimers, 2);
    assert.equal(net.step(), false);
  });

  test('a timer that re-arms itself at the same instant runs once per round', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    let calls = 0;
    const again = (): void => { calls++; net.runtime(a).setTimer(net.now, again); };
    net.runtime(a).setTimer(0, again);
    assert.equal(net.runUntil(() => false, { steps: 10 }), false);
    assert.equal(calls, 10);
  });

  test('a timer in the past fires at the current instant; cancelling after it fired does nothing', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    net.runFor(5000);
    let at = -1;
    const cancel = net.runtime(a).setTimer(10, () => { at = net.now; });
    assert.equal(net.step(), true);
    assert.equal(at, 5000);
    cancel();
    assert.equal(net.step(), false);
  });
});

describe('run (async)', () => {
  /** An echo client whose "application" answers every arrival from a setImmediate callback. */
  function appPair(rounds: number) {
    const { net, client, echo } = echoPair(250, [0]);
    const runtime = net.runtime(client);
    let answered = 0;
    const original = client.handle.bind(client);
    client.handle = (now, packet, iface) => {
      original(now, packet, iface);
      if (answered < rounds) {
        answered++;
        setImmediate(() => {
          client.send(datagram(seqOf(packet) + 1, 64));
          runtime.wake();
        });
      }
    };
    return { net, client, echo };
  }

  test('lets application code run between instants, stops when the predicate holds', async () => {
    const { net, client } = appPair(100);
    assert.equal(await net.run({ until: () => client.received.length === 5 }), 'until');
    assert.deepEqual(client.seqs, [0, 1, 2, 3, 4]);
    assert.equal(net.now, 2500);
  });

  test('stops when idle, with the same log every time', async () => {
    const first = appPair(6);
    assert.equal(await first.net.run(), 'idle');
    assert.equal(first.client.received.length, 7);
    const second = appPair(6);
    assert.equal(await second.net.run(), 'idle');
    assert.deepEqual(second.client.log(), first.client.log());
  });

  test('time and step limits', async () => {
    const a = appPair(100);
    assert.equal(await a.net.run({ time: 1200 }), 'time');
    assert.equal(a.net.now, 1200);
    assert.equal(a.client.received.length, 2);
    const b = appPair(100);
    assert.equal(await b.net.run({ steps: 3 }), 'steps');
    assert.equal(b.net.stats.rounds, 3);
    const c = appPair(1);
    assert.equal(await c.net.run({ duration: 1_000_000 }), 'idle');
    assert.equal(c.net.now, 1_000_000, 'idle with a duration: the clock moves to its end');
  });

  test('idleWaitMs waits for work on the thread pool (zlib) before calling it idle', async () => {
    const { net, client } = echoPair(250, []);
    const runtime = net.runtime(client);
    gzip(new Uint8Array(1000), () => {
      client.send(datagram(77, 64));
      runtime.wake();
    });
    assert.equal(await net.run({ until: () => client.received.length === 1, idleWaitMs: 200 }), 'until');
    assert.equal(client.received[0]!.seq, 77);
  });
});

describe('bookkeeping', () => {
  test('names, nodes and interfaces are checked', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    net.addNode('b', new ScriptedNode());
    assert.throws(() => net.addNode('a', new ScriptedNode()), /already in the network/);
    assert.throws(() => net.addNode('c', a), /already in the network as "a"/);
    assert.throws(() => net.link('a', 'eth0', 'zz', 'eth0'), /"zz" is not in the network/);
    net.link('a', 'eth0', 'b', 'eth0');
    assert.throws(() => net.link('a', 'eth0', 'b', 'eth1'), /a:eth0 already has a link/);
    assert.throws(() => net.link('a', 'eth1', 'a', 'eth1'), /itself/);
    assert.throws(() => net.attach('a', 'b', 'eth9'), /not a switch/);
    assert.throws(() => net.wake(new EchoNode()), /not in the network/);
    assert.equal(net.node('a'), a);
    assert.equal(net.nameOf(a), 'a');
    assert.deepEqual(net.nodeNames, ['a', 'b']);
    assert.equal(net.links.length, 1);
    assert.equal(net.links[0]!.name, 'a:eth0 <-> b:eth0');
    assert.equal(net.links[0]!.aToB.name, 'a:eth0 -> b:eth0');
  });
});
