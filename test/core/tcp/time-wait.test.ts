/**
 * The compact TIME-WAIT record (`time-wait.ts`) against the TCB it replaces: `retire` only
 * when nothing is left for the application, and then, for any segments at any times, the
 * record answers exactly as a twin connection kept whole in TIME-WAIT (same segments out,
 * same drop reasons, same 2 MSL deadline, CLOSED at the same step).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Instant } from '../../../src/time/instant.js';
import { seconds } from '../../../src/time/instant.js';
import { seqAdd } from '../../../src/wire/seq.js';
import type { TcpOption, TcpRepr } from '../../../src/wire/tcp.js';
import type { TcpConnection } from '../../../src/core/tcp/connection.js';
import type { TimeWait } from '../../../src/core/tcp/time-wait.js';
import {
  ACK, FIN, PSH, RST, SYN, URG, drain, establishedConnection, events, fromPeer, l, r, readAll, timeWaitConnection, tsOptions, view, write,
} from './harness.js';
import type { FactoryOptions, SegView } from './harness.js';
/** Random histories per variant. */
const RUNS = 500;

/** The peer's timestamp clock in these tests starts here (close to the wrap of the 32-bit circle). */
const PEER_TS = 0xffff_fff0;

/** Connections that differ in what TIME-WAIT answers: timestamps, SACK, window scaling, a window shut by unread data. */
const VARIANTS: Array<{ name: string; o: FactoryOptions; unread?: boolean }> = [
  { name: 'no options', o: {} },
  { name: 'timestamps', o: { peerTsVal: PEER_TS } },
  { name: 'SACK', o: { peerSackPermitted: true } },
  { name: 'timestamps and SACK, scaled windows', o: { peerTsVal: PEER_TS, peerSackPermitted: true, peerWindowShift: 7, peerWindow: 1000, config: { receiveBufferSize: 1 << 20 } } },
  { name: 'a zero window (the peer\'s data and FIN filled the buffer; read in TIME-WAIT)', o: { peerSackPermitted: true }, unread: true },
];

/**
 * TIME-WAIT after an exchange: 300 bytes each way, our FIN, its ACK, the peer's FIN, at
 * t = 0..3 ms; the received bytes read at the end (with `unread`, the peer sends all but one
 * byte of the buffer, so its FIN closes the window, and the bytes are read in TIME-WAIT).
 */
function timeWaitAfterExchange(o: FactoryOptions, unread = false): TcpConnection {
  const ts = o.peerTsVal !== undefined;
  const opts = (now: Instant, tsVal: number): TcpOption[] => (ts ? tsOptions(tsVal, Math.floor(now / 1000)) : []);
  const window = o.peerWindow ?? 65535;
  const conn = establishedConnection(o);
  write(conn, 'x'.repeat(300), 0);
  drain(conn, 0);
  const sent = unread ? 8191 : 300;
  let at = 1;
  for (let off = 0; off < sent; off += 1000) {
    const n = Math.min(1000, sent - off);
    conn.handleSegment(1000, fromPeer({ seq: r(1 + off), ack: l(301), flags: ACK | PSH, window, payload: 'y'.repeat(n), options: opts(1000, PEER_TS + at++) }));
  }
  drain(conn, 1000);
  if (!unread) readAll(conn, 1000);
  conn.close(2000);
  drain(conn, 2000);
  conn.handleSegment(3000, fromPeer({ seq: r(1 + sent), ack: l(302), window, options: opts(3000, PEER_TS + at++) }));
  conn.handleSegment(3000, fromPeer({ seq: r(1 + sent), ack: l(302), flags: FIN | ACK, window, options: opts(3000, PEER_TS + at) }));
  drain(conn, 3000);
  if (unread) readAll(conn, 3000);
  assert.equal(conn.state, 'TIME-WAIT');
  events(conn);
  return conn;
}

/** One arrival of the property: a time step and a segment near the connection's sequence space. */
interface Arrival {
  readonly dt: number;
  readonly seg: TcpRepr;
}

