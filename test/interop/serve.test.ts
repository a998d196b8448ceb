/**
 * `l4 serve` on a TUN device in a network namespace the test creates, driven by the
 * kernel's own programs in that namespace: ping, curl, nc, nmap and tcpdump. The kernel side
 * of the device is 10.77.0.1 / fd00:77::1; l4 is 10.77.0.2 / fd00:77::2. Everything below
 * runs only inside the namespace, which `after` deletes.
 *
 * What it shows (issue 5): ping and ping -6 answered; curl downloads 50 MiB over IPv4 and
 * IPv6 with sha256 equal, and the gzip page; 50 MiB to discard and through echo; nmap's SYN,
 * connect and UDP scans see exactly l4's ports; a capture on the device has no bad checksum
 * either way; the log has one open and one close line per connection; SIGTERM exits 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { needNetns, TestNamespace, waitForLine } from '../support/netns.js';
import { needTool, TSHARK_PER_PACKET, tsharkFields, tsharkMalformed } from '../support/tshark.js';

const MiB = 1024 * 1024;
const L4 = '10.77.0.2';
const L4_6 = 'fd00:77::2';
const SERVE_ARGS = [
  'serve', '--tun', 'l4tun0', '--address', `${L4}/24`, '--peer', '10.77.0.1', '--address6', `${L4_6}/64`, '--peer6', 'fd00:77::1',
  '--echo', '7', '--discard', '9', '--daytime', '13', '--chargen', '19', '--udp-echo', '5007',
];
const TCP_OPEN = [7, 9, 13, 19, 80];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The frames of a capture of the device that tshark finds wrong, less two things that are
 * not l4's doing (see inside). An empty array: every checksum good, nothing malformed.
 */
function captureProblems(capture: string): ReturnType<typeof tsharkMalformed> {
  // Linux's software checksum (skb_checksum_help) writes a computed zero as 0xffff, the
  // other zero of ones'-complement arithmetic, which every receiver accepts (RFC 1624 3);
  // tshark flags it. Allowed from the kernel's side only: l4 must be spotless.
  // And random payload bytes sometimes look like some application protocol to one of
  // tshark's heuristic dissectors, which then finds "its" packet malformed: that is about
  // the payload, not l4. Only frames whose malformation is at IP, TCP or UDP count.
  return tsharkMalformed(capture, { extraArgs: TSHARK_PER_PACKET }).filter((p) => {
    const [row] = tsharkFields(capture, ['ip.src', 'ipv6.src', 'frame.protocols'], { displayFilter: `frame.number == ${p.frame}`, extraArgs: TSHARK_PER_PACKET });
    const chain = (row?.['frame.protocols'] ?? '').split(':');
    const transport = Math.max(chain.indexOf('tcp'), chain.indexOf('udp'));
    const aboveTransport = transport >= 0 && chain.length > transport + 1 && !['data'].includes(chain[transport + 1]!);
    if (p.malformed && p.badChecksums.length === 0 && aboveTransport) return false;
    const minusZero = p.messages.length === 1 && /Checksum 0xffff instead of 0x0000/.test(p.messages[0]!);
    if (!minusZero) return true;
    return row?.['ip.src'] !== '10.77.0.1' && row?.['ipv6.src'] !== 'fd00:77::1';
  });
}

const skip = needNetns() ?? needTool('curl') ?? needTool('nmap') ?? needTool('tcpdump') ?? needTool('nc');

