import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqMin } from '../../src/wire/seq.js';
import { ROUND_TRIP_RUNS } from '../support/runs.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('sequence numbers modulo 2^32', () => {
  test('wrap-around: 0xffffffff + 1 = 0 and still compares as later', () => {
    assert.equal(seqAdd(0xffffffff, 1), 0);
    assert.ok(seqLt(0xffffffff, 0));
    assert.ok(seqGt(5, 0xfffffff0));
    assert.equal(seqDiff(3, 0xfffffffe), 5);
    assert.equal(seqAdd(2, -5), 0xfffffffd);
  });

  test('order relations agree with the signed distance for |d| < 2^31', () => {
    fc.assert(fc.property(u32, fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), (a, d) => {
      const b = seqAdd(a, d);
      assert.equal(seqDiff(b, a), d);
      assert.equal(seqLt(a, b), d > 0);
      assert.equal(seqLe(a, b), d >= 0);
      assert.equal(seqGt(a, b), d < 0);
      assert.equal(seqGe(a, b), d <= 0);
      assert.equal(seqMax(a, b), d >= 0 ? b : a);
      assert.equal(seqMin(a, b), d >= 0 ? a : b);
    }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('window membership is half-open and wraps', () => {
    assert.ok(seqInWindow(0xfffffffe, 0xfffffff0, 0x10));
    assert.ok(seqInWindow(0x5, 0xfffffff0, 0x10));
    assert.ok(!seqInWindow(0x10, 0xfffffff0, 0x10));
    assert.ok(seqInWindow(0xfffffff0, 0xfffffff0, 0x10));
    assert.ok(!seqInWindow(7, 7, 7));
  });
});
