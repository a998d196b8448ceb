import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  formatTimestamp, pcapHeader, pcapRecord, pcapRecordHeader, readPcap, MAX_CAPTURED_LENGTH,
} from '../../src/wire/pcap.js';
import type { CaptureResult, PcapCapture } from '../../src/wire/pcap.js';
import { readCapture, sniffCaptureFormat } from '../../src/wire/capture.js';
import type { Capture } from '../../src/wire/capture.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';

/*
 * Fixtures (test/fixtures/pcap/), captured on loopback while `ping -c2 127.0.0.1` ran:
 *   lo-ping.pcap     tcpdump -i lo -w                                  (EN10MB, microseconds)
 *   lo-ping-ns.pcap  tcpdump -i lo --time-stamp-precision=nano -w      (EN10MB, nanoseconds)
 *   any-sll.pcap     tcpdump -i any -y LINUX_SLL -w                    (IPv4 with options + ICMPv6)
 *   any-sll2.pcap    tcpdump -i any -y LINUX_SLL2 -w
 *   rawip.pcap       editcap -F pcap -T rawip -C 14 -L lo-ping.pcap    (LINKTYPE_RAW)
 *   snap60.pcap      editcap -F pcap -s 60 lo-ping.pcap                (captured 60 of 98 bytes)
 * Expected values are tshark's: `tshark -r f -T fields -e frame.number -e frame.time_epoch
 * -e frame.len -e frame.cap_len` (tshark 4.0.17).
 */