/** Segments a TIME-WAIT end meets: retransmitted FINs, old data, resets and SYNs in and out of the window, stale timestamps, wild ACKs. */
function arrival(sent: number): fc.Arbitrary<Arrival> {
  const rcvNxt = r(2 + sent);
  const seqNear = fc.oneof(
    fc.constant(seqAdd(rcvNxt, -1)), // the FIN again
    fc.constant(rcvNxt),
    fc.integer({ min: -400, max: 70_000 }).map((d) => seqAdd(rcvNxt, d)),
    fc.integer({ min: 0, max: 0xffff_ffff }),
  );
  const ackNear = fc.oneof(
    fc.constant(l(302)),
    fc.integer({ min: -70_000, max: 400 }).map((d) => seqAdd(l(302), d)),
    // Near SND.UNA - MAX.SND.WND when the peer's window is scaled (RFC 5961 5.2's lower bound).
    fc.integer({ min: -(1 << 23), max: -100_000 }).map((d) => seqAdd(l(302), d)),
    fc.integer({ min: 0, max: 0xffff_ffff }),
  );
  const flags = fc.oneof(
    fc.constant(FIN | ACK), fc.constant(ACK), fc.constant(RST), fc.constant(RST | ACK), fc.constant(SYN), fc.constant(SYN | ACK),
    fc.subarray([FIN, SYN, RST, PSH, ACK, URG]).map((f) => f.reduce((a, b) => a | b, 0)),
  );
  const options = fc.oneof(
    fc.constant<TcpOption[]>([]),
    fc.integer({ min: -40, max: 100 }).map((d) => tsOptions((PEER_TS + d) >>> 0, 0)),
    fc.integer({ min: 0, max: 0xffff_ffff }).map((v) => tsOptions(v, 0)),
  );
  return fc.record({
    // Mostly bursts within a second (the challenge-ACK budget), some long gaps (the 2 MSL timer).
    dt: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: seconds(70) })),
    seq: seqNear, ack: ackNear, flags, options,
    window: fc.integer({ min: 0, max: 0xffff }),
    payload: fc.nat(40),
  }).map(({ dt, seq, ack, flags: f, options: opts, window, payload }) => ({
    dt, seg: fromPeer({ seq, ack, flags: f, window, options: opts, payload: 'z'.repeat(payload) }),
  }));
}

/** What a segment did: the drop reason, everything sent, the deadline and the state afterwards. */
interface Outcome {
  dropped: string | undefined;
  sent: SegView[];
  timeout: Instant | undefined;
  state: string;
}

/** The part of `TcpConnection` the record shares. */
type Machine = Pick<TcpConnection, 'handleSegment' | 'pollTransmit' | 'pollTimeout' | 'handleTimeout'> & { readonly state: string };

function step(m: Machine, now: Instant, seg: TcpRepr): Outcome {
  const due = m.pollTimeout();
  if (due !== undefined && due <= now) m.handleTimeout(now);
  const dropped = m.state === 'CLOSED' ? undefined : m.handleSegment(now, seg);
  const sent: SegView[] = [];
  for (let s = m.pollTransmit(now); s !== undefined; s = m.pollTransmit(now)) sent.push(view(s));
  return { dropped, sent, timeout: m.pollTimeout(), state: m.state };
}

describe('TcpConnection.retire', () => {
  test('refused outside TIME-WAIT, and while unread bytes or unpolled events remain', () => {
    assert.equal(establishedConnection().retire(), undefined);
    const unread = timeWaitAfterExchange({}, false);
    assert.ok(unread.retire() !== undefined, 'a drained TIME-WAIT retires');
    const withData = establishedConnection();
    withData.handleSegment(0, fromPeer({ payload: 'abc', flags: ACK | PSH }));
    drain(withData);
    withData.close(0);
    drain(withData);
    withData.handleSegment(0, fromPeer({ seq: r(4), ack: l(2), flags: FIN | ACK }));
    drain(withData);
    assert.equal(withData.state, 'TIME-WAIT');
    events(withData);
    assert.equal(withData.retire(), undefined, 'three bytes not read yet');
    assert.equal(readAll(withData), 'abc');
    const pending = timeWaitConnection();
    pending.handleSegment(0, fromPeer({ seq: r(1), ack: l(2), flags: FIN | ACK }));
    assert.equal(pending.retire(), undefined, 'an ACK of the retransmitted FIN is still owed');
    drain(pending);
    assert.ok(withData.retire() !== undefined);
  });

  test('the connection ends: CLOSED, "closed", nothing more to send; the record holds the pair in TIME-WAIT', () => {
    const conn = timeWaitAfterExchange({ peerTsVal: PEER_TS });
    const deadline = conn.pollTimeout();
    const record = conn.retire()!;
    assert.equal(conn.state, 'CLOSED');
    assert.deepEqual(events(conn), [{ type: 'closed' }]);
    assert.equal(conn.pollTransmit(5000), undefined);
    assert.equal(record.state, 'TIME-WAIT');
    assert.equal(record.pollTimeout(), deadline);
    assert.equal(deadline, 3000 + 2 * seconds(30), '2 MSL from the peer\'s FIN');
    assert.equal(record.info().state, 'TIME-WAIT');
    assert.deepEqual(record.info().remote, conn.remote);
  });

  test('a retransmitted FIN is acknowledged and restarts 2 MSL; a reset at RCV.NXT ends it, one elsewhere draws a challenge ACK', () => {
    const record = timeWaitAfterExchange({}).retire()!;
    const now = seconds(10);
    record.handleSegment(now, fromPeer({ seq: r(301), ack: l(302), flags: FIN | ACK }));
    assert.deepEqual(drainRecord(record, now), [view(fromPeerAck())]);
    assert.equal(record.pollTimeout(), now + seconds(60));
    record.handleSegment(now, fromPeer({ seq: r(400), flags: RST }));
    assert.deepEqual(drainRecord(record, now), [view(fromPeerAck())], 'challenge ACK (RFC 5961 3.2)');
    record.handleSegment(now, fromPeer({ seq: r(302), flags: RST }));
    assert.equal(record.state, 'CLOSED');
    assert.equal(record.pollTimeout(), undefined);
  });
});

