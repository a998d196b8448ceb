/**
 * The sender's scoreboard (RFC 6675) with per-segment transmit times (RFC 8985): entries as
 * sent, split at SACK edges and retransmission edges, trimmed by acknowledgments, and the
 * byte counters that give pipe, checked against a walk over the entries for random histories.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LOST, RETRANSMITTED, RETRANS_IN_FLIGHT, SACKED, Scoreboard } from '../../../src/core/tcp/scoreboard.js';
import type { DeliveryObserver } from '../../../src/core/tcp/scoreboard.js';
import { seqAdd, seqDiff } from '../../../src/wire/seq.js';
import { ROUND_TRIP_RUNS } from '../../support/runs.js';

/** Sequence numbers near the wrap, so that every comparison has to be modular. */
const BASE = 0xffff_f000;
const s = (n: number): number => seqAdd(BASE, n);

/** A board with `n` segments of `size` bytes sent at t = 0, 1, 2, ... */
function board(n: number, size = 100): Scoreboard {
  const b = new Scoreboard();
  for (let i = 0; i < n; i++) b.sent(s(i * size), s((i + 1) * size), i);
  return b;
}

/** The entries as [start, end, flags] relative to BASE. */
function entries(b: Scoreboard): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < b.count; i++) out.push([seqDiff(b.start(i), BASE), seqDiff(b.end(i), BASE), b.flags(i)]);
  return out;
}

class Recorder implements DeliveryObserver {
  readonly seen: Array<[number, number, number]> = [];
  delivered(sentAt: number, end: number, flags: number): void {
    this.seen.push([sentAt, seqDiff(end, BASE), flags]);
  }
}

describe('Scoreboard', () => {
  test('an acknowledgment removes whole entries and trims the one it cuts', () => {
    const b = board(3);
    const rec = new Recorder();
    b.acknowledge(s(150), rec);
    assert.deepEqual(entries(b), [[150, 200, 0], [200, 300, 0]]);
    assert.deepEqual(rec.seen, [[0, 100, 0]], 'only the whole entry is reported delivered');
    assert.equal(b.ackedSentAt, 0);
  });

  test('a SACK block splits entries at its edges and marks what it covers', () => {
    const b = board(3);
    const rec = new Recorder();
    assert.equal(b.sack(s(150), s(250), rec), 100);
    assert.deepEqual(entries(b), [[0, 100, 0], [100, 150, 0], [150, 200, SACKED], [200, 250, SACKED], [250, 300, 0]]);
    assert.equal(b.sackedBytes, 100);
    assert.equal(seqDiff(b.highSacked!, BASE), 250);
    assert.deepEqual(rec.seen.map(([, end]) => end), [200, 250]);
    assert.equal(b.sack(s(150), s(250), rec), 0, 'the same block again delivers nothing');
  });

  test('a lost entry retransmitted counts in flight until it is SACKed or marked lost again', () => {
    const b = board(4);
    b.markLost(1);
    assert.equal(b.lostBytes, 100);
    assert.equal(b.firstLostIndex(), 1);
    b.retransmitted(s(100), s(200), 50);
    assert.equal(b.flags(1), LOST | RETRANSMITTED | RETRANS_IN_FLIGHT);
    assert.equal(b.sentAt(1), 50);
    assert.equal(b.retransInFlightBytes, 100);
    assert.equal(b.firstLostIndex(), -1, 'nothing left to resend');
    b.markLost(1);
    assert.equal(b.retransInFlightBytes, 0, 'the retransmission was lost too');
    assert.equal(b.firstLostIndex(), 1);
    b.sack(s(100), s(200));
    assert.equal(b.lostBytes, 0);
    assert.equal(b.flags(1), SACKED | RETRANSMITTED);
  });

  test('a retransmission shorter than its entry splits it (a smaller MSS)', () => {
    const b = board(2);
    b.markLost(0);
    b.retransmitted(s(0), s(60), 9);
    assert.deepEqual(entries(b), [[0, 60, LOST | RETRANSMITTED | RETRANS_IN_FLIGHT], [60, 100, LOST], [100, 200, 0]]);
    assert.equal(b.firstLostIndex(), 1);
  });

  test('the RTT sample of an acknowledgment skips retransmitted entries (Karn)', () => {
    const b = board(2);
    b.retransmitted(s(100), s(200), 7);
    b.acknowledge(s(200));
    assert.equal(b.ackedSentAt, undefined);
    assert.equal(b.count, 0);
  });

  test('an empty board costs no arrays and grows on the first send', () => {
    const b = new Scoreboard();
    assert.equal(b.count, 0);
    assert.equal(b.first, undefined);
    b.sent(s(0), s(10), 0);
    assert.equal(b.count, 1);
    for (let i = 1; i < 100; i++) b.sent(s(i * 10), s(i * 10 + 10), i);
    assert.equal(b.count, 100);
    assert.equal(seqDiff(b.end(99), BASE), 1000);
  });

  test('property: the counters equal a walk over the entries, and entries tile SND.UNA..SND.MAX, for random histories', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), len: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('ack' as const), at: fc.integer({ min: 0, max: 2000 }) }),
      fc.record({ kind: fc.constant('sack' as const), at: fc.integer({ min: 0, max: 2000 }), len: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ kind: fc.constant('lose' as const), at: fc.integer({ min: 0, max: 2000 }) }),
      fc.record({ kind: fc.constant('resend' as const), at: fc.integer({ min: 0, max: 2000 }), len: fc.integer({ min: 1, max: 300 }) }),
    );
    // size 'max': up to 120 operations, so the entry ring grows past 8 while its head has moved (default size: about 10).
    fc.assert(fc.property(fc.array(op, { maxLength: 120, size: 'max' }), (ops) => {
      const b = new Scoreboard();
      let una = 0;
      let max = 0;
      let t = 0;
      for (const o of ops) {
        t++;
        const inFlight = (at: number): number => una + (max > una ? at % (max - una) : 0);
        switch (o.kind) {
          case 'send': b.sent(s(max), s(max + o.len), t); max += o.len; break;
          case 'ack': if (max > una) { una = inFlight(o.at) + 1; b.acknowledge(s(una)); } break;
          case 'sack': if (max > una) { const left = inFlight(o.at); b.sack(s(left), s(Math.min(max, left + o.len))); } break;
          case 'lose': if (b.count > 0) b.markLost(o.at % b.count); break;
          case 'resend': if (max > una) { const left = inFlight(o.at); b.retransmitted(s(left), s(Math.min(max, left + o.len)), t); } break;
        }
        let sacked = 0;
        let lost = 0;
        let inFlightRetrans = 0;
        let expect = una;
        for (const [start, end, flags] of entries(b)) {
          assert.equal(start, expect, 'entries tile the flight');
          assert.ok(end > start);
          const len = end - start;
          if ((flags & SACKED) !== 0) { sacked += len; assert.equal(flags & (LOST | RETRANS_IN_FLIGHT), 0); }
          if ((flags & LOST) !== 0) lost += len;
          if ((flags & RETRANS_IN_FLIGHT) !== 0) { inFlightRetrans += len; assert.ok((flags & LOST) !== 0); }
          expect = end;
        }
        if (b.count > 0) assert.equal(expect, max, 'entries reach SND.MAX');
        assert.equal(b.sackedBytes, sacked);
        assert.equal(b.lostBytes, lost);
        assert.equal(b.retransInFlightBytes, inFlightRetrans);
      }
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});
