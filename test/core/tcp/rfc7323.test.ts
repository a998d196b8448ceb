/**
 * RFC 7323 on one connection: window scaling (section 2: the option on the SYNs, the shift,
 * scaled windows after the handshake and never on a SYN, the clamp at 14, rounding that never
 * moves the right edge the peer saw to the left), timestamps (section 3: TSopt on every
 * segment but a RST once both SYNs had it; 4.3: which timestamp is echoed; 4.1 and
 * Appendix G: RTT samples from TSecr, even for a retransmitted segment), the MSS they cost
 * (RFC 9293 3.7.1), and PAWS (section 5: old timestamps dropped and ACKed, RSTs exempt,
 * TS.Recent invalid after 24 idle days).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpConnection } from '../../../src/core/tcp/connection.js';
import { scaledWindowField } from '../../../src/core/tcp/tcb.js';
import { RttEstimator } from '../../../src/core/tcp/rtt.js';
import { MAX_WINDOW_SHIFT, PAWS_IDLE_LIMIT, windowShiftFor, windowUnit } from '../../../src/core/tcp/options.js';
import { TCP_DEFAULTS } from '../../../src/core/tcp/types.js';
import { millis, seconds } from '../../../src/time/instant.js';
import type { TcpOption } from '../../../src/wire/tcp.js';
import {
  ACK, PSH, REMOTE_ISS, RST, SYN, drain, establishedConnection, events, expectEvents, expectNothing, expectSent,
  fromPeer, l, ourTs, params, peerSyn, r, readAll, sackPermittedOptions, send, synSentConnection, toPeer, tsOptions, write,
} from './harness.js';
import type { FactoryOptions } from './harness.js';

const MIB = 1024 * 1024;
/** 1 MiB buffers: our shift is 5 (65,535 << 4 falls 16 bytes short of 1 MiB). */
/** A 1 MiB buffer offered whole (autotuning would start at 128 KiB: `autotune.test.ts` covers that). */
const BIG: FactoryOptions['config'] = { receiveBufferSize: MIB, sendBufferSize: MIB, receiveBufferAutotuning: false };
const OUR_SHIFT = 5;
/** The window offered with an empty 1 MiB buffer: the buffer less its 1/16 rounding reserve. */
const BIG_WINDOW = MIB - MIB / 16;

function windowScale(shift: number): TcpOption[] {
  return [{ kind: 'nop' }, { kind: 'window-scale', shift }];
}

