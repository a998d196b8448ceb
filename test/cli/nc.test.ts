/**
 * `l4 nc`: bad input is one line and exit 2 (nothing here opens a device); then, in network
 * namespaces the tests create (root, /dev/net/tun), the real command against the kernel's
 * programs on the far side of its TUN device: a download from and an upload to a kernel TCP
 * server (python3), `-l` fed by the kernel's `nc -N`, a UDP round trip to a python3 echo, and
 * a kernel RST over IPv6. Servers bind the wildcard address, since the kernel's side of the
 * device exists only once l4 nc has opened it; each says "ready" before l4 nc starts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { assertOneLineError, l4 } from '../support/cli.js';
import { needNetns, TestNamespace, waitForLine } from '../support/netns.js';
import { needTool } from '../support/tshark.js';

const DEVICE = ['--tun', 'l4ncx', '--address', '10.88.9.2/24', '--peer', '10.88.9.1'];

describe('l4 nc: bad input is one line, exit 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['port 70000', ['nc', ...DEVICE, '10.88.9.1', '70000'], /PORT: 70000 is outside 1\.\.65535/],
    ['port 0', ['nc', ...DEVICE, '10.88.9.1', '0'], /PORT: 0 is outside/],
    ['port not a number', ['nc', ...DEVICE, '10.88.9.1', 'http'], /PORT: 'http' is not an integer/],
    ['no --tun', ['nc', '--address', '10.88.9.2/24', '--peer', '10.88.9.1', '10.88.9.1', '80'], /required option '--tun <name>'/],
    ['no --peer', ['nc', '--tun', 'l4ncx', '--address', '10.88.9.2/24', '10.88.9.1', '80'], /required option '--peer <address>'/],
    ['a bad --address CIDR', ['nc', '--tun', 'l4ncx', '--address', '10.88.9.300/24', '--peer', '10.88.9.1', '10.88.9.1', '80'], /--address: '10\.88\.9\.300\/24' is not an IPv4 address/],
    ['a prefix of 33', ['nc', '--tun', 'l4ncx', '--address', '10.88.9.2/33', '--peer', '10.88.9.1', '10.88.9.1', '80'], /--address: .*prefix length/],
    ['--peer equal to --address', ['nc', '--tun', 'l4ncx', '--address', '10.88.9.2/24', '--peer', '10.88.9.2', '10.88.9.1', '80'], /--peer 10\.88\.9\.2 is l4's own address/],
    ['HOST a name', ['nc', ...DEVICE, 'example.com', '80'], /HOST must be an IP address/],
    ['HOST and no PORT', ['nc', ...DEVICE, '10.88.9.1'], /give HOST and PORT/],
    ['-u -l without a port', ['nc', ...DEVICE, '-u', '-l'], /nc -l: give the PORT/],
    ['an IPv6 HOST without --address6', ['nc', ...DEVICE, 'fd00:88:9::1', '80'], /HOST fd00:88:9::1 is IPv6: .*--address6/],
    ['--address6 without --peer6', ['nc', ...DEVICE, '--address6', 'fd00:88:9::2/64', 'fd00:88:9::1', '80'], /--address6 needs --peer6/],
    ['-l on an address l4 does not have', ['nc', ...DEVICE, '-l', '10.1.2.3', '7000'], /10\.1\.2\.3 is not l4's address/],
    ['-q not a number', ['nc', ...DEVICE, '-q', 'soon', '10.88.9.1', '80'], /-q: 'soon' is not a number of seconds/],
    ['-w negative', ['nc', ...DEVICE, '-w', '-1', '10.88.9.1', '80'], /-w: '-1' is not a number of seconds/],
    ['--mtu 10', ['nc', ...DEVICE, '--mtu', '10', '10.88.9.1', '80'], /--mtu: 10 is outside 68\.\.65535/],
    ['three arguments', ['nc', ...DEVICE, '10.88.9.1', '80', '81'], /too many arguments/],
    ['a bad interface name (a TunError, before any device is made)', ['nc', '--tun', 'bad/name', '--address', '10.88.9.2/24', '--peer', '10.88.9.1', '10.88.9.1', '80'], /'bad\/name' is not an interface name/],
  ];
  for (const [name, args, mentions] of cases) {
    test(name, () => assertOneLineError(l4(...args), mentions));
  }

  test('--help shows examples and the exit codes', () => {
    const r = l4('nc', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples/);
    assert.match(r.stdout, /-l 7000/);
    assert.match(r.stdout, /Exit codes: 0 done, 1/);
  });
});

// --- against the kernel, in a namespace -------------------------------------------------

/** A TCP server on 0.0.0.0:PORT that sends FILE, half-closes, reads to the end and closes. */
const SEND_FILE = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(1); print('ready', flush=True)
c, _ = s.accept()
with open(sys.argv[2], 'rb') as f: c.sendfile(f)
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
c.close()
`;

/** A TCP server on 0.0.0.0:PORT that writes what it receives to FILE and closes at the client's FIN. */
const RECEIVE_FILE = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(1); print('ready', flush=True)
c, _ = s.accept()
n = 0
with open(sys.argv[2], 'wb') as f:
    while True:
        d = c.recv(1 << 16)
        if not d: break
        f.write(d); n += len(d)
c.close()
print('received', n, flush=True)
`;

