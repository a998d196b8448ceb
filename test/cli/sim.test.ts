import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTcpSim } from '../../src/tools/sim.js';
import { readCaptureFileSync } from '../../src/drivers/pcap/reader.js';
import { millis } from '../../src/time/instant.js';

const L4 = new URL('../../../bin/l4.js', import.meta.url).pathname;

function l4(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [L4, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('l4 sim', () => {
  test('--json has the promised fields; the bytes arrive intact under loss; the same seed gives the same report', () => {
    const args = ['sim', '--bytes', '2MiB', '--bandwidth', '20mbit', '--delay', '15ms', '--loss', '2%', '--reorder', '1%', '--duplicate', '1%', '--corrupt', '1%', '--seed', '42', '--json'];
    const first = l4(...args);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout) as Record<string, unknown>;
    for (const key of ['sha256Sent', 'sha256Received', 'completionSeconds', 'goodputBitsPerSecond', 'retransmissions']) {
      assert.ok(key in report, key);
    }
    assert.equal(report.sha256Sent, report.sha256Received);
    assert.equal(report.bytesReceived, 2 * 1024 * 1024);
    assert.ok((report.retransmissions as number) > 0, 'loss caused retransmissions');
    assert.ok((report.goodputBitsPerSecond as number) > 0 && (report.goodputBitsPerSecond as number) < 20e6);
    assert.equal(l4(...args).stdout, first.stdout, 'same seed, same report');
    assert.notEqual(l4(...args.slice(0, -3), '--seed', '43', '--json').stdout, first.stdout);
  });

  test('goodput on a clean link is close to the link rate; with loss it falls', () => {
    const clean = runTcpSim({ bytes: 4 * 1024 * 1024, seed: 1, bandwidth: 10e6, delay: millis(10) });
    assert.ok(clean.completed);
    assert.ok(clean.goodputBitsPerSecond > 0.8 * 10e6, `clean goodput ${clean.goodputBitsPerSecond}`);
    const lossy = runTcpSim({ bytes: 4 * 1024 * 1024, seed: 1, bandwidth: 10e6, delay: millis(10), loss: 0.03 });
    assert.ok(lossy.completed);
    assert.equal(lossy.sha256Received, lossy.sha256Sent);
    assert.ok(lossy.goodputBitsPerSecond < clean.goodputBitsPerSecond);
    assert.ok(lossy.retransmissions > 0);
  });

  test('--pcap writes the link\'s packets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l4-sim-'));
    try {
      const file = join(dir, 'sim.pcap');
      const r = l4('sim', '--bytes', '100000', '--pcap', file);
      assert.equal(r.code, 0, r.stderr);
      const capture = readCaptureFileSync(file);
      assert.ok(capture.ok);
      assert.ok(capture.capture.records.length > 70, `${capture.capture.records.length} packets`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [args, mentions] of [
    [['--loss', '150%'], /--loss/],
    [['--bandwidth', 'fast'], /--bandwidth/],
    [['--bytes', '-3'], /--bytes/],
    [['--delay', 'soon'], /--delay/],
    [['--mtu', '100'], /--mtu/],
    [['--protocol', 'sctp'], /--protocol/],
  ] as Array<[string[], RegExp]>) {
    test(`bad argument ${args.join(' ')}: one line, exit 2`, () => {
      const r = l4('sim', ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, mentions);
    });
  }
});
