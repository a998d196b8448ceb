/**
 * The byte ring: enqueue, dequeue, peek (views and wrapped copies), out-of-order writes with
 * commit, and a property test against a plain array model.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RingBuffer } from '../../src/storage/ring-buffer.js';
import { FUZZ_RUNS } from '../support/runs.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('RingBuffer', () => {
  test('enqueue takes what fits', () => {
    const ring = new RingBuffer(5);
    assert.equal(ring.enqueue(bytes('abc')), 3);
    assert.equal(ring.enqueue(bytes('defg')), 2);
    assert.equal(ring.length, 5);
    assert.equal(ring.free, 0);
    assert.ok(ring.isFull);
    assert.equal(ring.enqueue(bytes('h')), 0);
  });

  test('dequeueInto copies out the oldest bytes', () => {
    const ring = new RingBuffer(5);
    ring.enqueue(bytes('abcde'));
    const out = new Uint8Array(3);
    assert.equal(ring.dequeueInto(out), 3);
    assert.equal(text(out), 'abc');
    assert.equal(ring.length, 2);
  });

  test('wrapping: data spans the end of storage, peek copies into scratch', () => {
    const ring = new RingBuffer(6);
    ring.enqueue(bytes('abcd'));
    ring.dequeue(3);
    ring.enqueue(bytes('efghi'));
    assert.equal(ring.length, 6);
    const scratch = new Uint8Array(6);
    const all = ring.peek(0, 6, scratch);
    assert.equal(text(all), 'defghi');
    assert.equal(all.buffer, scratch.buffer, 'a wrapped range is copied into the scratch buffer');
    const contiguous = ring.peek(0, 2, scratch);
    assert.equal(text(contiguous), 'de');
    assert.notEqual(contiguous.buffer, scratch.buffer, 'a contiguous range is a view');
    assert.equal(text(ring.peek(4, 10)), 'hi');
  });

  test('peek outside the held bytes is empty', () => {
    const ring = new RingBuffer(4);
    ring.enqueue(bytes('ab'));
    assert.equal(ring.peek(2, 1).length, 0);
    assert.equal(ring.peek(-1, 1).length, 0);
    assert.equal(ring.peek(0, 0).length, 0);
  });

  test('writeUnallocated then commit: out-of-order data becomes held without another copy', () => {
    const ring = new RingBuffer(8);
    ring.enqueue(bytes('ab'));
    assert.equal(ring.writeUnallocated(2, bytes('ef')), 2);
    assert.equal(ring.length, 2);
    ring.writeUnallocated(0, bytes('cd'));
    assert.equal(ring.commit(4), 4);
    assert.equal(text(ring.peek(0, 6)), 'abcdef');
    assert.equal(ring.writeUnallocated(1, bytes('xyz')), 1, 'clipped to capacity');
    assert.equal(ring.writeUnallocated(5, bytes('x')), 0);
  });

  test('read copies without consuming; clear empties', () => {
    const ring = new RingBuffer(4);
    ring.enqueue(bytes('abcd'));
    const out = new Uint8Array(2);
    assert.equal(ring.read(1, out), 2);
    assert.equal(text(out), 'bc');
    assert.equal(ring.length, 4);
    ring.clear();
    assert.ok(ring.isEmpty);
  });

  test('capacity zero holds nothing and never throws', () => {
    const ring = new RingBuffer(0);
    assert.equal(ring.enqueue(bytes('a')), 0);
    assert.equal(ring.dequeue(1), 0);
    assert.equal(ring.peek(0, 1).length, 0);
    assert.equal(ring.writeUnallocated(0, bytes('a')), 0);
    assert.throws(() => new RingBuffer(-1), RangeError);
  });

  test('property: behaves as an array of bytes', () => {
    // size 'max' on the chunks and the list: up to 40 operations of up to 40 bytes, so the ring
    // fills and wraps many times (fast-check's default size stopped both near 10).
    const op = fc.oneof(
      fc.record({ k: fc.constant('enqueue' as const), data: fc.uint8Array({ maxLength: 40, size: 'max' }) }),
      fc.record({ k: fc.constant('dequeue' as const), n: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ k: fc.constant('dequeueInto' as const), n: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ k: fc.constant('peek' as const), off: fc.integer({ min: 0, max: 40 }), n: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ k: fc.constant('unallocated' as const), off: fc.integer({ min: 0, max: 40 }), data: fc.uint8Array({ maxLength: 20, size: 'max' }), commit: fc.boolean() }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 48 }), fc.array(op, { maxLength: 40, size: 'max' }), (capacity, ops) => {
      const ring = new RingBuffer(capacity);
      let model: number[] = [];
      for (const o of ops) {
        if (o.k === 'enqueue') {
          const n = ring.enqueue(o.data);
          assert.equal(n, Math.min(o.data.length, capacity - model.length));
          model.push(...o.data.subarray(0, n));
        } else if (o.k === 'dequeue') {
          assert.equal(ring.dequeue(o.n), Math.min(o.n, model.length));
          model = model.slice(Math.min(o.n, model.length));
        } else if (o.k === 'dequeueInto') {
          const out = new Uint8Array(o.n);
          const n = ring.dequeueInto(out);
          assert.deepEqual([...out.subarray(0, n)], model.slice(0, n));
          model = model.slice(n);
        } else if (o.k === 'peek') {
          assert.deepEqual([...ring.peek(o.off, o.n, new Uint8Array(64))], model.slice(o.off, o.off + o.n));
        } else {
          // Write into free space and commit exactly the written prefix when it starts at 0.
          const free = capacity - model.length;
          const written = ring.writeUnallocated(o.off, o.data);
          assert.equal(written, o.off < free ? Math.min(o.data.length, free - o.off) : 0);
          if (o.commit && o.off === 0) {
            ring.commit(written);
            model.push(...o.data.subarray(0, written));
          }
        }
        assert.equal(ring.length, model.length);
        assert.equal(ring.free, capacity - model.length);
      }
    }), { numRuns: Math.max(200, Math.floor(FUZZ_RUNS / 10)) });
  });
});

test('storage grows on demand: nothing before the first byte, doubling from 4 KiB, never past the capacity', () => {
  const ring = new RingBuffer(20_000);
  assert.equal(ring.allocated, 0);
  assert.equal(ring.free, 20_000);
  ring.enqueue(new Uint8Array(10).fill(1));
  assert.equal(ring.allocated, 4096);
  // Wrap inside the small storage, then grow: the held bytes keep their order.
  ring.dequeue(10);
  const a = Uint8Array.from({ length: 4000 }, (_, i) => i & 0xff);
  ring.enqueue(a);
  const b = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
  ring.enqueue(b);
  assert.equal(ring.allocated, 8192);
  const out = new Uint8Array(7000);
  assert.equal(ring.read(0, out), 7000);
  assert.deepEqual(out, Uint8Array.from([...a, ...b]));
  // Bytes written past the held data (out of order) survive a growth too.
  ring.writeUnallocated(5000, Uint8Array.of(9, 8, 7));
  ring.enqueue(new Uint8Array(5000).fill(2));
  assert.equal(ring.allocated, 16384);
  assert.equal(ring.commit(3), 3);
  const tail = new Uint8Array(3);
  ring.read(12_000, tail);
  assert.deepEqual(tail, Uint8Array.of(9, 8, 7));
  ring.enqueue(new Uint8Array(100_000));
  assert.equal(ring.allocated, 20_000);
  assert.equal(ring.length, 20_000);
  assert.ok(ring.isFull);
  assert.equal(new RingBuffer(0).enqueue(Uint8Array.of(1)), 0);
});
