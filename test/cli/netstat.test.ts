import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { NetstatRow } from '../../src/tools/netstat.js';
import { l4 } from '../support/cli.js';

const linux = existsSync('/proc/net/tcp') ? undefined : 'no /proc/net/tcp: l4 netstat reads Linux\'s /proc';

describe('l4 netstat', { skip: linux }, () => {
  let server: net.Server;
  let port = 0;

  before(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('-tln --json includes this test\'s listener', () => {
    const r = l4('netstat', '-tln', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as NetstatRow[];
    const mine = rows.find((row) => row.localAddress === '127.0.0.1' && row.localPort === port);
    assert.ok(mine, `listener 127.0.0.1:${port} in ${r.stdout}`);
    assert.equal(mine.state, 'LISTEN');
    assert.equal(mine.proto, 'tcp');
    assert.equal(mine.remoteAddress, '0.0.0.0');
    assert.equal(mine.processes, null);
    assert.ok(rows.every((row) => row.protocol === 'tcp' && row.listening), '-t and -l filter');
    assert.ok(rows.every((row) => row.localService === null), '-n: numeric');
  });

  test('-tlnp: the table shows the listener with this process as its owner', () => {
    const r = l4('netstat', '-tlnp');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^Active Internet connections \(only servers\)/);
    assert.match(lines[1]!, /^Proto\s+Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+State\s+PID\/Program name$/);
    const row = lines.find((line) => line.includes(`127.0.0.1:${port} `));
    assert.ok(row, r.stdout);
    assert.match(row, new RegExp(`^tcp\\s+0\\s+0\\s+127\\.0\\.0\\.1:${port}\\s+0\\.0\\.0\\.0:\\*\\s+LISTEN\\s+${process.pid}/\\S+$`));
  });

  test('without -l or -a, listeners are left out (as netstat does)', () => {
    const rows = JSON.parse(l4('netstat', '-t', '--json').stdout) as NetstatRow[];
    assert.ok(!rows.some((row) => row.localPort === port && row.state === 'LISTEN'));
  });

  test('bad option: one line, exit 2', () => {
    const r = l4('netstat', '-x');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });

  test('--help explains Recv-Q and Send-Q for listeners', () => {
    const r = l4('netstat', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /waiting\s+for accept\(\)/);
  });
});
