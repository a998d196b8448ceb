/**
 * The simulator with either congestion controller: the README's lossy transfer arrives intact
 * with CUBIC (the default) and with NewReno, and on a clean long path CUBIC fills what the
 * 64 KiB window allows when window scaling is off (one window per round trip).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runTcpSim } from '../../src/tools/sim.js';
import { runCompare } from '../../src/tools/compare.js';
import { millis } from '../../src/time/instant.js';

describe('runTcpSim with a congestion controller', () => {
  for (const congestionControl of ['cubic', 'newreno'] as const) {
    test(`${congestionControl}: 8 MiB over 10 Mbit/s, 20 ms, 1% loss arrives intact`, () => {
      const r = runTcpSim({ bytes: 8 * 1024 * 1024, seed: 7, bandwidth: 10e6, delay: millis(20), loss: 0.01, congestionControl });
      assert.equal(r.congestionControl, congestionControl);
      assert.ok(r.completed, r.outcome);
      assert.equal(r.bytesReceived, 8 * 1024 * 1024);
      assert.equal(r.sha256Received, r.sha256Sent);
      assert.ok(r.retransmissions > 0);
    });
  }

  test('the default is CUBIC', () => {
    const r = runTcpSim({ bytes: 100_000, seed: 1 });
    assert.equal(r.congestionControl, 'cubic');
    assert.equal(runTcpSim({ bytes: 100_000, seed: 1, tcp: { congestionControl: 'newreno' } }).congestionControl, 'newreno');
  });

  test('cubic on a clean 100 Mbit/s, 50 ms path, window scaling off: goodput at the 64 KiB window\'s bound (65535 bytes per RTT)', () => {
    // The 16-bit window of RFC 9293 alone: no window scaling, and no timestamps either (whose
    // 12 bytes per segment would take from the payload and coarsen the RTT to milliseconds).
    const tcp = { windowScaling: false, timestamps: false };
    const r = runTcpSim({ bytes: 8 * 1024 * 1024, seed: 1, bandwidth: 100e6, delay: millis(50), congestionControl: 'cubic', tcp });
    assert.ok(r.completed);
    assert.equal(r.retransmissions, 0);
    const rtt = r.sender.srttMs! / 1000;
    assert.ok(rtt >= 0.1 && rtt < 0.101, `srtt ${rtt}`);
    const windowBound = (65535 * 8) / rtt;
    // The link (100 Mbit/s) is 19 times faster than the window allows; slow start costs a
    // few round trips of the 13 s transfer.
    assert.ok(r.goodputBitsPerSecond > 0.93 * windowBound, `goodput ${r.goodputBitsPerSecond}, window bound ${windowBound}`);
    assert.ok(r.goodputBitsPerSecond <= windowBound, 'never above one window per round trip');
  });

  test('runCompare passes the controller to its TCP transfer', () => {
    const r = runCompare({ seed: 1, delay: millis(5), tcpBytes: 200_000, minUdpDuration: millis(100), congestionControl: 'newreno' });
    assert.equal(r.tcp.congestionControl, 'newreno');
    assert.equal(runCompare({ seed: 1, delay: millis(5), tcpBytes: 200_000, minUdpDuration: millis(100) }).tcp.congestionControl, 'cubic');
  });
});
