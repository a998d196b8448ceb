/**
 * NewReno's window arithmetic (RFC 5681, RFC 6582) and the initial window.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCongestionController, initialWindow } from '../../../../src/core/tcp/congestion/index.js';
import { INITIAL_SSTHRESH, NewReno } from '../../../../src/core/tcp/congestion/newreno.js';

const MSS = 1000;

describe('initial window (RFC 5681 3.1)', () => {
  test('IW = min(4*SMSS, max(2*SMSS, 4380))', () => {
    assert.equal(initialWindow(536, false), 2144);
    assert.equal(initialWindow(1000, false), 4000);
    assert.equal(initialWindow(1460, false), 4380);
    assert.equal(initialWindow(2190, false), 4380);
    assert.equal(initialWindow(4000, false), 8000);
  });

  test('one segment after a lost SYN or SYN,ACK', () => {
    assert.equal(initialWindow(1460, true), 1460);
  });

  test('the factory makes NewReno', () => {
    const cc = createCongestionController('newreno', { mss: MSS, initialWindow: 3000 });
    assert.equal(cc.algorithm, 'newreno');
    assert.equal(cc.window, 3000);
    assert.equal(cc.ssthresh, INITIAL_SSTHRESH);
    assert.equal(cc.inRecovery, false);
  });
});

describe('NewReno', () => {
  test('slow start: cwnd += min(N, SMSS) per ACK', () => {
    const cc = new NewReno(MSS, 4000);
    cc.onAck(500, 0, undefined);
    assert.equal(cc.window, 4500);
    cc.onAck(3000, 0, undefined);
    assert.equal(cc.window, 5500);
  });

  test('congestion avoidance: one SMSS per cwnd bytes acknowledged', () => {
    const cc = new NewReno(MSS, 4000);
    cc.onRetransmitTimeout(0, 20_000, false);
    assert.equal(cc.ssthresh, 10_000);
    assert.equal(cc.window, MSS);
    // Slow start up to ssthresh...
    for (let i = 0; i < 9; i++) cc.onAck(MSS, 0, undefined);
    assert.equal(cc.window, 10_000);
    // ...then 10 ACKs of 1000 bytes (a window's worth) add one SMSS.
    for (let i = 0; i < 9; i++) cc.onAck(MSS, 0, undefined);
    assert.equal(cc.window, 10_000);
    cc.onAck(MSS, 0, undefined);
    assert.equal(cc.window, 11_000);
  });

  test('three duplicate ACKs: ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh + 3*SMSS', () => {
    const cc = new NewReno(MSS, 10_000);
    cc.onLoss(0, 10_000);
    assert.equal(cc.ssthresh, 5000);
    assert.equal(cc.window, 8000);
    assert.equal(cc.inRecovery, true);
    const small = new NewReno(MSS, 10_000);
    small.onLoss(0, 1500);
    assert.equal(small.ssthresh, 2000);
  });

  test('each further duplicate ACK inflates cwnd by SMSS; no growth from onAck during recovery', () => {
    const cc = new NewReno(MSS, 10_000);
    cc.onLoss(0, 10_000);
    cc.onDuplicateAck(0);
    cc.onDuplicateAck(0);
    assert.equal(cc.window, 10_000);
    cc.onAck(5000, 0, undefined);
    assert.equal(cc.window, 10_000);
  });

  test('partial ACK: deflate by the bytes acknowledged, add back SMSS when at least SMSS was acknowledged', () => {
    const cc = new NewReno(MSS, 10_000);
    cc.onLoss(0, 10_000);
    cc.onPartialAck(3000, 0);
    assert.equal(cc.window, 8000 - 3000 + MSS);
    cc.onPartialAck(500, 0);
    assert.equal(cc.window, 6000 - 500);
    assert.equal(cc.inRecovery, true);
  });

  test('full ACK: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS), recovery over', () => {
    const cc = new NewReno(MSS, 10_000);
    cc.onLoss(0, 10_000);
    cc.onRecoveryEnd(0, 1000);
    assert.equal(cc.window, 2000);
    assert.equal(cc.inRecovery, false);
    const b = new NewReno(MSS, 10_000);
    b.onLoss(0, 10_000);
    b.onRecoveryEnd(0, 9000);
    assert.equal(b.window, 5000);
  });

  test('timeout: cwnd = 1 SMSS; ssthresh halves the first time only; recovery ends', () => {
    const cc = new NewReno(MSS, 10_000);
    cc.onLoss(0, 10_000);
    cc.onRetransmitTimeout(0, 10_000, false);
    assert.equal(cc.window, MSS);
    assert.equal(cc.ssthresh, 5000);
    assert.equal(cc.inRecovery, false);
    cc.onRetransmitTimeout(0, 10_000, true);
    assert.equal(cc.ssthresh, 5000);
  });

  test('property: cwnd never drops below one SMSS, ssthresh never below 2 SMSS after a loss', () => {
    const event = fc.oneof(
      fc.record({ k: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
      fc.record({ k: fc.constant('loss' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
      fc.record({ k: fc.constant('dup' as const), n: fc.constant(0) }),
      fc.record({ k: fc.constant('partial' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
      fc.record({ k: fc.constant('end' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
      fc.record({ k: fc.constant('rto' as const), n: fc.integer({ min: 0, max: 100_000 }) }),
    );
    // size 'max': up to 60 events, not about 10: several recoveries and timeouts in a row.
    fc.assert(fc.property(fc.array(event, { maxLength: 60, size: 'max' }), (events) => {
      const cc = new NewReno(MSS, 4000);
      for (const e of events) {
        if (e.k === 'ack') cc.onAck(e.n, 0, undefined);
        else if (e.k === 'loss') cc.onLoss(0, e.n);
        else if (e.k === 'dup') cc.onDuplicateAck(0);
        else if (e.k === 'partial') cc.onPartialAck(e.n, 0);
        else if (e.k === 'end') cc.onRecoveryEnd(0, e.n);
        else cc.onRetransmitTimeout(0, e.n, false);
        assert.ok(cc.window >= MSS);
        assert.ok(cc.ssthresh >= 2 * MSS);
        assert.ok(Number.isInteger(cc.window));
      }
    }), { numRuns: 1000 });
  });
});
