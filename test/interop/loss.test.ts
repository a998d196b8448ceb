/**
 * SACK loss recovery against Linux, in a namespace the test creates: nftables drops 2% of
 * l4's segments at random (`numgen random`) as they reach the kernel through the TUN device.
 * A curl download from `l4 serve` completes intact; l4's capture shows Linux's SACK blocks,
 * and l4 resends about what was dropped, not whole windows (go-back-N would resend many
 * times that).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { needNetns, TestNamespace, waitForLine } from '../support/netns.js';
import { needTool, tsharkFields } from '../support/tshark.js';
import { l4 } from '../support/cli.js';
import type { ServeSnapshot } from '../../src/tools/serve-control.js';

const MiB = 1024 * 1024;
const L4 = '10.79.0.2';
const DEVICE = 'l4tun9';
const skip = needNetns() ?? needTool('curl') ?? needTool('nft') ?? needTool('tshark');

/**
 * Drops, at random, 2% of what l4 sends from port 80 as it arrives on the device: real
 * losses, which Linux, the receiver, reports in SACK blocks. (Dropping what Linux sends
 * does not work so: a packet dropped by its own output or egress hook is a local drop that
 * its TCP sends again at once, never a loss the peer has to detect; l4's receiving side is
 * covered on the virtual network.)
 */
const NFT = `
table inet l4loss {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "${DEVICE}" tcp sport 80 numgen random mod 100 < 2 counter drop
  }
}
`;

/** The packets the loss rule has dropped. */
function drops(ns: TestNamespace): number {
  const out = ns.must('nft', ['list', 'table', 'inet', 'l4loss']);
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? NaN);
}

describe('SACK loss recovery against Linux over TUN, with random drops', { skip }, () => {
  let ns: TestNamespace;
  let serve: ChildProcess;
  let dir: string;

  const snapshot = (): ServeSnapshot => {
    const r = l4('netstat', '--serve', String(serve.pid), '-a', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ServeSnapshot;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'l4-loss-'));
    writeFileSync(join(dir, 'file.bin'), randomBytes(20 * MiB));
    ns = TestNamespace.create('loss');
    serve = ns.spawnL4('serve', '--tun', DEVICE, '--address', `${L4}/24`, '--peer', '10.79.0.1', '--http', `80=${dir}`, '--pcap', join(dir, 'l4.pcap'));
    await waitForLine(serve, /^l4 serve: ready/);
    ns.must('nft', ['-f', '-'], { input: NFT });
  });

  after(() => {
    serve?.kill('SIGKILL');
    ns?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a 20 MiB download with 2% of l4\'s segments dropped: intact, Linux SACKs, l4 resends about what was lost', (t) => {
    const before = snapshot().stats.tcp.retransmissions;
    const r = ns.run('curl', ['-sS', '-m', '120', '-o', join(dir, 'got.bin'), '-w', '%{http_code} %{size_download}', `http://${L4}/file.bin`], { timeoutMs: 150_000 });
    assert.equal(r.stdout.toString(), `200 ${20 * MiB}`, r.stderr.toString());
    const want = createHash('sha256').update(readFileSync(join(dir, 'file.bin'))).digest('hex');
    assert.equal(createHash('sha256').update(readFileSync(join(dir, 'got.bin'))).digest('hex'), want);
    const dropped = drops(ns);
    const resent = snapshot().stats.tcp.retransmissions - before;
    t.diagnostic(`nftables dropped ${dropped} of l4's segments; l4 resent ${resent}`);
    assert.ok(dropped > 50, `the loss was real: ${dropped} dropped`);
    assert.ok(resent >= dropped * 0.9, `every loss repaired: ${resent} resent for ${dropped} dropped`);
    assert.ok(resent <= dropped * 1.5 + 20, `no go-back-N: ${resent} resent for ${dropped} dropped`);
  });

  test('l4\'s capture: Linux\'s ACKs carry SACK blocks', () => {
    // The capture is written as packets pass; stopping the server flushes it.
    serve.kill('SIGTERM');
    return new Promise<void>((resolve) => serve.once('exit', () => resolve())).then(() => {
      const fromLinux = tsharkFields(join(dir, 'l4.pcap'), ['frame.number'], { displayFilter: 'tcp.dstport == 80 && tcp.options.sack_le' });
      assert.ok(fromLinux.length > 10, `${fromLinux.length} SACK-bearing ACKs from Linux`);
    });
  });
});
