/**
 * ESTABLISHED: the four acceptability cases (RFC 9293 3.10.7.4), receiving (in order, out of
 * order, duplicates, trimming, the window and its updates, urgent data), and sending
 * (segmentation, PSH, the peer's window, cwnd, Nagle, sender SWS avoidance, window updates).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../src/time/instant.js';
import {
  ACK, PSH, URG, WINDOW, drain, establishedConnection, events, expectEvents, expectNothing, expectSent, fromPeer, l,
  pattern, r, readAll, send, toPeer, write,
} from './harness.js';

describe('ESTABLISHED: acceptability of the sequence number (RFC 9293 3.10.7.4)', () => {
  test('length 0, window > 0: SEG.SEQ = RCV.NXT is acceptable (its ACK is processed)', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'abc' })]);
    send(conn, fromPeer({ ack: l(4) }));
    expectNothing(conn);
    assert.equal(conn.info().sendQueue, 0);
  });

  test('length 0, window > 0: SEG.SEQ inside the window is acceptable', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ seq: r(100), ack: l(4) }));
    expectNothing(conn);
    assert.equal(conn.info().sendQueue, 0);
  });

  test('length 0, window > 0: SEG.SEQ before RCV.NXT -> ACK, the ACK field ignored', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ seq: r(0), ack: l(4) }));
    expectSent(conn, 0, [toPeer({ seq: l(4) })]);
    assert.equal(conn.info().sendQueue, 3);
  });

  test('length 0, window > 0: SEG.SEQ at RCV.NXT+RCV.WND -> ACK', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(1 + WINDOW) }));
    expectSent(conn, 0, [toPeer()]);
  });

  test('length > 0, window > 0: first byte in the window -> accepted', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'abcdef' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
    assert.equal(readAll(conn), 'abcdef');
  });

  test('length > 0, window > 0: only the last byte in the window -> the new part is accepted', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'abc' }));
    expectSent(conn, 0, [toPeer({ ack: r(4), window: WINDOW - 3 })]);
    // Retransmission of "abc" plus new "def": starts before RCV.NXT, ends inside the window.
    send(conn, fromPeer({ payload: 'abcdef' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
    assert.equal(readAll(conn), 'abcdef');
  });

  test('length > 0, window > 0: entirely before RCV.NXT (a duplicate) -> ACK, nothing delivered twice', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'abc' }));
    drain(conn);
    events(conn);
    send(conn, fromPeer({ payload: 'abc' }));
    expectSent(conn, 0, [toPeer({ ack: r(4), window: WINDOW - 3 })]);
    expectEvents(conn, []);
    assert.equal(readAll(conn), 'abc');
  });

  test('length > 0, window > 0: entirely beyond the window -> ACK, dropped', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(1 + WINDOW), payload: 'zzz' }));
    expectSent(conn, 0, [toPeer()]);
    assert.equal(conn.receiveAvailable, 0);
  });

  test('length > 0, window > 0: straddling the right edge -> the part inside is accepted', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 10, sendBufferSize: 10 } });
    send(conn, fromPeer({ payload: 'abcdefghijklmno' }));
    expectSent(conn, 0, [toPeer({ ack: r(11), window: 0 })]);
    assert.equal(readAll(conn), 'abcdefghij');
  });

  test('length 0, window 0: SEG.SEQ = RCV.NXT is acceptable', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 4 } });
    send(conn, fromPeer({ payload: 'abcd' }));
    expectSent(conn, 0, [toPeer({ ack: r(5), window: 0 })]);
    write(conn, 'x');
    drain(conn);
    send(conn, fromPeer({ seq: r(5), ack: l(2), window: 1000 }));
    expectNothing(conn);
    assert.equal(conn.info().sendQueue, 0);
  });

  test('length 0, window 0: SEG.SEQ != RCV.NXT -> ACK', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 4 } });
    send(conn, fromPeer({ payload: 'abcd' }));
    drain(conn);
    send(conn, fromPeer({ seq: r(4) }));
    expectSent(conn, 0, [toPeer({ ack: r(5), window: 0 })]);
  });

  test('length > 0, window 0: not acceptable -> ACK with window 0; the ACK field still counts', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 4 } });
    send(conn, fromPeer({ payload: 'abcd' }));
    drain(conn);
    write(conn, 'x');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'x', ack: r(5), window: 0 })]);
    // A zero-window probe from the peer that also acknowledges our byte.
    send(conn, fromPeer({ seq: r(5), ack: l(2), payload: 'e' }));
    expectSent(conn, 0, [toPeer({ seq: l(2), ack: r(5), window: 0 })]);
    assert.equal(conn.info().sendQueue, 0, 'the ACK was processed');
    assert.equal(readAll(conn), 'abcd');
  });
});

describe('ESTABLISHED: receiving', () => {
  test('in-order segments are delivered in order, one readable event while unread', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'hello ' }));
    send(conn, fromPeer({ seq: r(7), payload: 'world' }));
    expectSent(conn, 0, [toPeer({ ack: r(12), window: WINDOW - 11 })]);
    expectEvents(conn, [{ type: 'readable' }]);
    assert.equal(conn.receiveAvailable, 11);
    assert.equal(conn.info().receiveQueue, 11);
    assert.equal(readAll(conn), 'hello world');
    assert.equal(conn.recv(0), undefined);
    assert.equal(conn.info().bytesReceived, 11);
  });

  test('recv(max) reads at most max bytes', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'abcdef' }));
    assert.equal(Buffer.from(conn.recv(0, 4)!).toString(), 'abcd');
    assert.equal(Buffer.from(conn.recv(0, 4)!).toString(), 'ef');
  });

  test('out of order: held, immediate duplicate ACK; the gap filled: everything delivered, immediate ACK', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(4), payload: 'def' }));
    expectSent(conn, 0, [toPeer()]);
    expectEvents(conn, []);
    send(conn, fromPeer({ seq: r(10), payload: 'jkl' }));
    expectSent(conn, 0, [toPeer()]);
    send(conn, fromPeer({ seq: r(1), payload: 'abc' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
    assert.equal(readAll(conn), 'abcdef');
    send(conn, fromPeer({ seq: r(7), payload: 'ghi' }));
    expectSent(conn, 0, [toPeer({ ack: r(13), window: WINDOW - 12 })]);
    assert.equal(readAll(conn), 'ghijkl');
  });

  test('out of order: one duplicate ACK per segment, even when several arrive before a poll', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(4), payload: 'def' }));
    send(conn, fromPeer({ seq: r(7), payload: 'ghi' }));
    send(conn, fromPeer({ seq: r(10), payload: 'jkl' }));
    expectSent(conn, 0, [toPeer(), toPeer(), toPeer()]);
  });

  test('overlapping out-of-order segments are merged; duplicates trimmed', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(5), payload: 'efgh' }));
    send(conn, fromPeer({ seq: r(3), payload: 'cdef' }));
    send(conn, fromPeer({ seq: r(7), payload: 'ghij' }));
    drain(conn);
    send(conn, fromPeer({ seq: r(1), payload: 'ab' }));
    expectSent(conn, 0, [toPeer({ ack: r(11), window: WINDOW - 10 })]);
    assert.equal(readAll(conn), 'abcdefghij');
  });

  test('out of order beyond config.outOfOrderLimit: dropped (the peer will retransmit)', () => {
    const conn = establishedConnection({ config: { outOfOrderLimit: 4 } });
    send(conn, fromPeer({ seq: r(3), payload: 'cdef' }));
    send(conn, fromPeer({ seq: r(20), payload: 'xyz' }));
    drain(conn);
    send(conn, fromPeer({ seq: r(1), payload: 'ab' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
    assert.equal(readAll(conn), 'abcdef');
  });

  test('the window shrinks as data waits and never moves its right edge left', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: pattern(1000) }));
    expectSent(conn, 0, [toPeer({ ack: r(1001), window: WINDOW - 1000 })]);
    assert.equal(conn.info().receiveWindow, WINDOW - 1000);
  });

  test('receiver SWS avoidance: reading a little does not reopen the window; reading enough sends an update', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 4000 } });
    send(conn, fromPeer({ payload: pattern(1460) }));
    send(conn, fromPeer({ seq: r(1461), payload: pattern(1460) }));
    send(conn, fromPeer({ seq: r(2921), payload: pattern(1079) }));
    drain(conn);
    assert.equal(conn.info().receiveWindow, 1);
    // Reading 100 bytes could open the window by 100: less than min(MSS, buffer/2) = 1460.
    conn.recv(0, 100);
    expectNothing(conn);
    // 1500 read in all: a window update (the window was at most half the buffer).
    conn.recv(0, 1400);
    expectSent(conn, 0, [toPeer({ ack: r(4000), window: 1501 })]);
  });

  test('zero window: reading reopens it with an immediate window update', () => {
    const conn = establishedConnection({ config: { receiveBufferSize: 3000 } });
    send(conn, fromPeer({ payload: pattern(1460) }));
    send(conn, fromPeer({ seq: r(1461), payload: pattern(1460) }));
    send(conn, fromPeer({ seq: r(2921), payload: pattern(80) }));
    drain(conn);
    assert.equal(conn.info().receiveWindow, 0);
    assert.equal(readAll(conn).length, 3000);
    expectSent(conn, 0, [toPeer({ ack: r(3001), window: 3000 })]);
  });

  test('urgent data is delivered inline (RFC 6093)', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ flags: ACK | URG | PSH, urgentPointer: 3, payload: 'abcdef' }));
    expectSent(conn, 0, [toPeer({ ack: r(7), window: WINDOW - 6 })]);
    assert.equal(readAll(conn), 'abcdef');
  });

  test('reserved bits, ECE/CWR and unknown options do not disturb reception', () => {
    const conn = establishedConnection();
    const seg = fromPeer({ flags: ACK | 0x40 | 0x80, payload: 'ok', options: [{ kind: 'unknown', type: 99, data: Uint8Array.of(1, 2) }, { kind: 'nop' }, { kind: 'nop' }] });
    send(conn, { ...seg, reserved: 0xf });
    expectSent(conn, 0, [toPeer({ ack: r(3), window: WINDOW - 2 })]);
    assert.equal(readAll(conn), 'ok');
  });
});

describe('ESTABLISHED: sending', () => {
  test('a write becomes one segment with PSH', () => {
    const conn = establishedConnection();
    write(conn, 'hello');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'hello' })]);
    assert.equal(conn.info().bytesSent, 5);
    assert.equal(conn.info().sendQueue, 5);
  });

  test('the stream is cut at the MSS; PSH only on the segment that empties the queue', () => {
    const conn = establishedConnection();
    const text = pattern(3000);
    write(conn, text);
    conn.setNoDelay(true);
    expectSent(conn, 0, [
      toPeer({ payload: text.slice(0, 1460) }),
      toPeer({ seq: l(1461), payload: text.slice(1460, 2920) }),
      toPeer({ flags: PSH | ACK, seq: l(2921), payload: text.slice(2920) }),
    ]);
  });

  test('the initial window is min(4*MSS, max(2*MSS, 4380)) = 4380 bytes (RFC 5681 3.1); ACKs open more', () => {
    const conn = establishedConnection();
    assert.equal(conn.info().cwnd, 4380);
    const text = pattern(8000);
    write(conn, text);
    const first = drain(conn);
    assert.deepEqual(first.map((s) => s.payload.length), [1460, 1460, 1460]);
    send(conn, fromPeer({ ack: l(1461) }));
    // Slow start: cwnd 4380 + 1460, one segment acknowledged: two more go.
    assert.deepEqual(drain(conn).map((s) => s.seq), ['l+4381', 'l+5841']);
    assert.equal(conn.info().cwnd, 5840);
  });

  test('bounded by the peer\'s window', () => {
    const conn = establishedConnection({ peerWindow: 1000 });
    const text = pattern(3000);
    write(conn, text);
    expectSent(conn, 0, [toPeer({ payload: text.slice(0, 1000) })]);
    send(conn, fromPeer({ ack: l(1001), window: 2000 }));
    // 2000 usable: a full segment, and 540 more would be a small segment while data is
    // outstanding, and less than half the largest window: sender SWS avoidance holds it.
    expectSent(conn, 0, [toPeer({ seq: l(1001), payload: text.slice(1000, 2460) })]);
    send(conn, fromPeer({ ack: l(2461), window: 2000 }));
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, seq: l(2461), payload: text.slice(2460) })]);
  });

  test('Nagle: a small segment waits while data is unacknowledged', () => {
    const conn = establishedConnection();
    write(conn, 'a');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'a' })]);
    write(conn, 'b');
    write(conn, 'c');
    expectNothing(conn);
    send(conn, fromPeer({ ack: l(2) }));
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, seq: l(2), payload: 'bc' })]);
  });

  test('setNoDelay(true): small segments go at once', () => {
    const conn = establishedConnection();
    conn.setNoDelay(true);
    write(conn, 'a');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'a' })]);
    write(conn, 'b');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, seq: l(2), payload: 'b' })]);
  });

  test('Nagle does not hold full-sized segments', () => {
    const conn = establishedConnection();
    write(conn, 'a');
    drain(conn);
    write(conn, pattern(1460));
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, seq: l(2), payload: pattern(1460) })]);
  });

  test('sender SWS avoidance: a small usable window waits for the override timer', () => {
    const conn = establishedConnection({ peerWindow: 4000 });
    conn.setNoDelay(true);
    write(conn, pattern(4000));
    drain(conn);
    // The peer acknowledges everything but offers only 100 bytes: less than an MSS and less
    // than half the largest window it offered.
    write(conn, pattern(500));
    send(conn, fromPeer({ ack: l(4001), window: 100 }));
    expectNothing(conn);
    const deadline = conn.pollTimeout();
    assert.ok(deadline !== undefined && deadline >= millis(100) && deadline <= millis(1000));
    conn.handleTimeout(deadline);
    expectSent(conn, deadline, [toPeer({ seq: l(4001), payload: pattern(100) })]);
  });

  test('ACK of sent data frees the buffer; writable after a full buffer', () => {
    const conn = establishedConnection();
    conn.setNoDelay(true);
    const text = pattern(9000);
    assert.equal(conn.send(0, Buffer.from(text)), 8192);
    assert.equal(conn.sendBufferFree, 0);
    assert.equal(conn.send(0, Buffer.from('x')), 0);
    drain(conn);
    expectEvents(conn, []);
    send(conn, fromPeer({ ack: l(1461) }));
    expectEvents(conn, [{ type: 'writable' }]);
    assert.equal(conn.sendBufferFree, 1460);
  });

  test('no writable event when the buffer never filled', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4) }));
    expectEvents(conn, []);
  });

  test('piggybacked ACK: data we send carries the acknowledgment', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ payload: 'ping' }));
    write(conn, 'pong');
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, ack: r(5), window: WINDOW - 4, payload: 'pong' })]);
  });

  test('the send window follows SND.WL1/SND.WL2: a reordered older segment does not update it', () => {
    const conn = establishedConnection();
    // The newer segment overtakes the older one.
    send(conn, fromPeer({ seq: r(4), payload: 'def', window: 5000 }));
    assert.equal(conn.info().sendWindow, 5000);
    send(conn, fromPeer({ seq: r(1), payload: 'abc', window: 100 }));
    assert.equal(conn.info().sendWindow, 5000, 'SEG.SEQ < SND.WL1: the window is old news');
    assert.equal(readAll(conn), 'abcdef');
  });

  test('a segment with a newer SEQ updates the window even without new ACK', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ seq: r(1), payload: 'abc', window: 5000 }));
    send(conn, fromPeer({ seq: r(4), window: 7000 }));
    assert.equal(conn.info().sendWindow, 7000);
  });

  test('info() fills every field', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4), payload: 'xy' }), millis(30));
    const info = conn.info();
    assert.equal(info.state, 'ESTABLISHED');
    assert.equal(info.sendQueue, 0);
    assert.equal(info.receiveQueue, 2);
    // RTT samples 0 (the handshake) and 30 ms: SRTT = 30/8 ms, RTTVAR = 30/4 ms (RFC 6298 2.3).
    assert.equal(info.srtt, 3750);
    assert.equal(info.rttvar, 7500);
    assert.equal(info.rto, millis(200));
    // Three bytes in flight are far below half the initial window: the connection is
    // application limited, and cwnd does not grow (RFC 9438 5.8).
    assert.equal(info.cwnd, 4380);
    assert.ok(info.ssthresh > 1 << 30);
    assert.equal(info.mss, 1460);
    assert.equal(info.sendWindow, 65535);
    assert.equal(info.receiveWindow, WINDOW - 2);
    assert.equal(info.retransmissions, 0);
    assert.equal(info.bytesSent, 3);
    assert.equal(info.bytesReceived, 2);
    assert.ok(info.segmentsSent >= 2);
    assert.ok(info.segmentsReceived >= 3);
  });
});

describe('ESTABLISHED: cwnd grows only while it limits the sender (RFC 9438 5.8)', () => {
  test('held back by a 4-segment peer window, slow start stops at twice the flight', () => {
    const mss = 1460;
    const conn = establishedConnection({ peerWindow: 4 * mss, config: { sendBufferSize: 256 * 1024 } });
    conn.setNoDelay(true);
    write(conn, pattern(100 * mss));
    let now = 0;
    drain(conn, now);
    for (let round = 0; round < 20; round++) {
      now += millis(10);
      const acked = conn.info().bytesSent;
      send(conn, fromPeer({ ack: l(1 + acked), window: 4 * mss }), now);
      drain(conn, now);
    }
    const { cwnd } = conn.info();
    // Unchecked, slow start would add a segment per ACK for 20 rounds (33,580 bytes).
    assert.ok(cwnd <= 3 * 4 * mss, `cwnd ${cwnd} stays within a small multiple of the window the peer allows`);
    assert.ok(cwnd >= 4 * mss, `cwnd ${cwnd} still covers it`);
  });
});
