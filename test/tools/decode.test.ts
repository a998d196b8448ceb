import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readCaptureFileSync } from '../../src/drivers/pcap/reader.js';
import { decodedToJson, decodePacket, TcpdumpFormatter, tcpdumpTime } from '../../src/tools/decode/index.js';
import type { CaptureRecord } from '../../src/wire/pcap.js';
import { FUZZ_RUNS } from '../support/runs.js';
import { bytesUpTo } from '../support/arbitraries.js';
import { needTool } from '../support/tshark.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url).pathname;

function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const dir of ['pcap', 'golden']) {
    if (!existsSync(join(FIXTURES, dir))) continue;
    for (const n of readdirSync(join(FIXTURES, dir))) if (/\.(pcap|pcapng)$/.test(n)) out.push(join(FIXTURES, dir, n));
  }
  return out;
}

function records(file: string): CaptureRecord[] {
  const r = readCaptureFileSync(file);
  assert.ok(r.ok, `${file}: ${r.ok ? '' : r.message}`);
  return [...r.capture.records];
}

function record(linkType: number, data: Uint8Array, originalLength = data.length): CaptureRecord {
  return { index: 1, timestamp: 0n, capturedLength: data.length, originalLength, linkType, data, offset: 0 };
}

const LINK_TYPES = [0, 1, 12, 101, 108, 113, 228, 229, 276, 147];

describe('decodePacket never throws', () => {
  test('on random frames of every link type', () => {
    const formatter = new TcpdumpFormatter();
    // Up to 200 bytes: a link header (up to 20), an IP header with options or extension headers, and a TCP one with options.
    fc.assert(fc.property(fc.constantFrom(...LINK_TYPES), bytesUpTo(200), fc.nat(300), (linkType, data, extra) => {
      const p = decodePacket(record(linkType, data, data.length + (extra % 2 === 0 ? 0 : extra)));
      assert.equal(typeof formatter.format(p), 'string');
      JSON.stringify(decodedToJson(p));
    }), { numRuns: FUZZ_RUNS });
  });

  test('on mutations of every real frame in the fixtures', () => {
    const frames = fixtureFiles().flatMap(records);
    assert.ok(frames.length > 20, 'fixtures are present');
    const formatter = new TcpdumpFormatter();
    fc.assert(fc.property(fc.constantFrom(...frames), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(),
      (frame, flips, cut) => {
        const data = frame.data.slice();
        for (const [at, value] of flips) if (data.length > 0) data[at % data.length] = value;
        const truncated = data.subarray(0, data.length - (cut % 3 === 0 ? cut % (data.length + 1) : 0));
        const p = decodePacket({ ...frame, data: truncated, capturedLength: truncated.length });
        assert.equal(typeof formatter.format(p), 'string');
        JSON.stringify(decodedToJson(p));
      }), { numRuns: FUZZ_RUNS });
  });
});

describe('decodePacket on real captures', () => {
  test('every frame of every fixture decodes without a problem', () => {
    for (const file of fixtureFiles()) {
      for (const r of records(file)) {
        const p = decodePacket(r);
        assert.equal(p.problem, undefined, `${file} frame ${r.index}: ${JSON.stringify(p.problem)}`);
      }
    }
  });

  test('a frame cut by the snap length still shows its headers, checksum unknown', () => {
    const [first] = records(join(FIXTURES, 'pcap/snap60.pcap'));
    const p = decodePacket(first!);
    assert.ok(p.missingBytes > 0);
    assert.equal(p.problem, undefined);
    assert.equal(p.transport?.kind, 'icmp');
    assert.equal(p.transport?.checksum, 'unknown');
  });

  test('tcpdump time is UTC HH:MM:SS.micro', () => {
    assert.equal(tcpdumpTime(1_700_000_000_123_456_789n), '22:13:20.123456');
    assert.equal(tcpdumpTime(0n), '00:00:00.000000');
  });
});

describe('l4 decode lines equal tcpdump -nn lines', () => {
  /**
   * Known, deliberate differences, normalised away: tcpdump dissects DNS (l4 stops at
   * `UDP, length N`); it names an SLL2 frame's interface from the reading machine (l4 prints
   * the index); l4 flags bad checksums that tcpdump shows only with -v.
   */
  function normalise(line: string): string {
    return line
      .replace(/^(\S+) \S+\s+(In |Out|[BMP] {2}) /, '$1 ')
      .replace(/(\.53 > \S+|\.\d+ > \S+\.53): .*$/, '$1: <dns>')
      .replace(/ \[bad (tcp|udp) cksum 0x[0-9a-f]+ -> 0x[0-9a-f]+\]/, '');
  }

  for (const file of fixtureFiles().filter((f) => f.includes('/golden/'))) {
    test(file.split('/').slice(-1)[0]!, (t) => {
      const skip = needTool('tcpdump');
      if (skip) { t.skip(skip); return; }
      const theirs = spawnSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } }).stdout.trimEnd().split('\n');
      const formatter = new TcpdumpFormatter();
      const ours = records(file).map((r) => formatter.format(decodePacket(r)));
      assert.equal(ours.length, theirs.length);
      ours.forEach((line, i) => assert.equal(normalise(line), normalise(theirs[i]!), `frame ${i + 1}`));
    });
  }
});
