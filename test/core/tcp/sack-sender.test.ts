/**
 * The SACK sender: the peer's blocks on the scoreboard (RFC 6675), RACK's loss detection and
 * its reorder timer (RFC 8985 6), recovery paced by PRR (RFC 6937), RTO recovery that resends
 * only what was not SACKed (RFC 8985 6.3), tail loss probes (RFC 8985 7), and the fallbacks:
 * DupThresh for a peer that permits SACK and sends no blocks, NewReno for a peer without SACK.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { millis } from '../../../src/time/instant.js';
import type { Instant } from '../../../src/time/instant.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import { Prr } from '../../../src/core/tcp/prr.js';
import { Rack } from '../../../src/core/tcp/rack.js';
import { RETRANSMITTED, Scoreboard } from '../../../src/core/tcp/scoreboard.js';
import type { SackBlock, TcpOption } from '../../../src/wire/tcp.js';
import { drain, establishedConnection, fromPeer, l, pattern, send, write } from './harness.js';
import type { SegView } from './harness.js';

const MSS = 1460;
const STREAM = pattern(40 * MSS);

/** The SACK options of an ACK, with blocks given as segment numbers [first, last] of the stream. */
function sackOf(...ranges: [number, number][]): TcpOption[] {
  const blocks = ranges.map(([a, b]): SackBlock => ({ left: l(1 + a * MSS), right: l(1 + (b + 1) * MSS) }));
  return [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks }];
}

/** An ACK of segments before `next` (segment numbers), with SACK blocks. */
function ackOf(next: number, ...ranges: [number, number][]) {
  return fromPeer({ ack: l(1 + next * MSS), options: ranges.length === 0 ? [] : sackOf(...ranges) });
}

/** The segment numbers in a batch of sent segments. */
function numbers(segs: readonly SegView[]): number[] {
  return segs.filter((s) => s.payload.length > 0).map((s) => (Number(s.seq.slice(2)) - 1) / MSS);
}

/**
 * A SACK connection (NewReno's arithmetic, to keep the numbers round) with at least `n`
 * segments in flight: the initial window at t = 0, then one ACK of one more segment every
 * 10 ms in slow start. `a` is the first segment not acknowledged.
 */
function sending(n: number, congestionControl: 'newreno' | 'cubic' = 'newreno'): { conn: TcpConnection; now: Instant; a: number } {
  const conn = establishedConnection({ peerSackPermitted: true, config: { sendBufferSize: 256 * 1024, congestionControl, hystart: false } });
  conn.setNoDelay(true);
  write(conn, STREAM);
  let sent = numbers(drain(conn, 0));
  let acked = 0;
  let now = 0;
  while (sent.length - acked < n) {
    now += millis(10);
    acked++;
    send(conn, ackOf(acked), now);
    sent = sent.concat(numbers(drain(conn, now)));
  }
  assert.deepEqual(sent, Array.from({ length: sent.length }, (_, i) => i), 'every segment once, in order');
  return { conn, now, a: acked };
}

