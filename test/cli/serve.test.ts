/**
 * `l4 serve` and `l4 netstat --serve` at the command line: every bad argument, a missing
 * privilege and a pid with no server get one line and exit 2; `l4 netstat --serve` prints a
 * control socket's table, with ss -ti's detail under each TCP connection, and its JSON.
 * (The server itself is tested against the kernel in test/interop/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHostStats } from '../../src/core/stats.js';
import { openControlSocket, type ServeSnapshot } from '../../src/tools/serve-control.js';
import { assertOneLineError, l4, l4Async } from '../support/cli.js';
import { CONNECTION_ROW } from '../support/serve-rows.js';

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

test('l4 netstat --serve PID: a detail line under each TCP connection, as ss -ti; --json has every field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4-netstat-serve-'));
  const snapshot: ServeSnapshot = {
    pid: process.pid, tun: 'l4tun0', addresses: ['10.77.0.2/24'], uptimeMs: 1234, stats: createHostStats(),
    sockets: [
      { proto: 'tcp', local: '0.0.0.0:80', remote: '0.0.0.0:*', state: 'LISTEN', recvQ: 0, sendQ: 128 },
      CONNECTION_ROW,
      {
        ...CONNECTION_ROW, remote: '10.77.0.1:40002', retransmissions: 4, congestionControl: 'newreno', sendWindowShift: null,
        receiveWindowShift: null, timestamps: false, sackPermitted: false, ssthresh: 7240, lossRecovery: 'rto-recovery',
        pipe: 2896, lostBytes: 4344, retransmitTimeouts: 1, tailLossProbes: 1,
      },
      { proto: 'udp', local: '0.0.0.0:7', remote: '0.0.0.0:*', state: 'UNCONN', recvQ: 0, sendQ: 0 },
    ],
  };
  const control = await openControlSocket(() => snapshot, dir);
  try {
    const env = { L4_RUN_DIR: dir };
    const table = await l4Async(['netstat', '--serve', String(process.pid), '-a'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `l4 serve ${process.pid} on l4tun0 (10.77.0.2/24), up 1.2 s`);
    assert.match(lines[1]!, /^Proto\s+Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+State\s+srtt\s+rto\s+cwnd\s+retrans$/);
    assert.match(lines[2]!, /^tcp\s+0\s+128\s+0\.0\.0\.0:80\s+0\.0\.0\.0:\*\s+LISTEN$/);
    assert.match(lines[3]!, /^tcp\s+0\s+5000\s+10\.77\.0\.2:80\s+10\.77\.0\.1:40000\s+ESTABLISHED\s+1\.5ms\s+201ms\s+14600\s+0$/);
    assert.equal(lines[4], '\tts sack cubic wscale:7,9 mss:1448 bytes_sent:5000 bytes_received:87 segs_out:6 segs_in:5');
    assert.match(lines[5]!, /^tcp\s+0\s+5000\s+10\.77\.0\.2:80\s+10\.77\.0\.1:40002\s+ESTABLISHED\s+1\.5ms\s+201ms\s+14600\s+4$/);
    assert.equal(lines[6], '\tnewreno mss:1448 ssthresh:7240 bytes_sent:5000 bytes_received:87 segs_out:6 segs_in:5 recovery:rto-recovery pipe:2896 lost:4344 rto_count:1 tlp:1/0');
    assert.match(lines[7]!, /^udp\s+0\s+0\s+0\.0\.0\.0:7\s+0\.0\.0\.0:\*$/);
    assert.equal(lines.length, 8, table.stdout);

    const json = await l4Async(['netstat', '--serve', String(process.pid), '-t', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as ServeSnapshot;
    assert.deepEqual(parsed.sockets, JSON.parse(JSON.stringify(snapshot.sockets.slice(1, 3))), '-t without -a: the connections, every field');
  } finally {
    await control.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
