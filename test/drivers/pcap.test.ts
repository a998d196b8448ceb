import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFileError, readCaptureFile, readCaptureFileSync } from '../../src/drivers/pcap/reader.js';
import type { CaptureFileResult } from '../../src/drivers/pcap/reader.js';
import { PcapFileWriter, PcapMemoryWriter } from '../../src/drivers/pcap/writer.js';
import { checksumAdd, checksumFinish, internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { formatTimestamp } from '../../src/wire/capture.js';
import { needTool } from '../support/tshark.js';

const FIXTURES = new URL('../../../test/fixtures/pcap/', import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURES).pathname;

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'l4-pcap-test-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

/**
 * A valid IPv4/UDP or IPv6/UDP datagram, made by hand (src/wire/ipv4.ts and udp.ts are
 * not used on purpose: this test checks the file format, not those modules).
 */
function udpDatagram(version: 4 | 6, payload: Uint8Array, srcPort = 40000, dstPort = 9): Uint8Array {
  const src = version === 4 ? Uint8Array.of(127, 0, 0, 1) : Uint8Array.of(...new Array<number>(15).fill(0), 1);
  const dst = version === 4 ? Uint8Array.of(127, 0, 0, 2) : Uint8Array.of(...new Array<number>(15).fill(0), 1);
  const udpLength = 8 + payload.length;
  const ipHeader = version === 4 ? 20 : 40;
  const out = new Uint8Array(ipHeader + udpLength);
  const v = new DataView(out.buffer);
  if (version === 4) {
    v.setUint8(0, 0x45);
    v.setUint16(2, out.length);
    v.setUint16(4, 0x1234); // identification
    v.setUint16(6, 0x4000); // DF
    v.setUint8(8, 64);
    v.setUint8(9, 17);
    out.set(src, 12);
    out.set(dst, 16);
    v.setUint16(10, internetChecksum(out, 0, 20));
  } else {
    v.setUint32(0, 0x60000000);
    v.setUint16(4, udpLength);
    v.setUint8(6, 17);
    v.setUint8(7, 64);
    out.set(src, 8);
    out.set(dst, 24);
  }
  v.setUint16(ipHeader, srcPort);
  v.setUint16(ipHeader + 2, dstPort);
  v.setUint16(ipHeader + 4, udpLength);
  out.set(payload, ipHeader + 8);
  const sum = checksumFinish(pseudoHeaderSum(src, dst, 17, udpLength) + checksumAdd(0, out, ipHeader, out.length));
  v.setUint16(ipHeader + 6, sum === 0 ? 0xffff : sum); // RFC 768: a computed 0 is sent as all ones
  return out;
}

const hello = new TextEncoder().encode('hello from l4');
const T0 = 1_700_000_000_123_456_789n;

function okCapture(r: CaptureFileResult): Extract<CaptureFileResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected a capture, got ${r.problem}: ${r.message}`);
  return r;
}

describe('readCaptureFile', () => {
  test('reads a real capture (async and sync agree)', async () => {
    const path = fixturePath('lo-ping.pcap');
    const a = okCapture(await readCaptureFile(path));
    const b = okCapture(readCaptureFileSync(path));
    assert.equal(a.capture.format, 'pcap');
    assert.equal(a.capture.records.length, 4);
    assert.deepEqual(a.capture.records, b.capture.records);
    assert.equal(okCapture(await readCaptureFile(fixturePath('multi.pcapng'))).capture.format, 'pcapng');
  });

  test('missing file, directory, empty, not a capture: one-line messages', async () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, not a capture\n');
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(fixturePath('lo-ping.pcap')).subarray(0, 10));
    const cases: [string, string, RegExp][] = [
      [join(dir, 'nope.pcap'), 'not-found', /nope\.pcap: no such file$/],
      [join(text, 'inside.pcap'), 'not-found', /not a directory$/],
      [dir, 'is-directory', /is a directory/],
      [empty, 'empty', /empty\.pcap: empty file/],
      [text, 'corrupt', /notes\.txt: not a pcap or pcapng file \(magic 68656c6c\)/],
      [cut, 'corrupt', /cut\.pcap: pcap global header cut short \(10 bytes, 24 needed\)/],
    ];
    for (const [path, problem, message] of cases) {
      for (const r of [await readCaptureFile(path), readCaptureFileSync(path)]) {
        if (r.ok) assert.fail(`${path} should not read`);
        assert.equal(r.problem, problem, path);
        assert.match(r.message, message);
        assert.ok(!r.message.includes('\n'), 'one line');
        assert.equal(r.path, path);
      }
    }
  });

  test('unreadable file (permission denied)', async () => {
    const sub = join(dir, 'perm');
    mkdirSync(sub);
    chmodSync(dir, 0o711); // let another user reach the file, not list or read it
    chmodSync(sub, 0o711);
    const path = join(sub, 'secret.pcap');
    copyFileSync(fixturePath('lo-ping.pcap'), path);
    chmodSync(path, 0o000);
    let r: CaptureFileResult;
    if (process.getuid?.() === 0) {
      // root reads any file, so read it as nobody (65534) in a child process.
      const reader = new URL('../../src/drivers/pcap/reader.js', import.meta.url).href;
      const script = `const { readCaptureFileSync } = await import(${JSON.stringify(reader)});
        process.stdout.write(JSON.stringify(readCaptureFileSync(${JSON.stringify(path)})));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.equal(child.status, 0, child.stderr);
      r = JSON.parse(child.stdout) as CaptureFileResult;
    } else {
      r = await readCaptureFile(path);
    }
    if (r.ok) assert.fail('should not read');
    assert.equal(r.problem, 'unreadable');
    assert.equal(r.message, `${path}: permission denied`);
  });

  test('fs error codes map to problems', () => {
    assert.equal(describeFileError('f', { code: 'EACCES' }).problem, 'unreadable');
    assert.equal(describeFileError('f', { code: 'EPERM' }).message, 'f: permission denied');
    assert.equal(describeFileError('f', { code: 'EIO' }).message, 'f: cannot read (EIO)');
    assert.equal(describeFileError('f', new Error('boom')).message, 'f: cannot read (boom)');
    assert.equal(describeFileError('f', null).problem, 'unreadable');
  });

  test('a capture damaged part way still gives the records before the damage', async () => {
    const path = join(dir, 'killed.pcap');
    writeFileSync(path, readFileSync(fixturePath('lo-ping.pcap')).subarray(0, 300));
    const r = okCapture(await readCaptureFile(path));
    assert.equal(r.capture.records.length, 2);
    assert.equal(r.capture.error?.message, 'record 3 at byte 252: data cut short (32 of 98 bytes)');
  });
});

