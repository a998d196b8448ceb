import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneLineError, l4 } from '../support/cli.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url).pathname;

describe('l4 command', () => {
  test('--help exits 0 and lists decode', () => {
    const r = l4('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /decode/);
  });

  test('an unknown option is one line and exit 2', () => {
    assertOneLineError(l4('decode', '--frobnicate', 'x.pcap'), /unknown option/);
  });

  test('an unknown command is one line and exit 2', () => {
    assertOneLineError(l4('defrobulate'), /unknown command/);
  });
});

describe('l4 decode: unusable files', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'l4-decode-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('missing file', () => assertOneLineError(l4('decode', join(dir, 'nope.pcap')), /nope\.pcap/));

  test('empty file', () => {
    writeFileSync(join(dir, 'empty.pcap'), '');
    assertOneLineError(l4('decode', join(dir, 'empty.pcap')), /empty/);
  });

  test('a directory', () => assertOneLineError(l4('decode', dir), /director/));

  test('not a capture', () => {
    writeFileSync(join(dir, 'text.pcap'), 'this is not a capture file at all, just text\n');
    assertOneLineError(l4('decode', join(dir, 'text.pcap')), /text\.pcap/);
  });

  test('truncated global header', () => {
    writeFileSync(join(dir, 'short.pcap'), Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0));
    assertOneLineError(l4('decode', join(dir, 'short.pcap')), /short\.pcap/);
  });

  test('a bad --count is one line and exit 2', () => {
    assertOneLineError(l4('decode', '--count', 'zero', join(FIXTURES, 'pcap/lo-ping.pcap')), /count/);
  });

  test('a damaged tail: packets before it are printed, then one line, exit 1', () => {
    const good = readFileSync(join(FIXTURES, 'pcap/lo-ping.pcap'));
    writeFileSync(join(dir, 'cut.pcap'), good.subarray(0, good.length - 10));
    const r = l4('decode', join(dir, 'cut.pcap'));
    assert.equal(r.code, 1);
    const full = l4('decode', join(FIXTURES, 'pcap/lo-ping.pcap')).stdout.trimEnd().split('\n');
    assert.deepEqual(r.stdout.trimEnd().split('\n'), full.slice(0, full.length - 1));
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });
});

describe('l4 decode: output', () => {
  test('--count stops early', () => {
    const r = l4('decode', '-c', '2', join(FIXTURES, 'pcap/lo-ping.pcap'));
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trimEnd().split('\n').length, 2);
  });

  test('--json prints one parseable record per packet', () => {
    const lines = l4('decode', '--json', join(FIXTURES, 'pcap/lo-ping.pcapng')).stdout.trimEnd().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { frame: { number: number }; ipv4?: { src: string }; icmp?: { type: string } });
    assert.deepEqual(records.map((r) => r.frame.number), records.map((_, i) => i + 1));
    assert.equal(records[0]!.ipv4!.src, '127.0.0.1');
    assert.equal(records[0]!.icmp!.type, 'echo-request');
  });
});
