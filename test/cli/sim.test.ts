import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTcpSim } from '../../src/tools/sim.js';
import { runUdpSim } from '../../src/tools/sim-udp.js';
import { readCaptureFileSync } from '../../src/drivers/pcap/reader.js';
import { millis } from '../../src/time/instant.js';
import { l4 } from '../support/cli.js';

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

  test('--cc newreno and --cc cubic: the report and --json say which; cubic is the default', () => {
    const base = ['sim', '--bytes', '1MiB', '--bandwidth', '10mbit', '--delay', '10ms', '--loss', '1%', '--seed', '5'];
    for (const cc of ['newreno', 'cubic']) {
      const json = l4(...base, '--cc', cc, '--json');
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as { congestionControl: string; sha256Sent: string; sha256Received: string };
      assert.equal(report.congestionControl, cc);
      assert.equal(report.sha256Received, report.sha256Sent);
      const text = l4(...base, '--cc', cc);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^congestion +${cc}$`, 'm'));
    }
    const byDefault = JSON.parse(l4(...base, '--json').stdout) as { congestionControl: string };
    assert.equal(byDefault.congestionControl, 'cubic');
    assert.notEqual(l4(...base, '--cc', 'newreno', '--json').stdout, l4(...base, '--json').stdout, 'a different controller, a different run');
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
    [['--cc', 'vegas'], /--cc: 'vegas' is not cubic or newreno/],
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

describe('l4 sim --protocol udp (the seeds\' vitals stream)', () => {
  test('50 datagrams a second over a lossy, reordering, duplicating link: what the application saw', () => {
    const report = runUdpSim({
      rate: 50, duration: 60_000_000, size: 32, seed: 11, delay: millis(30), jitter: millis(10),
      loss: 0.05, reorder: 0.2, duplicate: 0.03,
    });
    assert.equal(report.sent, 3000);
    assert.equal(report.delivered + report.lost, report.sent);
    assert.ok(report.lost > 75 && report.lost < 230, `lost ${report.lost} (5% of 3000 is 150)`);
    assert.ok(report.duplicated > 40 && report.duplicated < 140, `duplicated ${report.duplicated}`);
    assert.ok(report.reordered > 0, 'some datagrams arrived after later ones');
    assert.ok(report.latencyMs!.min >= 20 && report.latencyMs!.p50 >= 25 && report.latencyMs!.p50 <= 40, JSON.stringify(report.latencyMs));
  });

  test('a clean link delivers everything in order; the report is deterministic', () => {
    const clean = runUdpSim({ rate: 100, duration: 5_000_000, size: 200, seed: 1, delay: millis(5) });
    assert.deepEqual([clean.sent, clean.delivered, clean.lost, clean.reordered, clean.duplicated], [500, 500, 0, 0, 0]);
    const once1 = l4('sim', '--protocol', 'udp', '--rate', '50', '--duration', '10s', '--loss', '10%', '--seed', '9', '--json');
    assert.equal(once1.code, 0, once1.stderr);
    assert.equal(l4('sim', '--protocol', 'udp', '--rate', '50', '--duration', '10s', '--loss', '10%', '--seed', '9', '--json').stdout, once1.stdout);
    const r = JSON.parse(once1.stdout) as { sent: number; lost: number };
    assert.equal(r.sent, 500);
    assert.ok(r.lost > 0);
  });

  test('corruption is caught by the checksum and counted, never delivered', () => {
    const r = runUdpSim({ rate: 200, duration: 10_000_000, size: 100, seed: 5, corrupt: 0.1 });
    assert.ok(r.corruptedDropped > 100, `${r.corruptedDropped} dropped by checksum`);
    assert.ok(r.lost >= r.corruptedDropped * 0.9);
  });

  test('bad udp arguments: one line, exit 2', () => {
    for (const args of [['--rate', '0'], ['--size', '4'], ['--duration', 'forever']]) {
      const r = l4('sim', '--protocol', 'udp', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    }
  });
});