describe('SACK sender: RACK loss detection (RFC 8985 6)', () => {
  test('one segment SACKed above a hole: nothing resent yet, the reorder timer armed; on expiry the hole alone is resent', () => {
    const { conn, now, a: acked } = sending(6);
    const t = now + millis(10);
    send(conn, ackOf(acked, [acked + 1, acked + 1]), t);
    const first = numbers(drain(conn, t));
    assert.ok(!first.includes(acked), 'the hole is not resent at once');
    assert.equal(conn.info().sackedBytes, MSS);
    const reorder = conn.timers().find(([kind]) => kind === 'reorder');
    assert.ok(reorder !== undefined, 'RACK armed its reorder timer');
    assert.ok(reorder[1] > t && reorder[1] <= t + millis(10), `the timer is within the reordering window (${reorder[1] - t} µs)`);
    conn.handleTimeout(reorder[1]);
    assert.deepEqual(numbers(drain(conn, reorder[1])), [acked], 'the hole, and only the hole');
    const info = conn.info();
    assert.equal(info.lossRecovery, 'fast-recovery');
    assert.equal(info.fastRecoveries, 1);
    assert.equal(info.retransmissions, 1);
  });

  test('three segments SACKed above a hole: it is lost at once (reo_wnd 0 once DupThresh segments are SACKed)', () => {
    const { conn, now, a: acked } = sending(8);
    const t = now + millis(10);
    send(conn, ackOf(acked, [acked + 1, acked + 3]), t);
    const out = numbers(drain(conn, t));
    assert.equal(out[0], acked, 'the hole goes first');
    assert.ok(!out.slice(1).some((n) => n <= acked + 3), 'nothing SACKed is resent');
    assert.equal(conn.info().lossRecovery, 'fast-recovery');
    assert.equal(conn.info().lostBytes, MSS);
  });

  test('two holes: both are resent, in order, and SACKed data never is', () => {
    const { conn, now, a } = sending(10);
    const t = now + millis(10);
    send(conn, ackOf(a, [a + 1, a + 3], [a + 5, a + 7]), t);
    const out = numbers(drain(conn, t));
    assert.deepEqual(out.filter((n) => n <= a + 7), [a, a + 4]);
    // The peer gets both: the cumulative ACK moves past the SACKed data and recovery ends.
    const t2 = t + millis(10);
    send(conn, ackOf(a + 10), t2);
    drain(conn, t2);
    const info = conn.info();
    assert.equal(info.sackedBytes, 0);
    assert.equal(info.lostBytes, 0);
    assert.equal(info.retransmissions, 2);
  });

  test('PRR: in recovery, about ssthresh/RecoverFS of what is delivered is sent (no burst, no stall)', () => {
    const { conn, now, a } = sending(16);
    let t = now + millis(10);
    send(conn, ackOf(a, [a + 1, a + 3]), t);
    let sent = numbers(drain(conn, t)).length;
    const flight = 16;
    // Each further ACK SACKs one more segment: PRR sends about one for every two (NewReno halves).
    for (let k = 4; k < flight; k++) {
      t += millis(1);
      send(conn, ackOf(a, [a + 1, a + k]), t);
      sent += numbers(drain(conn, t)).length;
    }
    const delivered = flight - 1;
    assert.ok(sent >= Math.floor(delivered / 2) - 1 && sent <= Math.ceil(delivered / 2) + 2, `sent ${sent} for ${delivered} delivered`);
    const info = conn.info();
    assert.ok(info.pipe <= info.ssthresh + MSS, 'pipe came down to ssthresh');
    assert.equal(info.lossRecovery, 'fast-recovery');
    assert.ok(info.cwnd >= info.pipe && info.cwnd <= info.pipe + 2 * MSS, `cwnd ${info.cwnd} is PRR's: pipe ${info.pipe} plus what the ACK let go`);
  });

  test('recovery ends with cwnd = ssthresh (RFC 9937 4), not the flight-limited window, so it does not slow-start again', () => {
    const { conn, now, a } = sending(16);
    const t = now + millis(10);
    send(conn, ackOf(a, [a + 1, a + 3]), t);
    const sentInRecovery = numbers(drain(conn, t));
    assert.equal(sentInRecovery[0], a, 'the hole is resent');
    const { ssthresh } = conn.info();
    // Everything sent so far is acknowledged at once: the flight drops to what PRR let go
    // beyond it, far below ssthresh.
    const last = Math.max(...sentInRecovery, a + 15);
    const t2 = t + millis(10);
    send(conn, ackOf(last + 1), t2);
    const info = conn.info();
    assert.equal(info.lossRecovery, 'open');
    assert.ok(info.pipe < ssthresh - 2 * MSS, `flight ${info.pipe} well below ssthresh ${ssthresh}`);
    assert.equal(info.cwnd, ssthresh);
    assert.equal(info.ssthresh, ssthresh);
  });

  test('a peer that permits SACK yet sends no blocks: the third duplicate ACK resends the first segment', () => {
    const { conn, now, a } = sending(6);
    let t = now;
    for (let i = 0; i < 2; i++) {
      t += millis(1);
      send(conn, ackOf(a), t);
      assert.ok(!numbers(drain(conn, t)).includes(a));
    }
    t += millis(1);
    send(conn, ackOf(a), t);
    assert.equal(numbers(drain(conn, t))[0], a);
    assert.equal(conn.info().lossRecovery, 'fast-recovery');
  });

  test('blocks beyond SND.MAX or wholly below SND.UNA are ignored; a D-SACK marks nothing', () => {
    const { conn, now, a } = sending(6);
    const t = now + millis(10);
    send(conn, ackOf(a, [a + 10, a + 20]), t);
    assert.equal(conn.info().sackedBytes, 0, 'beyond what was sent');
    send(conn, ackOf(a, [a - 2, a - 2]), t);
    assert.equal(conn.info().sackedBytes, 0, 'a D-SACK below the cumulative ACK');
    assert.equal(conn.info().lossRecovery, 'open');
  });
});

