/**
 * One link between two fake nodes: serialization and queueing, delay and jitter, every
 * fault at its configured rate, MTU drops, counters, and determinism per seed. Rates are
 * checked against a band of four standard deviations, with fixed seeds: the outcome is
 * exact and never flaky, and the band says the model is right, not just this seed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { corruptCopy, resolveImpairments } from '../../../src/drivers/virtual/impairments.js';
import type { LinkSpec } from '../../../src/drivers/virtual/link.js';
import { VirtualNetwork } from '../../../src/drivers/virtual/network.js';
import { checksumAdd, checksumFold } from '../../../src/wire/checksum.js';
import { Rng } from '../../../src/time/rng.js';
import { datagram, ScriptedNode } from './fakes.js';

/** `count` datagrams of `size` bytes from a to b over one link; runs to the end. */
function transfer(options: LinkSpec, count: number, size: number, spacing = 0, seed = 1) {
  const net = new VirtualNetwork({ seed });
  const src = net.addNode('a', ScriptedNode.source(count, size, { spacing }));
  const dst = net.addNode('b', new ScriptedNode());
  const link = net.link('a', 'eth0', 'b', 'eth0', options);
  while (net.step()) { /* run to the end */ }
  return { net, src, dst, link, stats: link.aToB.stats };
}

/** Asserts that `actual` successes of `n` trials of probability `p` lie within 4 standard deviations. */
function nearRate(actual: number, n: number, p: number, what: string): void {
  const mean = n * p;
  const sigma = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(actual - mean) <= 4 * sigma, `${what}: ${actual} of ${n}, expected ${mean.toFixed(0)} ± ${(4 * sigma).toFixed(0)}`);
}

describe('bandwidth: serialization and queueing', () => {
  test('N packets at 1 Mbit/s arrive spaced by size*8/bandwidth (plus the delay)', () => {
    const { dst, stats } = transfer({ bandwidth: 1e6, delay: 500 }, 10, 1000);
    assert.deepEqual(dst.received.map((r) => r.at), Array.from({ length: 10 }, (_, i) => 8000 * (i + 1) + 500));
    assert.deepEqual(dst.seqs, [...Array(10).keys()]);
    assert.equal(stats.peakQueue.packets, 9); // the first is on the wire at once, nine wait
    assert.equal(stats.dropped.queueFull, 0);
  });

  test('fractional serialization times keep the exact long-run rate', () => {
    // 64 bytes at 1 Gbit/s take 0.512 µs: arrivals are rounded up, never drift.
    const { dst } = transfer({ bandwidth: 1e9 }, 1000, 64);
    dst.received.forEach((r, i) => assert.equal(r.at, Math.ceil(0.512 * (i + 1) - 1e-9)));
    assert.equal(dst.received.at(-1)!.at, 512);
  });

  test('packets spaced wider than their serialization never queue', () => {
    const { dst, stats } = transfer({ bandwidth: 1e6 }, 20, 1000, 10_000);
    dst.received.forEach((r, i) => assert.equal(r.at, i * 10_000 + 8000));
    assert.equal(stats.peakQueue.packets, 0);
  });

  test('queueLimit in packets: the excess is tail-dropped and counted', () => {
    const { dst, stats } = transfer({ bandwidth: 1e6, queueLimit: 3 }, 10, 1000);
    assert.deepEqual(dst.seqs, [0, 1, 2, 3]); // one on the wire, three waiting
    assert.equal(stats.dropped.queueFull, 6);
    assert.equal(stats.peakQueue.packets, 3);
    assert.equal(stats.offered.packets, 10);
    assert.equal(stats.delivered.packets, 4);
  });

  test('queueLimit in bytes', () => {
    const { dst, stats } = transfer({ bandwidth: 1e6, queueLimit: { bytes: 2500 } }, 10, 1000);
    assert.deepEqual(dst.seqs, [0, 1, 2]);
    assert.equal(stats.dropped.queueFull, 7);
    assert.equal(stats.peakQueue.bytes, 2000);
  });

  test('the queue frees up as packets start: a later burst is accepted again', () => {
    const schedule = [0, 1, 2, 3, 4].map((i) => ({ at: 0, packet: datagram(i, 1000) }))
      .concat([5, 6, 7].map((i) => ({ at: 100_000, packet: datagram(i, 1000) })));
    const net = new VirtualNetwork();
    net.addNode('a', new ScriptedNode(schedule));
    const dst = net.addNode('b', new ScriptedNode());
    const link = net.link('a', 'eth0', 'b', 'eth0', { bandwidth: 1e6, queueLimit: 2 });
    while (net.step()) { /* run */ }
    assert.deepEqual(dst.seqs, [0, 1, 2, 5, 6, 7]);
    assert.equal(link.aToB.stats.dropped.queueFull, 2);
  });

  test('the default queue holds 1000 packets', () => {
    const { stats } = transfer({ bandwidth: 1e9 }, 1500, 100);
    assert.equal(stats.delivered.packets, 1001);
    assert.equal(stats.dropped.queueFull, 499);
  });

  test('without bandwidth there is no queue: a burst arrives at once', () => {
    const { dst, stats } = transfer({ queueLimit: 1, delay: 10 }, 50, 100);
    assert.equal(dst.received.length, 50);
    assert.ok(dst.received.every((r) => r.at === 10));
    assert.equal(stats.dropped.queueFull, 0);
  });

  test('queuedPackets reports the waiting queue at an instant', () => {
    const net = new VirtualNetwork();
    net.addNode('a', ScriptedNode.source(5, 1000));
    net.addNode('b', new ScriptedNode());
    const link = net.link('a', 'eth0', 'b', 'eth0', { bandwidth: 1e6 });
    net.step();
    assert.equal(link.aToB.queuedPackets(0), 4);
    assert.equal(link.aToB.queuedPackets(8000), 3);
    assert.equal(link.aToB.queuedPackets(40_000), 0);
    assert.equal(link.aToB.busyUntil, 40_000);
  });
});

