import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  decodeProcAddress, isListening, netstat, parseProcNet, readSockets, socketOwners, TCP_STATES,
  type ProcSocket,
} from '../../src/tools/netstat.js';
import { needTool } from '../support/tshark.js';

// Lines captured from /proc/net on an x86-64 Linux 6.x host (little-endian) while Node held
// loopback sockets open: listeners, connections, a connection with 1234 unread bytes, a
// half-closed pair (FIN_WAIT2 / CLOSE_WAIT) and TIME_WAIT sockets (whose lines are shorter).
// Edited: the uid of TCP4 line 6, and TCP6 lines 4 and 5 (an SSH connection between two
// link-local addresses with 64 bytes unacknowledged, and a wildcard listener on 80), written
// by hand in the same layout.
const TCP4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1674 1 00000000f4c8b403 100 0 0 10 0
   1: 0100007F:B05D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 149177 1 000000002f2277a5 100 0 0 10 0
   2: 0100007F:B05D 0100007F:EDCA 01 00000000:000004D2 00:00000000 00000000     0        0 149179 1 00000000b2254cb8 20 4 32 10 -1
   3: 0100007F:A8A9 0100007F:89AA 06 00000000:00000000 03:000014CF 00000000     0        0 0 3 0000000087755dfc
   4: 0100007F:B05D 0100007F:EDCE 08 00000000:00000001 00:00000000 00000000     0        0 149181 1 000000008f13bed5 20 4 0 10 -1
   5: 0100007F:EDCA 0100007F:B05D 01 00000000:00000000 00:00000000 00000000     0        0 149178 1 00000000ff968a4c 20 0 0 11 -1
   6: 0100007F:EDCE 0100007F:B05D 05 00000000:00000000 00:00000000 00000000  1000        0 149180 1 0000000012b22faa 20 0 0 11 -1
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:AE69 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 148106 1 0000000058b849ca 100 0 0 10 0
   1: 00000000000000000000000001000000:96C9 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 148103 1 00000000809c5fa6 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:AE69 0000000000000000FFFF00000100007F:CB4A 01 00000000:00000000 00:00000000 00000000     0        0 148108 1 000000003c2609a7 20 0 0 10 -1
   3: 00000000000000000000000001000000:8B3C 00000000000000000000000001000000:96C9 01 00000000:00000000 00:00000000 00000000     0        0 148104 2 000000001c53a680 20 0 0 10 -1
   4: 000080FE00000000FF27000AA1664EFE:0016 000080FE00000000FF27000A0C0B0AFE:D431 01 00000040:00000000 01:00000014 00000000     0        0 9001 4 0000000000000000 20 4 30 10 -1
   5: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 9002 1 0000000000000000 100 0 0 10 0
`;

const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  436: 0100007F:8327 0100007F:ED14 01 00000000:00000000 00:00000000 00000000     0        0 148111 2 000000007052eac7 0
11169: 0100007F:ED14 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 148109 2 000000001d281478 0
`;

