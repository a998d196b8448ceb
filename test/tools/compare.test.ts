import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runCompare, compareRows } from '../../src/tools/compare.js';
import { millis, seconds } from '../../src/time/instant.js';

describe('runCompare', () => {
  test('2% loss: TCP whole but later, with retransmissions; UDP on time (p50 ≈ delay) with losses', () => {
    const r = runCompare({ seed: 1, loss: 0.02, delay: millis(20), tcpBytes: 2 * 1024 * 1024 });
    assert.equal(r.summary.tcp.intact, true);
    assert.equal(r.tcp.sha256Received, r.tcp.sha256Sent);
    assert.ok(r.tcp.retransmissions > 0);
    assert.ok(r.udp.lost > 0, 'UDP lost some readings');
    assert.ok(r.summary.udp.deliveredPercent < 100 && r.summary.udp.deliveredPercent > 90);
    assert.ok(Math.abs(r.summary.udp.latencyP50Ms! - 20) < 1, `p50 ${r.summary.udp.latencyP50Ms}`);
    // The stream lasted as long as the transfer, and at least 10 s, at 50 datagrams/s.
    assert.ok(r.udp.durationSeconds >= 10 && r.udp.durationSeconds >= r.tcp.completionSeconds - 1e-6);
    assert.equal(r.udp.sent, Math.round(r.udp.durationSeconds * 50));
    assert.equal(compareRows(r).length, 6);
  });

  test('a long transfer sets the stream\'s duration; same seed, same report', () => {
    const opts = { seed: 3, loss: 0.01, delay: millis(10), bandwidth: 1e6, tcpBytes: 2 * 1024 * 1024, minUdpDuration: seconds(1) };
    const r = runCompare(opts);
    assert.ok(r.tcp.completionSeconds > 10, `${r.tcp.completionSeconds}`);
    assert.ok(Math.abs(r.udp.durationSeconds - r.tcp.completionSeconds) < 1e-5);
    assert.deepEqual(runCompare(opts), r);
  });
});
