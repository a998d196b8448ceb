/**
 * Closing: FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT, CLOSE-WAIT, LAST-ACK — every transition of
 * the RFC 9293 state diagram out of ESTABLISHED, half-close, simultaneous close, CLOSE with data
 * still queued, and ABORT in each state (RFC 9293 3.6, 3.10.4, 3.10.5, 3.10.7.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis, seconds } from '../../../src/time/instant.js';
import {
  ACK, FIN, PSH, RST, WINDOW, closeWaitConnection, closingConnection, drain, establishedConnection, expectEvents,
  expectNothing, expectSent, finWait1Connection, finWait2Connection, fromPeer, l, lastAckConnection, r, readAll, send,
  synSentConnection, timeWaitConnection, toPeer, write,
} from './harness.js';

describe('ESTABLISHED: close', () => {
  test('ESTABLISHED: close -> FIN, FIN-WAIT-1', () => {
    const conn = establishedConnection();
    conn.close(0);
    assert.equal(conn.state, 'FIN-WAIT-1');
    expectSent(conn, 0, [toPeer({ flags: FIN | ACK })]);
  });

  test('ESTABLISHED: close with data queued -> the data, then the FIN on its last segment', () => {
    const conn = establishedConnection();
    write(conn, 'bye');
    conn.close(0);
    expectSent(conn, 0, [toPeer({ flags: FIN | PSH | ACK, payload: 'bye' })]);
  });

  test('ESTABLISHED: close with data that needs several segments and windows', () => {
    const conn = establishedConnection({ peerWindow: 2000 });
    const text = 'x'.repeat(2500);
    write(conn, text);
    conn.close(0);
    expectSent(conn, 0, [toPeer({ payload: text.slice(0, 1460) })]);
    send(conn, fromPeer({ ack: l(1461), window: 2000 }));
    expectSent(conn, 0, [toPeer({ flags: FIN | PSH | ACK, seq: l(1461), payload: text.slice(1460) })]);
    send(conn, fromPeer({ ack: l(2502) }));
    assert.equal(conn.state, 'FIN-WAIT-2');
  });

  test('ESTABLISHED: send after close is refused', () => {
    const conn = establishedConnection();
    conn.close(0);
    assert.equal(conn.send(0, Buffer.from('late')), 0);
    assert.equal(conn.sendBufferFree, 0);
  });

  test('ESTABLISHED: FIN -> ACK, CLOSE-WAIT, peer-closed after the data', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ flags: FIN | PSH | ACK, payload: 'last words' }));
    assert.equal(conn.state, 'CLOSE-WAIT');
    expectSent(conn, 0, [toPeer({ ack: r(12), window: WINDOW - 11 })]);
    expectEvents(conn, [{ type: 'readable' }, { type: 'peer-closed' }]);
    assert.equal(readAll(conn), 'last words');
  });

  test('ESTABLISHED: FIN out of order waits for the data before it', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ flags: FIN | ACK, seq: r(4), payload: 'def' }));
    assert.equal(conn.state, 'ESTABLISHED');
    expectSent(conn, 0, [toPeer(), toPeer()]);
    send(conn, fromPeer({ payload: 'abc' }));
    assert.equal(conn.state, 'CLOSE-WAIT');
    expectSent(conn, 0, [toPeer({ ack: r(8), window: WINDOW - 7 })]);
    expectEvents(conn, [{ type: 'readable' }, { type: 'peer-closed' }]);
    assert.equal(readAll(conn), 'abcdef');
  });

  test('ESTABLISHED: data beyond an out-of-order FIN is not part of the stream', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ flags: FIN | ACK, seq: r(4), payload: 'def' }));
    send(conn, fromPeer({ seq: r(4), payload: 'defghi' }));
    send(conn, fromPeer({ payload: 'abc' }));
    assert.equal(conn.state, 'CLOSE-WAIT');
    assert.equal(readAll(conn), 'abcdef');
  });

  test('ESTABLISHED: a FIN just beyond the window is trimmed (its data is taken)', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 3 } });
    send(conn, fromPeer({ flags: FIN | ACK, payload: 'abc' }));
    assert.equal(conn.state, 'ESTABLISHED');
    expectSent(conn, 0, [toPeer({ ack: r(4), window: 0 })]);
    assert.equal(readAll(conn), 'abc');
    drain(conn);
    send(conn, fromPeer({ flags: FIN | ACK, seq: r(4) }));
    assert.equal(conn.state, 'CLOSE-WAIT');
  });
});

describe('FIN-WAIT-1', () => {
  test('FIN-WAIT-1: ACK of our FIN -> FIN-WAIT-2', () => {
    const conn = finWait1Connection();
    send(conn, fromPeer({ ack: l(2) }));
    assert.equal(conn.state, 'FIN-WAIT-2');
    expectNothing(conn);
    assert.equal(conn.pollTimeout(), undefined, 'no timer: FIN-WAIT-2 waits for the peer');
  });

  test('FIN-WAIT-1: ACK not covering our FIN -> stays', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    conn.close(0);
    drain(conn);
    send(conn, fromPeer({ ack: l(4) }));
    assert.equal(conn.state, 'FIN-WAIT-1');
  });

  test('FIN-WAIT-1: FIN (ours not acknowledged) -> ACK, CLOSING (simultaneous close)', () => {
    const conn = finWait1Connection();
    send(conn, fromPeer({ flags: FIN | ACK }));
    assert.equal(conn.state, 'CLOSING');
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    expectEvents(conn, [{ type: 'peer-closed' }]);
  });

  test('FIN-WAIT-1: FIN acknowledging ours -> ACK, TIME-WAIT', () => {
    const conn = finWait1Connection();
    send(conn, fromPeer({ flags: FIN | ACK, ack: l(2) }));
    assert.equal(conn.state, 'TIME-WAIT');
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    assert.equal(conn.pollTimeout(), 2 * seconds(30));
  });

  test('FIN-WAIT-1: data still arrives (half-close)', () => {
    const conn = finWait1Connection();
    send(conn, fromPeer({ payload: 'more' }));
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(5), window: WINDOW - 4 })]);
    assert.equal(readAll(conn), 'more');
  });

  test('FIN-WAIT-1: our FIN is retransmitted on RTO', () => {
    const conn = finWait1Connection();
    assert.equal(conn.pollTimeout(), millis(200));
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: FIN | ACK })]);
    assert.equal(conn.info().retransmissions, 1);
    assert.equal(conn.pollTimeout(), millis(600));
  });

  test('FIN-WAIT-1: close again changes nothing', () => {
    const conn = finWait1Connection();
    conn.close(0);
    assert.equal(conn.state, 'FIN-WAIT-1');
    expectNothing(conn);
  });
});

describe('FIN-WAIT-2', () => {
  test('FIN-WAIT-2: FIN -> ACK, TIME-WAIT', () => {
    const conn = finWait2Connection();
    send(conn, fromPeer({ flags: FIN | ACK, ack: l(2) }), seconds(5));
    assert.equal(conn.state, 'TIME-WAIT');
    expectSent(conn, seconds(5), [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    expectEvents(conn, [{ type: 'peer-closed' }]);
    assert.equal(conn.pollTimeout(), seconds(65));
  });

  test('FIN-WAIT-2: data keeps arriving (half-close), then the FIN', () => {
    const conn = finWait2Connection();
    send(conn, fromPeer({ ack: l(2), payload: 'still ' }));
    send(conn, fromPeer({ flags: FIN | PSH | ACK, seq: r(7), ack: l(2), payload: 'talking' }));
    assert.equal(conn.state, 'TIME-WAIT');
    assert.equal(readAll(conn), 'still talking');
    expectEvents(conn, [{ type: 'readable' }, { type: 'peer-closed' }]);
  });

  test('FIN-WAIT-2: out-of-window segment -> ACK', () => {
    const conn = finWait2Connection();
    send(conn, fromPeer({ seq: r(0), ack: l(2) }));
    expectSent(conn, 0, [toPeer({ seq: l(2) })]);
  });
});

describe('CLOSING', () => {
  test('CLOSING: ACK of our FIN -> TIME-WAIT', () => {
    const conn = closingConnection();
    send(conn, fromPeer({ seq: r(2), ack: l(2) }));
    assert.equal(conn.state, 'TIME-WAIT');
    expectNothing(conn);
    assert.equal(conn.pollTimeout(), seconds(60));
  });

  test('CLOSING: ACK not covering our FIN -> ignored', () => {
    const conn = closingConnection();
    send(conn, fromPeer({ seq: r(2), ack: l(1) }));
    assert.equal(conn.state, 'CLOSING');
    expectNothing(conn);
  });

  test('CLOSING: our FIN is retransmitted on RTO', () => {
    const conn = closingConnection();
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: FIN | ACK, ack: r(2), window: WINDOW - 1 })]);
  });

  test('CLOSING: retransmitted FIN -> ACK', () => {
    const conn = closingConnection();
    send(conn, fromPeer({ flags: FIN | ACK }));
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    assert.equal(conn.state, 'CLOSING');
  });
});

describe('TIME-WAIT', () => {
  test('TIME-WAIT: expires after 2 MSL -> CLOSED, closed, no timer left', () => {
    const conn = timeWaitConnection();
    assert.equal(conn.pollTimeout(), seconds(60));
    conn.handleTimeout(seconds(59));
    assert.equal(conn.state, 'TIME-WAIT');
    conn.handleTimeout(seconds(60));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'closed' }]);
    assert.equal(conn.pollTimeout(), undefined);
    expectNothing(conn, seconds(60));
  });

  test('TIME-WAIT: config.msl sets the wait', () => {
    const conn = timeWaitConnection({ config: { msl: seconds(1) } });
    assert.equal(conn.pollTimeout(), seconds(2));
  });

  test('TIME-WAIT: retransmitted FIN -> ACK and the 2 MSL timer restarts', () => {
    const conn = timeWaitConnection();
    send(conn, fromPeer({ flags: FIN | ACK, ack: l(2) }), seconds(10));
    expectSent(conn, seconds(10), [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    assert.equal(conn.pollTimeout(), seconds(70));
    assert.equal(conn.state, 'TIME-WAIT');
  });

  test('TIME-WAIT: data is not taken', () => {
    const conn = timeWaitConnection();
    send(conn, fromPeer({ seq: r(2), ack: l(2), payload: 'late' }));
    assert.equal(conn.receiveAvailable, 0);
    assert.equal(conn.state, 'TIME-WAIT');
  });

  test('TIME-WAIT: unread data stays readable after CLOSED', () => {
    const conn = finWait2Connection();
    send(conn, fromPeer({ flags: FIN | ACK, ack: l(2), payload: 'unread' }));
    conn.handleTimeout(seconds(60));
    assert.equal(conn.state, 'CLOSED');
    assert.equal(readAll(conn), 'unread');
  });
});

describe('CLOSE-WAIT', () => {
  test('CLOSE-WAIT: we can still send (half-close)', () => {
    const conn = closeWaitConnection();
    write(conn, 'reply');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, ack: r(2), window: WINDOW - 1, payload: 'reply' })]);
    send(conn, fromPeer({ seq: r(2), ack: l(6) }));
    assert.equal(conn.info().sendQueue, 0);
  });

  test('CLOSE-WAIT: close -> FIN, LAST-ACK', () => {
    const conn = closeWaitConnection();
    conn.close(0);
    assert.equal(conn.state, 'LAST-ACK');
    expectSent(conn, 0, [toPeer({ flags: FIN | ACK, ack: r(2), window: WINDOW - 1 })]);
  });

  test('CLOSE-WAIT: a retransmitted FIN -> ACK', () => {
    const conn = closeWaitConnection();
    send(conn, fromPeer({ flags: FIN | ACK }));
    expectSent(conn, 0, [toPeer({ ack: r(2), window: WINDOW - 1 })]);
    assert.equal(conn.state, 'CLOSE-WAIT');
    expectEvents(conn, []);
  });

  test('CLOSE-WAIT: text after the FIN is ignored', () => {
    const conn = closeWaitConnection();
    send(conn, fromPeer({ seq: r(2), payload: 'ghost' }));
    assert.equal(conn.receiveAvailable, 0);
  });
});

describe('LAST-ACK', () => {
  test('LAST-ACK: ACK of our FIN -> CLOSED', () => {
    const conn = lastAckConnection();
    send(conn, fromPeer({ seq: r(2), ack: l(2) }));
    assert.equal(conn.state, 'CLOSED');
    expectNothing(conn);
    expectEvents(conn, [{ type: 'closed' }]);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('LAST-ACK: ACK not covering our FIN -> stays', () => {
    const conn = closeWaitConnection();
    write(conn, 'abc');
    conn.close(0);
    drain(conn);
    send(conn, fromPeer({ seq: r(2), ack: l(4) }));
    assert.equal(conn.state, 'LAST-ACK');
    send(conn, fromPeer({ seq: r(2), ack: l(5) }));
    assert.equal(conn.state, 'CLOSED');
  });

  test('LAST-ACK: the FIN is retransmitted, then timed-out after config.maxRetransmissions', () => {
    const conn = lastAckConnection({ config: { maxRetransmissions: 2 } });
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: FIN | ACK, ack: r(2), window: WINDOW - 1 })]);
    conn.handleTimeout(millis(600));
    expectSent(conn, millis(600), [toPeer({ flags: FIN | ACK, ack: r(2), window: WINDOW - 1 })]);
    assert.equal(conn.pollTimeout(), millis(1400));
    conn.handleTimeout(millis(1400));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
  });
});

describe('simultaneous close and half-close', () => {
  test('both ends close at once: FIN-WAIT-1 -> CLOSING -> TIME-WAIT -> CLOSED', () => {
    const conn = establishedConnection();
    conn.close(0);
    expectSent(conn, 0, [toPeer({ flags: FIN | ACK })]);
    // The peer's FIN crossed ours.
    send(conn, fromPeer({ flags: FIN | ACK, ack: l(1) }));
    assert.equal(conn.state, 'CLOSING');
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(2), window: WINDOW - 1 })]);
    // The peer's ACK of our FIN.
    send(conn, fromPeer({ seq: r(2), ack: l(2) }), seconds(1));
    assert.equal(conn.state, 'TIME-WAIT');
    conn.handleTimeout(seconds(61));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'peer-closed' }, { type: 'closed' }]);
  });

  test('half-close: we finish sending, the peer keeps sending for a while', () => {
    const conn = establishedConnection();
    write(conn, 'request');
    conn.close(0);
    expectSent(conn, 0, [toPeer({ flags: FIN | PSH | ACK, payload: 'request' })]);
    send(conn, fromPeer({ ack: l(9), payload: 'response part 1, ' }));
    assert.equal(conn.state, 'FIN-WAIT-2');
    send(conn, fromPeer({ flags: FIN | PSH | ACK, seq: r(18), ack: l(9), payload: 'part 2' }));
    assert.equal(conn.state, 'TIME-WAIT');
    assert.equal(readAll(conn), 'response part 1, part 2');
  });

  test('the peer half-closes first: CLOSE-WAIT, we answer, then LAST-ACK -> CLOSED', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ flags: FIN | PSH | ACK, payload: 'request' }));
    assert.equal(conn.state, 'CLOSE-WAIT');
    assert.equal(readAll(conn), 'request');
    drain(conn);
    write(conn, 'response');
    conn.close(0);
    // Reading 7 bytes is no reason to move the right edge (receiver SWS avoidance).
    expectSent(conn, 0, [toPeer({ flags: FIN | PSH | ACK, ack: r(9), window: WINDOW - 8, payload: 'response' })]);
    send(conn, fromPeer({ seq: r(9), ack: l(10) }));
    assert.equal(conn.state, 'CLOSED');
  });
});

describe('ABORT (RFC 9293 3.10.5)', () => {
  test('ESTABLISHED: abort -> RST <SEQ=SND.NXT>, CLOSED, closed after the RST is taken', () => {
    const conn = establishedConnection();
    write(conn, 'pending');
    conn.abort(0);
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, []);
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(1), ack: 0, window: 0 })]);
    expectEvents(conn, [{ type: 'closed' }]);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('ESTABLISHED after sending: the RST carries the highest sequence number sent', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    conn.abort(0);
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(4), ack: 0, window: 0 })]);
  });

  test('FIN-WAIT-1: abort -> RST after our FIN', () => {
    const conn = finWait1Connection();
    conn.abort(0);
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(2), ack: 0, window: 0 })]);
  });

  test('FIN-WAIT-2 and CLOSE-WAIT: abort -> RST', () => {
    const a = finWait2Connection();
    a.abort(0);
    expectSent(a, 0, [toPeer({ flags: RST, seq: l(2), ack: 0, window: 0 })]);
    const b = closeWaitConnection();
    b.abort(0);
    expectSent(b, 0, [toPeer({ flags: RST, seq: l(1), ack: 0, window: 0 })]);
  });

  test('SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: abort -> CLOSED without a RST', () => {
    for (const conn of [synSentConnection(), closingConnection(), lastAckConnection(), timeWaitConnection()]) {
      conn.abort(0);
      assert.equal(conn.state, 'CLOSED');
      expectNothing(conn);
      expectEvents(conn, [{ type: 'closed' }]);
    }
  });

  test('CLOSED: abort does nothing more', () => {
    const conn = establishedConnection();
    conn.abort(0);
    drain(conn);
    conn.abort(0);
    expectNothing(conn);
    expectEvents(conn, [{ type: 'closed' }]);
  });

  test('CLOSED: a segment is answered with RST (RFC 9293 3.10.7.1)', () => {
    const conn = establishedConnection();
    conn.abort(0);
    drain(conn);
    send(conn, fromPeer({ payload: 'anyone?' }));
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(1), ack: 0, window: 0 })]);
    send(conn, fromPeer({ flags: PSH, ack: 0, payload: 'x' }));
    expectSent(conn, 0, [toPeer({ flags: RST | ACK, seq: 0, ack: r(2), window: 0 })]);
    send(conn, fromPeer({ flags: RST }));
    expectNothing(conn);
  });
});
