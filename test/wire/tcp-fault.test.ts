/**
 * One TCP validation behind three entry points: `tcpFault`, `TcpPacket.checked` and
 * `parseTcp` refuse the same bytes for the same reason and accept the same bytes, and
 * what they accept reads into the same record. Checked over random bytes, over emitted
 * segments whole and mutated (bytes flipped, some appended, the tail cut off), and against
 * every structural reason by name.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { WireReason } from '../../src/wire/result.js';
import {
  TcpPacket, emitTcp, parseTcp, tcpBufferLen, tcpChecksumValid, tcpFault, tcpOptionsLen, tcpRepr, tcpReprFromPacket,
} from '../../src/wire/tcp.js';
import type { TcpOption } from '../../src/wire/tcp.js';
import { mutationOf } from '../support/arbitraries.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';

const SRC = Uint8Array.of(198, 51, 100, 7);
const DST = Uint8Array.of(203, 0, 113, 9);

/**
 * Asserts that the three entry points agree on `b` and returns what they said (null: accepted).
 * `parseTcp` without the checksum must say exactly what `tcpFault` says; with it, the same
 * or, for a well-formed segment, 'bad-checksum' exactly when the checksum does not verify.
 */
function agreement(b: Uint8Array): WireReason | null {
  const fault = tcpFault(b);
  const checked = TcpPacket.checked(b);
  const parsed = parseTcp(b, SRC, DST, { verifyChecksum: false });
  assert.equal(checked.ok ? null : checked.reason, fault, 'TcpPacket.checked and tcpFault');
  assert.equal(parsed.ok ? null : parsed.reason, fault, 'parseTcp and tcpFault');
  if (checked.ok && parsed.ok) assert.deepEqual(parsed.value, tcpReprFromPacket(checked.value), 'the same record');
  const verified = parseTcp(b, SRC, DST);
  const expected = fault ?? (tcpChecksumValid(b, SRC, DST) ? null : 'bad-checksum');
  assert.equal(verified.ok ? null : verified.reason, expected, 'parseTcp with the checksum');
  return fault;
}

/** A segment: an ACK with `options` padded with zeros to a multiple of 4, no data. */
function segment(options: readonly number[]): Uint8Array {
  const area = (options.length + 3) & ~3;
  const b = new Uint8Array(20 + area);
  b[12] = ((20 + area) / 4) << 4;
  b[13] = 0x10;
  b.set(options, 20);
  return b;
}

/** `b` with its data offset set to `words`. */
function withDataOffset(b: Uint8Array, words: number): Uint8Array {
  b[12] = words << 4;
  return b;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Options as a stack might send them, and a few it would not (unknown kinds, an EOL). */
const option: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant<TcpOption>({ kind: 'nop' }),
  fc.integer({ min: 0, max: 0xffff }).map((value): TcpOption => ({ kind: 'mss', value })),
  fc.integer({ min: 0, max: 14 }).map((shift): TcpOption => ({ kind: 'window-scale', shift })),
  fc.constant<TcpOption>({ kind: 'sack-permitted' }),
  fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 3 }).map((blocks): TcpOption => ({ kind: 'sack', blocks })),
  fc.record({ tsVal: u32, tsEcr: u32 }).map(({ tsVal, tsEcr }): TcpOption => ({ kind: 'timestamps', tsVal, tsEcr })),
  fc.record({ type: fc.constantFrom(19, 28, 30, 34, 254), data: fc.uint8Array({ maxLength: 6 }) })
    .map(({ type, data }): TcpOption => ({ kind: 'unknown', type, data })),
);

/** A well-formed segment, emitted with a correct checksum: options within 40 bytes, maybe an EOL. */
const wellFormed = fc.record({
  srcPort: fc.integer({ min: 0, max: 0xffff }),
  dstPort: fc.integer({ min: 0, max: 0xffff }),
  seqNumber: u32,
  ackNumber: u32,
  flags: fc.integer({ min: 0, max: 0xff }),
  window: fc.integer({ min: 0, max: 0xffff }),
  options: fc.array(option, { maxLength: 4 }),
  eol: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 12 }),
}).map(({ options, eol, ...fields }) => {
  const list: TcpOption[] = [];
  for (const o of options) if (tcpOptionsLen([...list, o]) < 40) list.push(o); // room left for the EOL
  if (eol) list.push({ kind: 'eol' });
  const repr = tcpRepr({ ...fields, options: list });
  const b = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, b, 0, SRC, DST);
  return b;
});

/**
 * The header nearly every segment has once timestamps are on (NOP, NOP, TSopt: 32 bytes),
 * which `parseTcp` reads without walking the options; sometimes with more options after it,
 * which must be walked.
 */
