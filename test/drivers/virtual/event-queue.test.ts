import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventQueue } from '../../../src/drivers/virtual/event-queue.js';

function drain<A, B>(q: EventQueue<A, B>): Array<[number, A, B]> {
  const out: Array<[number, A, B]> = [];
  while (q.pop((a, b, t) => out.push([t, a, b]))) { /* collect */ }
  return out;
}

/** The reference model's pop: removes and returns the earliest event, the first pushed among equal times. */
function takeEarliest(reference: Array<{ t: number; id: number }>): { t: number; id: number } {
  let best = 0;
  for (let i = 1; i < reference.length; i++) {
    const r = reference[i]!;
    const b = reference[best]!;
    if (r.t < b.t || (r.t === b.t && r.id < b.id)) best = i;
  }
  return reference.splice(best, 1)[0]!;
}

describe('EventQueue', () => {
  test('pops in time order, FIFO among equal times', () => {
    const q = new EventQueue<string, number>();
    q.push(5, 'e', 0);
    q.push(1, 'a', 1);
    q.push(5, 'f', 2);
    q.push(3, 'c', 3);
    q.push(1, 'b', 4);
    q.push(5, 'g', 5);
    assert.equal(q.size, 6);
    assert.equal(q.peekTime(), 1);
    assert.equal(q.peekA(), 'a');
    assert.deepEqual(drain(q).map(([t, a]) => `${t}${a}`), ['1a', '1b', '3c', '5e', '5f', '5g']);
    assert.equal(q.peekTime(), undefined);
    assert.equal(q.pop(() => assert.fail('nothing to pop')), false);
  });

  test('clear empties the queue', () => {
    const q = new EventQueue<number, number>();
    for (let i = 0; i < 10; i++) q.push(i, i, i);
    q.clear();
    assert.equal(q.size, 0);
    assert.equal(q.peekTime(), undefined);
  });

  test('property: interleaved pushes and pops equal a stable sort', () => {
    fc.assert(fc.property(
      // size 'max': up to 300 operations, a deep heap with many equal times (default size: about 10).
      fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)), { maxLength: 300, size: 'max' }),
      (ops) => {
        const q = new EventQueue<number, null>();
        const reference: Array<{ t: number; id: number }> = [];
        let id = 0;
        const popped: number[] = [];
        const expected: number[] = [];
        for (const op of ops) {
          if (op >= 0) {
            q.push(op, id, null);
            reference.push({ t: op, id: id++ });
          } else {
            q.pop((a) => popped.push(a));
            if (reference.length > 0) {
              expected.push(takeEarliest(reference).id);
            }
          }
        }
        assert.deepEqual(popped, expected);
        assert.equal(q.size, reference.length);
      },
    ), { numRuns: 500 });
  });

  test('property: mostly in-order pushes (the run) mixed with earlier ones (the heap) still pop as a stable sort', () => {
    // A link pushes arrivals at or after the last one; jitter and reordering push earlier
    // ones. Both paths, and pops between them, must agree with one global order.
    fc.assert(fc.property(
      // size 'max': up to 400 operations (default size: about 10).
      fc.array(fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }).map((d) => ({ kind: 'later' as const, d })) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 }).map((d) => ({ kind: 'earlier' as const, d })) },
        { weight: 3, arbitrary: fc.constant({ kind: 'pop' as const, d: 0 }) },
      ), { maxLength: 400, size: 'max' }),
      (ops) => {
        const q = new EventQueue<number, string>();
        const reference: Array<{ t: number; id: number }> = [];
        let last = 0;
        let id = 0;
        const popped: Array<[number, number, string]> = [];
        const expected: Array<[number, number, string]> = [];
        for (const op of ops) {
          if (op.kind === 'pop') {
            const peek = q.peekTime();
            const peekA = q.peekA();
            q.pop((a, b, t) => popped.push([t, a, b]));
            if (reference.length > 0) {
              const e = takeEarliest(reference);
              expected.push([e.t, e.id, `p${e.id}`]);
              assert.equal(peek, e.t);
              assert.equal(peekA, e.id);
            } else {
              assert.equal(peek, undefined);
            }
            continue;
          }
          const t = op.kind === 'later' ? last + op.d : Math.max(0, last - op.d);
          if (op.kind === 'later') last = t;
          q.push(t, id, `p${id}`);
          reference.push({ t, id: id++ });
          assert.equal(q.size, reference.length);
        }
        assert.deepEqual(popped, expected);
        const rest = reference.sort((x, y) => x.t - y.t || x.id - y.id).map((r) => r.id);
        const drained: number[] = [];
        while (q.pop((a) => drained.push(a))) { /* drain */ }
        assert.deepEqual(drained, rest);
        assert.equal(q.size, 0);
      },
    ), { numRuns: 500 });
  });

  test('a long in-order run is compacted as it is consumed and keeps its order', () => {
    const q = new EventQueue<number, null>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i, i, null);
      if (i % 3 === 0) q.pop((a) => out.push(a));
    }
    while (q.pop((a) => out.push(a))) { /* drain */ }
    assert.deepEqual(out, Array.from({ length: 5000 }, (_, i) => i));
  });
});
