import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { readPcapng, PcapngBlockType } from '../../src/wire/pcapng.js';
import type { PcapngCapture } from '../../src/wire/pcapng.js';
import { formatTimestamp, MAX_CAPTURED_LENGTH } from '../../src/wire/pcap.js';
import type { CaptureResult } from '../../src/wire/pcap.js';
import { readCapture } from '../../src/wire/capture.js';
import { FUZZ_RUNS, ROUND_TRIP_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';

/*
 * Fixtures (test/fixtures/pcap/), captured on loopback while ping ran:
 *   lo-ping.pcapng    dumpcap -i lo (ping 127.0.0.1 and ping -6 ::1; if_tsresol 9)
 *   multi.pcapng      dumpcap -i lo -i any: two interfaces, EN10MB and LINUX_SLL, plus ISBs
 *   commented.pcapng  editcap -a 2:"second ping, l4 test" -a 3:third lo-ping.pcapng
 *   ns.pcapng         editcap -F pcapng lo-ping-ns.pcap
 *   rawip.pcapng      editcap -F pcapng -T rawip -C 14 -L lo-ping.pcapng
 *   sll2-us.pcapng    editcap -F pcapng any-sll2.pcap (IDB without options: default 10^-6)
 * Expected values are tshark 4.0.17's: `tshark -r f -T fields -e frame.number
 * -e frame.interface_id -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.comment`.
 */
const FIXTURES = new URL('../../../test/fixtures/pcap/', import.meta.url);
function fixture(name: string): Uint8Array {
  const b = readFileSync(new URL(name, FIXTURES));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function value<T>(r: CaptureResult<T>): T {
  if (!r.ok) assert.fail(`parse failed: ${r.reason}: ${r.message}`);
  return r.value;
}

/** [frame.number, frame.interface_id, frame.time_epoch, frame.len, frame.cap_len, linkType] */
type Expected = [number, number, string, number, number, number];
function summary(c: PcapngCapture): Expected[] {
  return c.records.map((r) => [r.index, r.interfaceId!, formatTimestamp(r.timestamp), r.originalLength, r.capturedLength, r.linkType]);
}

const LO_PING: Expected[] = [
  [1, 0, '1795297443.754926455', 98, 98, 1],
  [2, 0, '1795297443.754940245', 98, 98, 1],
  [3, 0, '1795297443.757213726', 118, 118, 1],
  [4, 0, '1795297443.757223891', 118, 118, 1],
];

// ---- a small pcapng builder (the test's own emitter, independent of the reader) ----

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const pad4 = (n: number): number => (n + 3) & ~3;

/** Fields: [bytes, width] (width 1, 2, 4, 8 are numbers/bigints in the section's order; 0 = raw bytes). */
type Field = [number | bigint | Uint8Array, 0 | 1 | 2 | 4 | 8];
function fields(le: boolean, list: Field[]): Uint8Array {
  const parts = list.map(([v, width]) => {
    if (width === 0) {
      const raw = v as Uint8Array;
      const out = new Uint8Array(pad4(raw.length));
      out.set(raw);
      return out;
    }
    const out = new Uint8Array(width);
    const dv = new DataView(out.buffer);
    if (width === 1) dv.setUint8(0, Number(v));
    else if (width === 2) dv.setUint16(0, Number(v), le);
    else if (width === 4) dv.setUint32(0, Number(v), le);
    else dv.setBigInt64(0, BigInt(v as bigint), le);
    return out;
  });
  return concat(...parts);
}
function option(le: boolean, code: number, val: Uint8Array): Uint8Array {
  return fields(le, [[code, 2], [val.length, 2], [val, 0]]);
}
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
function endOfOptions(le: boolean): Uint8Array { return fields(le, [[0, 2], [0, 2]]); }
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const total = 12 + pad4(body.length);
  return concat(fields(le, [[type, 4], [total, 4]]), fields(le, [[body, 0]]), fields(le, [[total, 4]]));
}
function shb(le: boolean, ...options: Uint8Array[]): Uint8Array {
  const opts = options.length ? concat(...options, endOfOptions(le)) : new Uint8Array(0);
  return block(le, PcapngBlockType.SectionHeader, concat(fields(le, [[0x1a2b3c4d, 4], [1, 2], [0, 2], [-1n, 8]]), opts));
}
function idb(le: boolean, linkType: number, snapLen: number, ...options: Uint8Array[]): Uint8Array {
  const opts = options.length ? concat(...options, endOfOptions(le)) : new Uint8Array(0);
  return block(le, PcapngBlockType.InterfaceDescription, concat(fields(le, [[linkType, 2], [0, 2], [snapLen, 4]]), opts));
}
function epb(le: boolean, ifid: number, ts: bigint, data: Uint8Array, orig = data.length, ...options: Uint8Array[]): Uint8Array {
  const opts = options.length ? concat(...options, endOfOptions(le)) : new Uint8Array(0);
  return block(le, PcapngBlockType.EnhancedPacket, concat(
    fields(le, [[ifid, 4], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [data.length, 4], [orig, 4], [data, 0]]), opts));
}
function pb(le: boolean, ifid: number, ts: bigint, data: Uint8Array): Uint8Array {
  return block(le, PcapngBlockType.Packet, fields(le, [
    [ifid, 2], [7, 2], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [data.length, 4], [data.length, 4], [data, 0]]));
}
function spb(le: boolean, orig: number, data: Uint8Array): Uint8Array {
  return block(le, PcapngBlockType.SimplePacket, fields(le, [[orig, 4], [data, 0]]));
}
const tsresol = (le: boolean, v: number): Uint8Array => option(le, 9, Uint8Array.of(v));
const tsoffset = (le: boolean, v: bigint): Uint8Array => option(le, 14, fields(le, [[v, 8]]));

describe('pcapng reader: real captures', () => {
  test('dumpcap -i lo: one interface, nanosecond resolution, matches tshark', () => {
    const c = value(readPcapng(fixture('lo-ping.pcapng')));
    assert.equal(c.format, 'pcapng');
    assert.equal(c.littleEndian, true);
    assert.equal(c.error, undefined);
    assert.equal(c.sections.length, 1);
    assert.equal(c.sections[0]!.versionMajor, 1);
    assert.match(c.sections[0]!.application!, /^Dumpcap \(Wireshark\) 4\.0\.17/);
    assert.deepEqual(c.interfaces.map((i) => [i.name, i.description, i.linkType, i.snapLen, i.tsResolution, i.tsOffset]),
      [['lo', 'Loopback', 1, 262144, 9, 0n]]);
    assert.deepEqual(summary(c), LO_PING);
    assert.equal(c.records[0]!.timestamp, 1795297443_754926455n);
    assert.equal(c.records[0]!.offset, 0xa4 + 0x64); // after the SHB and the IDB
    // IPv6 frames: EtherType 86dd, then version 6.
    assert.deepEqual([...c.records[2]!.data.subarray(12, 15)], [0x86, 0xdd, 0x60]);
  });

  test('dumpcap -i lo -i any: mixed link types per interface, ISBs skipped', () => {
    const c = value(readPcapng(fixture('multi.pcapng')));
    assert.equal(c.error, undefined);
    assert.deepEqual(c.interfaces.map((i) => [i.id, i.name, i.linkType]), [[0, 'lo', 1], [1, 'any', 113]]);
    assert.deepEqual(summary(c), [
      [1, 0, '1795297445.805981555', 98, 98, 1],
      [2, 0, '1795297445.805994244', 98, 98, 1],
      [3, 1, '1795297445.805981555', 100, 100, 113],
      [4, 1, '1795297445.805994244', 100, 100, 113],
    ]);
  });

  test('editcap -a: packet comments (opt_comment)', () => {
    const c = value(readPcapng(fixture('commented.pcapng')));
    assert.deepEqual(summary(c), LO_PING);
    assert.deepEqual(c.records.map((r) => r.comment), [undefined, 'second ping, l4 test', 'third', undefined]);
  });

  test('converted files: ns pcap -> pcapng, raw IP, and the default microsecond resolution', () => {
    const ns = value(readPcapng(fixture('ns.pcapng')));
    assert.deepEqual(summary(ns).map((e) => e[2]),
      ['1795297435.820725947', '1795297435.820739717', '1795297436.023882663', '1795297436.023898847']);
    const raw = value(readPcapng(fixture('rawip.pcapng')));
    assert.deepEqual(summary(raw), LO_PING.map(([n, i, t, len]): Expected => [n, i, t, len - 14, len - 14, 101]));
    const us = value(readPcapng(fixture('sll2-us.pcapng')));
    assert.equal(us.interfaces[0]!.tsResolution, 6);
    assert.deepEqual(summary(us), [
      [1, 0, '1795297437.845107000', 104, 104, 276],
      [2, 0, '1795297437.845119000', 104, 104, 276],
      [3, 0, '1795297438.047841000', 104, 104, 276],
      [4, 0, '1795297438.047857000', 104, 104, 276],
    ]);
  });

  test('reads a view at any byte offset of its buffer', () => {
    const file = fixture('multi.pcapng');
    const backing = new Uint8Array(file.length + 3);
    backing.set(file, 3);
    assert.deepEqual(summary(value(readPcapng(backing.subarray(3)))), summary(value(readPcapng(file))));
  });

  test('readCapture gives the same records as readPcapng', () => {
    const bytes = fixture('multi.pcapng');
    const c = value(readCapture(bytes));
    assert.equal(c.format, 'pcapng');
    assert.deepEqual(c.records, value(readPcapng(bytes)).records);
  });
});

describe('pcapng reader: built files', () => {
  const data = Uint8Array.of(0x45, 0, 0, 20, 1, 2, 3); // odd length: exercises padding

  test('big-endian section reads like little-endian', () => {
    for (const le of [true, false]) {
      const c = value(readPcapng(concat(shb(le), idb(le, 101, 0), epb(le, 0, 1_700_000_000_000_001n, data))));
      assert.equal(c.littleEndian, le);
      assert.equal(c.records.length, 1);
      assert.equal(c.records[0]!.timestamp, 1_700_000_000_000_001_000n); // default 10^-6
      assert.deepEqual(c.records[0]!.data, data);
      assert.equal(c.records[0]!.linkType, 101);
    }
  });

  test('if_tsresol powers of 10 and 2, and if_tsoffset', () => {
    const le = true;
    const bytes = concat(shb(le),
      idb(le, 1, 0, tsresol(le, 3)), // milliseconds
      idb(le, 1, 0, tsresol(le, 0x80 | 10)), // 1/1024 s
      idb(le, 1, 0, tsresol(le, 12)), // picoseconds: truncated to ns
      idb(le, 1, 0, tsresol(le, 9), tsoffset(le, -1000n)), // offset before the epoch
      epb(le, 0, 1500n, data), epb(le, 1, 1536n, data), epb(le, 2, 1_000_000_001_999n, data), epb(le, 3, 5n, data));
    const c = value(readPcapng(bytes));
    assert.deepEqual(c.records.map((r) => r.timestamp), [1_500_000_000n, 1_500_000_000n, 1_000_000_001n, -999_999_999_995n]);
    assert.deepEqual(c.interfaces.map((i) => [i.tsResolution, i.tsOffset]), [[3, 0n], [0x8a, 0n], [12, 0n], [9, -1000n]]);
  });

  test('Simple Packet Block: interface 0, no timestamp, captured length capped by snaplen', () => {
    const le = false;
    const c = value(readPcapng(concat(shb(le), idb(le, 228, 4), spb(le, 7, data.subarray(0, 4)), idb(le, 229, 0))));
    assert.equal(c.error, undefined);
    assert.deepEqual(c.records.map((r) => [r.index, r.timestamp, r.originalLength, r.capturedLength, r.linkType, r.interfaceId]),
      [[1, 0n, 7, 4, 228, 0]]);
  });

  test('obsolete Packet Block (type 2) with its 16-bit interface ID', () => {
    const le = true;
    const c = value(readPcapng(concat(shb(le), idb(le, 1, 0), idb(le, 101, 0, tsresol(le, 9)), pb(le, 1, 42n, data))));
    assert.deepEqual(c.records.map((r) => [r.interfaceId, r.linkType, r.timestamp, r.capturedLength]), [[1, 101, 42n, 7]]);
  });

  test('unknown, NRB, ISB, DSB and custom blocks are skipped; frame numbers count packets only', () => {
    const le = true;
    const c = value(readPcapng(concat(shb(le), block(le, PcapngBlockType.NameResolution, new Uint8Array(4)), idb(le, 101, 0),
      block(le, 0x12345678, new Uint8Array(8)), epb(le, 0, 1n, data), block(le, PcapngBlockType.Custom, new Uint8Array(12)),
      block(le, PcapngBlockType.InterfaceStatistics, new Uint8Array(12)), block(le, PcapngBlockType.DecryptionSecrets, new Uint8Array(8)),
      epb(le, 0, 2n, data))));
    assert.deepEqual(c.records.map((r) => r.index), [1, 2]);
  });

  test('a new section resets interfaces and may change byte order', () => {
    const c = value(readPcapng(concat(
      shb(true, option(true, 4, text('first'))), idb(true, 1, 0), idb(true, 113, 0), epb(true, 1, 1n, data),
      shb(false, option(false, 4, text('second'))), idb(false, 276, 0), epb(false, 0, 2n, data),
    )));
    assert.equal(c.error, undefined);
    assert.deepEqual(c.sections.map((s) => [s.littleEndian, s.application]), [[true, 'first'], [false, 'second']]);
    assert.deepEqual(c.interfaces.map((i) => [i.section, i.id, i.linkType]), [[0, 0, 1], [0, 1, 113], [1, 0, 276]]);
    assert.deepEqual(c.records.map((r) => [r.index, r.interfaceId, r.linkType]), [[1, 1, 113], [2, 0, 276]]);
    // Interface 1 of the first section does not exist in the second.
    const bad = value(readPcapng(concat(shb(true), idb(true, 1, 0), idb(true, 1, 0), shb(true), idb(true, 1, 0), epb(true, 1, 0n, data))));
    assert.equal(bad.records.length, 0);
    assert.match(bad.error!.message, /interface 1, but the section declares 1/);
  });

  test('options that overrun their block end the options, not the file', () => {
    const le = true;
    const broken = fields(le, [[1, 2], [200, 2], [text('abc'), 0]]); // comment claiming 200 bytes
    const c = value(readPcapng(concat(shb(le), idb(le, 101, 0), epb(le, 0, 0n, data, data.length, broken))));
    assert.equal(c.error, undefined);
    assert.equal(c.records[0]!.comment, undefined);
  });

  test('property: built files read back (random byte order, resolutions, packets)', () => {
    const arbPacket = fc.record({ iface: fc.nat(2), ts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), data: fc.uint8Array({ maxLength: 70 }), extra: fc.nat(100), comment: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }) });
    fc.assert(fc.property(fc.boolean(), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }), fc.array(arbPacket, { maxLength: 6 }),
      (le, resols, packets) => {
        const bytes = concat(shb(le), ...resols.map((r, i) => idb(le, 200 + i, 0, tsresol(le, r))),
          ...packets.map((p) => epb(le, p.iface, p.ts, p.data, p.data.length + p.extra,
            ...(p.comment === undefined ? [] : [option(le, 1, text(p.comment))]))));
        const c = value(readPcapng(bytes));
        assert.equal(c.error, undefined);
        assert.equal(c.records.length, packets.length);
        c.records.forEach((r, i) => {
          const p = packets[i]!;
          assert.equal(r.index, i + 1);
          assert.equal(r.interfaceId, p.iface);
          assert.equal(r.linkType, 200 + p.iface);
          assert.equal(r.timestamp, p.ts * 10n ** BigInt(9 - resols[p.iface]!));
          assert.deepEqual(r.data, p.data);
          assert.equal(r.originalLength, p.data.length + p.extra);
          assert.equal(r.comment, p.comment);
        });
      }), { numRuns: ROUND_TRIP_RUNS });
  });
});