const timestampsHeader = fc.record({
  seqNumber: u32, ackNumber: u32, tsVal: u32, tsEcr: u32, flags: fc.integer({ min: 0, max: 0xff }),
  more: fc.array(option, { maxLength: 2 }), payload: fc.uint8Array({ maxLength: 40 }),
}).map(({ tsVal, tsEcr, more, ...fields }) => {
  const list: TcpOption[] = [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal, tsEcr }];
  for (const o of more) if (tcpOptionsLen([...list, o]) <= 40) list.push(o);
  const repr = tcpRepr({ srcPort: 80, dstPort: 40000, ...fields, options: list });
  const b = new Uint8Array(tcpBufferLen(repr));
  emitTcp(repr, b, 0, SRC, DST);
  return b;
});

/** A well-formed segment, then damaged: bytes flipped, some appended, the tail cut off. */
const mutated = fc.tuple(wellFormed, mutationOf(1)).map(([seed, mutation]) => mutation.apply(seed));

describe('tcpFault, TcpPacket.checked and parseTcp: one validation', () => {
  test('every structural reason, by name, from all three', () => {
    const cases: Array<[string, Uint8Array, WireReason | null]> = [
      ['a bare ACK', segment([]), null],
      ['MSS, SACK-permitted, NOP, window scale, EOL and padding', segment([2, 4, 5, 0xb4, 4, 2, 1, 3, 3, 7, 0, 9]), null],
      ['19 bytes', segment([]).subarray(0, 19), 'truncated'],
      ['data offset 4', withDataOffset(segment([]), 4), 'data-offset-too-small'],
      ['data offset 6 over 20 bytes', withDataOffset(segment([]), 6), 'data-offset-past-end'],
      ['an option of length 1', segment([0x63, 1, 1, 1]), 'option-length-invalid'],
      ['an MSS of length 3', segment([2, 3, 5, 1]), 'option-length-invalid'],
      ['a SACK of 11 bytes', segment([5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1]), 'option-length-invalid'],
      ['an option past the area', segment([0x63, 5, 1, 1]), 'option-overrun'],
      ['no room for the length octet', segment([1, 1, 1, 0x63]), 'option-overrun'],
    ];
    for (const [name, b, reason] of cases) assert.equal(agreement(b), reason, name);
  });

  test('the NOP, NOP, TSopt header (read without the walk) gives the record the walk gives, whole and damaged', () => {
    fc.assert(fc.property(timestampsHeader, (b) => {
      assert.equal(agreement(b), null);
      const parsed = parseTcp(b, SRC, DST);
      assert.ok(parsed.ok);
      // Walked by parseTcpOptions' rules, the area reads the same (what the record must hold).
      const walked = TcpPacket.checked(b);
      assert.ok(walked.ok);
      assert.deepEqual(parsed.value.options, walked.value.options);
    }), { numRuns: ROUND_TRIP_RUNS });
    fc.assert(fc.property(fc.tuple(timestampsHeader, mutationOf(1)), ([seed, mutation]) => { agreement(mutation.apply(seed)); }), { numRuns: FUZZ_RUNS });
    // Cut to 31 bytes, the data offset of 8 runs past the end: refused, not read.
    const cut = fc.sample(timestampsHeader, { seed: 7, numRuns: 1 })[0]!.subarray(0, 31);
    assert.equal(agreement(cut), 'data-offset-past-end');
  });

  test('the three agree on random bytes', () => {
    // size 'max': fast-check otherwise keeps arrays to about 10 bytes, all of them 'truncated'.
    fc.assert(fc.property(fc.uint8Array({ maxLength: 72, size: 'max' }), (b) => { agreement(b); }), { numRuns: FUZZ_RUNS });
  });

  test('the three agree on emitted segments, whole and mutated; the mutations reach every reason', () => {
    const seen = new Set<WireReason | null>();
    fc.assert(fc.property(wellFormed, (b) => {
      assert.equal(agreement(b), null);
      assert.ok(parseTcp(b, SRC, DST).ok, 'an emitted segment parses with its checksum');
    }), { numRuns: ROUND_TRIP_RUNS });
    fc.assert(fc.property(mutated, (b) => { seen.add(agreement(b)); }), { numRuns: FUZZ_RUNS });
    for (const reason of [null, 'truncated', 'data-offset-too-small', 'data-offset-past-end', 'option-length-invalid', 'option-overrun'] as const) {
      assert.ok(seen.has(reason), `no mutated segment gave ${reason ?? 'success'}: ${[...seen].join(', ')}`);
    }
  });
});
