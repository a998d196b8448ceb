/**
 * Loss recovery in the connection: duplicate ACKs (RFC 5681 2), limited transmit (RFC 3042),
 * fast retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial ACKs (RFC 6582), and
 * the `recover` rule after a timeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../src/time/instant.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { CongestionAlgorithm } from '../../../src/core/tcp/types.js';
import { drain, establishedConnection, expectNothing, expectSent, fromPeer, l, pattern, r, send, toPeer, write } from './harness.js';

const MSS = 1460;
const STREAM = pattern(20 * MSS);

/**
 * Established, Nagle off, a large send buffer, 20 segments queued; the initial window (3
 * segments) sent. NewReno: these tests check RFC 5681 / RFC 6582 arithmetic (CUBIC's own
 * ssthresh is checked below).
 */
function sending(congestionControl: CongestionAlgorithm = 'newreno'): TcpConnection {
  const conn = establishedConnection({ config: { sendBufferSize: 64 * 1024, congestionControl } });
  conn.setNoDelay(true);
  write(conn, STREAM);
  assert.deepEqual(drain(conn).map((s) => s.seq), ['l+1', 'l+1461', 'l+2921']);
  return conn;
}

/** The segment carrying stream bytes [from, from + MSS). */
function segmentAt(from: number) {
  return toPeer({ seq: l(1 + from), payload: STREAM.slice(from, from + MSS) });
}

const dupAck = () => fromPeer({ ack: l(1) });

/** Duplicate ACKs, each followed by whatever the connection sends in answer. */
function dupAcks(conn: TcpConnection, n: number): void {
  for (let i = 0; i < n; i++) {
    send(conn, dupAck());
    drain(conn);
  }
}

describe('ESTABLISHED: fast retransmit and fast recovery', () => {
  test('first and second duplicate ACK: limited transmit sends one new segment each (RFC 3042)', () => {
    const conn = sending();
    send(conn, dupAck());
    expectSent(conn, 0, [segmentAt(3 * MSS)]);
    send(conn, dupAck());
    expectSent(conn, 0, [segmentAt(4 * MSS)]);
    assert.equal(conn.info().cwnd, 4380, 'cwnd itself is unchanged');
  });

  test('third duplicate ACK: the segment at SND.UNA is retransmitted, ssthresh = FlightSize/2, cwnd = ssthresh + 3 SMSS', () => {
    const conn = sending();
    dupAcks(conn, 2);
    send(conn, dupAck());
    expectSent(conn, 0, [segmentAt(0)]);
    const info = conn.info();
    assert.equal(info.ssthresh, 3650, '5 segments in flight: 7300 / 2');
    assert.equal(info.cwnd, 3650 + 3 * MSS);
    assert.equal(info.retransmissions, 1);
  });

  test('CUBIC: third duplicate ACK: ssthresh = FlightSize * 0.7 (RFC 9438 4.6), cwnd = ssthresh + 3 SMSS; a full ACK ends recovery as RFC 6582 says', () => {
    const conn = sending('cubic');
    dupAcks(conn, 2);
    send(conn, dupAck());
    // cwnd 5110 + 3*1460 = 9490 over 7300 in flight: one new segment goes with the retransmission.
    expectSent(conn, 0, [segmentAt(0), segmentAt(5 * MSS)]);
    const info = conn.info();
    assert.equal(info.congestionControl, 'cubic');
    assert.equal(info.ssthresh, Math.floor(5 * MSS * 0.7), '5 segments in flight: 7300 * 0.7');
    assert.equal(info.cwnd, 5110 + 3 * MSS);
    send(conn, dupAck());
    assert.equal(conn.info().cwnd, 5110 + 4 * MSS);
    expectSent(conn, 0, [segmentAt(6 * MSS)]);
    // Six segments acknowledged (recover was five): one is still in flight.
    send(conn, fromPeer({ ack: l(1 + 6 * MSS) }), millis(50));
    assert.equal(conn.info().cwnd, Math.min(5110, Math.max(MSS, MSS) + MSS));
    assert.equal(conn.info().ssthresh, 5110);
  });

  test('further duplicate ACKs inflate cwnd by one SMSS each and let new data go', () => {
    const conn = sending();
    dupAcks(conn, 3);
    send(conn, dupAck());
    assert.equal(conn.info().cwnd, 3650 + 4 * MSS);
    expectSent(conn, 0, [segmentAt(5 * MSS)]);
  });

  test('a partial ACK retransmits the next hole at once and deflates cwnd (RFC 6582)', () => {
    const conn = sending();
    dupAcks(conn, 4);
    const cwnd = conn.info().cwnd;
    // The retransmission filled the first hole; the segment at 2*MSS was lost too.
    send(conn, fromPeer({ ack: l(1 + 2 * MSS) }), millis(50));
    const sent = drain(conn, millis(50));
    assert.equal(sent[0]!.seq, `l+${1 + 2 * MSS}`, 'the first unacknowledged segment again');
    assert.equal(conn.info().cwnd, cwnd - 2 * MSS + MSS);
    assert.equal(conn.info().retransmissions, 2);
  });

  test('a full ACK (covering recover) ends recovery with cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)', () => {
    const conn = sending();
    dupAcks(conn, 4);
    // Everything sent so far (6 segments) is acknowledged: FlightSize 0.
    send(conn, fromPeer({ ack: l(1 + 6 * MSS) }), millis(50));
    const info = conn.info();
    assert.equal(info.ssthresh, 3650);
    assert.equal(info.cwnd, Math.min(3650, Math.max(0, MSS) + MSS));
    // Back to normal sending: two segments fit.
    assert.equal(drain(conn, millis(50)).length, 2);
  });

  test('duplicate ACKs that do not cover recover (after a timeout) do not start another fast retransmit', () => {
    const conn = sending();
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [segmentAt(0)]);
    const ssthresh = conn.info().ssthresh;
    for (let i = 0; i < 3; i++) send(conn, dupAck(), millis(210));
    expectNothing(conn, millis(210));
    assert.equal(conn.info().ssthresh, ssthresh);
  });

  test('a changed window makes an ACK a window update, not a duplicate', () => {
    const conn = sending();
    for (let i = 0; i < 3; i++) send(conn, fromPeer({ ack: l(1), window: 60000 + i }));
    assert.equal(conn.info().retransmissions, 0);
  });

  test('ACKs carrying data are not duplicates', () => {
    const conn = sending();
    for (let i = 0; i < 3; i++) send(conn, fromPeer({ seq: r(1 + i), ack: l(1), payload: 'x' }));
    assert.equal(conn.info().retransmissions, 0);
  });
});