describe('pcapng reader: malformed files', () => {
  const le = true;
  const data = Uint8Array.of(0x45, 0, 0, 20);
  const head = concat(shb(le), idb(le, 101, 0));
  const good = concat(head, epb(le, 0, 1n, data));
  const second = head.length + 32 + 4; // where a second EPB would start

  function failure(r: CaptureResult<PcapngCapture>): { reason: string; message: string; offset: number } {
    if (r.ok) assert.fail('expected a failed parse');
    return r;
  }
  /** Reads `bytes` expecting one good record and then an error at `at`. */
  function stopsAt(bytes: Uint8Array, at: number, message: RegExp): void {
    const c = value(readPcapng(bytes));
    assert.equal(c.records.length, 1);
    assert.equal(c.error?.reason, 'bad-capture-file');
    assert.equal(c.error?.offset, at);
    assert.match(c.error!.message, message);
  }
  function withTotal(blockBytes: Uint8Array, leading: number, trailing = leading): Uint8Array {
    const out = blockBytes.slice();
    const v = new DataView(out.buffer);
    v.setUint32(4, leading, le);
    v.setUint32(out.length - 4, trailing, le);
    return out;
  }

  test('empty, not pcapng, and a cut-short Section Header Block fail the parse', () => {
    assert.equal(failure(readPcapng(new Uint8Array(0))).reason, 'truncated');
    assert.equal(failure(readPcapng(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0))).reason, 'bad-capture-file');
    assert.equal(failure(readPcapng(good.subarray(0, 27))).reason, 'truncated');
    const cut = failure(readPcapng(fixture('lo-ping.pcapng').subarray(0, 100))); // inside a 164-byte SHB
    assert.equal(cut.reason, 'truncated');
    assert.match(cut.message, /runs past the end/);
  });

  test('bad byte-order magic, bad version in the first section fail the parse', () => {
    const bom = good.slice();
    bom[8] = 0x99;
    assert.match(failure(readPcapng(bom)).message, /bad byte-order magic 0x993c2b1a/);
    const version = good.slice();
    version[12] = 2;
    assert.match(failure(readPcapng(version)).message, /unsupported pcapng version 2\.0/);
  });

  test('block total length not a multiple of 4', () => {
    stopsAt(concat(good, withTotal(epb(le, 0, 2n, data), 34)), second, /total length 34 is not a multiple of 4/);
  });

  test('block total length below 12', () => {
    stopsAt(concat(good, withTotal(epb(le, 0, 2n, data), 8)), second, /total length 8 is below 12/);
  });

  test('block total length past the end of the file', () => {
    stopsAt(concat(good, epb(le, 0, 2n, data)).subarray(0, second + 30), second, /runs past the end of the file \(30 bytes left\)/);
    stopsAt(concat(good, new Uint8Array(8)), second, /header cut short \(8 of 12 bytes\)/);
  });

  test('trailing total length differs from the leading one', () => {
    stopsAt(concat(good, withTotal(epb(le, 0, 2n, data), 36, 40)), second, /trailing total length 40 differs from leading 36/);
  });

  test('packet blocks too small, overrunning, on an undeclared interface, or absurd', () => {
    stopsAt(concat(good, block(le, PcapngBlockType.EnhancedPacket, new Uint8Array(16))), second, /Enhanced Packet Block of 28 bytes/);
    const over = epb(le, 0, 2n, data);
    new DataView(over.buffer).setUint32(20, 8, le); // captured length 8 in a block with room for 4
    stopsAt(concat(good, over), second, /captured length 8 overruns its 36-byte block/);
    stopsAt(concat(good, epb(le, 3, 2n, data)), second, /interface 3, but the section declares 1/);
    const absurd = epb(le, 0, 2n, data);
    new DataView(absurd.buffer).setUint32(20, MAX_CAPTURED_LENGTH + 1, le);
    stopsAt(concat(good, absurd), second, /exceeds 262144/);
    stopsAt(concat(good, spb(le, 100, data)), second, /Simple Packet Block of 100 bytes overruns/);
    stopsAt(concat(good, block(le, PcapngBlockType.InterfaceDescription, new Uint8Array(4))), second,
      /Interface Description Block of 16 bytes \(at least 20\)/);
    stopsAt(concat(good, block(le, PcapngBlockType.SectionHeader, Uint8Array.of(0x4d, 0x3c, 0x2b, 0x1a))), second,
      /Section Header Block of 16 bytes \(at least 28\)/);
    const noIface = value(readPcapng(concat(shb(le), spb(le, 4, data))));
    assert.match(noIface.error!.message, /before any Interface Description Block/);
    assert.equal(noIface.error!.record, 1);
  });

  test('a later section with a bad byte-order magic stops reading', () => {
    const later = shb(le);
    later[8] = 0;
    stopsAt(concat(good, later), second, /bad byte-order magic/);
  });
});

