import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFileSync } from '../../src/drivers/pcap/reader.js';
import { l4 } from '../support/cli.js';

describe('l4 demo', () => {
  test('prints the exchanges, the socket table, the handshake tables, the comparison and the capture; the pcap reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4-demo-'));
    try {
      const file = join(dir, 'demo.pcap');
      const r = l4('demo', '--pcap', file);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      const http = [...out.matchAll(/TCP\s+│ (192\.168\.1\.10:(\d+))\s+│ 203\.0\.113\.50:80\s+│ ESTABLISHED/g)].map((m) => m[2]);
      assert.equal(http.length, 2, out);
      assert.notEqual(http[0], http[1]);
      assert.match(out, /TCP\s+│ 192\.168\.1\.10:\d+\s+│ 203\.0\.113\.50:21\s+│ ESTABLISHED/);
      assert.match(out, /Proto │ Local Address\s+│ Foreign Address │ State/);
      assert.match(out, /220 l4 FTP server ready/);
      assert.match(out, /www\.l4\.example A 203\.0\.113\.50/);
      for (const name of ['SYN', 'SYN/ACK', 'ACK']) assert.match(out, new RegExp(`^frame \\d+ at [\\d.]+ s: ${name}$`, 'm'));
      assert.match(out, new RegExp(`Src Port: ${http[0]} Dst Port: 80 .*Src IP: 192\\.168\\.1\\.10 Dst IP: 203\\.0\\.113\\.50`));
      assert.match(out, new RegExp(`Src Port: 80 Dst Port: ${http[0]} .*Src IP: 203\\.0\\.113\\.50 Dst IP: 192\\.168\\.1\\.10`));
      assert.match(out, /whole \(\d+ bytes, sha256 equal\)/);
      assert.match(out, new RegExp(`written to ${file.replace(/[.\\/]/g, '\\$&')}`));
      assert.ok(existsSync(file));
      const capture = readCaptureFileSync(file);
      assert.ok(capture.ok);
      assert.ok(capture.capture.records.length > 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--json: one object with all of it; same output every run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4-demo-'));
    try {
      const file = join(dir, 'demo.pcap');
      const r = l4('demo', '--json', '--pcap', file);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout) as { exchanges: unknown[]; sockets: unknown[]; handshake: { name: string }[]; comparison: { tcp: unknown; udp: unknown }; capture: { path: string; packets: number } };
      assert.equal(o.exchanges.length, 6);
      assert.ok(o.sockets.length >= 6);
      assert.deepEqual(o.handshake.map((f) => f.name), ['SYN', 'SYN/ACK', 'ACK']);
      assert.ok(o.comparison.tcp && o.comparison.udp);
      assert.equal(o.capture.path, file);
      assert.equal(l4('demo', '--json', '--pcap', file).stdout, r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unwritable --pcap is bad usage (exit 2, one line)', () => {
    const r = l4('demo', '--pcap', '/nonexistent-dir/x.pcap');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^l4: --pcap \/nonexistent-dir\/x\.pcap: cannot write \(ENOENT\)\n$/);
  });
});

describe('l4 sim --compare', () => {
  test('--loss 2%: TCP intact, UDP with losses and p50 ≈ the link delay; --json has both reports', () => {
    const r = l4('sim', '--compare', '--loss', '2%', '--delay', '20ms', '--seed', '5', '--json');
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { tcp: { sha256Sent: string; sha256Received: string; bytes: number; bytesReceived: number }; udp: { lost: number; latencyMs: { p50: number } } };
    assert.equal(o.tcp.bytes, 16 * 1024 * 1024);
    assert.equal(o.tcp.bytesReceived, o.tcp.bytes);
    assert.equal(o.tcp.sha256Received, o.tcp.sha256Sent);
    assert.ok(o.udp.lost > 0);
    assert.ok(Math.abs(o.udp.latencyMs.p50 - 20) < 1, `p50 ${o.udp.latencyMs.p50}`);
    const text = l4('sim', '--compare', '--loss', '2%', '--delay', '20ms', '--seed', '5');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /TCP: a DICOM-sized file/);
    assert.match(text.stdout, /whole \(16777216 bytes, sha256 equal\)/);
    assert.match(text.stdout, /latency p50 20\.\d+ ms/);
  });
});
