/**
 * `l4 serve` under load, in a namespace the test creates: 200 parallel curl downloads all
 * succeed; curls killed mid-transfer leave no connection behind (the socket table, read
 * through `l4 netstat --serve PID`, goes back to the listeners alone); a burst of 20,000 SYNs
 * from hping3 (a bounded count) neither stops l4 from serving the next curl nor makes its
 * memory grow without bound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { needNetns, TestNamespace, waitForLine } from '../support/netns.js';
import { needTool } from '../support/tshark.js';
import { l4 } from '../support/cli.js';
import type { ServeSnapshot } from '../../src/tools/serve-control.js';

const MiB = 1024 * 1024;
const L4 = '10.78.0.2';
const skip = needNetns() ?? needTool('curl') ?? needTool('hping3');

/** VmRSS of a process, in bytes. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

describe('l4 serve under load', { skip }, () => {
  let ns: TestNamespace;
  let serve: ChildProcess;
  let dir: string;
  let lines: string[] = [];
  const closeWaiters: Array<{ count: number; pattern: RegExp; resolve: () => void }> = [];

  /** Resolves once the log has `count` lines matching `pattern` (closes the server logs as they happen). */
  const logLines = (pattern: RegExp, count: number): Promise<void> => new Promise((resolve) => {
    const check = (): boolean => lines.filter((l) => pattern.test(l)).length >= count;
    if (check()) resolve();
    else closeWaiters.push({ count, pattern, resolve });
  });

  const snapshot = (): ServeSnapshot => {
    const r = l4('netstat', '--serve', String(serve.pid), '-a', '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ServeSnapshot;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'l4-load-'));
    writeFileSync(join(dir, 'one.bin'), randomBytes(MiB));
    writeFileSync(join(dir, 'big.bin'), randomBytes(64 * MiB));
    ns = TestNamespace.create('load');
    serve = ns.spawnL4('serve', '--tun', 'l4tun1', '--address', `${L4}/24`, '--peer', '10.78.0.1', '--http', `80=${dir}`);
    let partial = '';
    serve.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      for (const w of [...closeWaiters]) {
        if (lines.filter((l) => w.pattern.test(l)).length >= w.count) {
          closeWaiters.splice(closeWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    await waitForLine(serve, /^l4 serve: ready/);
  });

  after(() => {
    serve?.kill('SIGKILL');
    ns?.delete();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('200 parallel curl downloads all succeed, sha256 equal', async () => {
    lines = [];
    const args = ['-sS', '--parallel', '--parallel-max', '200', '--parallel-immediate', '-w', '%{http_code} %{size_download}\\n'];
    for (let i = 0; i < 200; i++) args.push('-o', join(dir, `p${i}.bin`), `http://${L4}/one.bin`);
    const r = ns.run('curl', args, { timeoutMs: 300_000 });
    assert.equal(r.status, 0, r.stderr.toString());
    const results = r.stdout.toString().trim().split('\n');
    assert.equal(results.length, 200);
    assert.ok(results.every((l) => l === `200 ${MiB}`), results.filter((l) => l !== `200 ${MiB}`).join('; '));
    const want = createHash('sha256').update(readFileSync(join(dir, 'one.bin'))).digest('hex');
    for (let i = 0; i < 200; i++) {
      assert.equal(createHash('sha256').update(readFileSync(join(dir, `p${i}.bin`))).digest('hex'), want, `download ${i}`);
      rmSync(join(dir, `p${i}.bin`));
    }
    await logLines(/ close http /, 200);
    assert.ok(lines.filter((l) => / open {2}http /.test(l)).length >= 200);
  });

  test('curls killed mid-transfer leave no connection behind', async () => {
    lines = [];
    const curls = Array.from({ length: 20 }, () => ns.spawn('curl', ['-sS', '--limit-rate', '2M', '-o', '/dev/null', `http://${L4}/big.bin`]));
    await logLines(/ open {2}http /, 20);
    assert.ok(snapshot().sockets.filter((s) => s.state === 'ESTABLISHED').length >= 20, 'the downloads are under way');
    // These 20 downloads' remotes: the close lines to wait for are theirs (the previous test's
    // downloads may still be logging their closes).
    const remotes = lines.flatMap((l) => / open {2}http \S+ <- (\S+)$/.exec(l)?.slice(1) ?? []);
    assert.equal(remotes.length, 20, lines.join('\n'));
    for (const c of curls) c.kill('SIGKILL');
    await logLines(new RegExp(` close http \\S+ <- (${remotes.map((r) => r.replaceAll('.', '\\.')).join('|')}) `), 20);
    const left = snapshot().sockets.filter((s) => s.state !== 'LISTEN' && s.state !== 'UNCONN' && s.state !== 'TIME-WAIT');
    assert.deepEqual(left, [], 'only listeners (and TIME-WAIT) remain');
  });

  test('a burst of 20,000 SYNs does not stop l4 from serving the next curl; memory stays bounded', (t) => {
    const before = rss(serve.pid!);
    const segmentsBefore = snapshot().stats.tcp.segmentsIn;
    const flood = ns.run('hping3', ['-q', '-S', '-p', '80', '-c', '20000', '-i', 'u20', L4], { timeoutMs: 120_000 });
    assert.match(flood.stderr.toString() + flood.stdout.toString(), /20000 packets transmitted/);
    const r = ns.run('curl', ['-sS', '-m', '20', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://${L4}/one.bin`]);
    assert.equal(r.stdout.toString(), `200 ${MiB}`, r.stderr.toString());
    const grown = rss(serve.pid!) - before;
    t.diagnostic(`RSS before the burst ${(before / MiB).toFixed(1)} MiB, grown by ${(grown / MiB).toFixed(1)} MiB`);
    assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    const listener = snapshot().sockets.find((s) => s.state === 'LISTEN' && s.local.endsWith(':80'));
    assert.ok(listener, 'still listening');
    const later = snapshot();
    assert.ok(later.stats.tcp.segmentsIn - segmentsBefore >= 20_000, 'every SYN reached l4');
    assert.ok(listener.recvQ === 0, 'nothing stuck in the accept queue');
  });
});
