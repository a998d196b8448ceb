/**
 * The connection's timers: delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2), retransmission with
 * backoff and Karn's rule (RFC 6298), zero-window probing (RFC 9293 3.8.6.1), keepalive
 * (RFC 1122 4.2.3.6), the user timeout (RFC 9293 3.8.3). TIME-WAIT expiry is in close.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis, seconds } from '../../../src/time/instant.js';
import {
  ACK, FIN, PSH, WINDOW, drain, establishedConnection, expectEvents, expectNothing, expectSent, fromPeer, l, pattern, r,
  send, toPeer, write,
} from './harness.js';

const DELAYED = { config: { delayedAck: millis(40) } };

describe('delayed ACK', () => {
  test('one segment: the ACK waits config.delayedAck', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ payload: 'abc' }));
    expectNothing(conn);
    assert.equal(conn.pollTimeout(), millis(40));
    conn.handleTimeout(millis(39));
    expectNothing(conn, millis(39));
    conn.handleTimeout(millis(40));
    expectSent(conn, millis(40), [toPeer({ ack: r(4), window: WINDOW - 3 })]);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('the delay counts from the first unacknowledged segment', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ payload: 'a' }), 0);
    send(conn, fromPeer({ seq: r(2), payload: 'b' }), millis(30));
    expectNothing(conn, millis(30));
    conn.handleTimeout(millis(40));
    expectSent(conn, millis(40), [toPeer({ ack: r(3), window: WINDOW - 2 })]);
  });

  test('every second full-sized segment is ACKed at once', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ payload: pattern(1460) }));
    expectNothing(conn);
    send(conn, fromPeer({ seq: r(1461), payload: pattern(1460) }));
    expectSent(conn, 0, [toPeer({ ack: r(2921), window: WINDOW - 2920 })]);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('four full-sized segments before a poll: two ACKs, one per pair', () => {
    const conn = establishedConnection({ config: { delayedAck: millis(40), receiveBufferSize: 16384 } });
    for (let i = 0; i < 4; i++) send(conn, fromPeer({ seq: r(1 + i * 1460), payload: pattern(1460) }));
    expectSent(conn, 0, [
      toPeer({ ack: r(2921), window: 16384 - 2920 }),
      toPeer({ ack: r(5841), window: 16384 - 5840 }),
    ]);
  });

  test('an out-of-order segment is ACKed at once (a duplicate ACK)', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ seq: r(10), payload: 'x' }));
    expectSent(conn, 0, [toPeer()]);
  });

  test('a segment that fills a gap is ACKed at once', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ seq: r(4), payload: 'def' }));
    drain(conn);
    send(conn, fromPeer({ payload: 'abc' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
  });

  test('a FIN is ACKed at once', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ flags: FIN | ACK, payload: 'end' }));
    expectSent(conn, 0, [toPeer({ ack: r(5), window: WINDOW - 4 })]);
  });

  test('data we send carries the ACK and cancels the timer', () => {
    const conn = establishedConnection(DELAYED);
    send(conn, fromPeer({ payload: 'ping' }));
    write(conn, 'pong');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, ack: r(5), window: WINDOW - 4, payload: 'pong' })]);
    assert.deepEqual(conn.timers().map(([k]) => k), ['retransmit']);
  });
});

describe('retransmission timeout (RFC 6298)', () => {
  test('RTO: the first unacknowledged segment again, the timer doubled each time', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'abc' })]);
    assert.equal(conn.pollTimeout(), millis(200));
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: PSH | ACK, payload: 'abc' })]);
    assert.equal(conn.info().rto, millis(400));
    assert.equal(conn.pollTimeout(), millis(600));
    conn.handleTimeout(millis(600));
    expectSent(conn, millis(600), [toPeer({ flags: PSH | ACK, payload: 'abc' })]);
    assert.equal(conn.pollTimeout(), millis(1400));
    assert.equal(conn.info().retransmissions, 2);
  });

  test('the timer stops when everything is acknowledged and restarts on a partial ACK', () => {
    const conn = establishedConnection();
    conn.setNoDelay(true);
    write(conn, 'abc');
    drain(conn);
    write(conn, 'def');
    drain(conn, millis(50));
    assert.equal(conn.pollTimeout(), millis(200));
    send(conn, fromPeer({ ack: l(4) }), millis(100));
    assert.equal(conn.pollTimeout(), millis(300), 'restarted: RTO after the ACK of new data');
    send(conn, fromPeer({ ack: l(7) }), millis(150));
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('Karn: no RTT sample from a retransmitted segment; the backed-off RTO stays until a fresh sample', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    conn.handleTimeout(millis(200));
    drain(conn, millis(200));
    send(conn, fromPeer({ ack: l(4) }), millis(250));
    assert.equal(conn.info().srtt, 0, 'the handshake sample only');
    assert.equal(conn.info().rto, millis(400));
    write(conn, 'def', millis(300));
    drain(conn, millis(300));
    send(conn, fromPeer({ ack: l(7) }), millis(350));
    assert.equal(conn.info().srtt, millis(50) / 8);
    assert.equal(conn.info().rto, millis(200));
  });

  test('RTO: ssthresh = max(FlightSize/2, 2*SMSS), cwnd = 1 SMSS (RFC 5681 3.1)', () => {
    const conn = establishedConnection({ config: { congestionControl: 'newreno' } });
    write(conn, pattern(4380));
    drain(conn);
    conn.handleTimeout(millis(200));
    assert.equal(conn.info().cwnd, 1460);
    assert.equal(conn.info().ssthresh, 2920);
    // Go back to SND.UNA with a one-segment window.
    expectSent(conn, millis(200), [toPeer({ payload: pattern(1460) })]);
    send(conn, fromPeer({ ack: l(1461) }), millis(210));
    // Slow start again: two segments for the next ACK.
    assert.deepEqual(drain(conn, millis(210)).map((s) => s.seq), ['l+1461', 'l+2921']);
  });

  test('RTO under CUBIC: ssthresh = max(FlightSize * 0.7, 2*SMSS), cwnd = 1 SMSS (RFC 9438 4.8)', () => {
    const conn = establishedConnection();
    assert.equal(conn.info().congestionControl, 'cubic', 'the default');
    write(conn, pattern(4380));
    drain(conn);
    conn.handleTimeout(millis(200));
    assert.equal(conn.info().cwnd, 1460);
    assert.equal(conn.info().ssthresh, Math.floor(4380 * 0.7));
    expectSent(conn, millis(200), [toPeer({ payload: pattern(1460) })]);
  });

  test('timed-out after config.maxRetransmissions', () => {
    const conn = establishedConnection({ config: { maxRetransmissions: 3 } });
    write(conn, 'abc');
    drain(conn);
    for (let i = 0; i < 3; i++) {
      const at = conn.pollTimeout()!;
      conn.handleTimeout(at);
      assert.equal(drain(conn, at).length, 1);
    }
    const now = conn.pollTimeout()!;
    conn.handleTimeout(now);
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('the RTO is capped at config.maxRto', () => {
    const conn = establishedConnection({ config: { maxRto: millis(500) } });
    write(conn, 'abc');
    drain(conn);
    conn.handleTimeout(millis(200));
    conn.handleTimeout(millis(600));
    assert.equal(conn.info().rto, millis(500));
    assert.equal(conn.pollTimeout(), millis(1100));
  });
});

describe('zero window and the persist timer (RFC 9293 3.8.6.1)', () => {
  function zeroWindowed() {
    const conn = establishedConnection();
    conn.setNoDelay(true);
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4), window: 0 }));
    write(conn, 'def');
    expectNothing(conn);
    return conn;
  }

  test('a zero window stops data; after an RTO a one-octet probe goes, then the interval doubles', () => {
    const conn = zeroWindowed();
    assert.deepEqual(conn.timers(), [['persist', millis(200)]]);
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ seq: l(4), payload: 'd' })]);
    assert.equal(conn.pollTimeout(), millis(600));
    // The probe is answered: still a zero window.
    send(conn, fromPeer({ ack: l(4), window: 0 }), millis(210));
    conn.handleTimeout(millis(600));
    expectSent(conn, millis(600), [toPeer({ seq: l(4), payload: 'd' })]);
    assert.equal(conn.pollTimeout(), millis(1400));
    assert.equal(conn.info().retransmissions, 0, 'probes are not counted as retransmissions');
  });

  test('the window opens: everything from SND.UNA goes', () => {
    const conn = zeroWindowed();
    conn.handleTimeout(millis(200));
    drain(conn, millis(200));
    send(conn, fromPeer({ ack: l(4), window: 1000 }), millis(250));
    expectSent(conn, millis(250), [toPeer({ flags: PSH | ACK, seq: l(4), payload: 'def' })]);
    assert.deepEqual(conn.timers().map(([k]) => k), ['retransmit']);
  });

  test('the probe octet accepted: the rest follows', () => {
    const conn = zeroWindowed();
    conn.handleTimeout(millis(200));
    drain(conn, millis(200));
    send(conn, fromPeer({ ack: l(5), window: 1000 }), millis(250));
    expectSent(conn, millis(250), [toPeer({ flags: PSH | ACK, seq: l(5), payload: 'ef' })]);
  });

  test('probes answered keep the connection alive indefinitely', () => {
    const conn = zeroWindowed();
    let now = 0;
    for (let i = 0; i < 40; i++) {
      now = conn.pollTimeout()!;
      conn.handleTimeout(now);
      assert.equal(drain(conn, now).length, 1);
      send(conn, fromPeer({ ack: l(4), window: 0 }), now + millis(10));
    }
    assert.equal(conn.state, 'ESTABLISHED');
    assert.ok(now > seconds(600));
  });

  test('probes never answered: timed-out', () => {
    const conn = establishedConnection({ config: { maxRetransmissions: 3 } });
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4), window: 0 }));
    write(conn, 'def');
    for (let i = 0; i < 3; i++) {
      const now = conn.pollTimeout()!;
      conn.handleTimeout(now);
      drain(conn, now);
    }
    conn.handleTimeout(conn.pollTimeout()!);
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
  });

  test('a FIN waits on a zero window too, and probes it', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4), window: 0 }));
    conn.close(0);
    expectNothing(conn);
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: FIN | ACK, seq: l(4) })]);
    send(conn, fromPeer({ ack: l(5), window: 0 }), millis(210));
    assert.equal(conn.state, 'FIN-WAIT-2');
  });

  test('a window shrunk to zero under data in flight: probes, no retransmission timeouts', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(1), window: 0 }), millis(10));
    assert.deepEqual(conn.timers().map(([k]) => k), ['persist']);
    const at = conn.pollTimeout()!;
    conn.handleTimeout(at);
    expectSent(conn, at, [toPeer({ seq: l(1), payload: 'a' })]);
    assert.equal(conn.info().cwnd, 4380, 'no congestion response to a closed window');
  });
});

describe('keepalive (RFC 1122 4.2.3.6)', () => {
  const KEEPALIVE = { config: { keepalive: { enabled: true, idle: seconds(10), interval: seconds(1), count: 3 } } };

  test('an idle connection is probed with SEG.SEQ = SND.NXT-1 and no data', () => {
    const conn = establishedConnection(KEEPALIVE);
    assert.equal(conn.pollTimeout(), seconds(10));
    conn.handleTimeout(seconds(10));
    expectSent(conn, seconds(10), [toPeer({ seq: l(0) })]);
    assert.equal(conn.pollTimeout(), seconds(11));
  });

  test('an answer restarts the idle time', () => {
    const conn = establishedConnection(KEEPALIVE);
    conn.handleTimeout(seconds(10));
    drain(conn, seconds(10));
    send(conn, fromPeer(), seconds(10) + millis(5));
    assert.equal(conn.pollTimeout(), seconds(20) + millis(5));
  });

  test('count probes unanswered: timed-out', () => {
    const conn = establishedConnection(KEEPALIVE);
    for (const t of [10, 11, 12]) {
      conn.handleTimeout(seconds(t));
      expectSent(conn, seconds(t), [toPeer({ seq: l(0) })]);
    }
    conn.handleTimeout(seconds(13));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
  });

  test('received segments keep pushing the probe back', () => {
    const conn = establishedConnection(KEEPALIVE);
    send(conn, fromPeer({ payload: 'x' }), seconds(5));
    drain(conn, seconds(5));
    assert.equal(conn.pollTimeout(), seconds(15));
  });

  test('setKeepAlive turns it on and off', () => {
    const conn = establishedConnection();
    assert.equal(conn.pollTimeout(), undefined);
    conn.setKeepAlive(true, seconds(30));
    drain(conn, seconds(1));
    assert.equal(conn.pollTimeout(), seconds(31));
    conn.setKeepAlive(false);
    drain(conn, seconds(2));
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('a keepalive probe from the peer (SND.NXT-1) is answered with an ACK', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(0) }), seconds(100));
    expectSent(conn, seconds(100), [toPeer()]);
    send(conn, fromPeer({ seq: r(0) }), seconds(100) + millis(1));
    expectSent(conn, seconds(100) + millis(1), [toPeer()]);
  });
});

describe('user timeout (RFC 9293 3.8.3)', () => {
  test('data unacknowledged for config.userTimeout: timed-out', () => {
    const conn = establishedConnection({ config: { userTimeout: seconds(5) } });
    write(conn, 'abc');
    drain(conn);
    assert.deepEqual(conn.timers(), [['user-timeout', seconds(5)], ['retransmit', millis(200)]]);
    let now = 0;
    while (conn.state !== 'CLOSED') {
      now = conn.pollTimeout()!;
      conn.handleTimeout(now);
      drain(conn, now);
    }
    assert.equal(now, seconds(5));
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
  });

  test('progress restarts it; an idle connection has none', () => {
    const conn = establishedConnection({ config: { userTimeout: seconds(5) } });
    assert.equal(conn.pollTimeout(), undefined);
    conn.setNoDelay(true);
    write(conn, 'abc');
    drain(conn);
    write(conn, 'def', seconds(1));
    drain(conn, seconds(1));
    send(conn, fromPeer({ ack: l(4) }), seconds(2));
    assert.equal(conn.timers().find(([k]) => k === 'user-timeout')![1], seconds(7));
    send(conn, fromPeer({ ack: l(7) }), seconds(3));
    assert.equal(conn.pollTimeout(), undefined);
  });
});
