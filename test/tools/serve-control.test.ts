/**
 * The control socket of `l4 serve`: a snapshot goes out as JSON and comes back equal; the
 * socket file is private and removed on close; a pid with no server is a clear error. The
 * table rows come from a real host's socket table (listener, connection, UDP socket).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import { controlSocketPath, openControlSocket, querySnapshot, serveSocketRow, type ServeSnapshot } from '../../src/tools/serve-control.js';
import { formatSocketTable } from '../../src/tools/serve.js';
import { millis } from '../../src/time/instant.js';

function twoHosts(): { network: VirtualNetwork; server: ReturnType<typeof addStack>; client: ReturnType<typeof addStack> } {
  const network = new VirtualNetwork({ seed: 5 });
  const server = addStack(network, { name: 'server', seed: 1, privileged: true, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }] });
  const client = addStack(network, { name: 'client', seed: 2, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] }] });
  network.link('server', 'eth0', 'client', 'eth0', { delay: millis(5) });
  return { network, server, client };
}

test('socket rows: a listener, an established connection with srtt/rto/cwnd, a UDP socket', async () => {
  const { network, server, client } = twoHosts();
  server.net.createServer((s) => s.resume()).listen(80);
  const udp = server.dgram.createSocket('udp4');
  udp.bind(53);
  const socket = client.net.connect(80, '10.0.0.2');
  socket.write('x'.repeat(5000));
  await network.run({ duration: millis(200) });
  const rows = server.host.sockets().map(serveSocketRow);
  const listener = rows.find((r) => r.state === 'LISTEN');
  assert.deepEqual(listener && { proto: listener.proto, local: listener.local, remote: listener.remote }, { proto: 'tcp6', local: '[::]:80', remote: '[::]:*' });
  const conn = rows.find((r) => r.state === 'ESTABLISHED');
  assert.ok(conn, JSON.stringify(rows));
  assert.equal(conn.local, '10.0.0.2:80');
  assert.match(conn.remote, /^10\.0\.0\.1:\d+$/);
  assert.ok(conn.srttMs! >= 9 && conn.srttMs! < 20, `srtt ${conn.srttMs} ms on a 10 ms round trip`);
  assert.ok(conn.rtoMs! >= 200 && conn.cwnd! > 0 && conn.bytesReceived === 5000);
  const u = rows.find((r) => r.proto === 'udp');
  assert.deepEqual(u && { local: u.local, state: u.state }, { local: '0.0.0.0:53', state: 'UNCONN' });
  const table = formatSocketTable(rows);
  assert.match(table[0]!, /^Proto\s+Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+State\s+srtt\s+rto\s+cwnd$/);
  assert.ok(table.some((l) => /^tcp\s+0\s+0\s+10\.0\.0\.2:80\s+10\.0\.0\.1:\d+\s+ESTABLISHED\s+\d/.test(l)), table.join('\n'));
  socket.destroy();
  udp.close();
});

test('control socket: the snapshot round-trips as JSON; the file is 0600 and removed on close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4-control-'));
  try {
    const snapshot: ServeSnapshot = {
      pid: process.pid, tun: 'l4tun0', addresses: ['10.77.0.2/24'], uptimeMs: 1234,
      sockets: [{ proto: 'tcp', local: '10.77.0.2:80', remote: '10.77.0.1:40000', state: 'ESTABLISHED', recvQ: 0, sendQ: 10, srttMs: 1.5, rtoMs: 201, cwnd: 14600 }],
      stats: twoHosts().server.host.stats,
    };
    let asked = 0;
    const control = await openControlSocket(() => { asked++; return snapshot; }, dir);
    assert.equal(control.path, controlSocketPath(process.pid, dir));
    assert.equal(statSync(control.path).mode & 0o777, 0o600);
    assert.deepEqual(await querySnapshot(process.pid, dir), JSON.parse(JSON.stringify(snapshot)));
    assert.deepEqual(await querySnapshot(process.pid, dir), JSON.parse(JSON.stringify(snapshot)));
    assert.equal(asked, 2, 'a fresh snapshot per client');
    await control.close();
    assert.equal(existsSync(control.path), false);
    await assert.rejects(querySnapshot(process.pid, dir), /no l4 serve with pid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
