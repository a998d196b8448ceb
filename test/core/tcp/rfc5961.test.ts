/**
 * RFC 5961 in every synchronized state: a RST exactly at RCV.NXT resets, a RST elsewhere in the
 * window draws a challenge ACK, a RST outside it is dropped silently (3.2); a SYN draws a
 * challenge ACK whatever its sequence number (4.2); the ACK acceptability check of 5.2; the
 * challenge ACK budget of 7. Also a FIN in each state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis, seconds } from '../../../src/time/instant.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { TcpState } from '../../../src/core/tcp/types.js';
import type { SeqNumber } from '../../../src/wire/seq.js';
import {
  ACK, FIN, PSH, RST, SYN, WINDOW, closeWaitConnection, closingConnection, drain, establishedConnection, events,
  expectEvents, expectNothing, expectSent, finWait1Connection, finWait2Connection, fromPeer, l, lastAckConnection, r,
  readAll, send, timeWaitConnection, toPeer, write,
} from './harness.js';

interface StateCase {
  readonly state: TcpState;
  readonly make: () => TcpConnection;
  /** RCV.NXT, SND.NXT (= SND.MAX), SND.UNA and the window we advertise in that state. */
  readonly rcvNxt: SeqNumber;
  readonly sndNxt: SeqNumber;
  readonly sndUna: SeqNumber;
  readonly window: number;
  /** Whether a reset is reported as an error (RFC 9293: "connection reset") or just closes. */
  readonly resetIsError: boolean;
  /** The state after the peer's FIN at RCV.NXT (acknowledging what we sent). */
  readonly afterFin: TcpState;
}

const STATES: StateCase[] = [
  { state: 'ESTABLISHED', make: () => establishedConnection(), rcvNxt: r(1), sndNxt: l(1), sndUna: l(1), window: WINDOW, resetIsError: true, afterFin: 'CLOSE-WAIT' },
  { state: 'FIN-WAIT-1', make: () => finWait1Connection(), rcvNxt: r(1), sndNxt: l(2), sndUna: l(1), window: WINDOW, resetIsError: true, afterFin: 'TIME-WAIT' },
  { state: 'FIN-WAIT-2', make: () => finWait2Connection(), rcvNxt: r(1), sndNxt: l(2), sndUna: l(2), window: WINDOW, resetIsError: true, afterFin: 'TIME-WAIT' },
  { state: 'CLOSE-WAIT', make: () => closeWaitConnection(), rcvNxt: r(2), sndNxt: l(1), sndUna: l(1), window: WINDOW - 1, resetIsError: true, afterFin: 'CLOSE-WAIT' },
  { state: 'CLOSING', make: () => closingConnection(), rcvNxt: r(2), sndNxt: l(2), sndUna: l(1), window: WINDOW - 1, resetIsError: false, afterFin: 'TIME-WAIT' },
  { state: 'LAST-ACK', make: () => lastAckConnection(), rcvNxt: r(2), sndNxt: l(2), sndUna: l(1), window: WINDOW - 1, resetIsError: false, afterFin: 'CLOSED' },
  { state: 'TIME-WAIT', make: () => timeWaitConnection(), rcvNxt: r(2), sndNxt: l(2), sndUna: l(2), window: WINDOW - 1, resetIsError: false, afterFin: 'TIME-WAIT' },
];

function challengeAck(c: StateCase) {
  return toPeer({ seq: c.sndNxt, ack: c.rcvNxt, window: c.window });
}