describe('window scaling (RFC 7323 2)', () => {
  test('our shift: the smallest that lets the buffer be announced, at most 14 (2.3)', () => {
    assert.equal(windowShiftFor(8192), 0);
    assert.equal(windowShiftFor(65535), 0);
    assert.equal(windowShiftFor(65536), 1);
    assert.equal(windowShiftFor(MIB), OUR_SHIFT);
    assert.equal(windowShiftFor(TCP_DEFAULTS.receiveBufferSize), 9);
    assert.equal(windowShiftFor(2 ** 40), 14);
  });

  test('connect: the SYN carries MSS, window scale, SACK-permitted (RFC 2018) and timestamps (TSecr 0); its window is not scaled', () => {
    const conn = TcpConnection.connect(params({ config: BIG, now: millis(7) }));
    const [syn] = drain(conn, millis(7));
    assert.deepEqual(syn!.options, [{ kind: 'mss', value: 1460 }, ...windowScale(OUR_SHIFT), ...sackPermittedOptions(), ...tsOptions(7, 0)]);
    assert.equal(syn!.window, 65535, 'RFC 7323 2.2: the window of a SYN is never scaled');
    expectSent(conn, millis(7), []);
  });

  test('the timestamp clock runs from the connection\'s offset (RFC 7323 5.4)', () => {
    const conn = TcpConnection.connect({ ...params({ now: seconds(2) }), tsOffset: 0xffff_fff0 });
    const [syn] = drain(conn, seconds(2));
    // 2000 ms past an offset 16 below 2^32: the clock wraps.
    assert.deepEqual(syn!.options.at(-1), { kind: 'timestamps', tsVal: 2000 - 16, tsEcr: 0 });
  });

  test('SYN-ACK: window scale and timestamps only when the peer\'s SYN had them', () => {
    const none = TcpConnection.accept(params({ config: BIG }), peerSyn());
    expectSent(none, 0, [toPeer({ flags: SYN | ACK, seq: l(0), ack: r(1), options: [{ kind: 'mss', value: 1460 }], window: 65535 })]);
    assert.deepEqual(none.info().windowScaling, { send: undefined, receive: undefined });
    assert.equal(none.info().timestamps, false);

    const wsOnly = TcpConnection.accept(params({ config: BIG }), peerSyn({ peerWindowShift: 2 }));
    expectSent(wsOnly, 0, [toPeer({ flags: SYN | ACK, seq: l(0), ack: r(1), options: [{ kind: 'mss', value: 1460 }, ...windowScale(OUR_SHIFT)], window: 65535 })]);
    assert.deepEqual(wsOnly.info().windowScaling, { send: 2, receive: OUR_SHIFT });
    assert.equal(wsOnly.info().timestamps, false);

    const both = TcpConnection.accept(params({ config: BIG, now: millis(3) }), peerSyn({ peerWindowShift: 2, peerTsVal: 777 }));
    const [synAck] = drain(both, millis(3));
    assert.deepEqual(synAck!.options, [{ kind: 'mss', value: 1460 }, ...windowScale(OUR_SHIFT), ...tsOptions(3, 777)], 'TSecr echoes the SYN\'s TSval');
    assert.equal(synAck!.window, 65535);
    assert.equal(both.info().timestamps, true);
  });

  test('windows are scaled on established segments and never on the SYNs, both ways', () => {
    // Passive open: the peer's SYN has window 1000 and shift 3.
    const conn = TcpConnection.accept(params({ config: BIG }), peerSyn({ peerWindowShift: 3, peerWindow: 1000 }));
    const [synAck] = drain(conn);
    assert.equal(synAck!.window, 65535, 'our SYN,ACK: unscaled, at most 65,535');
    assert.equal(conn.info().sendWindow, 1000, 'the SYN\'s window is taken as is');
    // The ACK completing the handshake is not a SYN: its 1000 means 1000 << 3.
    send(conn, fromPeer({ window: 1000 }));
    assert.equal(conn.state, 'ESTABLISHED');
    assert.equal(conn.info().sendWindow, 8000);
    // Our segments carry RCV.WND >> 5.
    write(conn, 'x');
    expectSent(conn, 0, [toPeer({ flags: ACK | PSH, payload: 'x', window: BIG_WINDOW >> OUR_SHIFT })]);
    assert.equal(conn.info().receiveWindow, BIG_WINDOW);

    // Active open: the SYN,ACK's window is not scaled either.
    const active = synSentConnection({ config: BIG });
    send(active, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), window: 1000, options: [{ kind: 'mss', value: 1460 }, ...windowScale(3)] }));
    assert.equal(active.state, 'ESTABLISHED');
    assert.equal(active.info().sendWindow, 1000);
    expectSent(active, 0, [toPeer({ window: BIG_WINDOW >> OUR_SHIFT })]);
    send(active, fromPeer({ window: 1000 }));
    assert.equal(active.info().sendWindow, 8000);
    assert.deepEqual(active.info().windowScaling, { send: 3, receive: OUR_SHIFT });
  });

  test('a peer shift of 15 is used as 14 (RFC 7323 2.3)', () => {
    const conn = establishedConnection({ config: BIG, peerWindowShift: 15, peerWindow: 2 });
    assert.deepEqual(conn.info().windowScaling, { send: 14, receive: OUR_SHIFT });
    assert.equal(conn.info().sendWindow, 2 << 14);
  });

  test('window scaling off: no option on the SYNs, windows capped at 65,535 whatever the buffer', () => {
    const config = { ...BIG, windowScaling: false };
    const syn = drain(TcpConnection.connect(params({ config })))[0]!;
    assert.deepEqual(syn.options, [{ kind: 'mss', value: 1460 }, ...sackPermittedOptions(), ...tsOptions(0, 0)]);
    const conn = establishedConnection({ config, peerWindowShift: 7, peerWindow: 1000 });
    assert.deepEqual(conn.info().windowScaling, { send: undefined, receive: undefined });
    assert.equal(conn.info().sendWindow, 1000, 'the peer\'s windows are not scaled');
    assert.equal(conn.info().receiveWindow, 65535);
    send(conn, fromPeer({ payload: 'hello', window: 1000 }));
    expectSent(conn, 0, [toPeer({ ack: r(6), window: 65535 - 5 })]);
  });

  test('offered but not answered: no scaling, 64 KiB cap', () => {
    const conn = synSentConnection({ config: BIG });
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), window: 1000, options: [{ kind: 'mss', value: 1460 }] }));
    expectSent(conn, 0, [toPeer({ window: 65535 })]);
    assert.deepEqual(conn.info().windowScaling, { send: undefined, receive: undefined });
    assert.equal(conn.info().receiveWindow, 65535);
    send(conn, fromPeer({ window: 1000 }));
    assert.equal(conn.info().sendWindow, 1000);
  });

  test('RCV.WND never shrinks because of rounding: the right edge the peer saw only moves right', () => {
    const conn = establishedConnection({ config: BIG, peerWindowShift: 0 });
    write(conn, 'x');
    const [first] = drain(conn);
    // Right edges as offsets from r(1): the segment with our 'x' acknowledged r(1).
    let seen = first!.window << OUR_SHIFT;
    assert.equal(seen, BIG_WINDOW);
    // 1001-byte segments while the application reads nothing: RCV.NXT moves by amounts that
    // are not multiples of the 32-byte unit.
    let at = 1;
    for (let i = 0; i < 40; i++) {
      send(conn, fromPeer({ seq: r(at), ack: l(2), payload: 'y'.repeat(1001) }));
      at += 1001;
      const [ack] = drain(conn);
      assert.equal(ack!.ack, `r+${at}`);
      const edge = at - 1 + (ack!.window << OUR_SHIFT);
      assert.ok(edge >= seen, `segment ${i}: the right edge went from r+${seen + 1} to r+${edge + 1}`);
      seen = edge;
      // Everything up to that edge is accepted.
      assert.equal(conn.info().receiveWindow, edge - (at - 1));
    }
    // And reading reopens the window by the receiver-SWS rule.
    assert.equal(readAll(conn).length, 40 * 1001);
  });

  test('the field rounds up to the unit (RFC 7323 2.4), down only when the buffer has no room for the rounded-up edge', () => {
    // Shift 4: a 16-byte unit. 1000 bytes is 62.5 units.
    assert.equal(scaledWindowField(1000, 4, 1_000_000), 63, 'up: the edge the peer sees may only move right');
    assert.equal(scaledWindowField(1000, 4, 1008), 63, 'exactly room for the rounded-up edge');
    assert.equal(scaledWindowField(1000, 4, 1007), 62, 'no room: down, less than one unit short');
    assert.equal(scaledWindowField(992, 4, 992), 62, 'a whole number of units needs no rounding');
    assert.equal(scaledWindowField(65535 * 2 ** 14 + 5, 14, 2 ** 31), 65535, 'never past what the field can say');
  });

  test('a window unit is 2^shift for every shift a connection can use (0 to 14), the largest window exact', () => {
    for (let shift = 0; shift <= MAX_WINDOW_SHIFT; shift++) assert.equal(windowUnit(shift), 2 ** shift, `shift ${shift}`);
    assert.equal(65535 * windowUnit(MAX_WINDOW_SHIFT), 1_073_725_440);
  });
});