describe('delay and jitter', () => {
  test('every packet takes exactly the delay without jitter', () => {
    const { dst } = transfer({ delay: 12_345 }, 5, 100, 1000);
    assert.deepEqual(dst.received.map((r) => r.at), [12_345, 13_345, 14_345, 15_345, 16_345]);
  });

  test('jitter stays within delay ± jitter, spans it, and averages the delay', () => {
    const count = 4000;
    const { dst } = transfer({ delay: 5000, jitter: 2000 }, count, 100, 10_000, 3);
    const flights = dst.received.map((r) => r.at - r.seq * 10_000);
    assert.equal(flights.length, count);
    assert.ok(flights.every((f) => f >= 3000 && f <= 7000), 'within [delay - jitter, delay + jitter]');
    assert.ok(Math.min(...flights) < 3050 && Math.max(...flights) > 6950, 'the whole range is used');
    const mean = flights.reduce((s, f) => s + f, 0) / count;
    assert.ok(Math.abs(mean - 5000) < 60, `mean flight ${mean}`);
  });

  test('jitter never reorders: dense packets keep FIFO order, none arrives early', () => {
    const { dst, stats } = transfer({ delay: 5000, jitter: 2000 }, 3000, 100, 100, 4);
    assert.deepEqual(dst.seqs, [...Array(3000).keys()]);
    for (const r of dst.received) assert.ok(r.at >= r.seq * 100 + 3000);
    assert.equal(stats.reordered, 0);
  });

  test('jitter larger than the delay is clamped at zero flight time', () => {
    const { dst } = transfer({ delay: 1000, jitter: 3000 }, 2000, 100, 10_000, 5);
    const flights = dst.received.map((r) => r.at - r.seq * 10_000);
    assert.ok(flights.every((f) => f >= 0 && f <= 4000));
    assert.ok(flights.filter((f) => f === 0).length > 500, 'about a third land on the clamp');
  });
});

