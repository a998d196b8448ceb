/**
 * Opening a connection: SYN-SENT (active open), SYN-RECEIVED (passive open), simultaneous
 * open, and MSS negotiation (RFC 9293 3.5, 3.7.1, 3.10.7.2, 3.10.7.3, 3.10.7.4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpConnection } from '../../../src/core/tcp/connection.js';
import { DEFAULT_MSS_IPV4, DEFAULT_MSS_IPV6 } from '../../../src/core/tcp/types.js';
import { millis, seconds } from '../../../src/time/instant.js';
import {
  ACK, FIN, LOCAL, LOCAL_ISS, PSH, REMOTE, REMOTE_ISS, RST, SYN, WINDOW, activeEstablishedConnection, drain,
  establishedConnection, expectEvents, expectNothing, expectSent, fromPeer, l, ourSyn, ourSynAck, params, peerSyn,
  r, readAll, send, synReceivedConnection, synSentConnection, toPeer, write,
} from './harness.js';

describe('SYN-SENT', () => {
  test('connect: SYN with our MSS, state SYN-SENT, retransmission timer at the initial RTO', () => {
    const conn = TcpConnection.connect(params());
    assert.equal(conn.state, 'SYN-SENT');
    expectSent(conn, 0, [ourSyn()]);
    assert.equal(conn.pollTimeout(), seconds(1));
    expectEvents(conn, []);
  });

  test('SYN-SENT: SYN,ACK -> ACK, ESTABLISHED, connected', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: [{ kind: 'mss', value: 1400 }] }), millis(30));
    assert.equal(conn.state, 'ESTABLISHED');
    expectSent(conn, millis(30), [toPeer()]);
    expectEvents(conn, [{ type: 'connected' }]);
    const info = conn.info();
    assert.equal(info.mss, 1400);
    assert.equal(info.srtt, millis(30), 'the handshake gave the first RTT sample');
    assert.equal(info.sendWindow, 65535);
  });

  test('SYN-SENT: SYN,ACK carrying data -> the data is delivered and ACKed once', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: SYN | ACK | PSH, seq: REMOTE_ISS, ack: l(1), payload: 'hello' }));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: WINDOW - 5 })]);
    expectEvents(conn, [{ type: 'connected' }, { type: 'readable' }]);
    assert.equal(readAll(conn), 'hello');
  });

  test('SYN-SENT: SYN,ACK with FIN -> ESTABLISHED then CLOSE-WAIT', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: SYN | ACK | FIN, seq: REMOTE_ISS, ack: l(1) }));
    assert.equal(conn.state, 'CLOSE-WAIT');
    // The FIN took a sequence number; the right edge of the window stays (RFC 9293 3.8.6.2.2).
    expectSent(conn, 0, [toPeer({ ack: r(2), window: WINDOW - 1 })]);
    expectEvents(conn, [{ type: 'connected' }, { type: 'peer-closed' }]);
  });

  test('SYN-SENT: ACK too low (=< ISS) -> RST <SEQ=SEG.ACK>, still SYN-SENT', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: LOCAL_ISS }));
    expectSent(conn, 0, [toPeer({ flags: RST, seq: LOCAL_ISS, ack: 0, window: 0 })]);
    assert.equal(conn.state, 'SYN-SENT');
  });

  test('SYN-SENT: ACK too high (> SND.NXT) -> RST <SEQ=SEG.ACK>', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: ACK, seq: REMOTE_ISS, ack: l(5) }));
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(5), ack: 0, window: 0 })]);
    assert.equal(conn.state, 'SYN-SENT');
  });

  test('SYN-SENT: bad ACK with RST -> dropped, no reply', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: RST | ACK, seq: REMOTE_ISS, ack: l(5) }));
    expectNothing(conn);
    assert.equal(conn.state, 'SYN-SENT');
  });

  test('SYN-SENT: RST with an acceptable ACK -> refused, CLOSED', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: RST | ACK, seq: 0, ack: l(1), window: 0 }));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'refused' }, { type: 'closed' }]);
    expectNothing(conn);
    assert.equal(conn.pollTimeout(), undefined);
  });

  test('SYN-SENT: RST without ACK -> dropped', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: RST, seq: REMOTE_ISS, ack: 0 }));
    assert.equal(conn.state, 'SYN-SENT');
    expectNothing(conn);
    expectEvents(conn, []);
  });

  test('SYN-SENT: neither SYN nor RST -> dropped', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: ACK, seq: REMOTE_ISS, ack: l(1) }));
    send(conn, fromPeer({ flags: FIN | ACK, seq: REMOTE_ISS, ack: l(1) }));
    send(conn, fromPeer({ flags: 0, seq: REMOTE_ISS, ack: 0, payload: 'x' }));
    assert.equal(conn.state, 'SYN-SENT');
    expectNothing(conn);
  });

  test('SYN-SENT: SYN without ACK (simultaneous open) -> SYN,ACK, SYN-RECEIVED', () => {
    const conn = synSentConnection();
    send(conn, peerSyn());
    assert.equal(conn.state, 'SYN-RECEIVED');
    expectSent(conn, 0, [ourSynAck()]);
    expectEvents(conn, []);
  });

  test('SYN-SENT: SYN retransmitted with backoff, then timed-out after maxSynRetransmissions', () => {
    const conn = synSentConnection({ config: { maxSynRetransmissions: 2 } });
    let now = 0;
    for (const rto of [seconds(1), seconds(2)]) {
      now += rto;
      assert.equal(conn.pollTimeout(), now);
      conn.handleTimeout(now);
      // The same SYN, its TSval from the clock of the moment (RFC 7323 3.2).
      expectSent(conn, now, [ourSyn({ now })]);
    }
    now += seconds(4);
    assert.equal(conn.pollTimeout(), now);
    conn.handleTimeout(now);
    assert.equal(conn.state, 'CLOSED');
    expectNothing(conn, now);
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
    assert.equal(conn.info().retransmissions, 2);
  });

  test('SYN-SENT: after a retransmitted SYN no RTT sample, RTO 3 s (RFC 6298 5.7), IW one segment (RFC 5681 3.1)', () => {
    const conn = synSentConnection();
    conn.handleTimeout(seconds(1));
    expectSent(conn, seconds(1), [ourSyn({ now: seconds(1) })]);
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: [{ kind: 'mss', value: 1460 }] }), seconds(1) + millis(50));
    const info = conn.info();
    assert.equal(info.srtt, undefined);
    assert.equal(info.rto, seconds(3));
    assert.equal(info.cwnd, 1460);
  });

  test('SYN-SENT: close -> CLOSED without a segment', () => {
    const conn = synSentConnection();
    conn.close(0);
    assert.equal(conn.state, 'CLOSED');
    expectNothing(conn);
    expectEvents(conn, [{ type: 'closed' }]);
  });

  test('SYN-SENT: data written before the handshake goes after it', () => {
    const conn = synSentConnection();
    write(conn, 'early');
    expectNothing(conn);
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1) }));
    expectSent(conn, 0, [toPeer({ flags: PSH | ACK, payload: 'early' })]);
  });
});

describe('SYN-RECEIVED', () => {
  test('accept: SYN,ACK with our MSS, state SYN-RECEIVED', () => {
    const conn = TcpConnection.accept(params(), peerSyn());
    assert.equal(conn.state, 'SYN-RECEIVED');
    expectSent(conn, 0, [ourSynAck()]);
    expectEvents(conn, []);
  });

  test('SYN-RECEIVED: ACK -> ESTABLISHED, connected', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer(), millis(20));
    assert.equal(conn.state, 'ESTABLISHED');
    expectNothing(conn, millis(20));
    expectEvents(conn, [{ type: 'connected' }]);
    assert.equal(conn.info().srtt, millis(20));
  });

  test('SYN-RECEIVED: ACK with data -> ESTABLISHED, data delivered', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ flags: ACK | PSH, payload: 'abc' }));
    assert.equal(conn.state, 'ESTABLISHED');
    expectSent(conn, 0, [toPeer({ ack: r(4), window: WINDOW - 3 })]);
    expectEvents(conn, [{ type: 'connected' }, { type: 'readable' }]);
  });

  test('SYN-RECEIVED: ACK out of window (too high) -> RST', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ ack: l(10) }));
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(10), ack: 0, window: 0 })]);
    assert.equal(conn.state, 'SYN-RECEIVED');
  });

  test('SYN-RECEIVED: ACK of nothing (= ISS) -> RST', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ ack: LOCAL_ISS }));
    expectSent(conn, 0, [toPeer({ flags: RST, seq: LOCAL_ISS, ack: 0, window: 0 })]);
    assert.equal(conn.state, 'SYN-RECEIVED');
  });

  test('SYN-RECEIVED: segment without ACK -> dropped', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ flags: PSH, payload: 'x' }));
    assert.equal(conn.state, 'SYN-RECEIVED');
    expectNothing(conn);
  });

  test('SYN-RECEIVED: retransmitted SYN -> SYN,ACK again', () => {
    const conn = synReceivedConnection();
    send(conn, peerSyn());
    expectSent(conn, 0, [ourSynAck()]);
    assert.equal(conn.state, 'SYN-RECEIVED');
  });

  test('SYN-RECEIVED: sequence number out of window -> ACK', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ seq: r(1 + WINDOW) }));
    expectSent(conn, 0, [toPeer()]);
    assert.equal(conn.state, 'SYN-RECEIVED');
  });

  test('SYN-RECEIVED (passive): RST at RCV.NXT -> CLOSED quietly', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ flags: RST, ack: 0 }));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'closed' }]);
  });

  test('SYN-RECEIVED (active, simultaneous open): RST at RCV.NXT -> refused', () => {
    const conn = synSentConnection();
    send(conn, peerSyn());
    expectSent(conn, 0, [ourSynAck()]);
    send(conn, fromPeer({ flags: RST, ack: 0 }));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'refused' }, { type: 'closed' }]);
  });

  test('SYN-RECEIVED: RST in window but not at RCV.NXT -> challenge ACK', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ flags: RST, seq: r(100), ack: 0 }));
    expectSent(conn, 0, [toPeer()]);
    assert.equal(conn.state, 'SYN-RECEIVED');
  });

  test('SYN-RECEIVED (passive): SYN in window -> back to LISTEN (this connection ends quietly)', () => {
    const conn = synReceivedConnection();
    send(conn, fromPeer({ flags: SYN, seq: r(50), ack: 0 }));
    assert.equal(conn.state, 'CLOSED');
    expectNothing(conn);
    expectEvents(conn, [{ type: 'closed' }]);
  });

  test('SYN-RECEIVED: SYN,ACK retransmitted with backoff, then timed-out', () => {
    const conn = synReceivedConnection({ config: { maxSynRetransmissions: 1 } });
    conn.handleTimeout(seconds(1));
    expectSent(conn, seconds(1), [ourSynAck()]);
    assert.equal(conn.pollTimeout(), seconds(3));
    conn.handleTimeout(seconds(3));
    assert.equal(conn.state, 'CLOSED');
    expectEvents(conn, [{ type: 'error', error: 'timed-out' }, { type: 'closed' }]);
  });

  test('SYN-RECEIVED: close -> FIN-WAIT-1; the SYN,ACK is still retransmitted, the FIN follows the handshake', () => {
    const conn = synReceivedConnection();
    conn.close(0);
    assert.equal(conn.state, 'FIN-WAIT-1');
    expectNothing(conn);
    conn.handleTimeout(seconds(1));
    expectSent(conn, seconds(1), [ourSynAck()]);
    send(conn, fromPeer(), seconds(1));
    assert.equal(conn.state, 'FIN-WAIT-1');
    expectSent(conn, seconds(1), [toPeer({ flags: FIN | ACK })]);
    send(conn, fromPeer({ ack: l(2) }), seconds(1));
    assert.equal(conn.state, 'FIN-WAIT-2');
  });

  test('SYN-RECEIVED: abort -> RST <SEQ=SND.NXT>, CLOSED', () => {
    const conn = synReceivedConnection();
    conn.abort(0);
    assert.equal(conn.state, 'CLOSED');
    expectSent(conn, 0, [toPeer({ flags: RST, seq: l(1), ack: 0, window: 0 })]);
    expectEvents(conn, [{ type: 'closed' }]);
  });
});

describe('simultaneous open (RFC 9293 Figure 8)', () => {
  test('two SYN-SENT ends cross SYNs and both reach ESTABLISHED', () => {
    const conn = synSentConnection();
    // 3. SYN-RECEIVED <-- <SEQ=300><CTL=SYN>
    send(conn, peerSyn());
    assert.equal(conn.state, 'SYN-RECEIVED');
    // 5. SYN-RECEIVED --> <SEQ=100><ACK=301><CTL=SYN,ACK>
    expectSent(conn, 0, [ourSynAck()]);
    // 6. ESTABLISHED <-- <SEQ=300><ACK=101><CTL=SYN,ACK>
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1) }));
    assert.equal(conn.state, 'ESTABLISHED');
    expectEvents(conn, [{ type: 'connected' }]);
    expectNothing(conn);
  });

  test('the SYN,ACK lost: the peer\'s ACK completes it instead', () => {
    const conn = synSentConnection();
    send(conn, peerSyn());
    expectSent(conn, 0, [ourSynAck()]);
    send(conn, fromPeer());
    assert.equal(conn.state, 'ESTABLISHED');
    expectEvents(conn, [{ type: 'connected' }]);
  });
});

describe('MSS negotiation (RFC 9293 3.7.1)', () => {
  test('the peer\'s MSS below ours is used', () => {
    const conn = establishedConnection({ peerMss: 1000 });
    assert.equal(conn.info().mss, 1000);
    write(conn, 'x'.repeat(2500));
    conn.setNoDelay(true);
    const sent = drain(conn);
    assert.deepEqual(sent.map((s) => s.payload.length), [1000, 1000, 500]);
  });

  test('the peer\'s MSS above ours: ours caps it', () => {
    const conn = establishedConnection({ peerMss: 9000 });
    assert.equal(conn.info().mss, 1460);
  });

  test('no MSS option from an IPv4 peer: 536', () => {
    const conn = establishedConnection({ peerMss: null });
    assert.equal(conn.info().mss, DEFAULT_MSS_IPV4);
  });

  test('no MSS option from an IPv6 peer: 1220', () => {
    const local = { address: new Uint8Array(16).fill(1), port: 80 };
    const remote = { address: new Uint8Array(16).fill(2), port: 49500 };
    const conn = TcpConnection.accept({ ...params(), local, remote }, peerSyn({ peerMss: null }));
    assert.equal(conn.info().mss, DEFAULT_MSS_IPV6);
  });

  test('no MSS option, active open: 536', () => {
    const conn = activeEstablishedConnection({ peerMss: null });
    assert.equal(conn.info().mss, DEFAULT_MSS_IPV4);
  });

  test('a tiny MSS from the peer is floored (no 1-byte segments)', () => {
    const conn = establishedConnection({ peerMss: 1 });
    assert.equal(conn.info().mss, 64);
  });

  test('window scaling, SACK and timestamps off: the peer\'s window scale, SACK-permitted and timestamps are ignored; we send none', () => {
    const config = { windowScaling: false, timestamps: false, sack: false };
    const conn = TcpConnection.accept(params({ config }), fromPeer({
      flags: SYN, seq: REMOTE_ISS, ack: 0,
      options: [{ kind: 'mss', value: 1200 }, { kind: 'window-scale', shift: 7 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsVal: 1, tsEcr: 0 }, { kind: 'nop' }],
    }));
    expectSent(conn, 0, [ourSynAck({ config })]);
    // Without window scaling agreed, the window field is taken as is.
    send(conn, fromPeer({ window: 100, options: [{ kind: 'timestamps', tsVal: 2, tsEcr: 3 }, { kind: 'nop' }, { kind: 'nop' }] }));
    assert.equal(conn.info().sendWindow, 100);
    assert.equal(conn.info().mss, 1200);
    assert.equal(conn.info().sackPermitted, false);
  });

  test('the endpoints are the params\'', () => {
    const conn = synSentConnection();
    assert.equal(conn.local, LOCAL);
    assert.equal(conn.remote, REMOTE);
  });
});
