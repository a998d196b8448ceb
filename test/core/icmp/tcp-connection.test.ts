/**
 * The two connection methods ICMP needs, on a bare `TcpConnection` (the harness of
 * test/core/tcp): `handleIcmpError` (RFC 5927 sequence check, hard errors in SYN-SENT, soft
 * errors remembered) and `setPathMss` (only down; what is in flight goes again in smaller
 * segments, no congestion response).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  LOCAL_ISS, drain, establishedConnection, events, fromPeer, l, synSentConnection, timeWaitConnection, write,
} from '../tcp/harness.js';

const HOST_UNREACHABLE = { kind: 'host-unreachable', hard: false } as const;
const PORT_UNREACHABLE = { kind: 'port-unreachable', hard: true } as const;

describe('TcpConnection.handleIcmpError', () => {
  test('SYN-SENT: a hard error with the SYN\'s sequence number -> \'refused\', CLOSED', () => {
    const c = synSentConnection();
    assert.equal(c.handleIcmpError(0, PORT_UNREACHABLE, LOCAL_ISS), true);
    assert.equal(c.state, 'CLOSED');
    assert.deepEqual(events(c), [{ type: 'error', error: 'refused' }, { type: 'closed' }]);
  });

  test('SYN-SENT: a soft error is only remembered', () => {
    const c = synSentConnection();
    assert.equal(c.handleIcmpError(0, HOST_UNREACHABLE, LOCAL_ISS), true);
    assert.equal(c.state, 'SYN-SENT');
    assert.equal(c.softError, 'host-unreachable');
    assert.deepEqual(events(c), []);
  });

  test('sequence numbers outside SND.UNA..SND.MAX are refused (RFC 5927); SND.MAX itself counts', () => {
    const c = establishedConnection();
    write(c, 'abc');
    drain(c);
    for (const seq of [l(0), l(5), l(1) + 1_000_000]) assert.equal(c.handleIcmpError(0, PORT_UNREACHABLE, seq >>> 0), false, String(seq));
    assert.equal(c.softError, undefined);
    assert.equal(c.handleIcmpError(0, PORT_UNREACHABLE, l(1)), true);
    assert.equal(c.handleIcmpError(0, HOST_UNREACHABLE, l(4)), true);
    assert.equal(c.state, 'ESTABLISHED', 'hard errors do not abort a synchronized connection (RFC 5461)');
    assert.equal(c.softError, 'host-unreachable');
    // The peer acknowledges the data: the soft error is forgotten.
    c.handleSegment(0, fromPeer({ ack: l(4) }));
    assert.equal(c.softError, undefined);
  });

  test('TIME-WAIT and CLOSED: nothing to tell', () => {
    assert.equal(timeWaitConnection().handleIcmpError(0, PORT_UNREACHABLE, l(2)), false);
  });
});

describe('TcpConnection.setPathMss', () => {
  test('lowers the send MSS and sends what was in flight again from SND.UNA in smaller segments', () => {
    const c = establishedConnection();
    c.setNoDelay(true);
    write(c, new Uint8Array(3000).fill(1));
    const first = drain(c);
    assert.deepEqual(first.map((s) => s.payload.length), [1460, 1460, 80]);
    const cwnd = c.info().cwnd;
    assert.equal(c.setPathMss(0, 1000), true);
    assert.equal(c.info().mss, 1000);
    const again = drain(c);
    assert.ok(again.length >= 2);
    assert.equal(again[0]!.seq, 'l+1');
    assert.ok(again.every((s) => s.payload.length <= 1000));
    assert.ok(c.info().retransmissions >= 1);
    assert.equal(c.info().cwnd, cwnd, 'no congestion response');
  });

  test('only ever down; never below what a new value allows; ignored once CLOSED', () => {
    const c = establishedConnection();
    assert.equal(c.setPathMss(0, 1460), false);
    assert.equal(c.setPathMss(0, 2000), false);
    assert.equal(c.setPathMss(0, 536), true);
    assert.equal(c.setPathMss(0, 600), false);
    assert.equal(c.info().mss, 536);
    c.abort(0);
    assert.equal(c.setPathMss(0, 100), false);
  });

  test('before the handshake: the path MSS caps what the peer\'s MSS option allows', () => {
    const c = synSentConnection();
    assert.equal(c.setPathMss(0, 1200), true);
    c.handleSegment(0, fromPeer({ flags: 0x12, seq: 0xffff_ff00, ack: l(1), options: [{ kind: 'mss', value: 1460 }] }));
    assert.equal(c.state, 'ESTABLISHED');
    assert.equal(c.info().mss, 1200);
  });
});