describe('faults at their configured rates', () => {
  const N = 20_000;

  test('loss', () => {
    const { dst, stats } = transfer({ loss: 0.1 }, N, 64, 10);
    nearRate(stats.dropped.loss, N, 0.1, 'lost');
    assert.equal(dst.received.length, N - stats.dropped.loss);
    assert.equal(stats.delivered.packets + stats.dropped.loss, stats.offered.packets);
    const seqs = dst.seqs;
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'survivors arrive in order');
  });

  test('loss after serialization: a lost packet still used the bandwidth', () => {
    const { dst, stats } = transfer({ bandwidth: 1e6, loss: 0.5 }, 200, 1000, 0, 9);
    for (const r of dst.received) assert.equal(r.at, 8000 * (r.seq + 1));
    nearRate(stats.dropped.loss, 200, 0.5, 'lost');
  });

  test('duplicate: an extra copy right after the original', () => {
    const { dst, stats } = transfer({ duplicate: 0.05, delay: 100 }, N, 64, 10);
    nearRate(stats.duplicated, N, 0.05, 'duplicated');
    assert.equal(dst.received.length, N + stats.duplicated);
    assert.equal(stats.delivered.packets, N + stats.duplicated);
    let pairs = 0;
    for (let i = 1; i < dst.received.length; i++) {
      const [prev, cur] = [dst.received[i - 1]!, dst.received[i]!];
      if (prev.seq === cur.seq) {
        pairs++;
        assert.equal(prev.at, cur.at);
        assert.notEqual(prev.packet, cur.packet, 'the duplicate is a separate buffer');
        assert.deepEqual(prev.packet, cur.packet);
      }
    }
    assert.equal(pairs, stats.duplicated);
  });

  test('reorder: held back by reorderDelay, later packets overtake', () => {
    const { dst, stats } = transfer({ reorder: 0.1, delay: 1000 }, N, 64, 100, 11);
    nearRate(stats.reordered, N, 0.1, 'reordered');
    assert.equal(dst.received.length, N);
    const late = dst.received.filter((r) => r.at === r.seq * 100 + 2000); // delay + default reorderDelay (= delay)
    assert.equal(late.length, stats.reordered);
    const onTime = dst.received.filter((r) => r.at === r.seq * 100 + 1000);
    assert.equal(onTime.length, N - stats.reordered);
    const seqs = dst.seqs;
    let inversions = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) inversions++;
    assert.ok(inversions > 0.9 * stats.reordered, `${inversions} inversions`);
  });

  test('reorderDelay is configurable', () => {
    const { dst, stats } = transfer({ reorder: 0.2, delay: 50, reorderDelay: 7000 }, 1000, 64, 1000, 12);
    assert.equal(dst.received.filter((r) => r.at === r.seq * 1000 + 7050).length, stats.reordered);
  });

  test('corrupt: 1-3 flipped bits, always caught by a checksum; the sender keeps its bytes', () => {
    const { dst, stats } = transfer({ corrupt: 0.1 }, N, 200, 10, 13);
    nearRate(stats.corrupted, N, 0.1, 'corrupted');
    assert.equal(dst.received.length, N);
    assert.equal(dst.received.filter((r) => !r.intact).length, stats.corrupted);
    // No loss or reordering here, so the i-th arrival came from datagram i.
    dst.received.forEach((r, i) => {
      const original = datagram(i, 200);
      let flipped = 0;
      for (let j = 0; j < original.length; j++) flipped += popcount(original[j]! ^ r.packet[j]!);
      if (r.intact) assert.equal(flipped, 0);
      else assert.ok(flipped >= 1 && flipped <= 3, `${flipped} bits flipped`);
    });
  });

  test('corruption copies: the packet the sender handed over is not written to', () => {
    const packets = Array.from({ length: 200 }, (_, i) => datagram(i, 100));
    const net = new VirtualNetwork({ seed: 2 });
    net.addNode('a', new ScriptedNode(packets.map((packet, i) => ({ at: i, packet }))));
    const dst = net.addNode('b', new ScriptedNode());
    net.link('a', 'eth0', 'b', 'eth0', { corrupt: 1 });
    while (net.step()) { /* run */ }
    assert.ok(dst.received.every((r) => !r.intact));
    packets.forEach((p, i) => assert.deepEqual(p, datagram(i, 100)));
  });

  test('corrupt and duplicate together: each copy draws its own corruption', () => {
    const { dst, stats } = transfer({ corrupt: 0.5, duplicate: 0.5 }, 2000, 100, 10, 14);
    assert.equal(dst.received.length, 2000 + stats.duplicated);
    assert.equal(dst.received.filter((r) => !r.intact).length, stats.corrupted);
    nearRate(stats.corrupted, 2000 + stats.duplicated, 0.5, 'corrupted copies');
  });

  test('mtu: larger packets are dropped and counted', () => {
    const schedule = Array.from({ length: 40 }, (_, i) => ({ at: i, packet: datagram(i, i % 2 === 0 ? 1500 : 1501) }));
    const net = new VirtualNetwork();
    net.addNode('a', new ScriptedNode(schedule));
    const dst = net.addNode('b', new ScriptedNode());
    const link = net.link('a', 'eth0', 'b', 'eth0', { mtu: 1500 });
    while (net.step()) { /* run */ }
    assert.deepEqual(dst.seqs, [...Array(20).keys()].map((i) => 2 * i));
    assert.equal(link.aToB.stats.dropped.mtu, 20);
    assert.equal(link.aToB.stats.offered.bytes, 20 * 1500 + 20 * 1501);
    assert.equal(link.aToB.stats.delivered.bytes, 20 * 1500);
  });
});