const FIXTURES = new URL('../../../test/fixtures/pcap/', import.meta.url);
function fixture(name: string): Uint8Array {
  const b = readFileSync(new URL(name, FIXTURES));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** [frame.number, frame.time_epoch, frame.len, frame.cap_len] as tshark prints them. */
type Expected = [number, string, number, number];
const LO_PING: Expected[] = [
  [1, '1795297433.801179000', 98, 98],
  [2, '1795297433.801192000', 98, 98],
  [3, '1795297434.003793000', 98, 98],
  [4, '1795297434.003809000', 98, 98],
];
const LO_PING_NS: Expected[] = [
  [1, '1795297435.820725947', 98, 98],
  [2, '1795297435.820739717', 98, 98],
  [3, '1795297436.023882663', 98, 98],
  [4, '1795297436.023898847', 98, 98],
];
const ANY_SLL: Expected[] = [
  [1, '1795297439.067879000', 140, 140],
  [2, '1795297439.067894000', 140, 140],
  [3, '1795297439.070079000', 72, 72],
  [4, '1795297439.070091000', 72, 72],
];
const ANY_SLL2: Expected[] = [
  [1, '1795297437.845107000', 104, 104],
  [2, '1795297437.845119000', 104, 104],
  [3, '1795297438.047841000', 104, 104],
  [4, '1795297438.047857000', 104, 104],
];
const RAWIP = LO_PING.map(([n, t]): Expected => [n, t, 84, 84]);
const SNAP60 = LO_PING.map(([n, t]): Expected => [n, t, 98, 60]);

function value<T>(r: CaptureResult<T>): T {
  if (!r.ok) assert.fail(`parse failed: ${r.reason}: ${r.message}`);
  return r.value;
}

function checkAgainstTshark(capture: Capture, expected: Expected[], linkType: number): void {
  assert.equal(capture.error, undefined);
  assert.deepEqual(
    capture.records.map((r) => [r.index, formatTimestamp(r.timestamp), r.originalLength, r.capturedLength]),
    expected,
  );
  for (const r of capture.records) {
    assert.equal(r.linkType, linkType);
    assert.equal(r.data.length, r.capturedLength);
  }
}

/** The same file written big-endian: every header field swapped, packet bytes untouched. */
function toBigEndian(le: Uint8Array): Uint8Array {
  const out = le.slice();
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const dst = new DataView(out.buffer);
  dst.setUint32(0, src.getUint32(0, true), false);
  dst.setUint16(4, src.getUint16(4, true), false);
  dst.setUint16(6, src.getUint16(6, true), false);
  for (const at of [8, 12, 16, 20]) dst.setUint32(at, src.getUint32(at, true), false);
  for (let p = 24; p + 16 <= le.length; p += 16 + src.getUint32(p + 8, true)) {
    for (const at of [0, 4, 8, 12]) dst.setUint32(p + at, src.getUint32(p + at, true), false);
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('pcap reader: real captures', () => {
  test('tcpdump -i lo: little-endian, microseconds, EN10MB, matches tshark', () => {
    const c = value(readPcap(fixture('lo-ping.pcap')));
    assert.equal(c.format, 'pcap');
    assert.equal(c.littleEndian, true);
    assert.equal(c.nanosecond, false);
    assert.equal(c.versionMajor, 2);
    assert.equal(c.versionMinor, 4);
    assert.equal(c.snapLen, 262144);
    assert.equal(c.linkType, 1);
    checkAgainstTshark(c, LO_PING, 1);
    assert.equal(c.records[0]!.timestamp, 1795297433_801179000n);
    assert.equal(c.records[0]!.offset, 24);
    assert.equal(c.records[1]!.offset, 24 + 16 + 98);
    // The Ethernet frame: zero MACs on lo, EtherType 0x0800, then an IPv4 header.
    const d = c.records[0]!.data;
    assert.deepEqual([...d.subarray(12, 15)], [0x08, 0x00, 0x45]);
  });

  test('tcpdump --time-stamp-precision=nano: nanosecond magic, matches tshark', () => {
    const c = value(readPcap(fixture('lo-ping-ns.pcap')));
    assert.equal(c.nanosecond, true);
    checkAgainstTshark(c, LO_PING_NS, 1);
    assert.equal(c.records[3]!.timestamp, 1795297436_023898847n);
  });

  test('tcpdump -i any: LINUX_SLL and LINUX_SLL2', () => {
    checkAgainstTshark(value(readPcap(fixture('any-sll.pcap'))), ANY_SLL, 113);
    checkAgainstTshark(value(readPcap(fixture('any-sll2.pcap'))), ANY_SLL2, 276);
  });

  test('editcap -T rawip: LINKTYPE_RAW', () => {
    const c = value(readPcap(fixture('rawip.pcap')));
    checkAgainstTshark(c, RAWIP, 101);
    assert.equal(c.records[0]!.data[0], 0x45);
  });

  test('snapped capture: captured length below original length', () => {
    checkAgainstTshark(value(readPcap(fixture('snap60.pcap'))), SNAP60, 1);
  });

  test('big-endian files (µs and ns) read the same records', () => {
    for (const [name, expected] of [['lo-ping.pcap', LO_PING], ['lo-ping-ns.pcap', LO_PING_NS]] as const) {
      const le = value(readPcap(fixture(name)));
      const be = value(readPcap(toBigEndian(fixture(name))));
      assert.equal(be.littleEndian, false);
      assert.equal(be.nanosecond, le.nanosecond);
      assert.equal(be.linkType, 1);
      checkAgainstTshark(be, expected, 1);
      assert.deepEqual(be.records.map((r) => [...r.data]), le.records.map((r) => [...r.data]));
    }
  });

  test('FCS bits above the link type are ignored', () => {
    const bytes = fixture('lo-ping.pcap').slice();
    bytes[23] = 0x30; // F bit and an FCS length of 1 word (draft-ietf-opsawg-pcap 4)
    assert.equal(value(readPcap(bytes)).linkType, 1);
  });

  test('reads a view at any byte offset of its buffer', () => {
    const file = fixture('lo-ping-ns.pcap');
    const backing = new Uint8Array(file.length + 5);
    backing.set(file, 5);
    checkAgainstTshark(value(readPcap(backing.subarray(5))), LO_PING_NS, 1);
  });

  test('a header alone is a valid, empty capture', () => {
    const c = value(readPcap(pcapHeader({ linkType: 101 })));
    assert.deepEqual(c.records, []);
    assert.equal(c.error, undefined);
  });
});

describe('pcap writer', () => {
  test('header bytes are what tcpdump writes', () => {
    assert.deepEqual([...pcapHeader({ linkType: 101 })], [
      0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0, 0,
    ]);
    assert.deepEqual([...pcapHeader({ linkType: 1, snapLen: 65535, nanosecond: true }).subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
  });

  test('re-writing the real captures reproduces them byte for byte', () => {
    for (const name of ['lo-ping.pcap', 'lo-ping-ns.pcap', 'any-sll2.pcap', 'rawip.pcap', 'snap60.pcap']) {
      const original = fixture(name);
      const c = value(readPcap(original));
      const rebuilt = concat(
        pcapHeader({ linkType: c.linkType, snapLen: c.snapLen, nanosecond: c.nanosecond }),
        ...c.records.map((r) => pcapRecord(r.timestamp, r.data, r.originalLength, c.nanosecond)),
      );
      assert.deepEqual(rebuilt, original, name);
    }
  });

  test('timestamps: bigint or seconds+nanos; microseconds truncate', () => {
    const a = pcapRecordHeader(1_700_000_000_123_456_789n, 0, 0);
    const b = pcapRecordHeader({ seconds: 1_700_000_000, nanos: 123_456_789 }, 0, 0);
    assert.deepEqual(a, b);
    const v = new DataView(a.buffer);
    assert.equal(v.getUint32(0, true), 1_700_000_000);
    assert.equal(v.getUint32(4, true), 123_456);
    assert.equal(new DataView(pcapRecordHeader(5n, 0, 0, true).buffer).getUint32(4, true), 5);
  });

  test('invalid records are programmer errors (RangeError)', () => {
    assert.throws(() => pcapRecordHeader(-1n, 0, 0), RangeError);
    assert.throws(() => pcapRecordHeader(2n ** 32n * 1_000_000_000n, 0, 0), RangeError);
    assert.throws(() => pcapRecordHeader({ seconds: 1, nanos: 1e9 }, 0, 0), RangeError);
    assert.throws(() => pcapRecordHeader(0n, 10, 9), RangeError);
    assert.throws(() => pcapRecordHeader(0n, MAX_CAPTURED_LENGTH + 1, MAX_CAPTURED_LENGTH + 1), RangeError);
    assert.throws(() => pcapHeader({ linkType: 70000 }), RangeError);
  });

  test('formatTimestamp prints like frame.time_epoch', () => {
    assert.equal(formatTimestamp(1795297433_801179000n), '1795297433.801179000');
    assert.equal(formatTimestamp(5n), '0.000000005');
    assert.equal(formatTimestamp(-1_500_000_000n), '-1.500000000');
  });

  test('property: readPcap(header + records) gives the records back', () => {
    const arbRecord = fc.record({
      ts: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n + 999_999_999n }),
      data: fc.uint8Array({ maxLength: 120 }),
      extra: fc.nat(2000),
    });
    fc.assert(fc.property(fc.boolean(), fc.nat(0xffff), fc.array(arbRecord, { maxLength: 8 }), (nanosecond, linkType, recs) => {
      const bytes = concat(
        pcapHeader({ linkType, nanosecond }),
        ...recs.map((r) => pcapRecord(r.ts, r.data, r.data.length + r.extra, nanosecond)),
      );
      const c = value(readPcap(bytes));
      assert.equal(c.error, undefined);
      assert.equal(c.linkType, linkType);
      assert.equal(c.nanosecond, nanosecond);
      assert.equal(c.records.length, recs.length);
      c.records.forEach((got, i) => {
        const want = recs[i]!;
        assert.equal(got.index, i + 1);
        assert.equal(got.timestamp, nanosecond ? want.ts : want.ts - (want.ts % 1000n));
        assert.deepEqual(got.data, want.data);
        assert.equal(got.capturedLength, want.data.length);
        assert.equal(got.originalLength, want.data.length + want.extra);
        assert.equal(got.linkType, linkType);
      });
    }), { numRuns: ROUND_TRIP_RUNS });
  });
});

describe('pcap reader: malformed files', () => {
  const good = fixture('lo-ping.pcap'); // records at 24, 138, 252, 366; 480 bytes

  function failure(r: CaptureResult<PcapCapture>): { reason: string; message: string; offset: number } {
    if (r.ok) assert.fail('expected a failed parse');
    return r;
  }

  test('empty file -> truncated', () => {
    const f = failure(readPcap(new Uint8Array(0)));
    assert.equal(f.reason, 'truncated');
    assert.match(f.message, /empty/);
  });

  test('bad magic -> bad-capture-file', () => {
    const f = failure(readPcap(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, ...new Uint8Array(40))));
    assert.equal(f.reason, 'bad-capture-file');
    assert.match(f.message, /magic 7f454c46/);
  });

  test('global header cut short -> truncated', () => {
    for (const n of [1, 3, 4, 23]) assert.equal(failure(readPcap(good.subarray(0, n))).reason, 'truncated');
  });

  test('unsupported version -> bad-capture-file', () => {
    const bytes = good.slice();
    bytes[4] = 1;
    const f = failure(readPcap(bytes));
    assert.equal(f.reason, 'bad-capture-file');
    assert.match(f.message, /version 1\.4/);
  });

  test('record header cut short: earlier records kept, error names record and offset', () => {
    const c = value(readPcap(good.subarray(0, 252 + 7)));
    assert.equal(c.records.length, 2);
    assert.deepEqual({ ...c.error }, {
      reason: 'bad-capture-file', offset: 252, record: 3,
      message: 'record 3 at byte 252: header cut short (7 of 16 bytes)',
    });
  });

  test('record body past the end: earlier records kept', () => {
    const c = value(readPcap(good.subarray(0, 366 + 16 + 50)));
    assert.equal(c.records.length, 3);
    assert.equal(c.error?.reason, 'bad-capture-file');
    assert.equal(c.error?.offset, 366);
    assert.equal(c.error?.record, 4);
    assert.match(c.error!.message, /data cut short \(50 of 98 bytes\)/);
  });

  test('absurd captured length -> bad-capture-file even if the bytes were there', () => {
    const bytes = concat(pcapHeader({ linkType: 101 }), pcapRecord(0n, new Uint8Array(4)), new Uint8Array(16 + MAX_CAPTURED_LENGTH + 1));
    new DataView(bytes.buffer).setUint32(24 + 20 + 8, MAX_CAPTURED_LENGTH + 1, true);
    const c = value(readPcap(bytes));
    assert.equal(c.records.length, 1);
    assert.equal(c.error?.record, 2);
    assert.match(c.error!.message, /exceeds 262144/);
    // Exactly the limit is fine.
    const ok = concat(pcapHeader({ linkType: 101 }), pcapRecord(0n, new Uint8Array(MAX_CAPTURED_LENGTH)));
    assert.equal(value(readPcap(ok)).records[0]!.capturedLength, MAX_CAPTURED_LENGTH);
  });
});

describe('readCapture: one entry point', () => {
  test('sniffs pcap (LE/BE, µs/ns) and pcapng', () => {
    assert.equal(sniffCaptureFormat(fixture('lo-ping.pcap')), 'pcap');
    assert.equal(sniffCaptureFormat(toBigEndian(fixture('lo-ping-ns.pcap'))), 'pcap');
    assert.equal(sniffCaptureFormat(fixture('lo-ping.pcapng')), 'pcapng');
    assert.equal(sniffCaptureFormat(Uint8Array.of(1, 2, 3, 4)), undefined);
    const pcap = value(readCapture(fixture('lo-ping.pcap')));
    assert.equal(pcap.format, 'pcap');
    checkAgainstTshark(pcap, LO_PING, 1);
    const be = value(readCapture(toBigEndian(fixture('lo-ping-ns.pcap'))));
    checkAgainstTshark(be, LO_PING_NS, 1);
    const ng = value(readCapture(fixture('lo-ping.pcapng')));
    assert.equal(ng.format, 'pcapng');
    assert.equal(ng.records.length, 4);
  });

  test('empty, short, unknown and cut-short files fail with a message', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new Uint8Array(0), 'truncated', /empty file/],
      [Uint8Array.of(0xd4, 0xc3), 'truncated', /cut short after 2 bytes/],
      [Uint8Array.of(0x0a, 0x0d, 0x0d), 'truncated', /cut short after 3 bytes/],
      [Uint8Array.of(0x47, 0x45), 'bad-capture-file', /not a pcap or pcapng/],
      [new TextEncoder().encode('GET / HTTP/1.1\r\n'), 'bad-capture-file', /magic 47455420/],
      [fixture('lo-ping.pcap').subarray(0, 20), 'truncated', /global header cut short/],
      [fixture('lo-ping.pcapng').subarray(0, 20), 'truncated', /Section Header Block cut short/],
    ];
    for (const [bytes, reason, message] of cases) {
      const r = readCapture(bytes);
      if (r.ok) assert.fail(`expected failure for ${bytes.length} bytes`);
      assert.equal(r.reason, reason);
      assert.match(r.message, message);
    }
  });
});

