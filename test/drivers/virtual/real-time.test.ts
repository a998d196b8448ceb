/**
 * The real-time driver, with very short real durations (a 5 ms link): ordering and lower
 * bounds only (real time can be late, never early), wakes from application code, and a
 * `close()` that leaves no timer or immediate on the event loop.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import { RealTimeDriver } from '../../../src/drivers/virtual/real-time.js';
import { datagram, EchoNode, ScriptedNode } from './fakes.js';

/** Timers and immediates alive on the event loop right now. */
function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

/** Resolves once `node` has received `count` packets (checked on every arrival). */
function received(node: ScriptedNode, count: number): Promise<void> {
  return new Promise((resolve) => {
    const handle = node.handle.bind(node);
    node.handle = (now, packet, iface) => {
      handle(now, packet, iface);
      if (node.received.length >= count) resolve();
    };
  });
}

describe('RealTimeDriver', () => {
  test('echoes over a 5 ms link arrive in order, no earlier than two hops; close leaves nothing behind', { timeout: 5000 }, async () => {
    const before = pendingTimers();
    const started = performance.now();
    const net = new VirtualNetwork({ seed: 3 });
    const client = net.addNode('client', ScriptedNode.source(3, 100, { spacing: 2000 }));
    net.addNode('echo', new EchoNode());
    const link = net.link('client', 'eth0', 'echo', 'eth0', { delay: 5000, bandwidth: 100e6 });
    const driver = new RealTimeDriver(net).start();
    assert.equal(driver.running, true);
    assert.throws(() => net.step(), /real-time clock/);

    await received(client, 3);
    assert.deepEqual(client.seqs, [0, 1, 2]);
    client.received.forEach((r, i) => assert.ok(r.at >= i * 2000 + 10_000, `echo ${i} back at ${r.at} µs`));
    assert.equal(link.aToB.stats.delivered.packets, 3);

    // Application code: send now, wake; the driver drains at once.
    const runtime = net.runtime(client);
    const sentAt = runtime.now();
    assert.ok(sentAt >= net.now);
    client.send(datagram(9, 100));
    runtime.wake();
    await received(client, 4);
    assert.equal(client.received[3]!.seq, 9);
    assert.ok(client.received[3]!.at >= sentAt + 10_000);

    await driver.close();
    assert.equal(driver.running, false);
    assert.equal(pendingTimers(), before, 'no timer or immediate left');
    assert.ok(performance.now() - started < 1000, 'well under a second');

    // The network is virtual again, from where real time left it.
    const at = net.now;
    client.send(datagram(10, 100));
    net.wake(client);
    assert.equal(net.runUntil(() => client.received.length === 5), true);
    assert.equal(net.now, at + 10_000 + 16); // two hops: 5 ms each + 8 µs of serialization each
  });

  test('close clears a timer armed far in the future', { timeout: 5000 }, async () => {
    const before = pendingTimers();
    const net = new VirtualNetwork();
    net.addNode('late', new ScriptedNode([{ at: 60_000_000, packet: datagram(1, 64) }]));
    const driver = new RealTimeDriver(net).start();
    await new Promise((resolve) => setImmediate(resolve)); // let the first round arm the timer
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pendingTimers(), before + 1, 'one timer for the node deadline');
    await driver.close();
    assert.equal(pendingTimers(), before);
  });

  test('an idle network arms nothing; a wake brings it back', { timeout: 5000 }, async () => {
    const before = pendingTimers();
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    const b = net.addNode('b', new ScriptedNode());
    net.link(a, 'eth0', b, 'eth0', { delay: 1000 });
    const driver = new RealTimeDriver(net).start();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pendingTimers(), before, 'idle: nothing on the event loop');
    a.send(datagram(5, 64));
    net.runtime(a).wake();
    await received(b, 1);
    assert.equal(b.seqs[0], 5);
    await driver.close();
    assert.equal(pendingTimers(), before);
  });

  test('application timers run on the real clock', { timeout: 5000 }, async () => {
    const before = pendingTimers();
    const net = new VirtualNetwork();
    const a = net.addNode('a', new ScriptedNode());
    const driver = new RealTimeDriver(net).start();
    const runtime = net.runtime(a);
    const start = runtime.now();
    const firedAt = await new Promise<number>((resolve) => {
      runtime.setTimer(start + 3000, () => resolve(runtime.now()));
      runtime.setTimer(start + 60_000_000, () => assert.fail('an hour-long timer must not fire'));
    });
    assert.ok(firedAt >= start + 3000);
    await driver.close();
    assert.equal(pendingTimers(), before, 'the far timer is not armed after close');
  });

  test('a clock can be injected; the driver continues from the network instant', { timeout: 5000 }, async () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', ScriptedNode.source(1, 64, { start: 1000 }));
    const b = net.addNode('b', new ScriptedNode());
    net.link(a, 'eth0', b, 'eth0');
    net.runFor(500);
    let ms = 0;
    const driver = new RealTimeDriver(net, { clock: () => ms }).start();
    assert.equal(driver.now(), 500);
    ms = 2; // 2 ms later: 2500 µs
    assert.equal(driver.now(), 2500);
    await received(b, 1);
    assert.equal(b.received[0]!.at, 2500, 'the round runs at the clock instant, late as real time is');
    await driver.close();
    const first = new RealTimeDriver(net).start();
    assert.throws(() => new RealTimeDriver(net).start(), /already has a clock/);
    await first.close();
  });
});
