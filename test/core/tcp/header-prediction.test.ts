/**
 * Header prediction (`segment-arrival.ts`, `predictedText`): in-order text that acknowledges
 * nothing new, at an ESTABLISHED connection with nothing of its own in flight or waiting,
 * skips the full RFC 9293 3.10.7 path. The differential property (the same segments, timers
 * and outcome with it off, over loss, reordering and every option) is in pair.test.ts; here,
 * the cases where the fast path must do what the full path does, or stand aside, each checked
 * both ways.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { TcpOption } from '../../../src/wire/tcp.js';
import { BUFFER, drain, establishedConnection, fromPeer, l, pattern, r, send, write } from './harness.js';

const MSS = 1460;

/** The same scenario with header prediction on and off: both must end the same; returns the connection with it on. */
function bothWays(scenario: (conn: TcpConnection) => void, options: Parameters<typeof establishedConnection>[0] = {}): TcpConnection {
  const results = [true, false].map((on) => {
    const conn = establishedConnection(options);
    conn.setHeaderPrediction(on);
    scenario(conn);
    return { conn, info: conn.info(), sent: drain(conn), timers: conn.timers() };
  });
  const [on, off] = results as [typeof results[0], typeof results[0]];
  assert.deepEqual(on.info, off.info, 'the same state');
  assert.deepEqual(on.sent, off.sent, 'the same segments owed');
  assert.deepEqual(on.timers, off.timers, 'the same timers');
  return on.conn;
}

describe('header prediction', () => {
  test('in-order text is taken: RCV.NXT moves, the bytes are readable', () => {
    const conn = bothWays((c) => send(c, fromPeer({ payload: pattern(1000) })));
    assert.equal(conn.info().receiveQueue, 1000);
  });

  test('a new window in in-order text is the send window (SND.WL1/WL2 rule)', () => {
    const conn = bothWays((c) => {
      send(c, fromPeer({ payload: pattern(500), window: 30_000 }));
      send(c, fromPeer({ seq: r(501), payload: pattern(500, 500), window: 20_000 }));
    });
    assert.equal(conn.info().sendWindow, 20_000);
  });

  test('text beyond the receive window is cut to it, as the full path cuts it', () => {
    const conn = bothWays((c) => send(c, fromPeer({ payload: pattern(BUFFER + 600) })));
    assert.equal(conn.info().receiveQueue, BUFFER);
  });

  test('with our data in flight, a SACK block on the peer\'s text is taken (the full path, not the fast one)', () => {
    const sack: TcpOption[] = [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [{ left: l(1 + MSS), right: l(1 + 2 * MSS) }] }];
    const conn = bothWays((c) => {
      write(c, pattern(3 * MSS));
      drain(c);
      send(c, fromPeer({ payload: pattern(100), options: sack }));
    }, { peerSackPermitted: true, config: { sendBufferSize: 64 * 1024 } });
    assert.equal(conn.info().sackedBytes, MSS);
  });

  test('out-of-order text, a FIN, an ACK of new data: the full path', () => {
    bothWays((c) => {
      send(c, fromPeer({ seq: r(101), payload: pattern(50) }));
      send(c, fromPeer({ payload: pattern(100) }));
      send(c, fromPeer({ seq: r(151), payload: pattern(10), flags: 0x11 }));
    });
  });
});