describe('PcapFileWriter and PcapMemoryWriter', () => {
  test('file and memory writers produce the same bytes, which read back', () => {
    const path = join(dir, 'written.pcap');
    const file = PcapFileWriter.open(path);
    const memory = new PcapMemoryWriter();
    const packets = [udpDatagram(4, hello), udpDatagram(6, hello), new Uint8Array(0)];
    packets.forEach((p, i) => {
      file.write(T0 + BigInt(i) * 1_000_000n, p);
      memory.write(T0 + BigInt(i) * 1_000_000n, p);
    });
    assert.equal(file.records, 3);
    assert.ok(file.isOpen);
    file.close();
    file.close(); // closing twice is harmless
    assert.ok(!file.isOpen);
    assert.throws(() => file.write(T0, hello), /closed/);
    const onDisk = new Uint8Array(readFileSync(path));
    assert.deepEqual(onDisk, memory.bytes());
    assert.equal(onDisk.length, file.bytesWritten);
    const r = okCapture(readCaptureFileSync(path));
    assert.equal(r.capture.format, 'pcap');
    if (r.capture.format !== 'pcap') return;
    assert.equal(r.capture.linkType, 101);
    assert.equal(r.capture.nanosecond, false);
    assert.deepEqual(r.capture.records.map((rec) => [formatTimestamp(rec.timestamp), rec.capturedLength]),
      [['1700000000.123456000', 41], ['1700000000.124456000', 61], ['1700000000.125456000', 0]]);
    assert.deepEqual(r.capture.records[0]!.data, packets[0]);
  });

  test('nanosecond files and snapping keep the original length', () => {
    const w = new PcapMemoryWriter({ nanosecond: true, snapLen: 30, linkType: 228 });
    const packet = udpDatagram(4, hello);
    w.write({ seconds: 1, nanos: 2 }, packet);
    const r = okCapture((() => {
      const path = join(dir, 'snapped.pcap');
      writeFileSync(path, w.bytes());
      return readCaptureFileSync(path);
    })());
    const rec = r.capture.records[0]!;
    assert.equal(rec.timestamp, 1_000_000_002n);
    assert.equal(rec.capturedLength, 30);
    assert.equal(rec.originalLength, packet.length);
    assert.equal(rec.linkType, 228);
  });

  test('the memory writer copies packets (callers may reuse buffers)', () => {
    const w = new PcapMemoryWriter();
    const buf = udpDatagram(4, hello);
    w.write(0n, buf);
    buf.fill(0);
    assert.equal(w.bytes()[40], 0x45);
  });

  test('opening a file in a missing directory throws the fs error', () => {
    assert.throws(() => PcapFileWriter.open(join(dir, 'no', 'such', 'dir.pcap')), { code: 'ENOENT' });
  });
});

describe('tshark reads what the writer writes', () => {
  test('tshark -r exits 0, dissects IPv4/UDP and IPv6/UDP with good checksums, nothing malformed', (t) => {
    const skip = needTool('tshark'); // throws under CI=true: this test may not skip there
    if (skip) { t.skip(skip); return; }
    const sub = join(dir, 'tshark');
    mkdirSync(sub);
    const path = join(sub, 'l4.pcap');
    const w = PcapFileWriter.open(path, { nanosecond: true });
    w.write(T0, udpDatagram(4, hello));
    w.write(T0 + 1n, udpDatagram(6, hello, 40001, 9));
    w.close();

    const summary = spawnSync('tshark', ['-n', '-r', path], { encoding: 'utf8' });
    assert.equal(summary.status, 0, summary.stderr);
    assert.doesNotMatch(summary.stdout + summary.stderr, /malformed|cut short|appears to be damaged/i);
    assert.equal(summary.stdout.trim().split('\n').length, 2);

    const fields = spawnSync('tshark', [
      '-n', '-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=,', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len',
      '-e', 'frame.protocols', '-e', 'ip.checksum.status', '-e', 'udp.srcport', '-e', 'udp.dstport',
      '-e', 'udp.checksum.status', '-e', 'data.data',
    ], { encoding: 'utf8' });
    assert.equal(fields.status, 0, fields.stderr);
    const helloHex = Buffer.from(hello).toString('hex');
    assert.deepEqual(fields.stdout.trim().split('\n'), [
      `1,1700000000.123456789,41,raw:ip:udp:data,1,40000,9,1,${helloHex}`,
      `2,1700000000.123456790,61,raw:ipv6:udp:data,,40001,9,1,${helloHex}`,
    ]);
  });
});
