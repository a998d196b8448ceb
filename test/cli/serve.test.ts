/**
 * `l4 serve` and `l4 netstat --serve` at the command line: every bad argument, a missing
 * privilege and a pid with no server get one line and exit 2. (The server itself is tested
 * against the kernel in test/interop/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertOneLineError, l4 } from '../support/cli.js';

const BASE = ['serve', '--tun', 'l4bad0', '--address', '10.99.0.2/24', '--peer', '10.99.0.1'];

test('l4 serve: bad arguments get one line and exit 2', () => {
  assertOneLineError(l4('serve', '--address', '10.99.0.2/24', '--peer', '10.99.0.1'), /--tun/);
  assertOneLineError(l4('serve', '--tun', 'l4bad0', '--peer', '10.99.0.1'), /--address/);
  assertOneLineError(l4(...BASE, '--echo', '70000'), /--echo: 70000 is outside 1\.\.65535/);
  assertOneLineError(l4(...BASE, '--http', 'eighty'), /--http: 'eighty' is not an integer/);
  assertOneLineError(l4(...BASE, '--http', '80='), /DIR is empty/);
  assertOneLineError(l4(...BASE, '--mtu', '100'), /--mtu: 100 is outside/);
  assertOneLineError(l4('serve', '--tun', 'l4bad0', '--address', '10.99.0.2/33', '--peer', '10.99.0.1'), /10\.99\.0\.2\/33/);
  assertOneLineError(l4('serve', '--tun', 'a name with spaces', '--address', '10.99.0.2/24', '--peer', '10.99.0.1'), /interface name/);
  assertOneLineError(l4(...BASE, '--address6', 'fd00::2/64'), /--peer6/);
  assertOneLineError(l4(...BASE, '--echo', '7', '--discard', '7'), /7/);
  assertOneLineError(l4(...BASE, '--bogus'), /unknown option/);
  // The capture file is opened before the device: an unwritable path changes nothing on the host.
  assertOneLineError(l4(...BASE, '--pcap', '/nonexistent-dir/serve.pcap'), /ENOENT.*serve\.pcap/);
});

test('l4 serve without the privilege to create a TUN device: one line, exit 2', { skip: process.getuid?.() === 0 ? undefined : 'needs root to drop to an unprivileged user' }, () => {
  // As root, run it as the unprivileged user nobody (uid 65534): opening /dev/net/tun or
  // TUNSETIFF is refused, and the user is told what is needed.
  const bin = fileURLToPath(new URL('../../../bin/l4.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, ...BASE], { encoding: 'utf8', uid: 65534, gid: 65534, env: { ...process.env, L4_RUN_DIR: '/tmp' } });
  assertOneLineError({ code: r.status, stdout: r.stdout, stderr: r.stderr }, /permission denied \(needs root or CAP_NET_ADMIN\)/);
});

test('l4 netstat --serve PID with no server there: one line, exit 2', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../../bin/l4.js', import.meta.url)), 'netstat', '--serve', '4194303'], {
    encoding: 'utf8', env: { ...process.env, L4_RUN_DIR: '/tmp/l4-no-such-dir' },
  });
  assertOneLineError({ code: r.status, stdout: r.stdout, stderr: r.stderr }, /no l4 serve with pid 4194303/);
  assertOneLineError(l4('netstat', '--serve', 'abc'), /--serve: 'abc' is not an integer/);
  assert.ok(true);
});