describe('SACK sender: retransmission timeout (RFC 8985 6.3)', () => {
  test('after a timeout, only what was not SACKed is resent, and the connection is in RTO recovery until recover', () => {
    const { conn, now, a } = sending(8);
    const t = now + millis(5);
    // The peer SACKed segments a+2..a+3 (and the reordering window keeps them from implying loss yet).
    send(conn, ackOf(a, [a + 2, a + 3]), t);
    drain(conn, t);
    const rto = conn.timers().find(([kind]) => kind === 'retransmit')![1];
    conn.handleTimeout(rto);
    const info = conn.info();
    assert.equal(info.lossRecovery, 'rto-recovery');
    assert.equal(info.cwnd, MSS, 'loss window');
    assert.deepEqual(numbers(drain(conn, rto)), [a], 'one segment: the first');
    // ACKs let the rest follow in slow start, skipping what was SACKed.
    let t2 = rto + millis(10);
    send(conn, ackOf(a + 1, [a + 2, a + 3]), t2);
    const next = numbers(drain(conn, t2));
    assert.ok(next.length > 0 && !next.includes(a + 2) && !next.includes(a + 3), `resent ${next.join(',')}`);
    assert.equal(next[0], a + 1);
    t2 += millis(10);
    send(conn, ackOf(conn.info().bytesSent / MSS), t2);
    drain(conn, t2);
    assert.equal(conn.info().lossRecovery, 'open');
  });
});

describe('SACK sender: tail loss probe (RFC 8985 7)', () => {
  test('the last segments lost: a probe of the last segment after 2·SRTT, then an ACK beyond it reduces the window', () => {
    const conn = establishedConnection({ peerSackPermitted: true, config: { congestionControl: 'newreno' } });
    conn.setNoDelay(true);
    write(conn, pattern(3 * MSS));
    let t = 0;
    assert.deepEqual(numbers(drain(conn, t)), [0, 1, 2]);
    // The first is acknowledged after 20 ms: SRTT comes from it; the other two are lost.
    t = millis(20);
    send(conn, ackOf(1), t);
    drain(conn, t);
    const probe = conn.timers().find(([kind]) => kind === 'loss-probe');
    assert.ok(probe !== undefined, 'the probe timeout is armed');
    const rtoAt = conn.timers().find(([kind]) => kind === 'retransmit')![1];
    assert.ok(probe[1] < rtoAt, 'before the RTO');
    const srtt = conn.info().srtt!;
    assert.equal(probe[1], t + 2 * srtt);
    conn.handleTimeout(probe[1]);
    assert.deepEqual(numbers(drain(conn, probe[1])), [2], 'the last segment');
    assert.equal(conn.info().tailLossProbes, 1);
    const ssthreshBefore = conn.info().ssthresh;
    // The probe's ACK carries a SACK of it: RACK finds segment 1 lost at once.
    t = probe[1] + millis(20);
    send(conn, ackOf(1, [2, 2]), t);
    assert.deepEqual(numbers(drain(conn, t)), [1]);
    t += millis(20);
    send(conn, ackOf(3), t);
    drain(conn, t);
    assert.equal(conn.info().lossRecovery, 'open');
    assert.ok(conn.info().ssthresh < ssthreshBefore, 'a congestion response');
  });

  test('with unsent data and an open window, the probe sends new data', () => {
    const conn = establishedConnection({ peerSackPermitted: true, config: { sendBufferSize: 64 * 1024, congestionControl: 'newreno' } });
    conn.setNoDelay(true);
    write(conn, pattern(10 * MSS));
    assert.deepEqual(numbers(drain(conn, 0)), [0, 1, 2], 'the initial window');
    const probe = conn.timers().find(([kind]) => kind === 'loss-probe');
    assert.ok(probe !== undefined);
    conn.handleTimeout(probe[1]);
    assert.deepEqual(numbers(drain(conn, probe[1])), [3], 'one new segment, beyond cwnd');
    assert.equal(conn.info().retransmissions, 0);
    assert.equal(conn.timers().find(([kind]) => kind === 'loss-probe'), undefined, 'one probe outstanding at most');
  });

  test('no probe without SACK: a NewReno connection has only its retransmission timer', () => {
    const conn = establishedConnection({ config: { congestionControl: 'newreno' } });
    write(conn, pattern(MSS));
    drain(conn, 0);
    assert.deepEqual(conn.timers().map(([kind]) => kind), ['retransmit']);
  });
});

