import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineHeap } from '../../src/core/deadlines.js';
import type { DeadlineOwner } from '../../src/core/deadlines.js';
import { Fifo } from '../../src/core/fifo.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface Timer extends DeadlineOwner {
  readonly id: number;
}

const timer = (id: number): Timer => ({ id, deadline: undefined, generation: 0 });

describe('DeadlineHeap', () => {
  test('peek gives the earliest deadline; due returns each due owner once, earliest first', () => {
    const heap = new DeadlineHeap<Timer>();
    const [a, b, c] = [timer(1), timer(2), timer(3)];
    heap.set(a, 30);
    heap.set(b, 10);
    heap.set(c, 20);
    assert.equal(heap.peek(), 10);
    assert.equal(heap.size, 3);
    assert.deepEqual(heap.due(20).map((t) => t.id), [2, 3]);
    assert.equal(b.deadline, undefined);
    assert.equal(heap.peek(), 30);
    assert.deepEqual(heap.due(29), []);
    assert.deepEqual(heap.due(1000).map((t) => t.id), [1]);
    assert.equal(heap.peek(), undefined);
    assert.equal(heap.size, 0);
  });

  test('re-arming and clearing invalidate the old entry lazily', () => {
    const heap = new DeadlineHeap<Timer>();
    const a = timer(1);
    heap.set(a, 10);
    heap.set(a, 50);
    assert.equal(heap.peek(), 50);
    heap.set(a, 5);
    heap.set(a, 10); // back to a value an older entry also holds: still one due
    assert.deepEqual(heap.due(100).map((t) => t.id), [1]);
    heap.set(a, 10);
    heap.set(a, undefined);
    assert.equal(heap.peek(), undefined);
    assert.deepEqual(heap.due(100), []);
  });

  test('stale entries never pile up, after clears as after re-arms: closed owners are not kept alive', () => {
    const heap = new DeadlineHeap<Timer>();
    const live = [timer(0), timer(1)];
    for (const t of live) heap.set(t, 1_000_000);
    const many = Array.from({ length: 10_000 }, (_, i) => timer(i + 2));
    for (const t of many) { heap.set(t, t.id); heap.set(t, t.id + 5); }
    // Everything closes at once (a burst of connections ending): only clears, no new deadline.
    for (const t of many) heap.set(t, undefined);
    assert.equal(heap.size, 2);
    assert.ok(heap.storedEntries <= 64, `${heap.storedEntries} entries kept for 2 live owners`);
    assert.deepEqual(heap.due(1_000_000).map((t) => t.id).sort(), [0, 1]);
  });

  test('agrees with a plain scan under random operations (and rebuilds without losing anyone)', () => {
    // size 'max': up to 400 sets, so the heap passes 64 entries and rebuilds (fast-check's default size stopped near 10).
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined })), { maxLength: 400, size: 'max' }), fc.integer({ min: 0, max: 1000 }), (ops, now) => {
      const heap = new DeadlineHeap<Timer>();
      const timers = Array.from({ length: 20 }, (_, i) => timer(i));
      const model = new Map<number, number>();
      for (const [i, d] of ops) {
        heap.set(timers[i]!, d);
        if (d === undefined) model.delete(i);
        else model.set(i, d);
      }
      const min = model.size === 0 ? undefined : Math.min(...model.values());
      assert.equal(heap.peek(), min);
      const due = heap.due(now).map((t) => t.id).sort((x, y) => x - y);
      const expected = [...model].filter(([, d]) => d <= now).map(([i]) => i).sort((x, y) => x - y);
      assert.deepEqual(due, expected);
    }), { numRuns: 300 });
  });
});

describe('Fifo', () => {
  test('first in, first out, across compactions', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expect = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(next++);
      for (let i = 0; i < 90; i++) assert.equal(q.shift(), expect++);
    }
    assert.equal(q.length, 500);
    assert.equal(q.peek(), expect);
    while (q.length > 0) assert.equal(q.shift(), expect++);
    assert.equal(q.shift(), undefined);
  });

  test('any sequence of pushes and shifts behaves as an array (across ring growth and wrap-around)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.nat(200).map((n) => ({ push: n })), fc.constant({ push: -1 })), { maxLength: 600, size: 'max' }), (ops) => {
      const q = new Fifo<number>();
      const model: number[] = [];
      let next = 0;
      for (const op of ops) {
        if (op.push < 0) {
          assert.equal(q.shift(), model.shift());
        } else {
          // A burst of pushes: the ring fills, wraps and grows.
          for (let i = 0; i < op.push % 40; i++) { q.push(next); model.push(next++); }
        }
        assert.equal(q.length, model.length);
        assert.equal(q.peek(), model[0]);
      }
      while (model.length > 0) assert.equal(q.shift(), model.shift());
      assert.equal(q.shift(), undefined);
    }), { numRuns: 300 });
  });

  test('a shifted item is no longer held by the queue', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const q = new Fifo<object>();
    const ref = ((): WeakRef<object> => {
      const item = {};
      q.push(item);
      q.shift();
      return new WeakRef(item);
    })();
    q.push({}); // the queue is in use still
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target to the end of the job
    gc();
    assert.equal(ref.deref(), undefined);
    assert.equal(q.length, 1);
  });
});