describe('pcapng reader: never throws', () => {
  function checkInvariants(bytes: Uint8Array, r: CaptureResult<PcapngCapture>): void {
    if (!r.ok) return;
    r.value.records.forEach((rec, i) => {
      assert.equal(rec.index, i + 1);
      assert.equal(rec.data.length, rec.capturedLength);
      assert.ok(rec.data.byteOffset + rec.data.length <= bytes.byteOffset + bytes.length);
    });
  }

  test('random bytes behind a Section Header Block magic', () => {
    // Up to 200 bytes: the rest of a Section Header Block (28 bytes and options), then an IDB and an EPB.
    fc.assert(fc.property(bytesUpTo(200), fc.boolean(), (random, prefix) => {
      const bytes = prefix ? concat(shb(true).subarray(0, 12), random) : random;
      checkInvariants(bytes, readPcapng(bytes));
    }), { numRuns: FUZZ_RUNS });
  });

  test('random blocks with valid framing', () => {
    // Bodies up to 80 bytes: an EPB's 20 fixed bytes, data and options; an IDB's 8 and options.
    const arbBlock = fc.tuple(fc.constantFrom(1, 2, 3, 5, 6, 0x0a0d0d0a, 99), bytesUpTo(80));
    fc.assert(fc.property(fc.boolean(), fc.array(arbBlock, { maxLength: 8 }), (le, blocks) => {
      const bytes = concat(shb(le), ...blocks.map(([type, body]) => block(le, type, body)));
      checkInvariants(bytes, readPcapng(bytes));
    }), { numRuns: FUZZ_RUNS });
  });

  test('mutated real captures: flipped bytes, truncation, extension', () => {
    const files = ['lo-ping.pcapng', 'multi.pcapng', 'commented.pcapng'].map(fixture);
    fc.assert(fc.property(
      fc.nat(files.length - 1),
      fc.array(fc.tuple(fc.nat(1100), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(1100), bytesUpTo(40),
      (which, flips, cut, tail) => {
        const base = files[which]!;
        let bytes: Uint8Array = base.slice(0, Math.min(base.length, cut + 28));
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        if (cut % 3 === 0) bytes = concat(bytes, tail);
        checkInvariants(bytes, readPcapng(bytes));
      },
    ), { numRuns: FUZZ_RUNS });
  });
});