/** Bits set in a byte. */
function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

describe('determinism', () => {
  const everything: LinkSpec = {
    bandwidth: 2e6, queueLimit: 20, delay: 3000, jitter: 1500, loss: 0.05, duplicate: 0.05,
    reorder: 0.05, corrupt: 0.05,
  };

  function runLog(seed: number): string[] {
    return transfer(everything, 2000, 300, 700, seed).dst.log();
  }

  test('the same seed gives the identical arrival log; another seed a different one', () => {
    const first = runLog(7);
    assert.deepEqual(runLog(7), first);
    assert.notDeepEqual(runLog(8), first);
  });

  test("a link's faults do not depend on other links or their traffic", () => {
    const alone = runLog(21);
    const net = new VirtualNetwork({ seed: 21 });
    net.addNode('c', ScriptedNode.source(500, 100, { spacing: 300 }));
    net.addNode('d', new ScriptedNode());
    net.link('c', 'eth0', 'd', 'eth0', { loss: 0.3, jitter: 500, delay: 1000 });
    net.addNode('a', ScriptedNode.source(2000, 300, { spacing: 700 }));
    const dst = net.addNode('b', new ScriptedNode());
    net.link('a', 'eth0', 'b', 'eth0', everything);
    while (net.step()) { /* run */ }
    assert.deepEqual(dst.log(), alone);
  });

  test('the two directions of a link draw independently', () => {
    const net = new VirtualNetwork({ seed: 5 });
    const a = net.addNode('a', ScriptedNode.source(1000, 64, { spacing: 10 }));
    const b = net.addNode('b', ScriptedNode.source(1000, 64, { spacing: 10 }));
    const link = net.link('a', 'eth0', 'b', 'eth0', { loss: 0.5 });
    while (net.step()) { /* run */ }
    assert.notDeepEqual(a.seqs, b.seqs);
    assert.equal(a.received.length, 1000 - link.bToA.stats.dropped.loss);
    assert.equal(b.received.length, 1000 - link.aToB.stats.dropped.loss);
  });
});

