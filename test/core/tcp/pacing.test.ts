/**
 * Pacing: with an RTT measured, new data leaves at (ratio x cwnd / SRTT) in bursts of at most
 * a millisecond's worth, and the pacing timer wakes the sender for the rest; off, ACK
 * clocking sends the whole window at once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../src/time/instant.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { PACING_AVOIDANCE_RATIO, PACING_SLOW_START_RATIO, pacingRatio } from '../../../src/core/tcp/send.js';
import { drain, establishedConnection, fromPeer, l, pattern, send, write } from './harness.js';

const MSS = 1460;

/**
 * A sender with a 100 ms RTT measured and a cwnd of about 40 segments in slow start: the
 * initial window, acknowledged after 100 ms, then rounds of ACKs, one per segment.
 */
function sender(pacing: boolean): { conn: TcpConnection; now: number } {
  const conn = establishedConnection({ config: { sendBufferSize: 1024 * 1024, pacing, hystart: false } });
  conn.setNoDelay(true);
  write(conn, pattern(400 * MSS));
  drain(conn, 0);
  let now = 0;
  let acked = 0;
  for (let round = 0; round < 3; round++) {
    now += millis(100);
    const sent = conn.info().bytesSent;
    while (acked < sent) {
      acked = Math.min(sent, acked + MSS);
      send(conn, fromPeer({ ack: l(1 + acked) }), now);
    }
    drain(conn, now);
  }
  return { conn, now };
}

describe('pacing', () => {
  test('a window\'s worth at once is cut into bursts of about a millisecond, the rest on the pacing timer', () => {
    const { conn, now } = sender(true);
    const info = conn.info();
    const rate = (PACING_SLOW_START_RATIO * info.cwnd) / info.srtt!;
    // One more round of ACKs for everything: the window opens by cwnd at once.
    const sent = info.bytesSent;
    const t = now + millis(100);
    send(conn, fromPeer({ ack: l(1 + sent) }), t);
    const burst = drain(conn, t).length;
    const perMillisecond = Math.ceil((rate * 1000) / MSS);
    assert.ok(burst <= perMillisecond + 2, `${burst} segments at once, ${perMillisecond} a millisecond at the pacing rate`);
    assert.ok(burst >= 1);
    const pacingTimer = conn.timers().find(([kind]) => kind === 'pacing');
    assert.ok(pacingTimer !== undefined, 'the pacing timer is armed');
    assert.ok(Number.isInteger(pacingTimer[1]) && pacingTimer[1] > t);
    conn.handleTimeout(pacingTimer[1]);
    assert.ok(drain(conn, pacingTimer[1]).length > 0, 'more leaves when the timer fires');
  });

  test('off: the whole window leaves as the ACK arrives', () => {
    const { conn, now } = sender(false);
    const info = conn.info();
    const t = now + millis(100);
    send(conn, fromPeer({ ack: l(1 + info.bytesSent) }), t);
    const burst = drain(conn, t).length;
    assert.ok(burst >= Math.floor(info.cwnd / MSS) - 1, `${burst} segments for a cwnd of ${info.cwnd}`);
    assert.equal(conn.timers().find(([kind]) => kind === 'pacing'), undefined);
  });

  test('the slow-start ratio holds only below half of ssthresh (Linux\'s rule); nearer ssthresh and beyond, the avoidance ratio', () => {
    const initial = 0x7fffffff;
    assert.equal(pacingRatio(10 * MSS, initial), PACING_SLOW_START_RATIO, 'the first slow start');
    assert.equal(pacingRatio(49 * MSS, 100 * MSS), PACING_SLOW_START_RATIO);
    assert.equal(pacingRatio(50 * MSS, 100 * MSS), PACING_AVOIDANCE_RATIO, 'regrowing towards ssthresh after a loss');
    assert.equal(pacingRatio(99 * MSS, 100 * MSS), PACING_AVOIDANCE_RATIO);
    assert.equal(pacingRatio(150 * MSS, 100 * MSS), PACING_AVOIDANCE_RATIO, 'congestion avoidance');
  });
});