/** A UDP echo on the wildcard address and PORT. */
const UDP_ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1]))); print('ready', flush=True)
while True:
    d, a = s.recvfrom(65536); s.sendto(d, a)
`;

/** What a finished child printed: stdout's sha256 and length, stderr's text. */
interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  sha256: string;
  bytes: number;
  stdout: Buffer;
  stderr: string;
}

/** Collects a child's output (hashing stdout as it comes) until it exits; keeps stdout itself only when small. */
function finished(child: ChildProcess, keepUpTo = 1 << 20): Promise<Finished> {
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    hash.update(c);
    bytes += c.length;
    if (bytes <= keepUpTo) kept.push(c);
  });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, sha256: hash.digest('hex'), bytes, stdout: Buffer.concat(kept), stderr }));
  });
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const FIFTY_MIB = 50 * 1024 * 1024;

/** 50 MiB of bytes that are not text, in a file of its own folder. */
function bigFile(): { dir: string; path: string; data: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'l4-nc-'));
  const data = Buffer.alloc(FIFTY_MIB);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data.writeUInt32LE(x, i);
  }
  const path = join(dir, 'payload.bin');
  writeFileSync(path, data);
  return { dir, path, data };
}

function mibPerSecond(bytes: number, ms: number): string {
  return (bytes / 1024 / 1024 / (ms / 1000)).toFixed(1);
}

describe('l4 nc against the kernel, over a TUN device in a namespace', { skip: needNetns() }, () => {
  test('client: fetches 50 MiB from a kernel TCP server; stdout is exactly the file', { timeout: 120_000 }, async (t) => {
    const ns = TestNamespace.create('nc-fetch');
    const file = bigFile();
    try {
      const server = ns.spawn('python3', ['-c', SEND_FILE, '9000', file.path]);
      await waitForLine(server, /^ready$/);
      const started = performance.now();
      const nc = ns.spawnL4('nc', '--tun', 'l4nc1', '--address', '10.88.1.2/24', '--peer', '10.88.1.1', '10.88.1.1', '9000');
      nc.stdin!.end();
      const r = await finished(nc);
      const ms = performance.now() - started;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.bytes, FIFTY_MIB);
      assert.equal(r.sha256, sha256(file.data));
      t.diagnostic(`50 MiB kernel -> l4 nc in ${ms.toFixed(0)} ms (${mibPerSecond(FIFTY_MIB, ms)} MiB/s, process start included)`);
    } finally {
      ns.delete();
      rmSync(file.dir, { recursive: true, force: true });
    }
  });

  test('client: uploads 50 MiB from stdin to a kernel TCP server; the file it wrote is exactly stdin', { timeout: 120_000 }, async (t) => {
    const ns = TestNamespace.create('nc-upload');
    const file = bigFile();
    const written = join(file.dir, 'received.bin');
    try {
      const server = ns.spawn('python3', ['-c', RECEIVE_FILE, '9001', written]);
      await waitForLine(server, /^ready$/);
      const received = waitForLine(server, /^received \d+$/, 120_000);
      const started = performance.now();
      const nc = ns.spawnL4('nc', '--tun', 'l4nc2', '--address', '10.88.2.2/24', '--peer', '10.88.2.1', '-v', '10.88.2.1', '9001');
      const done = finished(nc);
      nc.stdin!.on('error', () => { /* l4 nc exited early: its exit code says why */ });
      nc.stdin!.end(file.data);
      const r = await done;
      const ms = performance.now() - started;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.bytes, 0, 'the server sent nothing back');
      assert.equal(await received, `received ${FIFTY_MIB}`);
      assert.equal(sha256(readFileSync(written)), sha256(file.data));
      assert.match(r.stderr, /^l4 nc: connected to 10\.88\.2\.1:9001 from 10\.88\.2\.2:\d+$/m);
      assert.match(r.stderr, new RegExp(`^l4 nc: sent ${FIFTY_MIB} bytes, received 0 bytes$`, 'm'));
      t.diagnostic(`50 MiB l4 nc -> kernel in ${ms.toFixed(0)} ms (${mibPerSecond(FIFTY_MIB, ms)} MiB/s, process start included)`);
    } finally {
      ns.delete();
      rmSync(file.dir, { recursive: true, force: true });
    }
  });

  test('-l: l4 nc listens, the kernel\'s nc -N sends 50 MiB; l4\'s stdout is exactly the file', { skip: needTool('nc'), timeout: 120_000 }, async (t) => {
    const ns = TestNamespace.create('nc-listen');
    const file = bigFile();
    try {
      const nc = ns.spawnL4('nc', '--tun', 'l4nc3', '--address', '10.88.3.2/24', '--peer', '10.88.3.1', '-v', '-l', '7000');
      const ready = waitForLine(nc, /^l4 nc: listening on /, 20_000, 'stderr');
      const done = finished(nc);
      nc.stdin!.end();
      assert.equal(await ready, 'l4 nc: listening on 10.88.3.2:7000');
      const started = performance.now();
      const sender = ns.spawn('sh', ['-c', `exec nc -N 10.88.3.2 7000 < '${file.path}'`]);
      const sent = finished(sender);
      const r = await done;
      const ms = performance.now() - started;
      const s = await sent;
      assert.equal(s.code, 0, s.stderr);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.bytes, FIFTY_MIB);
      assert.equal(r.sha256, sha256(file.data));
      assert.match(r.stderr, /^l4 nc: connection from 10\.88\.3\.1:\d+$/m);
      t.diagnostic(`50 MiB kernel nc -N -> l4 nc -l in ${ms.toFixed(0)} ms (${mibPerSecond(FIFTY_MIB, ms)} MiB/s)`);
    } finally {
      ns.delete();
      rmSync(file.dir, { recursive: true, force: true });
    }
  });

  test('-u: a UDP round trip to a kernel echo; 4000 bytes go as three datagrams and all come back', { timeout: 60_000 }, async () => {
    const ns = TestNamespace.create('nc-udp');
    try {
      const echo = ns.spawn('python3', ['-c', UDP_ECHO, '5005']);
      await waitForLine(echo, /^ready$/);
      const data = Buffer.alloc(4000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
      const nc = ns.spawnL4('nc', '--tun', 'l4nc4', '--address', '10.88.4.2/24', '--peer', '10.88.4.1', '-u', '-q', '0.5', '10.88.4.1', '5005');
      const done = finished(nc);
      nc.stdin!.on('error', () => { /* l4 nc exited early: its exit code says why */ });
      nc.stdin!.end(data);
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.sha256, sha256(data));
    } finally {
      ns.delete();
    }
  });

  test('refused over IPv6: the kernel\'s RST -> one line, exit 1', { timeout: 60_000 }, async () => {
    const ns = TestNamespace.create('nc-refused');
    try {
      const nc = ns.spawnL4('nc', '--tun', 'l4nc5', '--address', '10.88.5.2/24', '--peer', '10.88.5.1',
        '--address6', 'fd00:88:5::2/64', '--peer6', 'fd00:88:5::1', 'fd00:88:5::1', '9');
      const done = finished(nc);
      nc.stdin!.end();
      const r = await done;
      assert.equal(r.code, 1);
      assert.equal(r.bytes, 0);
      assert.equal(r.stderr, 'l4 nc: connect to [fd00:88:5::1]:9 refused (ECONNREFUSED)\n');
    } finally {
      ns.delete();
    }
  });
});