describe('timestamps (RFC 7323 3, 4)', () => {
  test('once both SYNs had TSopt, every segment carries it, TSecr = TS.Recent; a RST carries none', () => {
    const conn = establishedConnection({ peerTsVal: 1000 });
    assert.equal(conn.info().timestamps, true);
    send(conn, fromPeer({ payload: 'hello', options: tsOptions(1010, 0) }), millis(20));
    expectSent(conn, millis(20), [toPeer({ ack: r(6), window: 8192 - 5, options: tsOptions(20, 1010) })]);
    write(conn, 'data', millis(30));
    expectSent(conn, millis(30), [toPeer({ flags: ACK | PSH, ack: r(6), window: 8192 - 5, payload: 'data', options: tsOptions(30, 1010) })]);
    conn.abort(millis(40));
    expectSent(conn, millis(40), [toPeer({ flags: RST, seq: l(5), ack: 0, window: 0 })]);
  });

  test('the effective MSS is the peer\'s less the 12 bytes of options (RFC 9293 3.7.1); Nagle and PSH use it', () => {
    const conn = establishedConnection({ peerTsVal: 1000, config: BIG });
    assert.equal(conn.info().mss, 1448);
    write(conn, 'z'.repeat(3000));
    const sent = drain(conn);
    assert.deepEqual(sent.map((s) => [s.payload.length, s.flags]), [[1448, '.'], [1448, '.']], 'two full segments; the 104-byte rest waits (Nagle)');
    assert.deepEqual(sent[0]!.options, tsOptions(0, 1000));
    send(conn, fromPeer({ ack: l(1 + 2896), options: tsOptions(1001, 0) }), millis(1));
    assert.deepEqual(drain(conn, millis(1)).map((s) => [s.payload.length, s.flags]), [[104, 'P.']]);
  });

  test('TS.Recent update rule (4.3): SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent', () => {
    const conn = establishedConnection({ peerTsVal: 1000, config: { delayedAck: millis(40) } });
    // (A) Delayed ACK: the first segment is at Last.ACK.sent and is recorded; the second is
    // beyond it and is not; the ACK echoes the earliest unacknowledged segment's TSval.
    send(conn, fromPeer({ seq: r(1), payload: 'a'.repeat(100), options: tsOptions(1010, 0) }), millis(10));
    send(conn, fromPeer({ seq: r(101), payload: 'b'.repeat(100), options: tsOptions(1020, 0) }), millis(20));
    expectNothing(conn, millis(20));
    conn.handleTimeout(millis(50));
    expectSent(conn, millis(50), [toPeer({ ack: r(201), window: 8192 - 200, options: tsOptions(50, 1010) })]);
    // (B) Out of order: beyond Last.ACK.sent, not recorded; the duplicate ACK echoes TS.Recent.
    send(conn, fromPeer({ seq: r(301), payload: 'd'.repeat(100), options: tsOptions(1040, 0) }), millis(60));
    expectSent(conn, millis(60), [toPeer({ ack: r(201), window: 8192 - 200, options: tsOptions(60, 1010) })]);
    // (C) The segment that fills the hole starts at Last.ACK.sent: recorded, and echoed.
    send(conn, fromPeer({ seq: r(201), payload: 'c'.repeat(100), options: tsOptions(1050, 0) }), millis(70));
    expectSent(conn, millis(70), [toPeer({ ack: r(401), window: 8192 - 400, options: tsOptions(70, 1050) })]);
    // A pure ACK at Last.ACK.sent is recorded too (RFC 7323's rule; RFC 1323's
    // SEG.SEQ <= Last.ACK.sent < SEG.SEQ + SEG.LEN never took a segment without data).
    send(conn, fromPeer({ seq: r(401), options: tsOptions(1080, 70) }), millis(80));
    write(conn, 'x', millis(90));
    expectSent(conn, millis(90), [toPeer({ flags: ACK | PSH, ack: r(401), window: 8192 - 400, payload: 'x', options: tsOptions(90, 1080) })]);
    assert.equal(readAll(conn), `${'a'.repeat(100)}${'b'.repeat(100)}${'c'.repeat(100)}${'d'.repeat(100)}`);
  });

  test('a retransmission of data already received (our ACK was lost) is ACKed with its own TSval, not the original\'s', () => {
    const conn = establishedConnection({ peerTsVal: 1000 });
    send(conn, fromPeer({ payload: 'hello', options: tsOptions(1010, 0) }), millis(10));
    expectSent(conn, millis(10), [toPeer({ ack: r(6), window: 8192 - 5, options: tsOptions(10, 1010) })]);
    // That ACK is lost; the peer times out and sends the same bytes again, later.
    send(conn, fromPeer({ payload: 'hello', options: tsOptions(2010, 0) }), millis(1010));
    expectSent(conn, millis(1010), [toPeer({ ack: r(6), window: 8192 - 5, options: tsOptions(1010, 2010) })]);
  });

  test('RTT from TSecr on the ACK of a retransmitted segment, which Karn\'s rule forbids without timestamps', () => {
    for (const timestamps of [true, false]) {
      const conn = establishedConnection(timestamps ? { peerTsVal: 1000 } : {});
      // The handshake (at 0) measured 0: SRTT 0, RTO at its 200 ms floor.
      assert.equal(conn.info().srtt, 0);
      write(conn, 'data');
      assert.equal(drain(conn).length, 1);
      conn.handleTimeout(millis(200));
      const [again] = drain(conn, millis(200));
      assert.equal(again!.payload, 'data', 'retransmitted');
      assert.deepEqual(again!.options, timestamps ? tsOptions(200, 1000) : []);
      assert.equal(conn.info().rto, millis(400), 'backed off');
      // The ACK echoes the retransmission's TSval: 50 ms.
      send(conn, fromPeer({ ack: l(5), options: timestamps ? tsOptions(1100, 200) : [] }), millis(250));
      const info = conn.info();
      if (timestamps) {
        // RFC 6298 2.3 with one expected sample: SRTT 0 + 50/8, RTTVAR 50/4; the backoff ends.
        assert.equal(info.srtt, 6250);
        assert.equal(info.rttvar, 12500);
        assert.equal(info.rto, millis(200));
      } else {
        assert.equal(info.srtt, 0, 'Karn: no sample from a retransmitted segment');
        assert.equal(info.rto, millis(400), 'Karn: the backed-off RTO stays');
      }
    }
  });

  test('the handshake is timed by the SYN,ACK\'s TSecr', () => {
    const conn = synSentConnection();
    send(conn, fromPeer({ flags: SYN | ACK, seq: REMOTE_ISS, ack: l(1), options: [{ kind: 'mss', value: 1460 }, ...tsOptions(5000, ourTs(0))] }), millis(30));
    expectSent(conn, millis(30), [toPeer({ options: tsOptions(30, 5000) })]);
    assert.equal(conn.info().srtt, millis(30));
    assert.equal(conn.info().timestamps, true);
    expectEvents(conn, [{ type: 'connected' }]);
  });

  test('an echo we cannot have sent (ahead of our clock, or before the connection) gives no sample', () => {
    for (const [tsEcr, sample] of [[300, true], [0xdead_beef, false], [50, false]] as const) {
      const conn = establishedConnection({ peerTsVal: 1000, now: millis(100) });
      assert.equal(conn.info().srtt, 0);
      write(conn, 'data', millis(100));
      drain(conn, millis(100));
      conn.handleTimeout(millis(300));
      assert.deepEqual(drain(conn, millis(300))[0]!.options, tsOptions(300, 1000));
      // A retransmission: no RFC 6298 sample to fall back on (Karn), only the echo.
      send(conn, fromPeer({ ack: l(5), options: tsOptions(1100, tsEcr) }), millis(350));
      assert.equal(conn.info().srtt, sample ? 6250 : 0, `TSecr ${tsEcr}`);
    }
  });

  test('Appendix G: with ExpectedSamples per round trip, each sample moves SRTT and RTTVAR by 1/ExpectedSamples of the usual gain', () => {
    const rtt = new RttEstimator(TCP_DEFAULTS);
    rtt.onSample(millis(100));
    rtt.onSample(millis(200), 4);
    // alpha' = 1/32, beta' = 1/16.
    assert.equal(rtt.srtt, 103_125);
    assert.equal(rtt.rttvar, 53_125);
    // Many small moves add up (no rounding to whole microseconds on the way).
    const many = new RttEstimator(TCP_DEFAULTS);
    many.onSample(millis(100));
    // alpha' = 1/40,000: each sample moves SRTT by 1/40 µs, a thousand of them by about 25 µs.
    for (let i = 0; i < 1000; i++) many.onSample(millis(101), 5000);
    assert.equal(many.srtt, millis(100) + 25);
  });
});

