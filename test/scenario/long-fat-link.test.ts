/**
 * A long fat link (RFC 7323 1.1: "the bandwidth*delay product ... may be much larger than the
 * 64 KiB a 16-bit window can say"): 1 Gbit/s with a 100 ms round trip, a bulk transfer for 30
 * virtual seconds between two l4 hosts with their default configuration. Without window
 * scaling one 64 KiB window per round trip is 5 Mbit/s, half a percent of the link; with it
 * the 16 MiB buffers cover the 12.5 MB bandwidth-delay product and the goodput is a large
 * fraction of the link (printed; the target is 0.9).
 *
 * The link does not lose packets, and its queue is one bandwidth-delay product deep (the
 * classic rule for a router's buffer): the window l4 offers (15 MiB) never overflows it, so
 * the transfer is lossless end to end. With the virtual link's default queue (1,000 packets,
 * 12 ms at this rate, as in `l4 bench`) slow start overshoots the queue; without SACK the
 * recovery from that burst of losses, and CUBIC's slow climb back on a 100 ms path, are what
 * limit the goodput there — not the window.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { bulkTransfer } from '../../src/tools/bench/l4.js';
import { millis, seconds, toSeconds } from '../../src/time/instant.js';

const RATE = 1e9;
const ONE_WAY = millis(50);
const DURATION = seconds(30);
const MTU = 1500;
/** One bandwidth-delay product of 1500-byte packets: 1 Gbit/s x 100 ms / 12,000 bits. */
const BDP_PACKETS = Math.ceil((RATE * 0.1) / (MTU * 8));

describe('scenario: a long fat link (1 Gbit/s, 100 ms RTT, no loss)', () => {
  test('30 virtual seconds of bulk transfer: goodput at least half the link (window scaling and timestamps on)', (t) => {
    const run = bulkTransfer({
      mtu: MTU, bytes: Number.MAX_SAFE_INTEGER, bandwidth: RATE, delayUs: ONE_WAY, queueLimit: BDP_PACKETS, timeLimitUs: DURATION,
    });
    const { sender, link, errors, received } = run;
    const elapsed = run.virtualSeconds;
    const goodput = (received * 8) / elapsed;
    const info = sender.info();
    t.diagnostic(`goodput ${(goodput / 1e6).toFixed(1)} Mbit/s over ${elapsed.toFixed(1)} virtual s: ${(goodput / RATE).toFixed(3)} of the link`);
    t.diagnostic(`sender: mss ${info.mss}, window scaling ${JSON.stringify(info.windowScaling)}, timestamps ${info.timestamps}, srtt ${info.srtt} µs, peer window ${info.sendWindow} B, retransmissions ${info.retransmissions}`);
    assert.equal(errors, 0);
    assert.equal(sender.state, 'ESTABLISHED');
    assert.deepEqual(info.windowScaling, { send: 9, receive: 9 });
    assert.equal(info.timestamps, true);
    assert.equal(info.mss, MTU - 40 - 12);
    assert.ok(info.sendWindow > 12_500_000, `the peer offers more than the bandwidth-delay product (${info.sendWindow} B)`);
    const stats = link.aToB.stats;
    assert.equal(stats.dropped.queueFull + stats.dropped.loss, 0, 'lossless: nothing dropped on the way');
    assert.equal(info.retransmissions, 0);
    assert.ok(elapsed >= toSeconds(DURATION) - 0.01, `ran ${elapsed} virtual s`);
    assert.ok(goodput >= 0.5 * RATE, `goodput ${(goodput / RATE).toFixed(3)} of the link`);
  });
});
