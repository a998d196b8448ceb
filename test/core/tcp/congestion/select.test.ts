/**
 * Choosing the congestion controller (issue 6: "CUBIC as the default, NewReno selectable per
 * host and per socket"): `TcpConfig.congestionControl` for every connection of a host,
 * `TcpConnection.setCongestionControl` for one (cwnd and ssthresh carry over), and `info()`
 * saying which is in use.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../../src/time/instant.js';
import { TCP_DEFAULTS } from '../../../../src/core/tcp/types.js';
import { ACK, drain, establishedConnection, fromPeer, l, pattern, PEER_WINDOW, peerSynOptions, REMOTE_ISS, send, SYN, synSentConnection, write } from '../harness.js';

const MSS = 1460;

describe('congestion control: the default, per host, per connection', () => {
  test('CUBIC is the default; HyStart++ is on', () => {
    assert.equal(TCP_DEFAULTS.congestionControl, 'cubic');
    assert.equal(TCP_DEFAULTS.hystart, true);
    assert.equal(establishedConnection().info().congestionControl, 'cubic');
  });

  test('the configuration chooses NewReno', () => {
    assert.equal(establishedConnection({ config: { congestionControl: 'newreno' } }).info().congestionControl, 'newreno');
  });

  test('setCongestionControl swaps the controller and keeps cwnd and ssthresh', () => {
    const conn = establishedConnection({ config: { sendBufferSize: 64 * 1024 } });
    conn.setNoDelay(true);
    write(conn, pattern(20 * MSS));
    drain(conn);
    conn.handleTimeout(millis(200)); // RTO: cwnd 1 SMSS, ssthresh from CUBIC's beta
    drain(conn, millis(200));
    const before = conn.info();
    assert.equal(before.congestionControl, 'cubic');
    assert.equal(before.ssthresh, Math.floor(3 * MSS * 0.7), 'three segments were in flight');
    assert.equal(conn.setCongestionControl('newreno'), true);
    const after = conn.info();
    assert.equal(after.congestionControl, 'newreno');
    assert.equal(after.cwnd, before.cwnd);
    assert.equal(after.ssthresh, before.ssthresh);
    // The new controller runs from here: NewReno's slow start, one SMSS per ACK.
    send(conn, fromPeer({ ack: l(1 + MSS) }), millis(210));
    assert.equal(conn.info().cwnd, 2 * MSS);
    assert.equal(conn.setCongestionControl('cubic'), true);
    assert.equal(conn.info().congestionControl, 'cubic');
    assert.equal(conn.info().cwnd, 2 * MSS);
  });

  test('an unknown name changes nothing and returns false', () => {
    const conn = establishedConnection();
    assert.equal(conn.setCongestionControl('vegas'), false);
    assert.equal(conn.info().congestionControl, 'cubic');
  });

  test('chosen before the handshake completes, it is the one the connection starts with', () => {
    const conn = synSentConnection();
    assert.equal(conn.setCongestionControl('newreno'), true);
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: peerSynOptions(), window: PEER_WINDOW }));
    assert.equal(conn.state, 'ESTABLISHED');
    assert.equal(conn.info().congestionControl, 'newreno');
  });
});
