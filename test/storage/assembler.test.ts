/**
 * The out-of-order assembler: merging, trimming duplicates, advancing the front, the byte and
 * range limits, and a property test against a set-of-offsets model.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Assembler } from '../../src/storage/assembler.js';
import { FUZZ_RUNS } from '../support/runs.js';

describe('Assembler', () => {
  test('disjoint ranges stay apart, in order', () => {
    const a = new Assembler(1000);
    assert.ok(a.add(20, 30));
    assert.ok(a.add(5, 10));
    assert.deepEqual(a.ranges(), [{ start: 5, end: 10 }, { start: 20, end: 30 }]);
    assert.equal(a.heldBytes, 15);
    assert.equal(a.rangeCount, 2);
    assert.equal(a.highestEnd, 30);
  });

  test('overlapping and touching ranges merge; duplicates are counted once', () => {
    const a = new Assembler(1000);
    a.add(10, 20);
    a.add(15, 25);
    a.add(25, 30);
    a.add(10, 30);
    assert.deepEqual(a.ranges(), [{ start: 10, end: 30 }]);
    assert.equal(a.heldBytes, 20);
    a.add(0, 100);
    assert.deepEqual(a.ranges(), [{ start: 0, end: 100 }]);
  });

  test('a range bridging several merges them all', () => {
    const a = new Assembler(1000);
    a.add(0, 2);
    a.add(4, 6);
    a.add(8, 10);
    a.add(1, 9);
    assert.deepEqual(a.ranges(), [{ start: 0, end: 10 }]);
  });

  test('advance: forgets what is behind the front and returns the continuation', () => {
    const a = new Assembler(1000);
    a.add(10, 20);
    a.add(30, 40);
    assert.equal(a.advance(5), 5);
    assert.equal(a.advance(10), 20);
    assert.deepEqual(a.ranges(), [{ start: 30, end: 40 }]);
    assert.equal(a.advance(35), 40);
    assert.ok(a.isEmpty);
    assert.equal(a.heldBytes, 0);
  });

  test('the byte limit refuses a range whole', () => {
    const a = new Assembler(10);
    assert.ok(a.add(0, 8));
    assert.equal(a.add(20, 23), false);
    assert.deepEqual(a.ranges(), [{ start: 0, end: 8 }]);
    assert.ok(a.add(4, 10), 'a merge that stays within the limit is fine');
  });

  test('the range limit refuses a new hole but not a merge', () => {
    const a = new Assembler(1000, 2);
    a.add(0, 1);
    a.add(10, 11);
    assert.equal(a.add(20, 21), false);
    assert.ok(a.add(1, 5));
  });

  test('empty ranges are harmless', () => {
    const a = new Assembler(10);
    assert.ok(a.add(5, 5));
    assert.ok(a.add(5, 3));
    assert.ok(a.isEmpty);
    a.clear();
    assert.ok(a.isEmpty);
  });

  test('property: held bytes are exactly the union of the accepted ranges past the front', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('add' as const), start: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ k: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 30 }) }),
    );
    // size 'max': up to 50 operations, enough to hit the byte and range limits (default size: about 10).
    fc.assert(fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 50, size: 'max' }), (limit, maxRanges, ops) => {
      const a = new Assembler(limit, maxRanges);
      const held = new Set<number>();
      let front = 0;
      for (const o of ops) {
        if (o.k === 'add') {
          const start = front + o.start;
          const before = new Set(held);
          for (let i = start; i < start + o.len; i++) held.add(i);
          if (!a.add(start, start + o.len)) {
            held.clear();
            for (const x of before) held.add(x);
          }
        } else {
          const end = a.advance(front + o.by);
          for (const x of [...held]) if (x < front + o.by) held.delete(x);
          // Everything in [front + by, end) was held and is now taken.
          for (let i = front + o.by; i < end; i++) {
            assert.ok(held.has(i));
            held.delete(i);
          }
          front = end;
          assert.ok(!held.has(front), 'the continuation was taken whole');
        }
        assert.equal(a.heldBytes, held.size);
        assert.ok(a.heldBytes <= limit);
        assert.ok(a.rangeCount <= maxRanges);
        const ranges = a.ranges();
        let covered = 0;
        for (let i = 0; i < ranges.length; i++) {
          const rg = ranges[i]!;
          assert.ok(rg.end > rg.start);
          if (i > 0) assert.ok(rg.start > ranges[i - 1]!.end, 'disjoint and not touching');
          for (let x = rg.start; x < rg.end; x++) assert.ok(held.has(x));
          covered += rg.end - rg.start;
        }
        assert.equal(covered, held.size);
      }
    }), { numRuns: Math.max(200, Math.floor(FUZZ_RUNS / 10)) });
  });
});