describe('l4 serve on a TUN device, driven by the kernel and real programs', { skip }, () => {
  let ns: TestNamespace;
  let serve: ChildProcess;
  let tcpdump: ChildProcess;
  let dir: string;
  let file: Uint8Array;
  let log = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'l4-interop-'));
    file = randomBytes(50 * MiB);
    writeFileSync(join(dir, 'fifty.bin'), file);
    ns = TestNamespace.create('serve');
    serve = ns.spawnL4(...SERVE_ARGS, '--http', `80=${dir}`, '--pcap', join(dir, 'serve.pcap'));
    serve.stdout!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    await waitForLine(serve, /^l4 serve: ready/);
    // The kernel's view of the device, whole packets, both directions.
    tcpdump = ns.spawn('tcpdump', ['-i', 'l4tun0', '-n', '-U', '-s', '0', '-w', join(dir, 'tun.pcap'), 'not port 80 or less 200']);
    await waitForLine(tcpdump, /listening on/, 20_000, 'stderr');
  });

  after(() => {
    serve?.kill('SIGKILL');
    ns?.delete();
    if (dir && !process.env.L4_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  test('ping and ping -6 get replies', () => {
    assert.match(ns.must('ping', ['-c', '5', '-i', '0.2', '-W', '5', L4]), / 5 received/);
    assert.match(ns.must('ping', ['-6', '-c', '5', '-i', '0.2', '-W', '5', L4_6]), / 5 received/);
    // A 4000-byte ping is fragmented by the kernel and reassembled by l4, and the reply by l4.
    assert.match(ns.must('ping', ['-c', '2', '-i', '0.2', '-s', '4000', '-W', '5', L4]), / 2 received/);
  });

  test('curl --compressed / gets the seeds\' gzip page', () => {
    const raw = ns.run('curl', ['-sS', '-H', 'Accept-Encoding: gzip', '-D', '-', '-o', join(dir, 'page.gz'), `http://${L4}/`]);
    assert.equal(raw.status, 0, raw.stderr.toString());
    assert.match(raw.stdout.toString(), /content-encoding: gzip/i);
    assert.equal(gunzipSync(readFileSync(join(dir, 'page.gz'))).toString(), '<HTML><h1>Hello World!</h1></HTML>');
    assert.equal(ns.must('curl', ['-sS', '--compressed', `http://[${L4_6}]/`]), '<HTML><h1>Hello World!</h1></HTML>');
  });

  for (const [family, url] of [['IPv4', `http://${L4}/fifty.bin`], ['IPv6', `http://[${L4_6}]/fifty.bin`]] as const) {
    test(`curl downloads 50 MiB over ${family}, sha256 equal`, () => {
      const out = join(dir, `down-${family}.bin`);
      const r = ns.run('curl', ['-sS', '-o', out, '-w', '%{http_code} %{size_download} %{speed_download}', url]);
      assert.equal(r.status, 0, r.stderr.toString());
      const [code, size] = r.stdout.toString().split(' ');
      assert.equal(code, '200');
      assert.equal(Number(size), 50 * MiB);
      assert.equal(sha256(readFileSync(out)), sha256(file));
      rmSync(out);
    });
  }

  test('50 MiB to discard and through echo; echo returns identical bytes', () => {
    const discard = ns.run('nc', ['-N', '-w', '30', L4, '9'], { input: file });
    assert.equal(discard.status, 0, discard.stderr.toString());
    assert.equal(discard.stdout.length, 0);
    const echo = ns.run('nc', ['-N', '-w', '30', L4, '7'], { input: file });
    assert.equal(echo.status, 0, echo.stderr.toString());
    assert.equal(echo.stdout.length, file.length);
    assert.equal(sha256(echo.stdout), sha256(file));
    const echo6 = ns.run('nc', ['-N', '-w', '30', L4_6, '7'], { input: file.subarray(0, 5 * MiB) });
    assert.equal(sha256(echo6.stdout), sha256(file.subarray(0, 5 * MiB)));
  });

  test('daytime, chargen and UDP echo answer', () => {
    assert.match(ns.must('nc', ['-w', '5', L4, '13'], { input: '' }), /\d{4}.*\r\n$/);
    const chargen = ns.run('nc', ['-w', '1', '-q', '0', L4, '19'], { timeoutMs: 5000 });
    // RFC 864: line 0 is the 72 printable characters from '!' ... (or ' '), then CRLF.
    assert.match(chargen.stdout.subarray(0, 74).toString(), /^[ -~]{72}\r\n$/);
    const udp = ns.must('nc', ['-u', '-w', '1', L4, '5007'], { input: 'one datagram\n' });
    assert.equal(udp, 'one datagram\n');
  });

  test('nmap -sS and -sT see exactly l4\'s listening TCP ports open, every other closed', () => {
    for (const scan of ['-sS', '-sT']) {
      const out = ns.must('nmap', ['-Pn', '-n', scan, '-p', '1-1024', '--max-retries', '2', '-oG', '-', L4], { timeoutMs: 120_000 });
      const ports = /Ports: (.*?)\t/.exec(out)?.[1] ?? '';
      const open = [...ports.matchAll(/(\d+)\/open\/tcp/g)].map((m) => Number(m[1]));
      assert.deepEqual(open, TCP_OPEN, `${scan}: ${out}`);
      // Every other port is closed: nmap groups them as "Ignored State: closed (1019)".
      assert.match(out, new RegExp(`Ignored State: closed \\(${1024 - TCP_OPEN.length}\\)`), `${scan}: ${out}`);
    }
  });

  test('nmap -sU: closed for a closed UDP port, open or open|filtered for udp-echo', () => {
    const out = ns.must('nmap', ['-Pn', '-n', '-sU', '-p', '5007,5008', '-oG', '-', L4], { timeoutMs: 120_000 });
    assert.match(out, /5007\/(open|open\|filtered)\/udp/, out);
    assert.match(out, /5008\/closed\/udp/, out);
  });

  test('the capture on the TUN interface has no bad checksum in either direction', async () => {
    tcpdump.kill('SIGINT');
    await new Promise((resolve) => tcpdump.once('exit', resolve));
    const capture = join(dir, 'tun.pcap');
    const problems = captureProblems(capture);
    assert.deepEqual(problems, [], JSON.stringify(problems.slice(0, 5)));
    // Both directions, both families, and checksums actually validated (not "unverified").
    const rows = tsharkFields(capture, ['ip.src', 'ipv6.src', 'tcp.checksum', 'tcp.checksum.status'], { validateChecksums: true, displayFilter: 'tcp', extraArgs: TSHARK_PER_PACKET });
    const fromL4 = (r: Record<string, string>): boolean => r['ip.src'] === L4 || r['ipv6.src'] === L4_6;
    const from = (src: string): number => rows.filter((r) => r['ip.src'] === src || r['ipv6.src'] === src).length;
    assert.ok(from(L4) > 100 && from('10.77.0.1') > 100 && from(L4_6) > 10 && from('fd00:77::1') > 10, 'packets both ways, both families');
    // Every TCP checksum validated good: all of l4's; the kernel's too but for its 0xffff zero.
    const bad = rows.filter((r) => r['tcp.checksum.status'] !== '1' && (fromL4(r) || r['tcp.checksum'] !== '0xffff'));
    assert.deepEqual(bad, [], 'every TCP checksum validated good');
    // RFC 7323 with Linux: every SYN-ACK from l4 that answers a kernel SYN offering window scaling
    // (curl, nc, nmap -sT; nmap -sS's raw SYNs offer nothing) carries the shift and timestamps.
    // A SYN-ACK is matched to its SYN by port and acknowledgment number: nmap -sS's source port
    // can be one a kernel connection used too.
    const offered = new Set(tsharkFields(capture, ['tcp.srcport', 'tcp.seq_raw'], { displayFilter: 'ip.src == 10.77.0.1 && tcp.flags == 0x002 && tcp.options.wscale.shift', extraArgs: TSHARK_PER_PACKET })
      .map((r) => `${r['tcp.srcport']}/${(Number(r['tcp.seq_raw']) + 1) % 2 ** 32}`));
    const synAcks = tsharkFields(capture, ['tcp.dstport', 'tcp.ack_raw', 'tcp.options.wscale.shift', 'tcp.options.timestamp.tsval'], { displayFilter: `ip.src == ${L4} && tcp.flags == 0x012`, extraArgs: TSHARK_PER_PACKET })
      .filter((r) => offered.has(`${r['tcp.dstport']}/${r['tcp.ack_raw']}`));
    assert.ok(synAcks.length > 0 && synAcks.every((r) => /^\d+$/.test(r['tcp.options.wscale.shift']!) && /^\d+$/.test(r['tcp.options.timestamp.tsval']!)), `SYN-ACKs from l4 with wscale and TSval: ${JSON.stringify(synAcks)}`);
    // RFC 2018 with Linux (net.ipv4.tcp_sack is on by default): those SYN-ACKs carry SACK-permitted too.
    const sackPermitted = tsharkFields(capture, ['tcp.dstport', 'tcp.ack_raw'], { displayFilter: `ip.src == ${L4} && tcp.flags == 0x012 && tcp.options.sack_perm`, extraArgs: TSHARK_PER_PACKET })
      .filter((r) => offered.has(`${r['tcp.dstport']}/${r['tcp.ack_raw']}`));
    assert.equal(sackPermitted.length, synAcks.length, `every such SYN-ACK from l4 carries SACK-permitted: ${JSON.stringify(sackPermitted)} of ${JSON.stringify(synAcks)}`);
    // l4's own capture (--pcap) of the same device is clean too.
    const own = captureProblems(join(dir, 'serve.pcap'));
    assert.deepEqual(own, [], JSON.stringify(own.slice(0, 5)));
  });

  test('the log has an open and a close line per connection; SIGUSR1 prints the table; SIGTERM closes and exits 0', async () => {
    const opens = log.split('\n').filter((l) => / open {2}/.test(l)).length;
    const closes = log.split('\n').filter((l) => / close /.test(l)).length;
    assert.ok(opens >= 8, log.slice(0, 2000));
    assert.equal(closes, opens, 'every connection opened was logged closed');
    assert.match(log, /close echo 10\.77\.0\.2:7 <- 10\.77\.0\.1:\d+ in 50\.0 MiB out 50\.0 MiB/);
    // SIGUSR1: the socket table, listeners included, in netstat's columns with srtt/rto/cwnd.
    const header = waitForLine(serve, /^Proto\s+Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+State\s+srtt\s+rto\s+cwnd$/);
    const listener = waitForLine(serve, /^tcp6\s+0\s+\d+\s+\[::\]:80\s+\[::\]:\*\s+LISTEN/);
    serve.kill('SIGUSR1');
    await Promise.all([header, listener]);
    serve.kill('SIGTERM');
    const code = await new Promise((resolve) => serve.once('exit', resolve));
    assert.equal(code, 0);
    assert.match(log, /l4 serve: stopped/);
  });
});
