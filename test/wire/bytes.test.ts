/**
 * The shared big-endian readers and writers say what `DataView` says, in network byte order,
 * at any offset of a view into a larger buffer; 32-bit values stay unsigned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readU16, readU32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import { ROUND_TRIP_RUNS } from '../support/runs.js';

/** A view that does not start at its buffer's beginning, and an offset with 4 bytes after it. */
const placed = fc.tuple(fc.nat(7), fc.uint8Array({ minLength: 4, maxLength: 24, size: 'max' }), fc.nat()).map(([skip, bytes, at]) => {
  const backing = new Uint8Array(skip + bytes.length);
  backing.set(bytes, skip);
  const view = backing.subarray(skip);
  return { view, at: at % (view.length - 3) };
});

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

test('readU16 and readU32: the most significant byte first, unsigned', () => {
  const b = Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0xff, 0xff, 0xff, 0xfe);
  assert.equal(readU16(b, 0), 0x1234);
  assert.equal(readU16(b, 3), 0x78ff);
  assert.equal(readU32(b, 0), 0x12345678);
  assert.equal(readU32(b, 4), 0xfffffffe, 'no sign from the top bit');
});

test('writeU16 and writeU32: the most significant byte first, nothing written around them', () => {
  const b = new Uint8Array(8).fill(0xaa);
  writeU16(b, 1, 0xbeef);
  assert.deepEqual(b, Uint8Array.of(0xaa, 0xbe, 0xef, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa));
  writeU32(b, 3, 0xfedcba98);
  assert.deepEqual(b, Uint8Array.of(0xaa, 0xbe, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0xaa));
});

test('the readers agree with DataView at any offset of a view', () => {
  fc.assert(fc.property(placed, ({ view, at }) => {
    assert.equal(readU16(view, at), dataView(view).getUint16(at));
    assert.equal(readU32(view, at), dataView(view).getUint32(at));
  }), { numRuns: ROUND_TRIP_RUNS });
});

test('the writers agree with DataView, and the readers read back what they wrote', () => {
  fc.assert(fc.property(placed, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), ({ view, at }, v16, v32) => {
    const ours = view.slice();
    const theirs = view.slice();
    writeU16(ours, at, v16);
    dataView(theirs).setUint16(at, v16);
    assert.deepEqual(ours, theirs);
    assert.equal(readU16(ours, at), v16);
    writeU32(ours, at, v32);
    dataView(theirs).setUint32(at, v32);
    assert.deepEqual(ours, theirs);
    assert.equal(readU32(ours, at), v32);
  }), { numRuns: ROUND_TRIP_RUNS });
});