describe('PAWS (RFC 7323 5)', () => {
  /** Established with TS.Recent = 1005 after 'abc' (RCV.NXT = r(4)). */
  function withRecent(now = millis(10)): TcpConnection {
    const conn = establishedConnection({ peerTsVal: 1000 });
    send(conn, fromPeer({ payload: 'abc', options: tsOptions(1005, 0) }), now);
    expectSent(conn, now, [toPeer({ ack: r(4), window: 8192 - 3, options: tsOptions(ourTs(now), 1005) })]);
    assert.equal(readAll(conn), 'abc');
    return conn;
  }

  test('a segment whose TSval is older than TS.Recent is dropped and ACKed (R1)', () => {
    const conn = withRecent();
    const dropped = conn.handleSegment(millis(20), fromPeer({ seq: r(4), payload: 'def', options: tsOptions(1002, 0) }));
    assert.equal(dropped, 'paws');
    expectSent(conn, millis(20), [toPeer({ ack: r(4), window: 8192 - 3, options: tsOptions(20, 1005) })]);
    assert.equal(readAll(conn), '', 'its text is not taken');
    // The same bytes with a current timestamp are.
    assert.equal(conn.handleSegment(millis(30), fromPeer({ seq: r(4), payload: 'def', options: tsOptions(1006, 0) })), undefined);
    assert.equal(readAll(conn), 'def');
    // Modular comparison: a TSval 2^31 ahead counts as older.
    assert.equal(conn.handleSegment(millis(40), fromPeer({ seq: r(7), payload: 'g', options: tsOptions((1006 + 0x8000_0001) >>> 0, 0) })), 'paws');
    // A TSval just past the wrap of 32 bits is newer.
    const wrapped = establishedConnection({ peerTsVal: 0xffff_fff0 });
    assert.equal(wrapped.handleSegment(millis(1), fromPeer({ payload: 'w', options: tsOptions(5, 0) })), undefined);
    assert.equal(readAll(wrapped), 'w');
  });

  test('a segment without TSopt is not checked (nor dropped): l4 tolerates it', () => {
    const conn = withRecent();
    assert.equal(conn.handleSegment(millis(20), fromPeer({ seq: r(4), payload: 'def' })), undefined);
    assert.equal(readAll(conn), 'def');
  });

  test('PAWS does not drop a RST', () => {
    const conn = withRecent();
    send(conn, fromPeer({ flags: RST, seq: r(4), options: tsOptions(1, 0) }), millis(20));
    assert.equal(conn.state, 'CLOSED');
    assert.deepEqual(events(conn).map((e) => e.type), ['readable', 'error', 'closed']);
  });

  test('TS.Recent is invalid after 24 days idle (5.5): an older TSval is then accepted and recorded', () => {
    const early = withRecent(0);
    assert.equal(early.handleSegment(PAWS_IDLE_LIMIT, fromPeer({ seq: r(4), payload: 'old', options: tsOptions(500, 0) })), 'paws', 'exactly 24 days: still valid');

    const conn = withRecent(0);
    const later = PAWS_IDLE_LIMIT + millis(1);
    assert.equal(conn.handleSegment(later, fromPeer({ seq: r(4), payload: 'new', options: tsOptions(500, 0) })), undefined);
    assert.equal(readAll(conn), 'new');
    expectSent(conn, later, [toPeer({ ack: r(7), window: 8192 - 6, options: tsOptions(ourTs(later), 500) })]);
    // From then on, 500 is the value PAWS compares with.
    assert.equal(conn.handleSegment(later + 1000, fromPeer({ seq: r(7), payload: 'x', options: tsOptions(499, 0) })), 'paws');
  });
});