describe('link options', () => {
  test('per-direction options override the shared ones', () => {
    const net = new VirtualNetwork();
    const a = net.addNode('a', ScriptedNode.source(10, 64));
    const b = net.addNode('b', ScriptedNode.source(10, 64));
    const link = net.link('a', 'eth0', 'b', 'eth0', { delay: 100, aToB: { loss: 1 }, bToA: { delay: 700 } });
    while (net.step()) { /* run */ }
    assert.equal(b.received.length, 0);
    assert.equal(link.stats.aToB.dropped.loss, 10);
    assert.equal(a.received.length, 10);
    assert.ok(a.received.every((r) => r.at === 700));
    assert.equal(link.from('a'), link.aToB);
    assert.equal(link.from(b), link.bToA);
    assert.throws(() => link.from('zz'), /not an end/);
  });

  test('configure changes the impairments of later packets', () => {
    const net = new VirtualNetwork();
    net.addNode('a', ScriptedNode.source(10, 64, { spacing: 1000 }));
    const b = net.addNode('b', new ScriptedNode());
    const link = net.link('a', 'eth0', 'b', 'eth0');
    net.runFor(4500); // sends 0..4
    link.configure({ loss: 1 });
    while (net.step()) { /* run */ }
    assert.deepEqual(b.seqs, [0, 1, 2, 3, 4]);
    assert.equal(link.aToB.stats.dropped.loss, 5);
  });

  test('bad options are refused with a RangeError naming them', () => {
    assert.throws(() => resolveImpairments({ loss: 1.5 }), /loss/);
    assert.throws(() => resolveImpairments({ corrupt: -0.1 }), /corrupt/);
    assert.throws(() => resolveImpairments({ delay: -1 }), /delay/);
    assert.throws(() => resolveImpairments({ jitter: Infinity }), /jitter/);
    assert.throws(() => resolveImpairments({ bandwidth: 0 }), /bandwidth/);
    assert.throws(() => resolveImpairments({ mtu: 0 }), /mtu/);
    assert.throws(() => resolveImpairments({ queueLimit: -1 }), /queueLimit/);
    assert.throws(() => resolveImpairments({ loss: Number.NaN }), /loss/);
    const net = new VirtualNetwork();
    net.addNode('a', new ScriptedNode());
    net.addNode('b', new ScriptedNode());
    assert.throws(() => net.link('a', 'eth0', 'b', 'eth0', { aToB: { duplicate: 2 } }), /duplicate/);
  });

  test('defaults: a perfect wire', () => {
    const imp = resolveImpairments();
    assert.equal(imp.bandwidth, Infinity);
    assert.equal(imp.microsPerByte, 0);
    assert.equal(imp.queuePackets, 1000);
    assert.equal(imp.mtu, Infinity);
    assert.equal(imp.reorderDelay, 1000);
    assert.equal(resolveImpairments({ delay: 5000 }).reorderDelay, 5000);
  });
});

describe('corruptCopy', () => {
  /** The ones' complement sum of all 16-bit words, folded, with 0xffff and 0 the same (mod 65535). */
  function sumMod(bytes: Uint8Array): number {
    return checksumFold(checksumAdd(0, bytes)) % 0xffff;
  }

  test('property: 1-3 bits at distinct positions mod 16, and the Internet checksum always changes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer(), (bytes, seed) => {
      const copy = corruptCopy(new Rng(seed), bytes);
      assert.notEqual(copy, bytes);
      assert.equal(copy.length, bytes.length);
      const classes = new Set<number>();
      for (let i = 0; i < bytes.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          if (((bytes[i]! ^ copy[i]!) & (0x80 >>> bit)) !== 0) classes.add(((i * 8) + bit) % 16);
        }
      }
      let flipped = 0;
      for (let i = 0; i < bytes.length; i++) flipped += popcount(bytes[i]! ^ copy[i]!);
      assert.ok(flipped >= 1 && flipped <= 3, `${flipped} bits flipped`);
      assert.equal(classes.size, flipped);
      assert.notEqual(sumMod(copy), sumMod(bytes));
    }), { numRuns: 2000 });
  });

  test('an empty packet is copied unchanged', () => {
    assert.deepEqual(corruptCopy(new Rng(1), new Uint8Array(0)), new Uint8Array(0));
  });
});