describe('TimeWait.reopens (RFC 6191)', () => {
  const syn = (seq: number, options: TcpOption[] = []): TcpRepr => fromPeer({ seq, ack: 0, flags: SYN, options });
  test('with timestamps: a newer TSval reopens; an equal one only with a higher sequence number; an older one never', () => {
    const record = timeWaitAfterExchange({ peerTsVal: PEER_TS }).retire()!;
    const recent = (PEER_TS + 3) >>> 0; // TS.Recent: the TSval of the peer's FIN
    assert.equal(record.reopens(syn(r(0), tsOptions((recent + 1) >>> 0, 0))), true, 'newer, even with an old sequence number');
    assert.equal(record.reopens(syn(r(1000), tsOptions(recent, 0))), true, 'as new, beyond RCV.NXT');
    assert.equal(record.reopens(syn(r(302), tsOptions(recent, 0))), false, 'as new, at RCV.NXT');
    assert.equal(record.reopens(syn(r(1000), tsOptions((recent - 1) >>> 0, 0))), false, 'older: an old duplicate');
    assert.equal(record.reopens(syn(r(1000))), true, 'no timestamps on the new incarnation: by sequence number');
    assert.equal(record.reopens(syn(r(100))), false);
  });

  test('without timestamps: only a SYN beyond RCV.NXT; never a SYN,ACK or a RST; the new ISS lies a window beyond SND.NXT', () => {
    const record = timeWaitAfterExchange({}).retire()!;
    assert.equal(record.reopens(syn(r(303))), true);
    assert.equal(record.reopens(syn(r(302))), false);
    assert.equal(record.reopens(syn(r(-5))), false);
    assert.equal(record.reopens(fromPeer({ seq: r(1000), flags: SYN | ACK })), false);
    assert.equal(record.reopens(fromPeer({ seq: r(1000), flags: SYN | RST })), false);
    assert.equal(record.reopenIss, l(302 + 65537));
    record.handleSegment(0, fromPeer({ seq: r(302), flags: RST }));
    assert.equal(record.reopens(syn(r(1000))), false, 'not once CLOSED');
  });
});

/** Our ACK in TIME-WAIT after the 300-byte exchange: SEQ=l(302), ACK=r(302), the window as the last ACK offered it (300 bytes read left it short of the threshold to move). */
function fromPeerAck(): TcpRepr {
  return { ...fromPeer(), srcPort: 80, dstPort: 49500, seqNumber: l(302), ackNumber: r(302), flags: ACK, window: 7891 };
}

function drainRecord(record: TimeWait, now: Instant): SegView[] {
  const out: SegView[] = [];
  for (let s = record.pollTransmit(now); s !== undefined; s = record.pollTransmit(now)) out.push(view(s));
  return out;
}

/**
 * Histories random ones seldom reach: a burst of SYNs past the challenge-ACK budget (RFC 5961
 * 7), and a window update that widens MAX.SND.WND before an ACK only the wider bound accepts.
 */
function EXAMPLES(sent: number): Array<[Arrival[]]> {
  const rcvNxt = r(2 + sent);
  const burst = Array.from({ length: 14 }, (): Arrival => ({ dt: 0, seg: fromPeer({ seq: rcvNxt, ack: l(302), flags: SYN }) }));
  return [
    [burst],
    [[
      { dt: 1000, seg: fromPeer({ seq: rcvNxt, ack: l(302), window: 0xffff }) },
      { dt: 1000, seg: fromPeer({ seq: rcvNxt, ack: seqAdd(l(302), -200_000) }) },
    ]],
  ];
}

describe('TimeWait answers as the whole TCB would (differential)', () => {
  for (const { name, o, unread } of VARIANTS) {
    test(name, () => {
      const sent = unread ? 8191 : 300;
      fc.assert(fc.property(fc.array(arrival(sent), { minLength: 1, maxLength: 30, size: 'max' }), (arrivals) => {
        const whole = timeWaitAfterExchange(o, unread);
        const record = timeWaitAfterExchange(o, unread).retire();
        assert.ok(record !== undefined);
        let now = 3000;
        for (const a of arrivals) {
          now += a.dt;
          const expected = step(whole, now, a.seg);
          const actual = step(record, now, a.seg);
          assert.deepEqual(actual, expected, `at ${now} µs after ${JSON.stringify(view(a.seg, false))}`);
          if (expected.state === 'CLOSED') break;
        }
      }), { numRuns: RUNS, examples: EXAMPLES(sent) });
    });
  }
});