describe('RACK variables (RFC 8985 6.2)', () => {
  test('RACK keeps the most recently sent delivered segment, and its RTT', () => {
    const rack = new Rack();
    rack.beginAck(100);
    rack.delivered(10, 1000, 0);
    rack.delivered(30, 2000, 0);
    rack.delivered(20, 3000, 0);
    assert.equal(rack.xmitTs, 30);
    assert.equal(rack.endSeq, 2000);
    assert.equal(rack.rtt, 70);
    assert.equal(rack.minRtt, 70);
    assert.equal(rack.reorderingSeen, false);
    rack.delivered(5, 1500, 0);
    assert.equal(rack.reorderingSeen, true, 'a segment ending below fack was delivered late');
  });

  test('a retransmitted segment acknowledged sooner than min_RTT is ambiguous and ignored', () => {
    const rack = new Rack();
    rack.beginAck(100);
    rack.delivered(50, 1000, 0);
    rack.beginAck(120);
    rack.delivered(110, 2000, RETRANSMITTED);
    assert.equal(rack.xmitTs, 50);
  });

  test('the reordering window: 0 in recovery or with DupThresh SACKed, min_RTT/4 otherwise, widened by D-SACK rounds and narrowed after 16 recoveries', () => {
    const rack = new Rack();
    rack.beginAck(millis(40));
    rack.delivered(0, 1000, 0);
    assert.equal(rack.reorderingWindow(millis(40), false, 0), millis(10));
    assert.equal(rack.reorderingWindow(millis(40), true, 0), 0);
    assert.equal(rack.reorderingWindow(millis(40), false, 3), 0);
    assert.equal(rack.reorderingWindow(millis(4), false, 0), millis(4), 'never above SRTT');
    rack.updateReorderingWindow(100, 200, true, false);
    assert.equal(rack.reorderingWindow(millis(40), false, 0), millis(20));
    rack.updateReorderingWindow(150, 250, true, false);
    assert.equal(rack.reoWndMult, 2, 'one widening per round');
    for (let i = 0; i < 16; i++) rack.updateReorderingWindow(300, 400, false, true);
    assert.equal(rack.reoWndMult, 1);
  });

  test('detectLoss marks what was sent before RACK\'s segment once RTT + reo_wnd has passed, and says when the rest may be', () => {
    const board = new Scoreboard();
    for (let i = 0; i < 4; i++) board.sent(i * 100, (i + 1) * 100, i * 10);
    const rack = new Rack();
    rack.beginAck(100);
    board.sack(300, 400, rack);
    assert.equal(rack.rtt, 70);
    const found = rack.detectLoss(board, 100, 15);
    assert.equal(found.lost, true, 'segment 0 sent at 0: 0 + 70 + 15 <= 100');
    assert.equal(board.lostBytes, 200, 'segments 0 and 1 (sent at 10: 95 <= 100)');
    assert.equal(found.timeout, 5, 'segment 2, sent at 20, may be lost at 20 + 70 + 15 = 105');
    assert.equal(rack.detectLoss(board, 105, 15).lost, true);
    assert.equal(board.lostBytes, 300);
  });
});

describe('PRR arithmetic (RFC 6937)', () => {
  test('proportional while pipe is above ssthresh, slow-start bound below it, one segment on entry', () => {
    const prr = new Prr();
    prr.start(10_000);
    assert.equal(prr.onAck(0, 9_000, 5_000, 1_000), 1_000, 'the fast retransmit may always go');
    prr.sent(1_000);
    assert.equal(prr.onAck(2_000, 8_000, 5_000, 1_000), 0, 'ceil(2000·5000/10000) - 1000 = 0');
    assert.equal(prr.onAck(2_000, 7_000, 5_000, 1_000), 1_000, 'ceil(4000·0.5) - 1000');
    prr.sent(1_000);
    assert.equal(prr.onAck(1_000, 3_000, 5_000, 1_000), 2_000, 'SSRB: min(ssthresh - pipe, max(prr_delivered - prr_out, delivered) + MSS)');
  });
});
