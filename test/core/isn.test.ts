import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIpAddress } from '../../src/wire/address.js';
import { seqDiff } from '../../src/wire/seq.js';
import { IsnGenerator } from '../../src/core/isn.js';
import { Rng } from '../../src/time/rng.js';
import { seconds } from '../../src/time/instant.js';

function ip(text: string): Uint8Array {
  const a = parseIpAddress(text);
  assert.ok(a, text);
  return a;
}

const key = (seed: number) => new Rng(seed).fill(new Uint8Array(16));
const local = { address: ip('10.0.0.1'), port: 80 };
const remote = { address: ip('10.0.0.2'), port: 50000 };

describe('IsnGenerator (RFC 6528)', () => {
  test('differs per socket pair', () => {
    const g = new IsnGenerator(key(1));
    const isns = new Set<number>();
    for (let port = 50000; port < 50100; port++) isns.add(g.isn(0, local, { ...remote, port }));
    isns.add(g.isn(0, { ...local, port: 81 }, remote));
    isns.add(g.isn(0, { address: ip('10.0.0.3'), port: 80 }, remote));
    isns.add(g.isn(0, local, { address: ip('10.0.0.4'), port: 50000 }));
    isns.add(g.isn(0, { address: ip('fd00::1'), port: 80 }, { address: ip('fd00::2'), port: 50000 }));
    assert.equal(isns.size, 104);
    // The direction matters too: F(local, remote) is not F(remote, local).
    assert.notEqual(g.isn(0, local, remote), g.isn(0, remote, local));
  });

  test('differs per key, and the same key gives the same ISN', () => {
    const a = new IsnGenerator(key(1)).isn(1234, local, remote);
    assert.equal(new IsnGenerator(key(1)).isn(1234, local, remote), a);
    assert.notEqual(new IsnGenerator(key(2)).isn(1234, local, remote), a);
  });

  test('advances with a 4-microsecond clock: M = now / 4', () => {
    const g = new IsnGenerator(key(7));
    const base = g.isn(0, local, remote);
    assert.equal(g.isn(3, local, remote), base);
    assert.equal(seqDiff(g.isn(4, local, remote), base), 1);
    assert.equal(seqDiff(g.isn(seconds(1), local, remote), base), 250_000);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 30 }), (t, dt) => {
      const before = g.isn(t, local, remote);
      const after = g.isn(t + dt, local, remote);
      assert.equal(seqDiff(after, before) >>> 0, (Math.floor((t + dt) / 4) - Math.floor(t / 4)) >>> 0);
    }));
  });

  test('is an unsigned 32-bit number, wrapping after 2^32 ticks', () => {
    const g = new IsnGenerator(key(3));
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (t) => {
      const x = g.isn(t, local, remote);
      assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
    }));
    assert.equal(g.isn(4 * 2 ** 32, local, remote), g.isn(0, local, remote));
  });
});
