import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  CHECKSUM_SIMD, SIMD_MIN_BYTES, checksumAdd, checksumAddPortable, checksumFinish, checksumFold, checksumUpdate16, checksumUpdate32, internetChecksum, pseudoHeaderSum,
} from '../../src/wire/checksum.js';
import { ROUND_TRIP_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';

/** The textbook definition, one big-endian word at a time: the oracle for the fast path. */
function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

describe('internet checksum (RFC 1071)', () => {
  test('RFC 1071 3: the worked example sums to 0xddf2', () => {
    const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    assert.equal(checksumFold(checksumAdd(0, data)), 0xddf2);
    assert.equal(internetChecksum(data), ~0xddf2 & 0xffff);
  });

  test('a real IPv4 header verifies to zero and its checksum is recomputed', () => {
    // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 (the Wikipedia example)
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    assert.equal(internetChecksum(hdr), 0);
    hdr[10] = 0; hdr[11] = 0;
    assert.equal(internetChecksum(hdr), 0xb861);
  });

  test('odd length pads the last byte with zero', () => {
    assert.equal(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56)), ~(0x1234 + 0x5600) & 0xffff);
  });

  test('fast path equals the reference on any length, offset and alignment', () => {
    // bytesUpTo: the fast path starts at 64 bytes; fast-check's default size kept arrays to about 10.
    fc.assert(fc.property(bytesUpTo(3000), fc.nat(7), (bytes, shift) => {
      const backing = new Uint8Array(bytes.length + 8);
      backing.set(bytes, shift);
      const view = backing.subarray(shift, shift + bytes.length);
      assert.equal(internetChecksum(view), reference(bytes));
      assert.equal(internetChecksum(backing, shift, shift + bytes.length), reference(bytes));
    }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('large buffers (beyond the fold interval) match the reference', () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 3).map((_, i) => (i * 131 + 7) & 0xff);
    assert.equal(internetChecksum(big), reference(big));
    const ones = new Uint8Array(9 * 1024 * 1024).fill(0xff);
    assert.equal(internetChecksum(ones), reference(ones));
  });

  test('sums split on even boundaries add up (RFC 1071 2(B))', () => {
    fc.assert(fc.property(bytesUpTo(600), fc.nat(300), (bytes, cut) => {
      const at = Math.min(bytes.length, cut * 2);
      const split = checksumFinish(checksumAdd(0, bytes, 0, at) + checksumAdd(0, bytes, at, bytes.length));
      assert.equal(split, internetChecksum(bytes));
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});

describe('the two bodies: WebAssembly SIMD and JavaScript', () => {
  test('Node sums long bodies with WebAssembly SIMD', () => {
    // Every Node l4 supports (20 and later) has WebAssembly SIMD: the fast path must be on.
    assert.equal(CHECKSUM_SIMD, true);
  });

  test('checksum-wasm.ts is what scripts/make-checksum-wasm.mjs assembles from checksum.wat', () => {
    const script = fileURLToPath(new URL('../../../scripts/make-checksum-wasm.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('the JavaScript body equals the reference on any length, offset and alignment', () => {
    fc.assert(fc.property(bytesUpTo(3000), fc.nat(7), (bytes, shift) => {
      const backing = new Uint8Array(bytes.length + 8);
      backing.set(bytes, shift);
      assert.equal(checksumFinish(checksumAddPortable(0, backing, shift, shift + bytes.length)), reference(bytes));
    }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('both bodies agree at the SIMD threshold, odd starts and a running sum', () => {
    fc.assert(fc.property(
      bytesUpTo(2 * SIMD_MIN_BYTES + 40, SIMD_MIN_BYTES - 20), fc.nat(40), fc.nat(0xfffff),
      (bytes, from, running) => {
        const start = Math.min(from, bytes.length);
        assert.equal(
          checksumFold(checksumAdd(running, bytes, start)), checksumFold(checksumAddPortable(running, bytes, start)),
        );
      },
    ), { numRuns: ROUND_TRIP_RUNS });
  });

  test('SIMD chunk boundaries (64 KiB) with the largest words, where the lanes come nearest to overflowing', () => {
    const ones = new Uint8Array(3 * 65536 + 64).fill(0xff);
    for (const length of [65535, 65536, 65537, 65536 + 15, 65536 + 16, 2 * 65536 + 1, 3 * 65536 + 63]) {
      for (const start of [0, 1, 2, 17]) {
        const view = ones.subarray(start, start + length);
        assert.equal(internetChecksum(view), reference(view), `length ${length}, start ${start}`);
      }
    }
    const ramp = new Uint8Array(2 * 65536 + 5).map((_, i) => (i * 251 + 3) & 0xff);
    assert.equal(internetChecksum(ramp, 3), reference(ramp.subarray(3)));
  });
});

describe('pseudo-headers', () => {
  test('IPv4 (RFC 793 3.1): src, dst, zero, protocol, length', () => {
    const src = Uint8Array.of(10, 0, 0, 1);
    const dst = Uint8Array.of(10, 0, 0, 2);
    const explicit = Uint8Array.of(10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 40);
    assert.equal(checksumFold(pseudoHeaderSum(src, dst, 6, 40)), checksumFold(checksumAdd(0, explicit)));
  });

  test('IPv6 (RFC 8200 8.1): 32-bit length and next header', () => {
    const src = new Uint8Array(16); src[0] = 0xfe; src[1] = 0x80; src[15] = 1;
    const dst = new Uint8Array(16); dst[0] = 0xfe; dst[1] = 0x80; dst[15] = 2;
    const explicit = new Uint8Array(40);
    explicit.set(src, 0); explicit.set(dst, 16);
    explicit[32] = 0x00; explicit[33] = 0x01; explicit[34] = 0x00; explicit[35] = 0x08; // 65544
    explicit[39] = 17;
    assert.equal(checksumFold(pseudoHeaderSum(src, dst, 17, 65544)), checksumFold(checksumAdd(0, explicit)));
  });
});

describe('incremental update (RFC 1624)', () => {
  test('updating one word equals recomputing', () => {
    fc.assert(fc.property(bytesUpTo(200, 2), fc.nat(), fc.integer({ min: 0, max: 0xffff }),
      (bytes, pick, word) => {
        const even = bytes.length & ~1;
        if (even < 2) return;
        const at = (pick % (even / 2)) * 2;
        const before = internetChecksum(bytes);
        const old = (bytes[at]! << 8) | bytes[at + 1]!;
        bytes[at] = word >>> 8; bytes[at + 1] = word & 0xff;
        const updated = checksumUpdate16(before, old, word);
        // RFC 1624 4: both 0x0000 and 0xffff represent a zero sum; compare in folded form.
        assert.equal(updated === 0xffff ? 0 : updated, internetChecksum(bytes) === 0xffff ? 0 : internetChecksum(bytes));
      }), { numRuns: ROUND_TRIP_RUNS });
  });

  test('RFC 1624 3: the eqn. 3 example gives 0x0000 where eqn. 2 would give 0xffff', () => {
    // HC = 0xdd2f, m = 0x5555, m' = 0x3285 -> HC' = 0x0000
    assert.equal(checksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  });

  test('32-bit update (an address change, as NAT does)', () => {
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    const before = internetChecksum(hdr);
    hdr.set([10, 1, 2, 3], 12);
    const after = checksumUpdate32(before, 0xc0a80001, 0x0a010203);
    assert.equal(after, internetChecksum(hdr));
  });
});