for (const c of STATES) {
  describe(c.state, () => {
    test(`${c.state}: RST at exactly RCV.NXT -> CLOSED${c.resetIsError ? ', error reset' : ''}`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: RST, seq: c.rcvNxt, ack: 0 }));
      assert.equal(conn.state, 'CLOSED');
      expectNothing(conn);
      expectEvents(conn, c.resetIsError ? [{ type: 'error', error: 'reset' }, { type: 'closed' }] : [{ type: 'closed' }]);
      assert.equal(conn.pollTimeout(), undefined);
    });

    test(`${c.state}: RST in the window but not at RCV.NXT -> challenge ACK`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: RST | ACK, seq: (c.rcvNxt + 1) >>> 0, ack: c.sndUna }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
      expectEvents(conn, []);
    });

    test(`${c.state}: RST at the end of the window -> challenge ACK`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: RST, seq: (c.rcvNxt + c.window - 1) >>> 0, ack: 0 }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
    });

    test(`${c.state}: RST outside the window -> dropped silently`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: RST, seq: (c.rcvNxt + c.window) >>> 0, ack: 0 }));
      send(conn, fromPeer({ flags: RST, seq: (c.rcvNxt - 1) >>> 0, ack: 0 }));
      expectNothing(conn);
      assert.equal(conn.state, c.state);
    });

    test(`${c.state}: SYN in the window -> challenge ACK`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: SYN, seq: (c.rcvNxt + 10) >>> 0, ack: 0 }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
      expectEvents(conn, []);
    });

    test(`${c.state}: SYN at RCV.NXT with an ACK -> challenge ACK`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: SYN | ACK, seq: c.rcvNxt, ack: c.sndUna }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
    });

    test(`${c.state}: SYN outside the window -> ACK`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: SYN, seq: (c.rcvNxt + 100_000) >>> 0, ack: 0 }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
    });

    test(`${c.state}: ACK of data never sent -> ACK, segment dropped`, () => {
      const conn = c.make();
      send(conn, fromPeer({ seq: c.rcvNxt, ack: (c.sndNxt + 1) >>> 0 }));
      expectSent(conn, 0, [challengeAck(c)]);
      assert.equal(conn.state, c.state);
    });

    test(`${c.state}: FIN at RCV.NXT`, () => {
      const conn = c.make();
      send(conn, fromPeer({ flags: FIN | ACK, seq: c.rcvNxt, ack: c.sndNxt }));
      assert.equal(conn.state, c.afterFin);
      const sent = drain(conn);
      if (c.afterFin !== 'CLOSED') assert.ok(sent.length <= 1);
    });
  });
}

describe('RFC 5961 5.2: ACK acceptability (ESTABLISHED)', () => {
  test('ESTABLISHED: an ACK older than SND.UNA - MAX.SND.WND -> ACK, the segment (and its data) dropped', () => {
    const conn = establishedConnection();
    send(conn, fromPeer({ ack: (l(1) - 65536) >>> 0, payload: 'injected' }));
    expectSent(conn, 0, [toPeer()]);
    assert.equal(conn.receiveAvailable, 0);
  });

  test('ESTABLISHED: an old ACK within MAX.SND.WND is a duplicate: the data is taken', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(4) }));
    send(conn, fromPeer({ ack: l(1), payload: 'data' }));
    expectSent(conn, 0, [toPeer({ seq: l(4), ack: r(5), window: WINDOW - 4 })]);
    assert.equal(readAll(conn), 'data');
  });

  test('ESTABLISHED: an ACK of data not yet sent -> ACK, the data dropped', () => {
    const conn = establishedConnection();
    write(conn, 'abc');
    drain(conn);
    send(conn, fromPeer({ ack: l(10), payload: 'data' }));
    expectSent(conn, 0, [toPeer({ seq: l(4) })]);
    assert.equal(conn.receiveAvailable, 0);
    assert.equal(conn.info().sendQueue, 3);
  });

  test('after a timeout sent data goes back, but an ACK of it is still acceptable (SND.MAX)', () => {
    const conn = establishedConnection();
    conn.setNoDelay(true);
    write(conn, 'abc');
    write(conn, 'def');
    drain(conn);
    conn.handleTimeout(millis(200));
    expectSent(conn, millis(200), [toPeer({ flags: PSH | ACK, payload: 'abcdef' })]);
    send(conn, fromPeer({ ack: l(7) }), millis(210));
    assert.equal(conn.info().sendQueue, 0);
  });
});

describe('RFC 5961 7: challenge ACK throttling', () => {
  test('at most 10 challenge ACKs per second per connection', () => {
    const conn = establishedConnection();
    let acks = 0;
    for (let i = 0; i < 15; i++) {
      send(conn, fromPeer({ flags: RST, seq: r(100 + i), ack: 0 }), millis(i));
      acks += drain(conn, millis(i)).length;
    }
    assert.equal(acks, 10);
    send(conn, fromPeer({ flags: SYN, seq: r(100), ack: 0 }), seconds(1));
    assert.equal(drain(conn, seconds(1)).length, 1);
    assert.equal(conn.state, 'ESTABLISHED');
  });

  test('ACKs answering an ACK of unsent data are throttled too (no endless ACK exchange)', () => {
    const conn = establishedConnection();
    let acks = 0;
    for (let i = 0; i < 50; i++) {
      send(conn, fromPeer({ ack: l(1000) }), millis(i));
      acks += drain(conn, millis(i)).length;
    }
    assert.equal(acks, 10);
    assert.equal(conn.state, 'ESTABLISHED');
  });

  test('ordinary ACKs for out-of-window segments are not throttled', () => {
    const conn = establishedConnection();
    let acks = 0;
    for (let i = 0; i < 30; i++) {
      send(conn, fromPeer({ seq: r(0), ack: l(1) }), millis(i));
      acks += drain(conn, millis(i)).length;
    }
    assert.equal(acks, 30);
    events(conn);
  });
});