const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 9332: 00000000000000000000000001000000:A5E7 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 148110 2 000000003bf9afd0 0
`;

/** The same text as a big-endian host would print it: every 32-bit word's bytes reversed. */
function toBigEndian(text: string): string {
  const swap = (hex: string): string => hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join('')).join('');
  return text.replace(/\b([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})\b(?= )/g, (_m, addr: string, port: string) => `${swap(addr)}:${port}`);
}

function endpoints(s: ProcSocket): string {
  return `${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort} ${s.state}`;
}

describe('parseProcNet on captured /proc text', () => {
  test('IPv4: addresses, ports, states, queues, uid and inode', () => {
    const { sockets, malformed } = parseProcNet(TCP4, 'tcp', 4, { endianness: 'LE' });
    assert.equal(malformed, 0);
    assert.deepEqual(sockets.map(endpoints), [
      '0.0.0.0:2024 0.0.0.0:0 LISTEN',
      '127.0.0.1:45149 0.0.0.0:0 LISTEN',
      '127.0.0.1:45149 127.0.0.1:60874 ESTABLISHED',
      '127.0.0.1:43177 127.0.0.1:35242 TIME_WAIT',
      '127.0.0.1:45149 127.0.0.1:60878 CLOSE_WAIT',
      '127.0.0.1:60874 127.0.0.1:45149 ESTABLISHED',
      '127.0.0.1:60878 127.0.0.1:45149 FIN_WAIT2',
    ]);
    assert.equal(sockets[2]!.recvQueue, 1234, 'unread bytes are Recv-Q');
    assert.equal(sockets[2]!.sendQueue, 0);
    assert.equal(sockets[4]!.recvQueue, 1, 'CLOSE_WAIT: the FIN counts one');
    assert.equal(sockets[3]!.inode, 0, 'TIME_WAIT has no inode');
    assert.equal(sockets[6]!.uid, 1000);
    assert.equal(sockets[1]!.inode, 149177);
    assert.ok(sockets.every((s) => s.protocol === 'tcp' && s.family === 4 && !s.ipv4Mapped));
  });

  test('IPv6: loopback, link-local, the wildcard, and IPv4-mapped shown as IPv4', () => {
    const { sockets, malformed } = parseProcNet(TCP6, 'tcp', 6, { endianness: 'LE' });
    assert.equal(malformed, 0);
    assert.deepEqual(sockets.map(endpoints), [
      '127.0.0.1:44649 0.0.0.0:0 LISTEN',
      '::1:38601 :::0 LISTEN',
      '127.0.0.1:44649 127.0.0.1:52042 ESTABLISHED',
      '::1:35644 ::1:38601 ESTABLISHED',
      'fe80::a00:27ff:fe4e:66a1:22 fe80::a00:27ff:fe0a:b0c:54321 ESTABLISHED',
      ':::80 :::0 LISTEN',
    ]);
    assert.deepEqual(sockets.map((s) => s.ipv4Mapped), [true, false, true, false, false, false]);
    assert.equal(sockets[4]!.sendQueue, 64);
    assert.ok(sockets.every((s) => s.family === 6));
  });

  test('UDP: connected (01) and unconnected (07) sockets, and receive-buffer bytes', () => {
    const v4 = parseProcNet(UDP4, 'udp', 4, { endianness: 'LE' });
    assert.equal(v4.malformed, 0);
    assert.deepEqual(v4.sockets.map(endpoints), ['127.0.0.1:33575 127.0.0.1:60692 ESTABLISHED', '127.0.0.1:60692 0.0.0.0:0 CLOSE']);
    assert.equal(v4.sockets[1]!.recvQueue, 0x340);
    assert.deepEqual(v4.sockets.map(isListening), [false, true]);
    const v6 = parseProcNet(UDP6, 'udp', 6, { endianness: 'LE' });
    assert.deepEqual(v6.sockets.map(endpoints), ['::1:42471 :::0 CLOSE']);
    assert.equal(isListening(v6.sockets[0]!), true);
  });

  test('every TCP state code 01..0B is decoded', () => {
    const names = ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];
    // One captured ESTABLISHED line with its st field set to each code in turn.
    const line = TCP4.split('\n')[3]!;
    const text = names.map((_n, i) => line.replace(' 01 ', ` ${(i + 1).toString(16).toUpperCase().padStart(2, '0')} `)).join('\n');
    const { sockets, malformed } = parseProcNet(text, 'tcp', 4, { endianness: 'LE' });
    assert.equal(malformed, 0);
    assert.deepEqual(sockets.map((s) => s.state), names);
    assert.deepEqual(sockets.map((s) => s.stateCode), names.map((_n, i) => i + 1));
    assert.deepEqual(names.map((_n, i) => TCP_STATES[i + 1]), names);
    assert.deepEqual(sockets.map((s) => isListening(s)), names.map((n) => n === 'LISTEN'));
    const odd = parseProcNet(line.replace(' 01 ', ' 1F '), 'tcp', 4, { endianness: 'LE' });
    assert.equal(odd.sockets[0]!.state, 'UNKNOWN(0x1f)');
  });

  test('a big-endian host\'s text decodes to the same sockets', () => {
    for (const [text, protocol, family] of [[TCP4, 'tcp', 4], [TCP6, 'tcp', 6], [UDP4, 'udp', 4], [UDP6, 'udp', 6]] as const) {
      const le = parseProcNet(text, protocol, family, { endianness: 'LE' });
      const be = parseProcNet(toBigEndian(text), protocol, family, { endianness: 'BE' });
      assert.notEqual(toBigEndian(text), text);
      assert.deepEqual(be, le);
    }
    assert.deepEqual(decodeProcAddress('7F000001', 4, 'BE'), { address: '127.0.0.1', ipv4Mapped: false });
    assert.deepEqual(decodeProcAddress('0100007F', 4, 'LE'), { address: '127.0.0.1', ipv4Mapped: false });
    assert.deepEqual(decodeProcAddress('0000000000000000FFFF00000100007F', 6, 'LE'), { address: '127.0.0.1', ipv4Mapped: true });
  });

  test('malformed lines are skipped and counted, never thrown', () => {
    const good = TCP4.split('\n')[2]!;
    const bad = [
      'garbage',
      '   7: 0100007F:B05D',
      '   8: 0100007G:B05D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
      '   9: 0100007F:B05D0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
      '  10: 0100007F:B05D 00000000:0000 0A0 00000000:00000000 00:00000000 00000000     0        0 1',
      '  11: 0100007F:B05D 00000000:0000 0A 00000000-00000000 00:00000000 00000000     0        0 1',
      '  12: 0100007F:B05D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     x        0 1',
      '  13: 00000000000000000000000001000000:96C9 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1',
      'sl: 0100007F:B05D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
    ];
    const r = parseProcNet([TCP4.split('\n')[0], good, ...bad, good, '', '   '].join('\n'), 'tcp', 4, { endianness: 'LE' });
    assert.equal(r.sockets.length, 2);
    assert.equal(r.malformed, bad.length);
  });

  test('property: any text parses without throwing, and every line is a socket, skipped, or counted', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 160, size: 'max' }), // as long as a real line (default size: about 10 characters)
      fc.constantFrom(...TCP4.split('\n'), ...TCP6.split('\n')),
      fc.tuple(fc.constantFrom(...TCP4.split('\n').slice(1, -1)), fc.nat(150), fc.string({ maxLength: 3 }))
        .map(([l, at, junk]) => l.slice(0, at) + junk + l.slice(at + junk.length)),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.constantFrom(4 as const, 6 as const), (lines, family) => {
      const text = lines.join('\n');
      const r = parseProcNet(text, 'tcp', family, { endianness: 'LE' });
      const counted = text.split('\n').filter((l) => l.trim() !== '' && !/^sl\s/.test(l.trim())).length;
      assert.equal(r.sockets.length + r.malformed, counted);
      for (const s of r.sockets) assert.ok(s.localPort >= 0 && s.localPort <= 65535 && s.remotePort <= 65535);
    }), { numRuns: 500 });
  });
});

describe('netstat() over a fixed /proc tree', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'l4-proc-'));
    mkdirSync(join(root, 'net'));
    mkdirSync(join(root, 'sys/net/ipv4'), { recursive: true });
    writeFileSync(join(root, 'sys/net/ipv4/ip_local_port_range'), '32768\t60999\n');
    writeFileSync(join(root, 'net/tcp'), `${TCP4}   7: this line is broken\n`);
    writeFileSync(join(root, 'net/tcp6'), TCP6);
    writeFileSync(join(root, 'net/udp'), UDP4);
    // no udp6: as on a host with IPv6 disabled
    // process 100 ("server") holds the 45149 listener and its established socket; 200 shares the listener
    for (const [pid, comm, inodes] of [[100, 'server', [149177, 149179]], [200, 'worker', [149177]], [300, 'other', []]] as const) {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
      inodes.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(root, String(pid), 'fd', String(3 + i))));
      symlinkSync('/dev/null', join(root, String(pid), 'fd', '0'));
    }
    mkdirSync(join(root, '400')); // a process whose fd table cannot be read
    mkdirSync(join(root, 'self'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('readSockets: counts the malformed line, names the missing file', () => {
    const r = readSockets({ procRoot: root });
    assert.equal(r.sockets.length, 7 + 6 + 2);
    assert.deepEqual(r.malformed, { [join(root, 'net/tcp')]: 1 });
    assert.deepEqual(Object.keys(r.unreadable), [join(root, 'net/udp6')]);
  });

  test('default: non-listening only; -l: listening only; -a: all', () => {
    const established = netstat({ procRoot: root }).rows;
    assert.ok(established.length > 0 && established.every((row) => !row.listening));
    const listening = netstat({ procRoot: root, listening: true }).rows;
    assert.ok(listening.length > 0 && listening.every((row) => row.listening));
    const all = netstat({ procRoot: root, all: true }).rows;
    assert.equal(all.length, established.length + listening.length);
    assert.equal(netstat({ procRoot: root, all: true, tcp: true }).rows.filter((row) => row.protocol === 'udp').length, 0);
    assert.equal(netstat({ procRoot: root, all: true, udp: true }).rows.filter((row) => row.protocol === 'tcp').length, 0);
    assert.deepEqual(new Set(all.map((row) => row.proto)), new Set(['tcp', 'tcp6', 'udp']));
  });

  test('service names from the registry, numeric with -n, none for client ports in the ephemeral range', () => {
    const rows = netstat({ procRoot: root, all: true }).rows;
    const ssh = rows.find((row) => row.localPort === 22)!;
    assert.equal(ssh.localService, 'ssh');
    assert.equal(ssh.remoteService, null, '54321 is a client port');
    assert.equal(rows.find((row) => row.localPort === 80)!.localService, 'http');
    // 45149 is in 32768-60999 but something listens on it, so it keeps a name if the registry has one
    const numeric = netstat({ procRoot: root, all: true, numeric: true }).rows;
    assert.ok(numeric.every((row) => row.localService === null && row.remoteService === null));
  });

  test('-p: owners by socket inode, all holders of a shared socket, nothing for TIME_WAIT', () => {
    const r = netstat({ procRoot: root, all: true, processes: true });
    assert.equal(r.skippedProcesses, 1);
    const byInode = new Map(r.rows.map((row) => [row.inode, row.processes]));
    assert.deepEqual(byInode.get(149177), [{ pid: 100, comm: 'server' }, { pid: 200, comm: 'worker' }]);
    assert.deepEqual(byInode.get(149179), [{ pid: 100, comm: 'server' }]);
    assert.deepEqual(byInode.get(0), []);
    assert.deepEqual(byInode.get(148111), []);
    assert.equal(netstat({ procRoot: root, all: true }).rows[0]!.processes, null);
    assert.equal(socketOwners(join(root, 'missing')).owners.size, 0);
  });
});

/** One socket as `ss -tuanp` lists it. */
interface SsSocket {
  protocol: 'tcp' | 'udp';
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  pids: number[];
}

/** ss prints `[::ffff:127.0.0.1]:80`, `127.0.0.1%lo:53`, `*:22`, `0.0.0.0:*`. */
function ssEndpoint(text: string, v6: boolean): { address: string; port: number } {
  const colon = text.lastIndexOf(':');
  let host = text.slice(0, colon).replace(/^\[|\]$/g, '').replace(/%[^\]]*$/, '');
  const port = text.slice(colon + 1);
  if (host === '*') host = v6 ? '::' : '0.0.0.0';
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(host)) host = host.slice(7);
  return { address: host, port: port === '*' ? 0 : Number(port) };
}

function runSs(): SsSocket[] {
  const out = execFileSync('ss', ['-tuanpH'], { encoding: 'utf8' });
  const sockets: SsSocket[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || (f[0] !== 'tcp' && f[0] !== 'udp')) continue;
    const v6 = f[4]!.startsWith('[') || f[5]!.startsWith('[');
    const local = ssEndpoint(f[4]!, v6);
    const remote = ssEndpoint(f[5]!, v6);
    // ss keeps a mapped socket's unspecified peer as [::]; we show the whole row as IPv4.
    const mapped = /::ffff:\d/i.test(f[4]!) || /::ffff:\d/i.test(f[5]!);
    if (mapped && local.address === '::') local.address = '0.0.0.0';
    if (mapped && remote.address === '::') remote.address = '0.0.0.0';
    const pids = [...(f.slice(6).join(' ').matchAll(/pid=(\d+)/g))].map((m) => Number(m[1]));
    sockets.push({ protocol: f[0], state: f[1]!, localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, pids: [...new Set(pids)].sort((a, b) => a - b) });
  }
  return sockets;
}

/** ss's state names in netstat's spelling; UNCONN is an unconnected UDP socket (07). */
const SS_STATES: Record<string, string> = {
  ESTAB: 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1', 'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT', UNCONN: 'CLOSE', CLOSE: 'CLOSE', 'CLOSE-WAIT': 'CLOSE_WAIT', 'LAST-ACK': 'LAST_ACK', LISTEN: 'LISTEN', CLOSING: 'CLOSING',
};

describe('netstat() against ss on this host', () => {
  const servers: net.Server[] = [];
  const clients: net.Socket[] = [];
  const accepted: net.Socket[] = [];
  const udp: dgram.Socket[] = [];
  const ports = new Set<number>();

  before(async () => {
    if (needTool('ss') !== undefined) return;
    // Listeners on IPv4 and IPv6 loopback and on the IPv4-mapped loopback (a tcp6 socket
    // whose connections show up as ::ffff:127.0.0.1), each with one connection.
    for (const [host, connectTo] of [['127.0.0.1', '127.0.0.1'], ['::1', '::1'], ['::ffff:127.0.0.1', '127.0.0.1']]) {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => { accepted.push(socket); });
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      servers.push(server);
      const port = (server.address() as net.AddressInfo).port;
      ports.add(port);
      const client = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, connectTo, () => resolve(s));
        s.once('error', reject);
      });
      clients.push(client);
      ports.add(client.localPort!);
    }
    // UDP: one unconnected socket on each family, and one connected to the first.
    for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
      const s = dgram.createSocket(type);
      await new Promise<void>((resolve) => s.bind(0, host, resolve));
      udp.push(s);
      ports.add(s.address().port);
    }
    const connected = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => connected.connect(udp[0]!.address().port, '127.0.0.1', resolve));
    udp.push(connected);
    ports.add(connected.address().port);
  });

  after(async () => {
    for (const c of [...clients, ...accepted]) c.destroy();
    for (const s of udp) s.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  test('every socket ss lists on the test\'s ports is ours too: same state, addresses, ports and pid', { skip: needTool('ss') }, () => {
    // ss runs between two snapshots of ours, so a socket that comes or goes meanwhile is in one of them.
    const before1 = netstat({ all: true, processes: true }).rows;
    const ss = runSs().filter((s) => ports.has(s.localPort) || ports.has(s.remotePort));
    const after1 = netstat({ all: true, processes: true }).rows;
    const ours = [...before1, ...after1];
    // 3 listeners, 3 connections seen from both ends, 3 UDP sockets
    assert.ok(ss.length >= 12, `ss lists ${ss.length} of the test's sockets:\n${JSON.stringify(ss, null, 1)}`);
    for (const s of ss) {
      const state = SS_STATES[s.state];
      assert.ok(state, `ss state ${s.state}`);
      const match = ours.find((o) => o.protocol === s.protocol && o.localAddress === s.localAddress && o.localPort === s.localPort
        && o.remoteAddress === s.remoteAddress && o.remotePort === s.remotePort && o.state === state);
      assert.ok(match, `ss: ${JSON.stringify(s)} is not in ours`);
      const pids = (match.processes ?? []).map((p) => p.pid);
      assert.deepEqual(pids, s.pids, `pids of ${JSON.stringify(s)}`);
    }
    // And the sockets this test opened are all there, owned by this process.
    const mine = ss.filter((s) => s.pids.includes(process.pid));
    assert.equal(mine.filter((s) => s.state === 'LISTEN').length, 3);
    assert.equal(mine.filter((s) => s.protocol === 'tcp' && s.state === 'ESTAB').length, 6);
    assert.equal(mine.filter((s) => s.protocol === 'udp').length, 3);
    const mapped = before1.filter((o) => o.ipv4Mapped && ports.has(o.localPort));
    assert.ok(mapped.some((o) => o.proto === 'tcp6' && o.state === 'ESTABLISHED' && o.localAddress === '127.0.0.1'), 'a mapped connection is shown as IPv4');
  });
});