describe('pcap reader: never throws', () => {
  /** Invariants every successful read keeps, whatever the input. */
  function checkInvariants(bytes: Uint8Array, r: CaptureResult<Capture>): void {
    if (!r.ok) return;
    let last = -1;
    r.value.records.forEach((rec, i) => {
      assert.equal(rec.index, i + 1);
      assert.ok(rec.offset > last);
      last = rec.offset;
      assert.equal(rec.data.length, rec.capturedLength);
      assert.ok(rec.capturedLength <= MAX_CAPTURED_LENGTH);
      assert.equal(rec.data.buffer, bytes.buffer);
    });
  }

  const magics = [
    [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
  ];

  test('random bytes, with and without a pcap magic', () => {
    // Up to 200 bytes: the rest of the 24-byte file header, a 16-byte record header and its data, and more records.
    fc.assert(fc.property(bytesUpTo(200), fc.nat(4), fc.boolean(), (random, which, fit) => {
      const le = which % 2 === 0; // magics 0 and 2 are little-endian; the version 2.4 is written in the same order
      const bytes = which < 4 ? concat(Uint8Array.from(magics[which]!), le ? Uint8Array.of(2, 0, 4, 0) : Uint8Array.of(0, 2, 0, 4), random) : random;
      // Half the time the first record's captured length fits what follows its header, so a record is read.
      const fits = which < 4 && fit && bytes.length >= 40;
      if (fits) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        view.setUint32(32, view.getUint32(32, le) % (bytes.length - 39), le);
      }
      const r = readPcap(bytes);
      if (fits) assert.ok(r.ok && r.value.records.length >= 1, 'a record that fits is read');
      checkInvariants(bytes, r);
      checkInvariants(bytes, readCapture(bytes));
    }), { numRuns: FUZZ_RUNS });
  });

  test('mutated real captures: flipped bytes, truncation, extension', () => {
    const files = ['lo-ping.pcap', 'lo-ping-ns.pcap', 'any-sll.pcap', 'snap60.pcap'].map(fixture);
    files.push(toBigEndian(files[0]!));
    fc.assert(fc.property(
      fc.nat(files.length - 1),
      fc.array(fc.tuple(fc.nat(600), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(600), bytesUpTo(40),
      (which, flips, cut, tail) => {
        const base = files[which]!;
        let bytes: Uint8Array = base.slice(0, Math.min(base.length, cut + 20));
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        if (cut % 3 === 0) bytes = concat(bytes, tail);
        checkInvariants(bytes, readPcap(bytes));
        checkInvariants(bytes, readCapture(bytes));
      },
    ), { numRuns: FUZZ_RUNS });
  });
});
