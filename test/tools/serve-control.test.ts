/**
 * The control socket of `l4 serve`: a snapshot goes out as JSON and comes back equal; the
 * socket file is private and removed on close; a pid with no server is a clear error. The
 * table rows come from a real host's socket table (listener, connection, UDP socket), and a
 * connection's row carries every figure of its `info()`, loss recovery included; its detail
 * line reads as `ss -ti`'s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualNetwork } from '../../src/drivers/virtual/network.js';
import { addStack } from '../../src/drivers/virtual/hosts.js';
import {
  controlSocketPath, openControlSocket, querySnapshot, serveSocketRow, tcpDetail, type ServeSnapshot, type ServeSocketRow,
} from '../../src/tools/serve-control.js';
import type { TcpConnectionSocketInfo } from '../../src/core/host.js';
import type { TcpConfig } from '../../src/core/tcp/types.js';
import { formatSocketTable } from '../../src/tools/serve.js';
import { millis } from '../../src/time/instant.js';
import { CONNECTION_ROW } from '../support/serve-rows.js';

function twoHosts(loss = 0, serverTcp: Partial<TcpConfig> = {}): { network: VirtualNetwork; server: ReturnType<typeof addStack>; client: ReturnType<typeof addStack> } {
  const network = new VirtualNetwork({ seed: 5 });
  const server = addStack(network, { name: 'server', seed: 1, privileged: true, interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24', 'fd00::2/64'] }], tcp: serverTcp });
  const client = addStack(network, { name: 'client', seed: 2, interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/24', 'fd00::1/64'] }] });
  network.link('server', 'eth0', 'client', 'eth0', { delay: millis(5), loss });
  return { network, server, client };
}

/** What a connection's row must say, figure by figure, for its `info()`. */
function expectedRow(info: TcpConnectionSocketInfo): Partial<ServeSocketRow> {
  return {
    state: info.state, recvQ: info.receiveQueue, sendQ: info.sendQueue, cwnd: info.cwnd, ssthresh: info.ssthresh, mss: info.mss,
    sendWindow: info.sendWindow, receiveWindow: info.receiveWindow, retransmissions: info.retransmissions,
    bytesSent: info.bytesSent, bytesReceived: info.bytesReceived, segmentsSent: info.segmentsSent, segmentsReceived: info.segmentsReceived,
    congestionControl: info.congestionControl, sendWindowShift: info.windowScaling.send ?? null,
    receiveWindowShift: info.windowScaling.receive ?? null, timestamps: info.timestamps, sackPermitted: info.sackPermitted,
    lossRecovery: info.lossRecovery, sackedBytes: info.sackedBytes, lostBytes: info.lostBytes, pipe: info.pipe,
    retransmitTimeouts: info.retransmitTimeouts, fastRecoveries: info.fastRecoveries, tailLossProbes: info.tailLossProbes,
    tailLossRecoveries: info.tailLossRecoveries,
  };
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

test('a connection\'s row carries every figure of its info(), in and out of loss recovery; JSON keeps them all', async () => {
  // A smaller receive buffer at the server: its window shift differs from the client's.
  const { network, server, client } = twoHosts(0.03, { receiveBufferSize: 1024 * 1024 });
  server.net.createServer((s) => s.resume()).listen(80);
  const socket = client.net.connect(80, '10.0.0.2');
  socket.write('x'.repeat(2_000_000));
  const sender = (): TcpConnectionSocketInfo | undefined => client.host.sockets().find((r): r is TcpConnectionSocketInfo => r.kind === 'connection');
  const seen = new Set<string>();
  // Sample the sender at every step until it has been in fast recovery with a scoreboard.
  await network.run({
    until: () => {
      const info = sender();
      if (info === undefined) return false;
      const expected = expectedRow(info);
      const pick = (row: ServeSocketRow): Partial<ServeSocketRow> => Object.fromEntries(Object.keys(expected).map((k) => [k, row[k as keyof ServeSocketRow]]));
      const row = serveSocketRow(info);
      assert.deepEqual(pick(row), expected);
      assert.deepEqual(pick(JSON.parse(JSON.stringify(row)) as ServeSocketRow), expected, 'every figure is in the JSON, under its name');
      seen.add(info.lossRecovery);
      return info.lossRecovery === 'fast-recovery' && info.sackedBytes > 0 && info.lostBytes > 0;
    },
    duration: millis(20_000),
  });
  const info = sender()!;
  assert.equal(info.lossRecovery, 'fast-recovery', `the transfer reached fast recovery (seen: ${[...seen].join(', ')})`);
  const row = serveSocketRow(info);
  assert.ok(row.timestamps === true && row.sackPermitted === true, JSON.stringify(row));
  assert.ok(row.sendWindowShift! > 0 && row.sendWindowShift! < row.receiveWindowShift!, 'the server\'s shift is the smaller');
  assert.ok(row.pipe! > 0 && row.sackedBytes! > 0 && row.lostBytes! > 0 && row.fastRecoveries! > 0, JSON.stringify(row));
  const detail = tcpDetail(row)!;
  assert.match(detail, new RegExp(`^ts sack cubic wscale:${row.sendWindowShift},${row.receiveWindowShift} mss:${row.mss} `));
  assert.match(detail, new RegExp(` recovery:fast-recovery pipe:${row.pipe} sacked:${row.sackedBytes} lost:${row.lostBytes}( |$)`));
  socket.destroy();
});

test('the detail line: what ss -ti shows, zeros left out, nothing for listeners and UDP', () => {
  const row = CONNECTION_ROW;
  assert.equal(tcpDetail(row), 'ts sack cubic wscale:7,9 mss:1448 bytes_sent:5000 bytes_received:87 segs_out:6 segs_in:5');
  assert.equal(
    tcpDetail({
      ...row, timestamps: false, sackPermitted: false, congestionControl: 'newreno', sendWindowShift: null, receiveWindowShift: null,
      ssthresh: 20000, lossRecovery: 'rto-recovery', pipe: 2896, sackedBytes: 1448, lostBytes: 4344, retransmitTimeouts: 2,
      fastRecoveries: 1, tailLossProbes: 3, tailLossRecoveries: 1,
    }),
    'newreno mss:1448 ssthresh:20000 bytes_sent:5000 bytes_received:87 segs_out:6 segs_in:5 recovery:rto-recovery pipe:2896 sacked:1448 lost:4344 rto_count:2 fast_recoveries:1 tlp:3/1',
  );
  assert.equal(tcpDetail({ proto: 'tcp', local: '0.0.0.0:80', remote: '0.0.0.0:*', state: 'LISTEN', recvQ: 0, sendQ: 128 }), undefined);
  assert.equal(tcpDetail({ proto: 'udp', local: '0.0.0.0:53', remote: '0.0.0.0:*', state: 'UNCONN', recvQ: 0, sendQ: 0 }), undefined);
});
