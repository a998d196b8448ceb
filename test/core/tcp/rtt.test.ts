/**
 * RFC 6298 arithmetic: the first sample, later samples, the clock granularity floor, the
 * minimum and maximum, backoff, and the 3-second rule after a lost SYN (5.7).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CLOCK_GRANULARITY, RttEstimator } from '../../../src/core/tcp/rtt.js';
import { millis, seconds } from '../../../src/time/instant.js';

const BOUNDS = { initialRto: seconds(1), minRto: millis(200), maxRto: seconds(60) };

describe('RttEstimator (RFC 6298)', () => {
  test('before any sample: the initial RTO, no SRTT or RTTVAR (2.1)', () => {
    const rtt = new RttEstimator(BOUNDS);
    assert.equal(rtt.rto, seconds(1));
    assert.equal(rtt.srtt, undefined);
    assert.equal(rtt.rttvar, undefined);
  });

  test('the first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR) (2.2)', () => {
    const rtt = new RttEstimator(BOUNDS);
    rtt.onSample(millis(100));
    assert.equal(rtt.srtt, millis(100));
    assert.equal(rtt.rttvar, millis(50));
    assert.equal(rtt.rto, millis(300));
  });

  test('a later sample: RTTVAR from the old SRTT, then SRTT (2.3)', () => {
    const rtt = new RttEstimator(BOUNDS);
    rtt.onSample(millis(100));
    rtt.onSample(millis(200));
    // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5.
    assert.equal(rtt.rttvar, 62_500);
    assert.equal(rtt.srtt, 112_500);
    assert.equal(rtt.rto, 112_500 + 4 * 62_500);
  });

  test('the RTO is never below the minimum (2.4) nor above the maximum (2.5)', () => {
    const rtt = new RttEstimator(BOUNDS);
    rtt.onSample(millis(1));
    assert.equal(rtt.rto, millis(200));
    rtt.onSample(seconds(100));
    assert.equal(rtt.rto, seconds(60));
  });

  test('with RTTVAR 0 the clock granularity G is the floor of the variance term', () => {
    const rtt = new RttEstimator({ ...BOUNDS, minRto: 0 });
    rtt.onSample(0);
    assert.equal(rtt.rto, CLOCK_GRANULARITY);
  });

  test('backoff doubles the RTO up to the maximum (5.5); a fresh sample ends it', () => {
    const rtt = new RttEstimator(BOUNDS);
    rtt.backoff();
    assert.equal(rtt.rto, seconds(2));
    for (let i = 0; i < 10; i++) rtt.backoff();
    assert.equal(rtt.rto, seconds(60));
    assert.equal(rtt.backoffs, 11);
    rtt.onSample(millis(100));
    assert.equal(rtt.rto, millis(300));
    assert.equal(rtt.backoffs, 0);
  });

  test('after a SYN timeout without samples the RTO becomes 3 s (5.7); with a sample, unchanged', () => {
    const a = new RttEstimator(BOUNDS);
    a.backoff();
    a.onHandshakeTimedOut();
    assert.equal(a.rto, seconds(3));
    const b = new RttEstimator(BOUNDS);
    b.onSample(millis(100));
    b.onHandshakeTimedOut();
    assert.equal(b.rto, millis(300));
  });

  test('property: the RTO stays within bounds and SRTT within the samples seen', () => {
    // size 'max': up to 50 samples, each with its own backoff flag (the default size gave about 10 of each).
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 120_000_000 }), { minLength: 1, maxLength: 50, size: 'max' }), fc.array(fc.boolean(), { maxLength: 50, size: 'max' }), (samples, backoffs) => {
      const rtt = new RttEstimator(BOUNDS);
      samples.forEach((s, i) => {
        rtt.onSample(s);
        if (backoffs[i]) rtt.backoff();
        assert.ok(rtt.rto >= BOUNDS.minRto && rtt.rto <= BOUNDS.maxRto);
        assert.ok(Number.isInteger(rtt.rto));
      });
      const lo = Math.min(...samples);
      const hi = Math.max(...samples);
      assert.ok(rtt.srtt! >= lo - 1 && rtt.srtt! <= hi + 1);
    }), { numRuns: 500 });
  });
});
