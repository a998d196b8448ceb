/**
 * The shared arbitraries draw what their names promise: `bytesUpTo(n)` reaches n bytes and
 * mostly passes the 20- to 60-byte headers the parser properties are about (the plain
 * `fc.uint8Array({ maxLength })` it replaces stayed near 10 bytes), and `mutationOf`
 * draws its whole ranges.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesUpTo, mutationOf } from './arbitraries.js';

describe('test arbitraries', () => {
  test('bytesUpTo(n) draws every length up to n, most of them past a 20-byte header', () => {
    const lengths = fc.sample(bytesUpTo(100), { numRuns: 2000, seed: 1 }).map((b) => b.length);
    assert.equal(Math.max(...lengths), 100);
    assert.equal(Math.min(...lengths), 0);
    assert.ok(lengths.filter((n) => n > 20).length > lengths.length / 2, 'most draws longer than 20 bytes');
    assert.ok(lengths.filter((n) => n > 60).length > lengths.length / 5, 'many longer than an IPv4 header with options');
    const withMin = fc.sample(bytesUpTo(30, 4), { numRuns: 500, seed: 1 }).map((b) => b.length);
    assert.deepEqual([Math.min(...withMin), Math.max(...withMin)], [4, 30]);
  });

  test('mutationOf flips up to 4 bytes, appends up to 8 and cuts anywhere', () => {
    const seed = new Uint8Array(40);
    const out = fc.sample(mutationOf(1), { numRuns: 2000, seed: 1 }).map((m) => m.apply(seed));
    const lengths = out.map((b) => b.length);
    assert.ok(Math.max(...lengths) > 44 && Math.max(...lengths) <= 48, 'extended by up to 8 bytes');
    assert.ok(lengths.includes(0) && lengths.some((n) => n > 0 && n < 40), 'cut anywhere');
    const flipped = out.map((b) => b.subarray(0, Math.min(b.length, 40)).filter((x) => x !== 0).length);
    assert.equal(Math.max(...flipped), 4);
    assert.deepEqual(seed, new Uint8Array(40), 'the seed is not changed');
  });
});
